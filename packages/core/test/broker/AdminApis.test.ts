import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Uuid from "../../src/broker/internal/uuid.js"
import * as AlterConfigs from "../../src/protocol/generated/AlterConfigs.js"
import * as CreatePartitions from "../../src/protocol/generated/CreatePartitions.js"
import * as CreateTopics from "../../src/protocol/generated/CreateTopics.js"
import * as DeleteTopics from "../../src/protocol/generated/DeleteTopics.js"
import * as DescribeCluster from "../../src/protocol/generated/DescribeCluster.js"
import * as DescribeConfigs from "../../src/protocol/generated/DescribeConfigs.js"
import * as DescribeLogDirs from "../../src/protocol/generated/DescribeLogDirs.js"
import * as IncrementalAlterConfigs from "../../src/protocol/generated/IncrementalAlterConfigs.js"
import * as Metadata from "../../src/protocol/generated/Metadata.js"
import { connect, type RawClient, startBroker } from "./util.js"

const topic = (name: string, numPartitions = 1, replicationFactor = 1, configs: Array<[string, string | null]> = []) =>
  CreateTopics.makeCreateTopicsRequestCreatableTopic({
    name,
    numPartitions,
    replicationFactor,
    configs: configs.map(([name, value]) => ({ name, value }))
  })

const create = (
  client: RawClient,
  version: number,
  topics: Array<CreateTopics.CreateTopicsRequestCreatableTopic>,
  validateOnly = false
) =>
  client.send(19, version, CreateTopics.makeCreateTopicsRequest({ topics, validateOnly: version >= 1 && validateOnly }))

const describeTopic = (client: RawClient, name: string, keys: Array<string> | null, version = 4) =>
  client
    .send(
      32,
      version,
      DescribeConfigs.makeDescribeConfigsRequest({
        resources: [{ resourceType: 2, resourceName: name, configurationKeys: keys }],
        includeSynonyms: version >= 1,
        includeDocumentation: version >= 3
      })
    )
    .pipe(Effect.map((r) => r.results[0]!))

const partitionCount = (client: RawClient, name: string) =>
  client
    .send(3, 9, Metadata.makeMetadataRequest({ topics: [{ name, topicId: Uuid.ZERO }], allowAutoTopicCreation: false }))
    .pipe(Effect.map((r) => r.topics[0]!.partitions.length))

describe("CreateTopics", () => {
  it.scopedLive("creates topics in every version with per-topic errors", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker()
      const client = yield* connect(broker.address.port)
      for (let v = 0; v <= 7; v++) {
        const res = yield* create(client, v, [
          topic(`t${v}`, 2),
          topic(`t${v}`, 2),
          topic(`bad name ${v}`),
          topic(`zero${v}`, 0),
          topic(`rf${v}`, 1, 3),
          topic(`cfg${v}`, 1, 1, [["retention.ms", "soon"]])
        ])
        const codes = Object.fromEntries(res.topics.map((t) => [t.name, t.errorCode]))
        assert.deepStrictEqual(
          codes,
          {
            [`t${v}`]: 42,
            [`bad name ${v}`]: 17,
            [`zero${v}`]: 37,
            [`rf${v}`]: 38,
            [`cfg${v}`]: 40
          },
          `v${v}`
        )
        const ok = yield* create(client, v, [topic(`ok${v}`, 2, 1, [["cleanup.policy", "compact"]])])
        assert.strictEqual(ok.topics[0]!.errorCode, 0)
        if (v >= 5) {
          assert.strictEqual(ok.topics[0]!.numPartitions, 2)
          assert.strictEqual(ok.topics[0]!.replicationFactor, 1)
          const policy = ok.topics[0]!.configs!.find((c) => c.name === "cleanup.policy")!
          assert.strictEqual(policy.value, "compact")
          assert.strictEqual(policy.configSource, 1)
        }
        if (v >= 7) assert.isFalse(Uuid.isZero(ok.topics[0]!.topicId))
        const again = yield* create(client, v, [topic(`ok${v}`, 2)])
        assert.strictEqual(again.topics[0]!.errorCode, 36)
        if (v >= 1) assert.include(again.topics[0]!.errorMessage!, "already exists")
      }
    })
  )

  it.scopedLive("uses broker defaults for -1 (v4+) and honours validate_only", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker({ extra: { "num.partitions": "4" } })
      const client = yield* connect(broker.address.port)
      const validated = yield* create(client, 5, [topic("dry", -1, -1)], true)
      assert.strictEqual(validated.topics[0]!.errorCode, 0)
      assert.strictEqual(validated.topics[0]!.numPartitions, 4)
      assert.strictEqual(yield* partitionCount(client, "dry"), 0)
      const real = yield* create(client, 5, [topic("wet", -1, -1)])
      assert.strictEqual(real.topics[0]!.numPartitions, 4)
      assert.strictEqual(yield* partitionCount(client, "wet"), 4)
      const assigned = yield* create(client, 5, [
        CreateTopics.makeCreateTopicsRequestCreatableTopic({
          name: "manual",
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [
            { partitionIndex: 0, brokerIds: [1] },
            { partitionIndex: 1, brokerIds: [1] }
          ]
        })
      ])
      assert.strictEqual(assigned.topics[0]!.numPartitions, 2)
    })
  )
})

