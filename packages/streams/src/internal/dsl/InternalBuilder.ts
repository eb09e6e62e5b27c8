/**
 * The mutable graph behind a `StreamsBuilder`: the DSL adds named nodes, stores and internal topics here as
 * it is called, allocating Kafka's generated names (`KSTREAM-FILTER-0000000001`) from one counter, and
 * `build` validates the graph and compiles it to a `Topology` (serdes resolved, sub-topologies split).
 *
 * Invariants: names are allocated in the order Kafka allocates them, so a topology prints the same names;
 * a mistake found while building is recorded and reported by `build`, never thrown from a DSL call.
 */
import { Either } from "effect"
import type { AnySerde, DslStoreType, KeyValueStoreSupplier, StreamPartitioner } from "../../dsl/Options.js"
import type { ProcessorSupplier } from "../../processor/Processor.js"
import type { TimestampExtractor } from "../../processor/TimestampExtractor.js"
import type { StoreBuilder } from "../../state/StoreBuilder.js"
import type { KeyValueBytesStoreSupplier } from "../../state/Stores.js"
import * as Topology from "../../topology/Topology.js"
import { TopologyError } from "../../topology/TopologyError.js"
import type { StoreApi } from "../store/typedStores.js"

/** Defaults applied where the DSL has no serde. */
export interface BuilderConfig {
  readonly "default.key.serde"?: AnySerde | undefined
  readonly "default.value.serde"?: AnySerde | undefined
}

interface SourceDraft {
  readonly kind: "source"
  readonly name: string
  readonly topics: ReadonlyArray<string>
  readonly keySerde: AnySerde | undefined
  readonly valueSerde: AnySerde | undefined
  readonly children: Array<string>
  readonly global: boolean
  readonly pattern?: RegExp | undefined
  readonly offsetReset?: "earliest" | "latest" | undefined
  readonly timestampExtractor?: TimestampExtractor | undefined
}

interface ProcessorDraft {
  readonly kind: "processor"
  readonly name: string
  readonly supplier: ProcessorSupplier
  readonly stores: Array<string>
  readonly parents: ReadonlyArray<string>
  readonly children: Array<string>
}

interface SinkDraft {
  readonly kind: "sink"
  readonly name: string
  readonly topic: string | Topology.TopicNameExtractor<unknown, unknown>
  readonly keySerde: AnySerde | undefined
  readonly valueSerde: AnySerde | undefined
  readonly partitioner: StreamPartitioner<unknown, unknown> | undefined
  readonly parents: ReadonlyArray<string>
}

type Draft = SourceDraft | ProcessorDraft | SinkDraft

/** A store as the DSL declares it (serdes may still come from the defaults). */
export interface StoreDraft {
  readonly name: string
  readonly keySerde: AnySerde | undefined
  readonly valueSerde: AnySerde | undefined
  readonly loggingEnabled: boolean
  readonly cachingEnabled: boolean
  readonly logConfig: Readonly<Record<string, string>>
  readonly supplier: KeyValueStoreSupplier | KeyValueBytesStoreSupplier | undefined
  readonly storeType: DslStoreType | undefined
  readonly global: boolean
  /** A window or session store (absent for key-value stores). */
  readonly windowed?: Topology.WindowedStoreOptions | undefined
  /** What the store is for, named in the missing-serde error. */
  readonly usedBy: string
  /** Opens a store of another kind (see `StoreSpec.open`). */
  readonly open?: Topology.StoreSpec["open"]
  /** A Processor-API store (from a `StoreBuilder`): its typed interface; it must be connected to a processor. */
  readonly api?: StoreApi | undefined
  /** A read-only store's source topic (its changelog). */
  readonly restoreFrom?: string | undefined
}

/** The store a Processor-API `StoreBuilder` describes (no record cache; a read-only store has no changelog). */
export const storeDraft = (
  storeBuilder: StoreBuilder<unknown>,
  extra: { readonly global?: boolean; readonly restoreFrom?: string } = {}
): StoreDraft => ({
  name: storeBuilder.name,
  keySerde: storeBuilder.keySerde,
  valueSerde: storeBuilder.valueSerde,
  loggingEnabled: storeBuilder.loggingEnabled && extra.restoreFrom === undefined,
  cachingEnabled: false,
  logConfig: storeBuilder.logConfig,
  supplier: storeBuilder.supplier,
  storeType: undefined,
  global: extra.global ?? false,
  usedBy: `state store ${storeBuilder.name}`,
  api: storeBuilder.api,
  restoreFrom: extra.restoreFrom
})

