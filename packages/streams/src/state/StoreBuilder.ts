/**
 * Store builders for the Processor API (Kafka Streams' `StoreBuilder` from `Stores.keyValueStoreBuilder` and
 * `Stores.timestampedKeyValueStoreBuilder`): a byte-store supplier, key and value serdes and the changelog
 * switch. `TopologyBuilder.addStateStore` and `StreamsBuilder.addStateStore` add a store per task from it;
 * `build()` makes one standalone store (no changelog), for unit tests with `MockProcessorContext`.
 *
 * As in Kafka, logging is enabled by default (changelog `<application.id>-<name>-changelog`, compacted).
 * Processor-API stores have no record cache: every write reaches the store and its changelog at once.
 */
import type { AnySerde, Serde } from "../dsl/Options.js"
import { TimestampedStore } from "../internal/store/TimestampedStore.js"
import { keyValueStore, type StoreApi, timestampedKeyValueStore } from "../internal/store/typedStores.js"
import * as InMemoryKeyValueStore from "./InMemoryKeyValueStore.js"
import type { KeyValueStore } from "./KeyValueStore.js"
import type { KeyValueBytesStoreSupplier } from "./Stores.js"
import type { TimestampedKeyValueStore } from "./TimestampedKeyValueStore.js"

/** Describes a state store of type `S` for a topology. */
export interface StoreBuilder<S> {
  readonly _S?: (_: never) => S
  readonly name: string
  /** Which typed interface processors get from `getStateStore`. */
  readonly api: StoreApi
  readonly supplier: KeyValueBytesStoreSupplier
  // biome-ignore lint/suspicious/noExplicitAny: the topology holds serdes untyped
  readonly keySerde: Serde<any>
  // biome-ignore lint/suspicious/noExplicitAny: the topology holds serdes untyped
  readonly valueSerde: Serde<any>
  readonly loggingEnabled: boolean
  /** Extra configs of the changelog topic. */
  readonly logConfig: Readonly<Record<string, string>>
  /** The store with a changelog (the default), with extra topic configs. */
  withLoggingEnabled(config?: Readonly<Record<string, string>>): StoreBuilder<S>
  /** The store without a changelog (required for global stores; a restarted task starts it empty). */
  withLoggingDisabled(): StoreBuilder<S>
  /** One standalone store (in memory, no changelog), e.g. for `MockProcessorContext.addStateStore`. */
  build(): S
}

const make = <S>(
  api: StoreApi,
  supplier: KeyValueBytesStoreSupplier,
  keySerde: Serde<unknown>,
  valueSerde: Serde<unknown>,
  loggingEnabled: boolean,
  logConfig: Readonly<Record<string, string>>
): StoreBuilder<S> => ({
  name: supplier.name,
  api,
  supplier,
  keySerde,
  valueSerde,
  loggingEnabled,
  logConfig,
  withLoggingEnabled: (config = {}) => make<S>(api, supplier, keySerde, valueSerde, true, config),
  withLoggingDisabled: () => make<S>(api, supplier, keySerde, valueSerde, false, {}),
  build: () => {
    const inner = supplier.persistent ? InMemoryKeyValueStore.make(supplier.name) : supplier.get()
    const store = new TimestampedStore(supplier.name, inner, keySerde, valueSerde, undefined, undefined)
    return (api === "keyValue" ? keyValueStore(store, () => 0) : timestampedKeyValueStore(store)) as S
  }
})

/** A key-value store of `supplier`'s bytes (e.g. `Stores.inMemoryKeyValueStore("counts")`), typed by the serdes. */
export const keyValueStoreBuilder = <K, V>(
  supplier: KeyValueBytesStoreSupplier,
  keySerde: Serde<K>,
  valueSerde: Serde<V>
): StoreBuilder<KeyValueStore<K, V>> =>
  make("keyValue", supplier, keySerde as AnySerde, valueSerde as AnySerde, true, {})

/** A key-value store whose values carry the timestamp of the record that wrote them. */
export const timestampedKeyValueStoreBuilder = <K, V>(
  supplier: KeyValueBytesStoreSupplier,
  keySerde: Serde<K>,
  valueSerde: Serde<V>
): StoreBuilder<TimestampedKeyValueStore<K, V>> =>
  make("timestampedKeyValue", supplier, keySerde as AnySerde, valueSerde as AnySerde, true, {})
