/** The all-zero id (Kafka's `Uuid.ZERO_UUID`: "no topic id"). */
export declare const ZERO: Uint8Array<ArrayBuffer>;
/** The string form of 16 id bytes. */
export declare const format: (bytes: Uint8Array) => string;
/** The bytes of a string id; undefined when it is not 22 base64url characters of 16 bytes. */
export declare const fromString: (s: string) => Uint8Array | undefined;
/** A fresh random (version 4) id in string form. */
export declare const random: () => string;
/** True when all 16 bytes are zero. */
export declare const isZero: (bytes: Uint8Array) => boolean;