const pad = (n: number) => String(n).padStart(10, "0")

/** The graph a StreamsBuilder grows. */
export class InternalBuilder {
  private index = 0
  private readonly nodes = new Map<string, Draft>()
  private readonly stores = new Map<string, StoreDraft>()
  private readonly internalTopics = new Map<string, Topology.InternalTopic>()
  private readonly sourceTopics = new Map<string, string>()
  private readonly globalStores: Array<{ source: string; processor: string; topic: string; store: string }> = []
  private readonly errors: Array<string> = []
  private readonly copartitionGroups: Array<ReadonlyArray<string>> = []

  constructor(readonly config: BuilderConfig) {}

  /** A generated processor name: `<prefix><10-digit index>`. */
  newName(prefix: string): string {
    return `${prefix}${pad(this.index++)}`
  }

  /** A generated store name: `<prefix>STATE-STORE-<10-digit index>`. */
  newStoreName(prefix: string): string {
    return `${prefix}STATE-STORE-${pad(this.index++)}`
  }

  /** Records a build error reported by `build`. */
  fail(message: string): void {
    this.errors.push(message)
  }

  private addNode(node: Draft): void {
    if (this.nodes.has(node.name)) this.fail(`Processor ${node.name} is already added (names must be unique)`)
    this.nodes.set(node.name, node)
    if (node.kind !== "source") {
      for (const p of node.parents) {
        const parent = this.nodes.get(p)
        if (parent === undefined || parent.kind === "sink")
          this.fail(`Parent ${p} of ${node.name} is not a source or processor`)
        else parent.children.push(node.name)
      }
    }
  }

  addSource(
    name: string,
    topics: ReadonlyArray<string>,
    keySerde: AnySerde | undefined,
    valueSerde: AnySerde | undefined,
    global = false,
    extra: {
      readonly offsetReset?: "earliest" | "latest" | undefined
      readonly timestampExtractor?: TimestampExtractor | undefined
    } = {}
  ): void {
    if (topics.length === 0) this.fail(`Source ${name} reads no topic`)
    for (const t of topics) {
      if (t === "") this.fail(`Source ${name} has an empty topic name`)
      const other = this.sourceTopics.get(t)
      if (other !== undefined) this.fail(`Topic ${t} has already been registered by another source (${other})`)
      this.sourceTopics.set(t, name)
    }
    this.addNode({ kind: "source", name, topics, keySerde, valueSerde, children: [], global, ...extra })
  }

  /** A source reading every topic whose name matches `pattern` (resolved when the application starts). */
  addPatternSource(
    name: string,
    pattern: RegExp,
    keySerde: AnySerde | undefined,
    valueSerde: AnySerde | undefined,
    extra: {
      readonly offsetReset?: "earliest" | "latest" | undefined
      readonly timestampExtractor?: TimestampExtractor | undefined
    } = {}
  ): void {
    this.addNode({
      kind: "source",
      name,
      topics: [],
      keySerde,
      valueSerde,
      children: [],
      global: false,
      pattern,
      ...extra
    })
  }

  addProcessor(
    name: string,
    supplier: ProcessorSupplier,
    parents: ReadonlyArray<string>,
    stores: ReadonlyArray<string> = []
  ) {
    this.addNode({ kind: "processor", name, supplier, stores: [...stores], parents, children: [] })
  }

  addSink(
    name: string,
    topic: string | Topology.TopicNameExtractor<unknown, unknown>,
    parents: ReadonlyArray<string>,
    keySerde: AnySerde | undefined,
    valueSerde: AnySerde | undefined,
    partitioner: StreamPartitioner<unknown, unknown> | undefined
  ): void {
    if (typeof topic === "string" && topic === "") this.fail(`Sink ${name} has no topic (a sink to nothing)`)
    if (topic === undefined || topic === null) this.fail(`Sink ${name} has no topic (a sink to nothing)`)
    this.addNode({ kind: "sink", name, topic, keySerde, valueSerde, partitioner, parents })
  }

