/**
 * The DSL's option objects (Kafka Streams' `Named`, `Consumed`, `Produced`, `Grouped`, `Materialized`,
 * `Repartitioned`, `Printed`, `Branched`): plain data that names processors, stores and internal topics and
 * carries serdes. Serdes are `@eddy/core`'s `Topic` serdes (`Topic.string`, `Topic.schema(MySchema)`, ...).
 */
import type * as Topic from "@eddy/core/client/Topic"
import type { Duration } from "effect"
import type { TimestampExtractor } from "../processor/TimestampExtractor.js"
import type { KeyValueBytesStore } from "../state/KeyValueStore.js"
import type { KeyValueBytesStoreSupplier, VersionedBytesStoreSupplier } from "../state/Stores.js"

/** A key or value serde. */
export type Serde<A> = Topic.Serde<A>

/** Chooses a partition for a record sent by a sink (undefined: the default murmur2 partitioner). */
export type StreamPartitioner<K, V> = (topic: string, key: K, value: V, numPartitions: number) => number | undefined

/** A processor name chosen by the user (replaces the generated `KSTREAM-<OP>-<index>`). */
export interface Named {
  readonly name?: string | undefined
}

/** Names a processor. */
export const named = (name: string): Named => ({ name })

/** How a source reads its topic: serdes and the source processor's name. */
export interface Consumed<K, V> extends Named {
  readonly keySerde?: Serde<K> | undefined
  readonly valueSerde?: Serde<V> | undefined
  /** This source's event time (default: `default.timestamp.extractor`, itself `failOnInvalidTimestamp`). */
  readonly timestampExtractor?: TimestampExtractor | undefined
}

/** Source options with serdes. */
export const consumedWith = <K, V>(keySerde: Serde<K>, valueSerde: Serde<V>): Consumed<K, V> => ({
  keySerde,
  valueSerde
})

/** How a sink writes: serdes, a partitioner and the sink's name. */
export interface Produced<K, V> extends Named {
  readonly keySerde?: Serde<K> | undefined
  readonly valueSerde?: Serde<V> | undefined
  readonly partitioner?: StreamPartitioner<K, V> | undefined
}

/** Sink options with serdes. */
export const producedWith = <K, V>(keySerde: Serde<K>, valueSerde: Serde<V>): Produced<K, V> => ({
  keySerde,
  valueSerde
})

/** How records are grouped: the repartition topic's name (`<name>-repartition`) and its serdes. */
export interface Grouped<K, V> extends Named {
  readonly keySerde?: Serde<K> | undefined
  readonly valueSerde?: Serde<V> | undefined
}

/** Grouping options with serdes. */
export const groupedWith = <K, V>(keySerde: Serde<K>, valueSerde: Serde<V>): Grouped<K, V> => ({
  keySerde,
  valueSerde
})

/** Makes the byte-level store of a state store (a function of the store name; never persistent across restarts). */
export type KeyValueStoreSupplier = (name: string) => KeyValueBytesStore

/**
 * Kafka Streams' store types (`default.dsl.store` and `Materialized.withStoreType`): `rocksDB` is Eddy's
 * persistent store (lmdb, in-memory where lmdb does not load), `in_memory` the in-memory store.
 */
export type DslStoreType = "rocksDB" | "in_memory"

/** A state store's name, serdes and changelog/caching switches. */
export interface Materialized<K, V> {
  /** The store's name; also names its changelog `<application.id>-<name>-changelog`. */
  readonly storeName?: string | undefined
  readonly keySerde?: Serde<K> | undefined
  readonly valueSerde?: Serde<V> | undefined
  /** Record cache in front of the store (default true; `statestore.cache.max.bytes` sizes it). */
  readonly cachingEnabled?: boolean | undefined
  /** Changelog topic for the store (default true). */
  readonly loggingEnabled?: boolean | undefined
  /** Extra configs of the changelog topic. */
  readonly logConfig?: Readonly<Record<string, string>> | undefined
  /**
   * The byte-level store to use: a `Stores` supplier (e.g. `Stores.persistentKeyValueStore(name)`, opened in
   * the task's state directory) or a function of the store name. Takes precedence over `storeType`. A
   * versioned supplier (`Stores.persistentVersionedKeyValueStore(name, historyRetention)`) makes a
   * versioned table (`builder.table` only).
   */
  readonly storeSupplier?: KeyValueStoreSupplier | KeyValueBytesStoreSupplier | VersionedBytesStoreSupplier | undefined
  /** The store type of this store (default: the `default.dsl.store` config, itself `rocksDB` by default). */
  readonly storeType?: DslStoreType | undefined
  /**
   * Windowed stores only: how long windows are kept in stream time (Kafka's `withRetention`; default one day,
   * or window size + grace when longer); must be at least window size + grace, else `build` fails.
   */
  readonly retention?: Duration.DurationInput | undefined
}

/** Materializes into a store named `storeName`. */
export const materializedAs = <K, V>(storeName: string, options: Omit<Materialized<K, V>, "storeName"> = {}) => ({
  ...options,
  storeName
})

/** Materializes with a store type (Kafka's `Materialized.with(storeType)`), named by the DSL. */
export const materializedWithStoreType = <K, V>(
  storeType: DslStoreType,
  options: Omit<Materialized<K, V>, "storeType"> = {}
): Materialized<K, V> => ({ ...options, storeType })

/** How a stream is repartitioned: topic name, partition count, serdes, partitioner. */
export interface Repartitioned<K, V> extends Named {
  readonly numberOfPartitions?: number | undefined
  readonly keySerde?: Serde<K> | undefined
  readonly valueSerde?: Serde<V> | undefined
  readonly partitioner?: StreamPartitioner<K, V> | undefined
}

/** How `print` writes: a label and a line format (default `[label]: key, value`). */
export interface Printed<K, V> extends Named {
  readonly label?: string | undefined
  readonly mapper?: ((key: K, value: V) => string) | undefined
  /** Where lines go (default: `console.log`). */
  readonly sink?: ((line: string) => void) | undefined
}

/** A branch of `split`: its name (key in the result map) and an optional chain applied to it. */
export interface Branched<S> {
  readonly name?: string | undefined
  readonly chain?: ((stream: S) => S | undefined) | undefined
}

/** A serde of any type (how the untyped graph holds serdes). */
// biome-ignore lint/suspicious/noExplicitAny: the graph is untyped; the DSL types each operation
export type AnySerde = Serde<any>
