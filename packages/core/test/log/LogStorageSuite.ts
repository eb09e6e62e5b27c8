/**
 * One behavioural suite for every LogStorage implementation: `suite(name, makeLayer)`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Option, TestClock } from "effect"
import type { Log } from "../../src/log/Log.js"
import type * as LogConfig from "../../src/log/LogConfig.js"
import type { KafkaStorageError } from "../../src/log/LogError.js"
import { LogStorage } from "../../src/log/LogStorage.js"
import * as RecordBatch from "../../src/protocol/RecordBatch.js"
import { batch, offsetsOf, recordsOf } from "./helpers.js"

/** Builds a fresh storage layer for one test. */
export type MakeLayer = (config?: Partial<LogConfig.StorageConfig>) => Layer.Layer<LogStorage, KafkaStorageError>

const tp = { topic: "t", partition: 0 }

const withLog = <A, E>(
  makeLayer: MakeLayer,
  config: Partial<LogConfig.LogConfig>,
  f: (log: Log, storage: LogStorage.Service) => Effect.Effect<A, E>,
  storageConfig: Partial<LogConfig.StorageConfig> = {}
) =>
  Effect.gen(function* () {
    const storage = yield* LogStorage
    const log = yield* storage.open(tp, config)
    return yield* f(log, storage)
  }).pipe(Effect.provide(makeLayer(storageConfig)))