  addStore(store: StoreDraft): void {
    if (this.stores.has(store.name))
      this.fail(`State store ${store.name} is already added (store names must be unique)`)
    this.stores.set(store.name, store)
  }

  /** The typed interface of a Processor-API store (undefined for DSL stores). */
  storeApi(name: string): StoreApi | undefined {
    return this.stores.get(name)?.api
  }

  /** True when `name` is a node (source, processor or sink) already added. */
  kindOf(name: string): Draft["kind"] | undefined {
    return this.nodes.get(name)?.kind
  }

  connectStore(processor: string, store: string): void {
    const node = this.nodes.get(processor)
    if (node?.kind === "processor" && !node.stores.includes(store)) node.stores.push(store)
  }

  addInternalTopic(topic: Topology.InternalTopic): void {
    if (this.internalTopics.has(topic.name))
      this.fail(`Internal topic ${topic.name} is already used (name the operation)`)
    this.internalTopics.set(topic.name, topic)
  }

  addGlobalStore(source: string, processor: string, topic: string, store: string): void {
    this.globalStores.push({ source, processor, topic, store })
  }

  /** Source topics feeding `node` (walking parents up to the sources). */
  sourceTopicsOf(node: string): Array<string> {
    const out = new Set<string>()
    const seen = new Set<string>()
    const visit = (name: string) => {
      if (seen.has(name)) return
      seen.add(name)
      const n = this.nodes.get(name)
      if (n === undefined || n.kind === "sink") return
      if (n.kind === "source") for (const t of n.topics) out.add(t)
      else for (const p of n.parents) visit(p)
    }
    visit(node)
    return [...out]
  }

  /** Requires the source topics of `nodes` to be co-partitioned (a join's inputs; checked at start). */
  addCopartitionGroup(nodes: ReadonlyArray<string>): void {
    this.copartitionGroups.push(nodes)
  }

  /** True when the store `name` is of another kind (join windows, versioned), opened through `StoreSpec.open`. */
  hasCustomStore(name: string): boolean {
    return this.stores.get(name)?.open !== undefined
  }

