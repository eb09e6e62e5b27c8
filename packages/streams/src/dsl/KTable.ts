/**
 * A table (Kafka Streams' `KTable`): the latest value per key, as a stream of changes. A null value is a
 * delete (tombstone). Operations forward each change; with a record cache in front of a store, several
 * changes of one key between commits come out as one.
 */
import { constructors } from "../internal/dsl/constructors.js"
import * as FkJoin from "../internal/dsl/fkJoin.js"
import type { Position } from "../internal/dsl/graph.js"
import { addStore } from "../internal/dsl/graph.js"
import * as Joins from "../internal/dsl/joins.js"
import { addSuppress } from "../internal/dsl/suppress.js"
import * as T from "../internal/dsl/tableProcessors.js"
import type { ProcessorSupplier } from "../processor/Processor.js"
import type { KeyValue } from "../processor/Record.js"
import type { TableJoined } from "./Joined.js"
import type { KGroupedTable } from "./KGroupedTable.js"
import type { KStream } from "./KStream.js"
import type { AnySerde, Grouped, Materialized, Named } from "./Options.js"
import type { Suppressed } from "./Suppressed.js"

// biome-ignore lint/suspicious/noExplicitAny: the join implementations take any table their overloads allow
type AnyValue = any

/** A changelog-backed table. */
export class KTable<K, V, R = never> {
  /** @internal */
  constructor(
    readonly position: Position,
    /** The store holding this table's rows, if it is materialized. */
    readonly queryableStoreName: string | undefined
  ) {}

  private next<VR>(
    prefix: string,
    named: Named | undefined,
    materialized: Materialized<K, VR> | undefined,
    valueSerde: AnySerde | undefined,
    supplier: (store: string | undefined) => ProcessorSupplier
  ): KTable<K, VR, R> {
    const b = this.position.builder
    const storeName = materialized === undefined ? undefined : (materialized.storeName ?? b.newStoreName(prefix))
    const name = named?.name ?? b.newName(prefix)
    const keySerde = materialized?.keySerde ?? this.position.keySerde
    const outSerde = materialized?.valueSerde ?? valueSerde
    if (storeName !== undefined) addStore(b, storeName, materialized as never, keySerde, outSerde, `table ${name}`)
    b.addProcessor(name, supplier(storeName), [this.position.node], storeName === undefined ? [] : [storeName])
    return constructors.ktable(
      { builder: b, node: name, keySerde, valueSerde: outSerde, repartitionRequired: false },
      storeName
    )
  }

  /** Stateless: rows for which `predicate` holds (others read as deleted). */
  filter(predicate: (key: K, value: V) => boolean, named?: Named, materialized?: Materialized<K, V>): KTable<K, V, R> {
    return this.next("KTABLE-FILTER-", named, materialized, this.position.valueSerde, (s) =>
      T.tableFilter(predicate, true, s)
    )
  }

  /** Stateless: rows for which `predicate` does not hold. */
  filterNot(
    predicate: (key: K, value: V) => boolean,
    named?: Named,
    materialized?: Materialized<K, V>
  ): KTable<K, V, R> {
    return this.next("KTABLE-FILTER-", named, materialized, this.position.valueSerde, (s) =>
      T.tableFilter(predicate, false, s)
    )
  }

  /** Stateless: a new value per row. */
  mapValues<VR>(mapper: (value: V, key: K) => VR, named?: Named, materialized?: Materialized<K, VR>): KTable<K, VR, R> {
    return this.next("KTABLE-MAPVALUES-", named, materialized, undefined, (s) => T.tableMapValues(mapper, s))
  }

  /**
   * Stateful inner join with another table: on the key (a row while both sides have one; both tables
   * co-partitioned), or on a foreign key extracted from this table's values (`foreignKeyExtractor`; no
   * co-partitioning needed, through the subscription topics).
   */
  join<KO, VO, VR>(
    other: KTable<KO, VO, R>,
    foreignKeyExtractor: (value: V) => KO | null,
    joiner: (value: V, otherValue: NoInfer<VO>, key: K) => VR,
    tableJoined?: TableJoined,
    materialized?: Materialized<K, VR>
  ): KTable<K, VR, R>
  join<VO, VR>(
    other: KTable<K, VO, R>,
    joiner: (value: V, otherValue: NoInfer<VO>, key: K) => VR,
    named?: Named,
    materialized?: Materialized<K, VR>
  ): KTable<K, VR, R>
  join(other: KTable<AnyValue, AnyValue, R>, a: unknown, b?: unknown, c?: unknown, d?: unknown): KTable<K, unknown, R> {
    return typeof b === "function"
      ? this.foreignKeyJoin(other, a as never, b as never, false, c as never, d as never)
      : this.tableJoin(other as never, a as never, "inner", b as never, c as never)
  }

