/**
 * The bytes of a timestamped store value (Kafka's `ValueAndTimestamp` layout): an 8-byte big-endian
 * timestamp followed by the serialized value.
 */

/** A value with the timestamp of the record that last wrote it. */
export interface ValueAndTimestamp<V> {
  readonly value: V
  readonly timestamp: number
}

/** Timestamp and value bytes as one store value. */
export const encode = (timestamp: number, value: Uint8Array): Uint8Array => {
  const out = new Uint8Array(8 + value.length)
  writeInt64(out, 0, timestamp)
  out.set(value, 8)
  return out
}

const TWO_32 = 4294967296

/** Writes a safe integer as a big-endian int64 without a BigInt or a DataView (hot path). */
export const writeInt64 = (out: Uint8Array, offset: number, n: number): void => {
  const hi = Math.floor(n / TWO_32)
  const lo = n - hi * TWO_32
  out[offset] = hi >>> 24
  out[offset + 1] = hi >>> 16
  out[offset + 2] = hi >>> 8
  out[offset + 3] = hi
  out[offset + 4] = lo >>> 24
  out[offset + 5] = lo >>> 16
  out[offset + 6] = lo >>> 8
  out[offset + 7] = lo
}

/** Reads a big-endian int64 as a number (exact for safe integers). */
export const readInt64 = (b: Uint8Array, offset: number): number => {
  const hi = (b[offset]! << 24) | (b[offset + 1]! << 16) | (b[offset + 2]! << 8) | b[offset + 3]!
  const lo = b[offset + 4]! * 0x1000000 + ((b[offset + 5]! << 16) | (b[offset + 6]! << 8) | b[offset + 7]!)
  return hi * TWO_32 + lo
}

/** The timestamp of a store value. */
export const timestampOf = (bytes: Uint8Array): number => readInt64(bytes, 0)

/** The value bytes of a store value. */
export const valueBytes = (bytes: Uint8Array): Uint8Array => bytes.subarray(8)
