/**
 * CRC-32C (Castagnoli), the checksum of RecordBatch v2.
 *
 * One interface; a pure-JS implementation always works, and a native accelerator is used when its
 * package loads (see `implementation`).
 */
import { crc32cJs } from "./internal/crc32cJs.js"

/** CRC-32C of `buf[start..end)`. */
export const crc32c = (buf: Uint8Array, start = 0, end = buf.length): number => crc32cJs(buf, start, end)

/** Which implementation {@link crc32c} uses. */
export const implementation: "js" | "native" = "js"
