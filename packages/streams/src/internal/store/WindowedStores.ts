/**
 * The typed window and session stores windowed aggregations use (Kafka Streams' timestamped window store
 * and session store with their changelogging layers), over the segmented byte stores of `src/state/`.
 *
 * Invariants: every write to the byte store that the byte store keeps is also handed to the changelog
 * writer, keyed by Kafka's binary window key (key, start, seqnum) or session key (key, end, start), in the
 * same order; a window store value is the aggregate's timestamp (8 bytes) and the value bytes, a changelog
 * value the value bytes with the aggregate's timestamp as the record timestamp; expired windows are dropped
 * by the byte store (retention in stream time) and never written to the changelog. These stores have no
 * record cache: every update goes downstream.
 */
import type { DslStoreType, Serde } from "../../dsl/Options.js"
import type { Step } from "../../processor/Processor.js"
import * as SegmentedSessionStore from "../../state/internal/sessionStore.js"
import * as SegmentedWindowStore from "../../state/internal/windowStore.js"
import type { SessionBytesStore } from "../../state/SessionStore.js"
import { defaultSegmentInterval, type WindowBytesStore, type Windowed } from "../../state/WindowStore.js"
import type { StoreSpec, WindowedStoreOptions } from "../../topology/Topology.js"
import { openByteStore } from "./openStore.js"
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

/** A typed window store whose values carry the timestamp of the aggregate. */
export class TimestampedWindowStore<K, V> implements RestorableStore {
  constructor(
    readonly name: string,
    readonly inner: WindowBytesStore,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
    private readonly changelog: ChangelogWriter | undefined
  ) {}

  // aggregations fetch a key's window, then write it: the last key's bytes are kept (stores copy what they keep)
  private lastKey: K | undefined = undefined
  private lastKeyBytes: Uint8Array | undefined = undefined

  private keyBytes(key: K): Uint8Array {
    if (this.lastKeyBytes !== undefined && key === this.lastKey) return this.lastKeyBytes
    this.lastKeyBytes = encodeKey(this.keySerde, this.name, key)
    this.lastKey = key
    return this.lastKeyBytes
  }

  private decode(bytes: Uint8Array): VT.ValueAndTimestamp<V> {
    return { value: this.valueSerde.decode(VT.valueBytes(bytes)), timestamp: VT.timestampOf(bytes) }
  }

  /** The aggregate of `key` in the window starting at `start`, if live. */
  fetch(key: K, start: number): VT.ValueAndTimestamp<V> | undefined {
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

  /** Writes the aggregate of `key` in the window starting at `start` (null deletes); false when expired. */
  put(key: K, value: V | null, start: number, timestamp: number): boolean {
    const v = value === null ? null : this.valueSerde.encode(value)
    const changelogKey = this.inner.put(this.keyBytes(key), v === null ? null : VT.encode(timestamp, v), start)
    if (changelogKey === undefined) return false
    this.changelog?.(changelogKey, v, timestamp)
    return true
  }

  restore(key: Uint8Array, value: Uint8Array | null, timestamp: number): void {
    this.inner.restore(key, value === null ? null : VT.encode(timestamp, value))
  }

  flush(): Step {
    this.inner.flush()
    return undefined
  }

  close(): void {
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
  changelog: ChangelogWriter | undefined
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
  return new TimestampedWindowStore(spec.name, bytes, spec.keySerde, spec.valueSerde, changelog)
}
