import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import * as KafkaStreams from "../../src/KafkaStreams.js"
import type * as Api from "../../src/processor/api/Processor.js"
import { PunctuationType } from "../../src/processor/api/Processor.js"
import * as StreamRecord from "../../src/processor/Record.js"
import * as Serdes from "../../src/Serdes.js"
import type { KeyValueStore } from "../../src/state/KeyValueStore.js"
import * as Stores from "../../src/state/Stores.js"
import * as TopologyBuilder from "../../src/topology/TopologyBuilder.js"
import { fastGroup, readAll, setup, waitUntil } from "./util.js"

const events = Topic.make("events", { key: Schema.String, value: Schema.String })
const labels = Topic.make("labels", { key: Schema.String, value: Schema.String })
const snapshots = Topic.make("snapshots", { key: Schema.String, value: Schema.String })

/**
 * Counts events per key in "Counts"; a wall-clock punctuator sends `<count>:<label>` of every key (the label
 * from the read-only store "Labels", which may arrive after the first events) and asks for a commit.
 */
const counter: Api.ProcessorSupplier<string, string, string, string> = () => {
  let counts: KeyValueStore<string, number>
  let names: KeyValueStore<string, string>
  return {
    init(ctx) {
      counts = ctx.getStateStore("Counts")
      names = ctx.getStateStore("Labels")
      ctx.schedule(100, PunctuationType.WALL_CLOCK_TIME, (now) => {
        for (const { key, value } of counts.all()) {
          ctx.forward(StreamRecord.make(key, `${value}:${names.get(key) ?? "?"}`, now))
        }
        ctx.commit()
      })
    },
    process(record) {
      counts.put(record.key, (counts.get(record.key) ?? 0) + 1)
    }
  }
}

const labelsUpdater: Api.ProcessorSupplier<string, string> = () => (r, ctx) =>
  ctx.getStateStore<KeyValueStore<string, string>>("Labels").put(r.key, r.value)

const topology = TopologyBuilder.make()
  .addReadOnlyStateStore(
    Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("Labels"), Serdes.string, Serdes.string),
    "LabelsSource",
    labels,
    {},
    "LabelsUpdate",
    labelsUpdater
  )
  .addSource("Events", events)
  .addProcessor("Count", counter, "Events")
  .addStateStore(
    Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("Counts"), Serdes.string, Serdes.long),
    "Count"
  )
  .connectProcessorAndStateStores("Count", "Labels")
  .addSink("Snapshots", snapshots, {}, "Count").build

