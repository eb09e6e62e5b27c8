import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { calls } from "../plugin/fixtures/RecordingSource.js"
import { eventually, makeWorker, startEddy, workerProps } from "../util.js"

const fixture = path.join(import.meta.dirname, "..", "plugin", "fixtures", "RecordingSource.ts")

describe("connector and task lifecycle", () => {
  it.scopedLive(
    "calls the plugin contract in order: start, taskConfigs, task start/poll/commitRecord/commit, stop",
    () =>
      Effect.gen(function* () {
        calls.length = 0
        const { bootstrap } = yield* startEddy
        const worker = yield* makeWorker(workerProps(bootstrap))
        yield* worker.create("rec", { "connector.class": fixture, topic: "rec-t", "tasks.max": "2", count: "2" })
        // each task committed after its second record was acknowledged (a loaded machine can run one task ahead)
        const committedBoth = (t: string) => {
          const mine = calls.filter((c) => c.startsWith(`${t}.`))
          const second = mine.findIndex((c) => c.startsWith(`${t}.commitRecord(r${t.slice(4)}-1@`))
          return second >= 0 && mine.lastIndexOf(`${t}.commit`) > second
        }
        yield* eventually(Effect.sync(() => committedBoth("task0") && committedBoth("task1")))
        const status = yield* worker.status("rec")
        assert.deepStrictEqual(
          status.tasks.map((t) => t.state),
          ["RUNNING", "RUNNING"]
        )
        assert.deepStrictEqual(calls.slice(0, 2), ["connector.start", "connector.taskConfigs(2)"])
        for (const t of ["task0", "task1"]) {
          const mine = calls.filter((c) => c.startsWith(`${t}.`)).map((c) => c.replace(/@\d+\)$/, "@N)"))
          const n = t.slice(4)
          // polls run ahead of acknowledgements; each record is committed after the poll that returned it, in order
          const polls = mine.flatMap((c, i) => (c === `${t}.poll` ? [i] : []))
          const first = mine.indexOf(`${t}.commitRecord(r${n}-0@N)`)
          const second = mine.indexOf(`${t}.commitRecord(r${n}-1@N)`)
          assert.strictEqual(mine[0], `${t}.start`)
          assert.isAbove(first, polls[0]!)
          assert.isAbove(second, polls[1]!)
          assert.isAbove(second, first)
          assert.isAbove(mine.lastIndexOf(`${t}.commit`), second)
        }
        const before = calls.length
        yield* worker.delete("rec")
        const after = calls.slice(before)
        assert.deepStrictEqual(after.filter((c) => c.endsWith(".stop")).sort(), [
          "connector.stop",
          "task0.stop",
          "task1.stop"
        ])
        assert.strictEqual(after.at(-1), "connector.stop")

        // offsets were committed: a new connector of the same name resumes after them and polls nothing new
        calls.length = 0
        yield* worker.create("rec", { "connector.class": fixture, topic: "rec-t", "tasks.max": "2", count: "2" })
        yield* eventually(
          Effect.map(worker.status("rec"), (s) => s.tasks.every((t) => t.state === "RUNNING") && s.tasks.length === 2)
        )
        yield* Effect.sleep("300 millis")
        assert.isFalse(calls.some((c) => c.endsWith(".poll")))
      }),
    60_000
  )
})
