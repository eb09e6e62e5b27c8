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
import type { KTable } from "./KTable.js"
import type { Materialized, Named, Serde } from "./Options.js"

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
}

constructors.kgroupedStream = (position, name) => new KGroupedStream(position, name)
