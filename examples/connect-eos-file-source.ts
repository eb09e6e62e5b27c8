/**
 * An exactly-once file source in a worker process of its own: a Connect worker with
 * `exactly.once.source.support=enabled` (the task path of a distributed worker: transactional records and
 * offsets, zombie fencing) runs a FileStreamSource that copies the lines of `INPUT` to the topic `TOPIC`.
 * It prints RUNNING once its task runs and then runs until killed; killed at any moment (even kill -9) and
 * started again, it continues from the last committed transaction, so a read_committed consumer sees every
 * line exactly once. Start a broker with `npm start`, then:
 *
 *   npm run build && INPUT=/tmp/lines.txt node examples/dist/connect-eos-file-source.js
 *
 * `EDDY_BOOTSTRAP` (default localhost:9092), `INPUT` (required), `TOPIC` (default `eos-lines`) and
 * `GROUP_ID` (default `connect-cluster`) configure it. `packages/connect/scripts/eosKill.ts` kills it over
 * and over.
 */
import * as Plugins from "@eddy/connect/plugin/Plugins"
import * as OffsetStore from "@eddy/connect/runtime/OffsetStore"
import * as Worker from "@eddy/connect/runtime/Worker"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Logger, LogLevel } from "effect"

const input = process.env.INPUT
if (!input) throw new Error("set INPUT to the file to copy")

const workerProps = {
  "bootstrap.servers": process.env.EDDY_BOOTSTRAP ?? "localhost:9092",
  "group.id": process.env.GROUP_ID ?? "connect-cluster",
  "exactly.once.source.support": "enabled",
  "offset.storage.topic": "eos-example-offsets",
  "offset.storage.partitions": "3",
  "offset.storage.replication.factor": "1",
  "key.converter": "org.apache.kafka.connect.storage.StringConverter",
  "value.converter": "org.apache.kafka.connect.storage.StringConverter",
  "producer.linger.ms": "1",
  "consumer.fetch.max.wait.ms": "50"
}

const program = Effect.gen(function* () {
  // the tasks read and write their offsets in the offsets topic themselves; the worker's own offsets store
  // only answers the REST API, which this process does not serve
  const context = yield* Layer.build(Layer.mergeAll(Plugins.layer(), OffsetStore.layerMemory, NodeContext.layer))
  const worker = yield* Effect.provide(
    Worker.make(workerProps, { workerId: `eos-example-${process.pid}`, exactlyOnceSource: "enabled" }),
    context
  )
  yield* worker.create("eos-file-source", {
    "connector.class": "FileStreamSource",
    file: input,
    topic: process.env.TOPIC ?? "eos-lines",
    "exactly.once.support": "required"
  })
  const running = yield* worker.awaitState(
    "eos-file-source",
    (s) => s.tasks.length === 1 && (s.tasks[0]!.state === "RUNNING" || s.tasks[0]!.state === "FAILED")
  )
  if (running.tasks[0]!.state === "FAILED") return yield* Effect.dieMessage(running.tasks[0]!.trace ?? "task failed")
  console.log("RUNNING")
  return yield* Effect.never
})

NodeRuntime.runMain(program.pipe(Effect.scoped, Logger.withMinimumLogLevel(LogLevel.Warning)))
