/**
 * Transaction version 2 (KIP-890 part 2) against a real broker: EndTxn v5 is advertised and served only with
 * `unstable.api.versions.enable=true`; it ends the transaction with the producer epoch bumped (the markers carry
 * the new epoch, the response hands it to the producer, a new producer id at epoch 0 once the epoch is
 * exhausted), a retry of it gets the same answer, every other request of the ended transaction is fenced, and a
 * restart of the coordinator keeps the bumped epoch.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect } from "effect"
import { partitionFor } from "../../src/broker/CoordinatorKey.js"
import { ReplicaManager } from "../../src/broker/ReplicaManager.js"
import { TRANSACTION_STATE } from "../../src/broker/TopicRegistry.js"
import {
  decodeRecord,
  encodeRecord,
  TransactionCoordinator,
  TxnStatus
} from "../../src/broker/TransactionCoordinator.js"
import { encodeRequestFrame } from "../../src/protocol/Frame.js"
import * as AddOffsetsToTxn from "../../src/protocol/generated/AddOffsetsToTxn.js"
import * as AddPartitionsToTxn from "../../src/protocol/generated/AddPartitionsToTxn.js"
import * as ApiVersions from "../../src/protocol/generated/ApiVersions.js"
import * as EndTxn from "../../src/protocol/generated/EndTxn.js"
import { ErrorCode } from "../../src/protocol/generated/ErrorCode.js"
import * as InitProducerId from "../../src/protocol/generated/InitProducerId.js"
import * as TxnOffsetCommit from "../../src/protocol/generated/TxnOffsetCommit.js"
import * as RecordBatch from "../../src/protocol/RecordBatch.js"
import { batch, createTopic, fetchOne, produce, values } from "./produceFetch.js"
import { connect, type RawClient, startBroker, tempDir } from "./util.js"

const TV2 = { "unstable.api.versions.enable": "true" }

interface Id {
  readonly producerId: bigint
  readonly producerEpoch: number
}

const services = (options: { readonly dir?: string; readonly extra?: Record<string, string> } = {}) =>
  Effect.gen(function* () {
    const { broker, context } = yield* startBroker({ extra: TV2, ...options })
    return {
      client: yield* connect(broker.address.port),
      port: broker.address.port,
      coordinator: Context.get(context, TransactionCoordinator),
      replicas: Context.get(context, ReplicaManager)
    }
  })

const initId = (client: RawClient, transactionalId: string) =>
  Effect.map(
    client.send(22, 4, InitProducerId.makeInitProducerIdRequest({ transactionalId, transactionTimeoutMs: 60_000 })),
    (res): Id => {
      assert.strictEqual(res.errorCode, ErrorCode.NONE)
      return { producerId: res.producerId, producerEpoch: res.producerEpoch }
    }
  )

/** AddPartitionsToTxn (v3 unless given): the partition's error code. */
const addPartition = (client: RawClient, transactionalId: string, id: Id, topic: string, partition = 0, version = 3) =>
  Effect.map(
    client.send(
      24,
      version,
      AddPartitionsToTxn.makeAddPartitionsToTxnRequest({
        v3AndBelowTransactionalId: transactionalId,
        v3AndBelowProducerId: id.producerId,
        v3AndBelowProducerEpoch: id.producerEpoch,
        v3AndBelowTopics: [{ name: topic, partitions: [partition] }]
      })
    ),
    (res) => res.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode
  )

const endTxn = (client: RawClient, transactionalId: string, id: Id, committed: boolean, version = 5) =>
  client.send(26, version, EndTxn.makeEndTxnRequest({ transactionalId, ...id, committed }))

/** Produces a transactional batch of `id` at `sequence`: the partition's error code. */
const produceTxn = (client: RawClient, topic: string, id: Id, sequence: number, vs: ReadonlyArray<string>) =>
  Effect.map(
    produce(
      client,
      topic,
      0,
      batch(vs, {
        producerId: Number(id.producerId),
        producerEpoch: id.producerEpoch,
        baseSequence: sequence,
        transactional: true
      })
    ),
    (p) => p.errorCode
  )

