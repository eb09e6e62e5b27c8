/**
 * The admin client: topics (create, delete, list, describe, add partitions), configs (describe, incremental
 * alter), offsets (list by earliest/latest/timestamp, delete records) and the cluster (describe).
 *
 * Every call is retried on retriable errors with refreshed metadata, within `default.api.timeout.ms`.
 * A per-item error (one topic of several) fails the call with a {@link ClientError.KafkaError} naming the item.
 */
import { type ConfigError, Context, Effect, Layer, type Scope } from "effect"
import * as CreatePartitions from "../protocol/generated/CreatePartitions.js"
import * as CreateTopics from "../protocol/generated/CreateTopics.js"
import * as DeleteRecords from "../protocol/generated/DeleteRecords.js"
import * as DeleteTopics from "../protocol/generated/DeleteTopics.js"
import * as DescribeCluster from "../protocol/generated/DescribeCluster.js"
import * as DescribeConfigs from "../protocol/generated/DescribeConfigs.js"
import * as IncrementalAlterConfigs from "../protocol/generated/IncrementalAlterConfigs.js"
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
  /** The underlying cluster connection. */
  readonly cluster: Cluster.Cluster
}

/** The Admin service. */
export class AdminTag extends Context.Tag("@eddy/core/client/Admin")<AdminTag, Admin>() {}

const resourceTypeCode = (t: ResourceType): number => (t === "topic" ? 2 : t === "broker" ? 4 : 8)
const resourceTypeOf = (code: number): ResourceType => (code === 2 ? "topic" : code === 4 ? "broker" : "broker-logger")
const opCode = { set: 0, delete: 1, append: 2, subtract: 3 } as const

const check = (code: number, context: { topic?: string; partition?: number; message?: string | null }) =>
  code === 0 ? Effect.void : Effect.fail(ClientError.fromCode(code, context))

/** An admin client in the current scope (it does not auto-create topics). */
export const make = (config: ClientConfig.ClientConfig = {}): Effect.Effect<Admin, never, Scope.Scope> =>
  Effect.map(Cluster.make({ ...config, "allow.auto.create.topics": false }), makeWith)

/** An admin client over an existing cluster. */
export const makeWith = (cluster: Cluster.Cluster): Admin => {
  const controller = Effect.map(
    cluster.metadata().controllerId >= 0 ? Effect.void : Effect.ignore(cluster.refresh([])),
    () => {
      const id = cluster.metadata().controllerId
      return id >= 0 && cluster.metadata().brokers.has(id) ? id : undefined
    }
  )
  const timeoutMs = cluster.config["default.api.timeout.ms"]

  const createTopics: Admin["createTopics"] = (topics, options = {}) =>
    cluster.retry(
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
    cluster.retry(
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
    cluster.retry(
      Effect.map(cluster.refresh(), (m) =>
        [...m.topics.values()]
          .filter((t) => options.includeInternal === true || !t.isInternal)
          .map((t) => t.name)
          .sort()
      )
    )

  const describeTopics: Admin["describeTopics"] = (names) =>
    Effect.flatMap(cluster.retry(cluster.refresh(names)), (m) =>
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
    cluster.retry(
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
      cluster.retry(
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
    cluster.retry(
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
          Effect.map(listOffsets(cluster, g.topic, new Map(g.partitions.map((p) => [p, g.timestamp]))), (found) =>
            g.partitions.map((p) => [`${g.timestamp}\u0000${g.topic}\u0000${p}`, found.get(p)!] as const)
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
          cluster.retry(
            Effect.gen(function* () {
              const info = yield* cluster.topic(topic)
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
    cluster.retry(
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

  return {
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
