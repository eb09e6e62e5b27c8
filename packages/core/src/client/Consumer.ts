/**
 * The group consumer: a member of a consumer group speaking the classic protocol (FindCoordinator,
 * JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch), with the `range`, `roundrobin`
 * and `cooperative-sticky` assignors of the Java client (same names, same bytes) or custom ones
 * (`PartitionAssignor`, user data both ways), and records as an Effect `Stream` built on the Fetcher's
 * `fetchOnce`. The leader rejoins when a subscribed topic appears or changes its partition count.
 *
 * One membership fiber joins and syncs (the leader computes the assignment), a heartbeat fiber keeps the
 * member alive between rebalances, and streams (or `forEach`) read the partitions assigned to this member. A
 * record counts as consumed once the stream is pulled again after it (or the stream ends normally after it;
 * with `forEach`, once its Effect succeeded): auto-commit and `commit()` commit consumed offsets, so
 * processing is at-least-once. Closing the Scope commits consumed offsets and leaves the group.
 */
import {
  Channel,
  Chunk,
  Clock,
  type ConfigError,
  Context,
  Deferred,
  Duration,
  Effect,
  ExecutionStrategy,
  Exit,
  Fiber,
  Layer,
  Option,
  Queue,
  Schedule,
  Schema,
  Scope,
  Stream
} from "effect"
import type { ApiKey, RequestTypes, ResponseTypes } from "../protocol/generated/ApiKey.js"
import * as FindCoordinator from "../protocol/generated/FindCoordinator.js"
import * as Heartbeat from "../protocol/generated/Heartbeat.js"
import * as JoinGroup from "../protocol/generated/JoinGroup.js"
import * as LeaveGroup from "../protocol/generated/LeaveGroup.js"
import * as OffsetCommit from "../protocol/generated/OffsetCommit.js"
import * as OffsetFetch from "../protocol/generated/OffsetFetch.js"
import * as SyncGroup from "../protocol/generated/SyncGroup.js"
import * as ClientConfig from "./ClientConfig.js"
import * as ClientError from "./ClientError.js"
import * as Cluster from "./Cluster.js"
import * as Connection from "./Connection.js"
import * as Fetcher from "./Fetcher.js"
import * as Assignors from "./internal/assignors.js"
import * as Topic from "./Topic.js"

/** A partition of a topic. */
export interface TopicPartition {
  readonly topic: string
  readonly partition: number
}

/** An offset to commit for a partition. */
export interface TopicPartitionOffset extends TopicPartition {
  readonly offset: number
  readonly metadata?: string
}

/** A member of the group as the leader sees it when a custom assignor runs. */
export interface GroupMember {
  readonly memberId: string
  readonly groupInstanceId: string | null
  /** The topics the member subscribes to. */
  readonly topics: ReadonlyArray<string>
  /** The partitions the member owned when it joined (sent by cooperative members; usually empty under eager). */
  readonly ownedPartitions: ReadonlyArray<TopicPartition>
  /** The generation of `ownedPartitions` (-1 when unknown). */
  readonly generationId: number
  /** The bytes the member's `subscriptionUserData` returned (null when none or unreadable). */
  readonly userData: Uint8Array | null
}

/** What the leader hands a custom assignor: every member, and the partition count of each subscribed topic. */
export interface GroupSubscription {
  readonly members: ReadonlyArray<GroupMember>
  /** Partition counts of the subscribed topics that exist (a topic not yet created is left out). */
  readonly partitionCounts: ReadonlyMap<string, number>
}

/** One member's share of an assignment: its partitions and the assignor's bytes for it. */
export interface MemberAssignment {
  readonly partitions: ReadonlyArray<TopicPartition>
  readonly userData: Uint8Array | null
}

/**
 * A custom partition assignor (Kafka's `ConsumerPartitionAssignor`), given in `partition.assignment.strategy`
 * beside or instead of the built-in names. Every member sends `subscriptionUserData` in its JoinGroup; the
 * leader runs `assign` over all members; each member gets its share (partitions and user data) in SyncGroup
 * and `onAssignment` runs with it, before `onPartitionsAssigned`. Custom assignors use the eager protocol.
 */
export interface PartitionAssignor {
  /** The protocol name every member of the group announces (e.g. `stream`). */
  readonly name: string
  /** This member's subscription user data, computed at each join. */
  readonly subscriptionUserData?: (topics: ReadonlyArray<string>) => Effect.Effect<Uint8Array | null>
  /** Run by the leader: member id -> its assignment (members left out get nothing). */
  readonly assign: (group: GroupSubscription) => Effect.Effect<ReadonlyMap<string, MemberAssignment>>
  /** Runs on every member after each successful rebalance with its assignment (even an empty one). */
  readonly onAssignment?: (assignment: MemberAssignment, generationId: number) => Effect.Effect<void>
}

/** An assignor: a built-in one by name, or a custom one. */
export type AssignmentStrategy = Assignors.AssignorName | PartitionAssignor

/** Consumer settings (Kafka consumer names and defaults), plus the rebalance callbacks. */
export interface ConsumerConfig extends Fetcher.FetcherConfig {
  /** The consumer group; required. */
  readonly "group.id"?: string
  /** Static membership: a stable id for this member across restarts. */
  readonly "group.instance.id"?: string
  /** The coordinator removes a member that sends no heartbeat for this long. Default 45000. */
  readonly "session.timeout.ms"?: number
  /** Heartbeat period. Default 3000. */
  readonly "heartbeat.interval.ms"?: number
  /** Longest time between pulls of a stream before the member leaves the group; the rebalance timeout. Default 300000. */
  readonly "max.poll.interval.ms"?: number
  /**
   * Assignors in order of preference: built-in names, or custom {@link PartitionAssignor}s. Default
   * ["range", "roundrobin"].
   */
  readonly "partition.assignment.strategy"?: ReadonlyArray<AssignmentStrategy> | string
  /** Commit consumed offsets every `auto.commit.interval.ms`. Default true. */
  readonly "enable.auto.commit"?: boolean
  /** Default 5000. */
  readonly "auto.commit.interval.ms"?: number
  /**
   * Runs when partitions are assigned, before their records are fetched (eager: the whole assignment;
   * cooperative: the added partitions).
   */
  readonly onPartitionsAssigned?: (partitions: ReadonlyArray<TopicPartition>) => Effect.Effect<void>
  /** Runs before partitions are given up (after their consumed offsets are committed). */
  readonly onPartitionsRevoked?: (partitions: ReadonlyArray<TopicPartition>) => Effect.Effect<void>
  /**
   * Commit consumed offsets before partitions are revoked and when the scope closes. Default true. With
   * false (and `enable.auto.commit` false) the consumer never commits on its own, as the Java client with
   * auto-commit off: a runtime that commits in `onPartitionsRevoked` (or in a transaction) owns every commit.
   */
  readonly commitConsumedOnRevoke?: boolean
}

/** The consumer's own defaults. */
export const defaults = {
  "session.timeout.ms": 45000,
  "heartbeat.interval.ms": 3000,
  "max.poll.interval.ms": 300000,
  "partition.assignment.strategy": ["range", "roundrobin"] as ReadonlyArray<Assignors.AssignorName>,
  "enable.auto.commit": true,
  "auto.commit.interval.ms": 5000
} as const

