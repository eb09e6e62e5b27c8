/**
 * The admin client: topics (create, delete, list, describe, add partitions), configs (describe, incremental
 * alter), offsets (list by earliest/latest/timestamp, delete records), consumer groups (list, describe, delete,
 * committed offsets and lag, standalone offset commits and deletes) and the cluster (describe).
 *
 * As in Java's AdminClient, a call fails at once with an error that is final for its request (the broker's
 * answer for that topic or group: UNKNOWN_TOPIC_OR_PARTITION for a named topic, TOPIC_ALREADY_EXISTS,
 * INVALID_*, POLICY_VIOLATION, ...) and is retried, with refreshed metadata and within
 * `default.api.timeout.ms`, only where sending it again can succeed: network errors and timeouts, a moved
 * controller, coordinator or leader, throttling ({@link retriedCodes}). A per-item error (one topic of several)
 * fails the call with a {@link ClientError.KafkaError} naming the item.
 */
import { type ConfigError, Context, Effect, Layer, Schedule, type Scope } from "effect"
import * as AlterPartitionReassignments from "../protocol/generated/AlterPartitionReassignments.js"
import * as CreatePartitions from "../protocol/generated/CreatePartitions.js"
import * as CreateTopics from "../protocol/generated/CreateTopics.js"
import * as DeleteGroups from "../protocol/generated/DeleteGroups.js"
import * as DeleteRecords from "../protocol/generated/DeleteRecords.js"
import * as DeleteTopics from "../protocol/generated/DeleteTopics.js"
import * as DescribeCluster from "../protocol/generated/DescribeCluster.js"
import * as DescribeConfigs from "../protocol/generated/DescribeConfigs.js"
import * as DescribeGroups from "../protocol/generated/DescribeGroups.js"
import * as ConsumerProtocolAssignment from "../protocol/generated/data/ConsumerProtocolAssignment.js"
import * as ElectLeaders from "../protocol/generated/ElectLeaders.js"
import { ErrorCode } from "../protocol/generated/ErrorCode.js"
import * as FindCoordinator from "../protocol/generated/FindCoordinator.js"
import * as IncrementalAlterConfigs from "../protocol/generated/IncrementalAlterConfigs.js"
import * as InitProducerId from "../protocol/generated/InitProducerId.js"
import * as ListGroups from "../protocol/generated/ListGroups.js"
import * as ListPartitionReassignments from "../protocol/generated/ListPartitionReassignments.js"
import * as OffsetCommit from "../protocol/generated/OffsetCommit.js"
import * as OffsetDelete from "../protocol/generated/OffsetDelete.js"
import * as OffsetFetch from "../protocol/generated/OffsetFetch.js"
import { Reader } from "../protocol/Reader.js"
import * as ClientConfig from "./ClientConfig.js"
import * as ClientError from "./ClientError.js"
import * as Cluster from "./Cluster.js"
import { listOffsets } from "./Fetcher.js"

/** A topic to create. `numPartitions`/`replicationFactor` default to the broker's (-1). */
export interface NewTopic {
  readonly name: string
  readonly numPartitions?: number
  readonly replicationFactor?: number
  readonly configs?: { readonly [name: string]: string }
}

/** A topic's description: id, partitions with leaders, replicas and ISR. */
export interface TopicDescription {
  readonly name: string
  readonly topicId: string
  readonly isInternal: boolean
  readonly partitions: ReadonlyArray<Cluster.PartitionInfo>
}

/** The kind of a config resource (Kafka's resource type codes). */
export type ResourceType = "topic" | "broker" | "broker-logger"

/** A config resource: a topic name or a broker id (as a string). */
export interface ConfigResource {
  readonly type: ResourceType
  readonly name: string
}

/** One config entry of a resource. `source`: 1 topic, 4 static broker, 5 default, ... */
export interface ConfigEntry {
  readonly name: string
  readonly value: string | null
  readonly readOnly: boolean
  readonly isDefault: boolean
  readonly isSensitive: boolean
  readonly source: number
}

/** An incremental config change. */
export interface AlterConfigOp {
  readonly name: string
  readonly op: "set" | "delete" | "append" | "subtract"
  readonly value?: string | null
}

/** Which offset ListOffsets looks up. */
export type OffsetSpec = "earliest" | "latest" | { readonly timestamp: number }

/** An offset lookup result; offset -1 when no record has a timestamp at or after the one asked for. */
export interface ListedOffset {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly timestamp: number
}

/** A cluster's description. */
export interface ClusterDescription {
  readonly clusterId: string | null
  readonly controllerId: number
  readonly brokers: ReadonlyArray<Cluster.BrokerInfo>
}

/** A consumer group as ListGroups reports it. */
export interface GroupListing {
  readonly groupId: string
  readonly protocolType: string
  /** Empty string when the broker does not report states (ListGroups v0-3). */
  readonly groupState: string
}

/** A TopicPartition. */
export interface TopicPartition {
  readonly topic: string
  readonly partition: number
}

