/**
 * The hosted partitions: one {@link PartitionReplica} actor per partition, running in a `FiberMap`
 * under the layer's scope, over the partition logs of {@link LogStorage}. The same layer provides
 * the real {@link PartitionManager} (the topic registry creates, grows, reconfigures and deletes
 * partitions through it) and the broker's fetch session cache.
 *
 * Shutdown order: the actors stop first (each between two commands), the high-watermark checkpoint is written, then
 * the storage closes every log cleanly (flush and clean-shutdown marker).
 *
 * High-watermark checkpoint (`internal/hwCheckpoint.ts`): the data directory's `replication-offset-checkpoint` is read
 * once at start; a partition it names is hosted with that high watermark (clamped to its log) and leaderless until its
 * role comes (a partition record, or the sole leadership when none names this broker). One fiber of this scope
 * writes every hosted partition's high watermark every `replica.high.watermark.checkpoint.interval.ms` when one
 * changed, and once more at clean shutdown.
 *
 * Creating and deleting a topic's partitions serialize per topic (a keyed lock), so a large creation does
 * not hold another topic's; `deletePartitions(topic, from)` also removes what a failed creation left
 * (actors, open logs, folders of partitions `from` and up).
 *
 * Replication (see docs/cluster.md "Replication"):
 * - A partition's role follows the partition records of the metadata store, applied by `applyPartitionState`
 *   under the topic's lock: a record older than the last one applied (leader epoch, then partition epoch) is
 *   ignored; a replica this broker is no longer assigned is stopped and its log deleted.
 * - A partition is hosted only when `createPartitions` asks for it (loaded at start, or placed here by a local
 *   creation) and its record, if any, names this broker, or when a record naming this broker is applied; one whose
 *   record names other brokers is never opened, and a log of it left on disk is deleted.
 * - This broker leads only for a record written after its current registration (a restarted broker waits,
 *   leaderless, for the controller's new election rather than resume an earlier incarnation's epoch).
 * - A follower is fetched by exactly one fetcher fiber, its leader's (`internal/replication/fetcher.ts`, in a
 *   `FiberMap` keyed by leader id in this scope); a fetcher is started when its first partition arrives and
 *   removed when its last one leaves.
 * - A leader's ISR proposal is written by a fiber of this scope with a compare-and-swap on the partition record
 *   it re-reads (same leader, leader epoch and partition epoch, else rejected); any rejection re-applies the
 *   record the store holds. Leaders are ticked every `replica.lag.time.max.ms / 2` to shrink the ISR.
 * - Leadership listeners (the group and transaction coordinators) hear every role a partition takes, after the
 *   replica took it and under the topic's lock (so one partition's changes reach them in order): leader from
 *   `becomeLeader`, or when a partition is hosted without a record naming this broker (the sole leader of a
 *   single node); not leader from `becomeFollower`, a reassignment away or a deletion. A listener's failure is
 *   logged, never the caller's.
 */
import * as fs from "node:fs"
import { Context, Effect, FiberMap, FiberSet, Layer, Option, Schedule, type Scope } from "effect"
import type { LogConfig } from "../log/LogConfig.js"
import * as LogStorage from "../log/LogStorage.js"
import { KafkaStorageError } from "./BrokerError.js"
import { FetchSessionCache } from "./FetchSession.js"
import * as HwCheckpoint from "./internal/hwCheckpoint.js"
import * as KeyedLock from "./internal/keyedLock.js"
import * as Purgatory from "./internal/purgatory.js"
import * as Fetcher from "./internal/replication/fetcher.js"
import { DEFAULT_LAG_TIME_MAX_MS, leadsRecord } from "./internal/replication/leader.js"
import { PartitionState, type Versioned } from "./MetadataRecords.js"
import * as MetadataStore from "./MetadataStore.js"
import * as PartitionManager from "./PartitionManager.js"
import * as PartitionReplica from "./PartitionReplica.js"

/** Looks up the replicas this broker hosts. */
export class ReplicaManager extends Context.Tag("@eddy/core/broker/ReplicaManager")<
  ReplicaManager,
  ReplicaManager.Service
>() {}

