/** Value checks shared by broker-level and topic-level configuration keys; each returns a reason or undefined. */
/** Splits a comma-separated list value, trimming blanks. */
export declare const splitList: (v: string) => Array<string>;
export declare const atLeast: (min: number) => (v: string) => string | undefined;
export declare const oneOf: (...allowed: ReadonlyArray<string>) => (v: string) => string | undefined;
export declare const listOf: (...allowed: ReadonlyArray<string>) => (v: string) => string | undefined;
