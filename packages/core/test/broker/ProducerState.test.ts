/**
 * Idempotent and transactional producer state: the pure ProducerStateManager, and a PartitionReplica
 * over the in-memory log (duplicates answered with their original offsets, sequence gaps, fencing,
 * markers, the last stable offset, the aborted-transaction index, recovery from snapshot plus log,
 * expiry driven by TestClock).
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Deferred, Effect, Exit, TestClock } from "effect"
import * as PartitionReplica from "../../src/broker/PartitionReplica.js"
import * as LogStorage from "../../src/log/LogStorage.js"
import * as ProducerState from "../../src/log/ProducerState.js"
import { ProducerStateManager } from "../../src/log/ProducerState.js"
import * as RecordBatch from "../../src/protocol/RecordBatch.js"

const producerBatch = (
  values: ReadonlyArray<string>,
  o: { producerId: number; producerEpoch?: number; baseSequence: number; transactional?: boolean }
) =>
  RecordBatch.encode(
    values.map((v) => ({ value: Buffer.from(v), timestamp: 1000 })),
    {
      producerId: o.producerId,
      producerEpoch: o.producerEpoch ?? 0,
      baseSequence: o.baseSequence,
      transactional: o.transactional ?? false
    }
  )

const header = (b: Uint8Array, baseOffset: number) => ({ ...RecordBatch.readHeader(b), baseOffset })

const failureTag = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isFailure(exit)
    ? Cause.failureOption(exit.cause).pipe((o) => (o._tag === "Some" ? (o.value as { _tag: string })._tag : "defect"))
    : "success"

const openLog = Effect.flatMap(LogStorage.LogStorage, (s) => s.open({ topic: "t", partition: 0 }))
const diskOf = Effect.map(LogStorage.LogStorage, (s) => s.disk)

describe("ProducerStateManager", () => {
  it("detects duplicates of the last five batches, sequence gaps and stale epochs", () => {
    const m = new ProducerStateManager()
    let offset = 0
    const batches = [0, 2, 4, 6, 8, 10].map((seq) => producerBatch(["a", "b"], { producerId: 7, baseSequence: seq }))
    for (const b of batches) {
      assert.strictEqual(m.check(header(b, offset))._tag, "Append")
      m.update(header(b, offset), 0)
      offset += 2
    }
    // the last five are remembered with their offsets; the first has been forgotten
    assert.deepStrictEqual(m.check(header(batches[3]!, 99)), { _tag: "Duplicate", firstOffset: 6, lastOffset: 7 })
    assert.strictEqual(m.check(header(batches[0]!, 99))._tag, "OutOfOrderSequence")
    assert.strictEqual(
      m.check(header(producerBatch(["x"], { producerId: 7, baseSequence: 13 }), 12))._tag,
      "OutOfOrderSequence"
    )
    assert.strictEqual(m.check(header(producerBatch(["x"], { producerId: 7, baseSequence: 12 }), 12))._tag, "Append")
    // a newer epoch starts at sequence 0; an older one is a zombie
    assert.strictEqual(
      m.check(header(producerBatch(["x"], { producerId: 7, producerEpoch: 1, baseSequence: 5 }), 12))._tag,
      "OutOfOrderSequence"
    )
    const bumped = producerBatch(["x"], { producerId: 7, producerEpoch: 1, baseSequence: 0 })
    assert.strictEqual(m.check(header(bumped, 12))._tag, "Append")
    m.update(header(bumped, 12), 0)
    assert.strictEqual(m.check(header(batches[5]!, 13))._tag, "InvalidProducerEpoch")
    // an unknown producer may start anywhere
    assert.strictEqual(m.check(header(producerBatch(["x"], { producerId: 8, baseSequence: 42 }), 13))._tag, "Append")
  })

  it("tracks open transactions (last stable offset) and aborted ones; snapshots round-trip", () => {
    const m = new ProducerStateManager()
    const t1 = producerBatch(["a"], { producerId: 1, baseSequence: 0, transactional: true })
    const t2 = producerBatch(["b"], { producerId: 2, baseSequence: 0, transactional: true })
    m.update(header(t1, 0), 0)
    m.update(header(t2, 1), 0)
    assert.strictEqual(m.firstUnstableOffset(), 0)
    const abort = RecordBatch.encodeControlBatch({
      type: "ABORT",
      producerId: 1,
      producerEpoch: 0,
      coordinatorEpoch: 0,
      timestamp: 0
    })
    m.update(header(abort, 2), 0, { type: RecordBatch.ControlType.ABORT, coordinatorEpoch: 0 })
    assert.strictEqual(m.firstUnstableOffset(), 1)
    assert.deepStrictEqual(m.abortedTransactions(0, 10), [{ producerId: 1, firstOffset: 0 }])
    assert.deepStrictEqual(m.abortedTransactions(3, 10), [])
    const commit = RecordBatch.encodeControlBatch({
      type: "COMMIT",
      producerId: 2,
      producerEpoch: 0,
      coordinatorEpoch: 0,
      timestamp: 0
    })
    m.update(header(commit, 3), 0, { type: RecordBatch.ControlType.COMMIT, coordinatorEpoch: 0 })
    assert.strictEqual(m.firstUnstableOffset(), undefined)
    const copy = new ProducerStateManager()
    assert.isTrue(copy.loadSnapshot(m.encodeSnapshot()))
    assert.deepStrictEqual(copy.abortedTransactions(0, 10), m.abortedTransactions(0, 10))
    assert.strictEqual(copy.mapEndOffset, 4)
    assert.isFalse(copy.loadSnapshot(Buffer.from("not json")))
    // well-formed JSON of the wrong shape is refused whole, and leaves the state as it was
    for (const bad of [
      "null",
      '{"version":1,"offset":4,"producers":[[1,{"epoch":0}]],"aborted":[]}',
      '{"version":1,"offset":4,"producers":[],"aborted":[{"producerId":"x"}]}',
      '{"version":2,"offset":4,"producers":[],"aborted":[]}'
    ]) {
      assert.isFalse(copy.loadSnapshot(Buffer.from(bad)), bad)
    }
    assert.strictEqual(copy.mapEndOffset, 4)
    // a replay of the same batches from the log gives the same state
    const replayed = new ProducerStateManager()
    replayed.replay(
      Buffer.concat(
        [t1, t2, abort, commit].map((b, i) => {
          const c = Buffer.from(b)
          RecordBatch.setBaseOffset(c, 0, i)
          return c
        })
      ),
      0
    )
    assert.deepStrictEqual(replayed.abortedTransactions(0, 10), [{ producerId: 1, firstOffset: 0 }])
    assert.strictEqual(replayed.firstUnstableOffset(), undefined)
  })
})

describe("PartitionReplica producer state", () => {
  it.scoped("answers a retried batch with its original offsets, refuses gaps and zombies", () =>
    Effect.gen(function* () {
      const log = yield* openLog
      const { replica, run } = yield* PartitionReplica.make({ topic: "t", partition: 0 }, log, { disk: yield* diskOf })
      yield* Effect.forkScoped(run)
      const first = producerBatch(["a", "b"], { producerId: 3, baseSequence: 0 })
      const r1 = yield* replica.append([Buffer.from(first)])
      yield* replica.append([producerBatch(["c"], { producerId: 3, baseSequence: 2 })])
      const again = yield* replica.append([Buffer.from(first)])
      assert.deepStrictEqual([again.baseOffset, again.lastOffset], [r1.baseOffset, r1.lastOffset])
      assert.strictEqual(log.logEndOffset, 3)
      const gap = yield* Effect.exit(replica.append([producerBatch(["d"], { producerId: 3, baseSequence: 9 })]))
      assert.strictEqual(failureTag(gap), "OutOfOrderSequenceNumber")
      // a marker of a newer epoch fences the old one
      yield* replica.writeTxnMarker({ producerId: 3, producerEpoch: 1, commit: false, coordinatorEpoch: 0 })
      const zombie = yield* Effect.exit(replica.append([producerBatch(["e"], { producerId: 3, baseSequence: 3 })]))
      assert.strictEqual(failureTag(zombie), "InvalidProducerEpoch")
      const staleMarker = yield* Effect.exit(
        replica.writeTxnMarker({ producerId: 3, producerEpoch: 0, commit: true, coordinatorEpoch: 0 })
      )
      assert.strictEqual(failureTag(staleMarker), "InvalidProducerEpoch")
    }).pipe(Effect.provide(LogStorage.layerMemory()))
  )

  it.scoped("checks appends queued together in order, as one log append", () =>
    Effect.gen(function* () {
      const log = yield* openLog
      const { replica, run } = yield* PartitionReplica.make({ topic: "t", partition: 0 }, log)
      // queued before the actor runs, so that it takes them together
      const first = producerBatch(["a", "b"], { producerId: 5, baseSequence: 0 })
      const replies = yield* Effect.forEach(
        [
          [Buffer.from(first)],
          [producerBatch(["c"], { producerId: 5, baseSequence: 2 })],
          [Buffer.from(first)],
          [producerBatch(["x"], { producerId: 5, baseSequence: 9 })],
          [producerBatch(["plain"], { producerId: -1, baseSequence: -1 })],
          [producerBatch(["d"], { producerId: 5, baseSequence: 3 })]
        ],
        (batches) => replica.offerAppend(batches)
      )
      yield* Effect.forkScoped(run)
      const exits = yield* Effect.forEach(replies, (r) => Effect.exit(Deferred.await(r)))
      const offsets = exits.map((e) => (Exit.isSuccess(e) ? [e.value.baseOffset, e.value.lastOffset] : failureTag(e)))
      assert.deepStrictEqual(offsets, [[0, 1], [2, 2], [0, 1], "OutOfOrderSequenceNumber", [3, 3], [4, 4]])
      assert.strictEqual(log.logEndOffset, 5)
    }).pipe(Effect.provide(LogStorage.layerMemory()))
  )

  it.scoped("holds the last stable offset at an open transaction and indexes aborted ones, across a restart", () =>
    Effect.gen(function* () {
      const storage = yield* LogStorage.LogStorage
      const log = yield* openLog
      const first = yield* PartitionReplica.make({ topic: "t", partition: 0 }, log, { disk: storage.disk })
      const fiber = yield* Effect.forkScoped(first.run)
      const r = first.replica
      yield* r.append([producerBatch(["plain"], { producerId: 10, baseSequence: 0 })])
      yield* r.append([producerBatch(["t1"], { producerId: 11, baseSequence: 0, transactional: true })])
      yield* r.append([producerBatch(["t2"], { producerId: 12, baseSequence: 0, transactional: true })])
      assert.strictEqual(r.highWatermark(), 3)
      assert.strictEqual(r.lastStableOffset(), 1)
      yield* r.writeTxnMarker({ producerId: 11, producerEpoch: 0, commit: false, coordinatorEpoch: 0 })
      assert.strictEqual(r.lastStableOffset(), 2)
      assert.deepStrictEqual(r.abortedTransactions(0, 4), [{ producerId: 11, firstOffset: 1 }])
      // a new actor over the same log (as after a restart) rebuilds the state from snapshot + log
      yield* r.snapshot
      yield* r.writeTxnMarker({ producerId: 12, producerEpoch: 0, commit: true, coordinatorEpoch: 0 })
      yield* r.append([producerBatch(["t3"], { producerId: 13, baseSequence: 0, transactional: true })])
      yield* r.stop
      yield* fiber.interruptAsFork(fiber.id())
      const second = yield* PartitionReplica.make({ topic: "t", partition: 0 }, log, { disk: storage.disk })
      yield* Effect.forkScoped(second.run)
      assert.strictEqual(second.replica.lastStableOffset(), 5)
      assert.deepStrictEqual(second.replica.abortedTransactions(0, 10), [{ producerId: 11, firstOffset: 1 }])
      const dup = yield* second.replica.append([
        producerBatch(["t3"], { producerId: 13, baseSequence: 0, transactional: true })
      ])
      assert.strictEqual(dup.baseOffset, 5)
    }).pipe(Effect.provide(LogStorage.layerMemory()))
  )

  it.scoped(
    "forgets idle producers after producer.id.expiration.ms (TestClock), never one with an open transaction",
    () =>
      Effect.gen(function* () {
        const log = yield* openLog
        const { replica, run } = yield* PartitionReplica.make({ topic: "t", partition: 0 }, log, {
          producerIdExpirationMs: 60_000
        })
        yield* Effect.forkScoped(run)
        yield* replica.append([producerBatch(["a"], { producerId: 1, baseSequence: 0 })])
        yield* replica.append([producerBatch(["b"], { producerId: 2, baseSequence: 0, transactional: true })])
        yield* TestClock.adjust("61 seconds")
        // any append runs the expiry check
        yield* replica.append([producerBatch(["c"], { producerId: 3, baseSequence: 0 })])
        // producer 1 is forgotten: any sequence is accepted again; producer 2 is still checked
        const p1 = yield* Effect.exit(replica.append([producerBatch(["d"], { producerId: 1, baseSequence: 50 })]))
        assert.strictEqual(failureTag(p1), "success")
        const p2 = yield* Effect.exit(
          replica.append([producerBatch(["e"], { producerId: 2, baseSequence: 50, transactional: true })])
        )
        assert.strictEqual(failureTag(p2), "OutOfOrderSequenceNumber")
      }).pipe(Effect.provide(LogStorage.layerMemory()))
  )

  it.scoped(
    "a snapshot leaves out producers idle past producer.id.expiration.ms, with no append since (TestClock)",
    () =>
      Effect.gen(function* () {
        const log = yield* openLog
        const disk = yield* diskOf
        const { replica, run } = yield* PartitionReplica.make({ topic: "t", partition: 0 }, log, {
          producerIdExpirationMs: 60_000,
          disk
        })
        yield* Effect.forkScoped(run)
        yield* replica.append([producerBatch(["a"], { producerId: 1, baseSequence: 0 })])
        /** The producers in a snapshot written now. */
        const snapshotted = Effect.gen(function* () {
          yield* replica.snapshot
          const bytes = yield* disk.readFile(`${log.dir}/${ProducerState.snapshotFileName(log.logEndOffset)}`)
          const m = new ProducerState.ProducerStateManager()
          assert.isTrue(bytes._tag === "Some" && m.loadSnapshot(bytes.value))
          return [...m.producers.keys()]
        })
        yield* TestClock.adjust("59 seconds")
        assert.deepStrictEqual(yield* snapshotted, [1])
        // nothing was appended since, yet producer 1 is gone: expiry runs before a snapshot is written
        yield* TestClock.adjust("2 seconds")
        assert.deepStrictEqual(yield* snapshotted, [])
      }).pipe(Effect.provide(LogStorage.layerMemory()))
  )

  it.scoped("holds the last stable offset at the log start when DeleteRecords passes an open transaction", () =>
    Effect.gen(function* () {
      const log = yield* openLog
      const { replica, run } = yield* PartitionReplica.make({ topic: "t", partition: 0 }, log)
      yield* Effect.forkScoped(run)
      yield* replica.append([producerBatch(["t"], { producerId: 1, baseSequence: 0, transactional: true })])
      yield* replica.append([producerBatch(["a", "b"], { producerId: -1, baseSequence: -1 })])
      assert.strictEqual(replica.lastStableOffset(), 0)
      yield* replica.deleteRecords(2)
      assert.strictEqual(replica.lastStableOffset(), 2)
      yield* replica.writeTxnMarker({ producerId: 1, producerEpoch: 0, commit: true, coordinatorEpoch: 0 })
      assert.strictEqual(replica.lastStableOffset(), 4)
    }).pipe(Effect.provide(LogStorage.layerMemory()))
  )
})
