/**
 * The broker's durable topic metadata: names, topic ids, partition counts, replication factors and
 * per-topic config overrides, plus the cluster id kept in `meta.properties` like Kafka.
 *
 * State lives in a `SynchronizedRef`. Changes to one topic (create, delete, grow, reconfigure) run one at a
 * time under a lock per topic name (per collision key, so `a.b` and `a_b` serialize too); changes to
 * different topics do not wait for each other. Validation, limit checks and durable writes run in the
 * ref's serialized section, which stays short: the per-partition work of a create or grow (opening
 * partition logs through {@link PartitionManager}) runs outside it, on partitions reserved against the
 * limits, and the topic is published (and `topics.json` written) only once every partition is open. A
 * create or grow that fails part-way closes and deletes the partitions it made (no orphaned folder or
 * open descriptor). Reads never wait for a change in progress.
 *
 * Limits: at most {@link MAX_PARTITIONS_PER_REQUEST} partitions per call (as Kafka 4 per request),
 * `max.broker.partitions` hosted (internal topics exempt), and the file descriptors new partitions need
 * must fit below the reserve kept for connections (`internal/descriptors.ts`); each answers
 * POLICY_VIOLATION. The topics are stored in `<data dir>/topics.json`, replaced atomically on every change.
 *
 * Attached to a cluster ({@link ClusterHooks}), the registry opens only the partitions placed on this broker by its
 * own creations and growths, and none of a topic it adopts (the partition records host those); at start it drops the
 * stray topics the cluster deleted meanwhile (`RegistryOptions.strays`) before opening any partition.
 *
 * With `RegistryOptions.claimClusterId` (the metadata store's), the cluster id is the cluster's: a data directory
 * keeps joining only the cluster its `meta.properties` names, and a new one takes the cluster's id.
 */
import * as path from "node:path"
import { Context, Effect, Layer, SynchronizedRef } from "effect"
import * as BrokerConfig from "./BrokerConfig.js"
import {
  type BrokerError,
  InvalidConfig,
  InvalidPartitions,
  InvalidReplicationFactor,
  InvalidRequest,
  InvalidTopic,
  type KafkaStorageError,
  PolicyViolation,
  TopicAlreadyExists,
  UnknownTopicId,
  UnknownTopicOrPartition
} from "./BrokerError.js"
import * as Descriptors from "./internal/descriptors.js"
import * as Durable from "./internal/durable.js"
import * as KeyedLock from "./internal/keyedLock.js"
import * as Properties from "./internal/properties.js"
import * as Uuid from "./internal/uuid.js"
import { PartitionManager } from "./PartitionManager.js"
import * as TopicConfig from "./TopicConfig.js"

/** One topic as the registry keeps it. */
export interface Topic {
  readonly name: string
  /** Kafka's string form of the 16-byte topic id. */
  readonly topicId: string
  readonly partitions: number
  readonly replicationFactor: number
  /** Topic-level config overrides (normalized values), by Kafka name. */
  readonly configs: Readonly<Record<string, string>>
  readonly internal: boolean
}

/** A topic creation request, in CreateTopics terms (-1 means the broker default). */
export interface CreateTopic {
  readonly name: string
  readonly numPartitions: number
  readonly replicationFactor: number
  /** Manual assignment: partition index -> broker ids. When non-empty, both counts must be -1. */
  readonly assignments?: ReadonlyArray<{ readonly partitionIndex: number; readonly brokerIds: ReadonlyArray<number> }>
  readonly configs?: ReadonlyArray<{ readonly name: string; readonly value: string | null }>
}

/** An IncrementalAlterConfigs operation (SET 0, DELETE 1, APPEND 2, SUBTRACT 3). */
export interface AlterOp {
  readonly name: string
  readonly op: 0 | 1 | 2 | 3
  readonly value: string | null
}

/** A topic change this broker made, for the cluster metadata store (see {@link ClusterHooks}). */
export type TopicChange =
  | {
      readonly _tag: "Created"
      readonly topic: Topic
      /** Replica lists by partition, as {@link ClusterHooks.place} placed them. */
      readonly replicas: ReadonlyArray<ReadonlyArray<number>>
    }
  | {
      readonly _tag: "Grown"
      readonly topic: Topic
      readonly from: number
      /** The new partitions' replica lists (partition `from` first), as {@link ClusterHooks.place} placed them. */
      readonly replicas: ReadonlyArray<ReadonlyArray<number>>
    }
  | { readonly _tag: "Deleted"; readonly topic: Topic }
  | { readonly _tag: "Reconfigured"; readonly topic: Topic }

/**
 * What connects the registry to the cluster: the live brokers (replication factors and manual assignments are
 * checked against them), the placement of new partitions (this broker opens only those placed on it; the partition
 * records host the rest where they are placed, and those of topics other brokers change: {@link TopicRegistry} `adopt`
 * opens none) and the publication of every change in the metadata store, which must succeed before the change is
 * answered (a failure undoes the local change: a name another broker created first is TOPIC_ALREADY_EXISTS).
 */
