/**
 * Java `.properties` syntax (as `java.util.Properties.load` reads it): `#`/`!` comments, `key=value`,
 * `key: value` and `key value`, backslash line continuations, and `\t \n \r \f \uXXXX` escapes.
 */
/** Parses properties text into `[key, value]` pairs in file order (a later duplicate wins in a map). */
export declare const parse: (text: string) => Array<readonly [string, string]>;
/** Writes pairs as properties text (escaped so that {@link parse} reads them back). */
export declare const stringify: (pairs: Iterable<readonly [string, string]>, comment?: string) => string;