/** A member of a group, with its assignment decoded when the group uses the consumer protocol. */
export interface MemberDescription {
  readonly memberId: string
  readonly groupInstanceId: string | null
  readonly clientId: string
  readonly clientHost: string
  readonly assignment: ReadonlyArray<TopicPartition>
}

/** A group's description (DescribeGroups) and its coordinator. */
export interface GroupDescription {
  readonly groupId: string
  /** `Empty`, `PreparingRebalance`, `CompletingRebalance`, `Stable` or `Dead` (unknown groups are `Dead`). */
  readonly groupState: string
  readonly protocolType: string
  /** The assignor in use (e.g. `range`). */
  readonly protocol: string
  readonly members: ReadonlyArray<MemberDescription>
  readonly coordinator: number
}

/** A committed offset of a group. */
export interface GroupOffset extends TopicPartition {
  readonly offset: number
  readonly leaderEpoch: number
  readonly metadata: string | null
}

/** A partition's committed offset, log end offset and lag (null when nothing is committed). */
export interface PartitionLag extends TopicPartition {
  readonly committedOffset: number | null
  readonly logEndOffset: number
  readonly lag: number | null
  /** The member the partition is assigned to, if any. */
  readonly memberId: string | null
}

/** The admin client. */
export interface Admin {
  readonly createTopics: (
    topics: ReadonlyArray<NewTopic>,
    options?: { readonly validateOnly?: boolean }
  ) => Effect.Effect<void, Cluster.Error>
  readonly deleteTopics: (names: ReadonlyArray<string>) => Effect.Effect<void, Cluster.Error>
  /** Topic names; internal topics only with `includeInternal`. */
  readonly listTopics: (options?: { readonly includeInternal?: boolean }) => Effect.Effect<Array<string>, Cluster.Error>
  readonly describeTopics: (names: ReadonlyArray<string>) => Effect.Effect<Array<TopicDescription>, Cluster.Error>
  /** Raises `topic`'s partition count to `count`. */
  readonly createPartitions: (topic: string, count: number) => Effect.Effect<void, Cluster.Error>
  readonly describeConfigs: (
    resources: ReadonlyArray<ConfigResource & { readonly keys?: ReadonlyArray<string> }>
  ) => Effect.Effect<Array<ConfigResource & { readonly configs: Array<ConfigEntry> }>, Cluster.Error>
  /** IncrementalAlterConfigs. */
  readonly alterConfigs: (
    resource: ConfigResource,
    ops: ReadonlyArray<AlterConfigOp>,
    options?: { readonly validateOnly?: boolean }
  ) => Effect.Effect<void, Cluster.Error>
  readonly listOffsets: (
    requests: ReadonlyArray<{ readonly topic: string; readonly partition: number; readonly spec: OffsetSpec }>
  ) => Effect.Effect<Array<ListedOffset>, Cluster.Error>
  /** Deletes records below `offset` (-1: the high watermark); returns the new low watermarks. */
  readonly deleteRecords: (
    requests: ReadonlyArray<{ readonly topic: string; readonly partition: number; readonly offset: number }>
  ) => Effect.Effect<
    Array<{ readonly topic: string; readonly partition: number; readonly lowWatermark: number }>,
    Cluster.Error
  >
  readonly describeCluster: () => Effect.Effect<ClusterDescription, Cluster.Error>
  /** Every group known to any broker (ListGroups to each broker). */
  readonly listGroups: () => Effect.Effect<Array<GroupListing>, Cluster.Error>
  /** Describes groups at their coordinators; member assignments are decoded from the consumer protocol. */
  readonly describeGroups: (groupIds: ReadonlyArray<string>) => Effect.Effect<Array<GroupDescription>, Cluster.Error>
  /** Deletes groups (they must have no members: `NON_EMPTY_GROUP` otherwise). */
  readonly deleteGroups: (groupIds: ReadonlyArray<string>) => Effect.Effect<void, Cluster.Error>
  /** A group's committed offsets (OffsetFetch), all topics or only `topics`; uncommitted partitions are left out. */
  readonly listGroupOffsets: (
    groupId: string,
    topics?: ReadonlyArray<string>
  ) => Effect.Effect<Array<GroupOffset>, Cluster.Error>
  /**
   * Committed offset, log end offset and lag of every partition the group has committed or is assigned, sorted
   * by topic and partition.
   */
  readonly groupLag: (groupId: string) => Effect.Effect<Array<PartitionLag>, Cluster.Error>
  /**
   * Commits offsets for a group outside any generation (OffsetCommit with generation -1), as
   * `kafka-consumer-groups --reset-offsets` does. Fails with `NON_EMPTY_GROUP` while the group has members.
   */
  readonly alterGroupOffsets: (
    groupId: string,
    offsets: ReadonlyArray<TopicPartition & { readonly offset: number; readonly metadata?: string }>
  ) => Effect.Effect<void, Cluster.Error>
  /** Deletes committed offsets (OffsetDelete); fails with `GROUP_SUBSCRIBED_TO_TOPIC` for a subscribed topic. */
  readonly deleteGroupOffsets: (
    groupId: string,
    partitions: ReadonlyArray<TopicPartition>
  ) => Effect.Effect<void, Cluster.Error>
  /**
   * Fences the current producers of these transactional ids (Kafka's `fenceProducers`, KIP-618): each id's
   * producer epoch is bumped with InitProducerId at its transaction coordinator, which aborts the id's open
   * transaction; the fenced producer's next transactional request fails with `PRODUCER_FENCED`. Answers each
   * id's new producer id and epoch.
   */
  readonly fenceProducers: (
    transactionalIds: ReadonlyArray<string>,
    options?: { readonly transactionTimeoutMs?: number }
  ) => Effect.Effect<Array<FencedProducer>, Cluster.Error>
  /**
   * Elects leaders (ElectLeaders, KIP-460): `preferred` moves leadership back to each partition's preferred
   * replica, `unclean` elects an out-of-sync replica where no in-sync one is alive. `partitions` undefined means
   * every partition (then only the partitions whose election was needed are answered). Per partition: null, or the
   * error (`ELECTION_NOT_NEEDED` when its preferred replica already leads it).
   */
  readonly electLeaders: (
    electionType: "preferred" | "unclean",
    partitions?: ReadonlyArray<TopicPartition>
  ) => Effect.Effect<Array<PartitionResult>, Cluster.Error>
  /** The partition reassignments in progress (ListPartitionReassignments, KIP-455), all or of `partitions`. */
  readonly listPartitionReassignments: (
    partitions?: ReadonlyArray<TopicPartition>
  ) => Effect.Effect<Array<PartitionReassignment>, Cluster.Error>
  /**
   * Moves partitions to new replica lists, or cancels a move (`replicas: null`) (AlterPartitionReassignments,
   * KIP-455). Per partition: null once accepted, or the error (`INVALID_REPLICA_ASSIGNMENT`, `NO_REASSIGNMENT_IN_PROGRESS`, ...).
   */
  readonly alterPartitionReassignments: (
    reassignments: ReadonlyArray<TopicPartition & { readonly replicas: ReadonlyArray<number> | null }>
  ) => Effect.Effect<Array<PartitionResult>, Cluster.Error>
  /** The underlying cluster connection. */
  readonly cluster: Cluster.Cluster
}

