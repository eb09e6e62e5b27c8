import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as KafkaStreams from "../../src/KafkaStreams.js"
import { standbyConfig, standbyCounts, standbyEvents, standbyTopology } from "./fixtures/standbyTopology.js"
import { readAll, setup, waitUntil } from "./util.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.join(here, "..", "..", "..", "..")

/** Starts the fixture instance as a child process; resolves once it prints RUNNING, killed with the scope. */
const startChild = (bootstrap: string) =>
  Effect.acquireRelease(
    Effect.async<ChildProcess, Error>((resume) => {
      const child = spawn(
        process.execPath,
        ["--conditions=@eddy/source", "--import", "tsx", path.join(here, "fixtures", "standbyInstance.ts")],
        {
          cwd: root,
          env: { ...process.env, BOOTSTRAP: bootstrap, STATE_DIR: mkdtempSync(path.join(tmpdir(), "standby-a-")) },
          stdio: ["ignore", "pipe", "pipe"]
        }
      )
      let out = ""
      child.stderr!.on("data", (d) => {
        out += String(d)
      })
      child.stdout!.on("data", (d) => {
        out += String(d)
        if (out.includes("RUNNING")) resume(Effect.succeed(child))
      })
      child.on("exit", (code) => resume(Effect.fail(new Error(`the instance exited with ${code}: ${out}`))))
    }).pipe(Effect.timeout("60 seconds"), Effect.orDie),
    (child) => kill(child)
  )

const kill = (child: ChildProcess) =>
  Effect.async<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
    child.kill("SIGKILL")
  })

