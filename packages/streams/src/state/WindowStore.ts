/**
 * Window stores (Kafka Streams' `WindowStore`): values per key and window start time, kept for a
 * retention period measured in stream time, as windowed aggregations and stream-stream joins need them.
 *
 * Invariants every implementation keeps (checked by the window store conformance suite):
 * - Timestamps are non-negative safe integers (milliseconds); a window is `[start, start + windowSize)`.
 * - The store observes stream time as the largest window start put so far; a window is live while
 *   `start > observedStreamTime - retentionPeriod`. A put of an expired window is dropped (and returns
 *   undefined); expired windows are never returned; storage is reclaimed a segment at a time
 *   (`segmentInterval` of window starts per segment) once a whole segment has expired.
 * - Composite keys are Kafka's: key bytes, 8-byte big-endian window start, 4-byte big-endian sequence
 *   number (`windowKeyToBinary`). Without `retainDuplicates` the sequence number is 0 and a put replaces
 *   the value (null deletes it); with it every non-null put is kept under the next sequence number and a
 *   null put does nothing (join stores).
 * - Single-key fetches return windows in start-time order (then sequence number); multi-key fetches in
 *   segment order, then key bytes, then start time (the order of Kafka's persistent window store). The
 *   backward variants return the reverse order. Each segment's scan is a snapshot taken when iteration
 *   reaches it.
 * - Every method is synchronous.
 */
import { readInt32, readInt64, writeInt32, writeInt64 } from "./internal/bytes.js"
import type { KeyValue } from "./KeyValueStore.js"

/** A time window: `[start, end)` for time windows, `[start, end]` for sessions. */
export interface Window {
  readonly start: number
  readonly end: number
}

/** A key and the window it belongs to (Kafka Streams' `Windowed<K>`). */
export interface Windowed<K> {
  readonly key: K
  readonly window: Window
}

/** Read-only view of a window store (what interactive queries use). */
export interface ReadOnlyWindowStore<K, V> {
  readonly name: string
  /** The value of `key` in the window starting at `time`, if live. */
  fetch(key: K, time: number): V | undefined
  /** The windows of `key` starting in `[timeFrom, timeTo]`, as (window start, value), in start order. */
  fetch(key: K, timeFrom: number, timeTo: number): IterableIterator<KeyValue<number, V>>
  /** The windows of keys in `[keyFrom, keyTo]` (undefined = open) starting in `[timeFrom, timeTo]`. */
  fetch(
    keyFrom: K | undefined,
    keyTo: K | undefined,
    timeFrom: number,
    timeTo: number
  ): IterableIterator<KeyValue<Windowed<K>, V>>
  /** As the three-argument `fetch`, latest window first. */
  backwardFetch(key: K, timeFrom: number, timeTo: number): IterableIterator<KeyValue<number, V>>
  /** As the four-argument `fetch`, in reverse order. */
  backwardFetch(
    keyFrom: K | undefined,
    keyTo: K | undefined,
    timeFrom: number,
    timeTo: number
  ): IterableIterator<KeyValue<Windowed<K>, V>>
  /** Every live window starting in `[timeFrom, timeTo]`, of every key. */
  fetchAll(timeFrom: number, timeTo: number): IterableIterator<KeyValue<Windowed<K>, V>>
  /** As `fetchAll`, in reverse order. */
  backwardFetchAll(timeFrom: number, timeTo: number): IterableIterator<KeyValue<Windowed<K>, V>>
  /** Every live window. */
  all(): IterableIterator<KeyValue<Windowed<K>, V>>
  /** Every live window, in reverse order. */
  backwardAll(): IterableIterator<KeyValue<Windowed<K>, V>>
}

/** A writable window store. */
export interface WindowStore<K, V> extends ReadOnlyWindowStore<K, V> {
  /** True when the store keeps its data on disk across restarts. */
  readonly persistent: boolean
  readonly retentionPeriod: number
  readonly windowSize: number
  readonly segmentInterval: number
  readonly retainDuplicates: boolean
  /** Writes `value` for `key` in the window starting at `windowStartTimestamp` (null deletes). */
  put(key: K, value: V | null, windowStartTimestamp: number): void
  /** Makes every write so far durable (persistent stores). */
  flush(): void
  /** Releases the store's resources; the store is unusable afterwards. */
  close(): void
}

/** The byte-level window store the runtime wraps. */
export interface WindowBytesStore extends WindowStore<Uint8Array, Uint8Array> {
  /**
   * As `WindowStore.put`; returns the changelog key of the record written (`windowKeyToBinary`), or
   * undefined when nothing was written (an expired window, a null put with `retainDuplicates`).
   */
  put(key: Uint8Array, value: Uint8Array | null, windowStartTimestamp: number): Uint8Array | undefined
  /** Applies one changelog record (its key in Kafka's binary window-key form) while restoring. */
  restore(changelogKey: Uint8Array, value: Uint8Array | null): void
  /** Stream time as this store has observed it (-1 before any put). */
  readonly observedStreamTime: number
}

/** Kafka's binary window key: key bytes, 8-byte big-endian window start, 4-byte big-endian sequence number. */
export const windowKeyToBinary = (key: Uint8Array, windowStart: number, seqnum: number): Uint8Array => {
  const out = new Uint8Array(key.length + 12)
  out.set(key, 0)
  writeInt64(out, key.length, windowStart)
  writeInt32(out, key.length + 8, seqnum)
  return out
}

/** Reads Kafka's binary window key (the key is a view into `bytes`). */
export const windowKeyFromBinary = (
  bytes: Uint8Array
): { readonly key: Uint8Array; readonly windowStart: number; readonly seqnum: number } => {
  const n = bytes.length - 12
  return { key: bytes.subarray(0, n), windowStart: readInt64(bytes, n), seqnum: readInt32(bytes, n + 8) }
}

/** Kafka's default segment interval of a persistent window or session store: half the retention, at least a minute. */
export const defaultSegmentInterval = (retentionPeriod: number): number =>
  Math.max(Math.floor(retentionPeriod / 2), 60_000)