export interface ClusterHooks {
  readonly liveBrokers: () => ReadonlyArray<number>
  /** Replica lists of the topic's partitions `from` up: as the request named them (`given`), else placed. */
  readonly place: (
    topic: Topic,
    from: number,
    given: ReadonlyArray<ReadonlyArray<number>> | undefined
  ) => Effect.Effect<ReadonlyArray<ReadonlyArray<number>>, BrokerError>
  readonly publish: (change: TopicChange) => Effect.Effect<void, BrokerError>
}

/** A local topic the cluster no longer has (deleted, or replaced by another topic of its name), found at start. */
export interface StrayTopic {
  readonly topic: Topic
  /** Why it is a stray, for the log. */
  readonly reason: string
}

/** Options of {@link make}. */
export interface RegistryOptions<E> {
  /**
   * Finds the stray topics among those loaded from `topics.json` (the cluster's answer): they are removed here, their
   * partition logs deleted, before any partition is opened.
   */
  readonly strays?: (loaded: ReadonlyArray<Topic>) => Effect.Effect<ReadonlyArray<StrayTopic>, E>
  /**
   * The cluster's id given this node's (the metadata store's claim): the id stored for the cluster, else `proposed`,
   * stored now. Without it, the data directory's id is the cluster's.
   */
  readonly claimClusterId?: (proposed: string) => Effect.Effect<string, E>
}

/** Most partitions one CreateTopics or CreatePartitions request may add (Kafka 4: KAFKA-17870, KAFKA-19673). */
export const MAX_PARTITIONS_PER_REQUEST = 10_000

/** The refusal of a request adding more than {@link MAX_PARTITIONS_PER_REQUEST} partitions (POLICY_VIOLATION). */
export const tooManyPartitionsPerRequest = (requested: number): PolicyViolation =>
  new PolicyViolation({
    message: `Excessively large number of partitions per request: ${requested} requested, at most ${MAX_PARTITIONS_PER_REQUEST}.`
  })

/** Kafka's internal topics. */
export const CONSUMER_OFFSETS = "__consumer_offsets"
export const TRANSACTION_STATE = "__transaction_state"
const INTERNAL = new Set([CONSUMER_OFFSETS, TRANSACTION_STATE])

/** True for Kafka's internal topic names. */
export const isInternal = (name: string): boolean => INTERNAL.has(name)

const LEGAL = /^[a-zA-Z0-9._-]+$/
const MAX_NAME_LENGTH = 249

