/**
 * The replica as its log's only writer: the storage's retention and the cleaner's segment swaps reach the log
 * through the replica's mailbox, interleaved with appends and reads, and offsets and data stay right.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as PartitionReplica from "../../src/broker/PartitionReplica.js"
import type { LogConfig } from "../../src/log/LogConfig.js"
import * as LogStorage from "../../src/log/LogStorage.js"
import * as RecordBatch from "../../src/protocol/RecordBatch.js"
import { batch } from "./produceFetch.js"

const startReplica = (partition: number, config: Partial<LogConfig>) =>
  Effect.gen(function* () {
    const storage = yield* LogStorage.LogStorage
    const log = yield* storage.open({ topic: "t", partition }, config)
    const { replica, run } = yield* PartitionReplica.make({ topic: "t", partition }, log)
    yield* Effect.forkScoped(run)
    return replica
  })

const RECORDS_PER_BATCH = 5
const KEYS = 7

/** Batch `i` holds offsets `5i..5i+4`; the record at offset `o` has key `k{o % 7}` and value `v{o}`. */
const numbered = (i: number) => {
  const offsets = Array.from({ length: RECORDS_PER_BATCH }, (_, j) => i * RECORDS_PER_BATCH + j)
  return batch(
    offsets.map((o) => `v${o}`),
    { keys: offsets.map((o) => `k${o % KEYS}`) }
  )
}

interface Seen {
  readonly offset: number
  readonly key: string
  readonly value: string
}

/** Reads every record from the log start to the high watermark, checking each value names its own offset. */
const readAll = (replica: PartitionReplica.PartitionReplica) =>
  Effect.gen(function* () {
    for (;;) {
      const seen: Array<Seen> = []
      let offset = replica.log.logStartOffset
      let restarted = false
      while (offset < replica.highWatermark()) {
        const read = yield* Effect.either(replica.read(offset, 16 * 1024, true))
        if (read._tag === "Left") {
          // retention moved the log start past `offset` meanwhile: start again
          assert.strictEqual(read.left._tag, "OffsetOutOfRangeError")
          restarted = true
          break
        }
        const bytes = read.right.records
        if (bytes.length === 0) break
        for (let pos = 0; pos < bytes.length; pos += RecordBatch.sizeAt(bytes, pos)) {
          for (const r of RecordBatch.decode(bytes, pos).records) {
            if (r.offset < offset) continue
            const value = Buffer.from(r.value!).toString()
            const key = Buffer.from(r.key!).toString()
            assert.strictEqual(value, `v${r.offset}`, "a record keeps its offset")
            assert.strictEqual(key, `k${r.offset % KEYS}`)
            if (seen.length > 0) assert.isAbove(r.offset, seen[seen.length - 1]!.offset, "offsets increase")
            seen.push({ offset: r.offset, key, value })
          }
        }
        offset = read.right.nextOffset
      }
      if (!restarted) return seen
    }
  })

describe("PartitionReplica as its log's only writer", () => {
  it.scoped("retention runs through the actor: the last stable offset follows the log start at once", () =>
    Effect.gen(function* () {
      const storage = yield* LogStorage.LogStorage
      const replica = yield* startReplica(0, { "segment.bytes": 1024, "retention.bytes": 2048 })
      // an open transaction at offset 0 holds the last stable offset there
      yield* replica.append([batch(["open"], { producerId: 5, baseSequence: 0, transactional: true })])
      for (let i = 0; i < 40; i++) yield* replica.append([batch([`plain-${i}`.padEnd(100, ".")])])
      assert.strictEqual(replica.lastStableOffset(), 0)
      const deleted = yield* storage.runRetention
      assert.isAbove(deleted, 0)
      assert.isAbove(replica.log.logStartOffset, 0)
      // the actor applied the deletion, so it republished the LSO (held at the log start), with no other command
      assert.strictEqual(replica.lastStableOffset(), replica.log.logStartOffset)
    }).pipe(Effect.provide(LogStorage.layerMemory()))
  )

  it.scoped("retention and cleaning interleaved with produce and fetch keep offsets and data right", () =>
    Effect.gen(function* () {
      const storage = yield* LogStorage.LogStorage
      const deleting = yield* startReplica(0, { "segment.bytes": 1024, "retention.bytes": 4096 })
      const compacted = yield* startReplica(1, {
        "segment.bytes": 1024,
        "cleanup.policy": "compact",
        "min.cleanable.dirty.ratio": 0.01
      })
      const BATCHES = 60
      let produced = false
      const produce = Effect.gen(function* () {
        for (let i = 0; i < BATCHES; i++) {
          const [a, b] = yield* Effect.all([deleting.append([numbered(i)]), compacted.append([numbered(i)])], {
            concurrency: "unbounded"
          })
          assert.strictEqual(a.baseOffset, i * RECORDS_PER_BATCH)
          assert.strictEqual(b.baseOffset, i * RECORDS_PER_BATCH)
          if (i % 10 === 0) yield* Effect.yieldNow()
        }
        produced = true
      })
      let passes = 0
      let cleaned = 0
      let deleted = 0
      const maintain = Effect.gen(function* () {
        while (!produced) {
          deleted += yield* storage.runRetention
          cleaned += (yield* storage.runCleaner).segmentsCleaned
          passes++
          yield* Effect.yieldNow()
        }
      })
      let reads = 0
      const fetch = Effect.gen(function* () {
        while (!produced) {
          yield* readAll(deleting)
          yield* readAll(compacted)
          reads++
          yield* Effect.yieldNow()
        }
      })
      yield* Effect.all([produce, maintain, fetch], { concurrency: "unbounded", discard: true })
      yield* storage.runRetention
      yield* storage.runCleaner
      assert.isAbove(passes, 1)
      assert.isAbove(reads, 1)
      assert.isAbove(deleted, 0, "retention deleted segments while producing")
      assert.isAbove(cleaned, 0, "the cleaner swapped segments while producing")

      const end = BATCHES * RECORDS_PER_BATCH
      assert.strictEqual(deleting.log.logEndOffset, end)
      assert.strictEqual(compacted.log.logEndOffset, end)
      // the deleting log lost a prefix, and holds every offset after it
      const tail = yield* readAll(deleting)
      assert.isAbove(deleting.log.logStartOffset, 0)
      assert.deepStrictEqual(
        tail.map((r) => r.offset),
        Array.from({ length: end - tail[0]!.offset }, (_, k) => tail[0]!.offset + k)
      )
      // the compacted log still holds the latest value of every key (and the active segment whole)
      const all = yield* readAll(compacted)
      const latest = new Map<string, number>()
      for (const r of all) latest.set(r.key, r.offset)
      for (let k = 0; k < KEYS; k++) {
        const last = Math.max(...Array.from({ length: end }, (_, o) => o).filter((o) => o % KEYS === k))
        assert.strictEqual(latest.get(`k${k}`), last)
      }
      assert.isBelow(all.length, end, "compaction removed superseded records")
      // the actors are still serving
      assert.strictEqual((yield* deleting.append([numbered(BATCHES)])).baseOffset, end)
    }).pipe(Effect.provide(LogStorage.layerMemory()))
  )
})