/** One partition's outcome of an election or a reassignment: `error` null when it succeeded. */
export interface PartitionResult {
  readonly topic: string
  readonly partition: number
  readonly error: ClientError.KafkaError | null
}

/** A partition reassignment in progress. */
export interface PartitionReassignment {
  readonly topic: string
  readonly partition: number
  readonly replicas: ReadonlyArray<number>
  readonly addingReplicas: ReadonlyArray<number>
  readonly removingReplicas: ReadonlyArray<number>
}

/** A transactional id fenced by {@link Admin.fenceProducers}, with the producer id and epoch it now has. */
export interface FencedProducer {
  readonly transactionalId: string
  readonly producerId: number
  readonly producerEpoch: number
}

/** The Admin service. */
export class AdminTag extends Context.Tag("@eddy/core/client/Admin")<AdminTag, Admin>() {}

const resourceTypeCode = (t: ResourceType): number => (t === "topic" ? 2 : t === "broker" ? 4 : 8)
const resourceTypeOf = (code: number): ResourceType => (code === 2 ? "topic" : code === 4 ? "broker" : "broker-logger")
const opCode = { set: 0, delete: 1, append: 2, subtract: 3 } as const

const byTopicPartition = (a: TopicPartition, b: TopicPartition) =>
  a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition

/**
 * The broker error codes an admin request is retried on: sent again (after a metadata refresh or a new
 * coordinator lookup) it can succeed. Every other Kafka error is final for the request.
 */
export const retriedCodes: ReadonlySet<number> = new Set([
  ErrorCode.NOT_CONTROLLER,
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.REQUEST_TIMED_OUT,
  ErrorCode.NETWORK_EXCEPTION,
  ErrorCode.THROTTLING_QUOTA_EXCEEDED
])

/** Whether an admin request that failed with `e` is sent again: network errors, timeouts and {@link retriedCodes}. */
export const isRetriedByAdmin = (e: unknown): boolean =>
  e instanceof ClientError.KafkaError ? retriedCodes.has(e.errorCode) : ClientError.isRetriable(e)

const check = (code: number, context: { topic?: string; partition?: number; message?: string | null }) =>
  code === 0 ? Effect.void : Effect.fail(ClientError.fromCode(code, context))

/** An admin client in the current scope (it does not auto-create topics). */
export const make = (config: ClientConfig.ClientConfig = {}): Effect.Effect<Admin, never, Scope.Scope> =>
  Effect.map(Cluster.make({ ...config, "allow.auto.create.topics": false }), makeWith)

