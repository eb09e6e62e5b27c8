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
import { Context, Effect, Layer, Logger, LogLevel, Stream } from "effect"
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

/** Every record of `topic` (all partitions) up to its end, read_committed. */
export const readAll = <K, V>(bootstrap: string, topic: Topic.Topic<K, V>, partitions: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const fetcher = yield* Fetcher.make({ "bootstrap.servers": bootstrap, "isolation.level": "read_committed" })
      const all = Array.from({ length: partitions }, (_, partition) => ({ partition, offset: "latest" as const }))
      const ends = yield* fetcher.resolveOffsets(topic.name, all)
      const total = [...ends.values()].reduce((a, b) => a + b, 0)
      const starts = yield* fetcher.resolveOffsets(
        topic.name,
        all.map((a) => ({ ...a, offset: "earliest" as const }))
      )
      const count = total - [...starts.values()].reduce((a, b) => a + b, 0)
      if (count === 0) return []
      const got = yield* fetcher
        .fetch(
          topic,
          all.map((a) => ({ partition: a.partition, offset: "earliest" as const }))
        )
        .pipe(Stream.take(count), Stream.runCollect)
      return [...got]
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
