/**
 * The group coordinator (classic protocol): one actor per consumer group, kept in a `FiberMap` keyed by
 * group id under the broker's scope (see `internal/groupActor.ts` for the state machine). This service
 * routes requests to the actors and validates what needs no group state (group id, session timeout bounds,
 * topics, metadata size).
 *
 * Invariants:
 * - This broker coordinates exactly the groups of the `__consumer_offsets` partitions it leads (Kafka's rule,
 *   which FindCoordinator answers): when the replica manager says it became leader of partition p (or at start,
 *   for every partition it already leads: on a single node, all of them), p is replayed from the local log up to
 *   its end and every stored group of p gets its actor back; while that replay runs, requests for groups of p
 *   answer COORDINATOR_LOAD_IN_PROGRESS. When it stops leading p (follower, reassigned away, deleted), the actors
 *   of p stop (their parked and queued requests answer NOT_COORDINATOR) and requests for p answer NOT_COORDINATOR,
 *   so clients look the coordinator up again. Loads and unloads run one at a time, in the order the replica
 *   manager announces them.
 * - Before `__consumer_offsets` exists anywhere, requests answer as for groups that do not exist (JoinGroup and
 *   a standalone OffsetCommit create the topic, then need its partition led here).
 * - Writes are acknowledged by the partition's ISR before they are answered (see `GroupMetadataManager`).
 * - A group that does not exist gets an actor only from JoinGroup or a standalone OffsetCommit; the other
 *   requests answer for it directly (UNKNOWN_MEMBER_ID, offset -1, Dead, GROUP_ID_NOT_FOUND).
 */
import { Context, Deferred, Effect, FiberMap, Layer, type Scope } from "effect"
import * as BrokerConfig from "./BrokerConfig.js"
import { type BrokerError, InvalidRequest, UnknownTopicOrPartition } from "./BrokerError.js"
import {
  CoordinatorLoadInProgress,
  CoordinatorNotAvailable,
  type GroupError,
  GroupIdNotFound,
  IllegalGeneration,
  InvalidGroupId,
  InvalidSessionTimeout,
  NotCoordinator,
  OffsetMetadataTooLarge,
  UnknownMemberId
} from "./GroupError.js"
import * as GroupMetadataManager from "./GroupMetadataManager.js"
import * as Actor from "./internal/groupActor.js"
import { ReplicaManager } from "./ReplicaManager.js"
import { CONSUMER_OFFSETS, TopicRegistry } from "./TopicRegistry.js"

export type {
  DeletedOffset,
  DescribedMember,
  FetchedOffset,
  GroupDescription,
  GroupState,
  GroupSummary,
  JoinInput,
  JoinMember,
  JoinResult,
  LeaveMember,
  LeaveResult,
  MemberRef,
  Protocol,
  SyncInput,
  SyncResult,
  TopicPartitions
} from "./internal/groupActor.js"

/**
 * The longest group id, instance id or protocol name accepted, in UTF-8 bytes: what a string holds in the
 * non-flexible versions of the APIs that echo them (ListGroups v0-2, DescribeGroups v0-4), so that a group
 * joined with a flexible version can be listed by every client.
 */
export const MAX_STRING_BYTES = 32767

const tooLong = (s: string): boolean =>
  s.length > MAX_STRING_BYTES / 3 && Buffer.byteLength(s, "utf8") > MAX_STRING_BYTES

/** An offset to commit, before validation. */
export interface CommitOffset {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly leaderEpoch: number
  readonly metadata: string | null
}

/** An OffsetCommit. */
export interface CommitRequest extends Actor.MemberRef {
  /** v2-4 `retention_time_ms`, -1 for the broker default. */
  readonly retentionTimeMs: number
  readonly offsets: ReadonlyArray<CommitOffset>
  /** TxnOffsetCommit: the producer whose transaction the offsets belong to. */
  readonly txn?: GroupMetadataManager.TxnProducer
}

/** The outcome for one committed partition. */
export interface CommitResult {
  readonly topic: string
  readonly partition: number
  readonly error: GroupError | BrokerError | undefined
}

/** Manages the consumer groups whose coordinator this broker is. */
export class GroupCoordinator extends Context.Tag("@eddy/core/broker/GroupCoordinator")<
  GroupCoordinator,
  GroupCoordinator.Service
>() {}

