import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { materializedAs } from "../../src/dsl/Options.js"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import * as Serdes from "../../src/Serdes.js"
import * as TopologyTestDriver from "../../src/TopologyTestDriver.js"

const users = Topic.make("users", { key: Schema.String, value: Schema.NullOr(Schema.String) })
const out = Topic.make("out", { key: Schema.String, value: Schema.NullOr(Schema.String) })
const counts = Topic.make("out", { key: Schema.String, value: Serdes.long })
const noCache = { "statestore.cache.max.bytes": 0 }

describe("TopologyTestDriver: tables", () => {
  it.effect("table(): latest value per key, tombstones delete, toStream emits every change", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make()
      builder.table(users, {}, materializedAs("users-store")).toStream().to(out)
      const driver = yield* TopologyTestDriver.make(yield* builder.build, noCache)
      const input = driver.createInputTopic(users)
      yield* input.pipeRecordList([
        { key: "u1", value: "ann", timestamp: 1 },
        { key: "u2", value: "bob", timestamp: 2 },
        { key: "u1", value: "anne", timestamp: 3 },
        { key: "u2", value: null, timestamp: 4 }
      ])
      const store = driver.getKeyValueStore<string, string>("users-store")
      assert.strictEqual(store.get("u1"), "anne")
      assert.strictEqual(store.get("u2"), undefined)
      assert.strictEqual(store.approximateNumEntries(), 1)
      const ts = driver.getTimestampedKeyValueStore<string, string>("users-store")
      assert.deepStrictEqual(ts.get("u1"), { value: "anne", timestamp: 3 })
      assert.deepStrictEqual(
        driver
          .createOutputTopic(out)
          .readRecordsToList()
          .map((r) => [r.key, r.value, r.timestamp]),
        [
          ["u1", "ann", 1],
          ["u2", "bob", 2],
          ["u1", "anne", 3],
          ["u2", null, 4]
        ]
      )
      assert.deepStrictEqual(driver.producedTopicNames(), new Set(["test-users-store-changelog", "out"]))
    }).pipe(Effect.scoped)
  )

  it.effect("KTable filter, filterNot and mapValues forward changes; a row filtered out reads as deleted", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make()
      const table = builder.table(users)
      table
        .filter((_k, v) => v.length > 3, undefined, materializedAs("long-names"))
        .toStream()
        .to(out)
      table
        .filterNot((_k, v) => v.length > 3)
        .mapValues((v) => v.toUpperCase())
        .toStream()
        .to("short", { keySerde: Serdes.string, valueSerde: Serdes.string })
      const driver = yield* TopologyTestDriver.make(yield* builder.build, noCache)
      yield* driver.createInputTopic(users).pipeRecordList([
        { key: "a", value: "anne", timestamp: 1 },
        { key: "b", value: "bo", timestamp: 2 },
        { key: "a", value: "al", timestamp: 3 },
        { key: "b", value: null, timestamp: 4 }
      ])
      assert.deepStrictEqual(driver.createOutputTopic(out).readKeyValuesToList(), [
        { key: "a", value: "anne" },
        { key: "a", value: null }
      ])
      const short = driver.createOutputTopic({ name: "short", key: Serdes.string, value: Topic.string })
      assert.deepStrictEqual(short.readKeyValuesToList(), [
        { key: "b", value: "BO" },
        { key: "a", value: "AL" },
        { key: "b", value: null }
      ])
      assert.strictEqual(driver.getKeyValueStore<string, string>("long-names").approximateNumEntries(), 0)
    }).pipe(Effect.scoped)
  )

  it.effect("globalTable loads every record of its topic into its store (no changelog)", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make()
      const global = builder.globalTable(users, {}, materializedAs("all-users"))
      builder.stream(Topic.make("events", { key: Schema.String, value: Schema.String })).to("sink-out", {
        keySerde: Serdes.string,
        valueSerde: Serdes.string
      })
      const driver = yield* TopologyTestDriver.make(yield* builder.build)
      yield* driver.createInputTopic(users).pipeKeyValueList([
        { key: "x", value: "1" },
        { key: "y", value: "2" },
        { key: "x", value: null }
      ])
      assert.strictEqual(global.queryableStoreName, "all-users")
      const store = driver.getKeyValueStore<string, string>("all-users")
      assert.deepStrictEqual([...store.all()], [{ key: "y", value: "2" }])
      assert.deepStrictEqual(driver.producedTopicNames(), new Set())
    }).pipe(Effect.scoped)
  )
})

const lines = Topic.make("lines", { key: Schema.String, value: Schema.String })

const wordCount = () => {
  const builder = StreamsBuilder.make({ "default.key.serde": Serdes.string, "default.value.serde": Serdes.string })
  builder
    .stream(lines)
    .flatMapValues((line) => line.split(" "))
    .groupBy((_k, word) => word)
    .count(materializedAs("counts"))
    .toStream()
    .to(counts)
  return builder.build
}