  /**
   * Stateful left join with another table: on the key (a row while this side has one, with the other's
   * value or null), or on a foreign key extracted from this table's values.
   */
  leftJoin<KO, VO, VR>(
    other: KTable<KO, VO, R>,
    foreignKeyExtractor: (value: V) => KO | null,
    joiner: (value: V, otherValue: NoInfer<VO> | null, key: K) => VR,
    tableJoined?: TableJoined,
    materialized?: Materialized<K, VR>
  ): KTable<K, VR, R>
  leftJoin<VO, VR>(
    other: KTable<K, VO, R>,
    joiner: (value: V, otherValue: NoInfer<VO> | null, key: K) => VR,
    named?: Named,
    materialized?: Materialized<K, VR>
  ): KTable<K, VR, R>
  leftJoin(
    other: KTable<AnyValue, AnyValue, R>,
    a: unknown,
    b?: unknown,
    c?: unknown,
    d?: unknown
  ): KTable<K, unknown, R> {
    return typeof b === "function"
      ? this.foreignKeyJoin(other, a as never, b as never, true, c as never, d as never)
      : this.tableJoin(other as never, a as never, "left", b as never, c as never)
  }

  private foreignKeyJoin(
    other: KTable<AnyValue, AnyValue, R>,
    extractor: (value: V) => unknown,
    joiner: (value: V, otherValue: unknown, key: K) => unknown,
    leftJoin: boolean,
    tableJoined: TableJoined | undefined,
    materialized: Materialized<K, unknown> | undefined
  ): KTable<K, unknown, R> {
    const result = FkJoin.foreignKeyJoin(
      this,
      other,
      extractor as never,
      joiner as never,
      leftJoin,
      tableJoined,
      materialized as never
    )
    return constructors.ktable(result.position, result.storeName)
  }

  /** Stateful outer join with another table: a row while either side has one. */
  outerJoin<VO, VR>(
    other: KTable<K, VO, R>,
    joiner: (value: V | null, otherValue: NoInfer<VO> | null, key: K) => VR,
    named?: Named,
    materialized?: Materialized<K, VR>
  ): KTable<K, VR, R> {
    return this.tableJoin(other, joiner, "outer", named, materialized)
  }

  private tableJoin<VO, VR>(
    other: KTable<K, VO, R>,
    joiner: (value: V, otherValue: VO, key: K) => VR,
    kind: Joins.JoinKind,
    named: Named | undefined,
    materialized: Materialized<K, VR> | undefined
  ): KTable<K, VR, R> {
    const result = Joins.tableTableJoin(this, other, joiner as never, kind, named, materialized as never)
    return constructors.ktable(result.position, result.storeName)
  }

  /** The table's changes as a stream of new values (a delete is a record with a null value). */
  toStream(named?: Named): KStream<K, V, R> {
    const b = this.position.builder
    const name = named?.name ?? b.newName("KTABLE-TOSTREAM-")
    b.addProcessor(name, T.tableToStream(undefined), [this.position.node])
    return constructors.kstream({ ...this.position, node: name })
  }

  /** Stateful: holds updates back (final results of a windowed table, or a rate limit); see `Suppressed`. */
  suppress(suppressed: Suppressed): KTable<K, V, R> {
    return constructors.ktable(addSuppress(this.position, suppressed), undefined)
  }

  /** Re-groups rows by a new key and value for an aggregation with adder and subtractor (repartitions). */
  groupBy<KR, VR>(
    selector: (key: K, value: V) => KeyValue<KR, VR>,
    grouped: Grouped<KR, VR> = {}
  ): KGroupedTable<KR, VR, R> {
    const b = this.position.builder
    const name = grouped.name ?? b.newName("KTABLE-SELECT-")
    b.addProcessor(name, T.tableSelect(selector), [this.position.node])
    return constructors.kgroupedTable(
      { builder: b, node: name, keySerde: grouped.keySerde, valueSerde: grouped.valueSerde, repartitionRequired: true },
      grouped.name
    )
  }
}

constructors.ktable = (position, storeName) => new KTable(position, storeName)
