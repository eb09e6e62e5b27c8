import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import { BufferConfig, Suppressed } from "../../src/dsl/Suppressed.js"
import * as WindowedSerdes from "../../src/dsl/WindowedSerdes.js"
import { TimeWindows } from "../../src/dsl/Windows.js"
import * as KafkaStreams from "../../src/KafkaStreams.js"
import * as Serdes from "../../src/Serdes.js"
import { fastGroup, readAll, setup, waitUntil } from "./util.js"

const clicks = Topic.make("clicks", { key: Schema.String, value: Schema.String })
const finals = Topic.make("finals", { key: WindowedSerdes.timeWindowed(Serdes.string, 10_000), value: Serdes.long })

describe("suppression on a broker", () => {
  it.scopedLive(
    "restarting an app with suppress(untilWindowCloses) neither loses nor repeats a final result",
    () =>
      Effect.gen(function* () {
        const { bootstrap, producer, admin } = yield* setup({ clicks: 1, finals: 1 })
        const builder = StreamsBuilder.make()
        builder
          .stream(clicks)
          .groupByKey()
          .windowedBy(TimeWindows.ofSizeWithNoGrace(10_000))
          .count()
          .suppress(Suppressed.withName(Suppressed.untilWindowCloses(BufferConfig.unbounded()), "finals"))
          .toStream()
          .to(finals)
        const topology = yield* builder.build
        const config = {
          "application.id": "suppress-restart",
          "bootstrap.servers": bootstrap,
          "commit.interval.ms": 100,
          "state.dir": mkdtempSync(join(tmpdir(), "streams-suppress-")),
          ...fastGroup
        }
        const finalResults = Effect.map(readAll(bootstrap, finals, 1), (rs) =>
          rs.map((r) => `${r.key!.key}@${r.key!.window.start}=${r.value}`)
        )
        const send = (records: ReadonlyArray<readonly [string, number]>) =>
          producer.sendBatch(
            clicks,
            records.map(([key, timestamp]) => ({ key, value: "x", timestamp }))
          )
        const runUntil = (count: number) =>
          Effect.scoped(
            Effect.gen(function* () {
              const app = yield* KafkaStreams.make(topology, config)
              yield* app.start
              yield* waitUntil(
                `${count} final results`,
                Effect.map(finalResults, (rs) => rs.length >= count)
              )
              yield* app.close
            })
          )
        yield* send([
          ["a", 1_000],
          ["a", 2_000],
          ["b", 5_000],
          ["c", 12_000], // closes [0, 10000)
          ["x", 15_000]
        ])
        yield* runUntil(2)
        assert.deepStrictEqual(yield* finalResults, ["a@0=2", "b@0=1"])
        const topics = yield* admin.listTopics()
        assert.isTrue(topics.includes("suppress-restart-finals-store-changelog"))
        // after the restart: a late record of the emitted window, then one that closes [10000, 20000)
        yield* send([
          ["a", 3_000],
          ["a", 25_000]
        ])
        yield* runUntil(4)
        yield* Effect.sleep(500)
        assert.deepStrictEqual(yield* finalResults, ["a@0=2", "b@0=1", "c@10000=1", "x@10000=1"])
      }),
    90_000
  )
})
