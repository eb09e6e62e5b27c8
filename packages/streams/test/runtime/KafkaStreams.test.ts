import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { materializedAs } from "../../src/dsl/Options.js"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import * as KafkaStreams from "../../src/KafkaStreams.js"
import * as Serdes from "../../src/Serdes.js"
import { fastGroup, readAll, setup, waitUntil } from "./util.js"

const lines = Topic.make("lines", { key: Schema.String, value: Schema.String })
const counts = Topic.make("word-counts", { key: Schema.String, value: Serdes.long })

const wordCount = StreamsBuilder.make({ "default.key.serde": Serdes.string, "default.value.serde": Serdes.string })
wordCount
  .stream(lines)
  .flatMapValues((line) =>
    line
      .toLowerCase()
      .split(/\W+/)
      .filter((w) => w !== "")
  )
  .groupBy((_k, word) => word)
  .count(materializedAs("counts"))
  .toStream()
  .to(counts)

const latest = <K, V>(records: ReadonlyArray<{ key: K | null; value: V }>) => {
  const m = new Map<K, V>()
  for (const r of records) m.set(r.key as K, r.value)
  return m
}

describe("KafkaStreams on a broker", () => {
  it.scopedLive(
    "word count end to end: internal topics, states, output, graceful close commits",
    () =>
      Effect.gen(function* () {
        const { bootstrap, producer, admin } = yield* setup({ lines: 2, "word-counts": 2 })
        const topology = yield* wordCount.build
        const seen: Array<string> = []
        const app = yield* KafkaStreams.make(
          topology,
          {
            "application.id": "wc",
            "bootstrap.servers": bootstrap,
            "commit.interval.ms": 200,
            "state.dir": mkdtempSync(join(tmpdir(), "streams-")),
            ...fastGroup
          },
          { onStateChange: (s) => Effect.sync(() => seen.push(s)) }
        )
        assert.strictEqual(yield* app.state, "CREATED")
        yield* app.start
        yield* KafkaStreams.awaitState(app, "RUNNING")
        const topics = yield* admin.listTopics()
        assert.ok(topics.includes("wc-counts-repartition") && topics.includes("wc-counts-changelog"))
        const [changelog] = yield* admin.describeTopics(["wc-counts-changelog"])
        assert.strictEqual(changelog!.partitions.length, 2)
        yield* producer.sendBatch(lines, [
          { key: "1", value: "the cat and the hat" },
          { key: "2", value: "The end" }
        ])
        const expected = new Map([
          ["the", 3],
          ["cat", 1],
          ["and", 1],
          ["hat", 1],
          ["end", 1]
        ])
        yield* waitUntil(
          "word counts",
          Effect.map(readAll(bootstrap, counts, 2), (rs) => {
            const m = latest(rs)
            return [...expected].every(([k, v]) => m.get(k) === v)
          })
        )
        yield* app.close
        assert.deepStrictEqual(seen, ["REBALANCING", "RUNNING", "PENDING_SHUTDOWN", "NOT_RUNNING"])
        const offsets = yield* admin.listGroupOffsets("wc")
        const committed = offsets.filter((o) => o.topic === "lines").reduce((n, o) => n + Math.max(0, o.offset), 0)
        assert.strictEqual(committed, 2)
      }),
    60_000
  )

  it.scopedLive(
    "a global table is loaded before the threads start and then follows its topic",
    () =>
      Effect.gen(function* () {
        const { bootstrap, producer } = yield* setup({ countries: 3, visits: 1 })
        const countries = Topic.make("countries", { key: Schema.String, value: Schema.NullOr(Schema.String) })
        yield* producer.sendBatch(countries, [
          { key: "fr", value: "France", partition: 0 },
          { key: "it", value: "Italy", partition: 1 },
          { key: "es", value: "Spain", partition: 2 },
          { key: "it", value: null, partition: 1 }
        ])
        const builder = StreamsBuilder.make()
        builder.globalTable(countries, {}, materializedAs("countries-store"))
        builder.stream(Topic.make("visits", { key: Schema.String, value: Schema.String })).foreach(() => {})
        const app = yield* KafkaStreams.make(yield* builder.build, {
          "application.id": "globals",
          "bootstrap.servers": bootstrap,
          "state.dir": mkdtempSync(join(tmpdir(), "streams-")),
          ...fastGroup
        })
        yield* app.start
        const store = yield* app.globalKeyValueStore<string, string>("countries-store")
        assert.deepStrictEqual(
          [...store.all()],
          [
            { key: "es", value: "Spain" },
            { key: "fr", value: "France" }
          ]
        )
        yield* producer.send(countries, { key: "de", value: "Germany", partition: 0 })
        yield* waitUntil(
          "the new row",
          Effect.sync(() => store.get("de") === "Germany")
        )
      }),
    60_000
  )

  it.scopedLive(
    "a failing thread: REPLACE_THREAD reprocesses the record in a new thread; SHUTDOWN_CLIENT ends in ERROR",
    () =>
      Effect.gen(function* () {
        const { bootstrap, producer } = yield* setup({ jobs: 1, done: 1 })
        const jobs = Topic.make("jobs", { key: Schema.String, value: Schema.String })
        const done = Topic.make("done", { key: Schema.String, value: Schema.String })
        let failures = 0
        const builder = StreamsBuilder.make()
        builder
          .stream(jobs)
          .mapValues((v) => {
            if (v === "flaky" && failures++ === 0) throw new Error("first attempt fails")
            if (v === "poison") throw new Error("always fails")
            return v.toUpperCase()
          })
          .to(done)
        const topology = yield* builder.build
        const base = {
          "bootstrap.servers": bootstrap,
          "commit.interval.ms": 100,
          "state.dir": mkdtempSync(join(tmpdir(), "streams-")),
          ...fastGroup
        }
        const replacing = yield* KafkaStreams.make(topology, {
          ...base,
          "application.id": "replace",
          "uncaught.exception.handler": () => "REPLACE_THREAD"
        })
        yield* replacing.start
        yield* producer.send(jobs, { key: "1", value: "flaky" })
        yield* waitUntil(
          "the flaky job done by a new thread",
          Effect.map(readAll(bootstrap, done, 1), (rs) => rs.some((r) => r.value === "FLAKY"))
        )
        assert.strictEqual(failures, 2)
        yield* replacing.close

        const seen: Array<string> = []
        const failing = yield* KafkaStreams.make(
          topology,
          { ...base, "application.id": "shutdown" },
          { onStateChange: (s) => Effect.sync(() => seen.push(s)) }
        )
        yield* failing.start
        yield* producer.send(jobs, { key: "2", value: "poison" })
        yield* waitUntil(
          "ERROR",
          Effect.map(failing.state, (s) => s === "ERROR")
        )
        assert.deepStrictEqual(seen.slice(-2), ["PENDING_ERROR", "ERROR"])
      }),
    60_000
  )

  it.scopedLive(
    "KafkaStreams.layer starts the application with the layer and closes it with the layer's scope",
    () =>
      Effect.gen(function* () {
        const { bootstrap, producer } = yield* setup({ "layer-in": 1, "layer-out": 1 })
        const inTopic = Topic.make("layer-in", { key: Schema.String, value: Schema.String })
        const outTopic = Topic.make("layer-out", { key: Schema.String, value: Schema.String })
        const builder = StreamsBuilder.make()
        builder
          .stream(inTopic)
          .mapValues((v) => `${v}!`)
          .to(outTopic)
        const layer = KafkaStreams.layer(yield* builder.build, {
          "application.id": "layered",
          "bootstrap.servers": bootstrap,
          "commit.interval.ms": 100,
          "state.dir": mkdtempSync(join(tmpdir(), "streams-")),
          ...fastGroup
        })
        const final = yield* Effect.scoped(
          Effect.gen(function* () {
            const app = yield* KafkaStreams.KafkaStreamsTag
            yield* KafkaStreams.awaitState(app, "RUNNING")
            yield* producer.send(inTopic, { key: "k", value: "hi" })
            yield* waitUntil(
              "the output",
              Effect.map(readAll(bootstrap, outTopic, 1), (rs) => rs.some((r) => r.value === "hi!"))
            )
            return app
          }).pipe(Effect.provide(layer))
        )
        assert.strictEqual(yield* final.state, "NOT_RUNNING")
      }),
    60_000
  )
})
