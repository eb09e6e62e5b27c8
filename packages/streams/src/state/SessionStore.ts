/**
 * Session stores (Kafka Streams' `SessionStore`): aggregates per key and session window `[start, end]`
 * (both inclusive), kept for a retention period measured in stream time, for session-windowed aggregations.
 *
 * Invariants every implementation keeps (checked by the session store conformance suite):
 * - Timestamps are non-negative safe integers (milliseconds) with `start <= end`.
 * - The store observes stream time as the largest session end put so far; a session is live while
 *   `end > observedStreamTime - retentionPeriod`. A put of an expired session is dropped; expired sessions
 *   are never returned; storage is reclaimed a segment (of session end times) at a time.
 * - Composite keys are Kafka's: key bytes, 8-byte big-endian end, 8-byte big-endian start
 *   (`sessionKeyToBinary`).
 * - Single-key queries return sessions ordered by end, then start; multi-key queries in segment order,
 *   then key bytes, then end and start (the order of Kafka's persistent session store). The backward
 *   variants return the reverse order.
 * - Every method is synchronous.
 */
import { readInt64, writeInt64 } from "./internal/bytes.js"
import type { KeyValue } from "./KeyValueStore.js"
import type { Windowed } from "./WindowStore.js"

/** Read-only view of a session store. */
export interface ReadOnlySessionStore<K, V> {
  readonly name: string
  /** The sessions of `key` that end at or after `earliestSessionEndTime` and start at or before `latestSessionStartTime`. */
  findSessions(
    key: K,
    earliestSessionEndTime: number,
    latestSessionStartTime: number
  ): IterableIterator<KeyValue<Windowed<K>, V>>
  /** As `findSessions` for every key in `[keyFrom, keyTo]` (undefined = open). */
  findSessions(
    keyFrom: K | undefined,
    keyTo: K | undefined,
    earliestSessionEndTime: number,
    latestSessionStartTime: number
  ): IterableIterator<KeyValue<Windowed<K>, V>>
  /** As `findSessions`, in reverse order. */
  backwardFindSessions(
    key: K,
    earliestSessionEndTime: number,
    latestSessionStartTime: number
  ): IterableIterator<KeyValue<Windowed<K>, V>>
  /** As the four-argument `findSessions`, in reverse order. */
  backwardFindSessions(
    keyFrom: K | undefined,
    keyTo: K | undefined,
    earliestSessionEndTime: number,
    latestSessionStartTime: number
  ): IterableIterator<KeyValue<Windowed<K>, V>>
  /** The value of the session of `key` that starts at `sessionStartTime` and ends at `sessionEndTime`. */
  fetchSession(key: K, sessionStartTime: number, sessionEndTime: number): V | undefined
  /** Every live session of `key`. */
  fetch(key: K): IterableIterator<KeyValue<Windowed<K>, V>>
  /** Every live session of the keys in `[keyFrom, keyTo]`. */
  fetch(keyFrom: K | undefined, keyTo: K | undefined): IterableIterator<KeyValue<Windowed<K>, V>>
  /** As `fetch`, in reverse order. */
  backwardFetch(key: K): IterableIterator<KeyValue<Windowed<K>, V>>
  /** As the two-argument `fetch`, in reverse order. */
  backwardFetch(keyFrom: K | undefined, keyTo: K | undefined): IterableIterator<KeyValue<Windowed<K>, V>>
}

/** A writable session store. */
export interface SessionStore<K, V> extends ReadOnlySessionStore<K, V> {
  /** True when the store keeps its data on disk across restarts. */
  readonly persistent: boolean
  readonly retentionPeriod: number
  readonly segmentInterval: number
  /** Writes the aggregate of a session (null removes it). */
  put(sessionKey: Windowed<K>, value: V | null): void
  /** Removes a session. */
  remove(sessionKey: Windowed<K>): void
  /** Makes every write so far durable (persistent stores). */
  flush(): void
  /** Releases the store's resources; the store is unusable afterwards. */
  close(): void
}

/** The byte-level session store the runtime wraps. */
export interface SessionBytesStore extends SessionStore<Uint8Array, Uint8Array> {
  /** As `SessionStore.put`; returns the changelog key written (`sessionKeyToBinary`), undefined when expired. */
  put(sessionKey: Windowed<Uint8Array>, value: Uint8Array | null): Uint8Array | undefined
  /** Applies one changelog record (its key in Kafka's binary session-key form) while restoring. */
  restore(changelogKey: Uint8Array, value: Uint8Array | null): void
  /** Stream time as this store has observed it (-1 before any put). */
  readonly observedStreamTime: number
}

/** Kafka's binary session key: key bytes, 8-byte big-endian end, 8-byte big-endian start. */
export const sessionKeyToBinary = (sessionKey: Windowed<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(sessionKey.key.length + 16)
  out.set(sessionKey.key, 0)
  writeInt64(out, sessionKey.key.length, sessionKey.window.end)
  writeInt64(out, sessionKey.key.length + 8, sessionKey.window.start)
  return out
}

/** Reads Kafka's binary session key (the key is a view into `bytes`). */
export const sessionKeyFromBinary = (bytes: Uint8Array): Windowed<Uint8Array> => {
  const n = bytes.length - 16
  return { key: bytes.subarray(0, n), window: { start: readInt64(bytes, n + 8), end: readInt64(bytes, n) } }
}
