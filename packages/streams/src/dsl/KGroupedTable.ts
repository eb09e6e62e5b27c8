/**
 * A re-grouped table (Kafka Streams' `KGroupedTable`): each change of the source table arrives through the
 * repartition topic `<application.id>-<name>-repartition` as a value to subtract from its old group and a
 * value to add to its new group, so an aggregation needs an adder and a subtractor.
 */

import { changeSerde } from "../internal/dsl/changeSerde.js"
import { constructors } from "../internal/dsl/constructors.js"
import type { Position } from "../internal/dsl/graph.js"
import { addStore, repartitionConfigs } from "../internal/dsl/graph.js"
import { tableAggregate } from "../internal/dsl/tableProcessors.js"
import * as Serdes from "../Serdes.js"
import type { KTable } from "./KTable.js"
import type { Materialized, Named, Serde } from "./Options.js"

/** Table rows grouped by a new key. */
export class KGroupedTable<K, V, R = never> {
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
    initializer: (() => VA) | undefined,
    adder: (key: K, value: V, agg: VA) => VA,
    subtractor: (key: K, value: V, agg: VA) => VA
  ): KTable<K, VA, R> {
    const b = this.position.builder
    const storeName = materialized?.storeName ?? b.newStoreName(prefix)
    const sink = named?.name !== undefined ? `${named.name}-sink` : b.newName("KSTREAM-SINK-")
    const source = named?.name !== undefined ? `${named.name}-source` : b.newName("KSTREAM-SOURCE-")
    const name = named?.name ?? b.newName(prefix)
    const topic = `${this.groupedName ?? storeName}-repartition`
    const keySerde = this.position.keySerde
    const groupedValue = this.position.valueSerde ?? b.config["default.value.serde"]
    if (groupedValue === undefined) {
      b.fail(
        `No value serde for the repartition topic ${topic} of ${name}: give one in Grouped or set default.value.serde`
      )
    }
    const repartitionValue = groupedValue === undefined ? undefined : changeSerde(groupedValue)
    b.addInternalTopic({ name: topic, kind: "repartition", numberOfPartitions: undefined, configs: repartitionConfigs })
    b.addSink(sink, topic, [this.position.node], keySerde, repartitionValue as never, undefined)
    b.addSource(source, [topic], keySerde, repartitionValue as never)
    const storeKey = materialized?.keySerde ?? keySerde
    const outSerde = materialized?.valueSerde ?? valueSerde
    addStore(b, storeName, materialized as never, storeKey, outSerde, `aggregation ${name}`)
    b.addProcessor(
      name,
      tableAggregate(storeName, initializer, adder as never, subtractor as never),
      [source],
      [storeName]
    )
    return constructors.ktable(
      { builder: b, node: name, keySerde: storeKey, valueSerde: outSerde, repartitionRequired: false },
      storeName
    )
  }

  /** Stateful: the number of rows per group (a row moving between groups leaves one and joins the other). */
  count(materialized?: Materialized<K, number>, named?: Named): KTable<K, number, R> {
    return this.aggregateWith<number>(
      "KTABLE-AGGREGATE-",
      materialized,
      named,
      Serdes.long,
      () => 0,
      (_k, _v, n) => n + 1,
      (_k, _v, n) => n - 1
    )
  }

  /** Stateful: combines each group's values with `adder`, removes old ones with `subtractor`. */
  reduce(
    adder: (aggregate: V, value: V) => V,
    subtractor: (aggregate: V, value: V) => V,
    materialized?: Materialized<K, V>,
    named?: Named
  ): KTable<K, V, R> {
    return this.aggregateWith<V>(
      "KTABLE-REDUCE-",
      materialized,
      named,
      this.position.valueSerde as Serde<V> | undefined,
      undefined,
      (_k, v, agg) => adder(agg, v),
      (_k, v, agg) => subtractor(agg, v)
    )
  }

  /** Stateful: folds each group's values into an aggregate with `adder`, removes old ones with `subtractor`. */
  aggregate<VA>(
    initializer: () => VA,
    adder: (key: K, value: V, aggregate: VA) => VA,
    subtractor: (key: K, value: V, aggregate: VA) => VA,
    materialized?: Materialized<K, VA>,
    named?: Named
  ): KTable<K, VA, R> {
    return this.aggregateWith<VA>("KTABLE-AGGREGATE-", materialized, named, undefined, initializer, adder, subtractor)
  }
}

constructors.kgroupedTable = (position, name) => new KGroupedTable(position, name)