describe("TopologyTestDriver: aggregations and the record cache", () => {
  it.effect("count with statestore.cache.max.bytes = 0 sends every update downstream", () =>
    Effect.gen(function* () {
      const driver = yield* TopologyTestDriver.make(yield* wordCount(), noCache)
      yield* driver.createInputTopic(lines).pipeInput("l1", "a b a", 5)
      yield* driver.createInputTopic(lines).pipeInput("l2", "a", 3)
      assert.deepStrictEqual(
        driver
          .createOutputTopic(counts)
          .readRecordsToList()
          .map((r) => [r.key, r.value, r.timestamp]),
        [
          ["a", 1, 5],
          ["b", 1, 5],
          ["a", 2, 5],
          ["a", 3, 5]
        ]
      )
      assert.strictEqual(driver.getKeyValueStore<string, number>("counts").get("a"), 3)
    }).pipe(Effect.scoped)
  )

  it.effect("with a record cache, updates of one key before a commit come out once", () =>
    Effect.gen(function* () {
      const driver = yield* TopologyTestDriver.make(yield* wordCount())
      yield* driver.createInputTopic(lines).pipeInput("l1", "a b a a", 5)
      yield* driver.createInputTopic(lines).pipeInput("l2", "b", 9)
      assert.deepStrictEqual(
        driver
          .createOutputTopic(counts)
          .readRecordsToList()
          .map((r) => [r.key, r.value, r.timestamp]),
        [
          ["b", 1, 5],
          ["a", 3, 5],
          ["b", 2, 9]
        ]
      )
      // the changelog carries the flushed values only
      const changelog = driver.createOutputTopic({
        name: "test-counts-changelog",
        key: Serdes.string,
        value: Serdes.long
      })
      assert.deepStrictEqual(changelog.readValuesToList(), [1, 3, 2])
      assert.isTrue(driver.producedTopicNames().has("test-counts-repartition"))
    }).pipe(Effect.scoped)
  )

  it.effect("groupByKey reduce and aggregate; null keys and values are skipped", () =>
    Effect.gen(function* () {
      const amounts = Topic.make("amounts", { key: Schema.NullOr(Schema.String), value: Schema.Number })
      const builder = StreamsBuilder.make()
      const grouped = builder.stream(amounts).groupByKey()
      grouped
        .reduce((a, b) => a + b, materializedAs("sum", { valueSerde: Serdes.double }))
        .toStream()
        .to("sums", { valueSerde: Serdes.double })
      grouped
        .aggregate(
          () => [] as Array<number>,
          (_k, v, list) => [...list, v],
          materializedAs("lists", { valueSerde: Serdes.json(Schema.mutable(Schema.Array(Schema.Number))) })
        )
        .toStream()
        .foreach(() => {})
      const driver = yield* TopologyTestDriver.make(yield* builder.build, noCache)
      yield* driver.createInputTopic(amounts).pipeRecordList([
        { key: "c1", value: 5, timestamp: 10 },
        { key: null, value: 7, timestamp: 11 },
        { key: "c1", value: null as unknown as number, timestamp: 12 },
        { key: "c1", value: 2.5, timestamp: 8 },
        { key: "c2", value: 1, timestamp: 20 }
      ])
      const sums = driver.createOutputTopic({ name: "sums", key: amounts.key, value: Serdes.double })
      assert.deepStrictEqual(
        sums.readRecordsToList().map((r) => [r.key, r.value, r.timestamp]),
        [
          ["c1", 5, 10],
          ["c1", 7.5, 10],
          ["c2", 1, 20]
        ]
      )
      assert.deepStrictEqual(driver.getKeyValueStore<string, Array<number>>("lists").get("c1"), [5, 2.5])
    }).pipe(Effect.scoped)
  )

  it.effect("grouped table: a row moving between groups is subtracted from the old one and added to the new", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make()
      builder
        .table(users)
        .groupBy((user, city) => ({ key: city, value: user }), { keySerde: Serdes.string, valueSerde: Serdes.string })
        .count(materializedAs("per-city"))
        .toStream()
        .to(counts)
      const driver = yield* TopologyTestDriver.make(yield* builder.build, noCache)
      yield* driver.createInputTopic(users).pipeRecordList([
        { key: "ann", value: "paris", timestamp: 1 },
        { key: "bob", value: "paris", timestamp: 2 },
        { key: "ann", value: "rome", timestamp: 3 },
        { key: "bob", value: null, timestamp: 4 }
      ])
      assert.deepStrictEqual(
        driver
          .createOutputTopic(counts)
          .readRecordsToList()
          .map((r) => [r.key, r.value, r.timestamp]),
        [
          ["paris", 1, 1],
          ["paris", 2, 2],
          ["paris", 1, 3],
          ["rome", 1, 3],
          ["paris", 0, 4]
        ]
      )
    }).pipe(Effect.scoped)
  )
})
