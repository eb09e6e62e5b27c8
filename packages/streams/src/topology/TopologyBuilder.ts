/**
 * Builds a topology by hand (Kafka Streams' `new Topology()` with `addSource`, `addProcessor`, `addSink`,
 * `addStateStore`, `connectProcessorAndStateStores`, `addGlobalStore` and `addReadOnlyStateStore`). Parents are
 * named when a node is added and must exist already, as in Kafka. Every call records its mistakes and returns
 * the builder; `build` reports all of them at once as one `TopologyError` (unknown or sink parents, duplicate
 * names, nodes without parents, stores not added or not connected, missing serdes, ...) or returns the
 * `Topology`, whose `describe()` prints Kafka's text. Building is pure: no fiber, no I/O.
 *
 * Invariants: the graph is the DSL's (`InternalBuilder`), so hand-built and DSL topologies compile, split
 * into sub-topologies and run the same way; processors run through the Processor-API adapter.
 */
import type * as Topic from "@eddy/core/client/Topic"
import { Effect } from "effect"
import type { AnySerde, StreamPartitioner } from "../dsl/Options.js"
import { type BuilderConfig, InternalBuilder, storeDraft } from "../internal/dsl/InternalBuilder.js"
import type { FixedKeyProcessorSupplier, ProcessorSupplier } from "../processor/api/Processor.js"
import { adapt } from "../processor/internal/adapt.js"
import type { TimestampExtractor } from "../processor/TimestampExtractor.js"
import type { StoreBuilder } from "../state/StoreBuilder.js"
import type { TopicNameExtractor, Topology } from "./Topology.js"
import type { TopologyError } from "./TopologyError.js"

/** An `@eddy/core` Topic of any key and value types. */
// biome-ignore lint/suspicious/noExplicitAny: hand-built topologies are typed by their processors
export type AnyTopic = Topic.Topic<any, any>

/** Topics a source reads: names, or `@eddy/core` Topics (whose serdes serve when none is given). */
export type SourceTopics = string | AnyTopic | ReadonlyArray<string | AnyTopic>

/** Serdes of a source (default: the first Topic's, else `default.key.serde`/`default.value.serde`). */
export interface SourceOptions {
  readonly keySerde?: AnySerde | undefined
  readonly valueSerde?: AnySerde | undefined
}

/** Source options of `addSource`: serdes, where a partition without a committed offset starts, event time. */
export interface StreamSourceOptions extends SourceOptions {
  /** Kafka's per-source `AutoOffsetReset` (default `earliest`, the runtime's consumer setting). */
  readonly offsetReset?: "earliest" | "latest" | undefined
  /** The event time of this source's records (default `default.timestamp.extractor`), as `Consumed`'s. */
  readonly timestampExtractor?: TimestampExtractor | undefined
}

/** Serdes and partitioner of a sink (default serdes: the Topic's, else the defaults). */
export interface SinkOptions {
  readonly keySerde?: AnySerde | undefined
  readonly valueSerde?: AnySerde | undefined
  // biome-ignore lint/suspicious/noExplicitAny: a sink's records are untyped in a hand-built topology
  readonly partitioner?: StreamPartitioner<any, any> | undefined
}

/** A supplier the builder takes: a processor or a fixed-key processor. */
// biome-ignore lint/suspicious/noExplicitAny: hand-built topologies are typed by their processors
export type AnySupplier = ProcessorSupplier<any, any, any, any> | FixedKeyProcessorSupplier<any, any, any>

/** A topology being built by hand; `R` is the services its Effect-returning processors use. */
export interface TopologyBuilder<R = never> {
  /**
   * A source node reading `topics`, or every topic whose whole name matches a pattern (the topics that exist
   * when the application starts), forwarding decoded records to its children.
   */
  addSource(name: string, topics: SourceTopics | RegExp, options?: StreamSourceOptions): TopologyBuilder<R>
  /** A processor node made by `supplier` for each task, child of `parentNames` (sources or processors). */
  addProcessor(name: string, supplier: AnySupplier, ...parentNames: ReadonlyArray<string>): TopologyBuilder<R>
  /** A sink node writing to `topic` (a name, a Topic, or a topic chosen per record), child of `parentNames`. */
  addSink(
    name: string,
    topic: string | AnyTopic | TopicNameExtractor<unknown, unknown>,
    options: SinkOptions,
    ...parentNames: ReadonlyArray<string>
  ): TopologyBuilder<R>
  /** A state store per task, connected to `processorNames` (more can be connected later). */
  addStateStore(storeBuilder: StoreBuilder<unknown>, ...processorNames: ReadonlyArray<string>): TopologyBuilder<R>
  /** Gives `processorName` access to stores added with `addStateStore`. */
  connectProcessorAndStateStores(processorName: string, ...storeNames: ReadonlyArray<string>): TopologyBuilder<R>
  /**
   * A global store: every instance loads all partitions of `topic` through `sourceName` and the update
   * processor `processorName` (which writes the store; it has no children and cannot schedule punctuations).
   * The store has no changelog (its topic is its source of truth).
   */
  addGlobalStore(
    storeBuilder: StoreBuilder<unknown>,
    sourceName: string,
    topic: string | AnyTopic,
    options: SourceOptions,
    processorName: string,
    stateUpdateSupplier: AnySupplier
  ): TopologyBuilder<R>
  /**
   * A read-only store: per task, `processorName` writes the records of `topic` into it, and the topic itself
   * serves as its changelog (restored from before the task runs; no changelog topic is made). Other
   * processors read it through `connectProcessorAndStateStores`.
   */
  addReadOnlyStateStore(
    storeBuilder: StoreBuilder<unknown>,
    sourceName: string,
    topic: string | AnyTopic,
    options: SourceOptions,
    processorName: string,
    stateUpdateSupplier: AnySupplier
  ): TopologyBuilder<R>
  /** Validates and compiles everything added so far. */
  readonly build: Effect.Effect<Topology<R>, TopologyError>
}

