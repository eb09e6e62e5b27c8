import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import { sinkRecord } from "../../src/data/ConnectRecord.js"
import * as FileStreamSink from "../../src/file/FileStreamSink.js"
import * as FileStreamSource from "../../src/file/FileStreamSource.js"
import type { SourceMap, SourceTaskContext } from "../../src/plugin/Connector.js"

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "eddy-file-"))

const context = (offsets: Record<string, SourceMap> = {}): SourceTaskContext => ({
  configs: {},
  transactionContext: null,
  offsetStorageReader: { offset: (p) => Effect.succeed(offsets[JSON.stringify(p)] ?? null) }
})

describe("FileStreamSource", () => {
  it.effect("emits lines with byte positions, tails the file, resumes from a stored position", () =>
    Effect.gen(function* () {
      const file = path.join(tmp(), "in.txt")
      fs.writeFileSync(file, "alpha\r\nbeta\ngamma\ndel")
      const task = yield* FileStreamSource.plugin.task
      yield* task.start({ file, topic: "t", "batch.size": "2" }, context())
      const first = (yield* task.poll)!
      assert.deepStrictEqual(
        first.map((r) => [r.value, r.sourceOffset]),
        [
          ["alpha", { position: 7 }],
          ["beta", { position: 12 }]
        ]
      )
      assert.deepStrictEqual(first[0]!.sourcePartition, { filename: file })
      assert.strictEqual(first[0]!.valueSchema?.type, "string")
      const second = (yield* task.poll)!
      assert.deepStrictEqual(
        second.map((r) => r.value),
        ["gamma"]
      )
      // "del" has no newline yet: the poll waits a second and answers with nothing
      const idle = yield* Effect.fork(task.poll)
      yield* TestClock.adjust("1 second")
      assert.isNull(yield* Fiber.join(idle))
      fs.appendFileSync(file, "ta\nepsilon\n")
      assert.deepStrictEqual(
        (yield* task.poll)!.map((r) => [r.value, r.sourceOffset]),
        [
          ["delta", { position: 24 }],
          ["epsilon", { position: 32 }]
        ]
      )
      yield* task.stop

      const resumed = yield* FileStreamSource.plugin.task
      yield* resumed.start({ file, topic: "t" }, context({ [JSON.stringify({ filename: file })]: { position: 12 } }))
      assert.deepStrictEqual(
        (yield* resumed.poll)!.map((r) => r.value),
        ["gamma", "delta", "epsilon"]
      )
      yield* resumed.stop
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.effect("validates its config and makes exactly one task", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(FileStreamSource.config.validate({}).find((v) => v.name === "topic")?.errors, [
        'Missing required configuration "topic" which has no default value.'
      ])
      assert.lengthOf(
        FileStreamSource.config.validate({ topic: "t", "batch.size": "x" }).find((v) => v.name === "batch.size")!
          .errors,
        1
      )
      const connector = yield* FileStreamSource.plugin.connector
      const ctx = { requestTaskReconfiguration: Effect.void, raiseError: () => Effect.void }
      const bad = yield* Effect.flip(connector.start({ topic: "a,b" }, ctx))
      assert.include(bad.message, "single topic")
      yield* connector.start({ topic: "t", file: "/x" }, ctx)
      assert.deepStrictEqual(yield* connector.taskConfigs(5), [{ topic: "t", file: "/x" }])
      assert.strictEqual(FileStreamSource.plugin.exactlyOnceSupport!({ topic: "t" }), "UNSUPPORTED")
    }).pipe(Effect.provide(NodeContext.layer))
  )
})

describe("FileStreamSink", () => {
  it.effect("appends each value and a newline", () =>
    Effect.gen(function* () {
      const file = path.join(tmp(), "out.txt")
      fs.writeFileSync(file, "existing\n")
      const task = yield* FileStreamSink.plugin.task
      yield* task.start({ file }, {} as never)
      const rec = (value: unknown, offset: number) =>
        sinkRecord({ topic: "t", kafkaPartition: 0, kafkaOffset: offset, value })
      yield* task.put([rec("one", 0), rec(2, 1), rec(null, 2)])
      yield* task.flush!([{ topic: "t", partition: 0, offset: 3 }])
      yield* task.stop
      assert.strictEqual(fs.readFileSync(file, "utf8"), "existing\none\n2\nnull\n")
    }).pipe(Effect.provide(NodeContext.layer))
  )
})