/** A consumer setting is missing or invalid (e.g. no `group.id`). */
export class ConsumerConfigError extends Schema.TaggedError<ConsumerConfigError>()("ConsumerConfigError", {
  message: Schema.String
}) {}

/** Errors of a consumer stream or call. */
export type ConsumerError = Fetcher.FetchError

/** A topic or a topic name. */
// biome-ignore lint/suspicious/noExplicitAny: any typed topic
export type AnyTopic = Topic.Topic<any, any> | string

/** The record type of a topic (raw bytes for a topic name). */
export type RecordOf<T> =
  T extends Topic.Topic<infer K, infer V>
    ? Topic.ConsumerRecord<K, V>
    : Topic.ConsumerRecord<Uint8Array | null, Uint8Array | null>

/** Consecutive records of one partition, from one fetch round (see {@link Consumer.batches}). */
export interface ConsumerBatch<R> {
  readonly topic: string
  readonly partition: number
  readonly records: ReadonlyArray<R>
}

/** A group consumer. */
export interface Consumer {
  readonly groupId: string
  /** The member id given by the coordinator ("" when not in the group). */
  readonly memberId: () => string
  /** The current generation (-1 when not in the group). */
  readonly generationId: () => number
  /** The partitions assigned to this member. */
  readonly assignment: () => ReadonlyArray<TopicPartition>
  /**
   * Subscribes to `topic` while the stream runs and emits the records of the partitions assigned to this
   * member, decoded with the topic's serdes. One fetch round is made when the buffered records are used up.
   * A record counts as consumed once the stream is pulled again after it: an operator that pulls ahead of
   * the work (`Stream.buffer`, `mapEffect` with concurrency) makes it consumed before that work is done.
   */
  readonly records: {
    <K, V>(topic: Topic.Topic<K, V>): Stream.Stream<Topic.ConsumerRecord<K, V>, ConsumerError>
    (topic: string): Stream.Stream<Topic.ConsumerRecord<Uint8Array | null, Uint8Array | null>, ConsumerError>
  }
  /** Like {@link Consumer.records} for several topics at once (one subscription, one rebalance). */
  readonly stream: <const T extends ReadonlyArray<AnyTopic>>(
    topics: T
  ) => Stream.Stream<RecordOf<T[number]>, ConsumerError>
  /**
   * Like {@link Consumer.stream}, one element per partition per fetch round: the records of a batch count as
   * consumed together, once the stream is pulled past the batch (or ends normally after it). For
   * throughput: the stream's work per element is paid once per batch instead of once per record.
   */
  readonly batches: <const T extends ReadonlyArray<AnyTopic>>(
    topics: T
  ) => Stream.Stream<ConsumerBatch<RecordOf<T[number]>>, ConsumerError>
  /**
   * Subscribes to `topics` and runs `f` on each record of the partitions assigned to this member, one
   * record at a time (like kafkajs's `eachMessage`); a record counts as consumed once `f` has succeeded on it.
   * Runs until interrupted, or fails with the first failure of `f` (that record is not consumed) or of
   * the consumer. No stream machinery per record: the fastest way to handle records one by one.
   */
  readonly forEach: <const T extends ReadonlyArray<AnyTopic>, E, R>(
    topics: T,
    f: (record: RecordOf<T[number]>) => Effect.Effect<unknown, E, R>
  ) => Effect.Effect<never, ConsumerError | E, R>
  /** Commits the consumed offsets of the assigned partitions. */
  readonly commit: Effect.Effect<void, ConsumerError>
  /** Commits explicit offsets (the offset of the next record to read). */
  readonly commitOffsets: (offsets: ReadonlyArray<TopicPartitionOffset>) => Effect.Effect<void, ConsumerError>
  /** The group's committed offsets (-1 where none). */
  readonly committed: (
    partitions: ReadonlyArray<TopicPartition>
  ) => Effect.Effect<ReadonlyArray<TopicPartitionOffset>, ConsumerError>
  /**
   * Moves the read position of a partition (now if assigned, else when it is assigned next). Buffered records
   * of the partition are dropped.
   */
  readonly seek: (
    partition: TopicPartition,
    offset: number | "earliest" | "latest"
  ) => Effect.Effect<void, ConsumerError>
  /** Asks for a rebalance now (Kafka's `enforceRebalance`): the member rejoins the group. */
  readonly enforceRebalance: Effect.Effect<void>
  /** Stops fetching `partitions` (they stay assigned). */
  readonly pause: (partitions: ReadonlyArray<TopicPartition>) => Effect.Effect<void>
  /** Resumes fetching `partitions`. */
  readonly resume: (partitions: ReadonlyArray<TopicPartition>) => Effect.Effect<void>
}

/** The Consumer service. */
export class ConsumerTag extends Context.Tag("@eddy/core/client/Consumer")<ConsumerTag, Consumer>() {}

interface PartitionState {
  /** Next offset to fetch (undefined until known). */
  fetchPos: number
  /** Offset after the last consumed record (undefined before any). */
  consumed: number | undefined
  committed: number | undefined
  /** Bumped by seeks and revocation: records fetched under an older epoch are dropped. */
  epoch: number
  paused: boolean
}

/** Buffered records of one partition from one fetch round: `records[next..end)` are still to be emitted. */
interface Run {
  readonly topic: Topic.Topic<unknown, unknown>
  readonly state: PartitionState
  /** The partition's epoch when fetched: a seek or revocation since then drops the run. */
  readonly epoch: number
  readonly records: ReadonlyArray<Topic.ConsumerRecord<Uint8Array | null, Uint8Array | null>>
  next: number
  readonly end: number
}

/** Decodes a raw record with its topic's serdes (decoded one by one, so records before a bad one are emitted). */
/** What a reader's poll returns when it has no element now: an Effect to run before polling again. */
class Wait {
  constructor(readonly effect: Effect.Effect<void, ConsumerError>) {}
}