describe("a hand-built topology on a broker", () => {
  it.scopedLive(
    "a store, a read-only store and a wall-clock punctuator through KafkaStreams; stores restored after a restart",
    () =>
      Effect.gen(function* () {
        const { bootstrap, producer, admin } = yield* setup({ events: 2, labels: 2, snapshots: 1 })
        const built = yield* topology
        const config = {
          "application.id": "papi",
          "bootstrap.servers": bootstrap,
          "commit.interval.ms": 60_000, // commits come from the punctuator's commit()
          ...fastGroup
        }
        const latest = Effect.map(readAll(bootstrap, snapshots, 1), (rs) => {
          const m = new Map<string, string>()
          for (const r of rs) m.set(r.key!, r.value)
          return m
        })
        yield* Effect.scoped(
          Effect.gen(function* () {
            const app = yield* KafkaStreams.make(built, {
              ...config,
              "state.dir": mkdtempSync(join(tmpdir(), "papi-"))
            })
            yield* app.start
            yield* KafkaStreams.awaitState(app, "RUNNING")
            yield* producer.sendBatch(labels, [
              { key: "a", value: "apple" },
              { key: "b", value: "banana" }
            ])
            yield* Effect.sleep(300)
            yield* producer.sendBatch(events, [
              { key: "a", value: "1" },
              { key: "b", value: "2" },
              { key: "a", value: "3" }
            ])
            yield* waitUntil(
              "snapshots from the punctuator",
              Effect.map(latest, (m) => m.get("a") === "2:apple" && m.get("b") === "1:banana")
            )
            // the punctuator's commit() committed the input offsets (commit.interval.ms is a minute)
            yield* waitUntil(
              "committed offsets",
              Effect.map(
                admin.listGroupOffsets("papi"),
                (os) => os.filter((o) => o.topic === "events").reduce((n, o) => n + Math.max(0, o.offset), 0) === 3
              )
            )
            const topics = yield* admin.listTopics()
            assert.isTrue(topics.includes("papi-Counts-changelog"))
            assert.isFalse(topics.some((t) => t.includes("Labels")))
          })
        )
        // a fresh state directory: Counts comes back from its changelog, Labels from its source topic
        const app = yield* KafkaStreams.make(built, { ...config, "state.dir": mkdtempSync(join(tmpdir(), "papi-")) })
        yield* app.start
        yield* KafkaStreams.awaitState(app, "RUNNING")
        yield* producer.sendBatch(events, [
          { key: "a", value: "4" },
          { key: "b", value: "5" }
        ])
        yield* waitUntil(
          "snapshots after the restart",
          Effect.map(latest, (m) => m.get("a") === "3:apple" && m.get("b") === "2:banana")
        )
      }),
    90_000
  )

  it.scopedLive(
    "a pattern source reads the matching topics that exist at start",
    () =>
      Effect.gen(function* () {
        const { bootstrap, producer } = yield* setup({ "logs-a": 1, "logs-b": 2, "logs-x1": 1, "logs-out": 1 })
        const builder = StreamsBuilder.make({
          "default.key.serde": Serdes.string,
          "default.value.serde": Serdes.string
        })
        builder
          .stream<string, string>(/logs-[a-z]/)
          .mapValues((v) => v.toUpperCase())
          .to("logs-out")
        const app = yield* KafkaStreams.make(yield* builder.build, {
          "application.id": "patterns",
          "bootstrap.servers": bootstrap,
          "commit.interval.ms": 100,
          "state.dir": mkdtempSync(join(tmpdir(), "papi-")),
          ...fastGroup
        })
        yield* app.start
        yield* KafkaStreams.awaitState(app, "RUNNING")
        const text = (name: string) => Topic.make(name, { key: Schema.String, value: Schema.String })
        yield* producer.send(text("logs-a"), { key: "1", value: "a" })
        yield* producer.send(text("logs-b"), { key: "2", value: "b", partition: 1 })
        yield* producer.send(text("logs-x1"), { key: "3", value: "x1" })
        const out = text("logs-out")
        yield* waitUntil(
          "both matching topics processed",
          Effect.map(readAll(bootstrap, out, 1), (rs) => rs.length >= 2)
        )
        assert.deepStrictEqual((yield* readAll(bootstrap, out, 1)).map((r) => r.value).sort(), ["A", "B"])
        assert.deepStrictEqual(yield* app.activeTasks, ["0_0", "0_1"])
      }),
    60_000
  )

  it.scopedLive(
    "a global store's Effect-returning update processor: each Effect completes before the next record",
    () =>
      Effect.gen(function* () {
        const { bootstrap, producer } = yield* setup({ rates: 2, unused: 1 })
        const rates = Topic.make("rates", { key: Schema.String, value: Schema.String })
        const slowly: Api.ProcessorSupplier<string, string> = () => (r, ctx) =>
          Effect.sleep(5).pipe(
            Effect.andThen(() => ctx.getStateStore<KeyValueStore<string, number>>("Rates").put(r.key, Number(r.value)))
          )
        const built = yield* TopologyBuilder.make()
          .addGlobalStore(
            Stores.keyValueStoreBuilder(
              Stores.inMemoryKeyValueStore("Rates"),
              Serdes.string,
              Serdes.long
            ).withLoggingDisabled(),
            "RatesSource",
            rates,
            {},
            "RatesUpdate",
            slowly
          )
          .addSource("Unused", "unused", { keySerde: Serdes.string, valueSerde: Serdes.string })
          .addProcessor("Nothing", () => () => undefined, "Unused").build
        yield* producer.sendBatch(rates, [
          { key: "eur", value: "1", partition: 0 },
          { key: "usd", value: "2", partition: 1 },
          { key: "eur", value: "3", partition: 0 }
        ])
        const app = yield* KafkaStreams.make(built, {
          "application.id": "global-papi",
          "bootstrap.servers": bootstrap,
          "state.dir": mkdtempSync(join(tmpdir(), "papi-")),
          ...fastGroup
        })
        yield* app.start
        const store = yield* app.globalKeyValueStore<string, number>("Rates")
        // loaded before start returned: every record's Effect ran, in order
        assert.deepStrictEqual(
          [...store.all()],
          [
            { key: "eur", value: 3 },
            { key: "usd", value: 2 }
          ]
        )
      }),
    60_000
  )

  it.scopedLive(
    "a source with offsetReset latest starts at the end when nothing is committed; the others at the start",
    () =>
      Effect.gen(function* () {
        const { bootstrap, producer } = yield* setup({ "from-end": 1, "from-start": 1, "reset-out": 1 })
        const text = (name: string) => Topic.make(name, { key: Schema.String, value: Schema.String })
        yield* producer.send(text("from-end"), { key: "k", value: "old-end" })
        yield* producer.send(text("from-start"), { key: "k", value: "old-start" })
        const serdes = { keySerde: Serdes.string, valueSerde: Serdes.string }
        const built = yield* TopologyBuilder.make()
          .addSource("End", "from-end", { ...serdes, offsetReset: "latest" })
          .addSource("Start", "from-start", serdes)
          .addSink("Out", "reset-out", serdes, "End", "Start").build
        const app = yield* KafkaStreams.make(built, {
          "application.id": "resets",
          "bootstrap.servers": bootstrap,
          "commit.interval.ms": 100,
          "state.dir": mkdtempSync(join(tmpdir(), "papi-")),
          ...fastGroup
        })
        yield* app.start
        yield* KafkaStreams.awaitState(app, "RUNNING")
        yield* producer.send(text("from-end"), { key: "k", value: "new-end" })
        const out = text("reset-out")
        yield* waitUntil(
          "the new record and the old one of the earliest source",
          Effect.map(readAll(bootstrap, out, 1), (rs) => rs.length >= 2)
        )
        yield* Effect.sleep(300) // anything more would show up by now (commit.interval.ms is 100)
        assert.deepStrictEqual((yield* readAll(bootstrap, out, 1)).map((r) => r.value).sort(), ["new-end", "old-start"])
      }),
    60_000
  )
})