/** Types of the replica manager. */
export declare namespace ReplicaManager {
  /** The service. */
  export interface Service {
    /** The replica of a partition, if hosted (a synchronous lookup: the hot path calls it per partition). */
    readonly get: (topic: string, partition: number) => PartitionReplica.PartitionReplica | undefined
    /** The replicas of a topic, by partition index. */
    readonly replicas: (topic: string) => ReadonlyArray<PartitionReplica.PartitionReplica>
    /** The broker's fetch session cache (KIP-227). */
    readonly fetchSessions: FetchSessionCache
    /** Deadlines of requests waiting on replicas (produce with acks=all, fetch long polls). */
    readonly purgatory: Purgatory.Purgatory
    /** This broker's id in the partitions' replica sets. */
    readonly brokerId: number
    /**
     * Applies a partition record of the metadata store: creates the local log when missing (with `config`, else
     * the storage's defaults), makes the replica leader or follower (starting or moving its fetcher), or stops
     * it and deletes its log when this broker is no longer among `replicas`. A record older than the last one
     * applied (leader epoch, then partition epoch) is ignored. With the record's store `version`, a record naming this
     * broker leader makes it lead only when written after this broker's current registration (see
     * {@link Service.useRegistration}); otherwise the replica waits, leaderless, for a new election.
     */
    readonly applyPartitionState: (
      state: PartitionState,
      config?: LogConfig,
      version?: number
    ) => Effect.Effect<void, KafkaStorageError>
    /**
     * Where this broker's current registration version comes from (the membership's); until it is given, and while
     * it is undefined, a versioned record does not make this broker lead.
     */
    readonly useRegistration: (registration: () => number | undefined) => void
    /** The leader and leader epoch of a hosted partition as this broker knows them (this broker when it leads). */
    readonly leaderOf: (
      topic: string,
      partition: number
    ) => { readonly leaderId: number; readonly leaderEpoch: number } | undefined
    /**
     * Calls `listener` with every later role change of a hosted partition, until the caller's scope closes
     * (under the topic's lock: the listener must not apply partition records itself).
     */
    readonly onLeadershipChange: (
      listener: (change: LeadershipChange) => Effect.Effect<void>
    ) => Effect.Effect<void, never, Scope.Scope>
  }
}

/** A partition's role on this broker changed (see `ReplicaManager.Service.onLeadershipChange`). */
export interface LeadershipChange {
  readonly topic: string
  readonly partition: number
  /** True when this broker now leads the partition; false when it follows it or no longer hosts it. */
  readonly isLeader: boolean
  readonly leaderEpoch: number
}

/** Options of {@link make}. */
export interface ReplicaManagerOptions {
  /** Mailbox capacity of each replica. */
  readonly mailboxCapacity?: number
  /** Fetch session cache slots (`max.incremental.fetch.session.cache.slots`, default 1000). */
  readonly fetchSessionSlots?: number
  /** `producer.id.expiration.ms` (default 86400000). */
  readonly producerIdExpirationMs?: number
  /** This broker's `node.id` (default 1, `node.id`'s default); the broker refuses to start on a different one. */
  readonly brokerId?: number
  /** `replica.lag.time.max.ms` (default 30000). */
  readonly lagTimeMaxMs?: number
  /** The follower fetcher's settings (Kafka's `replica.fetch.*` keys; defaults as Kafka's). */
  readonly fetcher?: Partial<Omit<Fetcher.FetcherSettings, "brokerId">>
  /** `replica.high.watermark.checkpoint.interval.ms` (default 5000). */
  readonly highWatermarkCheckpointIntervalMs?: number
}

/** `replica.high.watermark.checkpoint.interval.ms`'s default. */
export const DEFAULT_HW_CHECKPOINT_INTERVAL_MS = 5000

const toStorageError = (e: { readonly message: string }): KafkaStorageError =>
  e instanceof KafkaStorageError ? e : new KafkaStorageError({ message: e.message, path: "", code: "" })

/** Builds the replica manager and the partition manager over the current {@link LogStorage}. */
export const make = (
  options: ReplicaManagerOptions = {}
): Effect.Effect<
  { readonly replicas: ReplicaManager.Service; readonly partitions: PartitionManager.PartitionManager["Type"] },
  never,
  Scope.Scope | LogStorage.LogStorage
