/**
 * A stream of records (Kafka Streams' `KStream`). Every operation adds a named node to the builder's graph
 * and returns a new stream; nothing runs until the built topology is run. Stateless operations keep each
 * record's timestamp; key-changing ones (`map`, `flatMap`, `selectKey`, `groupBy`) make the next keyed
 * stateful operation repartition.
 */

import type { Effect } from "effect"
import { constructors } from "../internal/dsl/constructors.js"
import { addRepartition, addStore, type Position } from "../internal/dsl/graph.js"
import type { InternalBuilder } from "../internal/dsl/InternalBuilder.js"
import * as Joins from "../internal/dsl/joins.js"
import * as P from "../internal/dsl/statelessProcessors.js"
import { tableSource } from "../internal/dsl/tableProcessors.js"
import type { FixedKeyProcessorSupplier, ProcessorSupplier } from "../processor/api/Processor.js"
import { adapt } from "../processor/internal/adapt.js"
import type { KeyValue } from "../processor/Record.js"
import type { TopicNameExtractor } from "../topology/Topology.js"
import type { Joined, StreamJoined } from "./Joined.js"
import type { JoinWindows } from "./JoinWindows.js"
import type { KGroupedStream } from "./KGroupedStream.js"
import type { KTable } from "./KTable.js"
import type { AnySerde, Branched, Grouped, Materialized, Named, Printed, Produced, Repartitioned } from "./Options.js"
import type { GlobalKTable } from "./StreamsBuilder.js"

/** A topic to write to: a name and serdes (an `@eddy/core` `Topic`). */
export interface SinkTopic<K, V> {
  readonly name: string
  readonly key: { encode(a: K): Uint8Array | null }
  readonly value: { encode(a: V): Uint8Array | null }
}

/** A stream of keyed records. `R` is the services its Effect-returning functions may use. */
export class KStream<K, V, R = never> {
  /** @internal */
  constructor(readonly position: Position) {}

  private get b(): InternalBuilder {
    return this.position.builder
  }

  private next<K2, V2>(
    prefix: string,
    named: Named | undefined,
    supplier: Parameters<InternalBuilder["addProcessor"]>[1],
    changes: { keySerde?: AnySerde | undefined; valueSerde?: AnySerde | undefined; keyChanged?: boolean }
  ): KStream<K2, V2, R> {
    const name = named?.name ?? this.b.newName(prefix)
    this.b.addProcessor(name, supplier, [this.position.node])
    return constructors.kstream({
      builder: this.b,
      node: name,
      keySerde: "keySerde" in changes ? changes.keySerde : this.position.keySerde,
      valueSerde: "valueSerde" in changes ? changes.valueSerde : this.position.valueSerde,
      repartitionRequired: this.position.repartitionRequired || changes.keyChanged === true
    })
  }