/** Checks a topic name per Kafka's rules; returns the problem or undefined when legal. */
export const validateName = (name: string): string | undefined => {
  if (name.length === 0) return "Topic name is illegal, it can't be empty"
  if (name === "." || name === "..") return 'Topic name cannot be "." or ".."'
  if (name.length > MAX_NAME_LENGTH)
    return `Topic name is illegal, it can't be longer than ${MAX_NAME_LENGTH} characters, topic name: ${name}`
  if (!LEGAL.test(name))
    return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`
  return undefined
}

/** The collision key of a topic name: `.` and `_` are the same in metric names. */
export const collisionKey = (name: string): string => name.replaceAll(".", "_")

/** The broker's topic metadata service. */
export class TopicRegistry extends Context.Tag("@eddy/core/broker/TopicRegistry")<
  TopicRegistry,
  {
    /** The cluster id, stable across restarts (from `meta.properties`; the metadata store's, in a cluster). */
    readonly clusterId: string
    /** This node's id. */
    readonly nodeId: number
    /** The broker configuration the registry resolves defaults from. */
    readonly config: BrokerConfig.BrokerConfig
    /** All topics, sorted by name. */
    readonly list: Effect.Effect<ReadonlyArray<Topic>>
    /** A topic by name. */
    readonly get: (name: string) => Effect.Effect<Topic | undefined>
    /** A topic by id (string form). */
    readonly getById: (topicId: string) => Effect.Effect<Topic | undefined>
    /** Creates a topic (or only validates it), creating its partition logs. */
    readonly create: (
      request: CreateTopic,
      options?: { readonly validateOnly?: boolean; readonly internal?: boolean }
    ) => Effect.Effect<Topic, BrokerError>
    /** Creates a topic for Metadata auto-creation (internal topics get their own defaults). */
    readonly autoCreate: (name: string) => Effect.Effect<Topic, BrokerError>
    /** Deletes a topic and its partition logs. */
    readonly delete: (name: string) => Effect.Effect<Topic, BrokerError>
    /** Deletes a topic by id. */
    readonly deleteById: (topicId: string) => Effect.Effect<Topic, BrokerError>
    /** Grows a topic to `count` partitions (increase only), with the new partitions' replica lists if given. */
    readonly createPartitions: (
      name: string,
      count: number,
      options?: {
        readonly validateOnly?: boolean
        readonly assignments?: ReadonlyArray<ReadonlyArray<number>> | undefined
      }
    ) => Effect.Effect<Topic, BrokerError>
    /** Connects the registry to the cluster metadata store (until then it is a single node's). */
    readonly attach: (hooks: ClusterHooks) => Effect.Effect<void>
    /**
     * Takes a topic as the metadata store has it (another broker's change): known, grown or reconfigured here. Once
     * attached to a cluster it opens no partition: the partition records host those placed here.
     */
    readonly adopt: (topic: Topic) => Effect.Effect<void, BrokerError>
    /** Removes a topic the metadata store no longer has (only that id, when given), here only. */
    readonly forget: (name: string, topicId?: string) => Effect.Effect<void, BrokerError>
    /** Replaces all of a topic's config overrides (AlterConfigs). */
    readonly alterConfigs: (
      name: string,
      configs: ReadonlyArray<{ readonly name: string; readonly value: string | null }>,
      options?: { readonly validateOnly?: boolean }
    ) => Effect.Effect<Topic, BrokerError>
    /** Applies SET/DELETE/APPEND/SUBTRACT operations to a topic's overrides (IncrementalAlterConfigs). */
    readonly incrementalAlterConfigs: (
      name: string,
      ops: ReadonlyArray<AlterOp>,
      options?: { readonly validateOnly?: boolean }
    ) => Effect.Effect<Topic, BrokerError>
  }
>() {}

interface State {
  readonly byName: ReadonlyMap<string, Topic>
}

interface StoredFile {
  readonly version: 1
  readonly topics: ReadonlyArray<Topic>
}

const TOPICS_FILE = "topics.json"
const META_FILE = "meta.properties"

/**
 * Reads or creates `meta.properties` (cluster id, node id, directory id); fails on a node id mismatch, or when the
 * stored or configured cluster id is not the cluster's (`claimClusterId`): a data directory of another cluster never
 * joins this one. A new data directory takes the cluster's id (claiming the configured or a random one if it has
 * none yet).
 */
export const loadMetaProperties = <E = never>(
  config: BrokerConfig.BrokerConfig,
  claimClusterId: (proposed: string) => Effect.Effect<string, E> = Effect.succeed
): Effect.Effect<{ readonly clusterId: string; readonly nodeId: number }, KafkaStorageError | E> =>
  Effect.gen(function* () {
    const dir = BrokerConfig.dataDir(config)
    const file = path.join(dir, META_FILE)
    const nodeId = BrokerConfig.nodeId(config)
    const configured = config.values["cluster.id"]
    yield* Durable.ensureDir(dir)
    const text = yield* Durable.readIfExists(file)
    if (text !== undefined) {
      const props = new Map(Properties.parse(text))
      const clusterId = props.get("cluster.id")
      const storedNode = props.get("node.id") ?? props.get("broker.id")
      if (clusterId === undefined || clusterId === "") {
        return yield* Durable.storageFailure(`${file} has no cluster.id`, file)
      }
      if (storedNode !== undefined && Number(storedNode) !== nodeId) {
        return yield* Durable.storageFailure(
          `Stored node id ${storedNode} in ${file} doesn't match configured node.id ${nodeId}`,
          file
        )
      }
      if (configured !== undefined && configured !== clusterId) {
        return yield* Durable.storageFailure(
          `Configured cluster.id ${configured} doesn't match ${clusterId} stored in ${file}`,
          file
        )
      }
      const cluster = yield* claimClusterId(clusterId)
      if (cluster !== clusterId) {
        return yield* Durable.storageFailure(
          `Cluster id ${clusterId} stored in ${file} doesn't match the cluster's id ${cluster} in the metadata store: this data directory belongs to another cluster`,
          file
        )
      }
      return { clusterId, nodeId }
    }
    const clusterId = yield* claimClusterId(configured ?? Uuid.random())
    if (configured !== undefined && configured !== clusterId) {
      return yield* Durable.storageFailure(
        `Configured cluster.id ${configured} doesn't match the cluster's id ${clusterId} in the metadata store (${file} not created)`,
        file
      )
    }
    const body = Properties.stringify(
      [
        ["cluster.id", clusterId],
        ["directory.id", Uuid.random()],
        ["node.id", String(nodeId)],
        ["version", "1"]
      ],
      `\n#${new Date().toUTCString()}`
    )
    yield* Durable.writeAtomic(file, body)
    return { clusterId, nodeId }
  })

const fail = <E>(e: E) => Effect.fail(e)

/**
 * Builds the registry over the data dir of `config`, loading stored topics (less the strays `options` finds, whose
 * logs it deletes) and opening their partitions.
 */
