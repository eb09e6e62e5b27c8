// CreateTopics v0-7: v1 validate_only; v4 -1 counts use broker defaults (KIP-464); v5 flexible, configs in the response (KIP-525); v6 quota errors (KIP-599); v7 topic id (KIP-516). At most 10,000 partitions per request, else every topic gets POLICY_VIOLATION (Kafka 4, KAFKA-17870).
import { Effect } from "effect"
import * as CreateTopics from "../../protocol/generated/CreateTopics.js"
import * as BrokerConfig from "../BrokerConfig.js"
import { Codes, InvalidRequest, none, toWire, type WireError, wireMessage } from "../BrokerError.js"
import * as Handler from "../Handler.js"
import * as Configs from "../internal/configs.js"
import * as Uuid from "../internal/uuid.js"
import { MAX_PARTITIONS_PER_REQUEST, type Topic, TopicRegistry, tooManyPartitionsPerRequest } from "../TopicRegistry.js"

type Result = CreateTopics.CreateTopicsResponseCreatableTopicResult

const failed = (name: string, error: WireError): Result =>
  CreateTopics.makeCreateTopicsResponseCreatableTopicResult({
    name,
    topicId: Uuid.ZERO,
    errorCode: error.errorCode,
    errorMessage: wireMessage(error.errorMessage),
    numPartitions: -1,
    replicationFactor: -1,
    configs: null
  })

export const handler = Handler.make({
  apiKey: CreateTopics.apiKey,
  minVersion: CreateTopics.validVersions.min,
  maxVersion: CreateTopics.validVersions.max,
  handle: (request, context) =>
    Effect.gen(function* () {
      const registry = yield* TopicRegistry
      // the whole request is refused when it would add too many partitions (no topic is created)
      const defaultPartitions = BrokerConfig.getNumber(context.broker.config, "num.partitions")
      let total = 0
      for (const t of request.topics) {
        total +=
          t.numPartitions > 0
            ? t.numPartitions
            : t.assignments.length > 0
              ? t.assignments.length
              : t.numPartitions === -1
                ? defaultPartitions
                : 0
      }
      if (total > MAX_PARTITIONS_PER_REQUEST) {
        const error = toWire(tooManyPartitionsPerRequest(total))
        return CreateTopics.makeCreateTopicsResponse({ topics: request.topics.map((t) => failed(t.name, error)) })
      }
      const counts = new Map<string, number>()
      for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1)
      const results: Array<Result> = []
      const done = new Set<string>()
      for (const t of request.topics) {
        if (done.has(t.name)) continue
        done.add(t.name)
        if (counts.get(t.name)! > 1) {
          results.push(
            failed(
              t.name,
              toWire(new InvalidRequest({ message: "Create topics request from client contains a duplicate topic" }))
            )
          )
          continue
        }
        const outcome = yield* Effect.either(
          registry.create(
            {
              name: t.name,
              numPartitions: t.numPartitions,
              replicationFactor: t.replicationFactor,
              assignments: t.assignments,
              configs: t.configs
            },
            { validateOnly: request.validateOnly }
          )
        )
        if (outcome._tag === "Left") {
          results.push(failed(t.name, toWire(outcome.left)))
          continue
        }
        results.push(success(outcome.right, context))
        if (!request.validateOnly) {
          yield* Effect.logInfo(`Created topic ${t.name} with ${outcome.right.partitions} partition(s)`)
        }
      }
      return CreateTopics.makeCreateTopicsResponse({ topics: results })
    }),
  errorResponse: (request, error) =>
    CreateTopics.makeCreateTopicsResponse({ topics: request.topics.map((t) => failed(t.name, error)) })
})

const success = (topic: Topic, context: Handler.RequestContext): Result =>
  CreateTopics.makeCreateTopicsResponseCreatableTopicResult({
    name: topic.name,
    topicId: Uuid.fromString(topic.topicId) ?? Uuid.ZERO,
    errorCode: none.errorCode,
    errorMessage: null,
    topicConfigErrorCode: Codes.NONE,
    numPartitions: topic.partitions,
    replicationFactor: topic.replicationFactor,
    configs: Configs.topicEntries(context.broker.config, topic.configs).map((e) => ({
      name: e.name,
      value: e.value,
      readOnly: e.readOnly,
      configSource: e.source,
      isSensitive: e.isSensitive
    }))
  })
