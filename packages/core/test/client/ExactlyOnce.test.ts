/**
 * Exactly-once consume-transform-produce across crashes: a worker process (fixtures/eosWorker.js) is
 * SIGKILLed at random moments and restarted several times while it transforms `eos-in` into `eos-out`
 * with transactions that also commit its consumed offsets. Read with read_committed, `eos-out` holds every
 * input record exactly once.
 */
import * as child from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import * as Admin from "../../src/client/Admin.js"
import * as Fetcher from "../../src/client/Fetcher.js"
import * as Producer from "../../src/client/Producer.js"
import { childNodeArgs } from "../broker/util.js"
import { startEddy } from "./util.js"

const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "eosWorker.js")
const INPUTS = 400
const PARTITIONS = 2

/** Runs the worker until it committed a transaction and `ms` more passed, then SIGKILLs it. */
const runWorkerFor = (bootstrap: string, ms: number) =>
  Effect.async<number>((resume) => {
    const proc = child.spawn(process.execPath, [...childNodeArgs, worker, bootstrap], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    let txns = 0
    let timer: NodeJS.Timeout | undefined
    proc.stdout!.on("data", (chunk: Buffer) => {
      txns += (chunk.toString().match(/TXN/g) ?? []).length
      timer ??= setTimeout(() => proc.kill("SIGKILL"), ms)
    })
    // a worker with nothing left to do never commits: stop it after a while anyway
    const idle = setTimeout(() => proc.kill("SIGKILL"), ms + 15_000)
    proc.on("exit", () => {
      clearTimeout(idle)
      if (timer !== undefined) clearTimeout(timer)
      resume(Effect.succeed(txns))
    })
    return Effect.sync(() => proc.kill("SIGKILL"))
  })

describe("exactly-once consume-transform-produce", () => {
  it.scopedLive(
    "a worker killed and restarted repeatedly writes every input exactly once (read_committed)",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddy({ extra: { "group.initial.rebalance.delay.ms": "0" } })
        const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
        yield* admin.createTopics([
          { name: "eos-in", numPartitions: PARTITIONS },
          { name: "eos-out", numPartitions: PARTITIONS }
        ])
        const input = yield* Producer.make({ "bootstrap.servers": bootstrap })
        yield* input.sendBatch(
          "eos-in",
          Array.from({ length: INPUTS }, (_, i) => ({ value: Buffer.from(`in-${i}`), partition: i % PARTITIONS }))
        )
        // three runs cut short at random moments, then one that finishes the input
        for (let run = 0; run < 3; run++) yield* runWorkerFor(bootstrap, 50 + Math.floor(Math.random() * 400))
        const fetcher = yield* Fetcher.make({
          "bootstrap.servers": bootstrap,
          "isolation.level": "read_committed",
          "fetch.max.wait.ms": 50
        })
        const readOut = fetcher
          .fetch(
            "eos-out",
            Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, offset: "earliest" as const }))
          )
          .pipe(
            Stream.map((r) => Buffer.from(r.value!).toString()),
            Stream.interruptAfter("2 seconds"),
            Stream.runCollect,
            Effect.map(Chunk.toArray)
          )
        const finisher = child.spawn(process.execPath, [...childNodeArgs, worker, bootstrap], {
          stdio: ["ignore", "ignore", "inherit"]
        })
        yield* Effect.addFinalizer(() => Effect.sync(() => finisher.kill("SIGKILL")))
        // the worker commits its input offsets in the transactions of its outputs: once every input is
        // committed, every output of a committed transaction is readable; one read then shows them all
        const committed = Effect.map(admin.listGroupOffsets("eos"), (os) =>
          os.filter((o) => o.topic === "eos-in").reduce((n, o) => n + Math.max(0, o.offset), 0)
        ).pipe(Effect.orElseSucceed(() => 0))
        for (let attempt = 0; attempt < 900 && (yield* committed) < INPUTS; attempt++) yield* Effect.sleep(100)
        const out = yield* readOut
        finisher.kill("SIGKILL")
        const counts = new Map<string, number>()
        for (const v of out) counts.set(v, (counts.get(v) ?? 0) + 1)
        const duplicated = [...counts].filter(([, n]) => n > 1).map(([v]) => v)
        const missing = Array.from({ length: INPUTS }, (_, i) => `IN-${i}`).filter((v) => !counts.has(v))
        assert.deepStrictEqual(duplicated, [], "duplicated outputs")
        assert.deepStrictEqual(missing, [], "missing outputs")
        assert.strictEqual(out.length, INPUTS)
      }),
    { timeout: 180_000 }
  )
})
