/**
 * The transaction coordinator in a broker: producer ids, epoch bumps and fencing, the state machine,
 * timeouts aborting a transaction (TestClock), timeout bounds, and the state replayed from
 * `__transaction_state` after a restart.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Context, Effect, Exit, TestClock } from "effect"
import { TransactionCoordinator, TxnStatus } from "../../src/broker/TransactionCoordinator.js"
import { startBroker, tempDir } from "./util.js"

const failureTag = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isFailure(exit)
    ? Cause.failureOption(exit.cause).pipe((o) => (o._tag === "Some" ? (o.value as { _tag: string })._tag : "defect"))
    : "success"

const coordinatorOf = (dir?: string, extra: Record<string, string> = {}) =>
  Effect.map(startBroker({ ...(dir === undefined ? {} : { dir }), extra }), ({ context }) =>
    Context.get(context, TransactionCoordinator)
  )

const none = { producerId: -1, producerEpoch: -1 }

describe("TransactionCoordinator", () => {
  it.scoped("hands out fresh producer ids, bumps epochs per transactional id and fences older epochs", () =>
    Effect.gen(function* () {
      const tc = yield* coordinatorOf()
      const a = yield* tc.initProducerId(null, 60_000, none)
      const b = yield* tc.initProducerId(null, 60_000, none)
      assert.notStrictEqual(a.producerId, b.producerId)
      const first = yield* tc.initProducerId("tx", 60_000, none)
      const second = yield* tc.initProducerId("tx", 60_000, none)
      assert.strictEqual(second.producerId, first.producerId)
      assert.strictEqual(second.producerEpoch, first.producerEpoch + 1)
      const ref = { transactionalId: "tx", ...first }
      assert.strictEqual(
        failureTag(yield* Effect.exit(tc.addPartitions(ref, [{ topic: "t", partitions: [0] }]))),
        "ProducerFenced"
      )
      const other = { transactionalId: "tx", producerId: first.producerId + 1000, producerEpoch: second.producerEpoch }
      assert.strictEqual(failureTag(yield* Effect.exit(tc.endTxn(other, true))), "InvalidProducerIdMapping")
      // nothing open: EndTxn has nothing to end
      const current = { transactionalId: "tx", ...second }
      assert.strictEqual(failureTag(yield* Effect.exit(tc.endTxn(current, true))), "TxnInvalidState")
      assert.strictEqual(
        failureTag(yield* Effect.exit(tc.initProducerId("tx", 900_001, none))),
        "InvalidTransactionTimeout"
      )
    })
  )

  it.scoped("aborts a transaction open longer than its timeout and fences its producer", () =>
    Effect.gen(function* () {
      const tc = yield* coordinatorOf(undefined, {
        "transaction.abort.timed.out.transaction.cleanup.interval.ms": "1000"
      })
      const p = yield* tc.initProducerId("slow", 5_000, none)
      const ref = { transactionalId: "slow", ...p }
      yield* tc.addOffsets(ref, "g")
      assert.strictEqual((yield* tc.describe("slow"))?.status, TxnStatus.Ongoing)
      yield* TestClock.adjust("4 seconds")
      assert.strictEqual((yield* tc.describe("slow"))?.status, TxnStatus.Ongoing)
      yield* TestClock.adjust("3 seconds")
      // the abort is under way in the id's actor: a request queued behind it sees the outcome
      assert.strictEqual(failureTag(yield* Effect.exit(tc.endTxn(ref, true))), "ProducerFenced")
      const after = yield* tc.describe("slow")
      assert.strictEqual(after?.status, TxnStatus.CompleteAbort)
      assert.strictEqual(after?.producerEpoch, p.producerEpoch + 1)
    })
  )

  it.scoped("replays __transaction_state after a restart", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const before = yield* Effect.scoped(
        Effect.gen(function* () {
          const tc = yield* coordinatorOf(dir)
          const p = yield* tc.initProducerId("kept", 60_000, none)
          const ref = { transactionalId: "kept", ...p }
          yield* tc.addOffsets(ref, "group")
          yield* tc.endTxn(ref, true)
          return p
        })
      )
      const tc = yield* coordinatorOf(dir)
      const m = yield* tc.describe("kept")
      assert.strictEqual(m?.status, TxnStatus.CompleteCommit)
      assert.strictEqual(m?.producerId, before.producerId)
      const again = yield* tc.initProducerId("kept", 60_000, none)
      assert.deepStrictEqual(again, { producerId: before.producerId, producerEpoch: before.producerEpoch + 1 })
      // producer ids are never reused across restarts
      const fresh = yield* tc.initProducerId(null, 60_000, none)
      assert.isAbove(fresh.producerId, before.producerId)
    })
  )
})