  /** Validates the graph and compiles it. */
  build<R>(): Either.Either<Topology.Topology<R>, TopologyError> {
    const errors = [...this.errors]
    const keyDefault = this.config["default.key.serde"]
    const valueDefault = this.config["default.value.serde"]
    const serde = (s: AnySerde | undefined, side: "key" | "value", what: string): AnySerde => {
      const resolved = s ?? (side === "key" ? keyDefault : valueDefault)
      if (resolved !== undefined) return resolved
      errors.push(
        `No ${side} serde for ${what}: give one (Topic, Consumed, Produced, Grouped, Materialized or Repartitioned) or set default.${side}.serde`
      )
      return { encode: () => null, decode: () => null }
    }
    for (const n of this.nodes.values()) {
      if (n.kind !== "source" || n.pattern !== undefined) continue
      for (const p of this.nodes.values()) {
        if (p.kind === "source" && p.pattern !== undefined) {
          const t = n.topics.find((topic) => Topology.matchesPattern(p.pattern!, topic))
          if (t !== undefined)
            errors.push(
              `Pattern ${p.pattern.source} of source ${p.name} matches topic ${t}, already registered by source ${n.name}`
            )
        }
      }
    }
    if (![...this.nodes.values()].some((n) => n.kind === "source"))
      errors.push("Topology has no source: add a stream or table")
    const nodes = new Map<string, Topology.Node>()
    for (const n of this.nodes.values()) {
      if (n.kind === "source") {
        const what = `source ${n.name} (topics ${n.topics.join(", ")})`
        nodes.set(n.name, {
          ...n,
          keySerde: serde(n.keySerde, "key", what),
          valueSerde: serde(n.valueSerde, "value", what)
        })
      } else if (n.kind === "sink") {
        const what = `sink ${n.name}`
        nodes.set(n.name, {
          ...n,
          keySerde: serde(n.keySerde, "key", what),
          valueSerde: serde(n.valueSerde, "value", what)
        })
      } else nodes.set(n.name, n)
      if (n.kind === "processor") {
        for (const s of n.stores) if (!this.stores.has(s)) errors.push(`Processor ${n.name} uses unknown store ${s}`)
      }
    }
    const stores = new Map<string, Topology.StoreSpec>()
    for (const s of this.stores.values()) {
      const what = `store ${s.name} (${s.usedBy})`
      stores.set(s.name, {
        name: s.name,
        keySerde: serde(s.keySerde, "key", what),
        valueSerde: serde(s.valueSerde, "value", what),
        loggingEnabled: s.loggingEnabled && !s.global,
        cachingEnabled: s.cachingEnabled,
        logConfig: s.logConfig,
        supplier: s.supplier,
        storeType: s.storeType,
        global: s.global,
        open: s.open,
        restoreFrom: s.restoreFrom,
        windowed: s.windowed
      })
      if (
        s.api !== undefined &&
        !s.global &&
        ![...this.nodes.values()].some((n) => n.kind === "processor" && n.stores.includes(s.name))
      )
        errors.push(
          `State store ${s.name} is not connected to any processor (name it in addStateStore, connectProcessorAndStateStores or process)`
        )
    }
    if (errors.length > 0) return Either.left(new TopologyError({ message: errors.join("; "), errors }))
    const internalTopics = new Map(this.internalTopics)
    for (const s of stores.values()) {
      if (!s.loggingEnabled) continue
      const name = Topology.changelogTopicName(s.name)
      internalTopics.set(name, {
        name,
        kind: "changelog",
        numberOfPartitions: undefined,
        configs: { "cleanup.policy": "compact", ...s.logConfig }
      })
    }
    const { subtopologies, globalStores } = this.split()
    const copartitionGroups = this.copartitionGroups.map((g) => [...new Set(g.flatMap((n) => this.sourceTopicsOf(n)))])
    return Either.right(
      Topology.make<R>({ nodes, stores, internalTopics, subtopologies, globalStores, copartitionGroups })
    )
  }

  /** Splits nodes into sub-topologies: connected by edges or a shared store, numbered by sorted source name. */
  private split(): { subtopologies: Array<Topology.Subtopology>; globalStores: Array<Topology.GlobalStore> } {
    const root = new Map<string, string>()
    const find = (x: string): string => {
      let r = x
      while (root.get(r) !== r) r = root.get(r)!
      root.set(x, r)
      return r
    }
    const union = (a: string, b: string) => root.set(find(a), find(b))
    for (const name of this.nodes.keys()) root.set(name, name)
    const storeOwner = new Map<string, string>()
    for (const n of this.nodes.values()) {
      if (n.kind !== "source") for (const p of n.parents) union(n.name, p)
      if (n.kind === "processor") {
        for (const s of n.stores) {
          const owner = storeOwner.get(s)
          if (owner === undefined) storeOwner.set(s, n.name)
          else union(n.name, owner)
        }
      }
    }
    const globalSources = new Set(this.globalStores.map((g) => g.source))
    const sources = [...this.nodes.values()].filter((n): n is SourceDraft => n.kind === "source")
    sources.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    const groupId = new Map<string, number>()
    for (const s of sources) if (!groupId.has(find(s.name))) groupId.set(find(s.name), groupId.size)
    const subtopologies: Array<Topology.Subtopology> = []
    const globalStores: Array<Topology.GlobalStore> = []
    for (const [r, id] of groupId) {
      const members = [...this.nodes.values()].filter((n) => find(n.name) === r)
      const srcs = members.filter((n): n is SourceDraft => n.kind === "source")
      if (srcs.some((s) => globalSources.has(s.name))) {
        const g = this.globalStores.find((x) => find(x.source) === r)!
        globalStores.push({ id, ...g })
        continue
      }
      subtopologies.push({
        id,
        nodes: members.map((n) => n.name),
        sources: srcs.map((s) => s.name),
        sourceTopics: srcs.flatMap((s) => s.topics),
        stores: [...new Set(members.flatMap((n) => (n.kind === "processor" ? n.stores : [])))]
      })
    }
    return { subtopologies, globalStores }
  }
}
