/**
 * CRC-32 (IEEE 802.3, the zlib/gzip polynomial), the checksum of legacy messages (magic 0 and 1).
 * Pure JS, slicing-by-4; `node:zlib`'s native `crc32` (Node >= 20.15) is preferred when present.
 */
import * as zlib from "node:zlib"
import { nativeDisabled } from "./native.js"

const POLY = 0xedb88320

const TABLES: ReadonlyArray<Uint32Array> = (() => {
  const t = [new Uint32Array(256), new Uint32Array(256), new Uint32Array(256), new Uint32Array(256)] as const
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1
    t[0][n] = c >>> 0
  }
  for (let n = 0; n < 256; n++) {
    let c = t[0][n]!
    for (let k = 1; k < 4; k++) {
      c = t[0][c & 0xff]! ^ (c >>> 8)
      t[k]![n] = c >>> 0
    }
  }
  return t
})()

/** Pure-JS CRC-32 of `buf[start..end)`. */
export const crc32Js = (buf: Uint8Array, start = 0, end = buf.length): number => {
  const [t0, t1, t2, t3] = TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array]
  let crc = 0xffffffff
  let i = start
  const end4 = end - ((end - start) & 3)
  while (i < end4) {
    crc ^= buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24)
    crc = t3[crc & 0xff]! ^ t2[(crc >>> 8) & 0xff]! ^ t1[(crc >>> 16) & 0xff]! ^ t0[crc >>> 24]!
    i += 4
  }
  while (i < end) crc = t0[(crc ^ buf[i++]!) & 0xff]! ^ (crc >>> 8)
  return ~crc >>> 0
}

const zlibCrc32 = (zlib as unknown as { readonly crc32?: (data: Uint8Array, value?: number) => number }).crc32

/** CRC-32 of `buf[start..end)`. */
export const crc32: (buf: Uint8Array, start?: number, end?: number) => number =
  typeof zlibCrc32 === "function" && !nativeDisabled
    ? (buf, start = 0, end = buf.length) =>
        zlibCrc32(start === 0 && end === buf.length ? buf : buf.subarray(start, end)) >>> 0
    : crc32Js
