/** Pure-JS CRC-32 of `buf[start..end)`. */
export declare const crc32Js: (buf: Uint8Array, start?: number, end?: number) => number;
/** CRC-32 of `buf[start..end)`. */
export declare const crc32: (buf: Uint8Array, start?: number, end?: number) => number;
