/**
 * Join details beyond the semantics tables: Kafka's generated names, asymmetric windows, grace for late
 * records, stream-globalTable joins, repartitioning before a join, and StreamJoined names.
 */
import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Schema } from "effect"
import * as JoinWindows from "../../src/dsl/JoinWindows.js"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import * as TopologyTestDriver from "../../src/TopologyTestDriver.js"

const left = Topic.make("left", { key: Schema.String, value: Schema.String })
const right = Topic.make("right", { key: Schema.String, value: Schema.String })
const out = Topic.make("out", { key: Schema.String, value: Schema.String })
const joiner = (l: string | null, r: string | null) => `${l},${r}`

class Discounts extends Context.Tag("Discounts")<Discounts, { readonly rate: (tier: string) => number }>() {}

describe("joins", () => {
  it.effect("a left stream-stream join gets Kafka's generated processor, store and changelog names", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make()
      builder.stream(left).leftJoin(builder.stream(right), joiner, JoinWindows.ofTimeDifferenceWithNoGrace(100)).to(out)
      const topology = yield* builder.build
      const text = topology.describe()
      for (const line of [
        "Processor: KSTREAM-WINDOWED-0000000002 (stores: [KSTREAM-JOINTHIS-0000000004-store])",
        "Processor: KSTREAM-WINDOWED-0000000003 (stores: [KSTREAM-OUTEROTHER-0000000005-store])",
        "Processor: KSTREAM-JOINTHIS-0000000004 (stores: [KSTREAM-OUTEROTHER-0000000005-store, KSTREAM-OUTERSHARED-0000000004-store])",
        "Processor: KSTREAM-OUTEROTHER-0000000005 (stores: [KSTREAM-JOINTHIS-0000000004-store, KSTREAM-OUTERSHARED-0000000004-store])",
        "<-- KSTREAM-JOINTHIS-0000000004, KSTREAM-OUTEROTHER-0000000005"
      ]) {
        assert.include(text, line)
      }
      const changelog = topology.internalTopics.get("KSTREAM-JOINTHIS-0000000004-store-changelog")!
      assert.deepStrictEqual(changelog.configs, { "cleanup.policy": "compact,delete", "retention.ms": "86400200" })
      assert.isTrue(topology.internalTopics.has("KSTREAM-OUTERSHARED-0000000004-store-changelog"))
      assert.deepStrictEqual(topology.copartitionGroups, [["left", "right"]])
    })
  )

  it.effect("StreamJoined names the processors and stores; an inner join has no shared store", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make()
      builder
        .stream(left)
        .join(builder.stream(right), joiner, JoinWindows.ofTimeDifferenceWithNoGrace(100), {
          name: "pay",
          storeName: "pay-store"
        })
        .to(out)
      const topology = yield* builder.build
      assert.deepStrictEqual([...topology.stores.keys()].sort(), [
        "pay-store-other-join-store",
        "pay-store-this-join-store"
      ])
      for (const node of ["pay-this-windowed", "pay-other-windowed", "pay-this-join", "pay-other-join", "pay-merge"]) {
        assert.isTrue(topology.nodes.has(node), node)
      }
    })
  )

  it.effect("asymmetric windows: the left record looks 10 back and 0 ahead (the right side the opposite)", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make()
      const windows = JoinWindows.after(JoinWindows.ofTimeDifferenceWithNoGrace(10), 0)
      builder.stream(left).join(builder.stream(right), joiner, windows).to(out)
      const driver = yield* TopologyTestDriver.make(yield* builder.build)
      const l = driver.createInputTopic(left)
      const r = driver.createInputTopic(right)
      const output = driver.createOutputTopic(out)
      yield* r.pipeInput("k", "r100", 100)
      yield* l.pipeInput("k", "l105", 105) // right 100 is 5 before: joins
      yield* l.pipeInput("k", "l95", 95) // right 100 is 5 after: no
      yield* r.pipeInput("k", "r108", 108) // a right record joins lefts 0 before to 10 after it: none
      yield* l.pipeInput("k", "l115", 115) // rights at 105..115: r108
      assert.deepStrictEqual(
        output.readRecordsToList().map((x) => [x.value, x.timestamp]),
        [
          ["l105,r100", 105],
          ["l115,r108", 115]
        ]
      )
    }).pipe(Effect.scoped)
  )

  it.effect("grace: a late record still joins within the grace period, not after it", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make()
      const windows = JoinWindows.ofTimeDifferenceAndGrace(10, 20)
      builder.stream(left).join(builder.stream(right), joiner, windows).to(out)
      const driver = yield* TopologyTestDriver.make(yield* builder.build)
      const l = driver.createInputTopic(left)
      const r = driver.createInputTopic(right)
      const output = driver.createOutputTopic(out)
      yield* l.pipeInput("k", "a", 100)
      yield* l.pipeInput("j", "x", 125) // stream time 125
      yield* r.pipeInput("k", "late", 105) // 20 behind stream time, within retention (10 + 10 + 20): joins a
      assert.deepStrictEqual(output.readValuesToList(), ["a,late"])
      yield* l.pipeInput("j", "y", 200) // stream time 200: a's window is gone
      yield* r.pipeInput("k", "too-late", 105)
      assert.isTrue(output.isEmpty())
    }).pipe(Effect.scoped)
  )

  it.effect("stream-globalTable joins map each record to the table's key; left joins keep misses", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make()
      const products = builder.globalTable(Topic.make("products", { key: Schema.String, value: Schema.String }))
      const orders = builder.stream(left)
      // order value "<product>:<qty>" looked up by product
      const product = (_k: string, v: string) => v.split(":")[0]!
      orders.join(products, product, (o, p) => `${o} ${p}`).to(out)
      orders
        .leftJoin(products, product, (o, p) => `${o} ${p ?? "?"}`)
        .to("out-left", { keySerde: Topic.string as never, valueSerde: Topic.string as never })
      const driver = yield* TopologyTestDriver.make(yield* builder.build)
      yield* driver
        .createInputTopic(Topic.make("products", { key: Schema.String, value: Schema.String }))
        .pipeInput("p1", "pen", 1)
      const input = driver.createInputTopic(left)
      yield* input.pipeInput("o1", "p1:2", 2)
      yield* input.pipeInput("o2", "p9:1", 3)
      assert.deepStrictEqual(driver.createOutputTopic(out).readKeyValuesToList(), [{ key: "o1", value: "p1:2 pen" }])
      assert.deepStrictEqual(
        driver.createOutputTopic({ name: "out-left", key: Topic.string, value: Topic.string }).readValuesToList(),
        ["p1:2 pen", "p9:1 ?"]
      )
    }).pipe(Effect.scoped)
  )

  it.effect("a key-changing operation before a stream-table join repartitions the stream", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make()
      const table = builder.table(right)
      builder
        .stream(left)
        .selectKey((_k, v) => v.split("/")[0]!)
        .join(table, joiner, { keySerde: Topic.string as never, valueSerde: Topic.string as never })
        .to(out)
      const topology = yield* builder.build
      assert.deepStrictEqual(
        [...topology.internalTopics.keys()].filter((t) => t.endsWith("-repartition")),
        ["KSTREAM-KEY-SELECT-0000000004-repartition"]
      )
      const driver = yield* TopologyTestDriver.make(topology)
      yield* driver.createInputTopic(right).pipeInput("c1", "Ann", 1)
      yield* driver.createInputTopic(left).pipeInput("o1", "c1/book", 2)
      assert.deepStrictEqual(driver.createOutputTopic(out).readKeyValuesToList(), [{ key: "c1", value: "c1/book,Ann" }])
    }).pipe(Effect.scoped)
  )

  it.effect("leftJoinEffect runs an Effect per joined record, with the builder's services", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make<Discounts>()
      builder
        .stream(left)
        .leftJoinEffect(builder.table(right), (amount, tier) =>
          Effect.map(Discounts, (d) => `${Number(amount) * (1 - d.rate(tier ?? "none"))}`)
        )
        .to(out)
      const driver = yield* TopologyTestDriver.make(yield* builder.build)
      yield* driver.createInputTopic(right).pipeInput("c1", "gold", 1)
      yield* driver.createInputTopic(left).pipeInput("c1", "100", 2)
      yield* driver.createInputTopic(left).pipeInput("c2", "100", 3)
      assert.deepStrictEqual(driver.createOutputTopic(out).readValuesToList(), ["90", "100"])
    }).pipe(
      Effect.scoped,
      Effect.provideService(Discounts, {
        rate: (tier) => (tier === "gold" ? 0.1 : 0)
      })
    )
  )
})
