import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { ConfigResourceTypes, Kafka, logLevel } from "kafkajs"
import { startBroker } from "../broker/util.js"

const withAdmin = <A>(port: number, f: (admin: ReturnType<Kafka["admin"]>) => Promise<A>) =>
  Effect.acquireUseRelease(
    Effect.promise(async () => {
      const kafka = new Kafka({
        clientId: "eddy-compat",
        brokers: [`127.0.0.1:${port}`],
        logLevel: logLevel.NOTHING,
        retry: { retries: 2, initialRetryTime: 50 }
      })
      const admin = kafka.admin()
      await admin.connect()
      return admin
    }),
    (admin) => Effect.promise(() => f(admin)),
    (admin) => Effect.promise(() => admin.disconnect())
  )

describe("kafkajs admin against Eddy", () => {
  it.scopedLive("creates, describes, alters, grows and deletes topics", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker()
      yield* withAdmin(broker.address.port, async (admin) => {
        const created = await admin.createTopics({
          topics: [
            { topic: "orders", numPartitions: 3, configEntries: [{ name: "retention.ms", value: "60000" }] },
            { topic: "events" }
          ],
          waitForLeaders: true
        })
        assert.isTrue(created)
        assert.isFalse(await admin.createTopics({ topics: [{ topic: "orders" }] }))

        const topics = await admin.listTopics()
        assert.deepStrictEqual([...topics].sort(), ["events", "orders"])

        const meta = await admin.fetchTopicMetadata({ topics: ["orders"] })
        assert.strictEqual(meta.topics[0]!.name, "orders")
        assert.strictEqual(meta.topics[0]!.partitions.length, 3)
        assert.deepStrictEqual(
          meta.topics[0]!.partitions.map((p) => p.leader),
          [broker.nodeId, broker.nodeId, broker.nodeId]
        )

        const described = await admin.describeConfigs({
          resources: [
            { type: ConfigResourceTypes.TOPIC, name: "orders", configNames: ["retention.ms", "cleanup.policy"] }
          ],
          includeSynonyms: false
        })
        const entries = described.resources[0]!.configEntries
        assert.strictEqual(entries.find((e) => e.configName === "retention.ms")?.configValue, "60000")
        assert.strictEqual(entries.find((e) => e.configName === "cleanup.policy")?.configValue, "delete")

        await admin.alterConfigs({
          validateOnly: false,
          resources: [
            {
              type: ConfigResourceTypes.TOPIC,
              name: "orders",
              configEntries: [{ name: "cleanup.policy", value: "compact" }]
            }
          ]
        })
        const after = await admin.describeConfigs({
          resources: [
            { type: ConfigResourceTypes.TOPIC, name: "orders", configNames: ["cleanup.policy", "retention.ms"] }
          ],
          includeSynonyms: false
        })
        const afterEntries = after.resources[0]!.configEntries
        assert.strictEqual(afterEntries.find((e) => e.configName === "cleanup.policy")?.configValue, "compact")
        // AlterConfigs replaces the whole set: retention.ms is back to the broker default (7 days)
        assert.strictEqual(afterEntries.find((e) => e.configName === "retention.ms")?.configValue, "604800000")

        const brokerConfig = await admin.describeConfigs({
          resources: [
            { type: ConfigResourceTypes.BROKER, name: String(broker.nodeId), configNames: ["num.partitions"] }
          ],
          includeSynonyms: true
        })
        assert.strictEqual(brokerConfig.resources[0]!.configEntries[0]!.configValue, "1")

        await admin.createPartitions({ topicPartitions: [{ topic: "orders", count: 5 }] })
        const grown = await admin.fetchTopicMetadata({ topics: ["orders"] })
        assert.strictEqual(grown.topics[0]!.partitions.length, 5)
        await admin.createPartitions({ topicPartitions: [{ topic: "orders", count: 2 }] }).then(
          () => assert.fail("shrinking must fail"),
          (e: { type?: string }) => assert.strictEqual(e.type, "INVALID_PARTITIONS")
        )

        const cluster = await admin.describeCluster()
        assert.strictEqual(cluster.controller, broker.nodeId)
        assert.deepStrictEqual(
          cluster.brokers.map((b) => [b.nodeId, b.host, b.port]),
          [[broker.nodeId, "127.0.0.1", broker.address.port]]
        )
        assert.strictEqual(cluster.clusterId, broker.clusterId)

        await admin.deleteTopics({ topics: ["events"] })
        assert.deepStrictEqual(await admin.listTopics(), ["orders"])
      })
    })
  )
})
