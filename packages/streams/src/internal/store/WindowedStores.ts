/**
 * The typed window and session stores windowed aggregations use (Kafka Streams' timestamped window store
 * and session store with their changelogging layers), over the segmented byte stores of `src/state/`.
 *
 * Invariants: every write to the byte store that the byte store keeps is also handed to the changelog
 * writer, keyed by Kafka's binary window key (key, start, seqnum) or session key (key, end, start), in the
 * same order; a window store value is the aggregate's timestamp (8 bytes) and the value bytes, a changelog
 * value the value bytes with the aggregate's timestamp as the record timestamp; expired windows are dropped
 * by the byte store (retention in stream time) and never written to the changelog. Only time-window stores
 * may have a record cache (sliding windows and sessions read ranges, which the cache does not hold).
 */
import type { DslStoreType, Serde } from "../../dsl/Options.js"
import type { Step } from "../../processor/Processor.js"
import * as SegmentedSessionStore from "../../state/internal/sessionStore.js"
import * as SegmentedWindowStore from "../../state/internal/windowStore.js"
import type { SessionBytesStore } from "../../state/SessionStore.js"
import {
  defaultSegmentInterval,
  type WindowBytesStore,
  type Windowed,
  windowKeyFromBinary,
  windowKeyToBinary
} from "../../state/WindowStore.js"
import type { StoreSpec, WindowedStoreOptions } from "../../topology/Topology.js"
import { openByteStore } from "./openStore.js"
import type { CacheEntry, NamedCache, RecordCache } from "./RecordCache.js"
import type { ChangelogWriter } from "./TimestampedStore.js"
import * as VT from "./ValueAndTimestamp.js"

/** What the runtime needs of any task store: restore, durability and close. */
export interface RestorableStore {
  readonly name: string
  readonly inner: { readonly persistent: boolean; flush(): void }
  restore(key: Uint8Array, value: Uint8Array | null, timestamp: number): void
  flush(): Step
  close(): void
}

const encodeKey = <K>(serde: Serde<K>, name: string, key: K): Uint8Array => {
  const bytes = serde.encode(key)
  if (bytes === null) throw new Error(`State store ${name}: a key serialized to null`)
  return bytes
}

/** Called with a cached window store's updates when they leave the cache: key, window start, new, old, timestamp. */
export type WindowFlushListener<K, V> = (
  key: K,
  start: number,
  newValue: V | null,
  oldValue: V | null,
  timestamp: number
) => Step

/**
 * A typed window store whose values carry the timestamp of the aggregate. With a record cache (time windows
 * only: sliding windows read ranges), writes wait in the cache keyed by (key, start) and `fetch` sees them
 * first; a flush writes each entry to the byte store and changelog and hands (new, old) to the listener.
 */
export class TimestampedWindowStore<K, V> implements RestorableStore {
  private readonly cache: NamedCache | undefined
  private listener: WindowFlushListener<K, V> | undefined

  constructor(
    readonly name: string,
    readonly inner: WindowBytesStore,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
    private readonly changelog: ChangelogWriter | undefined,
    recordCache?: RecordCache | undefined
  ) {
    this.cache = recordCache === undefined ? undefined : recordCache.namespace((e) => this.writeOut(e))
  }

  /** True when writes wait in the record cache (and the cache forwards them). */
  get caching(): boolean {
    return this.cache !== undefined
  }

  /** Sets who forwards the updates that leave the cache. */
  setFlushListener(listener: WindowFlushListener<K, V>): void {
    this.listener = listener
  }

  private writeOut(entry: CacheEntry): Step {
    const { key, windowStart } = windowKeyFromBinary(entry.key)
    const old = this.inner.fetch(key, windowStart)
    if (old === undefined && entry.value === null) return undefined
    const changelogKey = this.inner.put(key, entry.value, windowStart)
    if (changelogKey === undefined) return undefined
    this.changelog?.(changelogKey, entry.value === null ? null : VT.valueBytes(entry.value), entry.timestamp)
    if (this.listener === undefined) return undefined
    const decode = (b: Uint8Array | null | undefined) =>
      b === null || b === undefined ? null : this.valueSerde.decode(VT.valueBytes(b))
    return this.listener(this.keySerde.decode(key), windowStart, decode(entry.value), decode(old), entry.timestamp)
  }

  // aggregations fetch a key's window, then write it: the last key's bytes are kept (stores copy what they keep)
  private lastKey: K | undefined = undefined
  private lastKeyBytes: Uint8Array | undefined = undefined

  private keyBytes(key: K): Uint8Array {
    if (this.lastKeyBytes !== undefined && key === this.lastKey) return this.lastKeyBytes
    this.lastKeyBytes = encodeKey(this.keySerde, this.name, key)
    this.lastKey = key
    return this.lastKeyBytes
  }

  // the cache key of the last (key, start), reused between a processor's fetch and put (one id computed)
  private lastCacheKey: Uint8Array | undefined = undefined
  private lastCacheKeyBytes: Uint8Array | undefined = undefined
  private lastCacheStart = -1

  private cacheKey(key: K, start: number): Uint8Array {
    const keyBytes = this.keyBytes(key)
    if (this.lastCacheKey !== undefined && this.lastCacheStart === start && keyBytes === this.lastCacheKeyBytes) {
      return this.lastCacheKey
    }
    this.lastCacheKey = windowKeyToBinary(keyBytes, start, 0)
    this.lastCacheKeyBytes = keyBytes
    this.lastCacheStart = start
    return this.lastCacheKey
  }

  private decode(bytes: Uint8Array): VT.ValueAndTimestamp<V> {
    return { value: this.valueSerde.decode(VT.valueBytes(bytes)), timestamp: VT.timestampOf(bytes) }
  }

