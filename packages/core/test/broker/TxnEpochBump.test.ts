/**
 * The pure steps of a transaction version 2 end (KIP-890 part 2) in `internal/txnActor.ts`, without fibers:
 * Prepare* with the bumped epoch, Complete* (rotating the producer id once the epoch is exhausted), the recognition
 * of a retried EndTxn, and the `__transaction_state` record that carries it across a replay.
 */
import { assert, describe, it } from "@effect/vitest"
import { bumpForEnd, completed, isRetriedEnd, needsNewProducerId } from "../../src/broker/internal/txnActor.js"
import { decodeRecord, encodeRecord, type TxnMetadata, TxnStatus } from "../../src/broker/TransactionStateManager.js"

const ongoing = (producerEpoch: number): TxnMetadata => ({
  transactionalId: "t",
  producerId: 7,
  producerEpoch,
  lastProducerEpoch: -1,
  previousProducerId: -1,
  nextProducerId: -1,
  clientTransactionVersion: 0,
  timeoutMs: 60_000,
  status: TxnStatus.Ongoing,
  partitions: new Map([["orders", new Set([0, 1])]]),
  startTimestamp: 10,
  lastUpdateTimestamp: 10
})

/** The state as a replay after a restart finds it. */
const replayed = (m: TxnMetadata): TxnMetadata => {
  const { key, value } = encodeRecord(m)
  return decodeRecord(key, value)!.metadata!
}

describe("transaction version 2 end (pure steps)", () => {
  it("bumps the epoch in Prepare*, keeps the producer id in Complete*, and recognises only the retry", () => {
    const m = ongoing(4)
    assert.isFalse(needsNewProducerId(m))
    const prepared = bumpForEnd(m, true, -1, 20)
    assert.strictEqual(prepared.status, TxnStatus.PrepareCommit)
    assert.strictEqual(prepared.producerEpoch, 5)
    assert.deepStrictEqual([...prepared.partitions.get("orders")!], [0, 1])
    const done = completed(prepared, 30)
    assert.deepStrictEqual(
      { id: done.producerId, epoch: done.producerEpoch, status: done.status, partitions: done.partitions.size },
      { id: 7, epoch: 5, status: TxnStatus.CompleteCommit, partitions: 0 }
    )
    for (const state of [done, replayed(done)]) {
      const ref = (producerId: number, producerEpoch: number) => ({ transactionalId: "t", producerId, producerEpoch })
      assert.isTrue(isRetriedEnd(state, ref(7, 4), true, true))
      assert.isFalse(isRetriedEnd(state, ref(7, 4), false, true), "another outcome")
      assert.isFalse(isRetriedEnd(state, ref(7, 4), true, false), "an EndTxn v4 with the old epoch")
      assert.isFalse(isRetriedEnd(state, ref(7, 5), true, true), "the new epoch has no transaction to end")
      assert.isFalse(isRetriedEnd({ ...state, status: TxnStatus.Ongoing }, ref(7, 4), true, true))
    }
  })

  it("moves to the next producer id at epoch 0 once the epoch is exhausted", () => {
    const m = ongoing(32766)
    assert.isTrue(needsNewProducerId(m))
    const prepared = bumpForEnd(m, false, 99, 20)
    assert.deepStrictEqual([prepared.producerId, prepared.producerEpoch, prepared.nextProducerId], [7, 32767, 99])
    // a replay of Prepare* still knows the id Complete* moves to
    assert.strictEqual(replayed(prepared).nextProducerId, 99)
    const done = completed(prepared, 30)
    assert.deepStrictEqual(
      [done.producerId, done.producerEpoch, done.previousProducerId, done.nextProducerId, done.status],
      [99, 0, 7, -1, TxnStatus.CompleteAbort]
    )
    for (const state of [done, replayed(done)]) {
      assert.isTrue(isRetriedEnd(state, { transactionalId: "t", producerId: 7, producerEpoch: 32766 }, false, true))
      assert.isFalse(isRetriedEnd(state, { transactionalId: "t", producerId: 99, producerEpoch: 0 }, false, true))
    }
  })

  it("keeps transaction version 1 records in v0 and its retry on the unchanged epoch", () => {
    const done = completed({ ...ongoing(4), status: TxnStatus.PrepareCommit }, 30)
    assert.strictEqual(encodeRecord(done).value.readInt16BE(0), 0)
    assert.isTrue(isRetriedEnd(done, { transactionalId: "t", producerId: 7, producerEpoch: 4 }, true, false))
    assert.isFalse(isRetriedEnd(done, { transactionalId: "t", producerId: 7, producerEpoch: 4 }, true, true))
  })
})
