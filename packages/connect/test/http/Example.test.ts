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
    "runs webhook -> topic -> HTTP sink against a broker",
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
        assert.include(stdout, "received 5 events: 0, 1, 2, 3, 4")
      }),
    60_000
  )
})
