/**
 * DescribeTransactions and ListTransactions over the wire: the coordinator's view of each transactional
 * id (state names as Kafka spells them, partitions, timestamps from `Clock`), and ListTransactions'
 * state, producer-id and duration filters.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, TestClock } from "effect"
import { TransactionCoordinator } from "../../src/broker/TransactionCoordinator.js"
import * as DescribeTransactions from "../../src/protocol/generated/DescribeTransactions.js"
import { ErrorCode } from "../../src/protocol/generated/ErrorCode.js"
import * as ListTransactions from "../../src/protocol/generated/ListTransactions.js"
import { createTopic } from "./produceFetch.js"
import { connect, startBroker } from "./util.js"

const none = { producerId: -1, producerEpoch: -1 }

describe("DescribeTransactions and ListTransactions", () => {
  it.scoped("describe and list the coordinator's transactional ids with Kafka's filters", () =>
    Effect.gen(function* () {
      const { broker, context } = yield* startBroker()
      const tc = Context.get(context, TransactionCoordinator)
      const client = yield* connect(broker.address.port)
      yield* createTopic(client, "adm", 3)

      // a start time no wall clock gives (the broker takes it from `Clock`); a small one, since every periodic
      // broker fiber runs through each of its ticks up to it
      yield* TestClock.setTime(3_000)
      const open = yield* tc.initProducerId("open-tx", 30_000, none)
      yield* tc.addPartitions({ transactionalId: "open-tx", ...open }, [{ topic: "adm", partitions: [2, 0] }])
      yield* tc.addOffsets({ transactionalId: "open-tx", ...open }, "adm-group")
      const done = yield* tc.initProducerId("done-tx", 45_000, none)
      const doneRef = { transactionalId: "done-tx", ...done }
      yield* tc.addPartitions(doneRef, [{ topic: "adm", partitions: [1] }])
      yield* tc.endTxn(doneRef, true)
      const idle = yield* tc.initProducerId("idle-tx", 60_000, none)
      yield* TestClock.adjust("5 seconds")

      const described = yield* client.send(
        65,
        0,
        DescribeTransactions.makeDescribeTransactionsRequest({ transactionalIds: ["open-tx", "done-tx", "nope"] })
      )
      const [o, d, n] = described.transactionStates
      assert.strictEqual(o?.errorCode, ErrorCode.NONE)
      assert.strictEqual(o?.transactionState, "Ongoing")
      assert.strictEqual(o?.producerId, BigInt(open.producerId))
      assert.strictEqual(o?.producerEpoch, open.producerEpoch)
      assert.strictEqual(o?.transactionTimeoutMs, 30_000)
      assert.strictEqual(o?.transactionStartTimeMs, 3_000n)
      assert.deepStrictEqual(
        o?.topics.map((t) => [t.topic, t.partitions]),
        [
          ["__consumer_offsets", [o?.topics[0]?.partitions[0]]],
          ["adm", [0, 2]]
        ]
      )
      assert.strictEqual(d?.transactionState, "CompleteCommit")
      assert.deepStrictEqual(d?.topics, [])
      assert.strictEqual(n?.errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND)
      assert.strictEqual(n?.transactionalId, "nope")

      const list = (version: number, fields: Partial<ListTransactions.ListTransactionsRequest>) =>
        client.send(66, version, ListTransactions.makeListTransactionsRequest({ durationFilter: -1n, ...fields }))
      const all = yield* list(0, {})
      assert.strictEqual(all.errorCode, ErrorCode.NONE)
      assert.deepStrictEqual(
        all.transactionStates.map((t) => [t.transactionalId, t.transactionState]),
        [
          ["done-tx", "CompleteCommit"],
          ["idle-tx", "Empty"],
          ["open-tx", "Ongoing"]
        ]
      )
      const byState = yield* list(1, { stateFilters: ["Ongoing", "Empty", "Bogus"] })
      assert.deepStrictEqual(byState.unknownStateFilters, ["Bogus"])
      assert.deepStrictEqual(
        byState.transactionStates.map((t) => t.transactionalId),
        ["idle-tx", "open-tx"]
      )
      const byProducer = yield* list(1, { producerIdFilters: [BigInt(idle.producerId)] })
      assert.deepStrictEqual(
        byProducer.transactionStates.map((t) => [t.transactionalId, t.producerId]),
        [["idle-tx", BigInt(idle.producerId)]]
      )
      // only an unknown state name: nothing matches
      assert.deepStrictEqual((yield* list(0, { stateFilters: ["Bogus"] })).transactionStates, [])
      // v1 duration filter: running longer than 10 s (the open one started 5 s ago, not yet)
      const longRunning = yield* list(1, { stateFilters: ["Ongoing"], durationFilter: 10_000n })
      assert.deepStrictEqual(longRunning.transactionStates, [])
      yield* TestClock.adjust("6 seconds")
      const later = yield* list(1, { stateFilters: ["Ongoing"], durationFilter: 10_000n })
      assert.deepStrictEqual(
        later.transactionStates.map((t) => t.transactionalId),
        ["open-tx"]
      )
    })
  )
})