describe("DeleteTopics", () => {
  it.scopedLive("deletes by name (v0-5) and by id (v6)", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker()
      const client = yield* connect(broker.address.port)
      for (let v = 0; v <= 6; v++) {
        const created = yield* create(client, 7, [topic(`d${v}`, 1)])
        const topicId = created.topics[0]!.topicId
        const req =
          v >= 6
            ? DeleteTopics.makeDeleteTopicsRequest({
                topics: [
                  { name: null, topicId },
                  { name: "missing", topicId: Uuid.ZERO },
                  { name: null, topicId: Uuid.fromString(Uuid.random())! }
                ]
              })
            : DeleteTopics.makeDeleteTopicsRequest({ topicNames: [`d${v}`, "missing"] })
        const res = yield* client.send(20, v, req)
        assert.strictEqual(res.responses[0]!.errorCode, 0, `v${v}`)
        assert.strictEqual(res.responses[0]!.name, `d${v}`)
        assert.strictEqual(res.responses[1]!.errorCode, 3)
        if (v >= 6) assert.strictEqual(res.responses[2]!.errorCode, 100)
        assert.strictEqual(yield* partitionCount(client, `d${v}`), 0)
      }
    })
  )
})

describe("CreatePartitions", () => {
  it.scopedLive("grows topics and refuses to shrink", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker()
      const client = yield* connect(broker.address.port)
      yield* create(client, 4, [topic("grow", 2)])
      for (let v = 0; v <= 3; v++) {
        const target = 3 + v
        const dry = yield* client.send(
          37,
          v,
          CreatePartitions.makeCreatePartitionsRequest({
            topics: [{ name: "grow", count: target, assignments: null }],
            validateOnly: true
          })
        )
        assert.strictEqual(dry.results[0]!.errorCode, 0)
        assert.strictEqual(yield* partitionCount(client, "grow"), target - 1)
        const res = yield* client.send(
          37,
          v,
          CreatePartitions.makeCreatePartitionsRequest({
            topics: [
              { name: "grow", count: target, assignments: null },
              { name: "missing", count: 5, assignments: null }
            ]
          })
        )
        assert.deepStrictEqual(
          res.results.map((r) => r.errorCode),
          [0, 3]
        )
        assert.strictEqual(yield* partitionCount(client, "grow"), target)
      }
      const shrink = yield* client.send(
        37,
        3,
        CreatePartitions.makeCreatePartitionsRequest({ topics: [{ name: "grow", count: 1, assignments: null }] })
      )
      assert.strictEqual(shrink.results[0]!.errorCode, 37)
      const badAssignment = yield* client.send(
        37,
        3,
        CreatePartitions.makeCreatePartitionsRequest({
          topics: [{ name: "grow", count: 7, assignments: [{ brokerIds: [9] }] }]
        })
      )
      assert.strictEqual(badAssignment.results[0]!.errorCode, 39)
    })
  )
})