/** Types of the group coordinator. */
export declare namespace GroupCoordinator {
  /** The service. */
  export interface Service {
    /** The `__consumer_offsets` partition of a group. */
    readonly partitionFor: (groupId: string) => number
    /** Creates `__consumer_offsets` when it does not exist yet (FindCoordinator does, as in Kafka). */
    readonly ensureOffsetsTopic: Effect.Effect<void, BrokerError>
    /** Records of `__consumer_offsets` that replay could not read and skipped (each logged with its offset). */
    readonly skippedRecords: Effect.Effect<number>
    readonly joinGroup: (
      groupId: string,
      input: Actor.JoinInput
    ) => Effect.Effect<Actor.JoinResult, GroupError | BrokerError>
    readonly syncGroup: (groupId: string, input: Actor.SyncInput) => Effect.Effect<Actor.SyncResult, GroupError>
    readonly heartbeat: (groupId: string, input: Actor.MemberRef) => Effect.Effect<void, GroupError>
    readonly leaveGroup: (
      groupId: string,
      members: ReadonlyArray<Actor.LeaveMember>
    ) => Effect.Effect<ReadonlyArray<Actor.LeaveResult>, GroupError>
    /** Commits offsets; a group-level failure applies to every partition. */
    readonly commitOffsets: (
      groupId: string,
      request: CommitRequest
    ) => Effect.Effect<ReadonlyArray<CommitResult>, GroupError | BrokerError>
    /** Committed offsets (-1 for none); `null` topics means every committed partition. */
    readonly fetchOffsets: (
      groupId: string,
      topics: ReadonlyArray<Actor.TopicPartitions> | null
    ) => Effect.Effect<ReadonlyArray<Actor.FetchedOffset>, GroupError>
    readonly deleteOffsets: (
      groupId: string,
      topics: ReadonlyArray<Actor.TopicPartitions>
    ) => Effect.Effect<ReadonlyArray<Actor.DeletedOffset>, GroupError>
    readonly describeGroup: (groupId: string) => Effect.Effect<Actor.GroupDescription, GroupError>
    /** Every group this coordinator knows, as last published by its actor. */
    readonly listGroups: Effect.Effect<ReadonlyArray<Actor.GroupSummary>>
    readonly deleteGroup: (groupId: string) => Effect.Effect<void, GroupError>
    /**
     * A transaction marker of `producerId` was written to `__consumer_offsets` partition `partition`:
     * the groups there apply (commit) or drop (abort) that producer's pending transactional offsets.
     */
    readonly completeTransaction: (producerId: number, commit: boolean, partition: number) => Effect.Effect<void>
  }
}

/** Options of {@link make}. */
export interface GroupCoordinatorOptions {
  readonly mailboxCapacity?: number
  /** Runs before each actor command (tests inject failures). */
  readonly beforeCommand?: (groupId: string, command: Actor.Command) => Effect.Effect<void>
}

/** Group settings from the broker configuration. */
export const settingsOf = (config: BrokerConfig.BrokerConfig): Actor.GroupSettings => ({
  initialRebalanceDelayMs: BrokerConfig.getNumber(config, "group.initial.rebalance.delay.ms"),
  maxSize: BrokerConfig.getNumber(config, "group.max.size"),
  offsetsRetentionMs: BrokerConfig.getNumber(config, "offsets.retention.minutes") * 60_000,
  offsetsRetentionCheckIntervalMs: BrokerConfig.getNumber(config, "offsets.retention.check.interval.ms")
})

/** How far this broker has taken a `__consumer_offsets` partition it leads. */
interface LedPartition {
  readonly status: "Loading" | "Loaded"
  readonly leaderEpoch: number
}