/** Every batch of a partition: control batches with their marker type, data batches with their values. */
const batchesOf = (replicas: ReplicaManager.Service, topic: string, partition: number) =>
  Effect.gen(function* () {
    const log = replicas.get(topic, partition)!.log
    const read = yield* log.read(log.logStartOffset, 1 << 20, { maxOffset: log.logEndOffset })
    return RecordBatch.headers(read.records).map(({ position, header }) => ({
      producerId: header.producerId,
      producerEpoch: header.producerEpoch,
      marker: RecordBatch.isControl(header.attributes)
        ? [...RecordBatch.records(read.records, position)].map((r) => RecordBatch.decodeControlRecord(r).type)[0]
        : undefined
    }))
  })

/** The latest `__transaction_state` record of `transactionalId`, decoded. */
const lastRecordOf = (replicas: ReplicaManager.Service, transactionalId: string) =>
  Effect.gen(function* () {
    const partition = partitionFor(transactionalId, replicas.replicas(TRANSACTION_STATE).length)
    const log = replicas.get(TRANSACTION_STATE, partition)!.log
    const read = yield* log.read(log.logStartOffset, 1 << 20, { maxOffset: log.logEndOffset })
    let last: ReturnType<typeof decodeRecord>
    let version = -1
    for (const { position, header } of RecordBatch.headers(read.records)) {
      if (RecordBatch.isControl(header.attributes)) continue
      for (const r of RecordBatch.records(read.records, position)) {
        const decoded = decodeRecord(r.key!, r.value)
        if (decoded?.transactionalId !== transactionalId) continue
        last = decoded
        version = Buffer.from(r.value!).readInt16BE(0)
      }
    }
    return { metadata: last?.metadata, version }
  })

/**
 * What a read_committed consumer keeps of fetched batches: no control batch, and no batch of a producer from the
 * first offset of one of its aborted transactions up to its ABORT marker.
 */
const committedValues = (
  records: Uint8Array | null,
  aborted: ReadonlyArray<{ readonly producerId: bigint; readonly firstOffset: bigint }>
): Array<string> => {
  if (records === null) return []
  const out: Array<string> = []
  const pending = [...aborted].sort((x, y) => Number(x.firstOffset - y.firstOffset))
  const abortedNow = new Set<number>()
  for (const { position, header } of RecordBatch.headers(records)) {
    while (pending.length > 0 && Number(pending[0]!.firstOffset) <= header.baseOffset) {
      abortedNow.add(Number(pending.shift()!.producerId))
    }
    if (RecordBatch.isControl(header.attributes)) {
      abortedNow.delete(header.producerId)
      continue
    }
    if (RecordBatch.isTransactional(header.attributes) && abortedNow.has(header.producerId)) continue
    out.push(...values(records.subarray(position, position + RecordBatch.sizeAt(records, position))))
  }
  return out
}

const endTxnVersions = (client: RawClient) =>
  Effect.map(
    client.send(18, 3, ApiVersions.makeApiVersionsRequest()),
    (res) => res.apiKeys.find((k) => k.apiKey === EndTxn.apiKey)!.maxVersion
  )

