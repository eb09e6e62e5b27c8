import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Schema, Scope } from "effect"
import { materializedAs } from "../../src/dsl/Options.js"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import * as KafkaStreams from "../../src/KafkaStreams.js"
import * as Serdes from "../../src/Serdes.js"
import { fastGroup, readAll, setup, waitUntil } from "./util.js"

const events = Topic.make("events", { key: Schema.String, value: Schema.String })
const counts = Topic.make("event-counts", { key: Schema.String, value: Serdes.long })

const topology = () => {
  const builder = StreamsBuilder.make()
  builder.stream(events).groupByKey().count(materializedAs("per-key")).toStream().to(counts)
  return builder.build
}

describe("KafkaStreams: two instances", () => {
  it.scopedLive(
    "split the tasks of a 4-partition input; when one leaves the other takes its tasks and restores their state",
    () =>
      Effect.gen(function* () {
        const { bootstrap, producer } = yield* setup({ events: 4, "event-counts": 4 })
        const t = yield* topology()
        const config = (dir: string) => ({
          "application.id": "split",
          "bootstrap.servers": bootstrap,
          "commit.interval.ms": 100,
          "state.dir": mkdtempSync(join(tmpdir(), dir)),
          ...fastGroup
        })
        const a = yield* KafkaStreams.make(t, config("a-"))
        yield* a.start
        yield* KafkaStreams.awaitState(a, "RUNNING")
        assert.deepStrictEqual(yield* a.activeTasks, ["0_0", "0_1", "0_2", "0_3"])

        const bScope = yield* Scope.make()
        const b = yield* KafkaStreams.make(t, config("b-")).pipe(Scope.extend(bScope))
        yield* b.start
        yield* waitUntil(
          "the tasks to be split",
          Effect.map(Effect.all([a.activeTasks, b.activeTasks]), ([x, y]) => x.length === 2 && y.length === 2)
        )
        assert.deepStrictEqual([...(yield* a.activeTasks), ...(yield* b.activeTasks)].sort(), [
          "0_0",
          "0_1",
          "0_2",
          "0_3"
        ])

        const keys = Array.from({ length: 16 }, (_, i) => `k${i}`)
        const send = (round: number) =>
          producer.sendBatch(
            events,
            keys.map((key) => ({ key, value: `r${round}` }))
          )
        yield* send(1)
        yield* send(2)
        const allAt = (n: number) =>
          Effect.map(readAll(bootstrap, counts, 4), (rs) => {
            const m = new Map<string, number>()
            for (const r of rs) m.set(r.key!, r.value)
            return keys.every((k) => m.get(k) === n)
          })
        yield* waitUntil("counts of 2", allAt(2))

        yield* Scope.close(bScope, Exit.void)
        yield* waitUntil(
          "a to own every task",
          Effect.map(a.activeTasks, (ts) => ts.length === 4)
        )
        yield* send(3)
        // the moved tasks restored their counts from the changelog: 3, not 1
        yield* waitUntil("counts of 3", allAt(3))
      }),
    90_000
  )

  it.scopedLive(
    "SHUTDOWN_APPLICATION: a thread failing on one instance stops every instance (through the group)",
    () =>
      Effect.gen(function* () {
        const { bootstrap, producer } = yield* setup({ jobs: 2, done: 2 })
        const jobs = Topic.make("jobs", { key: Schema.String, value: Schema.String })
        const done = Topic.make("done", { key: Schema.String, value: Schema.String })
        const builder = StreamsBuilder.make()
        builder
          .stream(jobs)
          .mapValues((v) => {
            if (v === "poison") throw new Error("always fails")
            return v.toUpperCase()
          })
          .to(done)
        const t = yield* builder.build
        const config = (dir: string) => ({
          "application.id": "stop-all",
          "bootstrap.servers": bootstrap,
          "commit.interval.ms": 100,
          "state.dir": mkdtempSync(join(tmpdir(), dir)),
          "uncaught.exception.handler": () => "SHUTDOWN_APPLICATION" as const,
          ...fastGroup
        })
        const a = yield* KafkaStreams.make(t, config("a-"))
        const b = yield* KafkaStreams.make(t, config("b-"))
        yield* a.start
        yield* b.start
        yield* waitUntil(
          "the tasks to be split",
          Effect.map(Effect.all([a.activeTasks, b.activeTasks]), ([x, y]) => x.length === 1 && y.length === 1)
        )
        yield* Effect.all([KafkaStreams.awaitState(a, "RUNNING"), KafkaStreams.awaitState(b, "RUNNING")])
        // the poison record goes to partition 1: one instance fails, both stop
        yield* producer.send(jobs, { key: "k", value: "poison", partition: 1 })
        yield* waitUntil(
          "both instances in ERROR",
          Effect.map(Effect.all([a.state, b.state]), ([x, y]) => x === "ERROR" && y === "ERROR")
        )
      }),
    90_000
  )

  it.scopedLive(
    "tasks are balanced per stream thread: an instance with two threads runs twice the tasks of one with one",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* setup({ events: 6, "event-counts": 6 })
        const t = yield* topology()
        const config = (dir: string, threads: number) => ({
          "application.id": "threads",
          "bootstrap.servers": bootstrap,
          "commit.interval.ms": 100,
          "num.stream.threads": threads,
          "state.dir": mkdtempSync(join(tmpdir(), dir)),
          ...fastGroup
        })
        const a = yield* KafkaStreams.make(t, config("two-", 2))
        const b = yield* KafkaStreams.make(t, config("one-", 1))
        yield* a.start
        yield* b.start
        yield* waitUntil(
          "a 4/2 split",
          Effect.map(Effect.all([a.activeTasks, b.activeTasks]), ([x, y]) => x.length === 4 && y.length === 2)
        )
        assert.deepStrictEqual([...(yield* a.activeTasks), ...(yield* b.activeTasks)].sort(), [
          "0_0",
          "0_1",
          "0_2",
          "0_3",
          "0_4",
          "0_5"
        ])
      }),
    90_000
  )
})