/** Builds the coordinator over the broker's topic registry and replicas, loading the partitions it leads. */
export const make = (
  options: GroupCoordinatorOptions = {}
): Effect.Effect<GroupCoordinator.Service, CoordinatorNotAvailable, Scope.Scope | TopicRegistry | ReplicaManager> =>
  Effect.gen(function* () {
    const registry = yield* TopicRegistry
    const replicas = yield* ReplicaManager
    const config = registry.config
    const settings = settingsOf(config)
    const minSession = BrokerConfig.getNumber(config, "group.min.session.timeout.ms")
    const maxSession = BrokerConfig.getNumber(config, "group.max.session.timeout.ms")
    const maxMetadata = BrokerConfig.getNumber(config, "offset.metadata.max.bytes")
    const store = yield* GroupMetadataManager.make(registry, replicas)
    const fibers = yield* FiberMap.make<string>()
    const actors = new Map<string, Actor.GroupActor>()
    const summaries = new Map<string, Actor.GroupSummary>()
    const lock = yield* Effect.makeSemaphore(1)
    // the __consumer_offsets partitions this broker leads, by index; loads and unloads take `leadership` in turn
    const led = new Map<number, LedPartition>()
    const leadership = yield* Effect.makeSemaphore(1)

    const start = (groupId: string, initial: GroupMetadataManager.StoredGroup | undefined) =>
      Effect.gen(function* () {
        let actor: Actor.GroupActor | undefined
        const created: Actor.GroupActor = yield* Actor.make({
          groupId,
          settings,
          initial,
          store: { write: (records, txn) => store.write(groupId, records, txn), load: store.loadGroup(groupId) },
          publish: (summary) => {
            summaries.set(groupId, summary)
          },
          onDead: () => {
            if (actors.get(groupId) === actor) {
              actors.delete(groupId)
              summaries.delete(groupId)
            }
          },
          ...(options.mailboxCapacity === undefined ? {} : { mailboxCapacity: options.mailboxCapacity }),
          ...(options.beforeCommand === undefined
            ? {}
            : { beforeCommand: (c: Actor.Command) => options.beforeCommand!(groupId, c) })
        })
        actor = created
        actors.set(groupId, created)
        yield* FiberMap.run(fibers, groupId, created.run)
        return created
      })

    /** Stops a group's actor (its partition left this broker). */
    const stopActor = (groupId: string): Effect.Effect<void> =>
      Effect.suspend(() => {
        actors.delete(groupId)
        summaries.delete(groupId)
        return FiberMap.remove(fibers, groupId)
      })

    /** The error for a group of a partition this broker does not (yet) serve; undefined when it does. */
    const notServed = (groupId: string): NotCoordinator | CoordinatorLoadInProgress | undefined => {
      const partition = store.partitionFor(groupId)
      const state = led.get(partition)
      if (state?.status === "Loaded") return undefined
      return state?.status === "Loading"
        ? new CoordinatorLoadInProgress({ message: `${CONSUMER_OFFSETS}-${partition} is being loaded; retry.` })
        : new NotCoordinator({
            message: `This broker does not lead ${CONSUMER_OFFSETS}-${partition} (group ${groupId}).`
          })
    }

    /** Fails unless this broker serves the group's partition, or `__consumer_offsets` does not exist yet. */
    const checkServed = (groupId: string): Effect.Effect<void, NotCoordinator | CoordinatorLoadInProgress> =>
      Effect.gen(function* () {
        const error = notServed(groupId)
        if (error === undefined) return
        if (replicas.get(CONSUMER_OFFSETS, 0) === undefined && (yield* registry.get(CONSUMER_OFFSETS)) === undefined)
          return
        return yield* error
      })

    const getOrCreate = (groupId: string) =>
      Effect.suspend(() => {
        const existing = actors.get(groupId)
        if (existing !== undefined) return Effect.succeed(existing)
        return lock.withPermits(1)(
          Effect.gen(function* () {
            const again = actors.get(groupId)
            if (again !== undefined) return again
            yield* store.ensureTopic.pipe(
              Effect.mapError(
                (e) => new CoordinatorNotAvailable({ message: `Cannot create ${CONSUMER_OFFSETS}: ${e.message}` })
              )
            )
            // the topic exists now: its partition must be led (and loaded) here
            const error = notServed(groupId)
            if (error !== undefined) return yield* error
            const actor = yield* start(groupId, undefined)
            // the partition may have been unloaded while the actor started
            const lost = notServed(groupId)
            if (lost === undefined) return actor
            yield* stopActor(groupId)
            return yield* lost
          })
        )
      })

    /** Became leader of `partition`: replays it and starts the actors of its groups (once per leadership). */
    const loadPartition = (partition: number, leaderEpoch: number): Effect.Effect<void> =>
      leadership.withPermits(1)(
        Effect.gen(function* () {
          const current = led.get(partition)
          if (current !== undefined) {
            led.set(partition, { ...current, leaderEpoch })
            return
          }
          led.set(partition, { status: "Loading", leaderEpoch })
          const stored = yield* Effect.either(store.loadPartition(partition))
          if (stored._tag === "Left") {
            led.delete(partition)
            return yield* Effect.logError(`Cannot load ${CONSUMER_OFFSETS}-${partition}`, stored.left)
          }
          // no request creates an actor of p meanwhile: p is Loading
          yield* Effect.forEach(
            stored.right,
            ([groupId, group]) => (actors.has(groupId) ? Effect.void : start(groupId, group)),
            { discard: true }
          )
          led.set(partition, { status: "Loaded", leaderEpoch })
          if (stored.right.size > 0) {
            yield* Effect.logInfo(`Loaded ${stored.right.size} group(s) from ${CONSUMER_OFFSETS}-${partition}`)
          }
        })
      )

    /** No longer leads `partition`: its groups' actors stop (what they hold answers NOT_COORDINATOR). */
    const unloadPartition = (partition: number): Effect.Effect<void> =>
      leadership.withPermits(1)(
        Effect.gen(function* () {
          // first (synchronously) stop serving p, then stop the actors it has
          if (!led.delete(partition)) return
          const gone = [...actors.keys()].filter((groupId) => store.partitionFor(groupId) === partition)
          for (const groupId of gone) yield* stopActor(groupId)
          if (gone.length > 0) {
            yield* Effect.logInfo(`Unloaded ${gone.length} group(s) of ${CONSUMER_OFFSETS}-${partition}`)
          }
        })
      )

    /**
     * Sends a command to the group's actor and awaits the reply. `create` starts an actor for a new group;
     * otherwise `missing` answers for a group that does not exist. An actor that died between lookup and
     * send is looked up again.
     */
    const ask = <A, E>(
      groupId: string,
      create: boolean,
      command: (reply: Deferred.Deferred<A, GroupError>) => Actor.Command,
      missing: () => Effect.Effect<A, E>
    ): Effect.Effect<A, GroupError | E> =>
      Effect.gen(function* () {
        for (let attempt = 0; attempt < 3; attempt++) {
          yield* checkServed(groupId)
          const actor = create ? yield* getOrCreate(groupId) : actors.get(groupId)
          if (actor === undefined) return yield* missing()
          const reply = yield* Deferred.make<A, GroupError>()
          if (yield* actor.send(command(reply))) return yield* Deferred.await(reply)
          // the actor died after the lookup: its successor (if any) is started by the next lookup
          if (actors.get(groupId) === actor) actors.delete(groupId)
        }
        return yield* new CoordinatorNotAvailable({ message: `Group ${groupId} is being deleted; retry.` })
      })

    const checkGroupId = (groupId: string) =>
      groupId === ""
        ? Effect.fail(new InvalidGroupId({ message: "The group id must not be empty." }))
        : tooLong(groupId)
          ? Effect.fail(new InvalidGroupId({ message: `The group id is longer than ${MAX_STRING_BYTES} bytes.` }))
          : Effect.void

    const unknownMember = (groupId: string) => () =>
      Effect.fail(new UnknownMemberId({ message: `Group ${groupId} does not exist.` }))

    // follow the leadership of __consumer_offsets: from now on, then for what this broker already leads
    yield* replicas.onLeadershipChange((change) =>
      change.topic !== CONSUMER_OFFSETS
        ? Effect.void
        : change.isLeader
          ? loadPartition(change.partition, change.leaderEpoch)
          : unloadPartition(change.partition)
    )
    for (const replica of replicas.replicas(CONSUMER_OFFSETS)) {
      if (replica.isLeader()) yield* loadPartition(replica.topicPartition.partition, replica.leaderEpoch)
    }

    const service: GroupCoordinator.Service = {
      partitionFor: store.partitionFor,
      ensureOffsetsTopic: store.ensureTopic,
      skippedRecords: store.skippedRecords,
      joinGroup: (groupId, input) =>
        Effect.gen(function* () {
          yield* checkGroupId(groupId)
          const long = [input.groupInstanceId ?? "", input.protocolType, ...input.protocols.map((p) => p.name)].find(
            tooLong
          )
          if (long !== undefined) {
            return yield* new InvalidRequest({
              message: `The group instance id, protocol type and protocol names must fit in ${MAX_STRING_BYTES} bytes.`
            })
          }
          if (input.sessionTimeoutMs < minSession || input.sessionTimeoutMs > maxSession) {
            return yield* new InvalidSessionTimeout({
              message: `Session timeout ${input.sessionTimeoutMs} ms is outside [${minSession}, ${maxSession}].`
            })
          }
          return yield* ask<Actor.JoinResult, GroupError>(
            groupId,
            true,
            (reply) => Actor.Command.Join({ input, reply }),
            () => Effect.die("unreachable")
          )
        }),
      syncGroup: (groupId, input) =>
        ask<Actor.SyncResult, GroupError>(
          groupId,
          false,
          (reply) => Actor.Command.Sync({ input, reply }),
          unknownMember(groupId)
        ),
      heartbeat: (groupId, input) =>
        ask<void, GroupError>(
          groupId,
          false,
          (reply) => Actor.Command.Heartbeat({ input, reply }),
          unknownMember(groupId)
        ),
      leaveGroup: (groupId, members) =>
        ask<ReadonlyArray<Actor.LeaveResult>, GroupError>(
          groupId,
          false,
          (reply) => Actor.Command.Leave({ members, reply }),
          () =>
            Effect.succeed(
              members.map((m) => ({
                ...m,
                error: new UnknownMemberId({ message: `Group ${groupId} does not exist.` })
              }))
            )
        ),
      commitOffsets: (groupId, request) =>
        Effect.gen(function* () {
          yield* checkGroupId(groupId)
          const results: Array<CommitResult> = []
          const valid: Array<Actor.OffsetToCommit> = []
          for (const o of request.offsets) {
            const topic = yield* registry.get(o.topic)
            if (topic === undefined || o.partition < 0 || o.partition >= topic.partitions) {
              results.push({
                ...o,
                error: new UnknownTopicOrPartition({ message: `${o.topic}-${o.partition} does not exist.` })
              })
            } else if (o.metadata !== null && Buffer.byteLength(o.metadata, "utf8") > maxMetadata) {
              results.push({
                ...o,
                error: new OffsetMetadataTooLarge({ message: `Metadata is longer than ${maxMetadata} bytes.` })
              })
            } else {
              valid.push({ ...o, metadata: o.metadata ?? "" })
              results.push({ topic: o.topic, partition: o.partition, error: undefined })
            }
          }
          if (valid.length === 0) return results
          const standalone = request.generationId < 0
          yield* ask<void, GroupError>(
            groupId,
            standalone,
            (reply) => Actor.Command.Commit({ input: { ...request, offsets: valid }, reply }),
            () =>
              Effect.fail(
                new IllegalGeneration({
                  message: `Group ${groupId} does not exist; only generation -1 commits create it.`
                })
              )
          )
          return results
        }),
      fetchOffsets: (groupId, topics) =>
        ask<ReadonlyArray<Actor.FetchedOffset>, GroupError>(
          groupId,
          false,
          (reply) => Actor.Command.FetchOffsets({ topics, reply }),
          () =>
            Effect.succeed(
              (topics ?? []).flatMap((t) =>
                t.partitions.map((partition) => ({
                  topic: t.topic,
                  partition,
                  offset: -1,
                  leaderEpoch: -1,
                  metadata: ""
                }))
              )
            )
        ),
      deleteOffsets: (groupId, topics) =>
        ask<ReadonlyArray<Actor.DeletedOffset>, GroupError>(
          groupId,
          false,
          (reply) => Actor.Command.DeleteOffsets({ topics, reply }),
          () => Effect.fail(new GroupIdNotFound({ message: `Group ${groupId} does not exist.` }))
        ),
      describeGroup: (groupId) =>
        ask<Actor.GroupDescription, GroupError>(
          groupId,
          false,
          (reply) => Actor.Command.Describe({ reply }),
          () =>
            Effect.succeed<Actor.GroupDescription>({
              groupId,
              state: "Dead",
              protocolType: "",
              protocolData: "",
              members: []
            })
        ),
      listGroups: Effect.sync(() => [...summaries.values()].filter((s) => s.state !== "Dead")),
      deleteGroup: (groupId) =>
        ask<void, GroupError>(
          groupId,
          false,
          (reply) => Actor.Command.Delete({ reply }),
          () => Effect.fail(new GroupIdNotFound({ message: `Group ${groupId} does not exist.` }))
        ),
      completeTransaction: (producerId, commit, partition) =>
        Effect.forEach(
          [...actors].filter(([groupId]) => store.partitionFor(groupId) === partition),
          ([, actor]) =>
            Effect.flatMap(Deferred.make<void>(), (reply) =>
              actor.send(Actor.Command.CompleteTxn({ producerId, commit, reply })).pipe(
                Effect.flatMap((sent) => (sent ? Deferred.await(reply) : Effect.void)),
                Effect.catchAll((e) => Effect.logWarning(`Cannot complete transactional offsets of ${producerId}`, e))
              )
            ),
          { discard: true }
        )
    }
    return service
  })

/** The coordinator as a layer (needs the broker's topic registry and replicas). */
export const layer = (
  options: GroupCoordinatorOptions = {}
): Layer.Layer<GroupCoordinator, CoordinatorNotAvailable, TopicRegistry | ReplicaManager> =>
  Layer.scoped(GroupCoordinator, make(options))