describe("DescribeConfigs / AlterConfigs / IncrementalAlterConfigs", () => {
  it.scopedLive("describes topic configs with sources, synonyms and types in every version", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker({ extra: { "log.retention.hours": "24" } })
      const client = yield* connect(broker.address.port)
      yield* create(client, 4, [topic("cfg", 1, 1, [["max.message.bytes", "2000"]])])
      for (let v = 0; v <= 4; v++) {
        const res = yield* describeTopic(client, "cfg", null, v)
        assert.strictEqual(res.errorCode, 0)
        const byName = new Map(res.configs.map((c) => [c.name, c]))
        assert.strictEqual(byName.get("max.message.bytes")!.value, "2000")
        assert.strictEqual(byName.get("retention.ms")!.value, String(24 * 3_600_000))
        assert.strictEqual(byName.get("cleanup.policy")!.value, "delete")
        if (v === 0) assert.isTrue(byName.get("cleanup.policy")!.isDefault)
        if (v >= 1) {
          assert.strictEqual(byName.get("max.message.bytes")!.configSource, 1)
          assert.strictEqual(byName.get("retention.ms")!.configSource, 4)
          assert.strictEqual(byName.get("cleanup.policy")!.configSource, 5)
          assert.deepStrictEqual(
            byName.get("retention.ms")!.synonyms.map((s) => [s.name, s.value, s.source]),
            [
              ["log.retention.hours", "24", 4],
              ["log.retention.hours", "168", 5]
            ]
          )
        }
        if (v >= 3) {
          assert.strictEqual(byName.get("retention.ms")!.configType, 5)
          assert.strictEqual(byName.get("cleanup.policy")!.configType, 7)
          assert.strictEqual(byName.get("max.message.bytes")!.configType, 3)
          assert.isString(byName.get("retention.ms")!.documentation)
        }
      }
      const some = yield* describeTopic(client, "cfg", ["segment.bytes"])
      assert.deepStrictEqual(
        some.configs.map((c) => c.name),
        ["segment.bytes"]
      )
      const missing = yield* describeTopic(client, "nope", null)
      assert.strictEqual(missing.errorCode, 3)
    })
  )

  it.scopedLive("describes the broker's own configs", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker({ extra: { "num.partitions": "6" } })
      const client = yield* connect(broker.address.port)
      const res = yield* client.send(
        32,
        4,
        DescribeConfigs.makeDescribeConfigsRequest({
          resources: [
            { resourceType: 4, resourceName: "1", configurationKeys: ["num.partitions", "log.segment.bytes"] },
            { resourceType: 4, resourceName: "9", configurationKeys: null }
          ],
          includeSynonyms: true
        })
      )
      const configs = new Map(res.results[0]!.configs.map((c) => [c.name, c]))
      assert.strictEqual(configs.get("num.partitions")!.value, "6")
      assert.strictEqual(configs.get("num.partitions")!.configSource, 4)
      assert.strictEqual(configs.get("log.segment.bytes")!.value, "1073741824")
      assert.strictEqual(configs.get("log.segment.bytes")!.configSource, 5)
      assert.strictEqual(res.results[1]!.errorCode, 42)
    })
  )

  it.scopedLive("AlterConfigs replaces a topic's overrides; invalid values are refused", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker()
      const client = yield* connect(broker.address.port)
      yield* create(client, 4, [topic("alter", 1, 1, [["retention.ms", "1000"]])])
      for (let v = 0; v <= 2; v++) {
        const bad = yield* client.send(
          33,
          v,
          AlterConfigs.makeAlterConfigsRequest({
            resources: [{ resourceType: 2, resourceName: "alter", configs: [{ name: "segment.bytes", value: "x" }] }]
          })
        )
        assert.strictEqual(bad.responses[0]!.errorCode, 40)
        const dry = yield* client.send(
          33,
          v,
          AlterConfigs.makeAlterConfigsRequest({
            resources: [{ resourceType: 2, resourceName: "alter", configs: [{ name: "segment.ms", value: "5000" }] }],
            validateOnly: true
          })
        )
        assert.strictEqual(dry.responses[0]!.errorCode, 0)
      }
      const ok = yield* client.send(
        33,
        2,
        AlterConfigs.makeAlterConfigsRequest({
          resources: [
            { resourceType: 2, resourceName: "alter", configs: [{ name: "segment.ms", value: "5000" }] },
            { resourceType: 2, resourceName: "missing", configs: [] },
            { resourceType: 4, resourceName: "1", configs: [{ name: "num.partitions", value: "3" }] }
          ]
        })
      )
      assert.deepStrictEqual(
        ok.responses.map((r) => r.errorCode),
        [0, 3, 42]
      )
      const configs = new Map(
        (yield* describeTopic(client, "alter", ["segment.ms", "retention.ms"])).configs.map((c) => [c.name, c])
      )
      assert.strictEqual(configs.get("segment.ms")!.value, "5000")
      assert.strictEqual(configs.get("retention.ms")!.configSource, 5)
    })
  )

  it.scopedLive("IncrementalAlterConfigs applies SET, DELETE, APPEND and SUBTRACT", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker()
      const client = yield* connect(broker.address.port)
      yield* create(client, 4, [topic("inc", 1, 1, [["retention.ms", "1000"]])])
      const alter = (version: number, configs: Array<[string, number, string | null]>, validateOnly = false) =>
        client
          .send(
            44,
            version,
            IncrementalAlterConfigs.makeIncrementalAlterConfigsRequest({
              resources: [
                {
                  resourceType: 2,
                  resourceName: "inc",
                  configs: configs.map(([name, configOperation, value]) => ({ name, configOperation, value }))
                }
              ],
              validateOnly
            })
          )
          .pipe(Effect.map((r) => r.responses[0]!.errorCode))
      const value = (name: string) =>
        describeTopic(client, "inc", [name]).pipe(Effect.map((r) => [r.configs[0]!.value, r.configs[0]!.configSource]))
      assert.strictEqual(
        yield* alter(0, [
          ["segment.ms", 0, "7000"],
          ["retention.ms", 1, null]
        ]),
        0
      )
      assert.deepStrictEqual(yield* value("segment.ms"), ["7000", 1])
      assert.deepStrictEqual(yield* value("retention.ms"), ["604800000", 5])
      assert.strictEqual(yield* alter(1, [["cleanup.policy", 2, "compact"]]), 0)
      assert.deepStrictEqual(yield* value("cleanup.policy"), ["delete,compact", 1])
      assert.strictEqual(yield* alter(1, [["cleanup.policy", 3, "delete"]]), 0)
      assert.deepStrictEqual(yield* value("cleanup.policy"), ["compact", 1])
      assert.strictEqual(yield* alter(1, [["segment.ms", 2, "1"]]), 40, "APPEND on a non-list")
      assert.strictEqual(yield* alter(1, [["segment.ms", 0, "nope"]]), 40)
      assert.strictEqual(yield* alter(1, [["unknown.key", 0, "1"]]), 40)
      assert.strictEqual(
        yield* alter(1, [
          ["segment.ms", 0, "1"],
          ["segment.ms", 1, null]
        ]),
        42
      )
      assert.strictEqual(yield* alter(1, [["segment.ms", 9, "1"]]), 42)
      assert.strictEqual(yield* alter(1, [["segment.ms", 0, "9000"]], true), 0)
      assert.deepStrictEqual(yield* value("segment.ms"), ["7000", 1])
    })
  )
})

