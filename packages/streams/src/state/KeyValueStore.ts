/**
 * State stores: the byte-level key-value store contract every implementation (in-memory, persistent)
 * keeps, as Kafka Streams' inner `KeyValueStore<Bytes, byte[]>` does. Typed access (serdes), changelogging
 * and the record cache are layers above this contract in the runtime.
 *
 * Invariants every implementation keeps (checked by the store conformance suite):
 * - Keys are ordered by unsigned lexicographic comparison of their bytes (`compareBytes`), as RocksDB's
 *   default comparator orders them; `range`, `all` and `prefixScan` iterate in that order, the reverse
 *   variants in the opposite one.
 * - `range(from, to)` includes both bounds; an undefined bound is open; `from > to` yields nothing.
 * - A `null` value in `put`/`putAll` deletes the key (a tombstone), as in Kafka Streams.
 * - Stores copy what they keep: a caller may reuse the arrays it passed in, and must not mutate arrays it got.
 * - Iterators see a snapshot taken when iteration starts (later writes are not required to show up).
 * - Every method is synchronous: processors call stores on the hot path without an Effect per record.
 */

/** A key and its value, as iterated out of a store. */
export interface KeyValue<K, V> {
  readonly key: K
  readonly value: V
}

/** Read-only view of a key-value store (what interactive queries and `valueGetter`s use). */
export interface ReadOnlyKeyValueStore<K, V> {
  readonly name: string
  get(key: K): V | undefined
  /** Entries with `from <= key <= to` in key order; an undefined bound is open. */
  range(from: K | undefined, to: K | undefined): IterableIterator<KeyValue<K, V>>
  /** As `range`, in reverse key order. */
  reverseRange(from: K | undefined, to: K | undefined): IterableIterator<KeyValue<K, V>>
  all(): IterableIterator<KeyValue<K, V>>
  reverseAll(): IterableIterator<KeyValue<K, V>>
  /** Entries whose key starts with `prefix`, in key order. */
  prefixScan(prefix: K): IterableIterator<KeyValue<K, V>>
  /** An estimate of the number of keys (exact for in-memory stores). */
  approximateNumEntries(): number
}

/** A writable key-value store. */
export interface KeyValueStore<K, V> extends ReadOnlyKeyValueStore<K, V> {
  /** True when the store keeps its data on disk across restarts (then it has a checkpoint). */
  readonly persistent: boolean
  /** Writes `value`, or deletes the key when `value` is null. */
  put(key: K, value: V | null): void
  /** Writes `value` only when the key is absent; returns the existing value, if any. */
  putIfAbsent(key: K, value: V): V | undefined
  putAll(entries: ReadonlyArray<KeyValue<K, V | null>>): void
  /** Deletes the key; returns its old value, if any. */
  delete(key: K): V | undefined
  /** Makes every write so far durable (persistent stores); a no-op in memory. */
  flush(): void
  /** Releases the store's resources; the store is unusable afterwards. */
  close(): void
}

/** The byte-level store the runtime wraps: keys and values are serialized bytes. */
export type KeyValueBytesStore = KeyValueStore<Uint8Array, Uint8Array>

/** Unsigned lexicographic order of byte arrays: negative, zero or positive like `Array.prototype.sort`. */
export const compareBytes = (a: Uint8Array, b: Uint8Array): number => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!
    if (d !== 0) return d
  }
  return a.length - b.length
}

/** True when `bytes` starts with `prefix`. */
export const hasPrefix = (bytes: Uint8Array, prefix: Uint8Array): boolean => {
  if (bytes.length < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false
  return true
}

/**
 * The smallest key greater than every key that starts with `prefix` (the exclusive upper bound of a prefix
 * scan), or undefined when no such key exists (the prefix is all 0xff bytes).
 */
export const prefixUpperBound = (prefix: Uint8Array): Uint8Array | undefined => {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! !== 0xff) {
      const out = Uint8Array.prototype.slice.call(prefix, 0, i + 1)
      out[i] = prefix[i]! + 1
      return out
    }
  }
  return undefined
}
