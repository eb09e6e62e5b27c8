import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Admin from "../../src/client/Admin.js"
import * as ClientError from "../../src/client/ClientError.js"
import * as Producer from "../../src/client/Producer.js"
import { startEddy } from "./util.js"

describe("Admin", () => {
  it.scopedLive("creates, lists, describes, grows and deletes topics", () =>
    Effect.gen(function* () {
      const { bootstrap, broker } = yield* startEddy()
      const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
      yield* admin.createTopics([
        { name: "a", numPartitions: 3, configs: { "cleanup.policy": "compact" } },
        { name: "b", numPartitions: 1 }
      ])
      const exists = yield* Effect.flip(admin.createTopics([{ name: "a", numPartitions: 1 }]))
      assert.strictEqual(exists._tag, "KafkaError")
      if (exists._tag === "KafkaError") {
        assert.strictEqual(exists.errorName, "TOPIC_ALREADY_EXISTS")
        assert.strictEqual(exists.topic, "a")
        assert.isFalse(exists.retriable)
      }
      assert.includeMembers(yield* admin.listTopics(), ["a", "b"])
      const [a] = yield* admin.describeTopics(["a"])
      assert.strictEqual(a!.partitions.length, 3)
      for (const p of a!.partitions) {
        assert.strictEqual(p.leader, broker.nodeId)
        assert.deepStrictEqual(p.isr, [broker.nodeId])
      }
      assert.notStrictEqual(a!.topicId, "0".repeat(32))
      yield* admin.createPartitions("b", 4)
      const [b] = yield* admin.describeTopics(["b"])
      assert.strictEqual(b!.partitions.length, 4)
      yield* admin.deleteTopics(["b"])
      assert.notInclude(yield* admin.listTopics(), "b")
      const missing = yield* Effect.flip(admin.describeTopics(["b"]))
      assert.strictEqual(missing._tag === "KafkaError" && missing.errorName, "UNKNOWN_TOPIC_OR_PARTITION")
    })
  )

  it.scopedLive("describes and alters configs", () =>
    Effect.gen(function* () {
      const { bootstrap, broker } = yield* startEddy()
      const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
      yield* admin.createTopics([{ name: "c", numPartitions: 1, configs: { "retention.ms": "12345" } }])
      const [before] = yield* admin.describeConfigs([{ type: "topic", name: "c" }])
      const retention = before!.configs.find((c) => c.name === "retention.ms")!
      assert.strictEqual(retention.value, "12345")
      assert.isFalse(retention.isDefault)
      yield* admin.alterConfigs({ type: "topic", name: "c" }, [
        { name: "retention.ms", op: "set", value: "999" },
        { name: "cleanup.policy", op: "set", value: "compact" }
      ])
      const [after] = yield* admin.describeConfigs([
        { type: "topic", name: "c", keys: ["retention.ms", "cleanup.policy"] }
      ])
      assert.deepStrictEqual(after!.configs.map((c) => [c.name, c.value]).sort(), [
        ["cleanup.policy", "compact"],
        ["retention.ms", "999"]
      ])
      yield* admin.alterConfigs({ type: "topic", name: "c" }, [{ name: "retention.ms", op: "delete" }])
      const [reset] = yield* admin.describeConfigs([{ type: "topic", name: "c", keys: ["retention.ms"] }])
      assert.isTrue(reset!.configs[0]!.isDefault)
      const [brokerConfigs] = yield* admin.describeConfigs([{ type: "broker", name: String(broker.nodeId) }])
      assert.isAbove(brokerConfigs!.configs.length, 0)
    })
  )

  it.scopedLive("lists offsets (earliest, latest, by timestamp), deletes records, describes the cluster", () =>
    Effect.gen(function* () {
      const { bootstrap, broker } = yield* startEddy()
      const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
      yield* admin.createTopics([{ name: "o", numPartitions: 2 }])
      const producer = yield* Producer.make({ "bootstrap.servers": bootstrap })
      yield* producer.sendBatch(
        "o",
        Array.from({ length: 10 }, (_, i) => ({ value: Buffer.from(`v${i}`), partition: 0, timestamp: 1000 + i * 10 }))
      )
      const offsets = yield* admin.listOffsets([
        { topic: "o", partition: 0, spec: "earliest" },
        { topic: "o", partition: 0, spec: "latest" },
        { topic: "o", partition: 1, spec: "latest" },
        { topic: "o", partition: 0, spec: { timestamp: 1035 } },
        { topic: "o", partition: 0, spec: { timestamp: 999_999 } }
      ])
      assert.deepStrictEqual(
        offsets.map((o) => o.offset),
        [0, 10, 0, 4, -1]
      )
      assert.strictEqual(offsets[3]!.timestamp, 1040)
      const deleted = yield* admin.deleteRecords([{ topic: "o", partition: 0, offset: 6 }])
      assert.deepStrictEqual(deleted, [{ topic: "o", partition: 0, lowWatermark: 6 }])
      const [earliest] = yield* admin.listOffsets([{ topic: "o", partition: 0, spec: "earliest" }])
      assert.strictEqual(earliest!.offset, 6)
      const cluster = yield* admin.describeCluster()
      assert.strictEqual(cluster.clusterId, broker.clusterId)
      assert.deepStrictEqual(
        cluster.brokers.map((b) => [b.nodeId, b.port]),
        [[broker.nodeId, broker.advertised.port]]
      )
    })
  )

  it.scopedLive("fails at once where the broker's error is final for the request (an unknown topic)", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy()
      // a minute of retries would time the test out: every call below must fail on the first answer
      const admin = yield* Admin.make({ "bootstrap.servers": bootstrap, "default.api.timeout.ms": 60000 })
      const name = (e: unknown) => (e instanceof ClientError.KafkaError ? e.errorName : String(e))
      const calls = [
        admin.deleteTopics(["nope"]),
        admin.createPartitions("nope", 3),
        admin.alterConfigs({ type: "topic", name: "nope" }, [{ name: "retention.ms", op: "set", value: "1" }]),
        admin.describeConfigs([{ type: "topic", name: "nope" }]),
        admin.describeTopics(["nope"]),
        admin.listOffsets([{ topic: "nope", partition: 0, spec: "latest" }]),
        admin.deleteRecords([{ topic: "nope", partition: 0, offset: 0 }])
      ]
      for (const call of calls) {
        assert.strictEqual(name(yield* Effect.flip(call)), "UNKNOWN_TOPIC_OR_PARTITION")
      }
      yield* admin.createTopics([{ name: "there", numPartitions: 1 }])
      const invalid = yield* Effect.flip(admin.createPartitions("there", 1))
      assert.strictEqual(name(invalid), "INVALID_PARTITIONS")
      assert.isTrue(Admin.isRetriedByAdmin(ClientError.fromCode(41)))
      assert.isFalse(Admin.isRetriedByAdmin(ClientError.fromCode(3)))
    }).pipe(Effect.timeout("20 seconds"))
  )
})
