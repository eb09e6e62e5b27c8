/**
 * KAFKA-17754's schedule against a real broker: a transactional producer's EndTxn and AddPartitionsToTxn of one
 * transaction are delayed (a retry on a second connection, a slow network) and reach the coordinator after the
 * producer ended that transaction and began the next one. The late requests must neither join nor end the next
 * transaction.
 *
 * Eddy is exposed today, as Kafka is with transaction version 1: it serves EndTxn up to v4 and
 * AddPartitionsToTxn up to v3, where every transaction of a producer carries the same producer id and epoch, so a
 * late request is indistinguishable from the producer's own. Kafka's fix is KIP-890 part 2 (transaction version
 * 2: EndTxn v5 bumps the epoch at every transaction end, so requests of an ended transaction are fenced), which
 * Eddy does not implement yet. The property's test is therefore marked as an expected failure (`fails`): vitest
 * reports it the day the property holds, so the mark is removed with the fix; the first test checks that the
 * schedule itself runs as intended, so a broken setup cannot pass for the expected failure.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect } from "effect"
import { TransactionCoordinator, TxnStatus } from "../../src/broker/TransactionCoordinator.js"
import * as AddPartitionsToTxn from "../../src/protocol/generated/AddPartitionsToTxn.js"
import * as EndTxn from "../../src/protocol/generated/EndTxn.js"
import { ErrorCode } from "../../src/protocol/generated/ErrorCode.js"
import * as InitProducerId from "../../src/protocol/generated/InitProducerId.js"
import { createTopic } from "./produceFetch.js"
import { connect, type RawClient, startBroker } from "./util.js"

const addPartitions = (client: RawClient, id: { producerId: bigint; producerEpoch: number }, partition: number) =>
  client.send(
    24,
    3,
    AddPartitionsToTxn.makeAddPartitionsToTxnRequest({
      v3AndBelowTransactionalId: "k17754",
      v3AndBelowProducerId: id.producerId,
      v3AndBelowProducerEpoch: id.producerEpoch,
      v3AndBelowTopics: [{ name: "orders", partitions: [partition] }]
    })
  )

const endTxn = (client: RawClient, id: { producerId: bigint; producerEpoch: number }) =>
  client.send(26, 4, EndTxn.makeEndTxnRequest({ transactionalId: "k17754", ...id, committed: true }))

/** Runs the schedule: the coordinator's view of the transactional id before and after each late request. */
const schedule = Effect.gen(function* () {
  const { broker, context } = yield* startBroker()
  const coordinator = Context.get(context, TransactionCoordinator)
  const client = yield* connect(broker.address.port)
  const late = yield* connect(broker.address.port)
  yield* createTopic(client, "orders", 2)
  const init = yield* client.send(
    22,
    4,
    InitProducerId.makeInitProducerIdRequest({ transactionalId: "k17754", transactionTimeoutMs: 60_000 })
  )
  assert.strictEqual(init.errorCode, ErrorCode.NONE)
  const id = { producerId: init.producerId, producerEpoch: init.producerEpoch }
  // transaction 1 on partition 0, committed
  assert.strictEqual(
    (yield* addPartitions(client, id, 0)).resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode,
    0
  )
  assert.strictEqual((yield* endTxn(client, id)).errorCode, ErrorCode.NONE)
  // transaction 2 on partition 1
  const second = yield* coordinator.describe("k17754")
  const current = { producerId: BigInt(second!.producerId), producerEpoch: second!.producerEpoch }
  assert.strictEqual(
    (yield* addPartitions(client, current, 1)).resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode,
    0
  )
  const before = yield* coordinator.describe("k17754")
  // transaction 1's requests arrive late, with transaction 1's producer id and epoch
  yield* addPartitions(late, id, 0)
  const joined = yield* coordinator.describe("k17754")
  yield* endTxn(late, id)
  const ended = yield* coordinator.describe("k17754")
  return { before, joined, ended }
})

const partitionsOf = (m: { readonly partitions: Map<string, Set<number>> } | undefined) => [
  ...(m?.partitions.get("orders") ?? [])
]

describe("KAFKA-17754", () => {
  it.scopedLive("the schedule runs as intended: transaction 1 committed, transaction 2 open on its own partition", () =>
    Effect.gen(function* () {
      const { before } = yield* schedule
      assert.strictEqual(before?.status, TxnStatus.Ongoing)
      assert.deepStrictEqual(partitionsOf(before), [1])
    })
  )

  it.scopedLive.fails(
    "a delayed EndTxn or AddPartitionsToTxn cannot end or join the next transaction (needs KIP-890 part 2)",
    () =>
      Effect.gen(function* () {
        const { joined, ended } = yield* schedule
        // the next transaction holds only its own partition and is still open
        assert.deepStrictEqual(partitionsOf(joined), [1])
        assert.strictEqual(ended?.status, TxnStatus.Ongoing)
      })
  )
})