  /** Stateless: keeps records for which `predicate` holds. */
  filter(predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V, R> {
    return this.next("KSTREAM-FILTER-", named, P.filter(predicate, true), {})
  }

  /** Stateless: drops records for which `predicate` holds. */
  filterNot(predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V, R> {
    return this.next("KSTREAM-FILTER-", named, P.filter(predicate, false), {})
  }

  /** Stateless, key-changing: a new key and value per record. */
  map<KR, VR>(mapper: (key: K, value: V) => KeyValue<KR, VR>, named?: Named): KStream<KR, VR, R> {
    return this.next("KSTREAM-MAP-", named, P.map(mapper), {
      keySerde: undefined,
      valueSerde: undefined,
      keyChanged: true
    })
  }

  /** Stateless: a new value per record (the key is kept, so no repartition follows). */
  mapValues<VR>(mapper: (value: V, key: K) => VR, named?: Named): KStream<K, VR, R> {
    return this.next("KSTREAM-MAPVALUES-", named, P.mapValues(mapper), { valueSerde: undefined })
  }

  /** Stateless, key-changing: a new key per record. */
  selectKey<KR>(mapper: (key: K, value: V) => KR, named?: Named): KStream<KR, V, R> {
    return this.next("KSTREAM-KEY-SELECT-", named, P.selectKey(mapper), { keySerde: undefined, keyChanged: true })
  }

  /** Stateless, key-changing: zero or more records per record. */
  flatMap<KR, VR>(mapper: (key: K, value: V) => Iterable<KeyValue<KR, VR>>, named?: Named): KStream<KR, VR, R> {
    return this.next("KSTREAM-FLATMAP-", named, P.flatMap(mapper), {
      keySerde: undefined,
      valueSerde: undefined,
      keyChanged: true
    })
  }

  /** Stateless: zero or more values per record, each with the record's key. */
  flatMapValues<VR>(mapper: (value: V, key: K) => Iterable<VR>, named?: Named): KStream<K, VR, R> {
    return this.next("KSTREAM-FLATMAPVALUES-", named, P.flatMapValues(mapper), { valueSerde: undefined })
  }

  /** Stateless: runs `action` on each record and passes it on. */
  peek(action: (key: K, value: V) => void, named?: Named): KStream<K, V, R> {
    return this.next("KSTREAM-PEEK-", named, P.peek(action), {})
  }

  /** Terminal: runs `action` on each record. */
  foreach(action: (key: K, value: V) => void, named?: Named): void {
    this.next("KSTREAM-FOREACH-", named, P.foreach(action), {})
  }

  /** Terminal: prints `[label]: key, value` per record (label: the processor's name unless given). */
  print(printed: Printed<K, V> = {}): void {
    const name = printed.name ?? this.b.newName("KSTREAM-PRINTER-")
    const label = printed.label ?? name
    const format = printed.mapper ?? ((k: K, v: V) => `${String(k)}, ${String(v)}`)
    const sink = printed.sink ?? ((line: string) => console.log(line))
    this.b.addProcessor(
      name,
      P.foreach((k: K, v: V) => sink(`[${label}]: ${format(k, v)}`)),
      [this.position.node]
    )
  }

  /** Stateless: the records of both streams (no order between them). */
  merge(other: KStream<K, V, R>, named?: Named): KStream<K, V, R> {
    const name = named?.name ?? this.b.newName("KSTREAM-MERGE-")
    this.b.addProcessor(name, P.passThrough, [this.position.node, other.position.node])
    const same = <A>(a: A | undefined, b: A | undefined) => (a === b ? a : undefined)
    return constructors.kstream({
      builder: this.b,
      node: name,
      keySerde: same(this.position.keySerde, other.position.keySerde),
      valueSerde: same(this.position.valueSerde, other.position.valueSerde),
      repartitionRequired: this.position.repartitionRequired || other.position.repartitionRequired
    })
  }

  /** Stateless: routes each record to the first branch whose predicate holds (see {@link BranchedKStream}). */
  split(named?: Named): BranchedKStream<K, V, R> {
    const name = named?.name ?? this.b.newName("KSTREAM-BRANCH-")
    return new BranchedKStream(this.position, name)
  }

  /** Terminal: writes records to a topic (its serdes), a topic chosen per record, or a topic name. */
  to(topic: SinkTopic<K, V> | string | TopicNameExtractor<K, V>, produced: Produced<K, V> = {}): void {
    const name = produced.name ?? this.b.newName("KSTREAM-SINK-")
    const isTopic = typeof topic === "object" && topic !== null
    const target = isTopic ? topic.name : (topic as string | TopicNameExtractor<unknown, unknown>)
    const keySerde = produced.keySerde ?? (isTopic ? (topic.key as AnySerde) : this.position.keySerde)
    const valueSerde = produced.valueSerde ?? (isTopic ? (topic.value as AnySerde) : this.position.valueSerde)
    this.b.addSink(name, target, [this.position.node], keySerde, valueSerde, produced.partitioner as never)
  }

  /** Writes records through a new repartition topic `<application.id>-<name>-repartition` and reads them back. */
  repartition(repartitioned: Repartitioned<K, V> = {}): KStream<K, V, R> {
    const name = repartitioned.name ?? this.b.newName("KSTREAM-REPARTITION-")
    const keySerde = repartitioned.keySerde ?? this.position.keySerde
    const valueSerde = repartitioned.valueSerde ?? this.position.valueSerde
    const source = addRepartition(this.position, {
      prefix: name,
      userNamed: repartitioned.name !== undefined,
      nullKeyFilter: false,
      keySerde,
      valueSerde,
      numberOfPartitions: repartitioned.numberOfPartitions,
      partitioner: repartitioned.partitioner as never
    })
    return constructors.kstream({ builder: this.b, node: source, keySerde, valueSerde, repartitionRequired: false })
  }

  /** Stateful: the stream as a table (latest value per key; a null value deletes). */
  toTable(named?: Named, materialized?: Materialized<K, V>): KTable<K, V, R> {
    const name = named?.name ?? this.b.newName("KSTREAM-TOTABLE-")
    const storeName = materialized?.storeName ?? this.b.newStoreName("KSTREAM-TOTABLE-")
    let parent = this.position.node
    const keySerde = materialized?.keySerde ?? this.position.keySerde
    const valueSerde = materialized?.valueSerde ?? this.position.valueSerde
    if (this.position.repartitionRequired) {
      parent = addRepartition(this.position, {
        prefix: name,
        userNamed: named?.name !== undefined,
        nullKeyFilter: true,
        keySerde,
        valueSerde
      })
    }
    addStore(this.b, storeName, materialized as never, keySerde, valueSerde, `toTable ${name}`)
    this.b.addProcessor(name, tableSource(storeName), [parent], [storeName])
    return constructors.ktable(
      { builder: this.b, node: name, keySerde, valueSerde, repartitionRequired: false },
      storeName
    )
  }

  /** Groups by the current key (repartitions first if a key-changing operation came before). */
  groupByKey(grouped: Grouped<K, V> = {}): KGroupedStream<K, V, R> {
    return constructors.kgroupedStream(
      {
        ...this.position,
        keySerde: grouped.keySerde ?? this.position.keySerde,
        valueSerde: grouped.valueSerde ?? this.position.valueSerde
      },
      grouped.name
    )
  }

  /** Groups by a new key (always repartitions before the aggregation). */
  groupBy<KR>(selector: (key: K, value: V) => KR, grouped: Grouped<KR, V> = {}): KGroupedStream<KR, V, R> {
    const selected = this.next<KR, V>("KSTREAM-KEY-SELECT-", { name: grouped.name }, P.selectKey(selector), {
      keySerde: undefined,
      keyChanged: true
    })
    return selected.groupByKey(grouped)
  }

  /**
   * Stateful inner join: with another stream, records of either side within `windows` of each other
   * (output timestamp: the larger of the two); with a table, each record with the table's row for its key
   * (only the stream triggers); with a global table, each record with the row for `keySelector`'s key.
   */
  join<VO, VR>(
    other: KStream<K, VO, R>,
    joiner: (value: V, otherValue: NoInfer<VO>, key: K) => VR,
    windows: JoinWindows,
    streamJoined?: StreamJoined<K, V, VO>
  ): KStream<K, VR, R>
  join<VT, VR>(
    table: KTable<K, VT, R>,
    joiner: (value: V, tableValue: NoInfer<VT>, key: K) => VR,
    joined?: Joined<K, V, VT>
  ): KStream<K, VR, R>
  join<KG, VG, VR>(
    globalTable: GlobalKTable<KG, VG>,
    keySelector: (key: K, value: V) => KG,
    joiner: (value: V, tableValue: NoInfer<VG>, key: K) => VR,
    named?: Named
  ): KStream<K, VR, R>
  join(other: unknown, a: unknown, b?: unknown, c?: unknown): KStream<K, unknown, R> {
    return this.joinWith("inner", other, a, b, c)
  }

  /**
   * Stateful left join: as `join`, and a record without a partner is joined with null (for a stream-stream
   * join only once its window and grace closed).
   */
  leftJoin<VO, VR>(
    other: KStream<K, VO, R>,
    joiner: (value: V, otherValue: NoInfer<VO> | null, key: K) => VR,
    windows: JoinWindows,
    streamJoined?: StreamJoined<K, V, VO>
  ): KStream<K, VR, R>
  leftJoin<VT, VR>(
    table: KTable<K, VT, R>,
    joiner: (value: V, tableValue: NoInfer<VT> | null, key: K) => VR,
    joined?: Joined<K, V, VT>
  ): KStream<K, VR, R>
  leftJoin<KG, VG, VR>(
    globalTable: GlobalKTable<KG, VG>,
    keySelector: (key: K, value: V) => KG,
    joiner: (value: V, tableValue: NoInfer<VG> | null, key: K) => VR,
    named?: Named
  ): KStream<K, VR, R>
  leftJoin(other: unknown, a: unknown, b?: unknown, c?: unknown): KStream<K, unknown, R> {
    return this.joinWith("left", other, a, b, c)
  }

  /** Stateful: the stream-table `join` with a joiner returning an Effect (user code calling services). */
  joinEffect<VT, VR, E>(
    table: KTable<K, VT, R>,
    joiner: (value: V, tableValue: NoInfer<VT>, key: K) => Effect.Effect<VR, E, R>,
    joined: Joined<K, V, VT> = {}
  ): KStream<K, VR, R> {
    return constructors.kstream(
      Joins.streamTableJoin(this.position, table, joiner as never, joined as never, false, true)
    )
  }

  /** Stateful: the stream-table `leftJoin` with a joiner returning an Effect. */
  leftJoinEffect<VT, VR, E>(
    table: KTable<K, VT, R>,
    joiner: (value: V, tableValue: NoInfer<VT> | null, key: K) => Effect.Effect<VR, E, R>,
    joined: Joined<K, V, VT> = {}
  ): KStream<K, VR, R> {
    return constructors.kstream(
      Joins.streamTableJoin(this.position, table, joiner as never, joined as never, true, true)
    )
  }

  /** Stateful outer join of two streams: unmatched records of either side, after their window closed, with null. */
  outerJoin<VO, VR>(
    other: KStream<K, VO, R>,
    joiner: (value: V | null, otherValue: NoInfer<VO> | null, key: K) => VR,
    windows: JoinWindows,
    streamJoined: StreamJoined<K, V, VO> = {}
  ): KStream<K, VR, R> {
    return constructors.kstream(
      Joins.streamStreamJoin(this.position, other.position, joiner as never, windows, streamJoined, "outer")
    )
  }

  private joinWith(kind: "inner" | "left", other: unknown, a: unknown, b: unknown, c: unknown): KStream<K, unknown, R> {
    const joiner = a as Parameters<typeof Joins.streamTableJoin>[2]
    if (other instanceof KStream) {
      const position = Joins.streamStreamJoin(
        this.position,
        other.position,
        joiner,
        b as never,
        (c ?? {}) as never,
        kind
      )
      return constructors.kstream(position)
    }
    if (typeof other === "object" && other !== null && "position" in other) {
      const table = other as KTable<K, unknown, R>
      return constructors.kstream(
        Joins.streamTableJoin(this.position, table, joiner, (b ?? {}) as never, kind === "left")
      )
    }
    const global = other as GlobalKTable<unknown, unknown>
    return constructors.kstream(
      Joins.streamGlobalTableJoin(
        this.position,
        global.queryableStoreName,
        a as never,
        b as never,
        c as never,
        kind === "left"
      )
    )
  }

  /** Stateless: a new value per record from an Effect (user code calling services). */
  mapValuesEffect<VR, E>(mapper: (value: V, key: K) => Effect.Effect<VR, E, R>, named?: Named): KStream<K, VR, R> {
    return this.next("KSTREAM-MAPVALUES-", named, P.mapValuesEffect(mapper), { valueSerde: undefined })
  }

  /** Stateless, key-changing: a new key and value per record from an Effect. */
  mapEffect<KR, VR, E>(
    mapper: (key: K, value: V) => Effect.Effect<KeyValue<KR, VR>, E, R>,
    named?: Named
  ): KStream<KR, VR, R> {
    return this.next("KSTREAM-MAP-", named, P.mapEffect(mapper), {
      keySerde: undefined,
      valueSerde: undefined,
      keyChanged: true
    })
  }

  /** Stateless: keeps records for which the Effect answers true. */
  filterEffect<E>(predicate: (key: K, value: V) => Effect.Effect<boolean, E, R>, named?: Named): KStream<K, V, R> {
    return this.next("KSTREAM-FILTER-", named, P.filterEffect(predicate), {})
  }

  /** Stateless: zero or more values per record from an Effect. */
  flatMapValuesEffect<VR, E>(
    mapper: (value: V, key: K) => Effect.Effect<Iterable<VR>, E, R>,
    named?: Named
  ): KStream<K, VR, R> {
    return this.next("KSTREAM-FLATMAPVALUES-", named, P.flatMapValuesEffect(mapper), { valueSerde: undefined })
  }

  /** Stateless: runs an Effect on each record and passes the record on. */
  peekEffect<E>(action: (key: K, value: V) => Effect.Effect<unknown, E, R>, named?: Named): KStream<K, V, R> {
    return this.next("KSTREAM-PEEK-", named, P.peekEffect(action), {})
  }

  /** Terminal: runs an Effect on each record. */
  foreachEffect<E>(action: (key: K, value: V) => Effect.Effect<unknown, E, R>, named?: Named): void {
    this.next("KSTREAM-FOREACH-", named, P.foreachEffect(action), {})
  }

  /**
   * Processor API, key-changing: runs a processor per task on each record, with access to the stores named
   * (added with `StreamsBuilder.addStateStore`); the next keyed stateful operation repartitions.
   */
  process<KR, VR>(
    supplier: ProcessorSupplier<K, V, KR, VR>,
    ...stores: ReadonlyArray<string> | [Named, ...ReadonlyArray<string>]
  ): KStream<KR, VR, R> {
    return addProcessorApiNode(this.position, "KSTREAM-PROCESSOR-", supplier as never, stores, true)
  }

  /** Processor API, key-preserving: a fixed-key processor per task (no repartition follows). */
  processValues<VR>(
    supplier: FixedKeyProcessorSupplier<K, V, VR>,
    ...stores: ReadonlyArray<string> | [Named, ...ReadonlyArray<string>]
  ): KStream<K, VR, R> {
    return addProcessorApiNode(this.position, "KSTREAM-PROCESSVALUES-", supplier as never, stores, false)
  }
}

/** Adds a Processor-API node below `position` with its stores (the first argument may name it). */
const addProcessorApiNode = <K, V, R>(
  position: Position,
  prefix: string,
  supplier: ProcessorSupplier<unknown, unknown>,
  args: ReadonlyArray<string | Named>,
  keyChanging: boolean
): KStream<K, V, R> => {
  const b = position.builder
  const named = typeof args[0] === "object" ? args[0] : undefined
  const stores = args.filter((a): a is string => typeof a === "string")
  const name = named?.name ?? b.newName(prefix)
  b.addProcessor(
    name,
    adapt(supplier, (s) => b.storeApi(s)),
    [position.node],
    stores
  )
  return constructors.kstream({
    builder: b,
    node: name,
    keySerde: keyChanging ? undefined : position.keySerde,
    valueSerde: undefined,
    repartitionRequired: position.repartitionRequired || keyChanging
  })
}

/** The branches of `split`: each record goes to the first branch whose predicate holds. */
export class BranchedKStream<K, V, R> {
  private readonly branches: Array<{ predicate: (key: K, value: V) => boolean; child: string }> = []
  private readonly result: Record<string, KStream<K, V, R>> = {}
  private defaultChild: string | undefined = undefined

  /** @internal */
  constructor(
    private readonly position: Position,
    private readonly splitName: string
  ) {
    const b = position.builder
    b.addProcessor(splitName, (ctx) => P.branch(this.branches, this.defaultChild)(ctx), [position.node])
  }

  private add(childName: string, branched: Branched<KStream<K, V, R>>): void {
    this.position.builder.addProcessor(childName, P.passThrough, [this.splitName])
    const stream = constructors.kstream({ ...this.position, node: childName })
    const chained = branched.chain === undefined ? stream : branched.chain(stream)
    if (chained !== undefined) this.result[childName] = chained
  }

  /** A branch for records matching `predicate` (named `<split name><name or index from 1>`). */
  branch(predicate: (key: K, value: V) => boolean, branched: Branched<KStream<K, V, R>> = {}): this {
    const child = `${this.splitName}${branched.name ?? this.branches.length + 1}`
    this.branches.push({ predicate, child })
    this.add(child, branched)
    return this
  }

  /** The branch of records no predicate matched (named `<split name><name or 0>`); ends the split. */
  defaultBranch(branched: Branched<KStream<K, V, R>> = {}): Record<string, KStream<K, V, R>> {
    const child = `${this.splitName}${branched.name ?? 0}`
    this.defaultChild = child
    this.add(child, branched)
    return this.result
  }

  /** Ends the split: records no predicate matched are dropped. */
  noDefaultBranch(): Record<string, KStream<K, V, R>> {
    return this.result
  }
}

constructors.kstream = (position) => new KStream(position)
