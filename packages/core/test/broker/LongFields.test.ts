/**
 * Request fields that used to reach an encoder unchecked: a Metadata v10/v11 topic without a name (topic
 * id lookups need v12), and names or config keys and values as long as a Kafka string allows, echoed in
 * error messages. Each is answered with Kafka's error code on a connection that stays usable.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as AlterConfigs from "../../src/protocol/generated/AlterConfigs.js"
import * as ApiVersions from "../../src/protocol/generated/ApiVersions.js"
import * as CreatePartitions from "../../src/protocol/generated/CreatePartitions.js"
import * as CreateTopics from "../../src/protocol/generated/CreateTopics.js"
import * as DeleteTopics from "../../src/protocol/generated/DeleteTopics.js"
import * as DescribeConfigs from "../../src/protocol/generated/DescribeConfigs.js"
import { ErrorCode } from "../../src/protocol/generated/ErrorCode.js"
import * as IncrementalAlterConfigs from "../../src/protocol/generated/IncrementalAlterConfigs.js"
import * as JoinGroup from "../../src/protocol/generated/JoinGroup.js"
import * as ListGroups from "../../src/protocol/generated/ListGroups.js"
import * as Metadata from "../../src/protocol/generated/Metadata.js"
import { createTopic } from "./produceFetch.js"
import { connect, type RawClient, startBroker } from "./util.js"

/** As long as a non-flexible (int16 length) string can be, with room for the rest of a message. */
const LONG = "a".repeat(32_700)
const TOPIC = 2
const BROKER = 4

/** Answers within 5 s (a closed connection never answers) and the connection still serves ApiVersions. */
const usable = (client: RawClient) =>
  Effect.gen(function* () {
    const res = yield* client.send(18, 3, ApiVersions.makeApiVersionsRequest({}))
    assert.strictEqual(res.errorCode, 0)
  })

const answered = <A>(effect: Effect.Effect<A>) =>
  effect.pipe(Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error("no answer: closed?") }))

