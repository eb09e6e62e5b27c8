import { execFile } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { startEddy } from "../util.js"
import { freePort } from "./util.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..")

describe("examples/http-webhook-to-sink", () => {
  it.scopedLive(
    "runs webhook -> topic -> Streams -> topic -> HTTP sink against a broker",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddy
        const env = {
          ...process.env,
          BOOTSTRAP: bootstrap,
          WEBHOOK_PORT: String(yield* freePort),
          RECEIVER_PORT: String(yield* freePort),
          EVENTS: "5"
        }
        const stdout = yield* Effect.async<string, Error>((resume) => {
          const child = execFile(
            process.execPath,
            ["examples/dist/http-webhook-to-sink/pipeline.js"],
            { cwd: root, env, timeout: 50_000 },
            (error, out, err) =>
              resume(error ? Effect.fail(new Error(`${error.message}\n${out}\n${err}`)) : Effect.succeed(out))
          )
          return Effect.sync(() => child.kill())
        })
        assert.include(stdout, "posted 5 webhook events")
        // the malformed event was dropped by the Streams step, the others enriched with their square
        assert.include(
          stdout,
          "received 5 events: 0 (square 0), 1 (square 1), 2 (square 4), 3 (square 9), 4 (square 16)"
        )
      }),
    60_000
  )
})
