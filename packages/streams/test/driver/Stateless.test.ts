import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Schema } from "effect"
import type { KStream } from "../../src/dsl/KStream.js"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import * as Serdes from "../../src/Serdes.js"
import * as TopologyTestDriver from "../../src/TopologyTestDriver.js"

const input = Topic.make("in", { key: Schema.String, value: Schema.String })
const output = Topic.make("out", { key: Schema.String, value: Schema.String })
const numbers = Topic.make("out", { key: Schema.String, value: Schema.Number })

type In = { key: string; value: string; timestamp: number }
type Out = { key: string | null; value: unknown; timestamp: number }

const rows: ReadonlyArray<In> = [
  { key: "a", value: "apple", timestamp: 10 },
  { key: "b", value: "banana", timestamp: 20 },
  { key: "c", value: "cherry pie", timestamp: 15 }
]

/** Runs `pipeline` over `rows` and returns what lands on "out" (decoded with `out`). */
const run = <V>(
  pipeline: (s: KStream<string, string>) => void,
  out: Topic.Topic<string, V> = output as never,
  records: ReadonlyArray<In> = rows
) =>
  Effect.gen(function* () {
    const builder = StreamsBuilder.make()
    pipeline(builder.stream(input))
    const topology = yield* builder.build
    const driver = yield* TopologyTestDriver.make(topology)
    yield* driver.createInputTopic(input).pipeRecordList(records)
    return driver
      .createOutputTopic(out)
      .readRecordsToList()
      .map((r): Out => ({ key: r.key, value: r.value, timestamp: r.timestamp }))
  }).pipe(Effect.scoped)

const cases: ReadonlyArray<{
  readonly name: string
  readonly pipeline: (s: KStream<string, string>) => void
  // biome-ignore lint/suspicious/noExplicitAny: each case decodes its own value type
  readonly out?: Topic.Topic<string, any>
  readonly expected: ReadonlyArray<Out>
}> = [
  {
    name: "filter",
    pipeline: (s) => s.filter((_k, v) => v.startsWith("b")).to(output),
    expected: [{ key: "b", value: "banana", timestamp: 20 }]
  },
  {
    name: "filterNot",
    pipeline: (s) => s.filterNot((_k, v) => v.startsWith("b")).to(output),
    expected: [
      { key: "a", value: "apple", timestamp: 10 },
      { key: "c", value: "cherry pie", timestamp: 15 }
    ]
  },
  {
    name: "map",
    pipeline: (s) => s.map((k, v) => ({ key: v, value: k })).to(output),
    expected: [
      { key: "apple", value: "a", timestamp: 10 },
      { key: "banana", value: "b", timestamp: 20 },
      { key: "cherry pie", value: "c", timestamp: 15 }
    ]
  },
  {
    name: "mapValues",
    pipeline: (s) => s.mapValues((v) => v.length).to(numbers),
    out: numbers,
    expected: [
      { key: "a", value: 5, timestamp: 10 },
      { key: "b", value: 6, timestamp: 20 },
      { key: "c", value: 10, timestamp: 15 }
    ]
  },
  {
    name: "flatMap",
    pipeline: (s) => s.flatMap((k, v) => v.split(" ").map((w) => ({ key: `${k}:${w}`, value: w }))).to(output),
    expected: [
      { key: "a:apple", value: "apple", timestamp: 10 },
      { key: "b:banana", value: "banana", timestamp: 20 },
      { key: "c:cherry", value: "cherry", timestamp: 15 },
      { key: "c:pie", value: "pie", timestamp: 15 }
    ]
  },
  {
    name: "flatMapValues",
    pipeline: (s) => s.flatMapValues((v) => (v.includes(" ") ? v.split(" ") : [])).to(output),
    expected: [
      { key: "c", value: "cherry", timestamp: 15 },
      { key: "c", value: "pie", timestamp: 15 }
    ]
  },
  {
    name: "selectKey",
    pipeline: (s) => s.selectKey((_k, v) => v[0]!.toUpperCase()).to(output),
    expected: [
      { key: "A", value: "apple", timestamp: 10 },
      { key: "B", value: "banana", timestamp: 20 },
      { key: "C", value: "cherry pie", timestamp: 15 }
    ]
  },
  {
    name: "merge",
    pipeline: (s) =>
      s
        .filter((k) => k === "a")
        .merge(s.filter((k) => k === "c"))
        .to(output),
    expected: [
      { key: "a", value: "apple", timestamp: 10 },
      { key: "c", value: "cherry pie", timestamp: 15 }
    ]
  },
  {
    name: "repartition",
    pipeline: (s) =>
      s
        .selectKey((_k, v) => v.slice(0, 2))
        .repartition({ name: "by-prefix", keySerde: Serdes.string })
        .to(output),
    expected: [
      { key: "ap", value: "apple", timestamp: 10 },
      { key: "ba", value: "banana", timestamp: 20 },
      { key: "ch", value: "cherry pie", timestamp: 15 }
    ]
  },
  {
    name: "to with a TopicNameExtractor",
    pipeline: (s) =>
      s.to((k) => (k === "b" ? "out" : "elsewhere"), { keySerde: Serdes.string, valueSerde: Serdes.string }),
    expected: [{ key: "b", value: "banana", timestamp: 20 }]
  }
]

