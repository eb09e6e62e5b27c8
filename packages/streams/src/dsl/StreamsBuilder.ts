/**
 * The entry point of the DSL (Kafka Streams' `StreamsBuilder`): streams and tables from topics, then
 * `build` to validate and compile everything added into a `Topology`. Building is pure: no fiber, no I/O.
 */

import type * as Topic from "@eddy/core/client/Topic"
import { Effect } from "effect"
import { addStore, versionedSupplier } from "../internal/dsl/graph.js"
import { type BuilderConfig, InternalBuilder, storeDraft } from "../internal/dsl/InternalBuilder.js"
import { tableSource } from "../internal/dsl/tableProcessors.js"
import { versionedTableSource } from "../internal/dsl/versionedTable.js"
import type { StoreBuilder } from "../state/StoreBuilder.js"
import type { Topology } from "../topology/Topology.js"
import type { TopologyError } from "../topology/TopologyError.js"
import "./KGroupedStream.js"
import "./KGroupedTable.js"
import { KStream } from "./KStream.js"
import { KTable } from "./KTable.js"
import type { AnySerde, Consumed, Materialized } from "./Options.js"

/** A topic to read: a name (serdes from `Consumed` or the defaults) or an `@eddy/core` `Topic`. */
export type SourceTopic<K, V> = string | Topic.Topic<K, V>

/** A table replicated in full on every instance, for lookups (Kafka Streams' `GlobalKTable`). */
export interface GlobalKTable<K, V> {
  readonly _K?: K
  readonly _V?: V
  readonly queryableStoreName: string
}

/** Builds a topology; `R` is the services its Effect-returning functions use. */
export interface StreamsBuilder<R = never> {
  /** A stream of one or more topics, or of every topic matching a pattern when the application starts. */
  stream<K, V>(
    topics: SourceTopic<K, V> | ReadonlyArray<SourceTopic<K, V>> | RegExp,
    consumed?: Consumed<K, V>
  ): KStream<K, V, R>
  /** A table of a topic: latest value per key, a null value deletes the key (table values are never null). */
  table<K, V>(
    topic: SourceTopic<K, V>,
    consumed?: Consumed<K, V>,
    materialized?: Materialized<K, V>
  ): KTable<K, NonNullable<V>, R>
  /** A global table: every instance loads all partitions of the topic into a store before it runs. */
  globalTable<K, V>(
    topic: SourceTopic<K, V>,
    consumed?: Consumed<K, V>,
    materialized?: Materialized<K, V>
  ): GlobalKTable<K, V>
  /**
   * Adds a Processor-API store (one per task, changelogged unless the builder disables it) for
   * `KStream.process`/`processValues` to name; a store no processor names is a build error.
   */
  addStateStore(storeBuilder: StoreBuilder<unknown>): StreamsBuilder<R>
  /** Validates and compiles everything added so far. */
  readonly build: Effect.Effect<Topology<R>, TopologyError>
}

const nameOf = (t: SourceTopic<unknown, unknown>) => (typeof t === "string" ? t : t.name)
const keySerdeOf = (t: SourceTopic<unknown, unknown>): AnySerde | undefined =>
  typeof t === "string" ? undefined : t.key
const valueSerdeOf = (t: SourceTopic<unknown, unknown>): AnySerde | undefined =>
  typeof t === "string" ? undefined : t.value

/** A new builder; `default.key.serde`/`default.value.serde` serve where no serde is known. */
export const make = <R = never>(config: BuilderConfig = {}): StreamsBuilder<R> => {
  const b = new InternalBuilder(config)
  const tableParts = (
    topic: SourceTopic<unknown, unknown>,
    consumed: Consumed<unknown, unknown> | undefined,
    materialized: Materialized<unknown, unknown> | undefined,
    global: boolean
  ) => {
    const name = nameOf(topic)
    const storeName = materialized?.storeName ?? b.newStoreName(`${name}-`)
    const source = consumed?.name ?? b.newName("KSTREAM-SOURCE-")
    const processor = consumed?.name !== undefined ? `${consumed.name}-table-source` : b.newName("KTABLE-SOURCE-")
    const keySerde = consumed?.keySerde ?? keySerdeOf(topic)
    const valueSerde = consumed?.valueSerde ?? valueSerdeOf(topic)
    b.addSource(source, [name], keySerde, valueSerde, global, { timestampExtractor: consumed?.timestampExtractor })
    addStore(b, storeName, materialized, keySerde, valueSerde, `table ${name}`, global)
    const versioned = !global && versionedSupplier(materialized) !== undefined
    b.addProcessor(
      processor,
      versioned ? versionedTableSource(storeName) : tableSource(storeName, !global),
      [source],
      [storeName]
    )
    if (global) b.addGlobalStore(source, processor, name, storeName)
    return { storeName, processor, keySerde, valueSerde }
  }
  return {
    stream: <K, V>(
      topics: SourceTopic<K, V> | ReadonlyArray<SourceTopic<K, V>> | RegExp,
      consumed?: Consumed<K, V>
    ) => {
      if (topics instanceof RegExp) {
        const name = consumed?.name ?? b.newName("KSTREAM-SOURCE-")
        b.addPatternSource(name, topics, consumed?.keySerde, consumed?.valueSerde, {
          timestampExtractor: consumed?.timestampExtractor
        })
        return new KStream<K, V, R>({
          builder: b,
          node: name,
          keySerde: consumed?.keySerde,
          valueSerde: consumed?.valueSerde,
          repartitionRequired: false
        })
      }
      const list = (Array.isArray(topics) ? topics : [topics]) as ReadonlyArray<SourceTopic<unknown, unknown>>
      const name = consumed?.name ?? b.newName("KSTREAM-SOURCE-")
      const keySerde = consumed?.keySerde ?? (list.length > 0 ? keySerdeOf(list[0]!) : undefined)
      const valueSerde = consumed?.valueSerde ?? (list.length > 0 ? valueSerdeOf(list[0]!) : undefined)
      b.addSource(name, list.map(nameOf), keySerde, valueSerde, false, {
        timestampExtractor: consumed?.timestampExtractor
      })
      return new KStream<K, V, R>({ builder: b, node: name, keySerde, valueSerde, repartitionRequired: false })
    },
    table: <K, V>(topic: SourceTopic<K, V>, consumed?: Consumed<K, V>, materialized?: Materialized<K, V>) => {
      const t = tableParts(topic as never, consumed as never, materialized as never, false)
      return new KTable<K, NonNullable<V>, R>(
        { builder: b, node: t.processor, keySerde: t.keySerde, valueSerde: t.valueSerde, repartitionRequired: false },
        t.storeName
      )
    },
    globalTable: <K, V>(topic: SourceTopic<K, V>, consumed?: Consumed<K, V>, materialized?: Materialized<K, V>) => {
      const t = tableParts(topic as never, consumed as never, materialized as never, true)
      return { queryableStoreName: t.storeName }
    },
    addStateStore(storeBuilder) {
      b.addStore(storeDraft(storeBuilder))
      return this
    },
    build: Effect.suspend(() => b.build<R>())
  }
}
