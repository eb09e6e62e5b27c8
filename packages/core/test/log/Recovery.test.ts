import * as fs from "node:fs"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Log from "../../src/log/Log.js"
import * as LogConfig from "../../src/log/LogConfig.js"
import { batch, captureWarnings, offsetsOf, tempDir } from "./helpers.js"

const config = LogConfig.make({ "segment.bytes": 2000, "index.interval.bytes": 200 })
const seg = (dir: string, base: number, suffix = ".log") => Path.join(dir, `${String(base).padStart(20, "0")}${suffix}`)

const fill = (log: Log.Log, n: number) =>
  Effect.gen(function* () {
    for (let i = 0; i < n; i++) yield* log.append(batch({ count: 2, valueSize: 100, timestamp: i, seed: i }))
  })

const readAll = (log: Log.Log) =>
  Effect.gen(function* () {
    const out: Array<Buffer> = []
    let o = log.logStartOffset
    while (o < log.logEndOffset) {
      const r = yield* log.read(o, 1 << 20)
      if (r.nextOffset < 0) break
      out.push(r.records)
      o = r.nextOffset
    }
    return Buffer.concat(out)
  })

describe("Recovery", () => {
  it.scoped("truncates a torn tail after an unclean shutdown, with a warning saying how much", () => {
    const w = captureWarnings()
    return Effect.gen(function* () {
      const dir = yield* tempDir
      const log = yield* Log.open({ dir, config })
      yield* fill(log, 30)
      const before = yield* readAll(log)
      const last = log.segments[log.segments.length - 1]!
      // no close: crash. Tear the last batch and add garbage.
      fs.truncateSync(seg(dir, last.baseOffset), last.size - 20)
      fs.appendFileSync(seg(dir, last.baseOffset), Buffer.alloc(7, 0xab))
      const again = yield* Log.open({ dir, config })
      assert.strictEqual(again.logEndOffset, 58)
      const after = yield* readAll(again)
      assert.isTrue(after.equals(before.subarray(0, after.length)))
      assert.deepStrictEqual(offsetsOf(after).at(-1), [56, 57])
      assert.isTrue(
        w.messages.some((m) => /dropping \d+ bytes/.test(m)),
        w.messages.join("\n")
      )
      const next = yield* again.append(batch())
      assert.strictEqual(next.firstOffset, 58)
    }).pipe(Effect.provide(w.layer))
  })

  it.scoped("cuts at the first batch with a bad CRC and drops the segments after it", () => {
    const w = captureWarnings()
    return Effect.gen(function* () {
      const dir = yield* tempDir
      const log = yield* Log.open({ dir, config })
      yield* fill(log, 40)
      assert.isAbove(log.segments.length, 2)
      const first = log.segments[0]!
      // corrupt a record byte of the 3rd batch of the first segment (not covered by any index check)
      const b = batch({ count: 2, valueSize: 100 }).length
      const fd = fs.openSync(seg(dir, first.baseOffset), "r+")
      fs.writeSync(fd, Buffer.from([0x55]), 0, 1, 2 * b + 100)
      fs.closeSync(fd)
      fs.rmSync(Path.join(dir, "recovery-point-offset-checkpoint"))
      const again = yield* Log.open({ dir, config })
      assert.strictEqual(again.logEndOffset, 4)
      assert.strictEqual(again.segments.length, 1)
      assert.isTrue(
        w.messages.some((m) => /CRC mismatch/.test(m)),
        w.messages.join("\n")
      )
      assert.isTrue(w.messages.some((m) => /deleted segment/.test(m)))
      assert.deepStrictEqual(offsetsOf(yield* readAll(again)), [
        [0, 1],
        [2, 3]
      ])
    }).pipe(Effect.provide(w.layer))
  })

  it.scoped("rebuilds missing and corrupt indexes after a clean shutdown", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const log = yield* Log.open({ dir, config })
      yield* fill(log, 30)
      const before = yield* readAll(log)
      yield* log.close
      assert.isTrue(fs.existsSync(Path.join(dir, ".kafka_cleanshutdown")))
      fs.rmSync(seg(dir, 0, ".index"))
      fs.writeFileSync(seg(dir, log.segments[1]!.baseOffset, ".timeindex"), Buffer.alloc(13, 0xff))
      fs.writeFileSync(seg(dir, log.segments[2]!.baseOffset, ".index"), Buffer.alloc(16, 0))
      const again = yield* Log.open({ dir, config })
      assert.isFalse(fs.existsSync(Path.join(dir, ".kafka_cleanshutdown")))
      assert.deepStrictEqual(again.segments, log.segments)
      assert.isTrue((yield* readAll(again)).equals(before))
      assert.isTrue(fs.existsSync(seg(dir, 0, ".index")))
      assert.isAbove(fs.statSync(seg(dir, 0, ".index")).size, 0)
    })
  )

  it.scoped("a clean shutdown lets the next open skip the scan; an unclean one scans", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const log = yield* Log.open({ dir, config })
      yield* fill(log, 40)
      yield* log.close
      // flip a record byte in the first batch: only a scan can see it
      const fd = fs.openSync(seg(dir, 0), "r+")
      fs.writeSync(fd, Buffer.from([0x55]), 0, 1, 100)
      fs.closeSync(fd)
      const clean = yield* Log.open({ dir, config })
      assert.strictEqual(clean.logEndOffset, 80)
      yield* clean.append(batch())
      // crash (no close), and lose the recovery point: everything is scanned
      fs.rmSync(Path.join(dir, "recovery-point-offset-checkpoint"))
      const unclean = yield* Log.open({ dir, config }).pipe(Effect.provide(captureWarnings().layer))
      assert.strictEqual(unclean.logEndOffset, 0)
    })
  )

  it.scoped("finishes an interrupted compaction swap", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const log = yield* Log.open({ dir, config })
      yield* fill(log, 30)
      const before = yield* readAll(log)
      yield* log.close
      // pretend a compaction of the first segment got as far as the swap: its copy is complete
      fs.copyFileSync(seg(dir, 0), seg(dir, 0, ".log.swap"))
      fs.rmSync(seg(dir, 0))
      fs.writeFileSync(seg(dir, 0, ".log.cleaned"), "partial")
      const again = yield* Log.open({ dir, config })
      assert.isTrue((yield* readAll(again)).equals(before))
      assert.deepStrictEqual(
        fs.readdirSync(dir).filter((n) => n.endsWith(".swap") || n.endsWith(".cleaned")),
        []
      )
    })
  )
})
