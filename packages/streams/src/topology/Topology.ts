/**
 * A compiled topology (Kafka Streams' `Topology`): named sources, processors and sinks wired parent to
 * child, the state stores processors use, internal topics, and the sub-topologies they split into at
 * repartition topics. Plain data: the runtime and the test driver execute it; `describe` prints it in
 * Kafka's text form. Internal topic names are kept without the `<application.id>-` prefix, as Kafka's
 * `describe()` prints them; the runtime adds the prefix.
 */
import type { AnySerde, DslStoreType, KeyValueStoreSupplier, StreamPartitioner } from "../dsl/Options.js"
import type { CustomStoreOpener } from "../internal/store/CustomStore.js"
import type { ProcessorSupplier } from "../processor/Processor.js"
import type { TimestampExtractor } from "../processor/TimestampExtractor.js"
import type { KeyValueBytesStoreSupplier } from "../state/Stores.js"
import { describe as describeText } from "./internal/describe.js"

/** Chooses the topic of a record at a dynamic sink. */
export type TopicNameExtractor<K, V> = (key: K, value: V, context: { readonly topic: string | undefined }) => string

/** A source node: reads topics and forwards decoded records. */
export interface SourceNode {
  readonly kind: "source"
  readonly name: string
  readonly topics: ReadonlyArray<string>
  readonly keySerde: AnySerde
  readonly valueSerde: AnySerde
  readonly children: ReadonlyArray<string>
  /** A pattern source reads every topic whose whole name matches (its `topics` are filled in at start). */
  readonly pattern?: RegExp | undefined
  /** Where to start a partition without a committed offset (default: the runtime's `earliest`). */
  readonly offsetReset?: "earliest" | "latest" | undefined
  /** The source's own timestamp extractor (`Consumed.timestampExtractor`), else the configured default. */
  readonly timestampExtractor?: TimestampExtractor | undefined
}

/** A processor node. */
export interface ProcessorNode {
  readonly kind: "processor"
  readonly name: string
  readonly supplier: ProcessorSupplier
  readonly stores: ReadonlyArray<string>
  readonly parents: ReadonlyArray<string>
  readonly children: ReadonlyArray<string>
}

/** A sink node: encodes records and sends them to a topic (fixed or chosen per record). */
export interface SinkNode {
  readonly kind: "sink"
  readonly name: string
  readonly topic: string | TopicNameExtractor<unknown, unknown>
  readonly keySerde: AnySerde
  readonly valueSerde: AnySerde
  readonly partitioner: StreamPartitioner<unknown, unknown> | undefined
  readonly parents: ReadonlyArray<string>
}

/** Any node of a topology. */
export type Node = SourceNode | ProcessorNode | SinkNode

/** A key-value state store: values are kept with their timestamp (Kafka's timestamped store). */
export interface StoreSpec {
  readonly name: string
  readonly keySerde: AnySerde
  readonly valueSerde: AnySerde
  readonly loggingEnabled: boolean
  readonly cachingEnabled: boolean
  readonly logConfig: Readonly<Record<string, string>>
  /** The user's byte-store supplier, if any (else `storeType`, else `default.dsl.store`, choose). */
  readonly supplier: KeyValueStoreSupplier | KeyValueBytesStoreSupplier | undefined
  /** The store type `Materialized` asked for, if any. */
  readonly storeType: DslStoreType | undefined
  /** Global stores are loaded from their source topic on every instance and have no changelog. */
  readonly global: boolean
  /** Opens a store of another kind (join windows, versioned) instead of a timestamped key-value store. */
  readonly open?: CustomStoreOpener | undefined
  /** A read-only store's source topic, which serves as its changelog (restored from, never written). */
  readonly restoreFrom?: string | undefined
  /** A window or session store (absent for key-value stores). */
  readonly windowed?: WindowedStoreOptions | undefined
}

/** How a window or session store keeps its windows (stream time retention, window size). */
export interface WindowedStoreOptions {
  readonly kind: "window" | "session"
  readonly retentionMs: number
  readonly windowSizeMs: number
  /** Time windows: the store may have a record cache (sliding windows and sessions read ranges). */
  readonly cacheable?: boolean | undefined
}

/** An internal topic, named without the application id prefix. */
export interface InternalTopic {
  readonly name: string
  readonly kind: "repartition" | "changelog"
  /** Fixed partition count (`Repartitioned.numberOfPartitions`); else derived from the sub-topology's inputs. */
  readonly numberOfPartitions: number | undefined
  readonly configs: Readonly<Record<string, string>>
}

/** A group of connected nodes that runs as one task per input partition. */
export interface Subtopology {
  readonly id: number
  /** Node names in insertion order. */
  readonly nodes: ReadonlyArray<string>
  readonly sources: ReadonlyArray<string>
  /** Every topic the sub-topology's sources read (internal ones unprefixed). */
  readonly sourceTopics: ReadonlyArray<string>
  readonly stores: ReadonlyArray<string>
}

/** A global store: one source and one processor that loads every partition of a topic into the store. */
export interface GlobalStore {
  readonly id: number
  readonly source: string
  readonly processor: string
  readonly topic: string
  readonly store: string
}

/** A compiled topology; `R` is the services its Effect-returning functions need. */
export interface Topology<out R = never> {
  readonly _R?: (_: never) => R
  readonly nodes: ReadonlyMap<string, Node>
  readonly stores: ReadonlyMap<string, StoreSpec>
  readonly internalTopics: ReadonlyMap<string, InternalTopic>
  readonly subtopologies: ReadonlyArray<Subtopology>
  readonly globalStores: ReadonlyArray<GlobalStore>
  /** Groups of source topics that must have equal partition counts (the inputs of each join), checked at start. */
  readonly copartitionGroups?: ReadonlyArray<ReadonlyArray<string>> | undefined
  /** Kafka's text description (`Topologies:\n   Sub-topology: 0\n ...`). */
  readonly describe: () => string
}

/** The changelog topic of a store, without the application id prefix. */
export const changelogTopicName = (store: string): string => `${store}-changelog`

/** A topic's full name: internal topics get the `<application.id>-` prefix. */
export const resolveTopic = (topology: Topology<unknown>, applicationId: string, topic: string): string =>
  topology.internalTopics.has(topic) ? `${applicationId}-${topic}` : topic

/** True when `topic`'s whole name matches `pattern` (Kafka's `Pattern.matcher(topic).matches()`). */
export const matchesPattern = (pattern: RegExp, topic: string): boolean =>
  new RegExp(`^(?:${pattern.source})$`, pattern.flags.replace(/[gy]/g, "")).test(topic)

/** The sub-topology whose sources read `topic`. */
export const subtopologyOf = (topology: Topology<unknown>, topic: string): Subtopology | undefined =>
  topology.subtopologies.find((s) => s.sourceTopics.includes(topic))

/** Assembles a topology from its parts and computes nothing else (see the builder for validation). */
export const make = <R>(parts: Omit<Topology<R>, "describe" | "_R">): Topology<R> => {
  const topology: Topology<R> = { ...parts, describe: () => describeText(topology) }
  return topology
}
