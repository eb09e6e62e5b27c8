/**
 * Crash test: a child process appends with `flush.messages=1` and is killed with SIGKILL at random
 * moments, several rounds over the same folder; after each recovery every acknowledged batch is
 * present and byte-identical, and every batch served has a valid CRC.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Log from "../../src/log/Log.js"
import * as LogConfig from "../../src/log/LogConfig.js"
import * as RecordBatch from "../../src/protocol/RecordBatch.js"
import { crashBatch } from "./fixtures/crashBatch.js"
import { captureWarnings, tempDir } from "./helpers.js"

const here = Path.dirname(fileURLToPath(import.meta.url))
const child = Path.join(here, "fixtures", "crash-child.ts")
const root = Path.resolve(here, "../../../..")

/** Runs the child until it has acknowledged something and a random delay has passed; returns its acks. */
const runRound = (dir: string, killAfterMs: number): Promise<{ acked: number; opened: number }> =>
  new Promise((resolve, reject) => {
    const p: ChildProcess = spawn(process.execPath, ["--import", "tsx", child, dir], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    let err = ""
    let timer: NodeJS.Timeout | undefined
    p.stdout!.on("data", (d: Buffer) => {
      out += d.toString()
      if (timer === undefined && out.includes("ack ")) timer = setTimeout(() => p.kill("SIGKILL"), killAfterMs)
    })
    p.stderr!.on("data", (d: Buffer) => {
      err += d.toString()
    })
    const guard = setTimeout(() => p.kill("SIGKILL"), 15_000)
    p.on("exit", (_code, signal) => {
      clearTimeout(guard)
      if (signal !== "SIGKILL") return reject(new Error(`child exited without being killed: ${err}`))
      let acked = -1
      let opened = -1
      for (const line of out.split("\n")) {
        const [kind, a, b] = line.split(" ")
        if (kind === "ack" && b !== undefined) acked = Math.max(acked, Number(b))
        if (kind === "open" && a !== undefined) opened = Number(a)
      }
      resolve({ acked, opened })
    })
  })

describe("Crash", () => {
  it.scoped(
    "SIGKILL at random moments never loses an acknowledged batch nor serves a torn one",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const warnings = captureWarnings()
        let ackedOverall = -1
        const config = LogConfig.make({ "segment.bytes": 256 * 1024, "index.interval.bytes": 1024 })
        for (let round = 0; round < 6; round++) {
          const killAfter = 20 + Math.floor(Math.random() * 400)
          const { acked, opened } = yield* Effect.promise(() => runRound(dir, killAfter))
          // the child reopened everything acknowledged before
          assert.isAtLeast(opened, ackedOverall + 1)
          ackedOverall = Math.max(ackedOverall, acked)
          const log = yield* Log.open({ dir, config }).pipe(Effect.provide(warnings.layer))
          assert.isAtLeast(log.logEndOffset, ackedOverall + 1, `round ${round}: acknowledged offsets lost`)
          let offset = 0
          while (offset < log.logEndOffset) {
            const r = yield* log.read(offset, 1 << 20)
            for (const { position, header } of RecordBatch.headers(r.records)) {
              const size = RecordBatch.LOG_OVERHEAD + header.batchLength
              assert.isTrue(RecordBatch.isCrcValid(r.records, position, size), `torn batch at ${header.baseOffset}`)
              const expected = crashBatch(header.baseOffset).bytes
              assert.isTrue(
                r.records.subarray(position, position + size).equals(expected),
                `batch ${header.baseOffset} differs`
              )
            }
            offset = r.nextOffset
          }
          // the parent's check leaves the folder as a crash would (no clean close)
        }
        assert.isAbove(ackedOverall, 0)
      }),
    60_000
  )
})
