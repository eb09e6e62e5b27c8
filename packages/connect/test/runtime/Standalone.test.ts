import * as fs from "node:fs"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import * as Standalone from "../../src/runtime/Standalone.js"
import { Worker } from "../../src/runtime/Worker.js"
import { eventually, startEddy, tempDir, workerProps } from "../util.js"

describe("standalone worker", () => {
  it.scopedLive(
    "keeps a paused connector paused and a stopped one stopped across a restart; a deleted one is forgotten",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddy
        const dir = yield* tempDir
        const input = path.join(dir, "in.txt")
        fs.writeFileSync(input, "a\n")
        const props = {
          ...workerProps(bootstrap),
          "offset.storage.file.filename": path.join(dir, "offsets.json"),
          listeners: "http://127.0.0.1:0"
        }
        const source = { "connector.class": "FileStreamSource", file: input, topic: "st" }
        const withWorker = <A, E>(f: (w: Worker["Type"]) => Effect.Effect<A, E>) =>
          Effect.scoped(Effect.flatMap(Layer.build(Standalone.layer(props)), (ctx) => f(Context.get(ctx, Worker))))

        yield* withWorker((w) =>
          Effect.gen(function* () {
            yield* w.create("paused-one", source)
            yield* w.create("stopped-one", source)
            yield* w.create("gone", source)
            yield* w.setTarget("paused-one", "PAUSED")
            yield* w.setTarget("stopped-one", "STOPPED")
            yield* w.setTarget("gone", "PAUSED")
            yield* w.delete("gone")
          })
        )
        yield* withWorker((w) =>
          Effect.gen(function* () {
            yield* w.create("paused-one", source)
            yield* w.create("stopped-one", source)
            yield* w.create("gone", source)
            yield* eventually(Effect.map(w.status("gone"), (s) => s.tasks[0]?.state === "RUNNING"))
            const paused = yield* w.status("paused-one")
            assert.strictEqual(paused.connector.state, "PAUSED")
            assert.deepStrictEqual(
              paused.tasks.map((t) => t.state),
              ["PAUSED"]
            )
            assert.strictEqual((yield* w.status("stopped-one")).connector.state, "STOPPED")
          })
        )
      }),
    60_000
  )
})
