import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import * as Disk from "../../src/log/internal/disk.js"
import { LeaderEpochCache } from "../../src/log/LeaderEpochCache.js"
import * as Log from "../../src/log/Log.js"
import * as LogConfig from "../../src/log/LogConfig.js"
import { OffsetIndex } from "../../src/log/OffsetIndex.js"
import { TimeIndex } from "../../src/log/TimeIndex.js"
import * as RecordBatch from "../../src/protocol/RecordBatch.js"

describe("OffsetIndex", () => {
  it("looks up the last entry at or below an offset, round-trips Kafka's format, rejects bad files", () => {
    const idx = new OffsetIndex(100, 3)
    assert.isTrue(idx.append(110, 4096))
    assert.isTrue(idx.append(120, 8192))
    assert.isFalse(idx.append(115, 9000))
    assert.deepStrictEqual(idx.lookup(105), { offset: 100, position: 0 })
    assert.deepStrictEqual(idx.lookup(119), { offset: 110, position: 4096 })
    assert.deepStrictEqual(idx.lookup(500), { offset: 120, position: 8192 })
    const bytes = idx.encode()
    assert.strictEqual(bytes.toString("hex"), "0000000a000010000000001400002000")
    assert.deepStrictEqual(OffsetIndex.decode(bytes, 100, 3, 10000)?.lastEntry, { offset: 120, position: 8192 })
    assert.isUndefined(OffsetIndex.decode(bytes.subarray(0, 7), 100, 3, 10000))
    assert.isUndefined(OffsetIndex.decode(bytes, 100, 3, 5000)) // position past the log
    assert.isUndefined(OffsetIndex.decode(Buffer.alloc(16), 100, 3, 10000)) // zero-filled
    assert.isTrue(idx.append(130, 9000))
    assert.isTrue(idx.isFull)
    idx.truncateTo(120)
    assert.strictEqual(idx.entries, 1)
  })
})

describe("TimeIndex", () => {
  it("keeps increasing timestamps and finds the last entry before a timestamp", () => {
    const t = new TimeIndex(0, 10)
    assert.isTrue(t.maybeAppend(1000, 0))
    assert.isFalse(t.maybeAppend(1000, 5))
    assert.isTrue(t.maybeAppend(2000, 10))
    assert.isUndefined(t.lookupBefore(1000))
    assert.deepStrictEqual(t.lookupBefore(1001), { timestamp: 1000, offset: 0 })
    assert.deepStrictEqual(t.lookupBefore(5000), { timestamp: 2000, offset: 10 })
    const round = TimeIndex.decode(t.encode(), 0, 10, 100)
    assert.deepStrictEqual(round?.lastEntry, { timestamp: 2000, offset: 10 })
    t.truncateTo(10)
    assert.strictEqual(t.entries, 1)
  })
})

describe("LeaderEpochCache", () => {
  it("answers OffsetForLeaderEpoch like Kafka and keeps its checkpoint format", () => {
    const c = new LeaderEpochCache()
    c.assign(1, 0)
    c.assign(3, 10)
    c.assign(2, 5) // older epoch: ignored
    c.assign(5, 20)
    assert.deepStrictEqual(c.endOffsetFor(5, 30), { leaderEpoch: 5, endOffset: 30 })
    assert.deepStrictEqual(c.endOffsetFor(4, 30), { leaderEpoch: 3, endOffset: 20 })
    assert.deepStrictEqual(c.endOffsetFor(0, 30), { leaderEpoch: 0, endOffset: 0 })
    assert.deepStrictEqual(c.endOffsetFor(6, 30), { leaderEpoch: -1, endOffset: -1 })
    assert.strictEqual(c.encode(), "0\n3\n1 0\n3 10\n5 20\n")
    assert.deepStrictEqual(LeaderEpochCache.decode(c.encode())?.entries, c.entries)
    assert.isUndefined(LeaderEpochCache.decode("0\n2\n1 0\n"))
    c.truncateFromStart(12)
    assert.deepStrictEqual(c.entries, [
      { epoch: 3, startOffset: 12 },
      { epoch: 5, startOffset: 20 }
    ])
    c.truncateFromEnd(20)
    assert.deepStrictEqual(c.entries, [{ epoch: 3, startOffset: 12 }])
  })
})

describe("index files after a truncation", () => {
  it.effect("entries removed by truncateTo never come back from disk (regression: found by the model test)", () =>
    Effect.gen(function* () {
      const disk = Disk.memory()
      const dir = "/p/t-0"
      const config = LogConfig.make({ "index.interval.bytes": 1 })
      const batchAt = (ts: number) => RecordBatch.encode([{ value: Buffer.from("v"), timestamp: ts }])
      let log = yield* Log.open({ dir, config, disk })
      for (const ts of [10, 20, 30, 40, 50, 60]) yield* log.append(batchAt(ts))
      yield* log.flush // the index files now hold six entries each
      yield* log.truncateTo(3)
      // as many entries again as were on disk: written from the old count, the stale ones would stay
      for (const ts of [70, 80, 90, 100]) yield* log.append(batchAt(ts))
      yield* log.close
      log = yield* Log.open({ dir, config, disk })
      const found = yield* log.offsetForTimestamp(65)
      assert.deepStrictEqual(
        Option.map(found, (f) => [f.offset, f.timestamp]),
        Option.some([3, 70])
      )
      yield* log.close
    })
  )
})
