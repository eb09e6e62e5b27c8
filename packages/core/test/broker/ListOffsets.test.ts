import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as DeleteRecords from "../../src/protocol/generated/DeleteRecords.js"
import * as ListOffsets from "../../src/protocol/generated/ListOffsets.js"
import * as OffsetForLeaderEpoch from "../../src/protocol/generated/OffsetForLeaderEpoch.js"
import { batch, createTopic, produce } from "./produceFetch.js"
import { connect, type RawClient, startBroker } from "./util.js"

const list = (
  client: RawClient,
  version: number,
  timestamp: number,
  options: { partition?: number; currentLeaderEpoch?: number; isolationLevel?: number } = {}
) =>
  Effect.map(
    client.send(
      2,
      version,
      ListOffsets.makeListOffsetsRequest({
        replicaId: -1,
        isolationLevel: options.isolationLevel ?? 0,
        topics: [
          {
            name: "t",
            partitions: [
              ListOffsets.makeListOffsetsRequestListOffsetsPartition({
                partitionIndex: options.partition ?? 0,
                timestamp: BigInt(timestamp),
                maxNumOffsets: 1,
                currentLeaderEpoch: options.currentLeaderEpoch ?? -1
              })
            ]
          }
        ]
      })
    ),
    (res) => res.topics[0]!.partitions[0]!
  )

const setup = Effect.gen(function* () {
  const { broker } = yield* startBroker()
  const client = yield* connect(broker.address.port)
  yield* createTopic(client, "t", 1)
  // offsets 0-1 at t=1000, 2 at t=5000, 3 at t=3000
  yield* produce(client, "t", 0, batch(["a", "b"], { timestamp: 1000 }))
  yield* produce(client, "t", 0, batch(["c"], { timestamp: 5000 }))
  yield* produce(client, "t", 0, batch(["d"], { timestamp: 3000 }))
  return client
})

describe("ListOffsets", () => {
  it.scopedLive("answers latest, earliest, max timestamp, earliest local and by timestamp", () =>
    Effect.gen(function* () {
      const client = yield* setup
      for (let v = 1; v <= 10; v++) {
        assert.strictEqual((yield* list(client, v, -1)).offset, 4n, `latest v${v}`)
        assert.strictEqual((yield* list(client, v, -2)).offset, 0n, `earliest v${v}`)
        const byTime = yield* list(client, v, 2000)
        assert.strictEqual(byTime.offset, 2n, `by timestamp v${v}`)
        assert.strictEqual(byTime.timestamp, 5000n)
        assert.strictEqual((yield* list(client, v, 6000)).offset, -1n)
        if (v >= 4) assert.strictEqual((yield* list(client, v, -1)).leaderEpoch, 0)
      }
      const max = yield* list(client, 7, -3)
      assert.strictEqual(max.offset, 2n)
      assert.strictEqual(max.timestamp, 5000n)
      assert.strictEqual((yield* list(client, 8, -4)).offset, 0n)
      assert.strictEqual((yield* list(client, 9, -5)).offset, -1n)
      assert.strictEqual((yield* list(client, 2, -1, { isolationLevel: 1 })).offset, 4n)
    })
  )

  it.scopedLive("answers v0 with old_style_offsets", () =>
    Effect.gen(function* () {
      const client = yield* setup
      assert.deepStrictEqual((yield* list(client, 0, -1)).oldStyleOffsets, [4n])
      assert.deepStrictEqual((yield* list(client, 0, -2)).oldStyleOffsets, [0n])
    })
  )

  it.scopedLive("reports unknown partitions and leader epoch mismatches", () =>
    Effect.gen(function* () {
      const client = yield* setup
      assert.strictEqual((yield* list(client, 5, -1, { partition: 9 })).errorCode, 3)
      assert.strictEqual((yield* list(client, 5, -1, { currentLeaderEpoch: 3 })).errorCode, 75)
      assert.strictEqual((yield* list(client, 5, -1, { currentLeaderEpoch: 0 })).errorCode, 0)
    })
  )

  it.scopedLive("follows DeleteRecords (-1 = high watermark) and rejects offsets above it", () =>
    Effect.gen(function* () {
      const client = yield* setup
      const del = (offset: number) =>
        Effect.map(
          client.send(
            21,
            1,
            DeleteRecords.makeDeleteRecordsRequest({
              timeoutMs: 1000,
              topics: [{ name: "t", partitions: [{ partitionIndex: 0, offset: BigInt(offset) }] }]
            })
          ),
          (r) => r.topics[0]!.partitions[0]!
        )
      assert.strictEqual((yield* del(9)).errorCode, 1)
      assert.strictEqual((yield* del(2)).lowWatermark, 2n)
      assert.strictEqual((yield* list(client, 5, -2)).offset, 2n)
      assert.strictEqual((yield* del(-1)).lowWatermark, 4n)
      assert.strictEqual((yield* list(client, 5, -2)).offset, 4n)
    })
  )
})

describe("OffsetForLeaderEpoch", () => {
  it.scopedLive("answers the end offset of epoch 0 (the log end) and checks current_leader_epoch", () =>
    Effect.gen(function* () {
      const client = yield* setup
      const ask = (version: number, leaderEpoch: number, currentLeaderEpoch = -1, partition = 0) =>
        Effect.map(
          client.send(
            23,
            version,
            OffsetForLeaderEpoch.makeOffsetForLeaderEpochRequest({
              replicaId: -1,
              topics: [{ topic: "t", partitions: [{ partition, currentLeaderEpoch, leaderEpoch }] }]
            })
          ),
          (r) => r.topics[0]!.partitions[0]!
        )
      for (let v = 0; v <= 4; v++) {
        const r = yield* ask(v, 0)
        assert.strictEqual(r.errorCode, 0, `v${v}`)
        assert.strictEqual(r.endOffset, 4n, `v${v}`)
        if (v >= 1) assert.strictEqual(r.leaderEpoch, 0)
      }
      assert.strictEqual((yield* ask(4, 0, 2)).errorCode, 75)
      assert.strictEqual((yield* ask(4, 0, -1, 7)).errorCode, 3)
    })
  )
})
