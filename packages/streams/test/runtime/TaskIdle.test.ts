import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import * as KafkaStreams from "../../src/KafkaStreams.js"
import { fastGroup, readAll, setup, waitUntil } from "./util.js"

const left = Topic.make("left", { key: Schema.String, value: Schema.String })
const right = Topic.make("right", { key: Schema.String, value: Schema.String })
const merged = Topic.make("merged", { key: Schema.String, value: Schema.String })

describe("max.task.idle.ms on a broker", () => {
  it.scopedLive(
    "a task reading two partitions processes them in timestamp order, waiting for the empty one up to max.task.idle.ms",
    () =>
      Effect.gen(function* () {
        const { bootstrap, producer } = yield* setup({ left: 1, right: 1, merged: 1 })
        yield* producer.sendBatch(left, [
          { key: "k", value: "l100", timestamp: 100 },
          { key: "k", value: "l300", timestamp: 300 }
        ])
        yield* producer.sendBatch(right, [{ key: "k", value: "r200", timestamp: 200 }])
        const builder = StreamsBuilder.make()
        builder.stream(left).merge(builder.stream(right)).to(merged)
        const app = yield* KafkaStreams.make(yield* builder.build, {
          "application.id": "idle",
          "bootstrap.servers": bootstrap,
          "commit.interval.ms": 100,
          "max.task.idle.ms": 1000,
          "state.dir": mkdtempSync(join(tmpdir(), "streams-idle-")),
          ...fastGroup
        })
        yield* app.start
        const started = Date.now()
        yield* waitUntil(
          "three merged records",
          Effect.map(readAll(bootstrap, merged, 1), (rs) => rs.length >= 3)
        )
        // the last record waits for the (then empty) right partition until the idle deadline
        assert.isAtLeast(Date.now() - started, 900)
        const values = (yield* readAll(bootstrap, merged, 1)).map((r) => r.value)
        assert.deepStrictEqual(values, ["l100", "r200", "l300"])
        yield* app.close
      }),
    60_000
  )
})
