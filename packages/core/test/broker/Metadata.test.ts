import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Uuid from "../../src/broker/internal/uuid.js"
import * as CreateTopics from "../../src/protocol/generated/CreateTopics.js"
import * as Metadata from "../../src/protocol/generated/Metadata.js"
import { connect, startBroker } from "./util.js"

const request = (topics: Array<string> | null, partial: Partial<Metadata.MetadataRequest> = {}) =>
  Metadata.makeMetadataRequest({
    topics: topics === null ? null : topics.map((name) => ({ name, topicId: Uuid.ZERO })),
    ...partial
  })

const createTopic = (name: string, numPartitions: number) =>
  CreateTopics.makeCreateTopicsRequest({
    topics: [CreateTopics.makeCreateTopicsRequestCreatableTopic({ name, numPartitions, replicationFactor: 1 })]
  })

describe("Metadata", () => {
  it.scopedLive("lists brokers, cluster id, controller and topics in every version", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker()
      const client = yield* connect(broker.address.port)
      yield* client.send(19, 4, createTopic("alpha", 2))
      for (let v = 0; v <= 12; v++) {
        const res = yield* client.send(3, v, request(v === 0 ? [] : null))
        assert.deepStrictEqual(
          res.brokers.map((b) => [b.nodeId, b.host, b.port]),
          [[1, "127.0.0.1", broker.address.port]],
          `v${v}`
        )
        if (v >= 1) assert.strictEqual(res.controllerId, 1)
        if (v >= 2) assert.strictEqual(res.clusterId, broker.clusterId)
        assert.strictEqual(res.topics.length, 1, `v${v}`)
        const t = res.topics[0]!
        assert.strictEqual(t.name, "alpha")
        assert.strictEqual(t.errorCode, 0)
        assert.deepStrictEqual(
          t.partitions.map((p) => [p.partitionIndex, p.leaderId, p.replicaNodes, p.isrNodes]),
          [
            [0, 1, [1], [1]],
            [1, 1, [1], [1]]
          ]
        )
        if (v >= 7) assert.strictEqual(t.partitions[0]!.leaderEpoch, 0)
        if (v >= 10) assert.isFalse(Uuid.isZero(t.topicId))
      }
    })
  )

  it.scopedLive("distinguishes null (all) from empty (none) topics from v1", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker()
      const client = yield* connect(broker.address.port)
      yield* client.send(19, 4, createTopic("a", 1))
      yield* client.send(19, 4, createTopic("b", 1))
      const all = yield* client.send(3, 1, request(null))
      assert.deepStrictEqual(all.topics.map((t) => t.name).sort(), ["a", "b"])
      const none = yield* client.send(3, 1, request([]))
      assert.deepStrictEqual(none.topics, [])
      const v0all = yield* client.send(3, 0, request([]))
      assert.strictEqual(v0all.topics.length, 2)
    })
  )

  it.scopedLive("auto-creates unknown topics unless disabled, and rejects invalid names", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker({ extra: { "num.partitions": "3" } })
      const client = yield* connect(broker.address.port)
      const created = yield* client.send(3, 9, request(["fresh"], { allowAutoTopicCreation: true }))
      assert.strictEqual(created.topics[0]!.errorCode, 0)
      assert.strictEqual(created.topics[0]!.partitions.length, 3)
      const refused = yield* client.send(3, 9, request(["other"], { allowAutoTopicCreation: false }))
      assert.strictEqual(refused.topics[0]!.errorCode, 3)
      const invalid = yield* client.send(3, 9, request(["bad/name"], { allowAutoTopicCreation: true }))
      assert.strictEqual(invalid.topics[0]!.errorCode, 17)
      const v3 = yield* client.send(3, 3, request(["old-client"]))
      assert.strictEqual(v3.topics[0]!.errorCode, 0, "v0-3 always allow auto-creation")
      const internal = yield* client.send(3, 9, request(["__consumer_offsets"], { allowAutoTopicCreation: true }))
      assert.isTrue(internal.topics[0]!.isInternal)
      assert.strictEqual(internal.topics[0]!.partitions.length, 50)
    })
  )

  it.scopedLive("answers UNKNOWN_TOPIC_OR_PARTITION when auto.create.topics.enable=false", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker({ extra: { "auto.create.topics.enable": "false" } })
      const client = yield* connect(broker.address.port)
      const res = yield* client.send(3, 12, request(["nope"], { allowAutoTopicCreation: true }))
      assert.strictEqual(res.topics[0]!.errorCode, 3)
      assert.strictEqual(res.topics[0]!.partitions.length, 0)
    })
  )

  it.scopedLive("looks topics up by id in v12", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker()
      const client = yield* connect(broker.address.port)
      const created = yield* client.send(19, 7, createTopic("by-id", 1))
      const topicId = created.topics[0]!.topicId
      const res = yield* client.send(
        3,
        12,
        Metadata.makeMetadataRequest({ topics: [{ name: null, topicId }], allowAutoTopicCreation: false })
      )
      assert.strictEqual(res.topics[0]!.name, "by-id")
      assert.deepStrictEqual(res.topics[0]!.topicId, topicId)
      const unknown = yield* client.send(
        3,
        12,
        Metadata.makeMetadataRequest({ topics: [{ name: null, topicId: Uuid.fromString(Uuid.random())! }] })
      )
      assert.strictEqual(unknown.topics[0]!.errorCode, 100)
    })
  )

  it.scopedLive("reports authorized operations only when asked (v8+)", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker()
      const client = yield* connect(broker.address.port)
      yield* client.send(19, 4, createTopic("ops", 1))
      const without = yield* client.send(3, 8, request(["ops"]))
      assert.strictEqual(without.topics[0]!.topicAuthorizedOperations, -2147483648)
      const withOps = yield* client.send(
        3,
        8,
        request(["ops"], { includeTopicAuthorizedOperations: true, includeClusterAuthorizedOperations: true })
      )
      assert.notStrictEqual(withOps.topics[0]!.topicAuthorizedOperations, -2147483648)
      assert.notStrictEqual(withOps.clusterAuthorizedOperations, -2147483648)
    })
  )
})