> =>
  Effect.gen(function* () {
    const storage = yield* LogStorage.LogStorage
    const actors = yield* FiberMap.make<string>()
    const topics = new Map<string, Array<PartitionReplica.PartitionReplica | undefined>>()
    // per topic: creating a topic's partitions does not hold another topic's changes
    const locks = KeyedLock.make()
    const fetchSessions = new FetchSessionCache(options.fetchSessionSlots)
    // the checkpointed high watermarks of the partitions with a log, by folder name; each is taken by the first
    // hosting of its partition
    const onDisk = new Set((yield* Effect.orElseSucceed(storage.list, () => [])).map(LogStorage.folderName))
    const checkpointed = new Map(
      [...(yield* HwCheckpoint.read(storage.disk, storage.dataDir, onDisk.size > 0))].filter(([key]) => onDisk.has(key))
    )
    const purgatory = yield* Purgatory.make()
    const store = yield* Effect.serviceOption(MetadataStore.MetadataStore)
    const brokerId = options.brokerId ?? 1
    const lagTimeMaxMs = options.lagTimeMaxMs ?? DEFAULT_LAG_TIME_MAX_MS
    const fetcherSettings: Fetcher.FetcherSettings = {
      brokerId,
      waitMaxMs: 500,
      minBytes: 1,
      partitionMaxBytes: 1_048_576,
      responseMaxBytes: 10_485_760,
      backoffMs: 1000,
      socketTimeoutMs: 30_000,
      ...options.fetcher
    }
    // the partition records applied last, by folder name
    const applied = new Map<string, PartitionState>()
    // followed partitions by leader id, then folder name; one fetcher fiber per leader
    const following = new Map<number, Map<string, Fetcher.Followed>>()
    const fetchers = yield* FiberMap.make<number>()
    const isrWriters = yield* FiberSet.make()
    const listeners = new Set<(change: LeadershipChange) => Effect.Effect<void>>()
    /** Tells the leadership listeners a partition's new role. */
    const announce = (change: LeadershipChange): Effect.Effect<void> =>
      Effect.forEach(
        [...listeners],
        (listener) =>
          listener(change).pipe(
            Effect.catchAllCause((cause) =>
              Effect.logError(`A leadership listener failed on ${change.topic}-${change.partition}`, cause)
            )
          ),
        { discard: true }
      )
    const replicaOptions: PartitionReplica.ReplicaOptions = {
      brokerId,
      lagTimeMaxMs,
      onProposeIsr: (proposal) => Effect.asVoid(FiberSet.run(isrWriters, writeIsr(proposal))),
      disk: storage.disk,
      ...(options.mailboxCapacity === undefined ? {} : { mailboxCapacity: options.mailboxCapacity }),
      ...(options.producerIdExpirationMs === undefined
        ? {}
        : { producerIdExpirationMs: options.producerIdExpirationMs })
    }

    const stopReplicas = (list: ReadonlyArray<PartitionReplica.PartitionReplica | undefined>) =>
      Effect.forEach(
        list,
        (r) =>
          r === undefined
            ? Effect.void
            : Effect.zipRight(r.stop, FiberMap.remove(actors, LogStorage.folderName(r.topicPartition))).pipe(
                Effect.zipRight(forget(LogStorage.folderName(r.topicPartition)))
              ),
        { discard: true }
      )
    const stopTopic = (topic: string, list: ReadonlyArray<PartitionReplica.PartitionReplica | undefined>) =>
      stopReplicas(list).pipe(Effect.zipRight(Effect.sync(() => fetchSessions.forgetTopic(topic))))

    // the hosted partitions, and those checkpointed but not hosted yet (a start still opening them) as they were
    const checkpoint = yield* HwCheckpoint.makeWriter(storage.disk, storage.dataDir, () => {
      const entries = hostedReplicas().map((r) => ({ ...r.topicPartition, offset: r.highWatermark() }))
      for (const [key, offset] of checkpointed) {
        const tp = LogStorage.parseFolderName(key)
        if (tp !== undefined) entries.push({ ...tp, offset })
      }
      return entries
    })

    // snapshot the producer state and stop every actor, then checkpoint the high watermarks, before the storage
    // closes the logs
    yield* Effect.addFinalizer(() =>
      Effect.forEach(hostedReplicas(), (r) => r.snapshot, { discard: true, concurrency: 8 }).pipe(
        Effect.zipRight(Effect.forEach([...topics], ([topic, list]) => stopTopic(topic, list), { discard: true })),
        Effect.zipRight(checkpoint.write)
      )
    )
    // forked after the finalizer above was added: interrupted before it runs
    const checkpointInterval = options.highWatermarkCheckpointIntervalMs ?? DEFAULT_HW_CHECKPOINT_INTERVAL_MS
    yield* Effect.forkScoped(Effect.forever(Effect.zipRight(Effect.sleep(checkpointInterval), checkpoint.write)))

    const createPartitions = (t: PartitionManager.TopicPartitions) =>
      locks.withLock(t.topic)(
        Effect.gen(function* () {
          let list = topics.get(t.topic)
          if (list === undefined) {
            list = []
            topics.set(t.topic, list)
          }
          const wanted = t.hosted ?? Array.from({ length: t.count }, (_, partition) => partition)
          for (const partition of wanted) {
            if (list[partition] !== undefined) continue
            const tp = { topic: t.topic, partition }
            const record = yield* recordOf(tp)
            // the store assigns it elsewhere (reassigned away while this broker was down): not hosted, no log kept
            if (Option.isSome(record) && !record.value.value.replicas.includes(brokerId)) {
              yield* dropStray(tp)
              continue
            }
            const replica = yield* host(tp, t.config)
            list[partition] = replica
            if (Option.isSome(record)) yield* applyLocked(record.value.value, undefined, record.value.version)
            // no record names this broker: it is the partition's sole leader
            if (!applied.has(LogStorage.folderName(tp))) {
              // hosted from the checkpoint, it waited for its role
              if (!replica.isLeader()) {
                yield* replica
                  .becomeLeader({
                    leaderEpoch: replica.leaderEpoch,
                    partitionEpoch: 0,
                    replicas: [brokerId],
                    isr: [brokerId]
                  })
                  .pipe(Effect.mapError(toStorageError))
              }
              yield* announce({ ...tp, isLeader: true, leaderEpoch: replica.leaderEpoch })
            }
          }
        })
      )

    /** Deletes the log of a partition this broker is not assigned, if one is on disk (logged). */
    const dropStray = (tp: PartitionReplica.TopicPartition) =>
      Effect.gen(function* () {
        const onDisk = yield* storage.list
        if (!onDisk.some((d) => d.topic === tp.topic && d.partition === tp.partition)) return
        yield* Effect.logInfo(
          `Deleting the log of ${tp.topic}-${tp.partition}: its partition record no longer names broker ${brokerId}`
        )
        yield* storage.delete(tp)
      })

    /** Opens a partition's log and starts its replica actor (the sole leader until a partition record comes). */
    const host = (tp: PartitionReplica.TopicPartition, config: LogConfig | undefined) =>
      Effect.gen(function* () {
        const log = yield* storage.open(tp, config)
        const key = LogStorage.folderName(tp)
        const highWatermark = checkpointed.get(key)
        checkpointed.delete(key)
        const { replica, run } = yield* PartitionReplica.make(
          tp,
          log,
          highWatermark === undefined ? replicaOptions : { ...replicaOptions, highWatermark }
        )
        yield* FiberMap.run(actors, key, run)
        return replica
      })

    const hostedReplicas = (): Array<PartitionReplica.PartitionReplica> =>
      [...topics.values()].flatMap((list) => list.filter((r) => r !== undefined))

    /** Stops following a partition (its fetcher goes when it was the last of its leader). */
    const forget = (key: string): Effect.Effect<void> =>
      Effect.suspend(() => {
        applied.delete(key)
        return unfollow(key)
      })

    const unfollow = (key: string): Effect.Effect<void> =>
      Effect.suspend(() => {
        for (const [leader, set] of following) {
          if (!set.delete(key)) continue
          if (set.size === 0) {
            following.delete(leader)
            return FiberMap.remove(fetchers, leader)
          }
        }
        return Effect.void
      })

    const follow = (key: string, leader: number, followed: Fetcher.Followed): Effect.Effect<void> =>
      Effect.gen(function* () {
        yield* unfollow(key)
        if (leader < 0) return
        let set = following.get(leader)
        if (set === undefined) {
          set = new Map()
          following.set(leader, set)
        }
        set.set(key, followed)
        yield* FiberMap.run(
          fetchers,
          leader,
          Fetcher.run(leader, () => following.get(leader), address, fetcherSettings),
          {
            onlyIfMissing: true
          }
        )
      })

    /** A live broker's address, from the store. */
    const address = (id: number) =>
      Option.match(store, {
        onNone: () => Effect.succeed(Option.none<{ readonly host: string; readonly port: number }>()),
        onSome: (s) =>
          s.brokers.pipe(
            Effect.map((all) =>
              Option.map(Option.fromNullable(all.find((b) => b.value.brokerId === id)), (b) => ({
                host: b.value.host,
                port: b.value.port
              }))
            ),
            Effect.orElseSucceed(() => Option.none<{ readonly host: string; readonly port: number }>())
          )
      })

    const isStale = (key: string, state: PartitionState): boolean => {
      const last = applied.get(key)
      return (
        last !== undefined &&
        (state.leaderEpoch < last.leaderEpoch ||
          (state.leaderEpoch === last.leaderEpoch && state.partitionEpoch <= last.partitionEpoch))
      )
    }

    const applyPartitionState = (
      state: PartitionState,
      config?: LogConfig,
      version?: number
    ): Effect.Effect<void, KafkaStorageError> => locks.withLock(state.topic)(applyLocked(state, config, version))

    // this broker's current registration version (none until the membership tells where to read it)
    let registration: () => number | undefined = () => undefined

    /**
     * Whether a record naming this broker leader makes it lead: only one written after its current registration (a
     * restarted broker, or one that registered again, never resumes an earlier incarnation's leader epoch, whose high
     * watermark and ISR it may have lost: it waits for the controller's new election). Unversioned records (applied
     * directly, without a store) always do.
     */
    const mayLead = (version: number | undefined): boolean =>
      version === undefined || leadsRecord(brokerId, brokerId, version, registration())

    /** {@link applyPartitionState} under the topic's lock. */
    const applyLocked = (
      state: PartitionState,
      config?: LogConfig,
      version?: number
    ): Effect.Effect<void, KafkaStorageError> =>
      Effect.suspend(() =>
        Effect.gen(function* () {
          const tp = { topic: state.topic, partition: state.partition }
          const key = LogStorage.folderName(tp)
          let list = topics.get(state.topic)
          const hosted = list?.[state.partition]
          if (!state.replicas.includes(brokerId)) {
            if (hosted === undefined || list === undefined) return
            // reassigned away: the replica stops and its log goes
            list[state.partition] = undefined
            yield* stopReplicas([hosted])
            yield* announce({ ...tp, isLeader: false, leaderEpoch: state.leaderEpoch })
            yield* storage.delete(tp)
            return
          }
          if (isStale(key, state)) return
          if (list === undefined) {
            list = []
            topics.set(state.topic, list)
          }
          let replica = hosted
          if (replica === undefined) {
            replica = yield* host(tp, config)
            list[state.partition] = replica
          }
          const previous = applied.get(key)
          applied.set(key, state)
          if (state.leader === brokerId && !mayLead(version)) {
            yield* unfollow(key)
            yield* Effect.logInfo(
              `Not leading ${state.topic}-${state.partition} in epoch ${state.leaderEpoch}: the record predates this broker's registration; waiting for a new election`
            )
            yield* replica
              .becomeFollower({ leaderId: -1, leaderEpoch: state.leaderEpoch, partitionEpoch: state.partitionEpoch })
              .pipe(Effect.mapError(toStorageError))
            return
          }
          if (state.leader === brokerId) {
            yield* unfollow(key)
            yield* replica
              .becomeLeader({
                leaderEpoch: state.leaderEpoch,
                partitionEpoch: state.partitionEpoch,
                replicas: state.replicas,
                isr: state.isr
              })
              .pipe(Effect.mapError(toStorageError))
            yield* announce({ ...tp, isLeader: true, leaderEpoch: state.leaderEpoch })
            return
          }
          yield* replica
            .becomeFollower({
              leaderId: state.leader,
              leaderEpoch: state.leaderEpoch,
              partitionEpoch: state.partitionEpoch
            })
            .pipe(Effect.mapError(toStorageError))
          yield* announce({ ...tp, isLeader: false, leaderEpoch: state.leaderEpoch })
          // an ISR change in the same epoch keeps the fetcher's progress
          if (
            previous?.leader === state.leader &&
            previous.leaderEpoch === state.leaderEpoch &&
            following.get(state.leader)?.has(key)
          )
            return
          yield* follow(key, state.leader, { replica, leaderEpoch: state.leaderEpoch, truncated: false })
        })
      )

    /**
     * The store's record of a partition about to be hosted (created, or loaded at start): one naming this broker gives
     * it its role before anyone can write to it as a sole leader (a restarted broker rejoins as the follower it was);
     * one naming other brokers only keeps it from being hosted. A store that cannot answer leaves it hosted as the
     * sole leader, with a warning.
     */
    const recordOf = (tp: PartitionReplica.TopicPartition): Effect.Effect<Option.Option<Versioned<PartitionState>>> =>
      Option.match(store, {
        onNone: () => Effect.succeedNone,
        onSome: (s) =>
          s
            .partition(tp.topic, tp.partition)
            .pipe(
              Effect.catchAll((e) =>
                Effect.as(
                  Effect.logWarning(`Cannot read the partition record of ${tp.topic}-${tp.partition}`, e),
                  Option.none()
                )
              )
            )
      })

    /** Writes a leader's ISR proposal to the store (compare-and-swap on the record it re-reads), then answers it. */
    const writeIsr = (proposal: PartitionReplica.IsrProposal): Effect.Effect<void> =>
      Effect.gen(function* () {
        const { topic, partition } = proposal.topicPartition
        const replica = topics.get(topic)?.[partition]
        if (replica === undefined) return
        const answer = (committed: boolean) =>
          replica.isrResult({
            leaderEpoch: proposal.leaderEpoch,
            committed,
            isr: proposal.isr,
            partitionEpoch: proposal.partitionEpoch
          })
        if (Option.isNone(store)) return yield* answer(false)
        const current = yield* store.value.partition(topic, partition)
        const record = Option.getOrUndefined(current)
        if (
          record === undefined ||
          record.value.leader !== brokerId ||
          record.value.leaderEpoch !== proposal.leaderEpoch ||
          record.value.partitionEpoch !== proposal.partitionEpoch - 1
        ) {
          yield* answer(false)
          if (record !== undefined) yield* applyPartitionState(record.value, undefined, record.version)
          return
        }
        const next = new PartitionState({ ...record.value, isr: proposal.isr, partitionEpoch: proposal.partitionEpoch })
        const written = yield* Effect.either(store.value.putPartition(next, record.version))
        if (written._tag === "Left") {
          yield* answer(false)
          const again = yield* store.value.partition(topic, partition)
          if (Option.isSome(again)) yield* applyPartitionState(again.value.value, undefined, again.value.version)
          return
        }
        yield* Effect.logInfo(
          `ISR of ${topic}-${partition} is now [${proposal.isr.join(",")}] (partition epoch ${proposal.partitionEpoch})`
        )
        yield* locks.withLock(topic)(
          Effect.sync(() => {
            const key = LogStorage.folderName(proposal.topicPartition)
            if (!isStale(key, next)) applied.set(key, next)
          })
        )
        yield* answer(true)
      }).pipe(
        Effect.catchAll((e) =>
          Effect.logWarning(
            `Cannot write the ISR of ${proposal.topicPartition.topic}-${proposal.topicPartition.partition}`,
            e
          )
        )
      )

    // leaders look for lagging ISR members every replica.lag.time.max.ms / 2
    yield* Effect.forkScoped(
      Effect.repeat(
        Effect.suspend(() =>
          Effect.forEach(
            hostedReplicas(),
            (r) => (r.isLeader() && r.inSyncReplicas().length > 1 ? r.tick : Effect.void),
            { discard: true }
          )
        ),
        Schedule.spaced(Math.max(1, Math.floor(lagTimeMaxMs / 2)))
      )
    )

    const deletePartitions = (topic: string, from = 0) =>
      locks.withLock(topic)(
        Effect.gen(function* () {
          const list = topics.get(topic) ?? []
          const stopped = list.slice(Math.max(from, 0))
          if (from <= 0) topics.delete(topic)
          else list.length = Math.min(list.length, from)
          // a partial delete rolls back partitions no client was told about: fetch sessions keep the topic
          yield* from <= 0 ? stopTopic(topic, stopped) : stopReplicas(stopped)
          for (const r of stopped) {
            if (r !== undefined) yield* announce({ ...r.topicPartition, isLeader: false, leaderEpoch: r.leaderEpoch })
          }
          const onDisk = yield* storage.list
          for (const tp of onDisk) {
            if (tp.topic === topic && tp.partition >= from) {
              checkpointed.delete(LogStorage.folderName(tp))
              yield* storage.delete(tp)
            }
          }
        })
      )

    const applyConfig = (topic: string, config: PartitionManager.TopicPartitions["config"]) =>
      Effect.forEach(topics.get(topic) ?? [], (r) => (r === undefined ? Effect.void : r.updateConfig(config)), {
        discard: true
      }).pipe(Effect.mapError(toStorageError))

    const logDirInfo = Effect.sync(() => {
      let totalBytes = -1
      let usableBytes = -1
      try {
        const s = fs.statfsSync(storage.dataDir)
        totalBytes = s.blocks * s.bsize
        usableBytes = s.bavail * s.bsize
      } catch {
        // in-memory storage or an unsupported file system: sizes stay unknown
      }
      return [
        {
          path: storage.dataDir,
          totalBytes,
          usableBytes,
          partitions: [...topics.values()].flatMap((list) =>
            list
              .filter((r) => r !== undefined)
              .map((r) => ({
                topic: r.topicPartition.topic,
                partition: r.topicPartition.partition,
                size: r.log.size,
                offsetLag: 0
              }))
          )
        }
      ]
    })

    return {
      replicas: {
        get: (topic, partition) => topics.get(topic)?.[partition],
        replicas: (topic) => (topics.get(topic) ?? []).filter((r) => r !== undefined),
        fetchSessions,
        purgatory,
        brokerId,
        applyPartitionState,
        useRegistration: (get) => {
          registration = get
        },
        leaderOf: (topic, partition) => {
          const r = topics.get(topic)?.[partition]
          return r === undefined ? undefined : { leaderId: r.leaderId(), leaderEpoch: r.leaderEpoch }
        },
        onLeadershipChange: (listener) =>
          Effect.acquireRelease(
            Effect.sync(() => listeners.add(listener)),
            () => Effect.sync(() => listeners.delete(listener))
          ).pipe(Effect.asVoid)
      },
      partitions: PartitionManager.PartitionManager.of({
        createPartitions,
        deletePartitions,
        applyConfig,
        logDirInfo,
        descriptorsPerPartition: PartitionManager.DESCRIPTORS_PER_PARTITION
      })
    }
  })

/** Replicas over the partition logs of the current {@link LogStorage} (the broker provides its data directory's). */
export const layer = (
  options: ReplicaManagerOptions = {}
): Layer.Layer<ReplicaManager | PartitionManager.PartitionManager, never, LogStorage.LogStorage> =>
  Layer.scopedContext(
    Effect.map(make(options), ({ replicas, partitions }) =>
      Context.make(ReplicaManager, replicas).pipe(Context.add(PartitionManager.PartitionManager, partitions))
    )
  )

/** Replicas over in-memory logs (tests): nothing survives the layer. */
export const layerMemory = (
  options: ReplicaManagerOptions = {}
): Layer.Layer<ReplicaManager | PartitionManager.PartitionManager, KafkaStorageError> =>
  Layer.provide(layer(options), LogStorage.layerMemory())
