import * as fs from "node:fs"
import * as path from "node:path"
import { FetchHttpClient } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as ConfigDef from "../../src/plugin/ConfigDef.js"
import * as Connector from "../../src/plugin/Connector.js"
import * as Plugins from "../../src/plugin/Plugins.js"
import * as ConfigStore from "../../src/runtime/ConfigStore.js"
import * as Distributed from "../../src/runtime/Distributed.js"
import * as ExactlyOnce from "../../src/runtime/ExactlyOnce.js"
import * as Herder from "../../src/runtime/Herder.js"
import * as OffsetStore from "../../src/runtime/OffsetStore.js"
import * as Standalone from "../../src/runtime/Standalone.js"
import * as Worker from "../../src/runtime/Worker.js"
import { tempDir } from "../util.js"

const emptyTask = Effect.succeed<Connector.SourceTask>({
  start: () => Effect.void,
  poll: Effect.succeed(null),
  stop: Effect.void
})
const emptyConnector = Effect.succeed<Connector.Connector>({
  start: () => Effect.void,
  taskConfigs: () => Effect.succeed([{}]),
  stop: Effect.void
})
const config = ConfigDef.make({})

/** A source that does not answer the preflight question. */
const Silent = Connector.source({
  className: "test.SilentSourceConnector",
  version: "1",
  config,
  connector: emptyConnector,
  task: emptyTask
})

/** A source that defines its own transaction boundaries. */
const Bounded = Connector.source({
  className: "test.BoundedSourceConnector",
  version: "1",
  config,
  connector: emptyConnector,
  task: emptyTask,
  exactlyOnceSupport: () => "SUPPORTED",
  canDefineTransactionBoundaries: () => "SUPPORTED"
})

/** A source whose preflight answer throws. */
const Broken = Connector.source({
  className: "test.BrokenSourceConnector",
  version: "1",
  config,
  connector: emptyConnector,
  task: emptyTask,
  exactlyOnceSupport: () => {
    throw new Error("cannot tell")
  }
})

const worker = (exactlyOnceSource?: ExactlyOnce.WorkerSupport) =>
  Worker.make(
    { "bootstrap.servers": "127.0.0.1:1" },
    { workerId: "w", ...(exactlyOnceSource ? { exactlyOnceSource } : {}) }
  ).pipe(
    Effect.provide(Layer.mergeAll(Plugins.layer([Silent, Bounded, Broken]), OffsetStore.layerMemory, NodeContext.layer))
  )

/** Validates `props` of `plugin` with the name and class every connector has. */
const check = (w: Worker.WorkerShape, plugin: string, props: Record<string, string>) =>
  w.validate(plugin, { name: "c", "connector.class": plugin, ...props })

const errorsOf = (infos: Worker.ConfigInfos, key: string) =>
  infos.configs.find((c) => c.definition.name === key)?.value.errors ?? []

const file = { file: "/tmp/in.txt", topic: "t" }

