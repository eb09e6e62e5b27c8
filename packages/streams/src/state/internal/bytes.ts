/**
 * Byte helpers shared by the stores: latin1 ids (one char per byte, so string order is unsigned byte
 * order), copies, and big-endian int64/int32 fields as Kafka writes them in composite store keys.
 */

/** The latin1 string of `bytes`: equal ids for equal bytes, and `<` on ids is `compareBytes` on bytes. */
export const toId = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1")

/** A copy of `bytes` that the caller owns. */
export const copy = (bytes: Uint8Array): Uint8Array => Uint8Array.prototype.slice.call(bytes)

const TWO_32 = 4_294_967_296

/** Writes `value` (a safe integer) as an 8-byte big-endian two's-complement long at `offset`. */
export const writeInt64 = (out: Uint8Array, offset: number, value: number): void => {
  const hi = Math.floor(value / TWO_32)
  const lo = value - hi * TWO_32
  out[offset] = hi >>> 24
  out[offset + 1] = hi >>> 16
  out[offset + 2] = hi >>> 8
  out[offset + 3] = hi
  out[offset + 4] = lo >>> 24
  out[offset + 5] = lo >>> 16
  out[offset + 6] = lo >>> 8
  out[offset + 7] = lo
}

/** Reads an 8-byte big-endian two's-complement long at `offset` as a number. */
export const readInt64 = (bytes: Uint8Array, offset: number): number => {
  const hi = (bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]! | 0
  const lo =
    ((bytes[offset + 4]! << 24) | (bytes[offset + 5]! << 16) | (bytes[offset + 6]! << 8) | bytes[offset + 7]!) >>> 0
  return hi * TWO_32 + lo
}

/** Writes `value` as a 4-byte big-endian int at `offset`. */
export const writeInt32 = (out: Uint8Array, offset: number, value: number): void => {
  out[offset] = value >>> 24
  out[offset + 1] = value >>> 16
  out[offset + 2] = value >>> 8
  out[offset + 3] = value
}

/** Reads a 4-byte big-endian signed int at `offset`. */
export const readInt32 = (bytes: Uint8Array, offset: number): number =>
  (bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!

/** True when `a` and `b` hold the same bytes in `[aFrom, aFrom + length)` and `[0, length)`. */
export const equalAt = (a: Uint8Array, aFrom: number, b: Uint8Array): boolean => {
  if (a.length < aFrom + b.length) return false
  for (let i = 0; i < b.length; i++) if (a[aFrom + i] !== b[i]) return false
  return true
}
