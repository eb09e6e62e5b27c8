/**
 * Serdes of windowed keys (Kafka Streams' `WindowedSerdes`) in Kafka's byte layouts, so windowed results
 * written by Eddy read the same in a Java consumer and back:
 * - time-windowed: the inner key's bytes, then the window start as an 8-byte big-endian long; the end is
 *   not written, the reader adds the window size to the start (Kafka's `TimeWindowedSerde`);
 * - session-windowed: the inner key's bytes, then the session end and start as 8-byte big-endian longs
 *   (Kafka's `SessionWindowedSerde`).
 */
import { readInt64, writeInt64 } from "../state/internal/bytes.js"
import type { Windowed } from "../state/WindowStore.js"
import type { Serde } from "./Options.js"

const keyBytes = <K>(inner: Serde<K>, key: K): Uint8Array => {
  const bytes = inner.encode(key)
  if (bytes === null) throw new Error("Windowed serde: the inner key serialized to null")
  return bytes
}

/**
 * Kafka's time-windowed serde: key bytes + 8-byte start. A reader without the window size (Kafka's default
 * `Long.MAX_VALUE`) sees windows ending at `Number.MAX_SAFE_INTEGER`.
 */
export const timeWindowed = <K>(inner: Serde<K>, windowSizeMs = Number.MAX_SAFE_INTEGER): Serde<Windowed<K>> => ({
  encode: (w) => {
    const k = keyBytes(inner, w.key)
    const out = new Uint8Array(k.length + 8)
    out.set(k, 0)
    writeInt64(out, k.length, w.window.start)
    return out
  },
  decode: (bytes) => {
    if (bytes === null || bytes.length < 8) throw new Error("Time-windowed serde: expected at least 8 bytes")
    const n = bytes.length - 8
    const start = readInt64(bytes, n)
    const end = Math.min(start + windowSizeMs, Number.MAX_SAFE_INTEGER)
    return { key: inner.decode(bytes.subarray(0, n)), window: { start, end } }
  }
})

/** Kafka's session-windowed serde: key bytes + 8-byte end + 8-byte start. */
export const sessionWindowed = <K>(inner: Serde<K>): Serde<Windowed<K>> => ({
  encode: (w) => {
    const k = keyBytes(inner, w.key)
    const out = new Uint8Array(k.length + 16)
    out.set(k, 0)
    writeInt64(out, k.length, w.window.end)
    writeInt64(out, k.length + 8, w.window.start)
    return out
  },
  decode: (bytes) => {
    if (bytes === null || bytes.length < 16) throw new Error("Session-windowed serde: expected at least 16 bytes")
    const n = bytes.length - 16
    return {
      key: inner.decode(bytes.subarray(0, n)),
      window: { start: readInt64(bytes, n + 8), end: readInt64(bytes, n) }
    }
  }
})