describe("standby replicas", () => {
  it.scopedLive(
    "num.standby.replicas=1: after kill -9 of the active instance the standby takes over restoring only the tail",
    () =>
      Effect.gen(function* () {
        const { bootstrap, producer } = yield* setup({ "standby-events": 2, "standby-counts": 2 })
        const topology = yield* standbyTopology
        const a = yield* startChild(bootstrap)
        const restored = new Map<number, number>()
        const b = yield* KafkaStreams.make(
          topology,
          standbyConfig(bootstrap, mkdtempSync(path.join(tmpdir(), "standby-b-"))),
          {
            restoreListener: {
              onRestoreEnd: (_topic, partition, _store, total) =>
                void restored.set(partition, (restored.get(partition) ?? 0) + total)
            }
          }
        )
        yield* b.start
        yield* waitUntil(
          "one active and one standby task on b",
          Effect.map(Effect.all([b.activeTasks, b.standbyTasks]), ([x, y]) => x.length === 1 && y.length === 1)
        )
        const [bActive] = yield* b.activeTasks
        const [bStandby] = yield* b.standbyTasks
        assert.notStrictEqual(bActive, bStandby)
        const reference = new Map<string, number>()
        const send = (n: number) => {
          const records = Array.from({ length: n }, (_, i) => {
            const key = `k${i % 400}`
            reference.set(key, (reference.get(key) ?? 0) + 1)
            return { key, value: "x" }
          })
          return producer.sendBatch(standbyEvents, records)
        }
        const countsMatch = Effect.map(readAll(bootstrap, standbyCounts, 2), (rs) => {
          const m = new Map<string, number>()
          for (const r of rs) m.set(r.key!, r.value)
          return [...reference].every(([k, n]) => m.get(k) === n)
        })
        for (let round = 0; round < 5; round++) yield* send(800)
        yield* waitUntil("every count in the output", countsMatch)
        const changelog = "standby-per-key-changelog"
        const standbyPartition = Number(bStandby!.split("_")[1])
        const ends = yield* readAll(bootstrap, { ...standbyCounts, name: changelog }, 2)
        const changelogRecords = ends.filter((r) => r.partition === standbyPartition).length
        yield* waitUntil(
          "the standby to catch up",
          Effect.map(b.storeLags, (lags) => lags.length === 1 && lags[0]!.lag === 0 && lags[0]!.end > 0)
        )
        assert.isAtLeast(changelogRecords, 200)
        // stale reads: b answers every key from its active task or its standby
        const stale = yield* b.store<string, number>("per-key", undefined, { enableStaleStores: true })
        yield* waitUntil(
          "the standby to hold every count",
          Effect.sync(() => [...reference].every(([k, n]) => stale.get(k) === n))
        )
        const fresh = yield* b.store<string, number>("per-key")
        assert.throws(() => [...reference.keys()].map((k) => fresh.get(k)), /not hosted by this instance/)
        restored.clear()
        yield* kill(a)
        yield* waitUntil(
          "b to run both tasks",
          Effect.map(b.activeTasks, (ts) => ts.length === 2),
          60_000
        )
        yield* KafkaStreams.awaitState(b, "RUNNING")
        // the promoted standby restored at most the tail written after its last fetch, not the changelog
        const restoredHere = restored.get(standbyPartition) ?? 0
        assert.isBelow(restoredHere, changelogRecords / 10, `restored ${restoredHere} of ${changelogRecords}`)
        // and its state is right: counts go on from where the killed instance left them
        yield* send(400)
        yield* waitUntil("counts after the fail-over", countsMatch)
      }),
    120_000
  )

  const warmUp = (storeType: "rocksDB" | "in_memory") =>
    Effect.gen(function* () {
      const { bootstrap, producer } = yield* setup({ "standby-events": 2, "standby-counts": 2 })
      const topology = yield* standbyTopology
      const config = (dir: string) => ({
        ...standbyConfig(bootstrap, mkdtempSync(path.join(tmpdir(), dir))),
        "application.id": `warmup-${storeType.toLowerCase()}`,
        "default.dsl.store": storeType,
        "num.standby.replicas": 0,
        "acceptable.recovery.lag": 20,
        "probing.rebalance.interval.ms": 2000
      })
      const a = yield* KafkaStreams.make(topology, config("warm-a-"))
      yield* a.start
      yield* waitUntil(
        "a runs both tasks",
        Effect.map(a.activeTasks, (ts) => ts.length === 2)
      )
      yield* producer.sendBatch(
        standbyEvents,
        Array.from({ length: 600 }, (_, i) => ({ key: `k${i}`, value: "x" }))
      )
      yield* waitUntil(
        "every count in the output",
        Effect.map(readAll(bootstrap, standbyCounts, 2), (rs) => rs.length >= 600)
      )
      const restored: Array<number> = []
      const b = yield* KafkaStreams.make(topology, config("warm-b-"), {
        restoreListener: { onRestoreEnd: (_t, _p, _s, total) => void restored.push(total) }
      })
      yield* b.start
      // b has no state: the task the balance wants on b stays on a, and b warms up a replica of it
      yield* waitUntil(
        "a warm-up on b",
        Effect.map(Effect.all([b.activeTasks, b.standbyTasks]), ([x, y]) => x.length === 0 && y.length === 1)
      )
      assert.deepStrictEqual((yield* a.activeTasks).length, 2)
      // the probing rebalance moves it once the warm-up is within acceptable.recovery.lag
      yield* waitUntil(
        "the task to move to b",
        Effect.map(Effect.all([a.activeTasks, b.activeTasks]), ([x, y]) => x.length === 1 && y.length === 1),
        30_000
      )
      assert.deepStrictEqual(yield* b.standbyTasks, [])
      // persistent stores reopen from the warm-up's checkpoint; in-memory ones are handed over open
      assert.isTrue(
        restored.every((n) => n <= 20),
        `restored ${restored}`
      )
      // and the moved task counts on from the handed-over state
      yield* producer.sendBatch(
        standbyEvents,
        Array.from({ length: 600 }, (_, i) => ({ key: `k${i}`, value: "x" }))
      )
      yield* waitUntil(
        "every key counted twice",
        Effect.map(
          readAll(bootstrap, standbyCounts, 2),
          (rs) => new Set(rs.filter((r) => r.value === 2).map((r) => r.key)).size === 600
        )
      )
    })

  it.scopedLive(
    "warm-up: a task stays on its caught-up owner while a warm-up replica catches up, then moves (probing rebalance)",
    () => warmUp("rocksDB"),
    120_000
  )

  it.scopedLive(
    "warm-up of in-memory stores: the promoted replica hands its store over, so only the tail is restored",
    () => warmUp("in_memory"),
    120_000
  )
})
