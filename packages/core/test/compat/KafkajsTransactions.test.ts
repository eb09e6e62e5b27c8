/**
 * kafkajs 2.2.4 idempotent and transactional producers against Eddy: commits and aborts seen through
 * read_committed and read_uncommitted consumers, sendOffsets (consume-transform-produce), and zombie
 * fencing of two producers sharing a transactional id.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Kafka, logLevel } from "kafkajs"
import { startBroker } from "../broker/util.js"

const kafkaFor = (port: number) =>
  new Kafka({
    clientId: "eddy-txn",
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 5, initialRetryTime: 50 }
  })

/** Reads `topic` from the beginning in a fresh group until `count` values arrived (or 15 s passed). */
const readAll = async (kafka: Kafka, topic: string, count: number, readUncommitted: boolean) => {
  const consumer = kafka.consumer({
    groupId: `reader-${Math.random().toString(36).slice(2)}`,
    readUncommitted,
    maxWaitTimeInMs: 100
  })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  const values: Array<string> = []
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, 15_000)
    consumer
      .run({
        eachMessage: async ({ message }) => {
          values.push(message.value!.toString())
          if (values.length >= count) {
            clearTimeout(timer)
            resolve()
          }
        }
      })
      .catch(reject)
  })
  // a little longer: anything that should not be there would arrive now
  await new Promise((r) => setTimeout(r, 300))
  await consumer.disconnect()
  return values
}

const extra = { "group.initial.rebalance.delay.ms": "0", "num.partitions": "1" }

describe("kafkajs transactions against Eddy", { timeout: 60_000 }, () => {
  it.scopedLive("commits are visible, aborts are not (read_committed); read_uncommitted sees both", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker({ extra })
      const kafka = kafkaFor(broker.address.port)
      const values = yield* Effect.promise(async () => {
        const admin = kafka.admin()
        await admin.connect()
        await admin.createTopics({ topics: [{ topic: "txn-out", numPartitions: 2 }] })
        await admin.disconnect()
        const producer = kafka.producer({ transactionalId: "tx-1", maxInFlightRequests: 1, idempotent: true })
        await producer.connect()
        const send = async (values: Array<string>, commit: boolean) => {
          const txn = await producer.transaction()
          await txn.send({ topic: "txn-out", messages: values.map((value, i) => ({ key: `k${i}`, value })) })
          if (commit) await txn.commit()
          else await txn.abort()
        }
        await send(["a1", "a2", "a3"], true)
        await send(["x1", "x2", "x3"], false)
        await send(["b1", "b2"], true)
        await producer.disconnect()
        const committed = await readAll(kafka, "txn-out", 5, false)
        const all = await readAll(kafka, "txn-out", 8, true)
        return { committed, all }
      })
      assert.sameMembers(values.committed, ["a1", "a2", "a3", "b1", "b2"])
      assert.sameMembers(values.all, ["a1", "a2", "a3", "x1", "x2", "x3", "b1", "b2"])
    })
  )

  it.scopedLive("sendOffsets commits the group's offsets with the transaction, and only then", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker({ extra })
      const kafka = kafkaFor(broker.address.port)
      const offsets = yield* Effect.promise(async () => {
        const admin = kafka.admin()
        await admin.connect()
        await admin.createTopics({ topics: [{ topic: "ctp-in" }, { topic: "ctp-out" }] })
        const producer = kafka.producer({ transactionalId: "ctp", maxInFlightRequests: 1, idempotent: true })
        await producer.connect()
        const committedTxn = await producer.transaction()
        await committedTxn.send({ topic: "ctp-out", messages: [{ value: "out-1" }] })
        await committedTxn.sendOffsets({
          consumerGroupId: "ctp-group",
          topics: [{ topic: "ctp-in", partitions: [{ partition: 0, offset: "7" }] }]
        })
        await committedTxn.commit()
        const afterCommit = await admin.fetchOffsets({ groupId: "ctp-group", topics: ["ctp-in"] })
        const abortedTxn = await producer.transaction()
        await abortedTxn.send({ topic: "ctp-out", messages: [{ value: "out-2" }] })
        await abortedTxn.sendOffsets({
          consumerGroupId: "ctp-group",
          topics: [{ topic: "ctp-in", partitions: [{ partition: 0, offset: "9" }] }]
        })
        await abortedTxn.abort()
        const afterAbort = await admin.fetchOffsets({ groupId: "ctp-group", topics: ["ctp-in"] })
        await producer.disconnect()
        await admin.disconnect()
        const out = await readAll(kafka, "ctp-out", 1, false)
        return { afterCommit, afterAbort, out }
      })
      assert.strictEqual(offsets.afterCommit[0]!.partitions[0]!.offset, "7")
      assert.strictEqual(offsets.afterAbort[0]!.partitions[0]!.offset, "7")
      assert.deepStrictEqual(offsets.out, ["out-1"])
    })
  )

  it.scopedLive("a second producer with the same transactional id fences the first and aborts its transaction", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker({ extra })
      const kafka = kafkaFor(broker.address.port)
      const result = yield* Effect.promise(async () => {
        const admin = kafka.admin()
        await admin.connect()
        await admin.createTopics({ topics: [{ topic: "zombie" }] })
        await admin.disconnect()
        const zombie = kafka.producer({ transactionalId: "shared", maxInFlightRequests: 1, idempotent: true })
        await zombie.connect()
        const zombieTxn = await zombie.transaction()
        await zombieTxn.send({ topic: "zombie", messages: [{ value: "from-zombie" }] })
        const fresh = kafka.producer({ transactionalId: "shared", maxInFlightRequests: 1, idempotent: true })
        await fresh.connect()
        const freshTxn = await fresh.transaction()
        await freshTxn.send({ topic: "zombie", messages: [{ value: "from-fresh" }] })
        await freshTxn.commit()
        const zombieError = await zombieTxn
          .send({ topic: "zombie", messages: [{ value: "late" }] })
          .then(() => zombieTxn.commit())
          .then(
            () => undefined,
            (e: { type?: string; message: string }) => e.type ?? e.message
          )
        await fresh.disconnect()
        await zombie.disconnect().catch(() => undefined)
        const seen = await readAll(kafka, "zombie", 1, false)
        return { zombieError, seen }
      })
      assert.include(["PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH"], result.zombieError)
      assert.deepStrictEqual(result.seen, ["from-fresh"])
    })
  )
})
