/**
 * A grouped stream (Kafka Streams' `KGroupedStream`): records grouped by key, ready for a stateful
 * aggregation into a table. If a key-changing operation came before, the aggregation reads from a
 * repartition topic `<application.id>-<grouped name or store name>-repartition`.
 */
import { constructors } from "../internal/dsl/constructors.js"
import type { Position } from "../internal/dsl/graph.js"
import { addRepartition, addStore } from "../internal/dsl/graph.js"
import { streamAggregate, streamReduce } from "../internal/dsl/tableProcessors.js"
import type { ProcessorSupplier } from "../processor/Processor.js"
import * as Serdes from "../Serdes.js"
import { CogroupedKStream, type CogroupInput } from "./CogroupedKStream.js"
import type { KTable } from "./KTable.js"
import type { Materialized, Named, Serde } from "./Options.js"
import { SessionWindowedKStream, TimeWindowedKStream } from "./TimeWindowedKStream.js"
import type { SessionWindows, SlidingWindows, TimeWindows } from "./Windows.js"

/** Records grouped by key. */
export class KGroupedStream<K, V, R = never> {
  /** @internal */
  constructor(
    private readonly position: Position,
    private readonly groupedName: string | undefined
  ) {}

  private aggregateWith<VA>(
    prefix: string,
    materialized: Materialized<K, VA> | undefined,
    named: Named | undefined,
    valueSerde: Serde<VA> | undefined,
    supplier: (storeName: string) => ProcessorSupplier
  ): KTable<K, VA, R> {
    const b = this.position.builder
    const storeName = materialized?.storeName ?? b.newStoreName(prefix)
    const name = named?.name ?? b.newName(prefix)
    let parent = this.position.node
    if (this.position.repartitionRequired) {
      parent = addRepartition(this.position, {
        prefix: this.groupedName ?? storeName,
        userNamed: this.groupedName !== undefined,
        nullKeyFilter: true,
        keySerde: this.position.keySerde,
        valueSerde: this.position.valueSerde
      })
    }
    const keySerde = materialized?.keySerde ?? this.position.keySerde
    const outSerde = materialized?.valueSerde ?? valueSerde
    addStore(b, storeName, materialized as never, keySerde, outSerde, `aggregation ${name}`)
    b.addProcessor(name, supplier(storeName), [parent], [storeName])
    return constructors.ktable(
      { builder: b, node: name, keySerde, valueSerde: outSerde, repartitionRequired: false },
      storeName
    )
  }

  /** Stateful: the number of records per key (a `Long`-serialized table). */
  count(materialized?: Materialized<K, number>, named?: Named): KTable<K, number, R> {
    return this.aggregateWith<number>("KSTREAM-AGGREGATE-", materialized, named, Serdes.long, (store) =>
      streamAggregate(
        store,
        () => 0,
        (_k, _v, n: number) => n + 1
      )
    )
  }

  /** Stateful: combines each key's values with `reducer` (the first value starts the aggregate). */
  reduce(reducer: (aggregate: V, value: V) => V, materialized?: Materialized<K, V>, named?: Named): KTable<K, V, R> {
    return this.aggregateWith<V>(
      "KSTREAM-REDUCE-",
      materialized,
      named,
      this.position.valueSerde as Serde<V> | undefined,
      (store) => streamReduce(store, reducer)
    )
  }

  /** Stateful: folds each key's values into an aggregate started by `initializer`. */
  aggregate<VA>(
    initializer: () => VA,
    aggregator: (key: K, value: V, aggregate: VA) => VA,
    materialized?: Materialized<K, VA>,
    named?: Named
  ): KTable<K, VA, R> {
    return this.aggregateWith<VA>("KSTREAM-AGGREGATE-", materialized, named, undefined, (store) =>
      streamAggregate(store, initializer, aggregator)
    )
  }

  /** Cuts the grouped stream into time windows (tumbling, hopping) or sliding windows for a windowed aggregation. */
  windowedBy(windows: TimeWindows | SlidingWindows): TimeWindowedKStream<K, V, R>
  /** Cuts the grouped stream into session windows for a session-windowed aggregation. */
  windowedBy(windows: SessionWindows): SessionWindowedKStream<K, V, R>
  windowedBy(
    windows: TimeWindows | SlidingWindows | SessionWindows
  ): TimeWindowedKStream<K, V, R> | SessionWindowedKStream<K, V, R> {
    return windows._tag === "SessionWindows"
      ? new SessionWindowedKStream(this.position, this.groupedName, windows)
      : new TimeWindowedKStream(this.position, this.groupedName, windows)
  }

  /** Starts a cogroup: this stream's values folded by `aggregator` into an aggregate shared with other streams. */
  cogroup<VOut>(aggregator: (key: K, value: V, aggregate: VOut) => VOut): CogroupedKStream<K, VOut, R> {
    return new CogroupedKStream([this.cogroupInput(aggregator)])
  }

  /** @internal this stream as an input of a cogroup */
  cogroupInput<VOut>(aggregator: (key: K, value: V, aggregate: VOut) => VOut): CogroupInput {
    return { position: this.position, groupedName: this.groupedName, aggregator }
  }
}

constructors.kgroupedStream = (position, name) => new KGroupedStream(position, name)
