/**
 * The bytes of a timestamped store value (Kafka's `ValueAndTimestamp` layout): an 8-byte big-endian
 * timestamp followed by the serialized value.
 */
import { readInt64, writeInt64 } from "../../state/internal/bytes.js"

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

/** The timestamp of a store value. */
export const timestampOf = (bytes: Uint8Array): number => readInt64(bytes, 0)

/** The value bytes of a store value. */
export const valueBytes = (bytes: Uint8Array): Uint8Array => bytes.subarray(8)