export const make = <E = never>(
  config: BrokerConfig.BrokerConfig,
  options: RegistryOptions<E> = {}
): Effect.Effect<TopicRegistry["Type"], KafkaStorageError | E, PartitionManager> =>
  Effect.gen(function* () {
    const partitions = yield* PartitionManager
    const dir = BrokerConfig.dataDir(config)
    const file = path.join(dir, TOPICS_FILE)
    const { clusterId, nodeId } = yield* loadMetaProperties(config, options.claimClusterId)
    const text = yield* Durable.readIfExists(file)
    const stored: ReadonlyArray<Topic> =
      text === undefined
        ? []
        : yield* Effect.try({ try: () => parseStored(file, text), catch: (e) => e as KafkaStorageError })
    const strays = options.strays === undefined || stored.length === 0 ? [] : yield* options.strays(stored)
    for (const { topic, reason } of strays) {
      yield* Effect.logInfo(`Deleting the stray logs of topic ${topic.name} (id ${topic.topicId}): ${reason}`)
      yield* partitions.deletePartitions(topic.name)
    }
    const loaded = stored.filter((t) => !strays.some((s) => s.topic.topicId === t.topicId))
    const ref = yield* SynchronizedRef.make<State>({ byName: new Map(loaded.map((t) => [t.name, t])) })
    let hooks: ClusterHooks | undefined
    const liveBrokers = () => hooks?.liveBrokers() ?? [nodeId]
    const publish = (change: TopicChange): Effect.Effect<void, BrokerError> =>
      hooks === undefined ? Effect.void : hooks.publish(change)

    const logConfig = (t: Topic) => TopicConfig.toLogConfig(config, t.configs)
    const open = (t: Topic, hosted?: ReadonlyArray<number>) =>
      partitions.createPartitions({
        topic: t.name,
        topicId: t.topicId,
        count: t.partitions,
        config: logConfig(t),
        hosted
      })

    /**
     * The replica lists of partitions `from` up of a topic whose `topic.partitions - from` partitions are reserved
     * (undefined for a single node's registry); a failure gives the reservation back.
     */
    const place = (topic: Topic, from: number, given: ReadonlyArray<ReadonlyArray<number>> | undefined) =>
      hooks === undefined
        ? Effect.succeed(undefined)
        : hooks.place(topic, from, given).pipe(
            Effect.tapError(() =>
              Effect.sync(() => {
                reserved -= topic.partitions - from
              })
            )
          )
    /** The partitions of `lists` (partition `from` first) placed on this broker; every one without a placement. */
    const placedHere = (lists: ReadonlyArray<ReadonlyArray<number>> | undefined, from: number) =>
      lists?.flatMap((replicas, i) => (replicas.includes(nodeId) ? [from + i] : []))

    const persist = (state: State) =>
      Durable.writeAtomic(
        file,
        `${JSON.stringify({ version: 1, topics: [...state.byName.values()] } satisfies StoredFile, null, 1)}\n`
      )

    if (strays.length > 0) yield* persist(yield* SynchronizedRef.get(ref))
    for (const t of loaded) yield* open(t)
    if (loaded.length > 0) yield* Effect.logInfo(`Loaded ${loaded.length} topic(s) from ${file}`)

    const validateConfigs = (
      configs: ReadonlyArray<{ readonly name: string; readonly value: string | null }>
    ): Effect.Effect<Record<string, string>, InvalidConfig | InvalidRequest> => {
      const out: Record<string, string> = {}
      for (const c of configs) {
        if (Object.hasOwn(out, c.name)) {
          return fail(new InvalidRequest({ message: `Duplicate config name ${c.name}` }))
        }
        const problem = TopicConfig.check(c.name, c.value)
        if (problem !== undefined) return fail(new InvalidConfig({ message: problem }))
        out[c.name] = TopicConfig.normalize(c.name, c.value!)
      }
      return Effect.succeed(out)
    }

    const checkNewName = (state: State, name: string): Effect.Effect<void, InvalidTopic | TopicAlreadyExists> => {
      const problem = validateName(name)
      if (problem !== undefined) return fail(new InvalidTopic({ message: problem }))
      if (state.byName.has(name)) return fail(new TopicAlreadyExists({ message: `Topic '${name}' already exists.` }))
      const key = collisionKey(name)
      for (const other of state.byName.keys()) {
        if (collisionKey(other) === key) {
          return fail(new InvalidTopic({ message: `Topic '${name}' collides with existing topic: ${other}` }))
        }
      }
      return Effect.void
    }

    // partitions being created outside the serialized section, counted against the limits
    let reserved = 0
    const locks = KeyedLock.make()
    const withTopicLock = (name: string) => locks.withLock(collisionKey(name))
    const maxBrokerPartitions = BrokerConfig.getNumber(config, "max.broker.partitions")
    const descriptorsPerPartition = partitions.descriptorsPerPartition ?? 0
    const hostedPartitions = (state: State) => {
      let n = reserved
      for (const t of state.byName.values()) n += t.partitions
      return n
    }

    /** Checks that `added` more partitions fit the broker's limits (called in the serialized section). */
    const checkCapacity = (state: State, added: number, internal: boolean): Effect.Effect<void, PolicyViolation> => {
      if (added > MAX_PARTITIONS_PER_REQUEST) return fail(tooManyPartitionsPerRequest(added))
      const hosted = hostedPartitions(state)
      if (!internal && hosted + added > maxBrokerPartitions) {
        return fail(
          new PolicyViolation({
            message: `Creating ${added} partition(s) would bring this broker to ${hosted + added} partitions, above max.broker.partitions (${maxBrokerPartitions}).`
          })
        )
      }
      const usage = descriptorsPerPartition > 0 ? Descriptors.usage() : undefined
      if (usage !== undefined) {
        const reserve = Descriptors.reserveOf(usage.limit)
        const free = usage.limit - reserve - usage.open - reserved * descriptorsPerPartition
        const needed = added * descriptorsPerPartition
        if (needed > free) {
          return fail(
            new PolicyViolation({
              message: `Creating ${added} partition(s) needs about ${needed} file descriptors; ${Math.max(free, 0)} are free above the ${reserve} kept for connections (open files limit ${usage.limit}, ${usage.open} open). Raise the limit (ulimit -n) or create fewer partitions.`
            })
          )
        }
      }
      return Effect.void
    }

    /**
     * Opens the partitions `existing..topic.partitions-1` outside the serialized section, then publishes the topic
     * with `commit`; on any failure the partitions from `existing` up are closed and deleted. The reservation of
     * the added partitions is given back either way.
     */
    const build = (
      topic: Topic,
      existing: number,
      commit: Effect.Effect<Topic, BrokerError>,
      hosted?: ReadonlyArray<number>
    ): Effect.Effect<Topic, BrokerError> =>
      Effect.zipRight(open(topic, hosted), commit).pipe(
        Effect.tapErrorCause((cause) =>
          Effect.zipRight(
            Effect.logWarning(
              `Creating partitions ${existing}..${topic.partitions - 1} of ${topic.name} failed; removing them`,
              cause
            ),
            partitions
              .deletePartitions(topic.name, existing)
              .pipe(Effect.catchAllCause((c) => Effect.logError(`Removing partitions of ${topic.name} failed`, c)))
          )
        ),
        Effect.ensuring(
          Effect.sync(() => {
            reserved -= topic.partitions - existing
          })
        )
      )

    /** Validates a creation and reserves its partitions (unless validate-only); in the serialized section. */
    const prepareCreate = (
      state: State,
      request: CreateTopic,
      validateOnly: boolean,
      internal: boolean
    ): Effect.Effect<Topic, BrokerError> =>
      Effect.gen(function* () {
        yield* checkNewName(state, request.name)
        const assignments = request.assignments ?? []
        let count: number
        let rf: number
        if (assignments.length > 0) {
          if (request.numPartitions !== -1 || request.replicationFactor !== -1) {
            return yield* new InvalidRequest({
              message:
                "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time."
            })
          }
          const sorted = [...assignments].sort((a, b) => a.partitionIndex - b.partitionIndex)
          for (let i = 0; i < sorted.length; i++) {
            const a = sorted[i]!
            if (a.partitionIndex !== i) {
              return yield* new InvalidPartitions({
                message: "Partitions should be a consecutive 0-based integer sequence"
              })
            }
            const live = liveBrokers()
            if (a.brokerIds.length === 0 || a.brokerIds.some((b) => !live.includes(b))) {
              return yield* new InvalidReplicationFactor({
                message: `Replica assignment ${JSON.stringify(a.brokerIds)} for partition ${i} names unknown brokers; the registered brokers are ${live.join(", ")}.`
              })
            }
            if (a.brokerIds.length !== sorted[0]!.brokerIds.length) {
              return yield* new InvalidReplicationFactor({
                message: "All partitions should have the same number of replicas"
              })
            }
            if (new Set(a.brokerIds).size !== a.brokerIds.length) {
              return yield* new InvalidRequest({ message: `Duplicate brokers in assignment of partition ${i}` })
            }
          }
          count = sorted.length
          rf = sorted[0]!.brokerIds.length
        } else {
          count =
            request.numPartitions === -1 ? BrokerConfig.getNumber(config, "num.partitions") : request.numPartitions
          rf =
            request.replicationFactor === -1
              ? BrokerConfig.getNumber(config, "default.replication.factor")
              : request.replicationFactor
          if (!Number.isInteger(count) || count <= 0) {
            return yield* new InvalidPartitions({
              message: "Number of partitions was set to an invalid non-positive value."
            })
          }
          if (!Number.isInteger(rf) || rf <= 0) {
            return yield* new InvalidReplicationFactor({
              message: "Replication factor must be larger than 0, or -1 to use the default value."
            })
          }
        }
        const brokers = liveBrokers().length
        if (rf > brokers) {
          return yield* new InvalidReplicationFactor({
            message: `Unable to replicate the partition ${rf} time(s): The target replication factor of ${rf} cannot be reached because only ${brokers} broker(s) are registered.`
          })
        }
        const configs = yield* validateConfigs(request.configs ?? [])
        const topic: Topic = {
          name: request.name,
          topicId: Uuid.random(),
          partitions: count,
          replicationFactor: rf,
          configs,
          internal: internal || isInternal(request.name)
        }
        yield* checkCapacity(state, count, topic.internal)
        if (!validateOnly) reserved += count
        return topic
      })

    /** Creates a topic; the caller holds the topic's lock. */
    const createLocked = (
      request: CreateTopic,
      validateOnly: boolean,
      internal: boolean
    ): Effect.Effect<Topic, BrokerError> =>
      Effect.uninterruptible(
        Effect.gen(function* () {
          const topic = yield* SynchronizedRef.modifyEffect(ref, (state) =>
            Effect.map(prepareCreate(state, request, validateOnly, internal), (t) => [t, state] as const)
          )
          if (validateOnly) return topic
          const assignments =
            request.assignments === undefined || request.assignments.length === 0
              ? undefined
              : [...request.assignments].sort((a, b) => a.partitionIndex - b.partitionIndex).map((a) => a.brokerIds)
          const replicas = yield* place(topic, 0, assignments)
          const created = yield* build(
            topic,
            0,
            SynchronizedRef.modifyEffect(ref, (state) => {
              const next: State = { byName: new Map(state.byName).set(topic.name, topic) }
              return Effect.as(persist(next), [topic, next] as const)
            }),
            placedHere(replicas, 0)
          )
          if (replicas === undefined) return created
          // another broker may have created the name first: this creation is undone
          yield* publish({ _tag: "Created", topic: created, replicas }).pipe(
            Effect.tapError(() => removeLocal(created.name, (t) => t.topicId === created.topicId))
          )
          return created
        })
      )

    /** Removes a topic here (no publication): its entry, then its partitions; the caller holds its lock. */
    const removeLocal = (name: string, matches: (t: Topic) => boolean) =>
      SynchronizedRef.modifyEffect(ref, (state): Effect.Effect<readonly [Topic | undefined, State], BrokerError> => {
        const topic = state.byName.get(name)
        if (topic === undefined || !matches(topic)) return Effect.succeed([undefined, state] as const)
        const byName = new Map(state.byName)
        byName.delete(topic.name)
        const next: State = { byName }
        return Effect.as(persist(next), [topic, next] as const)
      }).pipe(Effect.tap((topic) => (topic === undefined ? Effect.void : partitions.deletePartitions(topic.name))))

    const requireTopic = (state: State, name: string) => {
      const t = state.byName.get(name)
      return t === undefined
        ? fail(new UnknownTopicOrPartition({ message: "This server does not host this topic-partition." }))
        : Effect.succeed(t)
    }

    const replaceTopic = (state: State, topic: Topic, validateOnly: boolean, reconfigure: boolean) =>
      Effect.gen(function* () {
        if (validateOnly) return [topic, state] as const
        yield* publish({ _tag: "Reconfigured", topic })
        const next: State = { byName: new Map(state.byName).set(topic.name, topic) }
        yield* persist(next)
        if (reconfigure) yield* partitions.applyConfig(topic.name, logConfig(topic))
        return [topic, next] as const
      })

    /** Deletes the topic `name` when `matches` holds for it (else `missing`), then its partitions. */
    const deleteTopic = (
      name: string,
      matches: (t: Topic) => boolean,
      missing: () => BrokerError
    ): Effect.Effect<Topic, BrokerError> =>
      withTopicLock(name)(
        Effect.uninterruptible(
          Effect.gen(function* () {
            const topic = (yield* SynchronizedRef.get(ref)).byName.get(name)
            if (topic === undefined || !matches(topic)) return yield* fail(missing())
            // the store first: a topic the cluster still has is not removed here
            yield* publish({ _tag: "Deleted", topic })
            yield* removeLocal(name, (t) => t.topicId === topic.topicId)
            return topic
          })
        )
      )
    const unknownTopic = () =>
      new UnknownTopicOrPartition({ message: "This server does not host this topic-partition." })

    /** `key`'s replication factor, capped to the live brokers (logged, as a single node always caps Kafka's 3). */
    const internalReplicationFactor = (topic: string, key: string) =>
      Effect.gen(function* () {
        const wanted = BrokerConfig.getNumber(config, key)
        const live = liveBrokers().length
        if (wanted <= live) return wanted
        yield* Effect.logInfo(
          `Creating ${topic} with replication factor ${live}: ${key} is ${wanted} but only ${live} broker(s) are live`
        )
        return live
      })

    const internalDefaults = (name: string) =>
      Effect.map(
        internalReplicationFactor(
          name,
          name === CONSUMER_OFFSETS ? "offsets.topic.replication.factor" : "transaction.state.log.replication.factor"
        ),
        (rf) => internalRequest(name, rf)
      )

    const internalRequest = (name: string, replicationFactor: number): CreateTopic => {
      if (name === CONSUMER_OFFSETS) {
        return {
          name,
          numPartitions: BrokerConfig.getNumber(config, "offsets.topic.num.partitions"),
          replicationFactor,
          configs: [
            { name: "cleanup.policy", value: "compact" },
            { name: "compression.type", value: "producer" },
            { name: "segment.bytes", value: BrokerConfig.get(config, "offsets.topic.segment.bytes")! }
          ]
        }
      }
      return {
        name,
        numPartitions: BrokerConfig.getNumber(config, "transaction.state.log.num.partitions"),
        replicationFactor,
        configs: [
          { name: "cleanup.policy", value: "compact" },
          { name: "compression.type", value: "uncompressed" },
          { name: "min.insync.replicas", value: BrokerConfig.get(config, "transaction.state.log.min.isr")! },
          { name: "segment.bytes", value: "104857600" }
        ]
      }
    }

    /** Opens, grows or reconfigures a topic as the store has it; no publication. */
    const adopt = (topic: Topic): Effect.Effect<void, BrokerError> =>
      withTopicLock(topic.name)(
        Effect.uninterruptible(
          Effect.gen(function* () {
            const existing = (yield* SynchronizedRef.get(ref)).byName.get(topic.name)
            // a topic of the same name with another id was deleted and created again meanwhile
            if (existing !== undefined && existing.topicId !== topic.topicId) {
              yield* removeLocal(topic.name, (t) => t.topicId === existing.topicId)
            }
            const local = existing !== undefined && existing.topicId === topic.topicId ? existing : undefined
            const from = local?.partitions ?? 0
            const put = (t: Topic) =>
              SynchronizedRef.modifyEffect(ref, (state) => {
                const next: State = { byName: new Map(state.byName).set(t.name, t) }
                return Effect.as(persist(next), [t, next] as const)
              })
            const next: Topic = { ...topic, partitions: Math.max(topic.partitions, from) }
            if (next.partitions > from && hooks !== undefined) {
              // the partition records host what is placed here (ReplicaManager.applyPartitionState); a log a record
              // opened before the topic came takes its configs
              yield* put(next)
              yield* partitions.applyConfig(next.name, logConfig(next))
              return
            }
            if (next.partitions > from) {
              reserved += next.partitions - from
              yield* build(next, from, put(next))
            }
            if (local !== undefined && JSON.stringify(local.configs) !== JSON.stringify(next.configs)) {
              yield* put(next)
              yield* partitions.applyConfig(next.name, logConfig(next))
            }
          })
        )
      )

    return TopicRegistry.of({
      attach: (h) =>
        Effect.sync(() => {
          hooks = h
        }),
      adopt,
      forget: (name, topicId) =>
        withTopicLock(name)(
          Effect.uninterruptible(
            Effect.asVoid(removeLocal(name, (t) => topicId === undefined || t.topicId === topicId))
          )
        ),
      clusterId,
      nodeId,
      config,
      list: Effect.map(SynchronizedRef.get(ref), (s) =>
        [...s.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      ),
      get: (name) => Effect.map(SynchronizedRef.get(ref), (s) => s.byName.get(name)),
      getById: (topicId) =>
        Effect.map(SynchronizedRef.get(ref), (s) => {
          for (const t of s.byName.values()) if (t.topicId === topicId) return t
          return undefined
        }),
      create: (request, options) =>
        withTopicLock(request.name)(createLocked(request, options?.validateOnly ?? false, options?.internal ?? false)),
      autoCreate: (name) =>
        withTopicLock(name)(
          Effect.flatMap(SynchronizedRef.get(ref), (state) => {
            const existing = state.byName.get(name)
            if (existing !== undefined) return Effect.succeed(existing)
            const request: Effect.Effect<CreateTopic> = isInternal(name)
              ? internalDefaults(name)
              : Effect.succeed({ name, numPartitions: -1, replicationFactor: -1 })
            return Effect.flatMap(request, (r) =>
              Effect.tap(createLocked(r, false, isInternal(name)), (t) =>
                Effect.logInfo(`Auto-created topic ${t.name} with ${t.partitions} partition(s)`)
              )
            )
          })
        ),
      delete: (name) => deleteTopic(name, () => true, unknownTopic),
      deleteById: (topicId) =>
        Effect.flatMap(SynchronizedRef.get(ref), (state) => {
          const missing = () => new UnknownTopicId({ message: `Topic id ${topicId} does not exist.` })
          for (const t of state.byName.values()) {
            if (t.topicId === topicId) return deleteTopic(t.name, (found) => found.topicId === topicId, missing)
          }
          return fail(missing())
        }),
      createPartitions: (name, count, options) =>
        withTopicLock(name)(
          Effect.uninterruptible(
            Effect.gen(function* () {
              const t = yield* SynchronizedRef.modifyEffect(ref, (state) =>
                Effect.gen(function* () {
                  const t = yield* requireTopic(state, name)
                  if (!Number.isInteger(count) || count < t.partitions) {
                    return yield* new InvalidPartitions({
                      message: `Topic currently has ${t.partitions} partitions, which is higher than the requested ${count}.`
                    })
                  }
                  if (count === t.partitions) {
                    return yield* new InvalidPartitions({ message: `Topic already has ${t.partitions} partitions.` })
                  }
                  yield* checkCapacity(state, count - t.partitions, t.internal)
                  if (!options?.validateOnly) reserved += count - t.partitions
                  return [t, state] as const
                })
              )
              const grown: Topic = { ...t, partitions: count }
              if (options?.validateOnly) return grown
              const setCount = (n: number) =>
                SynchronizedRef.modifyEffect(ref, (state) => {
                  // the current entry: only this topic's lock holder changes it, but keep what is there
                  const current: Topic = { ...(state.byName.get(name) ?? t), partitions: n }
                  const next: State = { byName: new Map(state.byName).set(name, current) }
                  return Effect.as(persist(next), [current, next] as const)
                })
              const replicas = yield* place(grown, t.partitions, options?.assignments)
              const done = yield* build(grown, t.partitions, setCount(count), placedHere(replicas, t.partitions))
              if (replicas === undefined) return done
              yield* publish({ _tag: "Grown", topic: done, from: t.partitions, replicas }).pipe(
                Effect.tapError(() =>
                  Effect.zipRight(setCount(t.partitions), partitions.deletePartitions(name, t.partitions))
                )
              )
              return done
            })
          )
        ),
      alterConfigs: (name, configs, options) =>
        withTopicLock(name)(
          SynchronizedRef.modifyEffect(ref, (state) =>
            Effect.gen(function* () {
              const t = yield* requireTopic(state, name)
              const validated = yield* validateConfigs(configs)
              return yield* replaceTopic(state, { ...t, configs: validated }, options?.validateOnly ?? false, true)
            })
          )
        ),
      incrementalAlterConfigs: (name, ops, options) =>
        withTopicLock(name)(
          SynchronizedRef.modifyEffect(ref, (state) =>
            Effect.gen(function* () {
              const t = yield* requireTopic(state, name)
              const seen = new Set<string>()
              const configs: Record<string, string> = { ...t.configs }
              for (const op of ops) {
                if (seen.has(op.name)) {
                  return yield* new InvalidRequest({ message: `Error due to duplicate config keys: ${op.name}` })
                }
                seen.add(op.name)
                const k = TopicConfig.findKey(op.name)
                if (k === undefined)
                  return yield* new InvalidConfig({ message: `Unknown topic config name: ${op.name}` })
                switch (op.op) {
                  case 0: {
                    const problem = TopicConfig.check(op.name, op.value)
                    if (problem !== undefined) return yield* new InvalidConfig({ message: problem })
                    configs[op.name] = TopicConfig.normalize(op.name, op.value!)
                    break
                  }
                  case 1:
                    delete configs[op.name]
                    break
                  case 2:
                  case 3: {
                    if (k.type !== "list") {
                      return yield* new InvalidConfig({
                        message: `Config value ${op.op === 2 ? "append" : "subtract"} is not allowed for config key: ${op.name}`
                      })
                    }
                    const current = (configs[op.name] ?? TopicConfig.brokerDefault(config, k).value ?? "")
                      .split(",")
                      .filter((s) => s !== "")
                    const items = (op.value ?? "")
                      .split(",")
                      .map((s) => s.trim())
                      .filter((s) => s !== "")
                    const value =
                      op.op === 2
                        ? [...current, ...items.filter((i) => !current.includes(i))]
                        : current.filter((c) => !items.includes(c))
                    const joined = value.join(",")
                    const problem = TopicConfig.check(op.name, joined)
                    if (problem !== undefined) return yield* new InvalidConfig({ message: problem })
                    configs[op.name] = joined
                    break
                  }
                  default:
                    return yield* new InvalidRequest({ message: `Unknown config operation ${op.op as number}` })
                }
              }
              return yield* replaceTopic(state, { ...t, configs }, options?.validateOnly ?? false, true)
            })
          )
        )
    })
  })

const parseStored = (file: string, text: string): ReadonlyArray<Topic> => {
  let parsed: StoredFile
  try {
    parsed = JSON.parse(text) as StoredFile
  } catch (e) {
    throw Durable.storageFailure(`${file} is not valid JSON: ${(e as Error).message}`, file)
  }
  if (parsed.version !== 1 || !Array.isArray(parsed.topics)) {
    throw Durable.storageFailure(`${file} has an unknown format`, file)
  }
  return parsed.topics.map((t) => ({
    name: String(t.name),
    topicId: String(t.topicId),
    partitions: Number(t.partitions),
    replicationFactor: Number(t.replicationFactor),
    configs: { ...t.configs },
    internal: Boolean(t.internal)
  }))
}

/** The registry as a layer over `config`'s data directory. */
export const layer = <E = never>(
  config: BrokerConfig.BrokerConfig,
  options: RegistryOptions<E> = {}
): Layer.Layer<TopicRegistry, KafkaStorageError | E, PartitionManager> =>
  Layer.effect(TopicRegistry, make(config, options))
