/**
 * A broker SIGKILLed while transactions commit and abort, then restarted on the same data, repeatedly:
 * every transaction (10 records over 3 partitions, committed or aborted at random) is seen by a
 * read_committed reader whole or not at all, every transaction acknowledged as committed is there, and
 * none acknowledged as aborted is. The coordinator finishes transactions a kill left in Prepare*.
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import * as Admin from "../../src/client/Admin.js"
import * as Fetcher from "../../src/client/Fetcher.js"
import * as Producer from "../../src/client/Producer.js"
import { spawnBrokerProcess, tempDir } from "./util.js"

// one partition per internal topic: a restart recovers 2 logs instead of 100 (seconds per restart under load)
const spawnBroker = (dir: string) =>
  spawnBrokerProcess(dir, { "offsets.topic.num.partitions": "1", "transaction.state.log.num.partitions": "1" })

const PARTITIONS = 3
const PER_TXN = 10

describe("transactions across broker crashes", () => {
  it.scopedLive(
    "a transaction is whole or absent after SIGKILL and restart, never half",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const committed = new Set<number>()
        const aborted = new Set<number>()
        let txn = 0
        for (let round = 0; round < 4; round++) {
          yield* Effect.scoped(
            Effect.gen(function* () {
              const { proc, port } = yield* spawnBroker(dir)
              const bootstrap = `127.0.0.1:${port}`
              if (round === 0) {
                const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
                yield* admin.createTopics([{ name: "crash", numPartitions: PARTITIONS }])
              }
              const producer = yield* Producer.make({
                "bootstrap.servers": bootstrap,
                "transactional.id": "crash-tx",
                "delivery.timeout.ms": 3000,
                "request.timeout.ms": 1000,
                retries: 2
              })
              // kill the broker at a random moment once transactions run (whatever the machine's speed)
              let armed = false
              const arm = Effect.suspend(() => {
                if (armed) return Effect.void
                armed = true
                const killAfter = Math.floor(Math.random() * 400)
                return Effect.asVoid(
                  Effect.forkScoped(
                    Effect.delay(
                      Effect.sync(() => proc.kill("SIGKILL")),
                      killAfter
                    )
                  )
                )
              })
              for (;;) {
                const id = txn++
                const commit = Math.random() < 0.7
                const records = Array.from({ length: PER_TXN }, (_, i) => ({
                  value: Buffer.from(`${id}:${i}`),
                  partition: i % PARTITIONS
                }))
                const run = producer.transaction(
                  Effect.zipRight(producer.sendBatch("crash", records), commit ? Effect.void : Effect.fail("abort"))
                )
                const exit = yield* Effect.exit(run)
                yield* arm
                if (exit._tag === "Success") committed.add(id)
                else if (!commit && exit.cause._tag === "Fail" && exit.cause.error === "abort") aborted.add(id)
                else break // the broker is gone: this transaction's outcome is unknown
              }
            }).pipe(Effect.timeout("30 seconds"), Effect.ignore)
          )
        }
        // a clean broker over the same data reads everything back with read_committed
        const seen = yield* Effect.scoped(
          Effect.gen(function* () {
            const { port } = yield* spawnBroker(dir)
            const bootstrap = `127.0.0.1:${port}`
            const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
            const ends = yield* admin.listOffsets(
              Array.from({ length: PARTITIONS }, (_, partition) => ({
                topic: "crash",
                partition,
                spec: "latest" as const
              }))
            )
            const fetcher = yield* Fetcher.make({
              "bootstrap.servers": bootstrap,
              "isolation.level": "read_committed",
              "fetch.max.wait.ms": 50
            })
            const values: Array<string> = []
            for (const end of ends) {
              if (end.offset === 0) continue
              // every record below the end is visible or skipped once the partition is stable
              const got = yield* fetcher.fetch("crash", [{ partition: end.partition, offset: "earliest" }]).pipe(
                Stream.takeUntil((r) => r.offset >= end.offset - 2),
                Stream.interruptAfter("3 seconds"),
                Stream.runCollect,
                Effect.map(Chunk.toArray)
              )
              for (const r of got) values.push(Buffer.from(r.value!).toString())
            }
            return values
          })
        )
        const perTxn = new Map<number, number>()
        for (const v of seen) {
          const id = Number(v.split(":")[0])
          perTxn.set(id, (perTxn.get(id) ?? 0) + 1)
        }
        for (const [id, n] of perTxn) assert.strictEqual(n, PER_TXN, `transaction ${id} is half visible: ${n} records`)
        for (const id of committed) assert.isTrue(perTxn.has(id), `committed transaction ${id} is missing`)
        for (const id of aborted) assert.isFalse(perTxn.has(id), `aborted transaction ${id} is visible`)
        assert.isAbove(committed.size, 0)
      }),
    { timeout: 180_000 }
  )
})
