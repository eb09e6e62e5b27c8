import * as fs from "node:fs"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { eventually, makeWorker, startEddy, tempDir, workerProps } from "../util.js"

const lines = (file: string) =>
  fs.existsSync(file)
    ? fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l !== "")
    : []

describe("Worker: FileStreamSource -> topic -> FileStreamSink", () => {
  it.scopedLive(
    "copies a file line for line, resumes without duplicates, rewinds through offsets",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddy
        const dir = yield* tempDir
        const input = path.join(dir, "in.txt")
        const output = path.join(dir, "out.txt")
        const offsetsFile = path.join(dir, "offsets.json")
        const expected = Array.from({ length: 500 }, (_, i) => `line ${i} ü`)
        fs.writeFileSync(input, `${expected.join("\n")}\n`)
        const props = workerProps(bootstrap)
        const source = { "connector.class": "FileStreamSource", file: input, topic: "copy" }
        const sink = {
          "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
          file: output,
          topics: "copy"
        }

        yield* Effect.scoped(
          Effect.gen(function* () {
            const worker = yield* makeWorker(props, offsetsFile)
            yield* worker.create("src", source)
            yield* worker.create("snk", sink)
            yield* eventually(Effect.sync(() => lines(output).length >= expected.length))
            assert.deepStrictEqual(lines(output), expected)
            const status = yield* worker.status("src")
            assert.strictEqual(status.connector.state, "RUNNING")
            assert.deepStrictEqual(
              status.tasks.map((t) => t.state),
              ["RUNNING"]
            )
            assert.deepStrictEqual(yield* worker.topics("src"), ["copy"])
          })
        )
        // a new worker over the same offsets file: nothing is copied twice; an appended line arrives
        fs.appendFileSync(input, "appended\n")
        yield* Effect.scoped(
          Effect.gen(function* () {
            const worker = yield* makeWorker(props, offsetsFile)
            yield* worker.create("src", source)
            yield* worker.create("snk", sink)
            yield* eventually(Effect.sync(() => lines(output).length >= expected.length + 1))
            yield* Effect.sleep("500 millis")
            assert.deepStrictEqual(lines(output), [...expected, "appended"])

            // offsets are flushed every offset.flush.interval.ms
            const stored = [{ partition: { filename: input }, offset: { position: fs.statSync(input).size } }]
            yield* eventually(Effect.map(worker.offsets("src"), (o) => JSON.stringify(o) === JSON.stringify(stored)))
            const running = yield* Effect.flip(
              worker.alterOffsets("src", [{ partition: { filename: input }, offset: { position: 0 } }])
            )
            assert.strictEqual(running.status, 400)
            yield* worker.setTarget("src", "STOPPED")
            assert.deepStrictEqual((yield* worker.status("src")).tasks, [])
            yield* worker.alterOffsets("src", [{ partition: { filename: input }, offset: { position: 0 } }])
            yield* worker.setTarget("src", "STARTED")
            yield* eventually(Effect.sync(() => lines(output).length >= 2 * expected.length + 2))
            assert.deepStrictEqual(lines(output), [...expected, "appended", ...expected, "appended"])
          })
        )
      }),
    60_000
  )
})
