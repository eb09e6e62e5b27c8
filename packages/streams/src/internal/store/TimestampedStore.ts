/**
 * The typed store processors use (Kafka Streams' `TimestampedKeyValueStore` with its changelogging and
 * caching layers): keys and values go through the store's serdes to the byte-level store of `src/state/`,
 * values are kept with their timestamp, every write to the byte store is also handed to the changelog
 * writer, and with a record cache writes wait in the cache until it is flushed.
 *
 * Invariants: the byte store and the changelog see the same writes in the same order; with a cache, `get`
 * sees the cache's entry first; a flush forwards `(key, new, old)` where old is the byte store's value
 * before the write, and skips a delete of an absent key.
 */
import type { Serde } from "../../dsl/Options.js"
import type { Step } from "../../processor/Processor.js"
import type { KeyValue, KeyValueBytesStore } from "../../state/KeyValueStore.js"
import type { CacheEntry, NamedCache, RecordCache } from "./RecordCache.js"
import * as VT from "./ValueAndTimestamp.js"

/** Receives every write of a logged store: the changelog record to send. */
export type ChangelogWriter = (key: Uint8Array, value: Uint8Array | null, timestamp: number) => void

/** Called with a cached store's updates when they leave the cache. */
export type FlushListener<K, V> = (key: K, newValue: V | null, oldValue: V | null, timestamp: number) => Step

/** A typed, timestamped key-value store. */
export class TimestampedStore<K, V> {
  private readonly cache: NamedCache | undefined
  private listener: FlushListener<K, V> | undefined

  constructor(
    readonly name: string,
    readonly inner: KeyValueBytesStore,
    readonly keySerde: Serde<K>,
    readonly valueSerde: Serde<V>,
    private readonly changelog: ChangelogWriter | undefined,
    recordCache: RecordCache | undefined
  ) {
    this.cache = recordCache === undefined ? undefined : recordCache.namespace((e) => this.writeOut(e))
  }

  /** True when writes wait in the record cache (and the cache forwards them). */
  get caching(): boolean {
    return this.cache !== undefined
  }

  /** Sets who forwards the updates that leave the cache. */
  setFlushListener(listener: FlushListener<K, V>): void {
    this.listener = listener
  }

  // processors read a key, then write it: the last key's bytes are kept (never mutated by any layer)
  private lastKey: K | undefined = undefined
  private lastKeyBytes: Uint8Array | undefined = undefined

  private keyBytes(key: K): Uint8Array {
    if (this.lastKeyBytes !== undefined && key === this.lastKey) return this.lastKeyBytes
    const bytes = this.keySerde.encode(key)
    if (bytes === null) throw new Error(`State store ${this.name}: a key serialized to null`)
    this.lastKey = key
    this.lastKeyBytes = bytes
    return bytes
  }

  private decode(bytes: Uint8Array | undefined | null): VT.ValueAndTimestamp<V> | undefined {
    if (bytes === undefined || bytes === null) return undefined
    return { value: this.valueSerde.decode(VT.valueBytes(bytes)), timestamp: VT.timestampOf(bytes) }
  }

  get(key: K): VT.ValueAndTimestamp<V> | undefined {
    const k = this.keyBytes(key)
    if (this.cache !== undefined) {
      const entry = this.cache.get(k)
      if (entry !== undefined) return this.decode(entry.value)
    }
    return this.decode(this.inner.get(k))
  }

  /** Writes (null deletes); with a cache, may write out evicted entries (the returned step forwards them). */
  put(key: K, value: V | null, timestamp: number): Step {
    const k = this.keyBytes(key)
    let stored: Uint8Array | null = null
    if (value !== null) {
      const v = this.valueSerde.encode(value)
      stored = v === null ? null : VT.encode(timestamp, v)
    }
    if (this.cache !== undefined) return this.cache.put({ key: k, value: stored, timestamp })
    this.write(k, stored, timestamp)
    return undefined
  }

  private write(key: Uint8Array, stored: Uint8Array | null, timestamp: number): void {
    this.inner.put(key, stored)
    this.changelog?.(key, stored === null ? null : VT.valueBytes(stored), timestamp)
  }

  private writeOut(entry: CacheEntry): Step {
    const old = this.inner.get(entry.key)
    if (old === undefined && entry.value === null) return undefined
    const oldValue = old === undefined ? null : this.valueSerde.decode(VT.valueBytes(old))
    this.write(entry.key, entry.value, entry.timestamp)
    if (this.listener === undefined) return undefined
    const newValue = entry.value === null ? null : this.valueSerde.decode(VT.valueBytes(entry.value))
    return this.listener(this.keySerde.decode(entry.key), newValue, oldValue, entry.timestamp)
  }

  /** Writes the cache's entries out (commit). */
  flush(): Step {
    const step = this.cache?.flush()
    this.inner.flush()
    return step
  }

  /** Every entry of the byte store (flushed writes), decoded, in key order. */
  *all(): IterableIterator<KeyValue<K, VT.ValueAndTimestamp<V>>> {
    for (const { key, value } of this.inner.all()) {
      yield { key: this.keySerde.decode(key), value: this.decode(value)! }
    }
  }

  /** Writes a changelog record straight into the byte store (restore; no cache, no changelog). */
  restore(key: Uint8Array, value: Uint8Array | null, timestamp: number): void {
    this.inner.put(key, value === null ? null : VT.encode(timestamp, value))
  }

  close(): void {
    this.cache?.clear()
    this.inner.close()
  }
}