describe("exactly-once source configuration", () => {
  it.scoped("lists the source keys with Kafka's names and defaults", () =>
    Effect.gen(function* () {
      const w = yield* worker("enabled")
      const infos = yield* check(w, "FileStreamSource", file)
      assert.strictEqual(infos.error_count, 0)
      const byName = new Map(infos.configs.map((c) => [c.definition.name, c]))
      assert.strictEqual(byName.get("exactly.once.support")?.definition.default_value, "requested")
      assert.strictEqual(byName.get("transaction.boundary")?.definition.default_value, "poll")
      assert.strictEqual(byName.get("transaction.boundary.interval.ms")?.definition.default_value, null)
      assert.isFalse(byName.get("offsets.storage.topic")?.definition.required)
    })
  )

  it.scoped("exactly.once.support=required: the connector's answer and the worker's support are checked", () =>
    Effect.gen(function* () {
      const w = yield* worker("enabled")
      const required = { "exactly.once.support": "required" }
      assert.strictEqual((yield* check(w, "FileStreamSource", { ...file, ...required })).error_count, 0)
      // FileStreamSource on stdin cannot resume from offsets: UNSUPPORTED
      const stdin = yield* check(w, "FileStreamSource", {
        "connector.class": "FileStreamSource",
        topic: "t",
        ...required
      })
      assert.deepStrictEqual(errorsOf(stdin, "exactly.once.support"), [ExactlyOnce.UNSUPPORTED])
      const webhook = yield* check(w, "HttpWebhookSource", required)
      assert.include(errorsOf(webhook, "exactly.once.support"), ExactlyOnce.UNSUPPORTED)
      const silent = yield* check(w, "test.SilentSourceConnector", required)
      assert.deepStrictEqual(errorsOf(silent, "exactly.once.support"), [ExactlyOnce.NO_PREFLIGHT_API])
      const broken = yield* check(w, "test.BrokenSourceConnector", required)
      assert.deepStrictEqual(errorsOf(broken, "exactly.once.support"), [
        "An unexpected error occurred during validation: cannot tell"
      ])
      // requested (the default) never fails the preflight
      assert.strictEqual((yield* check(w, "test.SilentSourceConnector", {})).error_count, 0)

      const disabled = yield* worker("disabled")
      const infos = yield* check(disabled, "FileStreamSource", { ...file, ...required })
      assert.deepStrictEqual(errorsOf(infos, "exactly.once.support"), [ExactlyOnce.WORKER_NOT_ENABLED])
    })
  )

  it.scoped("transaction.boundary=connector needs a connector that can define boundaries", () =>
    Effect.gen(function* () {
      const w = yield* worker("enabled")
      const boundary = { "transaction.boundary": "connector" }
      const infos = yield* check(w, "FileStreamSource", { ...file, ...boundary })
      assert.deepStrictEqual(errorsOf(infos, "transaction.boundary"), [ExactlyOnce.NO_CONNECTOR_BOUNDARIES])
      assert.strictEqual((yield* check(w, "test.BoundedSourceConnector", boundary)).error_count, 0)
      // create answers 400 with Connect's message
      const created = yield* Effect.flip(w.create("f", { "connector.class": "FileStreamSource", ...file, ...boundary }))
      assert.strictEqual(created.status, 400)
      assert.include(created.message, ExactlyOnce.NO_CONNECTOR_BOUNDARIES)
      assert.include(created.message, "Connector configuration is invalid and contains the following 1 error(s)")
      const required = yield* Effect.flip(
        w.create("s", { "connector.class": "test.SilentSourceConnector", "exactly.once.support": "required" })
      )
      assert.include(required.message, ExactlyOnce.NO_PREFLIGHT_API)
    })
  )

  it.scoped("a standalone worker runs no preflight", () =>
    Effect.gen(function* () {
      const w = yield* worker()
      const infos = yield* check(w, "test.SilentSourceConnector", {
        "exactly.once.support": "required",
        "transaction.boundary": "connector"
      })
      assert.strictEqual(infos.error_count, 0)
    })
  )

  it.scoped("the standalone command refuses exactly.once.source.support", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const props = path.join(dir, "worker.properties")
      fs.writeFileSync(
        props,
        `bootstrap.servers=127.0.0.1:1\noffset.storage.file.filename=${dir}/o.json\nexactly.once.source.support=enabled\n`
      )
      const error = yield* Effect.flip(Standalone.run(props, []).pipe(Effect.provide(NodeContext.layer)))
      assert.strictEqual(error._tag, "StandaloneError")
      assert.include(error.message, "exactly.once.source.support=enabled is not supported by the standalone worker")
    })
  )

  it.scoped("the distributed worker refuses an unknown exactly.once.source.support", () =>
    Effect.gen(function* () {
      const props = {
        "bootstrap.servers": "127.0.0.1:1",
        "group.id": "g",
        "config.storage.topic": "c",
        "offset.storage.topic": "o",
        "status.storage.topic": "s",
        "exactly.once.source.support": "maybe"
      }
      const error = yield* Effect.flip(
        Distributed.make(props, { workerId: "w:1", url: "http://w:1" }).pipe(
          Effect.provide(
            Layer.mergeAll(Plugins.layer(), OffsetStore.layerMemory, NodeContext.layer, FetchHttpClient.layer)
          )
        )
      )
      assert.strictEqual(
        error.message,
        "Invalid value maybe for configuration exactly.once.source.support: String must be one of: disabled, preparing, enabled"
      )
    })
  )

  it("a distributed worker restarts every task of a new exactly-once generation", () => {
    const snapshot = (tasks: ReadonlyArray<Record<string, string>>): ConfigStore.ConfigSnapshot => ({
      ...ConfigStore.empty,
      connectors: new Map([["src", { "connector.class": "FileStreamSource" }]]),
      tasks: new Map([["src", tasks]])
    })
    const load = {
      connectors: [],
      tasks: [
        { connector: "src", task: 0 },
        { connector: "src", task: 1 }
      ]
    }
    const fingerprints = (restartWholeGeneration: boolean) =>
      new Map(
        Herder.plan(snapshot([{ n: "0" }, { n: "1" }]), load, new Map(), new Map(), {
          restartWholeGeneration
        }).startTasks.map((t) => [t.key, t.fingerprint])
      )
    // task 1's config changes, task 0's does not
    const next = (restartWholeGeneration: boolean) =>
      Herder.plan(snapshot([{ n: "0" }, { n: "1b" }]), load, new Map(), fingerprints(restartWholeGeneration), {
        restartWholeGeneration
      }).startTasks.map((t) => t.task)
    assert.deepStrictEqual(next(false), [1])
    assert.deepStrictEqual(next(true), [0, 1])
  })

  it("reads the worker and connector settings", () => {
    assert.deepStrictEqual(ExactlyOnce.workerSupport({}), { support: "disabled" })
    assert.deepStrictEqual(ExactlyOnce.workerSupport({ "exactly.once.source.support": " Enabled " }), {
      support: "enabled"
    })
    assert.property(ExactlyOnce.workerSupport({ "exactly.once.source.support": "on" }), "error")
    assert.strictEqual(ExactlyOnce.transactionalId(ExactlyOnce.groupIdOf({}), "src", 2), "connect-cluster-src-2")
    assert.strictEqual(ExactlyOnce.offsetsTopicOf({}, {}), "connect-offsets")
    assert.strictEqual(ExactlyOnce.offsetsTopicOf({ "offsets.storage.topic": "own" }, {}), "own")
    assert.strictEqual(ExactlyOnce.intervalMsOf({}, { "offset.flush.interval.ms": "500" }), 500)
    assert.strictEqual(ExactlyOnce.intervalMsOf({ "transaction.boundary.interval.ms": "20" }, {}), 20)
  })
})
