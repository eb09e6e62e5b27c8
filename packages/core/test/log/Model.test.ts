/**
 * Property test: random sequences of append / read / truncate / roll / delete-records / retention /
 * reopen against a simple in-memory model (a list of batches); the log must give the same answers.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import fc from "fast-check"
import * as Disk from "../../src/log/internal/disk.js"
import * as Log from "../../src/log/Log.js"
import * as LogConfig from "../../src/log/LogConfig.js"
import * as RecordBatch from "../../src/protocol/RecordBatch.js"
import { batch, tempDir } from "./helpers.js"

type Command =
  | { readonly _tag: "append"; readonly batches: ReadonlyArray<{ count: number; size: number }> }
  | { readonly _tag: "read"; readonly at: number; readonly maxBytes: number; readonly cap: number }
  | { readonly _tag: "truncate"; readonly at: number }
  | { readonly _tag: "roll" }
  | { readonly _tag: "deleteRecords"; readonly at: number }
  | { readonly _tag: "retention"; readonly hw: number }
  | { readonly _tag: "reopen"; readonly clean: boolean }
  | { readonly _tag: "timestamp"; readonly at: number }

const frac = fc.integer({ min: 0, max: 1000 }).map((x) => x / 1000)
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .array(fc.record({ count: fc.integer({ min: 1, max: 5 }), size: fc.integer({ min: 0, max: 300 }) }), {
        minLength: 1,
        maxLength: 4
      })
      .map((batches) => ({ _tag: "append" as const, batches }))
  },
  {
    weight: 5,
    arbitrary: fc
      .record({
        at: fc.integer({ min: -100, max: 1100 }).map((x) => x / 1000),
        maxBytes: fc.integer({ min: 1, max: 3000 }),
        cap: frac
      })
      .map((r) => ({ _tag: "read" as const, ...r }))
  },
  { weight: 1, arbitrary: frac.map((at) => ({ _tag: "truncate" as const, at })) },
  { weight: 1, arbitrary: fc.constant({ _tag: "roll" as const }) },
  { weight: 1, arbitrary: frac.map((at) => ({ _tag: "deleteRecords" as const, at })) },
  { weight: 1, arbitrary: frac.map((hw) => ({ _tag: "retention" as const, hw })) },
  { weight: 1, arbitrary: fc.boolean().map((clean) => ({ _tag: "reopen" as const, clean })) },
  { weight: 1, arbitrary: frac.map((at) => ({ _tag: "timestamp" as const, at })) }
)

interface ModelBatch {
  readonly base: number
  readonly last: number
  readonly bytes: Buffer
  readonly maxTimestamp: number
}

const run = (commands: ReadonlyArray<Command>, disk: Disk.Disk, dir: string) =>
  Effect.gen(function* () {
    const config = LogConfig.make({
      "segment.bytes": 2000,
      "index.interval.bytes": 150,
      "retention.bytes": 4000,
      "retention.ms": -1
    })
    let log = yield* Log.open({ dir, config, disk })
    let batches: Array<ModelBatch> = []
    let lso = 0
    let leo = 0
    let hw = 0
    let ts = 0
    for (const c of commands) {
      switch (c._tag) {
        case "append": {
          const bufs = c.batches.map((b) => {
            ts += 10
            return batch({ count: b.count, valueSize: b.size, timestamp: ts, seed: leo })
          })
          const info = yield* log.append(bufs)
          assert.strictEqual(info.firstOffset, leo)
          for (const b of bufs) {
            const h = RecordBatch.readHeader(b)
            batches.push({
              base: h.baseOffset,
              last: h.baseOffset + h.lastOffsetDelta,
              bytes: Buffer.from(b),
              maxTimestamp: h.maxTimestamp
            })
          }
          leo = info.lastOffset + 1
          break
        }
        case "read": {
          const at = Math.round(lso + c.at * (leo - lso))
          const cap = Math.round(at + c.cap * (leo - at))
          const r = yield* Effect.either(log.read(at, c.maxBytes, { maxOffset: cap }))
          if (at < lso || at > leo) {
            assert.isTrue(
              r._tag === "Left" && r.left._tag === "OffsetOutOfRangeError",
              `read ${at} in [${lso}, ${leo}]`
            )
            break
          }
          assert.strictEqual(r._tag, "Right")
          if (r._tag !== "Right") break
          const expected = batches.filter((b) => b.last >= at && b.last < cap)
          const got = RecordBatch.headers(r.right.records)
          if (expected.length === 0) {
            assert.strictEqual(got.length, 0)
            break
          }
          assert.isAbove(got.length, 0, `read at ${at} cap ${cap} returned nothing`)
          assert.isTrue(got.length === 1 || r.right.records.length <= c.maxBytes)
          for (const [i, g] of got.entries()) {
            const e = expected[i]!
            const bytes = r.right.records.subarray(g.position, g.position + e.bytes.length)
            assert.isTrue(bytes.equals(e.bytes), `batch ${e.base} differs`)
          }
          break
        }
        case "truncate": {
          const at = Math.round(lso + c.at * (leo - lso))
          yield* log.truncateTo(at)
          if (at <= lso) {
            batches = []
            lso = leo = hw = at
          } else if (at < leo) {
            const cut = batches.find((b) => b.last >= at)
            batches = batches.filter((b) => b.last < at)
            leo = cut ? Math.min(at, cut.base) : at
            lso = Math.min(lso, leo)
            hw = Math.min(hw, leo)
          }
          assert.strictEqual(log.logEndOffset, leo)
          break
        }
        case "roll":
          yield* log.roll
          break
        case "deleteRecords": {
          yield* log.updateHighWatermark(leo)
          hw = leo
          const at = Math.round(lso + c.at * (hw - lso))
          yield* log.deleteRecords(at)
          lso = Math.max(lso, at)
          batches = batches.filter((b) => b.last >= lso)
          break
        }
        case "retention": {
          hw = Math.round(lso + c.hw * (leo - lso))
          yield* log.updateHighWatermark(hw)
          yield* log.deleteOldSegments
          assert.isAtLeast(log.logStartOffset, lso)
          assert.isAtMost(log.logStartOffset, Math.max(hw, lso))
          if (log.logStartOffset > lso) {
            // retention moves the start to a batch boundary
            assert.isTrue(batches.some((b) => b.base === log.logStartOffset) || log.logStartOffset === leo)
          }
          lso = log.logStartOffset
          batches = batches.filter((b) => b.last >= lso)
          break
        }
        case "reopen": {
          if (c.clean) yield* log.close
          log = yield* Log.open({ dir, config, disk })
          hw = lso
          break
        }
        case "timestamp": {
          const t = Math.round(c.at * (ts + 20))
          const r = yield* log.offsetForTimestamp(t)
          const e = batches.find((b) => b.maxTimestamp >= t && b.last >= lso)
          if (!e) assert.isTrue(r._tag === "None", `timestamp ${t}`)
          else {
            assert.strictEqual(r._tag, "Some")
            if (r._tag === "Some") {
              // records in a batch have timestamps base, base+1, ...: the first at or after t and lso
              assert.isTrue(r.value.timestamp >= t && r.value.offset >= lso && r.value.offset <= e.last)
            }
          }
          break
        }
      }
      assert.strictEqual(log.logEndOffset, leo, `after ${c._tag}`)
      assert.strictEqual(log.logStartOffset, lso, `after ${c._tag}`)
    }
    yield* log.close
  })

describe("Log against a model", () => {
  it.effect("memory disk: random command sequences give the model's answers", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(fc.array(command, { minLength: 10, maxLength: 80 }), (commands) =>
          Effect.runPromise(run(commands, Disk.memory(), "/p/t-0"))
        ),
        { numRuns: 200 }
      )
    )
  )

  it.effect("file disk: random command sequences give the model's answers", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(fc.array(command, { minLength: 5, maxLength: 40 }), (commands) =>
          Effect.runPromise(Effect.scoped(Effect.flatMap(tempDir, (dir) => run(commands, Disk.node, dir))))
        ),
        { numRuns: 25 }
      )
    )
  )
})