const decodeRecord = (
  topic: Topic.Topic<unknown, unknown>,
  r: Topic.ConsumerRecord<Uint8Array | null, Uint8Array | null>
): Topic.ConsumerRecord<unknown, unknown> | Topic.RecordDecodeError => {
  let field: "key" | "value" = "key"
  try {
    const key = r.key === null ? null : topic.key.decode(r.key)
    field = "value"
    const value = topic.value.decode(r.value)
    // raw topics decode to the same bytes: the record is already the answer
    return key === r.key && value === r.value ? r : { ...r, key, value }
  } catch (e) {
    return new Topic.RecordDecodeError({
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      field,
      message: Topic.errorMessage(e)
    })
  }
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`

/** Error codes after which the coordinator must be looked up again. */
const isCoordinatorError = (code: number) => code === 14 || code === 15 || code === 16

/** Starts a consumer in the current scope; closing the scope commits consumed offsets and leaves the group. */
export const make = (config: ConsumerConfig): Effect.Effect<Consumer, ConsumerConfigError, Scope.Scope> =>
  Effect.flatMap(validate(config), () =>
    Effect.flatMap(Cluster.make({ ...config, "allow.auto.create.topics": false }), (cluster) =>
      makeWith(cluster, config)
    )
  )

const customOf = (config: ConsumerConfig): ReadonlyMap<string, PartitionAssignor> => {
  const s = config["partition.assignment.strategy"]
  const out = new Map<string, PartitionAssignor>()
  if (s !== undefined && typeof s !== "string") for (const x of s) if (typeof x !== "string") out.set(x.name, x)
  return out
}

const strategiesOf = (config: ConsumerConfig): ReadonlyArray<string> => {
  const s = config["partition.assignment.strategy"] ?? defaults["partition.assignment.strategy"]
  return (typeof s === "string" ? s.split(",") : s.map((x) => (typeof x === "string" ? x : x.name)))
    .map((x) => x.trim())
    .filter((x) => x.length > 0)
}

const validate = (config: ConsumerConfig): Effect.Effect<void, ConsumerConfigError> => {
  const groupId = config["group.id"]
  if (groupId === undefined || groupId === "") {
    return Effect.fail(new ConsumerConfigError({ message: "group.id is required for a group consumer" }))
  }
  const strategies = strategiesOf(config)
  if (strategies.length === 0) {
    return Effect.fail(new ConsumerConfigError({ message: "partition.assignment.strategy is empty" }))
  }
  const custom = customOf(config)
  const unknown = strategies.find((s) => !Assignors.isAssignorName(s) && !custom.has(s))
  if (unknown !== undefined) {
    return Effect.fail(
      new ConsumerConfigError({
        message: `unknown assignor "${unknown}" in partition.assignment.strategy (range, roundrobin, cooperative-sticky)`
      })
    )
  }
  const session = config["session.timeout.ms"] ?? defaults["session.timeout.ms"]
  const heartbeat = config["heartbeat.interval.ms"] ?? defaults["heartbeat.interval.ms"]
  if (heartbeat >= session) {
    return Effect.fail(new ConsumerConfigError({ message: "heartbeat.interval.ms must be below session.timeout.ms" }))
  }
  return Effect.void
}

/** A consumer over an existing cluster. */
export const makeWith = (
  cluster: Cluster.Cluster,
  config: ConsumerConfig
): Effect.Effect<Consumer, ConsumerConfigError, Scope.Scope> =>
  Effect.gen(function* () {
    yield* validate(config)
    const groupId = config["group.id"]!
    const groupInstanceId = config["group.instance.id"] ?? null
    const sessionTimeoutMs = config["session.timeout.ms"] ?? defaults["session.timeout.ms"]
    const heartbeatMs = config["heartbeat.interval.ms"] ?? defaults["heartbeat.interval.ms"]
    const maxPollMs = config["max.poll.interval.ms"] ?? defaults["max.poll.interval.ms"]
    const autoCommit = config["enable.auto.commit"] ?? defaults["enable.auto.commit"]
    const commitOnRevoke = config.commitConsumedOnRevoke ?? true
    const autoCommitMs = config["auto.commit.interval.ms"] ?? defaults["auto.commit.interval.ms"]
    const reset = config["auto.offset.reset"] ?? Fetcher.defaults["auto.offset.reset"]
    const maxWaitMs = config["fetch.max.wait.ms"] ?? Fetcher.defaults["fetch.max.wait.ms"]
    const strategies = strategiesOf(config)
    const custom = customOf(config)
    // Kafka's rule: the cooperative protocol only when every configured assignor supports it
    const cooperative = strategies.every(Assignors.isCooperative)
    // the leader's view of the last assignment: the group's topics and their partition counts, to rejoin when
    // a topic appears or its partition count changes
    let leaderOf: { readonly topics: ReadonlyArray<string>; readonly counts: ReadonlyMap<string, number> } | undefined
    let nextMetadataCheck = 0
    const fetcher = Fetcher.makeWith(cluster, config)
    const resolved = cluster.config

    const consumerScope = yield* Effect.scope
    // coordinator connections close after the consumer's own finalizer (which commits and leaves)
    const coordParent = yield* Scope.fork(consumerScope, ExecutionStrategy.sequential)

    // ------------------------------------------------------------------------------------------------
    // state
    let memberId = ""
    let generationId = -1
    let closed = false
    let pollExpired = false
    let lastPull = yield* Clock.currentTimeMillis
    let activeStreams = 0
    const owned = new Map<string, Map<number, PartitionState>>()
    const subscriptions = new Map<string, number>()
    const pendingSeeks = new Map<string, number | "earliest" | "latest">()
    const signal = yield* Queue.sliding<void>(1)
    const fatal = yield* Deferred.make<never, ConsumerError>()
    // the same failure as a plain value, so that a pull checks it without an Effect step
    let fatalError: ConsumerError | undefined
    const failFatal = (e: ConsumerError) =>
      Effect.suspend(() => {
        fatalError ??= e
        return Deferred.fail(fatal, e)
      })
    const clock = yield* Effect.clock

    const ownedList = (): Array<TopicPartition> => {
      const out: Array<TopicPartition> = []
      for (const [topic, ps] of owned)
        for (const partition of [...ps.keys()].sort((a, b) => a - b)) out.push({ topic, partition })
      return out
    }
    const stateOf = (tp: TopicPartition) => owned.get(tp.topic)?.get(tp.partition)
    const wanted = () => [...subscriptions.keys()].sort()
    const requestRejoin = Effect.asVoid(Queue.offer(signal, undefined))

    // ------------------------------------------------------------------------------------------------
    // the coordinator connection (its own connection, as the Java client does: a JoinGroup may wait for
    // a whole rebalance and must not hold up fetches)
    let coordinator: { readonly conn: Connection.Connection; readonly scope: Scope.CloseableScope } | undefined
    const coordLock = yield* Effect.makeSemaphore(1)

    const dropCoordinator = Effect.suspend(() => {
      const c = coordinator
      coordinator = undefined
      return c === undefined ? Effect.void : Scope.close(c.scope, Exit.void)
    })

    const findCoordinator: Effect.Effect<Connection.Connection, Cluster.Error> = coordLock.withPermits(1)(
      Effect.suspend(() => {
        if (coordinator?.conn.isOpen() === true) return Effect.succeed(coordinator.conn)
        return Effect.gen(function* () {
          yield* dropCoordinator
          if (closed) {
            return yield* new ClientError.ClientClosedError({ message: "the consumer is closed", retriable: false })
          }
          const res = yield* cluster.send(undefined, 10, (v) =>
            FindCoordinator.makeFindCoordinatorRequest(
              v >= 4 ? { keyType: 0, coordinatorKeys: [groupId] } : { key: groupId, keyType: 0 }
            )
          )
          const c = res.coordinators[0] ?? res
          if (c.errorCode !== 0) return yield* ClientError.fromCode(c.errorCode, { message: `group ${groupId}` })
          const scope = yield* Scope.fork(coordParent, ExecutionStrategy.sequential)
          const conn = yield* Connection.make({
            host: c.host,
            port: c.port,
            clientId: resolved["client.id"],
            // a JoinGroup waits up to the rebalance timeout
            requestTimeoutMs: Math.max(resolved["request.timeout.ms"], maxPollMs + 5000),
            connectTimeoutMs: resolved["socket.connection.setup.timeout.ms"]
          }).pipe(
            Scope.extend(scope),
            Effect.tapError(() => Scope.close(scope, Exit.void))
          )
          coordinator = { conn, scope }
          return conn
        })
      })
    )

    const coordSend = <K extends ApiKey>(
      apiKey: K,
      body: (version: number) => RequestTypes[K]
    ): Effect.Effect<ResponseTypes[K], Cluster.Error> =>
      Effect.flatMap(findCoordinator, (conn) =>
        conn.sendNegotiated(apiKey, body).pipe(Effect.tapError(() => dropCoordinator))
      )

    /** Fails with the code's KafkaError; coordinator errors drop the coordinator first. */
    const failCode = (code: number, context: { topic?: string; partition?: number } = {}) =>
      Effect.zipRight(
        isCoordinatorError(code) ? dropCoordinator : Effect.void,
        Effect.fail(ClientError.fromCode(code, { ...context, message: `group ${groupId}` }))
      )

    // ------------------------------------------------------------------------------------------------
    // offsets

    const commitOnce = (offsets: ReadonlyArray<TopicPartitionOffset>) =>
      Effect.gen(function* () {
        const byTopic = new Map<string, Array<TopicPartitionOffset>>()
        for (const o of offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o])
        const inGroup = generationId >= 0 && memberId !== ""
        const res = yield* coordSend(8, () =>
          OffsetCommit.makeOffsetCommitRequest({
            groupId,
            generationIdOrMemberEpoch: inGroup ? generationId : -1,
            memberId: inGroup ? memberId : "",
            groupInstanceId: inGroup ? groupInstanceId : null,
            topics: [...byTopic].map(([name, ps]) =>
              OffsetCommit.makeOffsetCommitRequestTopic({
                name,
                partitions: ps.map((p) =>
                  OffsetCommit.makeOffsetCommitRequestPartition({
                    partitionIndex: p.partition,
                    committedOffset: BigInt(p.offset),
                    committedLeaderEpoch: -1,
                    commitTimestamp: -1n,
                    committedMetadata: p.metadata ?? ""
                  })
                )
              })
            )
          })
        )
        for (const t of res.topics) {
          for (const p of t.partitions) {
            if (p.errorCode !== 0) return yield* failCode(p.errorCode, { topic: t.name, partition: p.partitionIndex })
          }
        }
        for (const o of offsets) {
          const s = stateOf(o)
          if (s !== undefined) s.committed = o.offset
        }
      })

    const commitOffsets = (offsets: ReadonlyArray<TopicPartitionOffset>): Effect.Effect<void, ConsumerError> =>
      offsets.length === 0 ? Effect.void : cluster.retry(commitOnce(offsets))

    const consumedOffsets = (partitions: ReadonlyArray<TopicPartition>): Array<TopicPartitionOffset> => {
      const out: Array<TopicPartitionOffset> = []
      for (const tp of partitions) {
        const s = stateOf(tp)
        if (s?.consumed !== undefined && s.consumed !== s.committed) out.push({ ...tp, offset: s.consumed })
      }
      return out
    }

    const commit = Effect.suspend(() => commitOffsets(consumedOffsets(ownedList())))

    const committed = (
      partitions: ReadonlyArray<TopicPartition>
    ): Effect.Effect<ReadonlyArray<TopicPartitionOffset>, ConsumerError> =>
      partitions.length === 0
        ? Effect.succeed([])
        : cluster.retry(
            Effect.gen(function* () {
              const byTopic = new Map<string, Array<number>>()
              for (const tp of partitions) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition])
              const topics = [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes }))
              const res = yield* coordSend(9, (v) =>
                v >= 8
                  ? OffsetFetch.makeOffsetFetchRequest({
                      groups: [
                        OffsetFetch.makeOffsetFetchRequestGroup({ groupId, memberId: null, memberEpoch: -1, topics })
                      ]
                    })
                  : OffsetFetch.makeOffsetFetchRequest({ groupId, topics })
              )
              const group = res.groups[0]
              const errorCode = group === undefined ? res.errorCode : group.errorCode
              if (errorCode !== 0) return yield* failCode(errorCode)
              const out: Array<TopicPartitionOffset> = []
              for (const t of group === undefined ? res.topics : group.topics) {
                for (const p of t.partitions) {
                  if (p.errorCode !== 0)
                    return yield* failCode(p.errorCode, { topic: t.name, partition: p.partitionIndex })
                  out.push({ topic: t.name, partition: p.partitionIndex, offset: Number(p.committedOffset) })
                }
              }
              return out
            })
          )

    /** Resolves `earliest`/`latest` (and offsets as they are) for partitions of one topic. */
    const resolve = (topic: string, specs: ReadonlyArray<Fetcher.PartitionStart>) =>
      cluster.retry(fetcher.resolveOffsets(topic, specs))

    // ------------------------------------------------------------------------------------------------
    // assignment changes

    const runCallback = (
      cb: ((tps: ReadonlyArray<TopicPartition>) => Effect.Effect<void>) | undefined,
      tps: ReadonlyArray<TopicPartition>,
      what: string
    ) =>
      cb === undefined || tps.length === 0
        ? Effect.void
        : Effect.catchAllCause(cb(tps), (cause) => Effect.logWarning(`${what} callback failed`, cause))

    /** Gives up `tps`: commits their consumed offsets (when `commitFirst`), runs the callback, forgets them. */
    const revoke = (tps: ReadonlyArray<TopicPartition>, commitFirst: boolean) =>
      Effect.gen(function* () {
        if (tps.length === 0) return
        if (commitFirst && commitOnRevoke) {
          yield* commitOffsets(consumedOffsets(tps)).pipe(
            Effect.timeout(Duration.millis(resolved["default.api.timeout.ms"])),
            Effect.catchAll((e) => Effect.logWarning(`commit before revocation failed: ${String(e)}`))
          )
        }
        yield* runCallback(config.onPartitionsRevoked, tps, "onPartitionsRevoked")
        for (const tp of tps) {
          const s = stateOf(tp)
          if (s !== undefined) s.epoch++
          owned.get(tp.topic)?.delete(tp.partition)
          if (owned.get(tp.topic)?.size === 0) owned.delete(tp.topic)
        }
      })

    /** Takes `tps`: positions from pending seeks, else committed offsets, else `auto.offset.reset`. */
    const assign = (tps: ReadonlyArray<TopicPartition>) =>
      Effect.gen(function* () {
        if (tps.length === 0) return
        const commits = new Map<string, number>()
        for (const c of yield* committed(tps)) commits.set(tpKey(c.topic, c.partition), c.offset)
        const byTopic = new Map<string, Array<Fetcher.PartitionStart>>()
        for (const tp of tps) {
          const k = tpKey(tp.topic, tp.partition)
          const seek = pendingSeeks.get(k)
          pendingSeeks.delete(k)
          const c = commits.get(k) ?? -1
          let start: Fetcher.StartOffset
          if (seek !== undefined) start = seek
          else if (c >= 0) start = c
          else if (reset === "none") {
            return yield* ClientError.fromCode(1, { ...tp, message: `no committed offset for group ${groupId}` })
          } else start = reset
          byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), { partition: tp.partition, offset: start }])
        }
        const fresh: Array<[string, number, PartitionState]> = []
        for (const [topic, specs] of byTopic) {
          const positions = yield* resolve(topic, specs)
          for (const [partition, offset] of positions) {
            const c = commits.get(tpKey(topic, partition))
            fresh.push([
              topic,
              partition,
              {
                fetchPos: offset,
                consumed: undefined,
                committed: c !== undefined && c >= 0 ? c : undefined,
                epoch: 0,
                paused: false
              }
            ])
          }
        }
        // as in Kafka, records of the new partitions flow only after the callback (it may seek them)
        yield* runCallback(config.onPartitionsAssigned, tps, "onPartitionsAssigned")
        for (const [topic, partition, state] of fresh) {
          const states = owned.get(topic) ?? new Map<number, PartitionState>()
          owned.set(topic, states)
          states.set(partition, state)
        }
        for (const tp of tps) {
          const seekTo = pendingSeeks.get(tpKey(tp.topic, tp.partition))
          if (seekTo === undefined) continue
          pendingSeeks.delete(tpKey(tp.topic, tp.partition))
          yield* seek(tp, seekTo)
        }
      })

    // ------------------------------------------------------------------------------------------------
    // membership

    const leave = Effect.gen(function* () {
      if (memberId === "" || groupInstanceId !== null) return
      const id = memberId
      memberId = ""
      generationId = -1
      yield* coordSend(13, (v) =>
        v >= 3
          ? LeaveGroup.makeLeaveGroupRequest({
              groupId,
              members: [LeaveGroup.makeLeaveGroupRequestMemberIdentity({ memberId: id, groupInstanceId, reason: null })]
            })
          : LeaveGroup.makeLeaveGroupRequest({ groupId, memberId: id })
      ).pipe(
        Effect.timeout(Duration.millis(resolved["request.timeout.ms"])),
        Effect.catchAll((e) => Effect.logDebug(`LeaveGroup failed: ${String(e)}`))
      )
    })

    /** The partitions of `topics` per the leader's metadata (unknown topics are left out). */
    const partitionCounts = (topics: ReadonlyArray<string>) =>
      Effect.map(cluster.retry(cluster.refresh(topics)), (snapshot) => {
        const counts = new Map<string, number>()
        for (const t of topics) {
          const info = snapshot.topics.get(t)
          if (info !== undefined && info.partitions.length > 0) counts.set(t, info.partitions.length)
        }
        return counts
      })

    const leaderAssign = (protocol: string, members: ReadonlyArray<JoinGroup.JoinGroupResponseMember>) =>
      Effect.gen(function* () {
        const subscriptions: Array<Assignors.MemberSubscription> = []
        for (const m of members) {
          try {
            subscriptions.push(Assignors.decodeSubscription(m.memberId, m.groupInstanceId, m.metadata))
          } catch (e) {
            yield* Effect.logWarning(`unreadable subscription of member ${m.memberId}: ${String(e)}`)
            subscriptions.push({
              memberId: m.memberId,
              groupInstanceId: m.groupInstanceId,
              topics: [],
              ownedPartitions: new Map(),
              generationId: -1
            })
          }
        }
        const topics = [...new Set(subscriptions.flatMap((s) => s.topics))].sort()
        const counts = yield* partitionCounts(topics)
        leaderOf = { topics, counts }
        nextMetadataCheck = (yield* Clock.currentTimeMillis) + metadataCheckMs()
        const customAssignor = custom.get(protocol)
        if (customAssignor !== undefined) return yield* customAssign(customAssignor, subscriptions, counts)
        const assignor = Assignors.isAssignorName(protocol) ? Assignors.assignors[protocol] : Assignors.range
        const assignment = assignor(subscriptions, counts)
        return [...assignment].map(([id, partitions]) =>
          SyncGroup.makeSyncGroupRequestAssignment({ memberId: id, assignment: Assignors.encodeAssignment(partitions) })
        )
      })

    /** Runs a custom assignor over the decoded subscriptions and encodes each member's share. */
    const customAssign = (
      assignor: PartitionAssignor,
      subscriptions: ReadonlyArray<Assignors.MemberSubscription>,
      counts: ReadonlyMap<string, number>
    ) =>
      Effect.gen(function* () {
        const members: Array<GroupMember> = subscriptions.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          topics: m.topics,
          ownedPartitions: [...m.ownedPartitions].flatMap(([topic, ps]) =>
            ps.map((partition) => ({ topic, partition }))
          ),
          generationId: m.generationId,
          userData: m.userData ?? null
        }))
        const assignment = yield* assignor.assign({ members, partitionCounts: counts })
        return members.map((m) => {
          const share = assignment.get(m.memberId)
          const byTopic = new Map<string, Array<number>>()
          for (const tp of share?.partitions ?? [])
            byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition])
          return SyncGroup.makeSyncGroupRequestAssignment({
            memberId: m.memberId,
            assignment: Assignors.encodeAssignment(byTopic, share?.userData ?? null)
          })
        })
      })

    /**
     * How often the leader compares the group's topics with the cluster's metadata: at each heartbeat while a
     * subscribed topic is missing, else every `metadata.max.age.ms`.
     */
    const metadataCheckMs = () => {
      const last = leaderOf
      return last?.topics.some((t) => !last.counts.has(t)) ? heartbeatMs : resolved["metadata.max.age.ms"]
    }

    /** Leader only: true when a subscribed topic appeared or changed its partition count since the assignment. */
    const metadataChanged = Effect.gen(function* () {
      const last = leaderOf
      if (last === undefined || last.topics.length === 0) return false
      const now = yield* Clock.currentTimeMillis
      if (now < nextMetadataCheck) return false
      nextMetadataCheck = now + metadataCheckMs()
      const counts = yield* partitionCounts(last.topics).pipe(Effect.option)
      if (counts._tag === "None") return false
      const changed = last.topics.some((t) => counts.value.get(t) !== last.counts.get(t))
      if (changed) yield* Effect.logDebug(`consumer group ${groupId}: subscribed topics changed; rebalancing`)
      return changed
    })

    /** One rebalance: join, sync, apply the assignment. Returns whether another rebalance must follow at once. */
    const rebalance = Effect.gen(function* () {
      yield* stopHeartbeats
      lost = undefined
      yield* Queue.takeAll(signal)
      if (!cooperative) yield* revoke(ownedList(), true)
      const topics = wanted()
      const ownedNow = new Map<string, Array<number>>()
      if (cooperative)
        for (const tp of ownedList()) ownedNow.set(tp.topic, [...(ownedNow.get(tp.topic) ?? []), tp.partition])
      const protocols: Array<JoinGroup.JoinGroupRequestProtocol> = []
      for (const name of strategies) {
        const customAssignor = custom.get(name)
        const userData =
          customAssignor === undefined
            ? Assignors.subscriptionUserData(name, generationId)
            : customAssignor.subscriptionUserData === undefined
              ? null
              : yield* customAssignor.subscriptionUserData(topics)
        protocols.push(
          JoinGroup.makeJoinGroupRequestProtocol({
            name,
            metadata: Assignors.encodeSubscription({ topics, userData, ownedPartitions: ownedNow, generationId })
          })
        )
      }
      let join: JoinGroup.JoinGroupResponse
      for (;;) {
        join = yield* coordSend(11, () =>
          JoinGroup.makeJoinGroupRequest({
            groupId,
            sessionTimeoutMs,
            rebalanceTimeoutMs: maxPollMs,
            memberId,
            groupInstanceId,
            protocolType: "consumer",
            protocols,
            reason: null
          })
        )
        if (join.errorCode === 79) {
          memberId = join.memberId
          continue
        }
        if (join.errorCode === 25) {
          memberId = ""
          continue
        }
        if (join.errorCode === 27) {
          yield* Effect.sleep(Duration.millis(resolved["retry.backoff.ms"]))
          continue
        }
        if (join.errorCode !== 0) return yield* failCode(join.errorCode)
        break
      }
      memberId = join.memberId
      generationId = join.generationId
      if (join.leader !== memberId) leaderOf = undefined
      const protocol = join.protocolName ?? strategies[0]!
      const assignments =
        join.leader === memberId && !join.skipAssignment ? yield* leaderAssign(protocol, join.members) : []
      const sync = yield* coordSend(14, () =>
        SyncGroup.makeSyncGroupRequest({
          groupId,
          generationId,
          memberId,
          groupInstanceId,
          protocolType: "consumer",
          protocolName: protocol,
          assignments
        })
      )
      if (sync.errorCode === 27) return true
      if (sync.errorCode === 25 || sync.errorCode === 22) {
        if (sync.errorCode === 25) memberId = ""
        generationId = -1
        yield* revoke(ownedList(), false)
        return true
      }
      if (sync.errorCode !== 0) return yield* failCode(sync.errorCode)
      yield* startHeartbeats
      const { partitions: assigned, userData } = Assignors.decodeAssignmentWithUserData(sync.assignment)
      const subscribed = new Set(wanted())
      const customAssignor = custom.get(protocol)
      if (customAssignor?.onAssignment !== undefined) {
        const partitions: Array<TopicPartition> = []
        for (const [topic, ps] of assigned) {
          if (subscribed.has(topic)) for (const partition of ps) partitions.push({ topic, partition })
        }
        yield* customAssignor
          .onAssignment({ partitions, userData }, generationId)
          .pipe(Effect.catchAllCause((cause) => Effect.logWarning("onAssignment callback failed", cause)))
      }
      const next = new Set<string>()
      const added: Array<TopicPartition> = []
      for (const [topic, ps] of assigned) {
        if (!subscribed.has(topic)) continue
        for (const partition of [...ps].sort((a, b) => a - b)) {
          next.add(tpKey(topic, partition))
          if (stateOf({ topic, partition }) === undefined) added.push({ topic, partition })
        }
      }
      const revoked = ownedList().filter((tp) => !next.has(tpKey(tp.topic, tp.partition)))
      yield* revoke(revoked, true)
      yield* assign(added)
      yield* Effect.logDebug(
        `consumer ${memberId} generation ${generationId} (${protocol}): ${ownedList()
          .map((tp) => `${tp.topic}-${tp.partition}`)
          .join(", ")}`
      )
      // cooperative: partitions given up here go to their new owner in a follow-up rebalance
      return cooperative && revoked.length > 0
    })

    // heartbeats run on their own fiber from SyncGroup until the next rebalance (so that slow rebalance
    // callbacks do not expire the member); they signal the membership fiber when the group needs a rejoin
    let heartbeatFiber: Fiber.RuntimeFiber<void> | undefined
    let lost: number | undefined
    const stopHeartbeats = Effect.suspend(() => {
      const f = heartbeatFiber
      heartbeatFiber = undefined
      return f === undefined ? Effect.void : Fiber.interrupt(f)
    })
    const heartbeats = Effect.gen(function* () {
      for (;;) {
        yield* Effect.sleep(Duration.millis(heartbeatMs))
        const res = yield* coordSend(12, () =>
          Heartbeat.makeHeartbeatRequest({ groupId, generationId, memberId, groupInstanceId })
        ).pipe(Effect.either)
        if (res._tag === "Left") {
          if (ClientError.isRetriable(res.left)) continue
          yield* failFatal(res.left)
          return yield* requestRejoin
        }
        const code = res.right.errorCode
        if (code === 0) continue
        if (code === 27) return yield* requestRejoin
        if (code === 22 || code === 25) {
          lost = code
          return yield* requestRejoin
        }
        if (isCoordinatorError(code)) {
          yield* dropCoordinator
          continue
        }
        yield* failFatal(ClientError.fromCode(code, { message: `group ${groupId}` }))
        return yield* requestRejoin
      }
    })
    const startHeartbeats = Effect.flatMap(stopHeartbeats, () =>
      Effect.map(Effect.forkDaemon(heartbeats), (f) => {
        heartbeatFiber = f
      })
    )

    /** Waits (checking `max.poll.interval.ms`) until a rebalance is needed. */
    const stable = Effect.gen(function* () {
      for (;;) {
        const woke = yield* Queue.take(signal).pipe(Effect.timeout(Duration.millis(heartbeatMs)), Effect.option)
        if (Option.isSome(woke)) break
        if (yield* metadataChanged) break
        const now = yield* Clock.currentTimeMillis
        if (activeStreams > 0 && now - lastPull > maxPollMs) {
          yield* stopHeartbeats
          yield* Effect.logWarning(
            `consumer ${memberId} of group ${groupId}: no poll within max.poll.interval.ms (${maxPollMs}); leaving the group`
          )
          yield* revoke(ownedList(), false)
          yield* leave
          pollExpired = true
          return
        }
      }
      yield* stopHeartbeats
      if (lost !== undefined) {
        // the partitions are lost, not revoked: committing them would fail
        if (lost === 25) memberId = ""
        generationId = -1
        lost = undefined
        yield* revoke(ownedList(), false)
      }
    })

    const membership = Effect.gen(function* () {
      for (;;) {
        if (wanted().length === 0 || pollExpired) {
          if (wanted().length === 0 && memberId !== "") {
            yield* revoke(ownedList(), true)
            yield* leave
          }
          yield* Queue.take(signal)
          continue
        }
        const exit = yield* Effect.either(
          Effect.gen(function* () {
            let again = yield* rebalance
            while (again) again = yield* rebalance
            yield* stable
          }).pipe(Effect.ensuring(stopHeartbeats))
        )
        if (yield* Deferred.isDone(fatal)) return
        if (exit._tag === "Left") {
          const e = exit.left
          if (!ClientError.isRetriable(e)) return yield* failFatal(e)
          yield* Effect.logDebug(`consumer group ${groupId}: ${String(e)}; retrying`)
          yield* Effect.sleep(Duration.millis(resolved["retry.backoff.ms"]))
        }
      }
    })

    const membershipFiber = yield* Effect.forkScoped(membership)
    const autoCommitFiber = autoCommit
      ? yield* Effect.forkScoped(
          Effect.suspend(() => commit).pipe(
            Effect.catchAll((e) => Effect.logDebug(`auto-commit failed: ${String(e)}`)),
            Effect.repeat({ schedule: Schedule.spaced(Duration.millis(autoCommitMs)) }),
            Effect.delay(Duration.millis(autoCommitMs))
          )
        )
      : undefined

    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        yield* Fiber.interrupt(membershipFiber)
        if (autoCommitFiber !== undefined) yield* Fiber.interrupt(autoCommitFiber)
        if (memberId !== "" || owned.size > 0) {
          yield* revoke(ownedList(), true)
          yield* leave
        }
        closed = true
        yield* dropCoordinator
      })
    )

    // ------------------------------------------------------------------------------------------------
    // streams

    /**
     * Subscribes to `topics` for the life of the scope and returns the reader's `poll`: the next element
     * at once (a record, or a partition's run when `batched`), a decode failure, or a {@link Wait} to run
     * first. `promote` makes the element polled last consumed.
     */
    const open = <A>(
      topics: ReadonlyArray<AnyTopic>,
      batched: boolean
    ): Effect.Effect<
      { readonly poll: () => A | Topic.RecordDecodeError | Wait; readonly promote: () => void },
      never,
      Scope.Scope
    > =>
      Effect.gen(function* () {
        const typed = topics.map((t) => (typeof t === "string" ? Topic.raw(t) : t)) as ReadonlyArray<
          Topic.Topic<unknown, unknown>
        >
        yield* Effect.acquireRelease(
          Effect.gen(function* () {
            activeStreams++
            lastPull = yield* Clock.currentTimeMillis
            let changed = false
            for (const t of typed) {
              const n = subscriptions.get(t.name) ?? 0
              if (n === 0) changed = true
              subscriptions.set(t.name, n + 1)
            }
            if (changed) yield* requestRejoin
          }),
          () =>
            Effect.gen(function* () {
              activeStreams--
              let changed = false
              for (const t of typed) {
                const n = (subscriptions.get(t.name) ?? 1) - 1
                if (n === 0) {
                  subscriptions.delete(t.name)
                  changed = true
                } else subscriptions.set(t.name, n)
              }
              if (changed && !closed) yield* requestRejoin
            })
        )
        // buffered records: runs of one partition's records from one fetch round, used up from `head` on (an
        // index rather than shift())
        const runs: Array<Run> = []
        let head = 0
        // the element emitted last: its partition, the epoch it was fetched in, its first offset and the one
        // after its last record (variables rather than an object per record)
        let pendingState: PartitionState | undefined
        let pendingEpoch = 0
        let pendingFirst = 0
        let pendingNext = 0
        /** The element emitted last is consumed once the stream is pulled again (or ends normally). */
        const promote = () => {
          if (pendingState !== undefined && pendingState.epoch === pendingEpoch) pendingState.consumed = pendingNext
          pendingState = undefined
        }
        /**
         * The partition is read again from `offset` on: its records buffered from before (of an older epoch)
         * are dropped. A partition's first rewind has its lowest offset, so later ones of the same epoch are
         * skipped by the epoch check of their callers.
         */
        const rewind = (state: PartitionState, offset: number) => {
          if (state.fetchPos > offset) state.fetchPos = offset
          state.epoch++
        }
        yield* Effect.addFinalizer((exit) =>
          Effect.sync(() => {
            if (Exit.isSuccess(exit)) promote()
            else if (pendingState !== undefined && pendingState.epoch === pendingEpoch) {
              // the element emitted last was not consumed (the stream or f failed on it): read it again
              rewind(pendingState, pendingFirst)
            }
            // records fetched but not emitted are read again by the next stream
            for (let i = head; i < runs.length; i++) {
              const run = runs[i]!
              if (run.next < run.end && run.state.epoch === run.epoch) rewind(run.state, run.records[run.next]!.offset)
            }
            runs.length = 0
            head = 0
          })
        )

        const fetchRound = Effect.gen(function* () {
          const work: Array<{
            topic: Topic.Topic<unknown, unknown>
            positions: Map<number, number>
            states: Map<number, { state: PartitionState; epoch: number }>
          }> = []
          for (const topic of typed) {
            const states = owned.get(topic.name)
            if (states === undefined) continue
            const positions = new Map<number, number>()
            const snap = new Map<number, { state: PartitionState; epoch: number }>()
            for (const [p, s] of states) {
              if (s.paused) continue
              positions.set(p, s.fetchPos)
              snap.set(p, { state: s, epoch: s.epoch })
            }
            if (positions.size > 0) work.push({ topic, positions, states: snap })
          }
          if (work.length === 0) {
            yield* Effect.sleep(Duration.millis(Math.min(maxWaitMs, 50)))
            return
          }
          const rounds = yield* Effect.forEach(
            work,
            (w) =>
              Effect.map(cluster.retry(fetcher.fetchOnce(Topic.raw(w.topic.name), w.positions)), (round) => ({
                w,
                round
              })),
            { concurrency: "unbounded" }
          )
          for (const { w, round } of rounds) {
            // a fetch round lists each partition's records together: one run per partition, no copy
            const records = round.records
            for (let i = 0; i < records.length; ) {
              const partition = records[i]!.partition
              let end = i + 1
              while (end < records.length && records[end]!.partition === partition) end++
              const snap = w.states.get(partition)
              if (snap !== undefined && snap.state.epoch === snap.epoch) {
                runs.push({ topic: w.topic, state: snap.state, epoch: snap.epoch, records, next: i, end })
              }
              i = end
            }
            for (const [p, snap] of w.states) {
              const next = round.positions.get(p)
              if (next !== undefined && snap.state.epoch === snap.epoch) snap.state.fetchPos = next
            }
          }
        })

        /**
         * The run whose next record is the next one still owned (records of partitions that were sought,
         * revoked or paused since their fetch are dropped); undefined once the buffer is used up.
         */
        const nextRun = (): Run | undefined => {
          while (head < runs.length) {
            const run = runs[head]!
            if (run.next < run.end) {
              const state = run.state
              if (state.epoch === run.epoch && !state.paused) return run
              // paused: read again from here after resume
              if (state.epoch === run.epoch) rewind(state, run.records[run.next]!.offset)
            }
            head++
          }
          runs.length = 0
          head = 0
          return undefined
        }
        /** The stream fails at a bad record; it is fetched again after a restart (seek past it). */
        const failAt = (state: PartitionState, offset: number, error: Topic.RecordDecodeError) => {
          state.epoch++
          state.fetchPos = offset
          return error
        }
        /** Records `first..last` of `run` are the element emitted last (consumed on the next pull). */
        const emitted = (run: Run, first: number, last: number) => {
          pendingState = run.state
          pendingEpoch = run.epoch
          pendingFirst = first
          pendingNext = last + 1
        }
        // a batch's decode failure, reported on the pull after the records before it
        let failure:
          | { readonly state: PartitionState; readonly offset: number; readonly error: Topic.RecordDecodeError }
          | undefined

        /** The next buffered record, decoded; undefined once the buffer is used up. */
        const nextRecord = (): Topic.ConsumerRecord<unknown, unknown> | Topic.RecordDecodeError | undefined => {
          const run = nextRun()
          if (run === undefined) return undefined
          const raw = run.records[run.next++]!
          const record = decodeRecord(run.topic, raw)
          if (record instanceof Topic.RecordDecodeError) return failAt(run.state, raw.offset, record)
          emitted(run, raw.offset, raw.offset)
          return record
        }

        /** The rest of the next run, decoded; undefined once the buffer is used up. */
        const nextBatch = ():
          | ConsumerBatch<Topic.ConsumerRecord<unknown, unknown>>
          | Topic.RecordDecodeError
          | undefined => {
          if (failure !== undefined) {
            const { state, offset, error } = failure
            failure = undefined
            return failAt(state, offset, error)
          }
          const run = nextRun()
          if (run === undefined) return undefined
          const { records, next, end, topic } = run
          let out: Array<Topic.ConsumerRecord<unknown, unknown>>
          if (topic.key === Topic.bytes && topic.value === Topic.bytes) {
            // raw bytes: the fetched records are the answer
            out = records.slice(next, end)
            run.next = end
          } else {
            out = []
            while (run.next < end) {
              const raw = records[run.next]!
              const record = decodeRecord(topic, raw)
              if (record instanceof Topic.RecordDecodeError) {
                if (out.length === 0) return failAt(run.state, raw.offset, record)
                failure = { state: run.state, offset: raw.offset, error: record }
                break
              }
              out.push(record)
              run.next++
            }
          }
          const first = records[next]!
          emitted(run, first.offset, records[run.next - 1]!.offset)
          return { topic: first.topic, partition: first.partition, records: out }
        }

        // A buffered element is returned without an asynchronous step (no fiber, no race per record); only
        // a fetch round, which may wait, races the consumer's fatal failure.
        const fetchOrFail = new Wait(Effect.raceFirst(fetchRound, Deferred.await(fatal)))
        const rejoin = new Wait(requestRejoin)
        const poll = (): A | Topic.RecordDecodeError | Wait => {
          if (fatalError !== undefined) return new Wait(Effect.fail(fatalError))
          lastPull = clock.unsafeCurrentTimeMillis()
          if (pollExpired) {
            pollExpired = false
            return rejoin
          }
          const next = batched ? nextBatch() : nextRecord()
          return next === undefined ? fetchOrFail : (next as A | Topic.RecordDecodeError)
        }
        return { poll, promote }
      })

    const subscribe = (topics: ReadonlyArray<AnyTopic>, batched: boolean) =>
      Stream.unwrapScoped(
        Effect.map(open<unknown>(topics, batched), ({ poll, promote }) => {
          // A channel loop rather than Stream.repeatEffectChunk: an element written is handed to the
          // stream's consumer, and the loop goes on (making that element consumed) only once it reads again.
          // No Effect per element (about 1.6x the elements per second of repeatEffectChunk).
          type Loop = Channel.Channel<Chunk.Chunk<unknown>, unknown, ConsumerError, unknown, void, unknown>
          const step = (): Loop => {
            promote()
            return pull()
          }
          const pull = (): Loop => {
            const next = poll()
            if (next instanceof Wait) return Channel.flatMap(Channel.fromEffect(next.effect), pull)
            if (next instanceof Topic.RecordDecodeError) return Channel.fail(next)
            return Channel.zipRight(Channel.write(Chunk.of(next)), Channel.suspend(step))
          }
          return Stream.fromChannel(Channel.suspend(step))
        })
      )

    const forEach = <E, R>(
      topics: ReadonlyArray<AnyTopic>,
      f: (record: Topic.ConsumerRecord<unknown, unknown>) => Effect.Effect<unknown, E, R>
    ): Effect.Effect<never, ConsumerError | E, R> =>
      Effect.scoped(
        Effect.flatMap(open<Topic.ConsumerRecord<unknown, unknown>>(topics, false), ({ poll, promote }) =>
          Effect.gen(function* () {
            for (;;) {
              const next = poll()
              if (next instanceof Wait) yield* next.effect
              else if (next instanceof Topic.RecordDecodeError) return yield* Effect.fail(next)
              else {
                yield* f(next)
                // consumed once f is done with it
                promote()
              }
            }
          })
        )
      )

    const records = (topic: AnyTopic) => subscribe([topic], false)

    const seek = (tp: TopicPartition, offset: number | "earliest" | "latest") =>
      Effect.gen(function* () {
        const s = stateOf(tp)
        if (s === undefined) {
          pendingSeeks.set(tpKey(tp.topic, tp.partition), offset)
          return
        }
        const resolvedOffset =
          typeof offset === "number"
            ? offset
            : (yield* resolve(tp.topic, [{ partition: tp.partition, offset }])).get(tp.partition)!
        s.epoch++
        s.fetchPos = resolvedOffset
        s.consumed = resolvedOffset
      })

    const setPaused = (tps: ReadonlyArray<TopicPartition>, paused: boolean) =>
      Effect.sync(() => {
        for (const tp of tps) {
          const s = stateOf(tp)
          if (s !== undefined) s.paused = paused
        }
      })

    return {
      groupId,
      memberId: () => memberId,
      generationId: () => generationId,
      assignment: ownedList,
      records: records as Consumer["records"],
      stream: ((topics: ReadonlyArray<AnyTopic>) => subscribe(topics, false)) as Consumer["stream"],
      batches: ((topics: ReadonlyArray<AnyTopic>) => subscribe(topics, true)) as Consumer["batches"],
      forEach: forEach as Consumer["forEach"],
      commit,
      commitOffsets,
      committed,
      seek,
      enforceRebalance: requestRejoin,
      pause: (tps) => setPaused(tps, true),
      resume: (tps) => setPaused(tps, false)
    } satisfies Consumer
  })

/** A consumer layer. */
export const layer = (config: ConsumerConfig): Layer.Layer<ConsumerTag, ConsumerConfigError> =>
  Layer.scoped(ConsumerTag, make(config))

/** The consumer keys read by {@link layerConfig}. */
export const configKeys = {
  ...Fetcher.configKeys,
  "group.id": "string",
  "group.instance.id": "string",
  "session.timeout.ms": "number",
  "heartbeat.interval.ms": "number",
  "max.poll.interval.ms": "number",
  "partition.assignment.strategy": "string",
  "enable.auto.commit": "boolean",
  "auto.commit.interval.ms": "number"
} as const

/** A consumer layer configured from Effect's `ConfigProvider` under Kafka's key names. */
export const layerConfig: Layer.Layer<ConsumerTag, ConfigError.ConfigError | ConsumerConfigError> = Layer.scoped(
  ConsumerTag,
  Effect.flatMap(ClientConfig.fromConfigProvider(configKeys), (c) => make(c as ConsumerConfig))
)
