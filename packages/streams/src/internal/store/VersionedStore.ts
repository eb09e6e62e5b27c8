/**
 * The typed versioned store of a versioned table (Kafka's versioned key-value store with its changelogging
 * layer): keys and values go through the store's serdes to a byte-level versioned store, and every version
 * written is also a changelog record (key, value or tombstone, the version's timestamp), so a restore
 * replays the history. Versioned stores are never cached.
 *
 * Invariants: the byte store and the changelog see the same writes in the same order; a put older than
 * the history retention writes neither.
 */
import type { Serde } from "../../dsl/Options.js"
import type { Step } from "../../processor/Processor.js"
import * as Stores from "../../state/Stores.js"
import * as Versioned from "../../state/VersionedKeyValueStore.js"
import type { CustomStore, CustomStoreOpener } from "./CustomStore.js"
import type { ChangelogWriter } from "./TimestampedStore.js"
import type { ValueAndTimestamp } from "./ValueAndTimestamp.js"

/** A typed versioned store over a byte-level one. */
export class VersionedStore<K, V> implements CustomStore {
  /** Versioned stores have no record cache. */
  readonly caching = false

  constructor(
    readonly name: string,
    readonly inner: Versioned.VersionedBytesStore,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
    private readonly changelog: ChangelogWriter | undefined
  ) {}

  private keyBytes(key: K): Uint8Array {
    const bytes = this.keySerde.encode(key)
    if (bytes === null) throw new Error(`State store ${this.name}: a key serialized to null`)
    return bytes
  }

  private typed(r: Versioned.VersionedRecord<Uint8Array> | undefined): ValueAndTimestamp<V> | undefined {
    return r === undefined ? undefined : { value: this.valueSerde.decode(r.value), timestamp: r.timestamp }
  }

  /** Adds a version (null: a tombstone), as the table processors write (see `putVersion`). */
  put(key: K, value: V | null, timestamp: number): Step {
    this.putVersion(key, value, timestamp)
    return undefined
  }

  /** Adds a version (null: a tombstone); returns its validTo, `NOT_PUT` or `VALID_TO_UNDEFINED` (the latest). */
  putVersion(key: K, value: V | null, timestamp: number): number {
    const k = this.keyBytes(key)
    const v = value === null ? null : this.valueSerde.encode(value)
    const validTo = this.inner.put(k, v, timestamp)
    if (validTo !== Versioned.NOT_PUT) this.changelog?.(k, v, timestamp)
    return validTo
  }

  /** The latest version of `key`, unless deleted. */
  get(key: K): ValueAndTimestamp<V> | undefined {
    return this.typed(this.inner.get(this.keyBytes(key)))
  }

  /** The version of `key` valid at `asOf`, unless deleted then or beyond the history retention. */
  getAsOf(key: K, asOf: number): ValueAndTimestamp<V> | undefined {
    return this.typed(this.inner.get(this.keyBytes(key), asOf))
  }

  restore(key: Uint8Array, value: Uint8Array | null, timestamp: number): void {
    this.inner.put(key, value, timestamp)
  }

  flush(): Step {
    this.inner.flush()
    return undefined
  }

  close(): void {
    this.inner.close()
  }
}

/** Opens a versioned store: the supplier's (in memory when it is persistent and there is no task directory). */
export const opener =
  (supplier: Stores.VersionedBytesStoreSupplier): CustomStoreOpener =>
  ({ name, keySerde, valueSerde, taskDir, changelog }) => {
    const inner =
      supplier.persistent && taskDir === undefined
        ? Stores.inMemoryVersionedKeyValueStore(name, supplier.historyRetention).get()
        : supplier.get(taskDir)
    return new VersionedStore(name, inner, keySerde, valueSerde, changelog)
  }