describe("DescribeCluster and DescribeLogDirs", () => {
  it.scopedLive("describes the single-node cluster", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker()
      const client = yield* connect(broker.address.port)
      for (let v = 0; v <= 1; v++) {
        const res = yield* client.send(60, v, DescribeCluster.makeDescribeClusterRequest())
        assert.strictEqual(res.errorCode, 0)
        assert.strictEqual(res.clusterId, broker.clusterId)
        assert.strictEqual(res.controllerId, 1)
        assert.deepStrictEqual(
          res.brokers.map((b) => [b.brokerId, b.host, b.port]),
          [[1, "127.0.0.1", broker.address.port]]
        )
      }
      const wrong = yield* client.send(60, 1, DescribeCluster.makeDescribeClusterRequest({ endpointType: 2 }))
      assert.strictEqual(wrong.errorCode, 114)
    })
  )

  it.scopedLive("lists partitions per log dir", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker()
      const client = yield* connect(broker.address.port)
      yield* create(client, 4, [topic("logs", 2), topic("other", 1)])
      for (let v = 0; v <= 4; v++) {
        const all = yield* client.send(35, v, DescribeLogDirs.makeDescribeLogDirsRequest({ topics: null }))
        const topics = all.results.flatMap((d) =>
          d.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)])
        )
        assert.deepStrictEqual(
          topics.sort(),
          [
            ["logs", [0, 1]],
            ["other", [0]]
          ],
          `v${v}`
        )
      }
      const some = yield* client.send(
        35,
        4,
        DescribeLogDirs.makeDescribeLogDirsRequest({ topics: [{ topic: "logs", partitions: [1] }] })
      )
      assert.deepStrictEqual(
        some.results.flatMap((d) => d.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)])),
        [["logs", [1]]]
      )
    })
  )
})
