/**
 * Producer-state persistence of a PartitionReplica on real files: snapshots written at segment rolls and at a
 * clean shutdown, the state rebuilt from the latest snapshot plus the log after it, after a clean close and
 * after a crash (no final snapshot, a torn tail cut off by log recovery, a corrupt snapshot file).
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Deferred, Effect, Exit, Fiber } from "effect"
import * as PartitionReplica from "../../src/broker/PartitionReplica.js"
import * as Disk from "../../src/log/internal/disk.js"
import * as Log from "../../src/log/Log.js"
import * as LogConfig from "../../src/log/LogConfig.js"
import * as ProducerState from "../../src/log/ProducerState.js"
import * as RecordBatch from "../../src/protocol/RecordBatch.js"
import { instrumented } from "../log/helpers.js"

const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(Path.join(os.tmpdir(), "eddy-pstate-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

const config = LogConfig.make({ "segment.bytes": 1000 })
const tp = { topic: "t", partition: 0 }

const batch = (o: { producerId: number; producerEpoch?: number; baseSequence: number; transactional?: boolean }) =>
  RecordBatch.encode([{ value: Buffer.alloc(100, o.baseSequence), timestamp: 1000 }], {
    producerId: o.producerId,
    producerEpoch: o.producerEpoch ?? 0,
    baseSequence: o.baseSequence,
    transactional: o.transactional ?? false
  })

const failureTag = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isFailure(exit)
    ? Cause.failureOption(exit.cause).pipe((o) => (o._tag === "Some" ? (o.value as { _tag: string })._tag : "defect"))
    : "success"

const snapshots = (dir: string) =>
  fs
    .readdirSync(dir)
    .map((n) => ProducerState.snapshotOffset(n))
    .filter((o): o is number => o !== undefined)
    .sort((a, b) => a - b)

/** Opens the log in `dir` and runs a replica over it (as the broker does at start). */
const start = (dir: string) =>
  Effect.gen(function* () {
    const log = yield* Log.open({ dir, config })
    const { replica, run } = yield* PartitionReplica.make(tp, log, { disk: Disk.node })
    const fiber = yield* Effect.forkScoped(run)
    /** A clean stop: snapshot, stop the actor, close the log (flush and clean-shutdown marker). */
    const close = Effect.gen(function* () {
      yield* replica.snapshot
      yield* replica.stop
      yield* Fiber.interrupt(fiber)
      yield* log.close
    })
    /** A crash: the actor goes away, nothing is snapshotted, flushed or marked clean. */
    const crash = Effect.zipRight(replica.stop, Fiber.interrupt(fiber))
    return { log, replica, close, crash }
  })

