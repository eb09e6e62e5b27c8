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
  new DataView(out.buffer).setBigInt64(0, BigInt(timestamp))
  out.set(value, 8)
  return out
}

/** The timestamp of a store value. */
export const timestampOf = (bytes: Uint8Array): number =>
  Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigInt64(0))

/** The value bytes of a store value. */
export const valueBytes = (bytes: Uint8Array): Uint8Array => bytes.subarray(8)
