/**
 * The examples at the repository root run as child processes (`node examples/dist/<name>.js`, built by `npm run build`, which `npm test` runs first)
 * against an in-process broker, as a user runs them against `npm start`'s.
 */
import { spawn } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { startEddy } from "../runtime/util.js"

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..")

/** Runs an example to its end; resolves with its exit code and stdout. */
export const runExample = (name: string, env: Record<string, string>, args: ReadonlyArray<string> = []) =>
  Effect.async<{ code: number | null; stdout: string; stderr: string }>((resume) => {
    const child = spawn(process.execPath, [path.join(root, "examples", "dist", `${name}.js`), ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += String(d)))
    child.stderr.on("data", (d) => (stderr += String(d)))
    child.on("exit", (code) => resume(Effect.succeed({ code, stdout, stderr })))
    return Effect.sync(() => void child.kill("SIGKILL"))
  })

describe("examples", () => {
  it.scopedLive(
    "word-count and order-totals run against a broker and print their results",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddy
        const env = { EDDY_BOOTSTRAP: bootstrap, STATE_DIR: mkdtempSync(path.join(tmpdir(), "example-")) }
        const [wc, totals] = yield* Effect.all([runExample("word-count", env), runExample("order-totals", env)], {
          concurrency: 2
        })
        assert.strictEqual(wc.code, 0, wc.stderr)
        assert.include(wc.stdout, "Sub-topology: 1")
        assert.include(wc.stdout, "sea: 2")
        assert.include(wc.stdout, "streams: 2")
        assert.strictEqual(totals.code, 0, totals.stderr)
        assert.include(totals.stdout, "alice: 2 orders, total 38")
        assert.include(totals.stdout, "bob: 1 orders, total 12.5")
      }),
    120_000
  )

  it.scopedLive(
    "order-enrichment (stream-table join) and fraud-check (stream-stream join) print their results",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddy
        const env = { EDDY_BOOTSTRAP: bootstrap, STATE_DIR: mkdtempSync(path.join(tmpdir(), "example-")) }
        const [enrichment, fraud] = yield* Effect.all(
          [runExample("order-enrichment", env), runExample("fraud-check", env)],
          { concurrency: 2 }
        )
        assert.strictEqual(enrichment.code, 0, enrichment.stderr)
        assert.include(enrichment.stdout, "o1: 30 for Ann (gold)")
        assert.include(enrichment.stdout, "o2: 12.5 for Bob (standard)")
        assert.include(enrichment.stdout, "o3: 7 for unknown customer")
        assert.strictEqual(fraud.code, 0, fraud.stderr)
        assert.include(fraud.stdout, "ALERT card-1: 120 in Paris and 80 in New York within 5 minutes")
        assert.notInclude(fraud.stdout, "card-2")
      }),
    120_000
  )

  it.scopedLive(
    "page-view-counts prints one final windowed count per page",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddy
        const env = { EDDY_BOOTSTRAP: bootstrap, STATE_DIR: mkdtempSync(path.join(tmpdir(), "example-")) }
        const run = yield* runExample("page-view-counts", env)
        assert.strictEqual(run.code, 0, run.stderr)
        assert.include(run.stdout, "KTABLE-SUPPRESS-0000000003")
        assert.include(run.stdout, "cart: 2\ncheckout: 1\nhome: 3\n")
      }),
    120_000
  )
})
