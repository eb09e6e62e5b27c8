/**
 * The checker on a real history: a broker in a child process is SIGKILLed and restarted on the same port while an
 * idempotent producer sends unique values to two partitions and a reader polls them; a final read after the last
 * restart goes to the end. A single node keeps what it acknowledged across a process kill (the data is in the
 * OS's page cache), so the checker must find no lost, duplicated or reordered record.
 */
import * as net from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Fiber, Ref, Scope } from "effect"
import * as Admin from "../../src/client/Admin.js"
import * as Fetcher from "../../src/client/Fetcher.js"
import * as Producer from "../../src/client/Producer.js"
import * as Topic from "../../src/client/Topic.js"
import type { Mop, Operation } from "../../src/testing/HistoryChecker.js"
import * as HistoryChecker from "../../src/testing/HistoryChecker.js"
import { processExited, spawnBrokerProcess, tempDir } from "../broker/util.js"

const ROUNDS = 3
const SENDS_PER_ROUND = 60
const TOPIC = "history"
const rawTopic = Topic.raw(TOPIC)

const freePort = Effect.async<number>((resume) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as net.AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

const text = new TextEncoder()
const fromBytes = (b: Uint8Array | null) => (b === null ? "" : new TextDecoder().decode(b))

/** A fetch round's records as a poll's `key -> [offset, value]` lists. */
const byKey = (records: ReadonlyArray<Topic.ConsumerRecord<Uint8Array | null, Uint8Array | null>>) => {
  const out: Record<string, Array<readonly [number, string]>> = {}
  for (const r of records) {
    const key = `${TOPIC}-${r.partition}`
    out[key] = [...(out[key] ?? []), [r.offset, fromBytes(r.value)]]
  }
  return out
}

describe("HistoryChecker on a real broker", () => {
  it.scopedLive(
    "SIGKILL and restart of a single broker during sends and polls: no anomaly",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const port = yield* freePort
        const props = { listeners: `PLAINTEXT://127.0.0.1:${port}`, "num.partitions": "2" }
        const bootstrap = `127.0.0.1:${port}`
        const history = yield* Ref.make<Array<Operation>>([])
        const clock = yield* Ref.make(0)
        const record = (op: Omit<Operation, "index" | "completedAt">) =>
          Effect.flatMap(
            Ref.getAndUpdate(clock, (t) => t + 1),
            (completedAt) => Ref.update(history, (h) => [...h, { ...op, index: h.length, completedAt }])
          )
        const now = Ref.getAndUpdate(clock, (t) => t + 1)
        const outer = yield* Effect.scope
        // brokers belong to the test's scope, not to the round that restarted them
        const spawn = () => Scope.extend(spawnBrokerProcess(dir, props), outer)
        let broker = yield* spawn()
        const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
        yield* admin.createTopics([{ name: TOPIC, numPartitions: 2, replicationFactor: 1 }])

        // a reader polling both partitions forward; a failed poll is an unknown outcome and starts over
        const reader = Effect.gen(function* () {
          const fetcher = yield* Fetcher.make({ "bootstrap.servers": bootstrap, "auto.offset.reset": "earliest" })
          let positions = new Map([
            [0, 0],
            [1, 0]
          ])
          for (;;) {
            const invokedAt = yield* now
            const round = yield* Effect.either(fetcher.fetchOnce(rawTopic, positions))
            if (Either.isLeft(round)) {
              yield* record({ process: 100, f: "poll", type: "info", invokedAt, mops: [] })
              continue
            }
            const records = byKey(round.right.records)
            positions = new Map(round.right.positions)
            yield* record({ process: 100, f: "poll", type: "ok", invokedAt, mops: [{ _tag: "Poll", records }] })
          }
        }).pipe(Effect.scoped)
        const readerFiber = yield* Effect.fork(reader)

        let value = 0
        for (let round = 0; round < ROUNDS; round++) {
          // a new producer per round: a crash ends a client process
          yield* Effect.scoped(
            Effect.gen(function* () {
              const producer = yield* Producer.make({
                "bootstrap.servers": bootstrap,
                "enable.idempotence": true,
                acks: "all",
                "delivery.timeout.ms": 5000,
                "request.timeout.ms": 2000
              } as Producer.ProducerConfig)
              const sends = Array.from({ length: SENDS_PER_ROUND }, () => value++)
              const killAt = Math.floor(SENDS_PER_ROUND / 2)
              for (const v of sends) {
                if (v % SENDS_PER_ROUND === killAt && round < ROUNDS - 1) {
                  // a crash and a supervisor's restart: sends in flight retry against the new process
                  yield* Effect.sync(() => broker.proc.kill("SIGKILL"))
                  yield* processExited(broker.proc)
                  broker = yield* spawn()
                }
                const partition = v % 2
                const invokedAt = yield* now
                const sent = yield* Effect.either(
                  producer
                    .send(TOPIC, { partition, key: null, value: text.encode(`v${v}`) })
                    .pipe(Effect.timeout("30 seconds"))
                )
                if (Either.isLeft(sent)) yield* Effect.logWarning(`send of v${v} failed: ${String(sent.left)}`)
                const mop: Mop = Either.isRight(sent)
                  ? { _tag: "Send", key: `${TOPIC}-${partition}`, value: `v${v}`, offset: sent.right.offset }
                  : { _tag: "Send", key: `${TOPIC}-${partition}`, value: `v${v}` }
                yield* record({
                  process: round,
                  f: "send",
                  type: Either.isRight(sent) ? "ok" : "info",
                  invokedAt,
                  mops: [mop]
                })
              }
            })
          )
        }
        yield* Fiber.interrupt(readerFiber)

        // the final read: both partitions from the start to their end
        const finalRead = Effect.gen(function* () {
          const fetcher = yield* Fetcher.make({ "bootstrap.servers": bootstrap })
          let positions = new Map([
            [0, 0],
            [1, 0]
          ])
          const records: Record<string, Array<readonly [number, string]>> = {}
          for (;;) {
            const round = yield* fetcher.fetchOnce(rawTopic, positions)
            for (const [key, list] of Object.entries(byKey(round.records)))
              records[key] = [...(records[key] ?? []), ...list]
            positions = new Map(round.positions)
            if ([...positions].every(([p, o]) => o >= (round.highWatermarks.get(p) ?? 0))) return records
          }
        }).pipe(Effect.scoped)
        const invokedAt = yield* now
        const records = yield* finalRead
        yield* record({ process: 200, f: "assign", type: "ok", invokedAt, mops: [] })
        yield* record({ process: 200, f: "poll", type: "ok", invokedAt, mops: [{ _tag: "Poll", records }] })

        const report = HistoryChecker.check(yield* Ref.get(history), { finalReads: true })
        console.log(`kill history: ${HistoryChecker.summary(report)}`)
        assert.isTrue(report.valid, HistoryChecker.summary(report))
        assert.isAbove(report.stats.acknowledged, ROUNDS * SENDS_PER_ROUND * 0.5)
        assert.isAtLeast(report.stats.reads, report.stats.acknowledged, "the final read saw every acknowledged send")
      }),
    180_000
  )
})