describe("TopologyTestDriver: stateless operations", () => {
  for (const c of cases) {
    it.effect(c.name, () =>
      Effect.gen(function* () {
        const got = yield* run(c.pipeline, c.out as never)
        assert.deepStrictEqual(got, c.expected)
      })
    )
  }

  it.effect("peek and foreach see every record; print formats [label]: key, value", () =>
    Effect.gen(function* () {
      const peeked: Array<string> = []
      const each: Array<string> = []
      const printed: Array<string> = []
      const got = yield* run((s) => {
        const p = s.peek((k, v) => peeked.push(`${k}=${v}`))
        p.foreach((k) => each.push(k))
        p.print({ label: "fruit", sink: (line) => printed.push(line) })
        p.print({ sink: (line) => printed.push(line), mapper: (k) => k })
        p.to(output)
      })
      assert.deepStrictEqual(peeked, ["a=apple", "b=banana", "c=cherry pie"])
      assert.deepStrictEqual(each, ["a", "b", "c"])
      assert.deepStrictEqual(printed.slice(0, 2), ["[fruit]: a, apple", "[KSTREAM-PRINTER-0000000004]: a"])
      assert.strictEqual(got.length, 3)
    })
  )

  it.effect("split: first matching branch, default branch, chains", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make()
      const branches = builder
        .stream(input)
        .split({ name: "s-" })
        .branch((_k, v) => v.includes("a"), { name: "a", chain: (b) => b.mapValues((v) => v.toUpperCase()) })
        .branch((_k, v) => v.includes("e"))
        .defaultBranch({ chain: () => undefined })
      branches["s-a"]!.to("with-a", { keySerde: Serdes.string, valueSerde: Serdes.string })
      branches["s-2"]!.to("with-e", { keySerde: Serdes.string, valueSerde: Serdes.string })
      assert.deepStrictEqual(Object.keys(branches).sort(), ["s-2", "s-a"])
      const driver = yield* TopologyTestDriver.make(yield* builder.build)
      yield* driver.createInputTopic(input).pipeKeyValueList([
        { key: "1", value: "apple" },
        { key: "2", value: "lemon" },
        { key: "3", value: "kiwi" },
        { key: "4", value: "banana" }
      ])
      const withA = driver.createOutputTopic(Topic.make("with-a", { key: Schema.String, value: Schema.String }))
      const withE = driver.createOutputTopic(Topic.make("with-e", { key: Schema.String, value: Schema.String }))
      assert.deepStrictEqual(withA.readValuesToList(), ["APPLE", "BANANA"])
      assert.deepStrictEqual(withE.readValuesToList(), ["lemon"])
      assert.deepStrictEqual(driver.producedTopicNames(), new Set(["with-a", "with-e"]))
    }).pipe(Effect.scoped)
  )

  it.effect("to with a custom partitioner; tombstones and null keys pass through", () =>
    Effect.gen(function* () {
      const nullable = Topic.make("in", { key: Schema.NullOr(Schema.String), value: Schema.NullOr(Schema.String) })
      const builder = StreamsBuilder.make()
      builder
        .stream(nullable)
        .to(Topic.make("out", { key: Schema.NullOr(Schema.String), value: Schema.NullOr(Schema.String) }), {
          partitioner: (_t, key, _v, n) => (key === null ? 0 : key.length % n)
        })
      const driver = yield* TopologyTestDriver.make(yield* builder.build, { partitions: { out: 3 } })
      const inTopic = driver.createInputTopic(nullable, { startTimestamp: 1000, autoAdvance: 5 })
      yield* inTopic.pipeInput("k", null)
      yield* inTopic.pipeInput(null, "v")
      yield* inTopic.pipeInput("kk", "w", 7)
      yield* inTopic.pipeInput("kkk", "x")
      const out = driver.createOutputTopic({ ...nullable, name: "out" })
      const got = out.readRecordsToList().map((r) => [r.key, r.value, r.timestamp, r.partition])
      assert.deepStrictEqual(got, [
        ["k", null, 1000, 1],
        [null, "v", 1005, 0],
        ["kk", "w", 7, 2],
        ["kkk", "x", 1010, 0]
      ])
      assert.isTrue(out.isEmpty())
    }).pipe(Effect.scoped)
  )

  it.effect("repartition topics get the application id prefix and show in producedTopicNames", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make()
      builder
        .stream(input)
        .selectKey((_k, v) => v)
        .repartition({ keySerde: Serdes.string })
        .to(output)
      const driver = yield* TopologyTestDriver.make(yield* builder.build, { "application.id": "app" })
      yield* driver.createInputTopic(input).pipeInput("a", "x", 1)
      assert.deepStrictEqual(
        driver.producedTopicNames(),
        new Set(["app-KSTREAM-REPARTITION-0000000002-repartition", "out"])
      )
      assert.deepStrictEqual(driver.createOutputTopic(output).readKeyValue(), { key: "x", value: "x" })
    }).pipe(Effect.scoped)
  )

  it.effect("toTable keeps the latest value per key; a null value deletes", () =>
    Effect.gen(function* () {
      const nullable = Topic.make("in", { key: Schema.String, value: Schema.NullOr(Schema.String) })
      const builder = StreamsBuilder.make()
      builder
        .stream(nullable)
        .toTable(undefined, { storeName: "latest" })
        .toStream()
        .to(Topic.make("out", { key: Schema.String, value: Schema.NullOr(Schema.String) }))
      const driver = yield* TopologyTestDriver.make(yield* builder.build, { "statestore.cache.max.bytes": 0 })
      const inTopic = driver.createInputTopic(nullable)
      yield* inTopic.pipeInput("a", "1", 1)
      yield* inTopic.pipeInput("a", "2", 2)
      yield* inTopic.pipeInput("b", "3", 3)
      yield* inTopic.pipeInput("a", null, 4)
      const store = driver.getKeyValueStore<string, string>("latest")
      assert.deepStrictEqual([...store.all()], [{ key: "b", value: "3" }])
      const out = driver.createOutputTopic(
        Topic.make("out", { key: Schema.String, value: Schema.NullOr(Schema.String) })
      )
      assert.deepStrictEqual(out.readKeyValuesToList(), [
        { key: "a", value: "1" },
        { key: "a", value: "2" },
        { key: "b", value: "3" },
        { key: "a", value: null }
      ])
    }).pipe(Effect.scoped)
  )
})