describe("transaction version 2 (EndTxn v5, KIP-890 part 2)", () => {
  it.scopedLive("EndTxn v5 is advertised and served only with unstable.api.versions.enable=true", () =>
    Effect.gen(function* () {
      const on = yield* services()
      assert.strictEqual(yield* endTxnVersions(on.client), 5)
      const off = yield* services({ extra: {} })
      assert.strictEqual(yield* endTxnVersions(off.client), 4)
      // a v5 request to the default broker is refused as any unsupported version: the connection closes
      const id = yield* initId(off.client, "off")
      yield* off.client.write(
        encodeRequestFrame(26, 5, 99, "t", EndTxn.makeEndTxnRequest({ transactionalId: "off", ...id, committed: true }))
      )
      yield* off.client.closed
    })
  )

  it.scopedLive(
    "markers carry the bumped epoch, the next transaction starts at sequence 0, read_committed sees each whole",
    () =>
      Effect.gen(function* () {
        const { client, replicas } = yield* services()
        yield* createTopic(client, "tv2")
        const first = yield* initId(client, "tx")
        let id = first
        const runs: Array<[boolean, Array<string>]> = [
          [true, ["a1", "a2"]],
          [false, ["b1"]],
          [true, ["c1", "c2"]]
        ]
        for (const [commit, vs] of runs) {
          assert.strictEqual(yield* addPartition(client, "tx", id, "tv2"), ErrorCode.NONE)
          assert.strictEqual(yield* produceTxn(client, "tv2", id, 0, vs), ErrorCode.NONE)
          const ended = yield* endTxn(client, "tx", id, commit)
          assert.strictEqual(ended.errorCode, ErrorCode.NONE)
          assert.deepStrictEqual(
            { producerId: ended.producerId, producerEpoch: ended.producerEpoch },
            { producerId: first.producerId, producerEpoch: id.producerEpoch + 1 }
          )
          id = { producerId: ended.producerId, producerEpoch: ended.producerEpoch }
        }
        const pid = Number(first.producerId)
        const e = first.producerEpoch
        assert.deepStrictEqual(yield* batchesOf(replicas, "tv2", 0), [
          { producerId: pid, producerEpoch: e, marker: undefined },
          { producerId: pid, producerEpoch: e + 1, marker: RecordBatch.ControlType.COMMIT },
          { producerId: pid, producerEpoch: e + 1, marker: undefined },
          { producerId: pid, producerEpoch: e + 2, marker: RecordBatch.ControlType.ABORT },
          { producerId: pid, producerEpoch: e + 2, marker: undefined },
          { producerId: pid, producerEpoch: e + 3, marker: RecordBatch.ControlType.COMMIT }
        ])
        // a1 a2 @0-1, marker @2, b1 @3 (aborted), marker @4, c1 c2 @5-6, marker @7
        const fetched = yield* fetchOne(client, "tv2", 0, 0, 11, { isolationLevel: 1 })
        assert.strictEqual(fetched.lastStableOffset, 8n)
        assert.deepStrictEqual(
          fetched.abortedTransactions?.map((a) => ({ producerId: a.producerId, firstOffset: a.firstOffset })),
          [{ producerId: first.producerId, firstOffset: 3n }]
        )
        assert.deepStrictEqual(committedValues(fetched.records, fetched.abortedTransactions ?? []), [
          "a1",
          "a2",
          "c1",
          "c2"
        ])
        const record = yield* lastRecordOf(replicas, "tx")
        assert.strictEqual(record.version, 1)
        assert.strictEqual(record.metadata?.clientTransactionVersion, 2)
        assert.strictEqual(record.metadata?.producerEpoch, e + 3)
      })
  )

  it.scopedLive(
    "a retried EndTxn v5 gets the same answer; every other request of the ended transaction is fenced",
    () =>
      Effect.gen(function* () {
        const { client, coordinator } = yield* services()
        yield* createTopic(client, "orders")
        const old = yield* initId(client, "retry")
        assert.strictEqual(yield* addPartition(client, "retry", old, "orders"), ErrorCode.NONE)
        const addOffsets = (id: Id, version = 3) =>
          client.send(
            25,
            version,
            AddOffsetsToTxn.makeAddOffsetsToTxnRequest({ transactionalId: "retry", ...id, groupId: "g" })
          )
        const txnOffsetCommit = (id: Id) =>
          Effect.map(
            client.send(
              28,
              3,
              TxnOffsetCommit.makeTxnOffsetCommitRequest({
                transactionalId: "retry",
                groupId: "g",
                ...id,
                generationId: -1,
                memberId: "",
                groupInstanceId: null,
                topics: [
                  {
                    name: "orders",
                    partitions: [
                      TxnOffsetCommit.makeTxnOffsetCommitRequestPartition({ partitionIndex: 0, committedOffset: 5n })
                    ]
                  }
                ]
              })
            ),
            (res) => res.topics[0]!.partitions[0]!.errorCode
          )
        assert.strictEqual((yield* addOffsets(old)).errorCode, ErrorCode.NONE)
        assert.strictEqual(yield* produceTxn(client, "orders", old, 0, ["x"]), ErrorCode.NONE)
        assert.strictEqual(yield* txnOffsetCommit(old), ErrorCode.NONE)
        const ended = yield* endTxn(client, "retry", old, true)
        assert.strictEqual(ended.errorCode, ErrorCode.NONE)
        const next = { producerId: ended.producerId, producerEpoch: ended.producerEpoch }
        assert.strictEqual(next.producerEpoch, old.producerEpoch + 1)

        // the retry (its answer lost): the same answer, no second bump
        const retried = yield* endTxn(client, "retry", old, true)
        assert.deepStrictEqual(
          { errorCode: retried.errorCode, producerId: retried.producerId, producerEpoch: retried.producerEpoch },
          { errorCode: ErrorCode.NONE, ...next }
        )
        // everything else with the old epoch is fenced, in the code each version knows
        assert.strictEqual((yield* endTxn(client, "retry", old, true, 4)).errorCode, ErrorCode.PRODUCER_FENCED)
        assert.strictEqual((yield* endTxn(client, "retry", old, true, 1)).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH)
        assert.strictEqual(yield* addPartition(client, "retry", old, "orders"), ErrorCode.PRODUCER_FENCED)
        assert.strictEqual(yield* addPartition(client, "retry", old, "orders", 0, 1), ErrorCode.INVALID_PRODUCER_EPOCH)
        assert.strictEqual((yield* addOffsets(old)).errorCode, ErrorCode.PRODUCER_FENCED)
        // the partitions of the ended transaction have its marker at the new epoch: they refuse the old one
        assert.strictEqual(yield* produceTxn(client, "orders", old, 1, ["late"]), ErrorCode.INVALID_PRODUCER_EPOCH)
        assert.strictEqual(yield* txnOffsetCommit(old), ErrorCode.INVALID_PRODUCER_EPOCH)
        const state = yield* coordinator.describe("retry")
        assert.strictEqual(state?.status, TxnStatus.CompleteCommit)
        assert.strictEqual(state?.producerEpoch, next.producerEpoch)
        // the new epoch works
        assert.strictEqual(yield* addPartition(client, "retry", next, "orders"), ErrorCode.NONE)
        assert.strictEqual(yield* produceTxn(client, "orders", next, 0, ["y"]), ErrorCode.NONE)
        // once the next transaction runs, the old epoch's retry is fenced too
        assert.strictEqual((yield* endTxn(client, "retry", old, true)).errorCode, ErrorCode.PRODUCER_FENCED)
        assert.strictEqual((yield* endTxn(client, "retry", next, false)).errorCode, ErrorCode.NONE)
      })
  )

  it.scopedLive("a restart keeps the bumped epoch and still recognises the retry", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const { old, next } = yield* Effect.scoped(
        Effect.gen(function* () {
          const { client } = yield* services({ dir })
          yield* createTopic(client, "kept")
          const old = yield* initId(client, "kept")
          assert.strictEqual(yield* addPartition(client, "kept", old, "kept"), ErrorCode.NONE)
          assert.strictEqual(yield* produceTxn(client, "kept", old, 0, ["k"]), ErrorCode.NONE)
          const ended = yield* endTxn(client, "kept", old, true)
          assert.strictEqual(ended.errorCode, ErrorCode.NONE)
          return { old, next: { producerId: ended.producerId, producerEpoch: ended.producerEpoch } }
        })
      )
      const { client, coordinator } = yield* services({ dir })
      const state = yield* coordinator.describe("kept")
      assert.strictEqual(state?.status, TxnStatus.CompleteCommit)
      assert.strictEqual(state?.producerEpoch, next.producerEpoch)
      const retried = yield* endTxn(client, "kept", old, true)
      assert.deepStrictEqual(
        { errorCode: retried.errorCode, producerId: retried.producerId, producerEpoch: retried.producerEpoch },
        { errorCode: ErrorCode.NONE, ...next }
      )
      assert.strictEqual(yield* addPartition(client, "kept", old, "kept"), ErrorCode.PRODUCER_FENCED)
      assert.strictEqual(yield* produceTxn(client, "kept", old, 1, ["late"]), ErrorCode.INVALID_PRODUCER_EPOCH)
      assert.strictEqual(yield* addPartition(client, "kept", next, "kept"), ErrorCode.NONE)
      assert.strictEqual(yield* produceTxn(client, "kept", next, 0, ["k2"]), ErrorCode.NONE)
      assert.strictEqual((yield* endTxn(client, "kept", next, true)).producerEpoch, next.producerEpoch + 1)
    })
  )

  it.scopedLive("at epoch 32766 the end moves to a new producer id at epoch 0, kept across a restart", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      // a transactional id whose epoch is exhausted: its state rewritten at epoch 32766, then replayed
      const pid = yield* Effect.scoped(
        Effect.gen(function* () {
          const { client, coordinator, replicas } = yield* services({ dir })
          yield* createTopic(client, "ex")
          const id = yield* initId(client, "ex")
          const m = (yield* coordinator.describe("ex"))!
          const partition = partitionFor("ex", replicas.replicas(TRANSACTION_STATE).length)
          yield* replicas
            .get(TRANSACTION_STATE, partition)!
            .append([RecordBatch.encode([{ ...encodeRecord({ ...m, producerEpoch: 32766 }), timestamp: 0 }])])
          return id.producerId
        })
      )
      const exhausted = { producerId: pid, producerEpoch: 32766 }
      const after = yield* Effect.scoped(
        Effect.gen(function* () {
          const { client, replicas } = yield* services({ dir })
          assert.strictEqual(yield* addPartition(client, "ex", exhausted, "ex"), ErrorCode.NONE)
          assert.strictEqual(yield* produceTxn(client, "ex", exhausted, 0, ["last"]), ErrorCode.NONE)
          const ended = yield* endTxn(client, "ex", exhausted, true)
          assert.strictEqual(ended.errorCode, ErrorCode.NONE)
          assert.notStrictEqual(ended.producerId, pid)
          assert.strictEqual(ended.producerEpoch, 0)
          // the marker closes the old producer id's transaction at the last epoch
          assert.deepStrictEqual((yield* batchesOf(replicas, "ex", 0))[1], {
            producerId: Number(pid),
            producerEpoch: 32767,
            marker: RecordBatch.ControlType.COMMIT
          })
          const record = yield* lastRecordOf(replicas, "ex")
          assert.strictEqual(record.version, 1)
          assert.strictEqual(record.metadata?.previousProducerId, Number(pid))
          assert.strictEqual(record.metadata?.producerId, Number(ended.producerId))
          // the old producer id is no longer the transactional id's
          assert.strictEqual(yield* addPartition(client, "ex", exhausted, "ex"), ErrorCode.INVALID_PRODUCER_ID_MAPPING)
          return { producerId: ended.producerId, producerEpoch: ended.producerEpoch }
        })
      )
      const { client, coordinator } = yield* services({ dir })
      assert.strictEqual((yield* coordinator.describe("ex"))?.producerId, Number(after.producerId))
      // the retry of the end that rotated the id gets the same answer after the restart
      const retried = yield* endTxn(client, "ex", exhausted, true)
      assert.deepStrictEqual(
        { errorCode: retried.errorCode, producerId: retried.producerId, producerEpoch: retried.producerEpoch },
        { errorCode: ErrorCode.NONE, ...after }
      )
      assert.strictEqual(yield* addPartition(client, "ex", after, "ex"), ErrorCode.NONE)
      assert.strictEqual(yield* produceTxn(client, "ex", after, 0, ["first"]), ErrorCode.NONE)
      const ended = yield* endTxn(client, "ex", after, true)
      assert.deepStrictEqual(
        { producerId: ended.producerId, producerEpoch: ended.producerEpoch },
        { ...after, producerEpoch: 1 }
      )
    })
  )
})
