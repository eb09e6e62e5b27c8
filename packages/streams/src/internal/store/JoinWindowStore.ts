/**
 * The typed window store of one side of a stream-stream join (Kafka's join `WindowStore` with duplicates
 * retained): every record of the side is kept under its key and timestamp for the join window plus grace,
 * and every write is also a changelog record (Kafka's binary window key, the raw value, the record's
 * timestamp).
 *
 * Invariants: the byte store and the changelog see the same writes in the same order; a put of an expired
 * window writes neither; fetched values are decoded copies the caller may keep.
 */
import type { DslStoreType, Serde } from "../../dsl/Options.js"
import type { Step } from "../../processor/Processor.js"
import type { KeyValue } from "../../state/KeyValueStore.js"
import * as Stores from "../../state/Stores.js"
import type { WindowBytesStore } from "../../state/WindowStore.js"
import type { CustomStore, CustomStoreOpener } from "./CustomStore.js"
import type { ChangelogWriter } from "./TimestampedStore.js"

/** A typed join window store over a byte window store. */
export class JoinWindowStore<K, V> implements CustomStore {
  constructor(
    readonly name: string,
    readonly inner: WindowBytesStore,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
    private readonly changelog: ChangelogWriter | undefined
  ) {}

  private keyBytes(key: K): Uint8Array {
    const bytes = this.keySerde.encode(key)
    if (bytes === null) throw new Error(`State store ${this.name}: a key serialized to null`)
    return bytes
  }

  /** Keeps `value` under `key` at `timestamp` (dropped when the window already expired). */
  put(key: K, value: V, timestamp: number): void {
    const v = this.valueSerde.encode(value)
    if (v === null) return
    const changelogKey = this.inner.put(this.keyBytes(key), v, timestamp)
    if (changelogKey !== undefined) this.changelog?.(changelogKey, v, timestamp)
  }

  /** The values of `key` with timestamps in `[from, to]`, in timestamp order, as (timestamp, value). */
  *fetch(key: K, from: number, to: number): IterableIterator<KeyValue<number, V>> {
    if (to < from) return
    for (const e of this.inner.fetch(this.keyBytes(key), Math.max(0, from), to)) {
      yield { key: e.key, value: this.valueSerde.decode(e.value) }
    }
  }

  restore(key: Uint8Array, value: Uint8Array | null): void {
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

/** Opens a join window store: the given supplier, else persistent or in memory as the store type says. */
export const opener =
  (spec: {
    readonly retentionMs: number
    readonly windowSizeMs: number
    readonly supplier: Stores.WindowBytesStoreSupplier | undefined
    readonly storeType: DslStoreType | undefined
  }): CustomStoreOpener =>
  ({ name, keySerde, valueSerde, taskDir, defaultStoreType, changelog }) => {
    const supplier =
      spec.supplier ??
      ((spec.storeType ?? defaultStoreType) === "rocksDB" && taskDir !== undefined
        ? Stores.persistentWindowStore(name, spec.retentionMs, spec.windowSizeMs, true)
        : Stores.inMemoryWindowStore(name, spec.retentionMs, spec.windowSizeMs, true))
    const inner =
      supplier.persistent && taskDir === undefined
        ? Stores.inMemoryWindowStore(name, supplier.retentionPeriod, supplier.windowSize, true).get()
        : supplier.get(taskDir)
    return new JoinWindowStore(name, inner, keySerde, valueSerde, changelog)
  }