const topicName = (t: string | AnyTopic) => (typeof t === "string" ? t : t.name)
const topicSerdes = (t: string | AnyTopic | undefined) =>
  t === undefined || typeof t === "string" ? { key: undefined, value: undefined } : { key: t.key, value: t.value }

/** A new, empty topology builder; `default.key.serde`/`default.value.serde` serve where no serde is given. */
export const make = <R = never>(config: BuilderConfig = {}): TopologyBuilder<R> => {
  const b = new InternalBuilder(config)
  // nodes of global stores: nothing may hang below them
  const globalNodes = new Set<string>()
  const supplierOf = (s: AnySupplier) => adapt(s as never, (name) => b.storeApi(name))

  /** The valid parents of `name`, recording a mistake for each invalid one. */
  const parents = (name: string, what: string, names: ReadonlyArray<string>): ReadonlyArray<string> => {
    if (names.length === 0) b.fail(`${what} ${name} must have at least one parent`)
    const valid: Array<string> = []
    for (const p of names) {
      const kind = b.kindOf(p)
      if (kind === undefined)
        b.fail(`Parent ${p} of ${what.toLowerCase()} ${name} is not added yet (add parents first)`)
      else if (kind === "sink")
        b.fail(`Parent ${p} of ${what.toLowerCase()} ${name} is a sink (sinks have no children)`)
      else if (globalNodes.has(p)) b.fail(`Parent ${p} of ${what.toLowerCase()} ${name} belongs to a global store`)
      else if (p === name) b.fail(`${what} ${name} cannot be its own parent`)
      else valid.push(p)
    }
    return valid
  }

  const addStore = (storeBuilder: StoreBuilder<unknown>, extra: { global?: boolean; restoreFrom?: string } = {}) =>
    b.addStore(storeDraft(storeBuilder, extra))

  const connect = (processor: string, store: string) => {
    if (b.kindOf(processor) !== "processor")
      b.fail(`State store ${store} is connected to unknown processor ${processor}`)
    else b.connectStore(processor, store)
  }

  const builder: TopologyBuilder<R> = {
    addSource: (name, topics, options = {}) => {
      const extra = { offsetReset: options.offsetReset, timestampExtractor: options.timestampExtractor }
      if (topics instanceof RegExp) {
        b.addPatternSource(name, topics, options.keySerde, options.valueSerde, extra)
        return builder
      }
      const list = (Array.isArray(topics) ? topics : [topics]) as ReadonlyArray<string | AnyTopic>
      const first = topicSerdes(list[0])
      b.addSource(
        name,
        list.map(topicName),
        options.keySerde ?? first.key,
        options.valueSerde ?? first.value,
        false,
        extra
      )
      return builder
    },
    addProcessor: (name, supplier, ...parentNames) => {
      b.addProcessor(name, supplierOf(supplier), parents(name, "Processor", parentNames))
      return builder
    },
    addSink: (name, topic, options, ...parentNames) => {
      const isTopic = typeof topic === "object" && topic !== null
      const serdes = topicSerdes(isTopic ? topic : undefined)
      b.addSink(
        name,
        isTopic ? topic.name : (topic as string | TopicNameExtractor<unknown, unknown>),
        parents(name, "Sink", parentNames),
        options.keySerde ?? serdes.key,
        options.valueSerde ?? serdes.value,
        options.partitioner
      )
      return builder
    },
    addStateStore: (storeBuilder, ...processorNames) => {
      addStore(storeBuilder)
      for (const p of processorNames) connect(p, storeBuilder.name)
      return builder
    },
    connectProcessorAndStateStores: (processorName, ...storeNames) => {
      if (storeNames.length === 0) b.fail(`connectProcessorAndStateStores(${processorName}) names no store`)
      for (const s of storeNames) connect(processorName, s)
      return builder
    },
    addGlobalStore: (storeBuilder, sourceName, topic, options, processorName, stateUpdateSupplier) => {
      const serdes = topicSerdes(topic)
      const name = topicName(topic)
      b.addSource(sourceName, [name], options.keySerde ?? serdes.key, options.valueSerde ?? serdes.value, true)
      addStore(storeBuilder, { global: true })
      b.addProcessor(processorName, supplierOf(stateUpdateSupplier), [sourceName], [storeBuilder.name])
      b.addGlobalStore(sourceName, processorName, name, storeBuilder.name)
      globalNodes.add(sourceName).add(processorName)
      return builder
    },
    addReadOnlyStateStore: (storeBuilder, sourceName, topic, options, processorName, stateUpdateSupplier) => {
      const serdes = topicSerdes(topic)
      const name = topicName(topic)
      b.addSource(sourceName, [name], options.keySerde ?? serdes.key, options.valueSerde ?? serdes.value)
      addStore(storeBuilder, { restoreFrom: name })
      b.addProcessor(processorName, supplierOf(stateUpdateSupplier), [sourceName], [storeBuilder.name])
      return builder
    },
    build: Effect.suspend(() => b.build<R>())
  }
  return builder
}