describe("request fields that reach an encoder", () => {
  it.scopedLive(
    "Metadata v10/v11 by topic id or without a name: INVALID_REQUEST; v12 by unknown id: UNKNOWN_TOPIC_ID",
    () =>
      Effect.gen(function* () {
        const { broker } = yield* startBroker()
        const client = yield* connect(broker.address.port)
        yield* createTopic(client, "known")
        const id = new Uint8Array(16).fill(7)
        for (const version of [10, 11]) {
          for (const topic of [
            { name: null, topicId: id },
            { name: null, topicId: new Uint8Array(16) },
            { name: "known", topicId: id }
          ]) {
            const res = yield* answered(
              client.send(
                3,
                version,
                Metadata.makeMetadataRequest({ topics: [topic, { name: "known", topicId: new Uint8Array(16) }] })
              )
            )
            assert.deepStrictEqual(
              res.topics.map((t) => [t.name, t.errorCode]),
              [
                [topic.name ?? "", ErrorCode.INVALID_REQUEST],
                ["known", ErrorCode.INVALID_REQUEST]
              ],
              `v${version} ${topic.name}`
            )
          }
          yield* usable(client)
        }
        const res = yield* client.send(3, 12, Metadata.makeMetadataRequest({ topics: [{ name: null, topicId: id }] }))
        assert.deepStrictEqual(
          res.topics.map((t) => [t.name, t.errorCode]),
          [[null, ErrorCode.UNKNOWN_TOPIC_ID]]
        )
      })
  )

  it.scopedLive("names, config keys and values of 32,700 characters are answered with error codes", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker()
      const client = yield* connect(broker.address.port)
      yield* createTopic(client, "t")
      for (const version of [4, 7]) {
        const created = yield* answered(
          client.send(
            19,
            version,
            CreateTopics.makeCreateTopicsRequest({
              timeoutMs: 5000,
              topics: [
                CreateTopics.makeCreateTopicsRequestCreatableTopic({
                  name: LONG,
                  numPartitions: 1,
                  replicationFactor: 1
                }),
                CreateTopics.makeCreateTopicsRequestCreatableTopic({
                  name: "cfg-name",
                  numPartitions: 1,
                  replicationFactor: 1,
                  configs: [{ name: LONG, value: "1" }]
                }),
                CreateTopics.makeCreateTopicsRequestCreatableTopic({
                  name: "cfg-value",
                  numPartitions: 1,
                  replicationFactor: 1,
                  configs: [{ name: "cleanup.policy", value: LONG }]
                })
              ]
            })
          )
        )
        assert.deepStrictEqual(
          created.topics.map((t) => t.errorCode),
          [ErrorCode.INVALID_TOPIC_EXCEPTION, ErrorCode.INVALID_CONFIG, ErrorCode.INVALID_CONFIG],
          `CreateTopics v${version}`
        )
        assert.strictEqual(created.topics[0]!.name, LONG)
      }
      for (const version of [4, 5]) {
        const deleted = yield* answered(
          client.send(20, version, DeleteTopics.makeDeleteTopicsRequest({ topicNames: [LONG], timeoutMs: 5000 }))
        )
        assert.strictEqual(
          deleted.responses[0]!.errorCode,
          ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          `DeleteTopics v${version}`
        )
      }
      for (const version of [1, 2]) {
        const res = yield* answered(
          client.send(
            37,
            version,
            CreatePartitions.makeCreatePartitionsRequest({
              timeoutMs: 5000,
              topics: [{ name: LONG, count: 2, assignments: null }]
            })
          )
        )
        assert.notStrictEqual(res.results[0]!.errorCode, 0, `CreatePartitions v${version}`)
      }
      for (const version of [1, 4]) {
        const res = yield* answered(
          client.send(
            32,
            version,
            DescribeConfigs.makeDescribeConfigsRequest({
              resources: [
                { resourceType: TOPIC, resourceName: LONG, configurationKeys: null },
                { resourceType: BROKER, resourceName: LONG, configurationKeys: null },
                { resourceType: TOPIC, resourceName: "t", configurationKeys: [LONG] }
              ]
            })
          )
        )
        assert.deepStrictEqual(
          res.results.map((r) => r.errorCode),
          [ErrorCode.INVALID_TOPIC_EXCEPTION, ErrorCode.INVALID_REQUEST, 0],
          `DescribeConfigs v${version}`
        )
      }
      for (const version of [1, 2]) {
        const res = yield* answered(
          client.send(
            33,
            version,
            AlterConfigs.makeAlterConfigsRequest({
              resources: [
                { resourceType: TOPIC, resourceName: LONG, configs: [] },
                { resourceType: BROKER, resourceName: LONG, configs: [] },
                { resourceType: TOPIC, resourceName: "t", configs: [{ name: LONG, value: "1" }] },
                { resourceType: TOPIC, resourceName: "t", configs: [{ name: "retention.ms", value: LONG }] }
              ]
            })
          )
        )
        assert.deepStrictEqual(
          res.responses.map((r) => r.errorCode),
          [
            ErrorCode.INVALID_TOPIC_EXCEPTION,
            ErrorCode.INVALID_REQUEST,
            ErrorCode.INVALID_CONFIG,
            ErrorCode.INVALID_CONFIG
          ],
          `AlterConfigs v${version}`
        )
      }
      for (const version of [0, 1]) {
        const res = yield* answered(
          client.send(
            44,
            version,
            IncrementalAlterConfigs.makeIncrementalAlterConfigsRequest({
              resources: [
                { resourceType: TOPIC, resourceName: LONG, configs: [] },
                { resourceType: TOPIC, resourceName: "t", configs: [{ name: LONG, configOperation: 9, value: "1" }] },
                { resourceType: TOPIC, resourceName: "t", configs: [{ name: LONG, configOperation: 0, value: "1" }] },
                {
                  resourceType: TOPIC,
                  resourceName: "t",
                  configs: [{ name: "retention.ms", configOperation: 0, value: LONG }]
                }
              ]
            })
          )
        )
        assert.deepStrictEqual(
          res.responses.map((r) => r.errorCode),
          [
            ErrorCode.INVALID_TOPIC_EXCEPTION,
            ErrorCode.INVALID_REQUEST,
            ErrorCode.INVALID_CONFIG,
            ErrorCode.INVALID_CONFIG
          ],
          `IncrementalAlterConfigs v${version}`
        )
      }
      yield* usable(client)
    })
  )

  it.scopedLive(
    "a group id, instance id or client id too long for older versions does not make groups unlistable",
    () =>
      Effect.gen(function* () {
        const { broker } = yield* startBroker({ extra: { "group.initial.rebalance.delay.ms": "0" } })
        const client = yield* connect(broker.address.port)
        const join = (groupId: string, extra: Partial<JoinGroup.JoinGroupRequest> = {}) =>
          JoinGroup.makeJoinGroupRequest({
            groupId,
            sessionTimeoutMs: 10_000,
            rebalanceTimeoutMs: 10_000,
            memberId: "",
            protocolType: "consumer",
            protocols: [{ name: "range", metadata: new Uint8Array(0) }],
            ...extra
          })
        const huge = "g".repeat(40_000)
        const byGroup = yield* answered(client.send(11, 7, join(huge)))
        assert.strictEqual(byGroup.errorCode, ErrorCode.INVALID_GROUP_ID)
        const byInstance = yield* answered(client.send(11, 7, join("g", { groupInstanceId: huge })))
        assert.strictEqual(byInstance.errorCode, ErrorCode.INVALID_REQUEST)
        const byProtocol = yield* answered(
          client.send(11, 7, join("g", { protocols: [{ name: huge, metadata: new Uint8Array(0) }] }))
        )
        assert.strictEqual(byProtocol.errorCode, ErrorCode.INVALID_REQUEST)
        // a member id made from a client id of almost 32 KiB still fits a string
        const byClient = yield* answered(client.send(11, 5, join("g"), "c".repeat(32_760)))
        assert.strictEqual(byClient.errorCode, ErrorCode.MEMBER_ID_REQUIRED)
        assert.isBelow(byClient.memberId.length, 2000)
        const listed = yield* answered(client.send(16, 2, ListGroups.makeListGroupsRequest({})))
        assert.strictEqual(listed.errorCode, 0)
        yield* usable(client)
      })
  )
})
