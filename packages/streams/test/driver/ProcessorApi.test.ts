import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Schema } from "effect"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import type * as Api from "../../src/processor/api/Processor.js"
import { PunctuationType } from "../../src/processor/api/Processor.js"
import * as StreamRecord from "../../src/processor/Record.js"
import type { TimestampExtractor } from "../../src/processor/TimestampExtractor.js"
import * as Serdes from "../../src/Serdes.js"
import type { KeyValueStore } from "../../src/state/KeyValueStore.js"
import { keyValueStoreBuilder } from "../../src/state/StoreBuilder.js"
import * as Stores from "../../src/state/Stores.js"
import * as TopologyTestDriver from "../../src/TopologyTestDriver.js"
import * as TopologyBuilder from "../../src/topology/TopologyBuilder.js"

const words = Topic.make("words", { key: Schema.String, value: Schema.String })
const counts = Topic.make("counts", { key: Schema.String, value: Serdes.long })
const texts = Topic.make("texts", { key: Schema.String, value: Schema.String })
const countStore = (name = "Counts") =>
  keyValueStoreBuilder(Stores.inMemoryKeyValueStore(name), Serdes.string, Serdes.long)

/** Counts words into "Counts" and forwards each new count. */
const counter: Api.ProcessorSupplier<string, string, string, number> = () => {
  let store: KeyValueStore<string, number>
  let ctx: Api.ProcessorContext<string, number>
  return {
    init(context) {
      ctx = context
      store = context.getStateStore("Counts")
    },
    process(record) {
      const n = (store.get(record.value) ?? 0) + 1
      store.put(record.value, n)
      ctx.forward(StreamRecord.make(record.value, n, record.timestamp))
    }
  }
}

const countTopology = () =>
  TopologyBuilder.make()
    .addSource("Words", words)
    .addProcessor("Count", counter, "Words")
    .addStateStore(countStore(), "Count")
    .addSink("Out", counts, {}, "Count")

