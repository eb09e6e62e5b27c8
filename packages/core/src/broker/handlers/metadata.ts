// Metadata v0-12: v1 controller/rack, null = all topics; v2 cluster id; v4 allow_auto_topic_creation; v5 offline replicas; v7 leader epoch; v8 authorized operations (KIP-430); v9 flexible; v10 topic ids (KIP-516); v11 drops cluster operations; v12 lookup by topic id.
import { Effect } from "effect"
import * as Metadata from "../../protocol/generated/Metadata.js"
import * as BrokerConfig from "../BrokerConfig.js"
import { Codes, toWire } from "../BrokerError.js"
import * as Handler from "../Handler.js"
import * as Uuid from "../internal/uuid.js"
import type { PartitionState } from "../MetadataRecords.js"
import { type Topic, TopicRegistry, validateName } from "../TopicRegistry.js"

/** `topic_authorized_operations` / `cluster_authorized_operations` when not requested. */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648
/** Every topic operation (no ACLs yet): READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS. */
export const TOPIC_OPERATIONS = [3, 4, 5, 6, 7, 8, 10, 11].reduce((a, b) => a | (1 << b), 0)
/** Every cluster operation: CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE, CREATE_TOKENS, DESCRIBE_TOKENS. */
export const CLUSTER_OPERATIONS = [5, 7, 8, 9, 10, 11, 12, 13, 14].reduce((a, b) => a | (1 << b), 0)

/** The controller's node id as the metadata store has it (this broker alone until it joined the cluster). */
export const controllerIdOf = (broker: Handler.BrokerInfo): number => broker.cluster()?.controllerId() ?? broker.nodeId

/** One partition as Metadata describes it: from its record in the metadata store, else led by this node alone. */
const describePartition = (
  record: PartitionState | undefined,
  partitionIndex: number,
  nodeId: number,
  live: ReadonlySet<number>
): Metadata.MetadataResponsePartition =>
  record === undefined
    ? {
        errorCode: Codes.NONE,
        partitionIndex,
        leaderId: nodeId,
        leaderEpoch: 0,
        replicaNodes: [nodeId],
        isrNodes: [nodeId],
        offlineReplicas: []
      }
    : {
        errorCode: record.leader < 0 ? Codes.LEADER_NOT_AVAILABLE : Codes.NONE,
        partitionIndex,
        leaderId: record.leader,
        leaderEpoch: record.leaderEpoch,
        replicaNodes: [...record.replicas],
        isrNodes: [...record.isr],
        offlineReplicas: record.replicas.filter((b) => !live.has(b))
      }

/** The Metadata description of one topic: its partitions' leaders, replicas and ISR as the cluster has them. */
export const describeTopic = (
  topic: Topic,
  broker: Handler.BrokerInfo,
  includeOperations: boolean
): Metadata.MetadataResponseTopic => {
  const records = broker.cluster()?.partitions(topic.name)
  const live = new Set(broker.brokers().map((b) => b.nodeId))
  return {
    errorCode: Codes.NONE,
    name: topic.name,
    topicId: Uuid.fromString(topic.topicId) ?? Uuid.ZERO,
    isInternal: topic.internal,
    partitions: Array.from({ length: topic.partitions }, (_, i) =>
      describePartition(records?.[i], i, broker.nodeId, live)
    ),
    topicAuthorizedOperations: includeOperations ? TOPIC_OPERATIONS : AUTHORIZED_OPERATIONS_OMITTED
  }
}

const errorTopic = (name: string | null, topicId: Uint8Array, errorCode: number): Metadata.MetadataResponseTopic => ({
  errorCode,
  name,
  topicId,
  isInternal: false,
  partitions: [],
  topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED
})

export const handler = Handler.make({
  apiKey: Metadata.apiKey,
  minVersion: Metadata.validVersions.min,
  maxVersion: Metadata.validVersions.max,
  handle: (request, context) =>
    Effect.gen(function* () {
      const registry = yield* TopicRegistry
      const { broker, apiVersion } = context
      const includeOps = apiVersion >= 8 && request.includeTopicAuthorizedOperations
      const allTopics = request.topics === null || (apiVersion === 0 && request.topics.length === 0)
      // topic ids name topics from v12 on; v10-11 carry the field but Kafka refuses lookups by it
      if (!allTopics && apiVersion < 12) {
        const byId = (request.topics ?? []).find((t) => t.name === null || !Uuid.isZero(t.topicId))
        if (byId !== undefined) {
          return errorResponse(request, Codes.INVALID_REQUEST, context)
        }
      }
      const topics: Array<Metadata.MetadataResponseTopic> = []
      if (allTopics) {
        for (const t of yield* registry.list) topics.push(describeTopic(t, broker, includeOps))
      } else {
        const autoCreate =
          BrokerConfig.getBoolean(broker.config, "auto.create.topics.enable") &&
          (apiVersion < 4 || request.allowAutoTopicCreation)
        const seen = new Set<string>()
        for (const requested of request.topics ?? []) {
          if (requested.name === null) {
            const id = Uuid.format(requested.topicId)
            const t = Uuid.isZero(requested.topicId) ? undefined : yield* registry.getById(id)
            topics.push(
              t === undefined
                ? errorTopic(null, requested.topicId, Codes.UNKNOWN_TOPIC_ID)
                : describeTopic(t, broker, includeOps)
            )
            continue
          }
          const name = requested.name
          if (seen.has(name)) continue
          seen.add(name)
          const existing = yield* registry.get(name)
          if (existing !== undefined) {
            topics.push(describeTopic(existing, broker, includeOps))
          } else if (validateName(name) !== undefined) {
            topics.push(errorTopic(name, Uuid.ZERO, Codes.INVALID_TOPIC_EXCEPTION))
          } else if (!autoCreate) {
            topics.push(errorTopic(name, Uuid.ZERO, Codes.UNKNOWN_TOPIC_OR_PARTITION))
          } else {
            const created = yield* Effect.either(registry.autoCreate(name))
            topics.push(
              created._tag === "Right"
                ? describeTopic(created.right, broker, includeOps)
                : errorTopic(name, Uuid.ZERO, toWire(created.left).errorCode)
            )
          }
        }
      }
      return Metadata.makeMetadataResponse({
        brokers: liveBrokers(broker),
        clusterId: broker.clusterId,
        controllerId: controllerIdOf(broker),
        topics,
        clusterAuthorizedOperations:
          apiVersion >= 8 && apiVersion <= 10 && request.includeClusterAuthorizedOperations
            ? CLUSTER_OPERATIONS
            : AUTHORIZED_OPERATIONS_OMITTED
      })
    }),
  errorResponse: (request, error, context) => errorResponse(request, error.errorCode, context)
})

/** The live brokers of the metadata store, as Metadata lists them. */
const liveBrokers = (broker: Handler.BrokerInfo) =>
  broker.brokers().map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack }))

/** Every requested topic with `errorCode`; a topic without a name gets "" below v12, where names are not nullable. */
const errorResponse = (
  request: Metadata.MetadataRequest,
  errorCode: number,
  context: Handler.RequestContext
): Metadata.MetadataResponse =>
  Metadata.makeMetadataResponse({
    brokers: liveBrokers(context.broker),
    clusterId: context.broker.clusterId,
    controllerId: controllerIdOf(context.broker),
    topics: (request.topics ?? []).map((t) =>
      errorTopic(t.name ?? (context.apiVersion >= 12 ? null : ""), t.topicId, errorCode)
    )
  })
