/**
 * A broker stopped between Prepare* and Complete*: `__transaction_state` holds PrepareCommit or
 * PrepareAbort for a transaction whose markers are missing on some or all partitions (the state a crash
 * after the Prepare write leaves). On restart the coordinator writes the missing markers, records
 * Complete*, and the transaction is whole: committed records and transactional offsets visible, aborted
 * ones in the aborted-transaction index and never applied to the group.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect } from "effect"
import { partitionFor } from "../../src/broker/CoordinatorKey.js"
import { GroupCoordinator } from "../../src/broker/GroupCoordinator.js"
import { ReplicaManager } from "../../src/broker/ReplicaManager.js"
import { CONSUMER_OFFSETS, TRANSACTION_STATE } from "../../src/broker/TopicRegistry.js"
import {
  encodeRecord,
  TransactionCoordinator,
  type TxnMetadata,
  TxnStatus
} from "../../src/broker/TransactionCoordinator.js"
import * as RecordBatch from "../../src/protocol/RecordBatch.js"
import { createTopic } from "./produceFetch.js"
import { connect, startBroker, tempDir } from "./util.js"

const none = { producerId: -1, producerEpoch: -1 }

const servicesOf = (dir: string) =>
  Effect.map(startBroker({ dir }), ({ broker, context }) => ({
    broker,
    tc: Context.get(context, TransactionCoordinator),
    replicas: Context.get(context, ReplicaManager),
    groups: Context.get(context, GroupCoordinator)
  }))

/** The control batches' types on a partition, in offset order. */
const markersOf = (replicas: ReplicaManager.Service, topic: string, partition: number) =>
  Effect.gen(function* () {
    const log = replicas.get(topic, partition)!.log
    const read = yield* log.read(log.logStartOffset, 1 << 20, { maxOffset: log.logEndOffset })
    const types: Array<number> = []
    for (const { position, header } of RecordBatch.headers(read.records)) {
      if (!RecordBatch.isControl(header.attributes)) continue
      for (const r of RecordBatch.records(read.records, position)) types.push(RecordBatch.decodeControlRecord(r).type)
    }
    return types
  })