describe("Processor API in the TopologyTestDriver", () => {
  it.effect("source -> processor with a store -> sink; the store is changelogged", () =>
    Effect.gen(function* () {
      const driver = yield* TopologyTestDriver.make(yield* countTopology().build)
      yield* driver.createInputTopic(words).pipeKeyValueList([
        { key: "1", value: "a" },
        { key: "2", value: "b" },
        { key: "3", value: "a" }
      ])
      assert.deepStrictEqual(driver.createOutputTopic(counts).readKeyValuesToList(), [
        { key: "a", value: 1 },
        { key: "b", value: 1 },
        { key: "a", value: 2 }
      ])
      assert.strictEqual(driver.getKeyValueStore<string, number>("Counts").get("a"), 2)
      const changelog = Topic.make("test-Counts-changelog", { key: Schema.String, value: Serdes.long })
      assert.deepStrictEqual(
        driver.createOutputTopic(changelog).readKeyValuesToMap(),
        new Map([
          ["a", 2],
          ["b", 1]
        ])
      )
    }).pipe(Effect.scoped)
  )

  it.effect("forward to one named child; record metadata of the record being processed", () =>
    Effect.gen(function* () {
      const seen: Array<Api.RecordMetadata | undefined> = []
      const router: Api.ProcessorSupplier<string, string, string, string> = () => (r, ctx) => {
        seen.push(ctx.recordMetadata())
        ctx.forward(r, r.value.startsWith("x") ? "X" : "Other")
      }
      const topology = yield* TopologyBuilder.make()
        .addSource("In", words)
        .addProcessor("Route", router, "In")
        .addSink("X", "xs", { keySerde: Serdes.string, valueSerde: Serdes.string }, "Route")
        .addSink("Other", "others", { keySerde: Serdes.string, valueSerde: Serdes.string }, "Route").build
      const driver = yield* TopologyTestDriver.make(topology)
      yield* driver.createInputTopic(words).pipeKeyValueList([
        { key: "1", value: "xa" },
        { key: "2", value: "b" }
      ])
      const out = (name: string) => driver.createOutputTopic({ name, key: Serdes.string, value: Serdes.string })
      assert.deepStrictEqual(out("xs").readValuesToList(), ["xa"])
      assert.deepStrictEqual(out("others").readValuesToList(), ["b"])
      assert.deepStrictEqual(seen, [
        { topic: "words", partition: 0, offset: 0 },
        { topic: "words", partition: 0, offset: 1 }
      ])
    }).pipe(Effect.scoped)
  )

  it.effect("an Effect-returning processor: forwards made inside its Effect keep their order", () =>
    Effect.gen(function* () {
      class Upper extends Context.Tag("Upper")<Upper, (s: string) => Effect.Effect<string>>() {}
      const upper: Api.ProcessorSupplier<string, string, string, string> = () => (r, ctx) =>
        Effect.gen(function* () {
          const f = yield* Upper
          ctx.forward(StreamRecord.withValue(r, `${r.value}-1`))
          ctx.forward(StreamRecord.withValue(r, yield* f(r.value)))
        })
      const topology = yield* TopologyBuilder.make<Upper>()
        .addSource("In", words)
        .addProcessor("Upper", upper, "In")
        .addSink("Out", "out", { keySerde: Serdes.string, valueSerde: Serdes.string }, "Upper").build
      const driver = yield* TopologyTestDriver.make(topology).pipe(
        Effect.provideService(Upper, (s) => Effect.succeed(s.toUpperCase()))
      )
      yield* driver.createInputTopic(words).pipeKeyValueList([
        { key: "1", value: "a" },
        { key: "2", value: "b" }
      ])
      const out = driver.createOutputTopic({ name: "out", key: Serdes.string, value: Serdes.string })
      assert.deepStrictEqual(out.readValuesToList(), ["a-1", "A", "b-1", "B"])
    }).pipe(Effect.scoped)
  )

  it.effect("a global store with a custom update processor; a read-only store read by another processor", () =>
    Effect.gen(function* () {
      const lookup = Topic.make("lookup", { key: Schema.String, value: Schema.String })
      // a second processor connected to the read-only store (stores may be shared inside a sub-topology)
      const alsoReads: Api.ProcessorSupplier<string, string> = () => ({
        init: (ctx) => assert.strictEqual(ctx.getStateStore<KeyValueStore<string, number>>("Lengths").name, "Lengths"),
        process: () => undefined
      })
      const lengths: Api.ProcessorSupplier<string, string> = () => (r, ctx) =>
        ctx.getStateStore<KeyValueStore<string, number>>("Lengths").put(r.key, r.value.length)
      const reader: Api.ProcessorSupplier<string, string, string, string> = () => (r, ctx) => {
        const n = ctx.getStateStore<KeyValueStore<string, number>>("Lengths").get(r.value)
        ctx.forward(StreamRecord.withValue(r, `${r.value}:${n ?? "?"}`))
      }
      const upperInto: Api.ProcessorSupplier<string, string> = () => (r, ctx) =>
        ctx.getStateStore<KeyValueStore<string, string>>("Global").put(r.key, r.value.toUpperCase())
      const topology = yield* TopologyBuilder.make()
        .addGlobalStore(
          keyValueStoreBuilder(
            Stores.inMemoryKeyValueStore("Global"),
            Serdes.string,
            Serdes.string
          ).withLoggingDisabled(),
          "GlobalIn",
          texts,
          {},
          "GlobalUpdate",
          upperInto
        )
        .addReadOnlyStateStore(countStore("Lengths"), "LookupIn", lookup, {}, "LookupUpdate", lengths)
        .addSource("WordsIn", words)
        .addProcessor("Reader", reader, "WordsIn")
        .addProcessor("AlsoReads", alsoReads, "WordsIn")
        .connectProcessorAndStateStores("Reader", "Lengths")
        .connectProcessorAndStateStores("AlsoReads", "Lengths")
        .addSink("Out", "out", { keySerde: Serdes.string, valueSerde: Serdes.string }, "Reader").build
      const driver = yield* TopologyTestDriver.make(topology)
      yield* driver.createInputTopic(texts).pipeInput("k", "hello")
      assert.strictEqual(driver.getKeyValueStore<string, string>("Global").get("k"), "HELLO")
      yield* driver.createInputTopic(lookup).pipeInput("abc", "xyzzy")
      yield* driver.createInputTopic(words).pipeKeyValueList([
        { key: "1", value: "abc" },
        { key: "2", value: "nope" }
      ])
      const out = driver.createOutputTopic({ name: "out", key: Serdes.string, value: Serdes.string })
      assert.deepStrictEqual(out.readValuesToList(), ["abc:5", "nope:?"])
      // the read-only store writes no changelog
      assert.isFalse([...driver.producedTopicNames()].some((t) => t.includes("Lengths")))
    }).pipe(Effect.scoped)
  )
})

