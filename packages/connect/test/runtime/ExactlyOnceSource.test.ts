/**
 * Exactly-once source tasks against a real broker: a file source's lines exactly once across a worker
 * restart, connector-defined boundaries (aborted transactions invisible to read_committed, records after a
 * record-level boundary in the next transaction), interval boundaries, and zombie fencing (a second worker
 * running the same task, a new task generation after a config change).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import * as Producer from "@eddy/core/client/Producer"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { sourceRecord } from "../../src/data/ConnectRecord.js"
import * as CS from "../../src/data/ConnectSchema.js"
import * as ConfigDef from "../../src/plugin/ConfigDef.js"
import * as Connector from "../../src/plugin/Connector.js"
import * as TransactionalOffsets from "../../src/runtime/TransactionalOffsets.js"
import { eventually, startEddy, tempDir } from "../util.js"
import { eosWorkerProps, makeEosWorker, valuesOf } from "./eosUtil.js"

const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `line-${from + i}`)

/** Calls of the scripted source's tasks, for assertions. */
const acknowledged: Array<string> = []

/**
 * A source whose polls follow a script: each step is a batch of values and the TransactionContext requests
 * to make with it (`commit`/`abort` after the batch, or `commit@v`/`abort@v` after the record of value v).
 */
const Scripted = Connector.source({
  className: "test.ScriptedSourceConnector",
  version: "1",
  config: ConfigDef.make({ topic: ConfigDef.string({ documentation: "topic" }) }),
  canDefineTransactionBoundaries: () => "SUPPORTED",
  connector: Effect.sync(() => {
    let props: Connector.Props = {}
    return {
      start: (p) =>
        Effect.sync(() => {
          props = p
        }),
      taskConfigs: () => Effect.succeed([props]),
      stop: Effect.void
    }
  }),
  task: Effect.sync((): Connector.SourceTask => {
    const script: Array<{ values: Array<string>; requests: Array<string> }> = [
      { values: ["a0", "a1", "a2"], requests: ["abort"] },
      { values: ["c0", "c1", "c2", "c3"], requests: ["commit@c1", "abort@c3"] },
      { values: ["d0"], requests: ["commit"] }
    ]
    let topic = ""
    let ctx: Connector.TransactionContext | null = null
    let n = 0
    return {
      start: (p, context) =>
        Effect.sync(() => {
          topic = p.topic!
          ctx = context.transactionContext
        }),
      poll: Effect.gen(function* () {
        const step = script.shift()
        if (!step) {
          yield* Effect.sleep("50 millis")
          return null
        }
        const records = step.values.map((v) =>
          sourceRecord({
            topic,
            sourcePartition: { source: "script" },
            sourceOffset: { n: n++, value: v },
            valueSchema: CS.STRING,
            value: v
          })
        )
        for (const r of step.requests) {
          const [what, at] = r.split("@")
          const record = at === undefined ? undefined : records.find((x) => x.value === at)
          yield* what === "commit" ? ctx!.commitTransaction(record) : ctx!.abortTransaction(record)
        }
        return records
      }),
      commitRecord: (record) => Effect.sync(() => void acknowledged.push(String(record.value))),
      stop: Effect.void
    }
  })
})

/** A source emitting `<task>-<k>` one record per poll (every `every.ms`), resuming after its committed offset. */
const Counting = Connector.source({
  className: "test.CountingSourceConnector",
  version: "1",
  config: ConfigDef.make({
    topic: ConfigDef.string({ documentation: "topic" }),
    "every.ms": ConfigDef.int({ default: 20, documentation: "poll period" })
  }),
  exactlyOnceSupport: () => "SUPPORTED",
  connector: Effect.sync(() => {
    let props: Connector.Props = {}
    return {
      start: (p) =>
        Effect.sync(() => {
          props = p
        }),
      taskConfigs: (max) =>
        Effect.succeed(Array.from({ length: max }, (_, task) => ({ ...props, task: String(task) }))),
      stop: Effect.void
    }
  }),
  task: Effect.sync((): Connector.SourceTask => {
    let topic = ""
    let task = ""
    let every = 20
    let k = 0
    return {
      start: (p, context) =>
        Effect.gen(function* () {
          topic = p.topic!
          task = p.task!
          every = Number(p["every.ms"] ?? 20)
          const last = yield* context.offsetStorageReader.offset({ task })
          k = typeof last?.k === "number" ? last.k + 1 : 0
        }),
      poll: Effect.gen(function* () {
        yield* Effect.sleep(every)
        const record = sourceRecord({
          topic,
          sourcePartition: { task },
          sourceOffset: { k },
          valueSchema: CS.STRING,
          value: `${task}-${k}`
        })
        k++
        return [record]
      }),
      commitRecord: (record) => Effect.sync(() => void acknowledged.push(`${Date.now()}:${String(record.value)}`)),
      stop: Effect.void
    }
  })
})

