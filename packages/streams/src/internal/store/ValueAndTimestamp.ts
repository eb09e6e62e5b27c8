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

/** Writes a safe integer as a big-endian int64 without a BigInt (hot path). */
export const writeInt64 = (out: Uint8Array, offset: number, n: number): void => {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength)
  const hi = Math.floor(n / TWO_32)
  view.setInt32(offset, hi)
  view.setUint32(offset + 4, n - hi * TWO_32)
}

/** Reads a big-endian int64 as a number (exact for safe integers). */
export const readInt64 = (bytes: Uint8Array, offset: number): number => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return view.getInt32(offset) * TWO_32 + view.getUint32(offset + 4)
}

/** The timestamp of a store value. */
export const timestampOf = (bytes: Uint8Array): number => readInt64(bytes, 0)

/** The value bytes of a store value. */
export const valueBytes = (bytes: Uint8Array): Uint8Array => bytes.subarray(8)