describe("punctuation in the TopologyTestDriver", () => {
  const ticks = Topic.make("ticks", { key: Schema.String, value: Schema.Number })

  it.effect("a stream-time punctuator fires exactly 6 times for 60 records 1 s apart with a 10 s interval", () =>
    Effect.gen(function* () {
      const fired: Array<{ at: number; meta: Api.RecordMetadata | undefined }> = []
      const supplier: Api.ProcessorSupplier<string, string, string, number> = () => ({
        init(ctx) {
          ctx.schedule("10 seconds", PunctuationType.STREAM_TIME, (at) => {
            fired.push({ at, meta: ctx.recordMetadata() })
            ctx.forward(StreamRecord.make("tick", at, at))
          })
        },
        process: () => undefined
      })
      const topology = yield* TopologyBuilder.make()
        .addSource("In", words)
        .addProcessor("P", supplier, "In")
        .addSink("Out", ticks, {}, "P").build
      const driver = yield* TopologyTestDriver.make(topology)
      const input = driver.createInputTopic(words, { startTimestamp: 0, autoAdvance: 1000 })
      yield* input.pipeKeyValueList(Array.from({ length: 60 }, (_, i) => ({ key: "k", value: `${i}` })))
      assert.deepStrictEqual(
        fired.map((f) => f.at),
        [0, 10_000, 20_000, 30_000, 40_000, 50_000]
      )
      assert.isTrue(fired.every((f) => f.meta === undefined))
      const out = driver.createOutputTopic(ticks).readRecordsToList()
      assert.deepStrictEqual(
        out.map((r) => r.timestamp),
        [0, 10_000, 20_000, 30_000, 40_000, 50_000]
      )
    }).pipe(Effect.scoped)
  )

  it.effect("a wall-clock punctuator fires only when the driver's clock advances; cancel stops it", () =>
    Effect.gen(function* () {
      const fired: Array<number> = []
      let cancellable: Api.Cancellable | undefined
      const supplier: Api.ProcessorSupplier<string, string> = () => ({
        init(ctx) {
          cancellable = ctx.schedule(1000, PunctuationType.WALL_CLOCK_TIME, (at) => void fired.push(at))
        },
        process: () => undefined
      })
      const topology = yield* TopologyBuilder.make().addSource("In", words).addProcessor("P", supplier, "In").build
      const driver = yield* TopologyTestDriver.make(topology)
      const input = driver.createInputTopic(words, { startTimestamp: 0, autoAdvance: 60_000 })
      yield* input.pipeKeyValueList([
        { key: "k", value: "a" },
        { key: "k", value: "b" }
      ])
      assert.deepStrictEqual(fired, [])
      yield* driver.advanceWallClockTime(999)
      assert.deepStrictEqual(fired, [])
      yield* driver.advanceWallClockTime(1)
      assert.deepStrictEqual(fired, [1000])
      yield* driver.advanceWallClockTime(5000) // one late punctuation, not five
      assert.deepStrictEqual(fired, [1000, 6000])
      cancellable!.cancel()
      yield* driver.advanceWallClockTime(10_000)
      assert.deepStrictEqual(fired, [1000, 6000])
    }).pipe(Effect.scoped)
  )

  it.effect("a failing punctuator goes to the processing exception handler", () =>
    Effect.gen(function* () {
      const supplier: Api.ProcessorSupplier<string, string> = () => ({
        init(ctx) {
          ctx.schedule(10, PunctuationType.WALL_CLOCK_TIME, () => {
            throw new Error("boom")
          })
        },
        process: () => undefined
      })
      const topology = yield* TopologyBuilder.make().addSource("In", words).addProcessor("P", supplier, "In").build
      const failing = yield* TopologyTestDriver.make(topology)
      const error = yield* Effect.flip(failing.advanceWallClockTime(10))
      assert.strictEqual(error._tag, "ProcessingError")
      assert.include(error.message, "Punctuator of P failed at 10")
      const tolerant = yield* TopologyTestDriver.make(topology, { "processing.exception.handler": "log-and-continue" })
      yield* tolerant.advanceWallClockTime(10)
    }).pipe(Effect.scoped)
  )

  it.effect("a pattern source in the driver reads every matching topic", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make({ "default.key.serde": Serdes.string, "default.value.serde": Serdes.string })
      builder
        .stream<string, string>(/logs-[a-z]+/)
        .mapValues((v) => v.toUpperCase())
        .to("out")
      const driver = yield* TopologyTestDriver.make(yield* builder.build)
      const topic = (name: string) => ({ name, key: Serdes.string, value: Serdes.string })
      yield* driver.createInputTopic(topic("logs-a")).pipeInput("k", "a")
      yield* driver.createInputTopic(topic("logs-b")).pipeInput("k", "b")
      yield* driver.createInputTopic(topic("logs-1")).pipeInput("k", "1")
      assert.deepStrictEqual(driver.createOutputTopic(topic("out")).readValuesToList(), ["A", "B"])
    }).pipe(Effect.scoped)
  )

  it.effect("a per-source timestamp extractor sets its source's event time; other sources keep the default", () =>
    Effect.gen(function* () {
      const seen: Array<[string, number]> = []
      const record: Api.ProcessorSupplier<string, string> = () => (r) => {
        seen.push([r.value, r.timestamp])
      }
      // event time carried in the value ("name@ms"), as a custom extractor reads it
      const fromValue: TimestampExtractor = (r) => Number(String(r.value).split("@")[1])
      const topic = (name: string) => ({ name, key: Serdes.string, value: Serdes.string })
      const topology = yield* TopologyBuilder.make()
        .addSource("Extracted", "in-a", {
          keySerde: Serdes.string,
          valueSerde: Serdes.string,
          timestampExtractor: fromValue
        })
        .addSource("ByPattern", /in-p[0-9]/, {
          keySerde: Serdes.string,
          valueSerde: Serdes.string,
          timestampExtractor: (r) => r.timestamp + 1000
        })
        .addSource("Default", "in-b", { keySerde: Serdes.string, valueSerde: Serdes.string })
        .addProcessor("Record", record, "Extracted", "ByPattern", "Default").build
      const driver = yield* TopologyTestDriver.make(topology)
      yield* driver.createInputTopic(topic("in-a")).pipeInput("k", "a@42", 7)
      yield* driver.createInputTopic(topic("in-p1")).pipeInput("k", "p", 5)
      yield* driver.createInputTopic(topic("in-b")).pipeInput("k", "b@42", 9)
      assert.deepStrictEqual(seen, [
        ["a@42", 42],
        ["p", 1005],
        ["b@42", 9]
      ])
    }).pipe(Effect.scoped)
  )

  it.effect("forwarding in init is a mistake reported when the task starts", () =>
    Effect.gen(function* () {
      const eager: Api.ProcessorSupplier<string, string> = () => ({
        init: (ctx) => ctx.forward(StreamRecord.make("k", "v", 0)),
        process: () => undefined
      })
      const topology = yield* TopologyBuilder.make().addSource("In", words).addProcessor("P", eager, "In").build
      const exit = yield* Effect.exit(TopologyTestDriver.make(topology))
      assert.isTrue(exit._tag === "Failure" && String(exit.cause).includes("cannot forward in init"))
    }).pipe(Effect.scoped)
  )
})
