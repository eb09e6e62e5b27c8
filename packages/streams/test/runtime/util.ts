/**
 * Helpers of the streams runtime tests: an in-process Eddy broker (core's test broker), topics, a producer
 * of test input and a read_committed reader of outputs.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Broker from "@eddy/core/broker/Broker"
import * as BrokerConfig from "@eddy/core/broker/BrokerConfig"
import * as Admin from "@eddy/core/client/Admin"
import * as Fetcher from "@eddy/core/client/Fetcher"
import * as Producer from "@eddy/core/client/Producer"
import type * as Topic from "@eddy/core/client/Topic"
import { Context, Effect, Layer, Logger, LogLevel } from "effect"
/** An in-process broker on an ephemeral port for the scope; returns its bootstrap address. */
export const startEddy = Effect.gen(function* () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "eddy-streams-"))
  yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })))
  const config = yield* BrokerConfig.make({
    listeners: "PLAINTEXT://127.0.0.1:0",
    "log.dirs": dir,
    "num.partitions": "1",
    "group.initial.rebalance.delay.ms": "0",
    "group.min.session.timeout.ms": "500"
  })
  const context = yield* Layer.build(Broker.layer(config, { drainTimeoutMs: 1000 })).pipe(
    Logger.withMinimumLogLevel(LogLevel.Warning)
  )
  return { bootstrap: `127.0.0.1:${Context.get(context, Broker.Broker).address.port}`, dir }
})

/** A broker with `topics` created (name -> partitions). */
export const setup = (topics: Record<string, number>) =>
  Effect.gen(function* () {
    const { bootstrap } = yield* startEddy
    const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
    yield* admin.createTopics(Object.entries(topics).map(([name, numPartitions]) => ({ name, numPartitions })))
    const producer = yield* Producer.make({ "bootstrap.servers": bootstrap, "linger.ms": 2 })
    return { bootstrap, admin, producer }
  })

/** Fast group settings for tests. */
export const fastGroup = {
  "session.timeout.ms": 3000,
  "heartbeat.interval.ms": 100,
  "max.poll.interval.ms": 10000,
  "poll.ms": 50
} as const

/** Every record of `topic` (all partitions) up to its end, read_committed (markers and aborted records skipped). */
export const readAll = <K, V>(bootstrap: string, topic: Topic.Topic<K, V>, partitions: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const fetcher = yield* Fetcher.make({ "bootstrap.servers": bootstrap, "isolation.level": "read_committed" })
      const all = Array.from({ length: partitions }, (_, partition) => partition)
      const ends = yield* fetcher.resolveOffsets(
        topic.name,
        all.map((partition) => ({ partition, offset: "latest" as const }))
      )
      let positions = yield* fetcher.resolveOffsets(
        topic.name,
        all.map((partition) => ({ partition, offset: "earliest" as const }))
      )
      const out: Array<Topic.ConsumerRecord<K, V>> = []
      const behind = () => new Map([...positions].filter(([p, o]) => o < (ends.get(p) ?? 0)))
      for (let rounds = 0; behind().size > 0 && rounds < 1000; rounds++) {
        const round = yield* fetcher.fetchOnce(topic, behind())
        for (const r of round.records) if (r.offset < (ends.get(r.partition) ?? 0)) out.push(r)
        const next = new Map(positions)
        for (const [p, o] of round.positions) next.set(p, o)
        positions = next
      }
      return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset)
    })
  )

/** Polls `check` every 50 ms until it holds (fails after `timeoutMs`). */
export const waitUntil = <E>(what: string, check: Effect.Effect<boolean, E>, timeoutMs = 30_000) =>
  Effect.gen(function* () {
    const start = Date.now()
    while (!(yield* check)) {
      if (Date.now() - start > timeoutMs) return yield* Effect.dieMessage(`timed out waiting for ${what}`)
      yield* Effect.sleep(50)
    }
  })
