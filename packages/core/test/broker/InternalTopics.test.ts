/**
 * Internal topics belong to the broker: clients cannot produce to `__consumer_offsets` or
 * `__transaction_state` (INVALID_TOPIC_EXCEPTION, as Kafka answers), and a record there that replay
 * cannot read is logged, skipped and counted instead of stopping the broker from starting.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import * as Broker from "../../src/broker/Broker.js"
import * as GroupCoordinator from "../../src/broker/GroupCoordinator.js"
import * as TransactionCoordinator from "../../src/broker/TransactionCoordinator.js"
import * as Producer from "../../src/client/Producer.js"
import * as LogStorage from "../../src/log/LogStorage.js"
import * as DeleteRecords from "../../src/protocol/generated/DeleteRecords.js"
import { ErrorCode } from "../../src/protocol/generated/ErrorCode.js"
import * as FindCoordinator from "../../src/protocol/generated/FindCoordinator.js"
import * as OffsetFetch from "../../src/protocol/generated/OffsetFetch.js"
import * as OffsetCommitKey from "../../src/protocol/generated/records/OffsetCommitKey.js"
import * as TransactionLogKey from "../../src/protocol/generated/records/TransactionLogKey.js"
import * as RecordBatch from "../../src/protocol/RecordBatch.js"
import { Writer } from "../../src/protocol/Writer.js"
import { captureWarnings } from "../log/helpers.js"
import { batch, createTopic, produceRequest } from "./produceFetch.js"
import { connect, startBroker, tempDir, testConfig } from "./util.js"

const single = { "offsets.topic.num.partitions": "1", "transaction.state.log.num.partitions": "1" }

describe("internal topics", () => {
  it.scopedLive("a client's produce (or DeleteRecords) to __consumer_offsets or __transaction_state is refused", () =>
    Effect.gen(function* () {
      const { broker, context } = yield* startBroker({ extra: single })
      const client = yield* connect(broker.address.port)
      // before the topics exist, and once the coordinators created them
      for (const round of ["missing", "created"]) {
        for (const topic of ["__consumer_offsets", "__transaction_state"]) {
          for (const version of [3, 9]) {
            const res = yield* client.send(0, version, produceRequest(topic, 0, batch(["x"])))
            const p = res.responses[0]!.partitionResponses[0]!
            assert.strictEqual(p.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION, `${round} ${topic} v${version}`)
            assert.strictEqual(p.baseOffset, -1n)
          }
        }
        if (round === "missing") {
          for (const keyType of [0, 1]) {
            const found = yield* client.send(10, 3, FindCoordinator.makeFindCoordinatorRequest({ key: "k", keyType }))
            assert.strictEqual(found.errorCode, 0)
          }
        }
      }
      const deleted = yield* client.send(
        21,
        2,
        DeleteRecords.makeDeleteRecordsRequest({
          topics: [{ name: "__consumer_offsets", partitions: [{ partitionIndex: 0, offset: -1n }] }],
          timeoutMs: 5000
        })
      )
      assert.strictEqual(deleted.topics[0]!.partitions[0]!.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION)
      // the refused produces wrote nothing; the coordinators still write their topics
      const groups = Context.get(context, GroupCoordinator.GroupCoordinator)
      yield* createTopic(client, "t")
      const committed = yield* groups.commitOffsets("g", standalone(7))
      assert.isUndefined(committed[0]!.error)
      const fetched = yield* client.send(
        9,
        5,
        OffsetFetch.makeOffsetFetchRequest({ groupId: "g", topics: [{ name: "t", partitionIndexes: [0] }] })
      )
      assert.strictEqual(fetched.topics[0]!.partitions[0]!.committedOffset, 7n)
    })
  )

  it.scopedLive("the Eddy producer gets INVALID_TOPIC_EXCEPTION for an internal topic, without retrying", () =>
    Effect.gen(function* () {
      const { broker, context } = yield* startBroker({ extra: single })
      yield* Context.get(context, GroupCoordinator.GroupCoordinator).ensureOffsetsTopic
      const producer = yield* Producer.make({ "bootstrap.servers": `127.0.0.1:${broker.address.port}` })
      const error = yield* Effect.flip(
        producer
          .send("__consumer_offsets", { key: Buffer.from("k"), value: Buffer.from("v") })
          .pipe(Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error("retried until timeout") }))
      )
      assert.strictEqual((error as { _tag?: string })._tag, "KafkaError")
      assert.strictEqual((error as { errorName?: string }).errorName, "INVALID_TOPIC_EXCEPTION")
    })
  )

  it.scopedLive("a broker whose internal topics hold unreadable records starts, serves and keeps the rest", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* Effect.scoped(
        Effect.gen(function* () {
          const { broker, context } = yield* startBroker({ dir, extra: single })
          const client = yield* connect(broker.address.port)
          yield* createTopic(client, "t")
          const groups = Context.get(context, GroupCoordinator.GroupCoordinator)
          yield* groups.commitOffsets("before", standalone(11))
          yield* Context.get(context, TransactionCoordinator.TransactionCoordinator).ensureTopic
        })
      )
      // the broker is stopped: append records no coordinator wrote, through the log engine
      yield* Effect.scoped(
        Effect.gen(function* () {
          const config = yield* testConfig(dir, single)
          const storage = yield* LogStorage.LogStorage.pipe(
            Effect.provide(yield* Layer.build(Broker.storageLayer(config)))
          )
          const offsets = yield* storage.open({ topic: "__consumer_offsets", partition: 0 })
          yield* offsets.append(garbageBatches(offsetCommitKey))
          const txns = yield* storage.open({ topic: "__transaction_state", partition: 0 })
          yield* txns.append(garbageBatches(transactionLogKey))
        })
      )
      const warnings = captureWarnings()
      yield* Effect.scoped(
        Effect.gen(function* () {
          const { broker, context } = yield* startBroker({ dir, extra: single }).pipe(Effect.provide(warnings.layer))
          const groups = Context.get(context, GroupCoordinator.GroupCoordinator)
          const txns = Context.get(context, TransactionCoordinator.TransactionCoordinator)
          // a record with a garbage key, a record with a garbage value, a batch whose records do not decode
          assert.strictEqual(yield* groups.skippedRecords, 3)
          assert.strictEqual(yield* txns.skippedRecords, 3)
          const skips = warnings.messages.filter((m) => m.startsWith("Replay of __consumer_offsets-0 skipped"))
          assert.strictEqual(skips.length, 3, warnings.messages.join("\n"))
          assert.match(skips[0]!, /at offset 1 /)
          assert.isTrue(warnings.messages.some((m) => m.startsWith("Replay of __transaction_state-0 skipped")))
          const client = yield* connect(broker.address.port)
          assert.strictEqual(yield* committedOffset(client, "before"), 11n)
          yield* groups.commitOffsets("after", standalone(22))
        })
      )
      // records written after the unreadable ones are replayed too
      const { broker, context } = yield* startBroker({ dir, extra: single })
      assert.strictEqual(yield* Context.get(context, GroupCoordinator.GroupCoordinator).skippedRecords, 3)
      const client = yield* connect(broker.address.port)
      assert.strictEqual(yield* committedOffset(client, "before"), 11n)
      assert.strictEqual(yield* committedOffset(client, "after"), 22n)
    })
  )
})

const standalone = (offset: number): GroupCoordinator.CommitRequest => ({
  generationId: -1,
  memberId: "",
  groupInstanceId: null,
  retentionTimeMs: -1,
  offsets: [{ topic: "t", partition: 0, offset, leaderEpoch: -1, metadata: null }]
})

const committedOffset = (client: Effect.Effect.Success<ReturnType<typeof connect>>, groupId: string) =>
  Effect.map(
    client.send(9, 5, OffsetFetch.makeOffsetFetchRequest({ groupId, topics: [{ name: "t", partitionIndexes: [0] }] })),
    (res) => res.topics[0]!.partitions[0]!.committedOffset
  )

/** A valid `__consumer_offsets` key (OffsetCommitKey v1). */
const offsetCommitKey = (() => {
  const w = new Writer(64)
  w.int16(1)
  OffsetCommitKey.encodeOffsetCommitKey(w, { group: "before", topic: "t", partition: 0 }, 1)
  return Buffer.from(w.finish())
})()

/** A valid `__transaction_state` key (TransactionLogKey v0). */
const transactionLogKey = (() => {
  const w = new Writer(64)
  w.int16(0)
  TransactionLogKey.encodeTransactionLogKey(w, { transactionalId: "tx" }, 0)
  return Buffer.from(w.finish())
})()

/**
 * Three batches a coordinator never writes: a key whose string length is -1, a valid `key` with a
 * garbage value, and a batch claiming gzip whose records section is not gzip (its CRC checks out).
 */
const garbageBatches = (key: Buffer): Array<Uint8Array> => {
  const garbageKey = RecordBatch.encode([{ key: Buffer.from([0, 0, 0xff, 0xff, 7]), value: Buffer.from("junk") }])
  const garbageValue = RecordBatch.encode([{ key, value: Buffer.from([0, 0, 1, 2]) }])
  const badCodec = RecordBatch.encode([
    { key: Buffer.from("a"), value: Buffer.from("b") },
    { key: Buffer.from("c"), value: Buffer.from("d") }
  ])
  badCodec[RecordBatch.Field.attributes + 1]! |= RecordBatch.Compression.gzip
  RecordBatch.writeCrc(badCodec)
  return [garbageKey, garbageValue, badCodec]
}