describe("PartitionReplica producer-state recovery on files", () => {
  it.scoped("snapshots at segment rolls and at a clean close; the snapshot outlives the segments it covers", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const a = yield* start(dir)
      // producer 1 writes 3 batches, then only producer 2 writes: the segments holding producer 1 go away
      for (let s = 0; s < 3; s++) yield* a.replica.append([batch({ producerId: 1, baseSequence: s })])
      yield* a.replica.append([batch({ producerId: 3, baseSequence: 0, transactional: true })])
      yield* a.replica.writeTxnMarker({ producerId: 3, producerEpoch: 0, commit: false, coordinatorEpoch: 0 })
      for (let s = 0; s < 20; s++) yield* a.replica.append([batch({ producerId: 2, baseSequence: s })])
      assert.isAbove(a.log.segments.length, 3)
      assert.isNotEmpty(snapshots(dir), "a segment roll writes a snapshot")
      assert.isAtMost(snapshots(dir).length, 2, "older snapshots are removed")
      yield* a.replica.deleteRecords(10)
      yield* a.log.deleteOldSegments
      assert.isAbove(a.log.segments[0]!.baseOffset, 4)
      yield* a.close
      assert.include(snapshots(dir), a.log.logEndOffset, "a clean close snapshots at the log end")

      const b = yield* start(dir)
      assert.strictEqual(b.log.logEndOffset, 25)
      // producer 1 is known from the snapshot alone: its retried last batch is a duplicate, a gap is refused
      const retry = yield* b.replica.append([batch({ producerId: 1, baseSequence: 2 })])
      assert.deepStrictEqual([retry.baseOffset, retry.lastOffset], [2, 2])
      assert.strictEqual(b.log.logEndOffset, 25)
      const gap = yield* Effect.exit(b.replica.append([batch({ producerId: 1, baseSequence: 7 })]))
      assert.strictEqual(failureTag(gap), "OutOfOrderSequenceNumber")
      // the aborted transaction lies below the log start now: the index no longer returns it
      assert.deepStrictEqual(b.replica.abortedTransactions(10, 25), [])
      assert.strictEqual(b.replica.lastStableOffset(), 25)
      yield* b.close
    })
  )

  it.scoped("after a crash, rebuilds from the last roll snapshot plus the log tail", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const a = yield* start(dir)
      for (let s = 0; s < 10; s++) yield* a.replica.append([batch({ producerId: 1, baseSequence: s })])
      yield* a.replica.append([batch({ producerId: 2, baseSequence: 0, transactional: true })])
      yield* a.replica.append([batch({ producerId: 2, baseSequence: 1, transactional: true })])
      yield* a.replica.writeTxnMarker({ producerId: 2, producerEpoch: 0, commit: false, coordinatorEpoch: 0 })
      yield* a.replica.append([batch({ producerId: 4, baseSequence: 0, transactional: true })])
      yield* a.replica.append([batch({ producerId: 1, baseSequence: 10 })])
      const lastSnapshot = snapshots(dir).at(-1)!
      assert.isBelow(lastSnapshot, a.log.logEndOffset)
      assert.strictEqual(a.replica.lastStableOffset(), 13)
      yield* a.crash

      const b = yield* start(dir)
      assert.strictEqual(b.log.logEndOffset, 15)
      assert.strictEqual(b.replica.lastStableOffset(), 13, "producer 4's transaction is still open")
      assert.deepStrictEqual(b.replica.abortedTransactions(0, 15), [{ producerId: 2, firstOffset: 10 }])
      const retry = yield* b.replica.append([batch({ producerId: 1, baseSequence: 10 })])
      assert.strictEqual(retry.baseOffset, 14)
      const next = yield* b.replica.append([batch({ producerId: 1, baseSequence: 11 })])
      assert.strictEqual(next.baseOffset, 15)
      yield* b.replica.writeTxnMarker({ producerId: 4, producerEpoch: 0, commit: true, coordinatorEpoch: 0 })
      assert.strictEqual(b.replica.lastStableOffset(), 17)
      yield* b.crash
    })
  )

  it.scoped("drops a snapshot past the recovered log end (torn tail) and ignores a corrupt one", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const a = yield* start(dir)
      for (let s = 0; s < 6; s++) yield* a.replica.append([batch({ producerId: 1, baseSequence: s })])
      yield* a.replica.snapshot
      const end = a.log.logEndOffset
      assert.include(snapshots(dir), end)
      yield* a.crash
      // tear the last batch: recovery cuts the log back to end - 1, below the snapshot
      const last = a.log.segments[a.log.segments.length - 1]!
      const file = Path.join(dir, `${String(last.baseOffset).padStart(20, "0")}.log`)
      fs.truncateSync(file, fs.statSync(file).size - 10)
      fs.rmSync(Path.join(dir, ".kafka_cleanshutdown"), { force: true })

      const b = yield* start(dir)
      assert.strictEqual(b.log.logEndOffset, end - 1)
      assert.notInclude(snapshots(dir), end, "the snapshot past the log end is deleted")
      // the torn batch was never durable: its retry is appended again, at the same offset
      const again = yield* b.replica.append([batch({ producerId: 1, baseSequence: 5 })])
      assert.strictEqual(again.baseOffset, end - 1)
      yield* b.replica.snapshot
      yield* b.crash

      // a corrupt latest snapshot: the older one (or the log itself) is used instead
      for (const o of snapshots(dir)) fs.writeFileSync(Path.join(dir, ProducerState.snapshotFileName(o)), "{garbage")
      const c = yield* start(dir)
      const dup = yield* c.replica.append([batch({ producerId: 1, baseSequence: 5 })])
      assert.strictEqual(dup.baseOffset, end - 1)
      const gap = yield* Effect.exit(c.replica.append([batch({ producerId: 1, baseSequence: 9 })]))
      assert.strictEqual(failureTag(gap), "OutOfOrderSequenceNumber")
      yield* c.close
    })
  )

  it.scoped("a retry queued with its original is answered only after it, and fails with it", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const disk = instrumented(Disk.node)
      const log = yield* Log.open({ dir, config, disk: disk.disk })
      const { replica, run } = yield* PartitionReplica.make(tp, log, { disk: disk.disk })
      const first = batch({ producerId: 1, baseSequence: 0 })
      disk.setFault((op) => (op === "write" ? "EIO" : undefined))
      // queued before the actor runs, so that it takes them together
      const replies = yield* Effect.forEach([first, Buffer.from(first)], (b) => replica.offerAppend([b]))
      yield* Effect.forkScoped(run)
      const exits = yield* Effect.forEach(replies, (r) => Effect.exit(Deferred.await(r)))
      // nothing was written: the retry must not be acknowledged with the original's offsets
      assert.deepStrictEqual(
        exits.map((e) => Exit.isFailure(e)),
        [true, true]
      )
      assert.strictEqual(log.logEndOffset, 0)
    })
  )
})
