/**
 * InitProducerId over the wire and the producer-id allocator behind it: fresh ids for idempotent
 * producers at every served version, ids never reused across restarts (the durable block file),
 * epoch bumps and fencing per transactional id with the version-dependent fencing code, the
 * transaction timeout bound, and the advertised version ranges (no KIP-890 `transaction.version`).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer } from "effect"
import * as MetadataStore from "../../src/broker/MetadataStore.js"
import * as ProducerIdManager from "../../src/broker/ProducerIdManager.js"
import * as ApiVersions from "../../src/protocol/generated/ApiVersions.js"
import { ErrorCode } from "../../src/protocol/generated/ErrorCode.js"
import * as InitProducerId from "../../src/protocol/generated/InitProducerId.js"
import { connect, type RawClient, startBroker, tempDir } from "./util.js"

const INIT_PRODUCER_ID = 22

const init = (
  client: RawClient,
  version: number,
  fields: Partial<InitProducerId.InitProducerIdRequest> = {}
): Effect.Effect<InitProducerId.InitProducerIdResponse> =>
  client.send(
    INIT_PRODUCER_ID,
    version,
    InitProducerId.makeInitProducerIdRequest({ transactionalId: null, transactionTimeoutMs: 60_000, ...fields })
  )

describe("InitProducerId", () => {
  it.scopedLive("advertises the transaction APIs up to the versions before KIP-890, and no transaction.version", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker()
      const client = yield* connect(broker.address.port)
      const res = yield* client.send(18, 3, ApiVersions.makeApiVersionsRequest({ clientSoftwareName: "t" }))
      const range = (key: number) => {
        const k = res.apiKeys.find((a) => a.apiKey === key)
        return k === undefined ? undefined : [k.minVersion, k.maxVersion]
      }
      // InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit
      assert.deepStrictEqual(range(22), [0, 4])
      assert.deepStrictEqual(range(24), [0, 3])
      assert.deepStrictEqual(range(25), [0, 3])
      assert.deepStrictEqual(range(26), [0, 4])
      assert.deepStrictEqual(range(28), [0, 3])
      assert.isFalse(res.supportedFeatures.some((f) => f.name === "transaction.version"))
      assert.isFalse(res.finalizedFeatures.some((f) => f.name === "transaction.version"))
    })
  )

  it.scopedLive("hands idempotent producers fresh ids with epoch 0 at every version, never reused after restarts", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const seen = new Set<bigint>()
      let highest = -1n
      for (let round = 0; round < 3; round++) {
        yield* Effect.scoped(
          Effect.gen(function* () {
            const { broker } = yield* startBroker({ dir })
            const client = yield* connect(broker.address.port)
            for (let v = 0; v <= 4; v++) {
              const r = yield* init(client, v)
              assert.strictEqual(r.errorCode, ErrorCode.NONE, `v${v}`)
              assert.strictEqual(r.producerEpoch, 0)
              assert.isFalse(seen.has(r.producerId), `id ${r.producerId} handed out twice`)
              assert.isAbove(Number(r.producerId), Number(highest))
              seen.add(r.producerId)
              highest = r.producerId
            }
            // v3+ with the caller's id and epoch (KIP-360): as in Kafka, an idempotent producer gets a
            // fresh id (it bumps its epoch locally; the broker keeps no state for it outside partitions)
            const again = yield* init(client, 4, { producerId: highest, producerEpoch: 0 })
            assert.strictEqual(again.errorCode, ErrorCode.NONE)
            assert.isAbove(Number(again.producerId), Number(highest))
            seen.add(again.producerId)
            highest = again.producerId
          })
        )
        // the reserved block is on disk before an id of it is used
        const reserved = Number(fs.readFileSync(path.join(dir, ProducerIdManager.FILE_NAME), "utf8").trim())
        assert.isAbove(reserved, Number(highest))
      }
      assert.strictEqual(seen.size, 18)
    })
  )

  it.scoped("the allocator reserves whole blocks durably and refuses a corrupt block file", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const a = yield* ProducerIdManager.make(dir)
      const first = yield* a.next
      const second = yield* a.next
      assert.deepStrictEqual([first, second], [0, 1])
      const file = path.join(dir, ProducerIdManager.FILE_NAME)
      assert.strictEqual(fs.readFileSync(file, "utf8").trim(), String(ProducerIdManager.BLOCK_SIZE))
      // ids past a block reserve the next one before they are handed out
      for (let i = 2; i < ProducerIdManager.BLOCK_SIZE; i++) yield* a.next
      assert.strictEqual(yield* a.next, ProducerIdManager.BLOCK_SIZE)
      assert.strictEqual(fs.readFileSync(file, "utf8").trim(), String(2 * ProducerIdManager.BLOCK_SIZE))
      // a restart starts at the next unreserved block
      const b = yield* ProducerIdManager.make(dir)
      assert.strictEqual(yield* b.next, 2 * ProducerIdManager.BLOCK_SIZE)
      // concurrent callers never share an id
      const many = yield* Effect.all(
        Array.from({ length: 50 }, () => b.next),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(new Set(many).size, 50)
      fs.writeFileSync(file, "not a number\n")
      const exit = yield* Effect.exit(ProducerIdManager.make(dir))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) assert.include(String(exit.cause), "KafkaStorageError")
    })
  )

  it.scoped("allocators of two brokers sharing a metadata store never hand out the same id", () =>
    Effect.gen(function* () {
      const store = yield* MetadataStore.MetadataStore
      const a = yield* ProducerIdManager.make(yield* tempDir, store)
      const b = yield* ProducerIdManager.make(yield* tempDir, store)
      const ids = yield* Effect.all(
        Array.from({ length: 3 * ProducerIdManager.BLOCK_SIZE }, (_, i) => (i % 2 === 0 ? a.next : b.next)),
        { concurrency: 4 }
      )
      assert.strictEqual(new Set(ids).size, ids.length)
      // a restart of one broker (a fresh in-process store that forgot everything) still moves on from its disk
      const dir = yield* tempDir
      const before = yield* ProducerIdManager.make(dir, store)
      const used = yield* before.next
      const forgetful = Context.get(yield* Layer.build(MetadataStore.layerMemory), MetadataStore.MetadataStore)
      const after = yield* ProducerIdManager.make(dir, forgetful)
      assert.isAbove(yield* after.next, used)
    }).pipe(Effect.provide(MetadataStore.layerMemory))
  )

  it.scopedLive("two brokers of one cluster give idempotent producers different ids", () =>
    Effect.gen(function* () {
      const storeLayer = Layer.succeedContext(yield* Layer.build(MetadataStore.layerMemory))
      const ids = new Set<bigint>()
      for (const id of [1, 2]) {
        const { broker } = yield* startBroker({ extra: { "node.id": String(id) }, metadataStore: storeLayer })
        const client = yield* connect(broker.address.port)
        for (let i = 0; i < 3; i++) {
          const r = yield* init(client, 4)
          assert.strictEqual(r.errorCode, ErrorCode.NONE)
          ids.add(r.producerId)
        }
      }
      // before the store allocated blocks, both brokers started at id 0 and two producers shared an id
      assert.strictEqual(ids.size, 6)
    })
  )

  it.scopedLive("bumps the epoch per transactional id and fences older epochs with the code the version knows", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker()
      const client = yield* connect(broker.address.port)
      const first = yield* init(client, 4, { transactionalId: "wire-tx" })
      assert.strictEqual(first.errorCode, ErrorCode.NONE)
      assert.strictEqual(first.producerEpoch, 0)
      const second = yield* init(client, 1, { transactionalId: "wire-tx" })
      assert.strictEqual(second.errorCode, ErrorCode.NONE)
      assert.strictEqual(second.producerId, first.producerId)
      assert.strictEqual(second.producerEpoch, 1)
      // KIP-360: the current id and epoch bump the epoch
      const third = yield* init(client, 3, {
        transactionalId: "wire-tx",
        producerId: second.producerId,
        producerEpoch: second.producerEpoch
      })
      assert.strictEqual(third.errorCode, ErrorCode.NONE)
      assert.strictEqual(third.producerEpoch, 2)
      // a retry of that bump (its answer lost) gets the same answer, not another bump
      const retried = yield* init(client, 3, {
        transactionalId: "wire-tx",
        producerId: second.producerId,
        producerEpoch: second.producerEpoch
      })
      assert.deepStrictEqual([retried.errorCode, retried.producerId, retried.producerEpoch], [0, third.producerId, 2])
      // an older epoch is a zombie: INVALID_PRODUCER_EPOCH before KIP-588 (v4), PRODUCER_FENCED from v4
      const stale = { transactionalId: "wire-tx", producerId: first.producerId, producerEpoch: first.producerEpoch }
      const v3 = yield* init(client, 3, stale)
      assert.strictEqual(v3.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH)
      assert.strictEqual(v3.producerId, -1n)
      const v4 = yield* init(client, 4, stale)
      assert.strictEqual(v4.errorCode, ErrorCode.PRODUCER_FENCED)
      // transaction.max.timeout.ms (15 minutes by default) bounds the timeout
      const tooLong = yield* init(client, 2, { transactionalId: "wire-tx", transactionTimeoutMs: 900_001 })
      assert.strictEqual(tooLong.errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT)
      const zero = yield* init(client, 0, { transactionalId: "other-tx", transactionTimeoutMs: 0 })
      assert.strictEqual(zero.errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT)
      // the state is unchanged by the refused requests
      const fourth = yield* init(client, 4, { transactionalId: "wire-tx" })
      assert.deepStrictEqual([fourth.producerId, fourth.producerEpoch], [first.producerId, 3])
    })
  )
})