describe("transactions recovered after a stop between Prepare and Complete", () => {
  it.scoped("completes PrepareCommit and PrepareAbort left in __transaction_state, markers half written", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const ids = yield* Effect.scoped(
        Effect.gen(function* () {
          const { broker, tc, replicas, groups } = yield* servicesOf(dir)
          const client = yield* connect(broker.address.port)
          yield* createTopic(client, "rec", 2)
          const produce = (
            partition: number,
            p: { producerId: number; producerEpoch: number },
            values: Array<string>
          ) =>
            replicas.get("rec", partition)!.append([
              RecordBatch.encode(
                values.map((v) => ({ key: null, value: Buffer.from(v), timestamp: 0 })),
                { ...p, baseSequence: 0, transactional: true }
              )
            ])
          /** Writes what the coordinator writes before its markers: the Prepare state. */
          const prepare = (m: TxnMetadata, commit: boolean) =>
            Effect.gen(function* () {
              const prepared = { ...m, status: commit ? TxnStatus.PrepareCommit : TxnStatus.PrepareAbort }
              const partition = partitionFor(m.transactionalId, replicas.replicas(TRANSACTION_STATE).length)
              yield* replicas
                .get(TRANSACTION_STATE, partition)!
                .append([RecordBatch.encode([{ ...encodeRecord(prepared), timestamp: 0 }])])
            })

          // to commit: records on rec-0 and rec-1, offsets of group g; the marker only reached rec-0
          const c = yield* tc.initProducerId("to-commit", 60_000, none)
          const cref = { transactionalId: "to-commit", ...c }
          yield* tc.addPartitions(cref, [{ topic: "rec", partitions: [0, 1] }])
          yield* tc.addOffsets(cref, "g")
          yield* produce(0, c, ["c0a", "c0b"])
          yield* produce(1, c, ["c1a"])
          const results = yield* groups.commitOffsets("g", {
            generationId: -1,
            memberId: "",
            groupInstanceId: null,
            retentionTimeMs: -1,
            offsets: [{ topic: "rec", partition: 0, offset: 42, leaderEpoch: -1, metadata: "txn" }],
            txn: c
          })
          assert.isTrue(results.every((r) => r.error === undefined))
          yield* prepare((yield* tc.describe("to-commit"))!, true)
          yield* replicas.get("rec", 0)!.writeTxnMarker({ ...c, commit: true, coordinatorEpoch: 0 })

          // to abort: records on rec-1 only, no marker anywhere yet, offsets of group h
          const a = yield* tc.initProducerId("to-abort", 60_000, none)
          const aref = { transactionalId: "to-abort", ...a }
          yield* tc.addPartitions(aref, [{ topic: "rec", partitions: [1] }])
          yield* tc.addOffsets(aref, "h")
          yield* produce(1, a, ["a1a", "a1b"])
          yield* groups.commitOffsets("h", {
            generationId: -1,
            memberId: "",
            groupInstanceId: null,
            retentionTimeMs: -1,
            offsets: [{ topic: "rec", partition: 1, offset: 7, leaderEpoch: -1, metadata: "" }],
            txn: a
          })
          yield* prepare((yield* tc.describe("to-abort"))!, false)

          // rec-1 holds both open transactions: nothing is stable there
          const r1 = replicas.get("rec", 1)!
          assert.strictEqual(r1.lastStableOffset(), 0)
          assert.isBelow(r1.lastStableOffset(), r1.highWatermark())
          return { c, a }
        })
      )

      yield* Effect.scoped(
        Effect.gen(function* () {
          const { tc, replicas, groups } = yield* servicesOf(dir)
          const committed = yield* tc.describe("to-commit")
          assert.strictEqual(committed?.status, TxnStatus.CompleteCommit)
          assert.strictEqual(committed?.partitions.size, 0)
          assert.strictEqual((yield* tc.describe("to-abort"))?.status, TxnStatus.CompleteAbort)

          // every partition of each transaction has its marker; rec-0 may hold the commit twice (the retry)
          const m0 = yield* markersOf(replicas, "rec", 0)
          assert.isAbove(m0.length, 0)
          assert.isTrue(m0.every((t) => t === RecordBatch.ControlType.COMMIT))
          assert.sameMembers(yield* markersOf(replicas, "rec", 1), [
            RecordBatch.ControlType.COMMIT,
            RecordBatch.ControlType.ABORT
          ])
          const groupPartitions = new Set([groups.partitionFor("g"), groups.partitionFor("h")])
          for (const p of groupPartitions) assert.isAbove((yield* markersOf(replicas, CONSUMER_OFFSETS, p)).length, 0)

          // read_committed: everything is stable, the aborted transaction is in the index
          for (const p of [0, 1]) {
            const r = replicas.get("rec", p)!
            assert.strictEqual(r.lastStableOffset(), r.highWatermark(), `rec-${p}`)
          }
          const aborted = replicas.get("rec", 1)!.abortedTransactions(0, replicas.get("rec", 1)!.highWatermark())
          assert.deepStrictEqual(
            aborted.map((t) => t.producerId),
            [ids.a.producerId]
          )

          // the committed transaction's offsets are visible and stable; the aborted one's are dropped
          const g = yield* groups.fetchOffsets("g", [{ topic: "rec", partitions: [0] }])
          assert.strictEqual(g[0]?.offset, 42)
          assert.notStrictEqual(g[0]?.unstable, true)
          const h = yield* groups.fetchOffsets("h", [{ topic: "rec", partitions: [1] }])
          assert.strictEqual(h[0]?.offset, -1)
          assert.notStrictEqual(h[0]?.unstable, true)

          // the ids go on: a new transaction of the committed producer's next epoch works
          const next = yield* tc.initProducerId("to-commit", 60_000, none)
          assert.deepStrictEqual(next, { producerId: ids.c.producerId, producerEpoch: ids.c.producerEpoch + 1 })
        })
      )

      // a second restart replays the markers the recovery wrote: same outcome, nothing pending
      const { tc, groups } = yield* servicesOf(dir)
      assert.strictEqual((yield* tc.describe("to-commit"))?.status, TxnStatus.Empty)
      assert.strictEqual((yield* tc.describe("to-abort"))?.status, TxnStatus.CompleteAbort)
      const g = yield* groups.fetchOffsets("g", [{ topic: "rec", partitions: [0] }])
      assert.deepStrictEqual([g[0]?.offset, g[0]?.unstable ?? false], [42, false])
      const h = yield* groups.fetchOffsets("h", [{ topic: "rec", partitions: [1] }])
      assert.deepStrictEqual([h[0]?.offset, h[0]?.unstable ?? false], [-1, false])
    })
  )
})
