import * as fs from "node:fs"
import * as path from "node:path"
import * as Fetcher from "@eddy/core/client/Fetcher"
import * as Producer from "@eddy/core/client/Producer"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import { eventually, makeWorker, startEddy, tempDir, workerProps } from "../util.js"

const text = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString("utf8"))

const setup = Effect.gen(function* () {
  const { bootstrap } = yield* startEddy
  const dir = yield* tempDir
  const producer = yield* Producer.make({ "bootstrap.servers": bootstrap })
  const enc = (s: string) => new TextEncoder().encode(s)
  yield* producer.sendBatch("poison", [
    { value: enc('"first"') },
    { value: enc("not json {"), headers: [{ key: "trace-id", value: enc("t-1") }] },
    { value: enc('"last"') }
  ])
  const props = workerProps(bootstrap, {
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "value.converter.schemas.enable": "false"
  })
  return { bootstrap, dir, props }
})

describe("sink errors", () => {
  it.scopedLive(
    "errors.tolerance=none fails the task with the trace at the poison record",
    () =>
      Effect.gen(function* () {
        const { dir, props } = yield* setup
        const out = path.join(dir, "out.txt")
        const worker = yield* makeWorker(props)
        yield* worker.create("strict", { "connector.class": "FileStreamSink", file: out, topics: "poison" })
        yield* eventually(Effect.map(worker.status("strict"), (s) => s.tasks[0]?.state === "FAILED"))
        const task = (yield* worker.status("strict")).tasks[0]!
        assert.include(task.trace, "Tolerance exceeded in error handler")
        assert.include(task.trace, "Converting byte[] to Kafka Connect data failed")
        assert.strictEqual(fs.existsSync(out) ? fs.readFileSync(out, "utf8") : "", "")
        assert.strictEqual((yield* worker.status("strict")).connector.state, "RUNNING")
      }),
    60_000
  )

  it.scopedLive(
    "errors.tolerance=all sends the poison record with its original bytes and context headers to the DLQ; the rest flows",
    () =>
      Effect.gen(function* () {
        const { bootstrap, dir, props } = yield* setup
        const out = path.join(dir, "out.txt")
        const worker = yield* makeWorker(props)
        yield* worker.create("tolerant", {
          "connector.class": "FileStreamSink",
          file: out,
          "topics.regex": "pois.*",
          "errors.tolerance": "all",
          "errors.log.enable": "true",
          "errors.deadletterqueue.topic.name": "dlq",
          "errors.deadletterqueue.topic.replication.factor": "1",
          "errors.deadletterqueue.context.headers.enable": "true"
        })
        yield* eventually(Effect.sync(() => fs.existsSync(out) && fs.readFileSync(out, "utf8") === "first\nlast\n"))
        const fetcher = yield* Fetcher.make({ "bootstrap.servers": bootstrap, "fetch.max.wait.ms": 50 })
        const [dead] = Chunk.toReadonlyArray(
          yield* fetcher.fetch("dlq", [{ partition: 0, offset: "earliest" }]).pipe(Stream.take(1), Stream.runCollect)
        )
        assert.strictEqual(text(dead!.value), "not json {")
        const headers = Object.fromEntries(dead!.headers.map((h) => [h.key, text(h.value)]))
        assert.strictEqual(headers["trace-id"], "t-1")
        assert.strictEqual(headers["__connect.errors.topic"], "poison")
        assert.strictEqual(headers["__connect.errors.partition"], "0")
        assert.strictEqual(headers["__connect.errors.offset"], "1")
        assert.strictEqual(headers["__connect.errors.connector.name"], "tolerant")
        assert.strictEqual(headers["__connect.errors.task.id"], "0")
        assert.strictEqual(headers["__connect.errors.stage"], "VALUE_CONVERTER")
        assert.strictEqual(headers["__connect.errors.exception.class.name"], "DataError")
        assert.include(headers["__connect.errors.exception.message"], "Converting byte[] to Kafka Connect data failed")
        assert.isString(headers["__connect.errors.exception.stacktrace"])
        assert.strictEqual((yield* worker.status("tolerant")).tasks[0]!.state, "RUNNING")
      }),
    60_000
  )
})