/** An admin client over an existing cluster. */
export const makeWith = (cluster: Cluster.Cluster): Admin => {
  // set when a request reports NOT_CONTROLLER: the next controller lookup refetches metadata
  let controllerMoved = false
  const controller = Effect.suspend(() =>
    Effect.map(
      cluster.metadata().controllerId >= 0 && !controllerMoved ? Effect.void : Effect.asVoid(cluster.refresh([])),
      () => {
        controllerMoved = false
        const id = cluster.metadata().controllerId
        return id >= 0 && cluster.metadata().brokers.has(id) ? id : undefined
      }
    )
  )
  const timeoutMs = cluster.config["default.api.timeout.ms"]
  const schedule = Schedule.whileInput(ClientConfig.retrySchedule(cluster.config), isRetriedByAdmin)

  /** Runs an admin request with the admin retry rules ({@link isRetriedByAdmin}), refreshing stale metadata. */
  const retry = <A>(effect: Effect.Effect<A, Cluster.Error>): Effect.Effect<A, Cluster.Error> =>
    effect.pipe(
      Effect.tapError((e) =>
        Effect.sync(() => {
          if (ClientError.needsMetadataRefresh(e)) cluster.invalidate()
          if (e instanceof ClientError.KafkaError && e.errorCode === ErrorCode.NOT_CONTROLLER) controllerMoved = true
        })
      ),
      Effect.retry(schedule)
    )

  /** A topic's metadata, fetched now: UNKNOWN_TOPIC_OR_PARTITION when it does not exist (final), retried while leaderless. */
  const topicInfo = (name: string): Effect.Effect<Cluster.TopicInfo, Cluster.Error> =>
    retry(
      Effect.flatMap(cluster.refresh([name]), (m) => {
        const t = m.topics.get(name)
        if (t === undefined)
          return Effect.fail(ClientError.fromCode(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic: name }))
        const leaderless = t.partitions.length === 0 || t.partitions.some((p) => p === undefined || p.leader < 0)
        return leaderless
          ? Effect.fail(ClientError.fromCode(ErrorCode.LEADER_NOT_AVAILABLE, { topic: name }))
          : Effect.succeed(t)
      })
    )

  const createTopics: Admin["createTopics"] = (topics, options = {}) =>
    retry(
      Effect.gen(function* () {
        const node = yield* controller
        const res = yield* cluster.send(node, 19, (v) =>
          CreateTopics.makeCreateTopicsRequest({
            timeoutMs,
            validateOnly: options.validateOnly ?? false,
            topics: topics.map((t) =>
              CreateTopics.makeCreateTopicsRequestCreatableTopic({
                name: t.name,
                numPartitions: t.numPartitions ?? (v >= 4 ? -1 : 1),
                replicationFactor: t.replicationFactor ?? (v >= 4 ? -1 : 1),
                configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value }))
              })
            )
          })
        )
        for (const t of res.topics) yield* check(t.errorCode, { topic: t.name, message: t.errorMessage })
        cluster.invalidate()
      })
    )

  const deleteTopics: Admin["deleteTopics"] = (names) =>
    retry(
      Effect.gen(function* () {
        const node = yield* controller
        const res = yield* cluster.send(node, 20, (v) =>
          DeleteTopics.makeDeleteTopicsRequest({
            timeoutMs,
            ...(v >= 6
              ? { topics: names.map((name) => DeleteTopics.makeDeleteTopicsRequestDeleteTopicState({ name })) }
              : { topicNames: [...names] })
          })
        )
        for (const t of res.responses) yield* check(t.errorCode, { topic: t.name ?? "", message: t.errorMessage })
        cluster.invalidate()
      })
    )

  const listTopics: Admin["listTopics"] = (options = {}) =>
    retry(
      Effect.map(cluster.refresh(), (m) =>
        [...m.topics.values()]
          .filter((t) => options.includeInternal === true || !t.isInternal)
          .map((t) => t.name)
          .sort()
      )
    )

  const describeTopics: Admin["describeTopics"] = (names) =>
    Effect.flatMap(retry(cluster.refresh(names)), (m) =>
      Effect.forEach(names, (name) => {
        const t = m.topics.get(name)
        return t === undefined
          ? Effect.fail(ClientError.fromCode(3, { topic: name }))
          : Effect.succeed<TopicDescription>({
              name: t.name,
              topicId: t.topicId,
              isInternal: t.isInternal,
              partitions: t.partitions.filter((p) => p !== undefined)
            })
      })
    )

  const createPartitions: Admin["createPartitions"] = (topic, count) =>
    retry(
      Effect.gen(function* () {
        const node = yield* controller
        const res = yield* cluster.send(node, 37, () =>
          CreatePartitions.makeCreatePartitionsRequest({
            timeoutMs,
            topics: [
              CreatePartitions.makeCreatePartitionsRequestCreatePartitionsTopic({
                name: topic,
                count,
                assignments: null
              })
            ]
          })
        )
        for (const r of res.results) yield* check(r.errorCode, { topic: r.name, message: r.errorMessage })
        cluster.invalidate()
      })
    )

  const nodeFor = (r: ConfigResource): number | undefined => (r.type === "topic" ? undefined : Number(r.name))

  const describeConfigs: Admin["describeConfigs"] = (resources) =>
    Effect.forEach(resources, (r) =>
      retry(
        Effect.gen(function* () {
          const res = yield* cluster.send(nodeFor(r), 32, () =>
            DescribeConfigs.makeDescribeConfigsRequest({
              resources: [
                {
                  resourceType: resourceTypeCode(r.type),
                  resourceName: r.name,
                  configurationKeys: r.keys === undefined ? null : [...r.keys]
                }
              ]
            })
          )
          const result = res.results[0]
          if (result === undefined)
            return yield* ClientError.fromCode(-1, { message: "empty DescribeConfigs response" })
          yield* check(result.errorCode, {
            ...(r.type === "topic" ? { topic: r.name } : {}),
            message: result.errorMessage
          })
          return {
            type: resourceTypeOf(result.resourceType),
            name: result.resourceName,
            configs: result.configs.map((c) => ({
              name: c.name,
              value: c.value,
              readOnly: c.readOnly,
              isDefault: c.isDefault || c.configSource === 5,
              isSensitive: c.isSensitive,
              source: c.configSource
            }))
          }
        })
      )
    )

  const alterConfigs: Admin["alterConfigs"] = (resource, ops, options = {}) =>
    retry(
      Effect.gen(function* () {
        const res = yield* cluster.send(nodeFor(resource), 44, () =>
          IncrementalAlterConfigs.makeIncrementalAlterConfigsRequest({
            validateOnly: options.validateOnly ?? false,
            resources: [
              {
                resourceType: resourceTypeCode(resource.type),
                resourceName: resource.name,
                configs: ops.map((o) => ({ name: o.name, configOperation: opCode[o.op], value: o.value ?? null }))
              }
            ]
          })
        )
        for (const r of res.responses) {
          yield* check(r.errorCode, {
            ...(resource.type === "topic" ? { topic: resource.name } : {}),
            message: r.errorMessage
          })
        }
      })
    )

  const groupByTopic = <T extends { readonly topic: string }>(items: ReadonlyArray<T>) => {
    const m = new Map<string, Array<T>>()
    for (const i of items) {
      const list = m.get(i.topic) ?? []
      list.push(i)
      m.set(i.topic, list)
    }
    return m
  }

  const listOffsetsAll: Admin["listOffsets"] = (requests) => {
    // one lookup per topic and spec, so that a partition asked for twice (earliest and latest) is not merged
    const timestampOf = (spec: OffsetSpec) => (spec === "earliest" ? -2 : spec === "latest" ? -1 : spec.timestamp)
    const groups = new Map<string, { topic: string; timestamp: number; partitions: Array<number> }>()
    for (const r of requests) {
      const timestamp = timestampOf(r.spec)
      const k = `${timestamp}\u0000${r.topic}`
      const g = groups.get(k) ?? { topic: r.topic, timestamp, partitions: [] }
      g.partitions.push(r.partition)
      groups.set(k, g)
    }
    return Effect.map(
      Effect.forEach(
        groups.values(),
        (g) =>
          Effect.map(
            // a topic that does not exist fails at once (the Fetcher's lookup would wait for it)
            Effect.zipRight(
              topicInfo(g.topic),
              listOffsets(cluster, g.topic, new Map(g.partitions.map((p) => [p, g.timestamp])))
            ),
            (found) => g.partitions.map((p) => [`${g.timestamp}\u0000${g.topic}\u0000${p}`, found.get(p)!] as const)
          ),
        { concurrency: "unbounded" }
      ),
      (lists) => {
        const found = new Map(lists.flat())
        return requests.map((r) => ({
          topic: r.topic,
          partition: r.partition,
          ...found.get(`${timestampOf(r.spec)}\u0000${r.topic}\u0000${r.partition}`)!
        }))
      }
    )
  }

  const deleteRecords: Admin["deleteRecords"] = (requests) =>
    Effect.map(
      Effect.forEach(
        groupByTopic(requests),
        ([topic, items]) =>
          retry(
            Effect.gen(function* () {
              const info = yield* topicInfo(topic)
              const byLeader = new Map<number, Array<(typeof items)[number]>>()
              for (const i of items) {
                const leader = info.partitions[i.partition]?.leader ?? -1
                if (leader < 0) return yield* ClientError.fromCode(5, { topic, partition: i.partition })
                const list = byLeader.get(leader) ?? []
                list.push(i)
                byLeader.set(leader, list)
              }
              const out: Array<{ topic: string; partition: number; lowWatermark: number }> = []
              for (const [leader, list] of byLeader) {
                const res = yield* cluster.send(leader, 21, () =>
                  DeleteRecords.makeDeleteRecordsRequest({
                    timeoutMs,
                    topics: [
                      {
                        name: topic,
                        partitions: list.map((i) => ({ partitionIndex: i.partition, offset: BigInt(i.offset) }))
                      }
                    ]
                  })
                )
                for (const t of res.topics) {
                  for (const p of t.partitions) {
                    if (p.errorCode !== 0) cluster.invalidate()
                    yield* check(p.errorCode, { topic, partition: p.partitionIndex })
                    out.push({ topic, partition: p.partitionIndex, lowWatermark: Number(p.lowWatermark) })
                  }
                }
              }
              return out
            })
          ),
        { concurrency: "unbounded" }
      ),
      (lists) => lists.flat()
    )

  const describeCluster: Admin["describeCluster"] = () =>
    retry(
      Effect.gen(function* () {
        const conn = yield* cluster.anyConnection
        if (conn.versionOf(60) === undefined) {
          const m = yield* cluster.refresh([])
          return { clusterId: m.clusterId, controllerId: m.controllerId, brokers: [...m.brokers.values()] }
        }
        const res = yield* conn.send(60, DescribeCluster.makeDescribeClusterRequest({ endpointType: 1 }))
        yield* check(res.errorCode, { message: res.errorMessage })
        return {
          clusterId: res.clusterId,
          controllerId: res.controllerId,
          brokers: res.brokers.map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack }))
        }
      })
    )

  const byTopic = (partitions: ReadonlyArray<TopicPartition>): Map<string, Array<number>> => {
    const out = new Map<string, Array<number>>()
    for (const p of partitions) out.set(p.topic, [...(out.get(p.topic) ?? []), p.partition])
    return out
  }

  const partitionResult = (
    topic: string,
    partition: number,
    code: number,
    message: string | null
  ): PartitionResult => ({
    topic,
    partition,
    error: code === 0 ? null : ClientError.fromCode(code, { topic, partition, message })
  })

  const electLeaders: Admin["electLeaders"] = (electionType, partitions) =>
    retry(
      Effect.gen(function* () {
        const res = yield* cluster.send(undefined, ElectLeaders.apiKey, () =>
          ElectLeaders.makeElectLeadersRequest({
            electionType: electionType === "preferred" ? 0 : 1,
            topicPartitions:
              partitions === undefined
                ? null
                : [...byTopic(partitions)].map(([topic, ps]) => ({ topic, partitions: ps })),
            timeoutMs: 60000
          })
        )
        yield* check(res.errorCode, {})
        return res.replicaElectionResults.flatMap((t) =>
          t.partitionResult.map((p) => partitionResult(t.topic, p.partitionId, p.errorCode, p.errorMessage))
        )
      })
    )

  const listPartitionReassignments: Admin["listPartitionReassignments"] = (partitions) =>
    retry(
      Effect.gen(function* () {
        const res = yield* cluster.send(undefined, ListPartitionReassignments.apiKey, () =>
          ListPartitionReassignments.makeListPartitionReassignmentsRequest({
            timeoutMs: 60000,
            topics:
              partitions === undefined
                ? null
                : [...byTopic(partitions)].map(([name, partitionIndexes]) => ({ name, partitionIndexes }))
          })
        )
        yield* check(res.errorCode, { message: res.errorMessage })
        return res.topics.flatMap((t) =>
          t.partitions.map((p) => ({
            topic: t.name,
            partition: p.partitionIndex,
            replicas: p.replicas,
            addingReplicas: p.addingReplicas,
            removingReplicas: p.removingReplicas
          }))
        )
      })
    )

  const alterPartitionReassignments: Admin["alterPartitionReassignments"] = (reassignments) =>
    retry(
      Effect.gen(function* () {
        const topics = new Map<string, Array<{ partitionIndex: number; replicas: Array<number> | null }>>()
        for (const r of reassignments)
          topics.set(r.topic, [
            ...(topics.get(r.topic) ?? []),
            { partitionIndex: r.partition, replicas: r.replicas === null ? null : [...r.replicas] }
          ])
        const res = yield* cluster.send(undefined, AlterPartitionReassignments.apiKey, () =>
          AlterPartitionReassignments.makeAlterPartitionReassignmentsRequest({
            timeoutMs: 60000,
            topics: [...topics].map(([name, partitions]) => ({ name, partitions }))
          })
        )
        yield* check(res.errorCode, { message: res.errorMessage })
        return res.responses.flatMap((t) =>
          t.partitions.map((p) => partitionResult(t.name, p.partitionIndex, p.errorCode, p.errorMessage))
        )
      })
    )

  /** The coordinator of a group (keyType 0) or of a transactional id (keyType 1). */
  const findCoordinator = (key: string, keyType: 0 | 1 = 0): Effect.Effect<number, Cluster.Error> =>
    Effect.gen(function* () {
      const res = yield* cluster.send(undefined, 10, (v) =>
        FindCoordinator.makeFindCoordinatorRequest(v >= 4 ? { keyType, coordinatorKeys: [key] } : { key, keyType })
      )
      const c = res.coordinators[0]
      const [errorCode, message, nodeId] =
        c === undefined ? [res.errorCode, res.errorMessage, res.nodeId] : [c.errorCode, c.errorMessage, c.nodeId]
      yield* check(errorCode, {
        message: message ?? (keyType === 0 ? `group '${key}'` : `transactional id '${key}'`)
      })
      return nodeId
    })

  /** The coordinator answers CONCURRENT_TRANSACTIONS while it completes the id's previous transaction. */
  const whileConcurrent = Schedule.whileInput(
    ClientConfig.retrySchedule(cluster.config),
    (e: Cluster.Error) => e instanceof ClientError.KafkaError && e.errorCode === ErrorCode.CONCURRENT_TRANSACTIONS
  )

  const fenceProducers: Admin["fenceProducers"] = (transactionalIds, options = {}) =>
    Effect.forEach(
      transactionalIds,
      (transactionalId) =>
        retry(
          Effect.gen(function* () {
            const node = yield* findCoordinator(transactionalId, 1)
            const res = yield* cluster.send(node, 22, () =>
              InitProducerId.makeInitProducerIdRequest({
                transactionalId,
                transactionTimeoutMs: options.transactionTimeoutMs ?? 60000,
                producerId: -1n,
                producerEpoch: -1
              })
            )
            yield* check(res.errorCode, { message: `transactional id '${transactionalId}'` })
            return { transactionalId, producerId: Number(res.producerId), producerEpoch: res.producerEpoch }
          })
        ).pipe(Effect.retry(whileConcurrent)),
      { concurrency: 8 }
    )

  /** Runs `f` against the group's coordinator, retried (and re-looked-up) on coordinator errors. */
  const atCoordinator = <A>(groupId: string, f: (node: number) => Effect.Effect<A, Cluster.Error>) =>
    retry(Effect.flatMap(findCoordinator(groupId), f))

  const groupCheck = (groupId: string, code: number, context: { topic?: string; partition?: number } = {}) =>
    check(code, { ...context, message: `group '${groupId}'` })

  const listGroups: Admin["listGroups"] = () =>
    Effect.gen(function* () {
      const m = yield* retry(cluster.refresh([]))
      const lists = yield* Effect.forEach(
        m.brokers.keys(),
        (node) =>
          retry(
            Effect.gen(function* () {
              const res = yield* cluster.send(node, 16, () => ListGroups.makeListGroupsRequest())
              yield* check(res.errorCode, {})
              return res.groups.map((g) => ({
                groupId: g.groupId,
                protocolType: g.protocolType,
                groupState: g.groupState
              }))
            })
          ),
        { concurrency: "unbounded" }
      )
      const seen = new Map<string, GroupListing>()
      for (const g of lists.flat()) seen.set(g.groupId, g)
      return [...seen.values()].sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0))
    })

  const decodeAssignment = (protocolType: string, bytes: Uint8Array): Array<TopicPartition> => {
    if (protocolType !== "consumer" || bytes.length < 2) return []
    try {
      const r = new Reader(bytes)
      const version = Math.min(r.int16(), ConsumerProtocolAssignment.validVersions.max)
      const a = ConsumerProtocolAssignment.decodeConsumerProtocolAssignment(r, version)
      return a.assignedPartitions.flatMap((tp) => tp.partitions.map((partition) => ({ topic: tp.topic, partition })))
    } catch {
      return [] // an assignment in a format other than the consumer protocol's
    }
  }

  const describeGroups: Admin["describeGroups"] = (groupIds) =>
    Effect.forEach(
      groupIds,
      (groupId) =>
        atCoordinator(groupId, (node) =>
          Effect.gen(function* () {
            const res = yield* cluster.send(node, 15, () =>
              DescribeGroups.makeDescribeGroupsRequest({ groups: [groupId] })
            )
            const g = res.groups[0]
            if (g === undefined) return yield* ClientError.fromCode(-1, { message: "empty DescribeGroups response" })
            yield* groupCheck(groupId, g.errorCode)
            return {
              groupId: g.groupId,
              groupState: g.groupState,
              protocolType: g.protocolType,
              protocol: g.protocolData,
              coordinator: node,
              members: g.members.map((mem) => ({
                memberId: mem.memberId,
                groupInstanceId: mem.groupInstanceId,
                clientId: mem.clientId,
                clientHost: mem.clientHost,
                assignment: decodeAssignment(g.protocolType, mem.memberAssignment)
              }))
            }
          })
        ),
      { concurrency: "unbounded" }
    )

  const deleteGroups: Admin["deleteGroups"] = (groupIds) =>
    Effect.forEach(
      groupIds,
      (groupId) =>
        atCoordinator(groupId, (node) =>
          Effect.gen(function* () {
            const res = yield* cluster.send(node, 42, () =>
              DeleteGroups.makeDeleteGroupsRequest({ groupsNames: [groupId] })
            )
            for (const r of res.results) yield* groupCheck(r.groupId, r.errorCode)
          })
        ),
      { discard: true }
    )

  const listGroupOffsets: Admin["listGroupOffsets"] = (groupId, topics) =>
    atCoordinator(groupId, (node) =>
      Effect.gen(function* () {
        let requested: Array<{ name: string; partitionIndexes: Array<number> }> | null = null
        if (topics !== undefined) {
          requested = []
          for (const name of topics) {
            const info = yield* topicInfo(name)
            requested.push({ name, partitionIndexes: info.partitions.map((p) => p.partition) })
          }
        }
        const res = yield* cluster.send(node, 9, (v) =>
          v >= 8
            ? OffsetFetch.makeOffsetFetchRequest({
                groups: [OffsetFetch.makeOffsetFetchRequestGroup({ groupId, topics: requested })]
              })
            : OffsetFetch.makeOffsetFetchRequest({ groupId, topics: requested })
        )
        const group = res.groups[0]
        yield* groupCheck(groupId, group === undefined ? res.errorCode : group.errorCode)
        const out: Array<GroupOffset> = []
        for (const t of group === undefined ? res.topics : group.topics) {
          for (const p of t.partitions) {
            yield* groupCheck(groupId, p.errorCode, { topic: t.name, partition: p.partitionIndex })
            if (p.committedOffset < 0n) continue
            out.push({
              topic: t.name,
              partition: p.partitionIndex,
              offset: Number(p.committedOffset),
              leaderEpoch: p.committedLeaderEpoch,
              metadata: p.metadata
            })
          }
        }
        return out.sort(byTopicPartition)
      })
    )

  const groupLag: Admin["groupLag"] = (groupId) =>
    Effect.gen(function* () {
      const [description] = yield* describeGroups([groupId])
      const committed = yield* listGroupOffsets(groupId)
      const key = (t: string, p: number) => `${t}\u0000${p}`
      const rows = new Map<
        string,
        { topic: string; partition: number; committed: number | null; member: string | null }
      >()
      for (const o of committed) {
        rows.set(key(o.topic, o.partition), {
          topic: o.topic,
          partition: o.partition,
          committed: o.offset,
          member: null
        })
      }
      for (const m of description?.members ?? []) {
        for (const tp of m.assignment) {
          const row = rows.get(key(tp.topic, tp.partition))
          if (row === undefined) {
            rows.set(key(tp.topic, tp.partition), { ...tp, committed: null, member: m.memberId })
          } else row.member = m.memberId
        }
      }
      const list = [...rows.values()]
      const ends = yield* listOffsetsAll(
        list.map((r) => ({ topic: r.topic, partition: r.partition, spec: "latest" as const }))
      )
      return ends
        .map((e, i) => {
          const r = list[i]!
          return {
            topic: r.topic,
            partition: r.partition,
            committedOffset: r.committed,
            logEndOffset: e.offset,
            lag: r.committed === null ? null : Math.max(0, e.offset - r.committed),
            memberId: r.member
          }
        })
        .sort(byTopicPartition)
    })

  const alterGroupOffsets: Admin["alterGroupOffsets"] = (groupId, offsets) =>
    Effect.gen(function* () {
      const [description] = yield* describeGroups([groupId])
      if (description !== undefined && description.members.length > 0) {
        return yield* ClientError.fromCode(68, {
          message: `Offsets of group '${groupId}' can only be altered while it has no members; it is ${description.groupState} with ${description.members.length} member(s).`
        })
      }
      yield* atCoordinator(groupId, (node) =>
        Effect.gen(function* () {
          const res = yield* cluster.send(node, 8, () =>
            OffsetCommit.makeOffsetCommitRequest({
              groupId,
              generationIdOrMemberEpoch: -1,
              memberId: "",
              groupInstanceId: null,
              retentionTimeMs: -1n,
              topics: [...groupByTopic(offsets)].map(([name, items]) => ({
                name,
                partitions: items.map((o) =>
                  OffsetCommit.makeOffsetCommitRequestPartition({
                    partitionIndex: o.partition,
                    committedOffset: BigInt(o.offset),
                    committedLeaderEpoch: -1,
                    commitTimestamp: -1n,
                    committedMetadata: o.metadata ?? ""
                  })
                )
              }))
            })
          )
          for (const t of res.topics) {
            for (const p of t.partitions) {
              yield* groupCheck(groupId, p.errorCode, { topic: t.name, partition: p.partitionIndex })
            }
          }
        })
      )
    })

  const deleteGroupOffsets: Admin["deleteGroupOffsets"] = (groupId, partitions) =>
    atCoordinator(groupId, (node) =>
      Effect.gen(function* () {
        const res = yield* cluster.send(node, 47, () =>
          OffsetDelete.makeOffsetDeleteRequest({
            groupId,
            topics: [...groupByTopic(partitions)].map(([name, items]) => ({
              name,
              partitions: items.map((p) => ({ partitionIndex: p.partition }))
            }))
          })
        )
        yield* groupCheck(groupId, res.errorCode)
        for (const t of res.topics) {
          for (const p of t.partitions) {
            yield* groupCheck(groupId, p.errorCode, { topic: t.name, partition: p.partitionIndex })
          }
        }
      })
    )

  return {
    listGroups,
    describeGroups,
    deleteGroups,
    listGroupOffsets,
    groupLag,
    alterGroupOffsets,
    deleteGroupOffsets,
    createTopics,
    deleteTopics,
    listTopics,
    describeTopics,
    createPartitions,
    describeConfigs,
    alterConfigs,
    listOffsets: listOffsetsAll,
    deleteRecords,
    describeCluster,
    fenceProducers,
    electLeaders,
    listPartitionReassignments,
    alterPartitionReassignments,
    cluster
  }
}

/** An admin layer. */
export const layer = (config: ClientConfig.ClientConfig = {}): Layer.Layer<AdminTag> =>
  Layer.scoped(AdminTag, make(config))

/** An admin layer configured from Effect's `ConfigProvider` under Kafka's key names. */
export const layerConfig: Layer.Layer<AdminTag, ConfigError.ConfigError> = Layer.scoped(
  AdminTag,
  Effect.flatMap(ClientConfig.fromConfigProvider(ClientConfig.clientKeys), make)
)