/** Runs the suite against one implementation. */
export const suite = (name: string, makeLayer: MakeLayer) =>
  describe(`LogStorage (${name})`, () => {
    it.scoped("assigns offsets by rewriting base offsets and reads whole batches back byte-identical", () =>
      withLog(makeLayer, {}, (log) =>
        Effect.gen(function* () {
          const a = batch({ count: 3 })
          const b = batch({ count: 2 })
          const r1 = yield* log.append(a)
          const r2 = yield* log.append(b)
          assert.deepStrictEqual([r1.firstOffset, r1.lastOffset, r2.firstOffset, r2.lastOffset], [0, 2, 3, 4])
          assert.strictEqual(log.logEndOffset, 5)
          const read = yield* log.read(0, 1 << 20)
          assert.deepStrictEqual(offsetsOf(read.records), [
            [0, 2],
            [3, 4]
          ])
          assert.isTrue(Buffer.concat([a, b]).equals(read.records))
          assert.strictEqual(read.logEndOffset, 5)
          // an offset inside a batch returns that whole batch
          const mid = yield* log.read(4, 1 << 20)
          assert.deepStrictEqual(offsetsOf(mid.records), [[3, 4]])
          // at the log end: empty
          const end = yield* log.read(5, 1 << 20)
          assert.strictEqual(end.records.length, 0)
        })
      )
    )

    it.scoped("appends several batches in one call (one buffer or many)", () =>
      withLog(makeLayer, {}, (log) =>
        Effect.gen(function* () {
          const r = yield* log.append(Buffer.concat([batch({ count: 2 }), batch({ count: 3 })]))
          assert.deepStrictEqual([r.firstOffset, r.lastOffset], [0, 4])
          const r2 = yield* log.append([batch({ count: 1 }), batch({ count: 1 })])
          assert.deepStrictEqual([r2.firstOffset, r2.lastOffset], [5, 6])
          const read = yield* log.read(0, 1 << 20)
          assert.deepStrictEqual(offsetsOf(read.records), [
            [0, 1],
            [2, 4],
            [5, 5],
            [6, 6]
          ])
        })
      )
    )

    it.scoped("respects maxBytes, returns a first batch larger than the limit, and caps at maxOffset", () =>
      withLog(makeLayer, {}, (log) =>
        Effect.gen(function* () {
          for (let i = 0; i < 10; i++) yield* log.append(batch({ count: 1, valueSize: 100 }))
          const size = batch({ count: 1, valueSize: 100 }).length
          const r = yield* log.read(0, size * 3 + 10)
          assert.strictEqual(offsetsOf(r.records).length, 3)
          const small = yield* log.read(2, 1)
          assert.deepStrictEqual(offsetsOf(small.records), [[2, 2]])
          const none = yield* log.read(2, 1, { minOneMessage: false })
          assert.strictEqual(none.records.length, 0)
          const capped = yield* log.read(0, 1 << 20, { maxOffset: 4 })
          assert.deepStrictEqual(
            offsetsOf(capped.records).map(([b]) => b),
            [0, 1, 2, 3]
          )
          const atCap = yield* log.read(4, 1 << 20, { maxOffset: 4 })
          assert.strictEqual(atCap.records.length, 0)
        })
      )
    )

    it.scoped("fails out-of-range reads with OFFSET_OUT_OF_RANGE", () =>
      withLog(makeLayer, {}, (log) =>
        Effect.gen(function* () {
          yield* log.append(batch({ count: 2 }))
          const e = yield* Effect.flip(log.read(3, 100))
          assert.strictEqual(e._tag, "OffsetOutOfRangeError")
          assert.strictEqual(e.errorCode, 1)
          const neg = yield* Effect.flip(log.read(-1, 100))
          assert.strictEqual(neg._tag, "OffsetOutOfRangeError")
        })
      )
    )

    it.scoped("rejects a batch with a bad CRC (CORRUPT_MESSAGE) and a truncated one, writing nothing", () =>
      withLog(makeLayer, {}, (log) =>
        Effect.gen(function* () {
          const b = batch({ count: 2 })
          b[b.length - 1] ^= 0xff
          const e = yield* Effect.flip(log.append(b))
          assert.strictEqual(e._tag, "CorruptMessageError")
          assert.strictEqual((e as { errorCode: number }).errorCode, 2)
          const t = yield* Effect.flip(log.append(batch({ count: 2 }).subarray(0, 40)))
          assert.strictEqual(t._tag, "CorruptMessageError")
          assert.strictEqual(log.logEndOffset, 0)
          assert.strictEqual(log.size, 0)
        })
      )
    )

    it.scoped("rolls segments by segment.bytes and reads across them", () =>
      withLog(makeLayer, { "segment.bytes": 1000 }, (log) =>
        Effect.gen(function* () {
          for (let i = 0; i < 20; i++) yield* log.append(batch({ count: 2, valueSize: 100 }))
          assert.isAbove(log.segments.length, 5)
          for (const s of log.segments) assert.isAtMost(s.size, 1000)
          let offset = 0
          const seen: Array<number> = []
          while (offset < log.logEndOffset) {
            const r = yield* log.read(offset, 700)
            for (const [b] of offsetsOf(r.records)) seen.push(b)
            offset = r.nextOffset
          }
          assert.deepStrictEqual(
            seen,
            Array.from({ length: 20 }, (_, i) => i * 2)
          )
        })
      )
    )

    it.scoped("rolls by segment.ms (TestClock) and by index fullness", () =>
      Effect.gen(function* () {
        yield* withLog(makeLayer, { "segment.ms": 60_000 }, (log) =>
          Effect.gen(function* () {
            yield* log.append(batch())
            yield* log.append(batch())
            assert.strictEqual(log.segments.length, 1)
            yield* TestClock.adjust("61 seconds")
            yield* log.append(batch())
            assert.strictEqual(log.segments.length, 2)
            assert.strictEqual(log.segments[1]!.baseOffset, 2)
          })
        )
        yield* withLog(makeLayer, { "segment.index.bytes": 24, "index.interval.bytes": 1 }, (log) =>
          Effect.gen(function* () {
            for (let i = 0; i < 12; i++) yield* log.append(batch())
            assert.isAbove(log.segments.length, 2)
            const r = yield* log.read(0, 1 << 20)
            assert.isAbove(offsetsOf(r.records).length, 0)
          })
        )
      })
    )

    it.scoped("finds offsets by timestamp and the max timestamp", () =>
      withLog(makeLayer, { "segment.bytes": 600, "index.interval.bytes": 100 }, (log) =>
        Effect.gen(function* () {
          for (let i = 0; i < 20; i++) yield* log.append(batch({ count: 3, timestamp: 1000 + i * 10 }))
          // batch i holds timestamps 1000+10i .. 1000+10i+2, offsets 3i..3i+2
          const at = yield* log.offsetForTimestamp(1051)
          assert.deepStrictEqual(
            Option.map(at, (x) => [x.offset, x.timestamp]),
            Option.some([16, 1051])
          )
          const gap = yield* log.offsetForTimestamp(1055)
          assert.deepStrictEqual(
            Option.map(gap, (x) => x.offset),
            Option.some(18)
          )
          const first = yield* log.offsetForTimestamp(0)
          assert.deepStrictEqual(
            Option.map(first, (x) => x.offset),
            Option.some(0)
          )
          assert.isTrue(Option.isNone(yield* log.offsetForTimestamp(5000)))
          const max = yield* log.maxTimestamp
          assert.deepStrictEqual(
            Option.map(max, (x) => [x.offset, x.timestamp]),
            Option.some([59, 1192])
          )
        })
      )
    )

    it.scoped("truncates to an offset (whole batches), fully, and keeps appending", () =>
      withLog(makeLayer, { "segment.bytes": 500 }, (log) =>
        Effect.gen(function* () {
          for (let i = 0; i < 10; i++) yield* log.append(batch({ count: 2, valueSize: 50 }))
          yield* log.truncateTo(9) // inside batch [8, 9]
          assert.strictEqual(log.logEndOffset, 8)
          const r = yield* log.read(0, 1 << 20)
          const all: Array<number> = []
          let o = 0
          while (o < log.logEndOffset) {
            const x = yield* log.read(o, 1 << 20)
            for (const [b] of offsetsOf(x.records)) all.push(b)
            o = x.nextOffset
          }
          assert.deepStrictEqual(all, [0, 2, 4, 6])
          assert.isAbove(r.records.length, 0)
          const again = yield* log.append(batch({ count: 1 }))
          assert.strictEqual(again.firstOffset, 8)
          yield* log.truncateFullyAndStartAt(100)
          assert.deepStrictEqual([log.logStartOffset, log.logEndOffset], [100, 100])
          const after = yield* log.append(batch({ count: 1 }))
          assert.strictEqual(after.firstOffset, 100)
          assert.strictEqual((yield* Effect.flip(log.read(50, 10)))._tag, "OffsetOutOfRangeError")
        })
      )
    )

    it.scoped("follower appends keep offsets and refuse to go backwards", () =>
      withLog(makeLayer, {}, (log) =>
        Effect.gen(function* () {
          const b = batch({ count: 3 })
          RecordBatch.setBaseOffset(b, 0, 10)
          yield* log.truncateFullyAndStartAt(10)
          const r = yield* log.append(b, { assignOffsets: false })
          assert.deepStrictEqual([r.firstOffset, r.lastOffset], [10, 12])
          const back = batch({ count: 1 })
          RecordBatch.setBaseOffset(back, 0, 11)
          const e = yield* Effect.flip(log.append(back, { assignOffsets: false }))
          assert.strictEqual(e._tag, "InvalidRecordError")
        })
      )
    )

    it.scoped("delete-records advances the log start, at most to the high watermark", () =>
      withLog(makeLayer, { "segment.bytes": 300 }, (log) =>
        Effect.gen(function* () {
          for (let i = 0; i < 10; i++) yield* log.append(batch({ count: 1, valueSize: 100 }))
          const tooFar = yield* Effect.flip(log.deleteRecords(5))
          assert.strictEqual(tooFar._tag, "OffsetOutOfRangeError")
          yield* log.updateHighWatermark(8)
          const start = yield* log.deleteRecords(5)
          assert.strictEqual(start, 5)
          assert.strictEqual(log.logStartOffset, 5)
          assert.isAtLeast(log.segments[0]!.baseOffset, 3)
          assert.strictEqual((yield* Effect.flip(log.read(4, 100)))._tag, "OffsetOutOfRangeError")
          const r = yield* log.read(5, 1 << 20)
          assert.strictEqual(offsetsOf(r.records)[0]![0], 5)
        })
      )
    )

    it.scoped("retention.ms deletes old whole segments on the Clock-driven schedule, never the active one", () =>
      withLog(
        makeLayer,
        { "segment.bytes": 300, "retention.ms": 10_000 },
        (log) =>
          Effect.gen(function* () {
            for (let i = 0; i < 10; i++) yield* log.append(batch({ count: 1, valueSize: 100, timestamp: 0 }))
            const before = log.segments.length
            assert.isAbove(before, 2)
            // past retention but not past the high watermark: nothing goes
            yield* TestClock.adjust("20 seconds")
            assert.strictEqual(log.segments.length, before)
            yield* log.updateHighWatermark(log.logEndOffset)
            yield* TestClock.adjust("1 second")
            assert.strictEqual(log.segments.length, 1)
            assert.strictEqual(log.logStartOffset, log.segments[0]!.baseOffset)
            assert.isAbove(log.segments[0]!.size, 0)
          }),
        { "log.retention.check.interval.ms": 1000 }
      )
    )

    it.scoped("retention.bytes keeps the log under the limit in whole segments", () =>
      withLog(makeLayer, { "segment.bytes": 300, "retention.bytes": 600, "retention.ms": -1 }, (log, storage) =>
        Effect.gen(function* () {
          for (let i = 0; i < 12; i++) yield* log.append(batch({ count: 1, valueSize: 100 }))
          yield* log.updateHighWatermark(log.logEndOffset)
          const deleted = yield* storage.runRetention
          assert.isAbove(deleted, 0)
          // Kafka's rule: delete the oldest segment while the log stays >= retention.bytes without it
          assert.isAtLeast(log.size, 600)
          assert.isBelow(log.size - log.segments[0]!.size, 600)
          const r = yield* log.read(log.logStartOffset, 1 << 20)
          assert.strictEqual(offsetsOf(r.records)[0]![0], log.logStartOffset)
        })
      )
    )

    it.scoped("keeps the leader epoch cache and answers endOffsetForEpoch", () =>
      withLog(makeLayer, {}, (log, storage) =>
        Effect.gen(function* () {
          yield* log.append(batch({ count: 2 }), { leaderEpoch: 0 })
          yield* log.append(batch({ count: 2 }), { leaderEpoch: 0 })
          yield* log.append(batch({ count: 3 }), { leaderEpoch: 2 })
          assert.deepStrictEqual(log.epochs, [
            { epoch: 0, startOffset: 0 },
            { epoch: 2, startOffset: 4 }
          ])
          assert.deepStrictEqual(yield* log.endOffsetForEpoch(0), { leaderEpoch: 0, endOffset: 4 })
          assert.deepStrictEqual(yield* log.endOffsetForEpoch(1), { leaderEpoch: 0, endOffset: 4 })
          assert.deepStrictEqual(yield* log.endOffsetForEpoch(2), { leaderEpoch: 2, endOffset: 7 })
          assert.deepStrictEqual(yield* log.endOffsetForEpoch(3), { leaderEpoch: -1, endOffset: -1 })
          const r = yield* log.read(4, 1 << 20)
          assert.strictEqual(RecordBatch.readHeader(r.records).partitionLeaderEpoch, 2)
          yield* log.truncateTo(4)
          assert.deepStrictEqual(log.epochs, [{ epoch: 0, startOffset: 0 }])
          yield* storage.close(tp)
          const reopened = yield* storage.open(tp)
          assert.deepStrictEqual(reopened.epochs, [{ epoch: 0, startOffset: 0 }])
          assert.strictEqual(reopened.logEndOffset, 4)
        })
      )
    )

    it.scoped("reopens after a clean close with the same content", () =>
      withLog(makeLayer, { "segment.bytes": 400 }, (log, storage) =>
        Effect.gen(function* () {
          for (let i = 0; i < 10; i++) yield* log.append(batch({ count: 2, valueSize: 60, timestamp: i * 100 }))
          const before = yield* log.read(0, 1 << 20)
          const segments = log.segments
          yield* storage.close(tp)
          const again = yield* storage.open(tp, { "segment.bytes": 400 })
          assert.deepStrictEqual(again.segments, segments)
          assert.strictEqual(again.logEndOffset, 20)
          assert.isTrue((yield* again.read(0, 1 << 20)).records.equals(before.records))
          const ts = yield* again.offsetForTimestamp(450)
          assert.deepStrictEqual(
            Option.map(ts, (x) => x.offset),
            Option.some(10)
          )
          const next = yield* again.append(batch())
          assert.strictEqual(next.firstOffset, 20)
          assert.deepStrictEqual(
            (yield* storage.list).map((x) => x.topic),
            ["t"]
          )
        })
      )
    )

    it.scoped("compacts: latest record per key, offsets preserved, tombstones dropped after delete.retention.ms", () =>
      withLog(
        makeLayer,
        { "cleanup.policy": "compact", "segment.bytes": 250, "delete.retention.ms": 5_000 },
        (log, storage) =>
          Effect.gen(function* () {
            const keys = ["a", "b", "c", "a", "b", "a", "d", "b"]
            for (const [i, k] of keys.entries()) {
              yield* log.append(batch({ keys: [k], values: [`${k}${i}`], timestamp: i }))
            }
            yield* log.append(batch({ keys: ["c"], values: [null] })) // tombstone for c at offset 8
            yield* log.append(batch({ keys: ["e"], values: ["e9"] }))
            yield* log.append(batch({ keys: ["f"], values: ["f10"] }))
            yield* log.updateHighWatermark(log.logEndOffset)
            const all = () =>
              Effect.gen(function* () {
                const out: Array<{ offset: number; key: string | null; value: string | null }> = []
                let o = log.logStartOffset
                while (o < log.logEndOffset) {
                  const r = yield* log.read(o, 1 << 20)
                  if (r.nextOffset < 0) break
                  out.push(...recordsOf(r.records))
                  o = r.nextOffset
                }
                return out
              })
            const stats = yield* storage.runCleaner
            assert.isAbove(stats.recordsRemoved, 0)
            const active = log.segments[log.segments.length - 1]!.baseOffset
            const after = yield* all()
            const cleaned = after.filter((r) => r.offset < active)
            // no key appears twice in the cleaned part
            const ks = cleaned.map((r) => r.key)
            assert.strictEqual(new Set(ks).size, ks.length)
            assert.deepStrictEqual(
              after.find((r) => r.key === "a"),
              { offset: 5, key: "a", value: "a5" }
            )
            assert.deepStrictEqual(
              after.find((r) => r.key === "c"),
              { offset: 8, key: "c", value: null }
            )
            // the active segment is untouched and offsets still increase
            assert.deepStrictEqual(
              after.map((r) => r.offset),
              [...after.map((r) => r.offset)].sort((x, y) => x - y)
            )
            assert.strictEqual(log.logEndOffset, 11)
            // the tombstone goes once delete.retention.ms has passed
            yield* TestClock.adjust("6 seconds")
            yield* storage.runCleaner
            const later = yield* all()
            assert.isUndefined(later.find((r) => r.key === "c"))
            assert.deepStrictEqual(
              later.find((r) => r.key === "b"),
              { offset: 7, key: "b", value: "b7" }
            )
          })
      )
    )

    it.scoped("compaction keeps control batches (transaction markers) as they are", () =>
      withLog(makeLayer, { "cleanup.policy": "compact", "segment.bytes": 200 }, (log, storage) =>
        Effect.gen(function* () {
          yield* log.append(batch({ keys: ["k"], values: ["1"] }))
          const marker = RecordBatch.encodeControlBatch({
            type: "COMMIT",
            producerId: 7,
            producerEpoch: 0,
            coordinatorEpoch: 1,
            timestamp: 5
          })
          yield* log.append(marker)
          yield* log.append(batch({ keys: ["k"], values: ["2"] }))
          yield* log.append(batch({ keys: ["k"], values: ["3"] }))
          yield* log.append(batch({ keys: ["z"], values: ["z"] }))
          yield* log.updateHighWatermark(log.logEndOffset)
          yield* storage.runCleaner
          const r = yield* log.read(log.logStartOffset, 1 << 20)
          let found = false
          let o = log.logStartOffset
          while (o < log.logEndOffset) {
            const x = yield* log.read(o, 1 << 20)
            for (const { header } of RecordBatch.headers(x.records)) {
              if (RecordBatch.isControl(header.attributes)) found = header.baseOffset === 1
            }
            o = x.nextOffset
          }
          assert.isTrue(found)
          assert.isAbove(r.records.length, 0)
        })
      )
    )

    it.scoped("a closed log refuses operations", () =>
      withLog(makeLayer, {}, (log, storage) =>
        Effect.gen(function* () {
          yield* log.append(batch())
          yield* storage.close(tp)
          const exit = yield* Effect.exit(log.append(batch()))
          assert.isTrue(Exit.isFailure(exit))
        })
      )
    )

    it.scoped("deletes a partition", () =>
      withLog(makeLayer, {}, (log, storage) =>
        Effect.gen(function* () {
          yield* log.append(batch())
          yield* storage.delete(tp)
          assert.deepStrictEqual(yield* storage.list, [])
          const fresh = yield* storage.open(tp)
          assert.strictEqual(fresh.logEndOffset, 0)
        })
      )
    )
  })

/** Convenience: a layer factory from a layer constructor. */
export const factory =
  (f: (config: Partial<LogConfig.StorageConfig>) => Layer.Layer<LogStorage, KafkaStorageError>): MakeLayer =>
  (config = {}) =>
    f(config)

export { Layer }