  /** The aggregate of `key` in the window starting at `start`, if live. */
  fetch(key: K, start: number): VT.ValueAndTimestamp<V> | undefined {
    if (this.cache !== undefined) {
      const entry = this.cache.get(this.cacheKey(key, start))
      if (entry !== undefined) return entry.value === null ? undefined : this.decode(entry.value)
    }
    const bytes = this.inner.fetch(this.keyBytes(key), start)
    return bytes === undefined ? undefined : this.decode(bytes)
  }

  /** The windows of `key` starting in `[from, to]`, in start order. */
  *fetchRange(key: K, from: number, to: number): IterableIterator<{ start: number; value: VT.ValueAndTimestamp<V> }> {
    for (const e of this.inner.fetch(this.keyBytes(key), Math.max(0, from), to)) {
      yield { start: e.key, value: this.decode(e.value) }
    }
  }

  /** Every live window of every key starting in `[from, to]`. */
  *fetchAll(from: number, to: number): IterableIterator<{ key: Windowed<K>; value: VT.ValueAndTimestamp<V> }> {
    for (const e of this.inner.fetchAll(Math.max(0, from), to)) {
      yield { key: { key: this.keySerde.decode(e.key.key), window: e.key.window }, value: this.decode(e.value) }
    }
  }

  /**
   * Writes the aggregate of `key` in the window starting at `start` (null deletes; an expired window is not
   * kept); with a cache, may write out evicted entries (the returned step forwards them).
   */
  put(key: K, value: V | null, start: number, timestamp: number): Step {
    const v = value === null ? null : this.valueSerde.encode(value)
    if (this.cache !== undefined) {
      const stored = v === null ? null : VT.encode(timestamp, v)
      return this.cache.put({ key: this.cacheKey(key, start), value: stored, timestamp })
    }
    const changelogKey = this.inner.put(this.keyBytes(key), v === null ? null : VT.encode(timestamp, v), start)
    if (changelogKey !== undefined) this.changelog?.(changelogKey, v, timestamp)
    return undefined
  }

  restore(key: Uint8Array, value: Uint8Array | null, timestamp: number): void {
    this.inner.restore(key, value === null ? null : VT.encode(timestamp, value))
  }

  /** Writes the cache's entries out (commit), then makes the byte store durable. */
  flush(): Step {
    const step = this.cache?.flush()
    this.inner.flush()
    return step
  }

  close(): void {
    this.cache?.clear()
    this.inner.close()
  }
}

/** A typed session store (values without timestamps, as Kafka's session store keeps them). */
export class TypedSessionStore<K, V> implements RestorableStore {
  constructor(
    readonly name: string,
    readonly inner: SessionBytesStore,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
    private readonly changelog: ChangelogWriter | undefined
  ) {}

  /** Sessions of `key` ending at or after `earliestEnd` and starting at or before `latestStart`. */
  *findSessions(key: K, earliestEnd: number, latestStart: number): IterableIterator<{ key: Windowed<K>; value: V }> {
    const k = encodeKey(this.keySerde, this.name, key)
    for (const e of this.inner.findSessions(k, Math.max(0, earliestEnd), latestStart)) {
      yield { key: { key, window: e.key.window }, value: this.valueSerde.decode(e.value) }
    }
  }

  /** Every live session of every key. */
  *all(): IterableIterator<{ key: Windowed<K>; value: V }> {
    for (const e of this.inner.fetch(undefined, undefined)) {
      yield {
        key: { key: this.keySerde.decode(e.key.key), window: e.key.window },
        value: this.valueSerde.decode(e.value)
      }
    }
  }

  /** Writes a session's aggregate (null removes the session); false when the session has expired. */
  put(session: Windowed<K>, value: V | null, timestamp: number): boolean {
    const v = value === null ? null : this.valueSerde.encode(value)
    const changelogKey = this.inner.put(
      { key: encodeKey(this.keySerde, this.name, session.key), window: session.window },
      v
    )
    if (changelogKey === undefined) return false
    this.changelog?.(changelogKey, v, timestamp)
    return true
  }

  restore(key: Uint8Array, value: Uint8Array | null, _timestamp: number): void {
    this.inner.restore(key, value)
  }

  flush(): Step {
    this.inner.flush()
    return undefined
  }

  close(): void {
    this.inner.close()
  }
}

/** A task's window or session store. */
export type WindowedTaskStore = TimestampedWindowStore<unknown, unknown> | TypedSessionStore<unknown, unknown>

/**
 * Opens the window or session store of `spec` over the byte store `openByteStore` chooses (supplier, store
 * type, `default.dsl.store`), segmented by half the retention (at least a minute), as Kafka's.
 */
export const openWindowedStore = (
  spec: StoreSpec,
  windowed: WindowedStoreOptions,
  taskDir: string | undefined,
  defaultType: DslStoreType,
  changelog: ChangelogWriter | undefined,
  cache: RecordCache | undefined
): WindowedTaskStore => {
  const inner = openByteStore(spec, taskDir, defaultType)
  const segmentInterval = defaultSegmentInterval(windowed.retentionMs)
  if (windowed.kind === "session") {
    const bytes = SegmentedSessionStore.make(inner, { retentionPeriod: windowed.retentionMs, segmentInterval })
    return new TypedSessionStore(spec.name, bytes, spec.keySerde, spec.valueSerde, changelog)
  }
  const bytes = SegmentedWindowStore.make(inner, {
    retentionPeriod: windowed.retentionMs,
    windowSize: windowed.windowSizeMs,
    segmentInterval,
    retainDuplicates: false
  })
  const cached = windowed.cacheable === true ? cache : undefined
  return new TimestampedWindowStore(spec.name, bytes, spec.keySerde, spec.valueSerde, changelog, cached)
}