class Lookup extends Context.Tag("test/Lookup")<Lookup, { readonly find: (k: string) => Effect.Effect<string> }>() {}

describe("TopologyTestDriver: Effect-returning operations", () => {
  it.effect("mapValuesEffect, filterEffect, flatMapValuesEffect and peekEffect call services in order", () =>
    Effect.gen(function* () {
      const seen: Array<string> = []
      const builder = StreamsBuilder.make<Lookup>()
      builder
        .stream(input)
        .mapValuesEffect((v, k) => Effect.flatMap(Lookup, (l) => Effect.map(l.find(k), (x) => `${v}/${x}`)))
        .filterEffect((k) => Effect.succeed(k !== "b"))
        .flatMapValuesEffect((v) => Effect.succeed([v, v.length]))
        .peekEffect((k, v) => Effect.sync(() => seen.push(`${k}:${v}`)))
        .mapValues(String)
        .to(output)
      const topology = yield* builder.build
      const driver = yield* TopologyTestDriver.make(topology).pipe(
        Effect.provideService(Lookup, { find: (k) => Effect.succeed(k.toUpperCase()) })
      )
      yield* driver.createInputTopic(input).pipeRecordList(rows)
      assert.deepStrictEqual(driver.createOutputTopic(output).readValuesToList(), [
        "apple/A",
        "7",
        "cherry pie/C",
        "12"
      ])
      assert.deepStrictEqual(seen, ["a:apple/A", "a:7", "c:cherry pie/C", "c:12"])
    }).pipe(Effect.scoped)
  )

  it.effect("processing errors: log-and-fail fails the pipe; log-and-continue skips the record", () =>
    Effect.gen(function* () {
      const build = () => {
        const builder = StreamsBuilder.make()
        builder
          .stream(input)
          .mapValuesEffect((v) => (v === "boom" ? Effect.fail("no") : Effect.succeed(v)))
          .mapValues((v) => {
            if (v === "throw") throw new Error("thrown")
            return v
          })
          .to(output)
        return builder.build
      }
      const failing = yield* TopologyTestDriver.make(yield* build())
      const e1 = yield* Effect.flip(failing.createInputTopic(input).pipeInput("k", "boom", 1))
      assert.strictEqual(e1._tag, "ProcessingError")
      const e2 = yield* Effect.flip(failing.createInputTopic(input).pipeInput("k", "throw", 1))
      assert.strictEqual(e2._tag, "ProcessingError")
      assert.match(e2.message, /KSTREAM-MAPVALUES-0000000002 failed on in-0@1: thrown/)

      const lenient = yield* TopologyTestDriver.make(yield* build(), {
        "processing.exception.handler": "log-and-continue"
      })
      const inTopic = lenient.createInputTopic(input)
      yield* inTopic.pipeInput("k", "boom", 1)
      yield* inTopic.pipeInput("k", "throw", 2)
      yield* inTopic.pipeInput("k", "fine", 3)
      assert.deepStrictEqual(lenient.createOutputTopic(output).readValuesToList(), ["fine"])
    }).pipe(Effect.scoped)
  )

  it.effect("deserialization errors: log-and-fail (default) and log-and-continue", () =>
    Effect.gen(function* () {
      const strict = Topic.make("in", { key: Schema.String, value: Schema.NumberFromString })
      const raw = Topic.make("in", { key: Schema.String, value: Schema.String })
      const build = () => {
        const builder = StreamsBuilder.make()
        builder.stream(strict).mapValues(String).to(output)
        return builder.build
      }
      const failing = yield* TopologyTestDriver.make(yield* build())
      const e = yield* Effect.flip(failing.createInputTopic(raw).pipeInput("k", "nan?", 1))
      assert.strictEqual(e._tag, "DeserializationError")
      const lenient = yield* TopologyTestDriver.make(yield* build(), {
        "deserialization.exception.handler": "log-and-continue"
      })
      yield* lenient.createInputTopic(raw).pipeInput("k", "nan?", 1)
      yield* lenient.createInputTopic(raw).pipeInput("k", "42", 2)
      assert.deepStrictEqual(lenient.createOutputTopic(output).readValuesToList(), ["42"])
    }).pipe(Effect.scoped)
  )
})
