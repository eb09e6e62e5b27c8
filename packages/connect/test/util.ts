/**
 * Helpers of the connect tests: a real Eddy broker in-process on an ephemeral port (tests may use the
 * broker; connect's sources may not), temporary directories and a worker over both.
 */

import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Broker from "@eddy/core/broker/Broker"
import * as BrokerConfig from "@eddy/core/broker/BrokerConfig"
import { NodeContext } from "@effect/platform-node"
import { Context, Effect, Layer, Logger, LogLevel, type Scope } from "effect"
import * as Plugins from "../src/plugin/Plugins.js"
import * as OffsetStore from "../src/runtime/OffsetStore.js"
import * as Worker from "../src/runtime/Worker.js"

/** A fresh temporary directory, removed when the scope closes. */
export const tempDir: Effect.Effect<string, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "eddy-connect-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

/** Starts a broker in the scope (with `extra` broker settings); returns its bootstrap address. */
export const startEddyWith = (extra: Record<string, string>) =>
  Effect.gen(function* () {
    const dir = yield* tempDir
    const config = yield* BrokerConfig.make({
      listeners: "PLAINTEXT://127.0.0.1:0",
      "log.dirs": dir,
      "group.initial.rebalance.delay.ms": "0",
      ...extra
    })
    const context = yield* Layer.build(Broker.layer(config, { drainTimeoutMs: 2000 })).pipe(
      Logger.withMinimumLogLevel(LogLevel.Warning)
    )
    const broker = Context.get(context, Broker.Broker)
    return { bootstrap: `127.0.0.1:${broker.address.port}` }
  })

/** Starts a broker in the scope; returns its bootstrap address. */
export const startEddy = startEddyWith({})

/** Worker settings for tests: fast offset flushes and consumer rebalances. */
export const workerProps = (bootstrap: string, extra: Record<string, string> = {}) => ({
  "bootstrap.servers": bootstrap,
  "offset.flush.interval.ms": "200",
  "key.converter": "org.apache.kafka.connect.storage.StringConverter",
  "value.converter": "org.apache.kafka.connect.storage.StringConverter",
  "consumer.fetch.max.wait.ms": "50",
  "consumer.session.timeout.ms": "6000",
  "consumer.heartbeat.interval.ms": "500",
  "producer.linger.ms": "1",
  ...extra
})

/** A worker over the built-in plugins (plus `extra`), offsets in `offsetsFile` (memory when omitted). */
export const makeWorker = (
  props: Record<string, string>,
  offsetsFile?: string,
  extra: Parameters<typeof Plugins.layer>[0] = []
) =>
  Worker.make(props, { workerId: "127.0.0.1:8083" }).pipe(
    Effect.provide(
      Layer.mergeAll(
        Plugins.layer(extra),
        (offsetsFile ? OffsetStore.layerFile(offsetsFile) : OffsetStore.layerMemory).pipe(
          Layer.provide(NodeContext.layer)
        ),
        NodeContext.layer
      )
    )
  )

/** Polls `f` until it returns true (real time; for states reached through a broker). */
export const eventually = <E, R>(f: Effect.Effect<boolean, E, R>, timeoutMs = 20_000) =>
  Effect.gen(function* () {
    const deadline = Date.now() + timeoutMs
    while (!(yield* f)) {
      if (Date.now() > deadline) return yield* Effect.die(new Error("condition not reached in time"))
      yield* Effect.promise(() => new Promise((r) => setTimeout(r, 50)))
    }
  })
