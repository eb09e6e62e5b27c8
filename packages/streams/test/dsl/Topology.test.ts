import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Schema } from "effect"
import { materializedAs } from "../../src/dsl/Options.js"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import * as Serdes from "../../src/Serdes.js"

const text = Topic.make("streams-plaintext-input", { key: Schema.String, value: Schema.String })
const defaults = { "default.key.serde": Serdes.string, "default.value.serde": Serdes.string }

describe("Topology", () => {
  it.effect("word count prints as Kafka's describe() (golden)", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make(defaults)
      builder
        .stream(text)
        .flatMapValues((line) => line.toLowerCase().split(/\W+/))
        .groupBy((_key, word) => word)
        .count(materializedAs("counts-store"))
        .toStream()
        .to("streams-wordcount-output", { valueSerde: Serdes.long })
      const topology = yield* builder.build
      assert.strictEqual(
        topology.describe(),
        `Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [streams-plaintext-input])
      --> KSTREAM-FLATMAPVALUES-0000000001
    Processor: KSTREAM-FLATMAPVALUES-0000000001 (stores: [])
      --> KSTREAM-KEY-SELECT-0000000002
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-KEY-SELECT-0000000002 (stores: [])
      --> KSTREAM-FILTER-0000000005
      <-- KSTREAM-FLATMAPVALUES-0000000001
    Processor: KSTREAM-FILTER-0000000005 (stores: [])
      --> KSTREAM-SINK-0000000004
      <-- KSTREAM-KEY-SELECT-0000000002
    Sink: KSTREAM-SINK-0000000004 (topic: counts-store-repartition)
      <-- KSTREAM-FILTER-0000000005

  Sub-topology: 1
    Source: KSTREAM-SOURCE-0000000006 (topics: [counts-store-repartition])
      --> KSTREAM-AGGREGATE-0000000003
    Processor: KSTREAM-AGGREGATE-0000000003 (stores: [counts-store])
      --> KTABLE-TOSTREAM-0000000007
      <-- KSTREAM-SOURCE-0000000006
    Processor: KTABLE-TOSTREAM-0000000007 (stores: [])
      --> KSTREAM-SINK-0000000008
      <-- KSTREAM-AGGREGATE-0000000003
    Sink: KSTREAM-SINK-0000000008 (topic: streams-wordcount-output)
      <-- KTABLE-TOSTREAM-0000000007

`
      )
      assert.deepStrictEqual([...topology.internalTopics.keys()].sort(), [
        "counts-store-changelog",
        "counts-store-repartition"
      ])
      assert.deepStrictEqual(
        topology.internalTopics.get("counts-store-repartition")?.configs["cleanup.policy"],
        "delete"
      )
      assert.deepStrictEqual(
        topology.internalTopics.get("counts-store-changelog")?.configs["cleanup.policy"],
        "compact"
      )
    })
  )

  it.effect("generated names: source, filter, aggregate store and processor", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make(defaults)
      builder
        .stream(text)
        .filter((_k, v) => v.length > 0)
        .groupByKey()
        .count()
      const topology = yield* builder.build
      assert.deepStrictEqual(
        [...topology.nodes.keys()],
        ["KSTREAM-SOURCE-0000000000", "KSTREAM-FILTER-0000000001", "KSTREAM-AGGREGATE-0000000003"]
      )
      assert.deepStrictEqual([...topology.stores.keys()], ["KSTREAM-AGGREGATE-STATE-STORE-0000000002"])
      assert.deepStrictEqual(topology.subtopologies.length, 1)
      assert.ok(topology.internalTopics.has("KSTREAM-AGGREGATE-STATE-STORE-0000000002-changelog"))
    })
  )

  it.effect("a filter added before a named store keeps the store's and changelog's names", () =>
    Effect.gen(function* () {
      const build = (withFilter: boolean) => {
        const builder = StreamsBuilder.make(defaults)
        let stream = builder.stream(text).selectKey((_k, v) => v)
        if (withFilter) stream = stream.filter((_k, v) => v !== "")
        stream.groupByKey({ name: "by-word" }).count(materializedAs("word-counts"))
        return builder.build
      }
      const before = yield* build(false)
      const after = yield* build(true)
      const names = (t: typeof before) => ({
        stores: [...t.stores.keys()],
        internal: [...t.internalTopics.keys()].sort()
      })
      assert.deepStrictEqual(names(after), names(before))
      assert.deepStrictEqual(names(after), {
        stores: ["word-counts"],
        internal: ["by-word-repartition", "word-counts-changelog"]
      })
      assert.ok(after.nodes.has("by-word-repartition-sink") && after.nodes.has("by-word-repartition-source"))
    })
  )

  it.effect("tables, global tables and sub-topology numbering", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make(defaults)
      builder.globalTable("countries")
      builder.table("users").toStream().to("users-out")
      const topology = yield* builder.build
      assert.strictEqual(
        topology.describe(),
        `Topologies:
   Sub-topology: 0 for global store (will not generate tasks)
    Source: KSTREAM-SOURCE-0000000001 (topics: [countries])
      --> KTABLE-SOURCE-0000000002
    Processor: KTABLE-SOURCE-0000000002 (stores: [countries-STATE-STORE-0000000000])
      --> none
      <-- KSTREAM-SOURCE-0000000001

  Sub-topology: 1
    Source: KSTREAM-SOURCE-0000000004 (topics: [users])
      --> KTABLE-SOURCE-0000000005
    Processor: KTABLE-SOURCE-0000000005 (stores: [users-STATE-STORE-0000000003])
      --> KTABLE-TOSTREAM-0000000006
      <-- KSTREAM-SOURCE-0000000004
    Processor: KTABLE-TOSTREAM-0000000006 (stores: [])
      --> KSTREAM-SINK-0000000007
      <-- KTABLE-SOURCE-0000000005
    Sink: KSTREAM-SINK-0000000007 (topic: users-out)
      <-- KTABLE-TOSTREAM-0000000006

`
      )
      assert.ok(!topology.internalTopics.has("countries-STATE-STORE-0000000000-changelog"))
      assert.ok(topology.internalTopics.has("users-STATE-STORE-0000000003-changelog"))
    })
  )

  it.effect("split names branches after the split processor", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make(defaults)
      const branches = builder
        .stream(text)
        .split({ name: "route-" })
        .branch((_k, v) => v.startsWith("a"), { name: "a" })
        .branch((_k, v) => v.startsWith("b"))
        .defaultBranch()
      assert.deepStrictEqual(Object.keys(branches).sort(), ["route-0", "route-2", "route-a"])
      const topology = yield* builder.build
      assert.deepStrictEqual(
        topology.nodes.get("route-")?.kind === "source"
          ? []
          : (topology.nodes.get("route-") as { children: ReadonlyArray<string> }).children,
        ["route-a", "route-2", "route-0"]
      )
    })
  )

  it.effect("build errors: no serde for a keyed operation, duplicate store, sink to nothing, no source", () =>
    Effect.gen(function* () {
      const noSerde = StreamsBuilder.make()
      noSerde
        .stream(text)
        .map((k, v) => ({ key: v, value: k }))
        .groupByKey()
        .count()
      const e1 = yield* Effect.flip(noSerde.build)
      assert.match(e1.message, /No key serde for sink KSTREAM-SINK-\d+/)
      assert.match(e1.message, /default\.key\.serde/)

      const dup = StreamsBuilder.make(defaults)
      const s = dup.stream(text)
      s.groupByKey().count(materializedAs("c"))
      s.mapValues((v) => v.length)
        .groupByKey()
        .count(materializedAs("c"))
      const e2 = yield* Effect.flip(dup.build)
      assert.match(e2.message, /State store c is already added/)

      const toNothing = StreamsBuilder.make(defaults)
      toNothing.stream(text).to("")
      const e3 = yield* Effect.flip(toNothing.build)
      assert.match(e3.message, /a sink to nothing/)

      const empty = StreamsBuilder.make(defaults)
      const e4 = yield* Effect.flip(empty.build)
      assert.match(e4.message, /no source/)

      const twice = StreamsBuilder.make(defaults)
      twice.stream(text)
      twice.stream(text)
      assert.ok(Either.isLeft(yield* Effect.either(twice.build)))
    })
  )
})