const plugins = [Scripted, Counting]

describe("exactly-once source tasks", { timeout: 120_000 }, () => {
  it.scopedLive("a file source's lines reach read_committed consumers exactly once across a worker restart", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy
      const dir = yield* tempDir
      const input = path.join(dir, "in.txt")
      fs.writeFileSync(input, `${lines(0, 150).join("\n")}\n`)
      const props = eosWorkerProps(bootstrap)
      const config = { "connector.class": "FileStreamSource", file: input, topic: "eos-file", "batch.size": "20" }
      const committed = valuesOf(bootstrap, "eos-file")

      yield* Effect.scoped(
        Effect.gen(function* () {
          const worker = yield* makeEosWorker(props, plugins)
          yield* worker.create("file-eos", { ...config, "exactly.once.support": "required" })
          yield* eventually(
            Effect.map(committed, (v) => v.length >= 150),
            60_000
          )
          fs.appendFileSync(input, `${lines(150, 200).join("\n")}\n`)
          yield* eventually(
            Effect.map(committed, (v) => v.length >= 160),
            60_000
          )
        })
      )
      fs.appendFileSync(input, `${lines(200, 300).join("\n")}\n`)
      const worker = yield* makeEosWorker(props, plugins)
      yield* worker.create("file-eos", config)
      yield* eventually(
        Effect.map(committed, (v) => v.length >= 300),
        60_000
      )
      yield* Effect.sleep("500 millis")
      assert.deepStrictEqual(yield* committed, lines(0, 300))
      // the offsets are in the offsets topic, committed with the lines
      const offsets = yield* TransactionalOffsets.readCommitted("eos-offsets", "file-eos", props, {})
      assert.deepStrictEqual([...offsets.values()], [{ position: fs.statSync(input).size }])
      // the worker's offsets store (read_committed on the same topic) shows them too
      assert.deepStrictEqual(yield* worker.offsets("file-eos"), [
        { partition: { filename: input }, offset: { position: fs.statSync(input).size } }
      ])
    })
  )

  it.scopedLive(
    "connector-defined boundaries: aborted transactions stay invisible, records after a boundary go on",
    () =>
      Effect.gen(function* () {
        acknowledged.length = 0
        const { bootstrap } = yield* startEddy
        const props = eosWorkerProps(bootstrap)
        const worker = yield* makeEosWorker(props, plugins)
        yield* worker.create("scripted", {
          "connector.class": "test.ScriptedSourceConnector",
          topic: "eos-scripted",
          "transaction.boundary": "connector"
        })
        yield* eventually(
          Effect.map(valuesOf(bootstrap, "eos-scripted"), (v) => v.includes("d0")),
          60_000
        )
        assert.deepStrictEqual(yield* valuesOf(bootstrap, "eos-scripted"), ["c0", "c1", "d0"])
        assert.deepStrictEqual(yield* valuesOf(bootstrap, "eos-scripted", "read_uncommitted"), [
          "a0",
          "a1",
          "a2",
          "c0",
          "c1",
          "c2",
          "c3",
          "d0"
        ])
        yield* eventually(
          Effect.sync(() => acknowledged.length >= 3),
          60_000
        )
        assert.deepStrictEqual(acknowledged, ["c0", "c1", "d0"])
        const offsets = yield* TransactionalOffsets.readCommitted("eos-offsets", "scripted", props, {})
        assert.deepStrictEqual([...offsets.values()], [{ n: 7, value: "d0" }])
        assert.deepStrictEqual(yield* worker.offsets("scripted"), [
          { partition: { source: "script" }, offset: { n: 7, value: "d0" } }
        ])
      })
  )

  it.scopedLive("interval boundaries commit records of many polls together, not before the interval", () =>
    Effect.gen(function* () {
      acknowledged.length = 0
      const { bootstrap } = yield* startEddy
      const worker = yield* makeEosWorker(eosWorkerProps(bootstrap), plugins)
      const started = Date.now()
      yield* worker.create("interval", {
        "connector.class": "test.CountingSourceConnector",
        topic: "eos-interval",
        "transaction.boundary": "interval",
        "transaction.boundary.interval.ms": "2000"
      })
      yield* eventually(
        Effect.map(valuesOf(bootstrap, "eos-interval", "read_uncommitted"), (v) => v.length >= 5),
        60_000
      )
      // polled and sent, but not committed yet (the interval begins after `started`: a read ending before
      // started + 2000 ms cannot see a commit)
      const early = yield* valuesOf(bootstrap, "eos-interval")
      if (Date.now() - started < 2000) assert.deepStrictEqual(early, [])
      yield* eventually(
        Effect.sync(() => acknowledged.length > 0),
        60_000
      )
      const first = Number(acknowledged[0]!.split(":")[0])
      assert.isAtLeast(first - started, 2000)
      // the first transaction held every record polled in its interval
      yield* Effect.sleep("100 millis")
      const firstBatch = acknowledged.filter((a) => Number(a.split(":")[0]) - first < 50)
      assert.isAtLeast(firstBatch.length, 5)
      const committed = yield* valuesOf(bootstrap, "eos-interval")
      assert.deepStrictEqual(
        committed.slice(0, firstBatch.length),
        firstBatch.map((a) => a.split(":")[1]!)
      )
    })
  )

  it.scopedLive("a second worker's task fences the first: the zombie's commits fail and never land", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy
      const props = eosWorkerProps(bootstrap)
      const config = { "connector.class": "test.CountingSourceConnector", topic: "eos-zombie", "every.ms": "5" }
      const zombieWorker = yield* makeEosWorker(props, plugins)
      yield* zombieWorker.create("counting", config)
      yield* eventually(
        Effect.map(valuesOf(bootstrap, "eos-zombie"), (v) => v.length >= 20),
        60_000
      )
      // the same task in a second worker (a new generation elsewhere): its producer fences the first one's
      const worker = yield* makeEosWorker(props, plugins)
      yield* worker.create("counting", config)
      yield* zombieWorker.awaitState("counting", (s) => s.tasks[0]?.state === "FAILED")
      const status = yield* zombieWorker.status("counting")
      assert.match(status.tasks[0]!.trace ?? "", /PRODUCER_FENCED|INVALID_PRODUCER_EPOCH/)
      const before = (yield* valuesOf(bootstrap, "eos-zombie")).length
      yield* eventually(
        Effect.map(valuesOf(bootstrap, "eos-zombie"), (v) => v.length >= before + 20),
        60_000
      )
      const values = yield* valuesOf(bootstrap, "eos-zombie")
      assert.deepStrictEqual(
        values,
        values.map((_, k) => `0-${k}`)
      )
    })
  )

  it.scopedLive("a new task generation fences the previous one's transactional ids", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy
      const props = eosWorkerProps(bootstrap)
      const worker = yield* makeEosWorker(props, plugins)
      const config = { "connector.class": "test.CountingSourceConnector", topic: "eos-gen", "tasks.max": "2" }
      yield* worker.create("gen", config)
      yield* eventually(
        Effect.map(valuesOf(bootstrap, "eos-gen"), (v) => v.some((x) => x.startsWith("1-"))),
        60_000
      )
      // a zombie of task 1 (say, on a worker cut off from the cluster) holds an open transaction
      const zombie = yield* Producer.make({
        "bootstrap.servers": bootstrap,
        "transactional.id": "eos-cluster-gen-1",
        "linger.ms": 1
      })
      const late = yield* Effect.fork(
        Effect.exit(
          zombie.transaction(
            Effect.zipRight(
              zombie.send("eos-gen", { value: Buffer.from("zombie"), partition: 0 }),
              Effect.sleep("3 seconds")
            )
          )
        )
      )
      yield* Effect.sleep("500 millis")
      // a config change with fewer tasks: task 1 has no successor that would fence it by starting
      yield* worker.putConfig("gen", { ...config, "tasks.max": "1" })
      const exit = yield* late.await.pipe(Effect.flatten)
      assert.isTrue(Exit.isFailure(exit))
      assert.match(String(Exit.isFailure(exit) ? exit.cause : ""), /PRODUCER_FENCED|INVALID_PRODUCER_EPOCH/)
      yield* Effect.sleep("300 millis")
      assert.notInclude(yield* valuesOf(bootstrap, "eos-gen"), "zombie")
    })
  )
})
