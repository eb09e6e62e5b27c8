/**
 * The actor of one hosted partition, built on the broker's actor kit (`internal/actor.ts`): a fiber reading a
 * bounded mailbox of {@link Command}s, owning the partition's {@link Log}, its high watermark, its leader epoch
 * and the fetch waiters parked on it (long poll). Replies travel on a `Deferred` carried by each command.
 *
 * Invariants:
 * - Only the actor mutates the log (append, delete-records, config) and the high watermark; it
 *   publishes the high watermark as a plain number that handlers read without a round trip. While the
 *   actor runs it is the log's {@link LogOwner}: the storage's retention deletes, the cleaner's segment
 *   swaps and `flush.ms` flushes come through its mailbox as `Maintain` commands, so the replica is the
 *   log's only writer; after one, the producer state follows the log start offset.
 *   Reads go straight to the log (which allows reads concurrent with appends), bounded by that
 *   published high watermark, so a fetch never sees bytes that are not yet acknowledged.
 * - A replica is a leader or a follower ({@link Role}); it starts as the sole leader of its partition (replicas and
 *   ISR are this broker), so on a single node the high watermark advances to the log end offset as soon as an
 *   append is durable per the log's flush policy. A replica given a checkpointed high watermark (a restart) starts
 *   with it instead, clamped to the log, and leaderless (its high watermark kept) until it is told its role.
 *   The leader's replication decisions (follower log ends, ISR proposals, the high watermark) are made by the pure
 *   `internal/replication/leader.ts`; the actor only carries out its effects (an ISR proposal goes to the
 *   `onProposeIsr` callback, which writes the store without blocking the actor and answers with an `IsrResult`).
 * - A leader stamps its leader epoch on every batch it appends; a follower refuses client appends and markers
 *   (NOT_LEADER_OR_FOLLOWER) and writes only what its fetcher replicates (`Replicate`, offsets and epochs kept)
 *   or truncates (`Truncate`), each tagged with the leader epoch the fetcher follows, so a fetcher's stale
 *   answer arriving after a leadership change changes nothing. Its high watermark is the leader's, capped by
 *   its log end. A role change wakes every parked waiter, which then re-checks the role.
 * - A full mailbox refuses the command with {@link ReplicaBusy}; nothing waits for room.
 * - A command that fails or dies completes its own reply; a defect in the actor itself is logged, fails the
 *   replies of the commands it was handling, and the actor restarts from the log's state, leaving the other
 *   partitions alone.
 * - Appends queued together are written as one log append (one write, one flush decision) and then
 *   answered each with its own offsets; if that shared append fails they are retried one by one.
 *   Batches carrying a producer id are checked against the producer state first, in order, each seeing
 *   the updates of those before it at the offsets the log will assign (a retried batch is answered with
 *   its original offsets and not written again; a stale epoch or a sequence gap fails that append only);
 *   if the shared append then fails, the updates are rolled back. A retry of a batch of the same group is
 *   answered only after its original is durable, and fails with it.
 * - The producer state ({@link ProducerStateManager}) is the actor's: open transactions give the last
 *   stable offset (published like the high watermark, never below the log start), ABORT markers the
 *   aborted-transaction index. It is snapshotted beside the log when a segment rolls and at shutdown, and
 *   rebuilt on start from the latest snapshot not past the log end (later ones are deleted: recovery cut
 *   their batches off) plus the log after it.
 * - Producers idle for `producer.id.expiration.ms` are expired lazily, on Clock time, before producer
 *   batches are checked and before a snapshot is written, so expiry is never observably late.
 * - A produce that fails with KAFKA_STORAGE_ERROR is logged through {@link PartitionReplica.warnStorageError},
 *   at most once per 10 s per partition; the time of the last warning is the one field written outside the
 *   actor (it only gates a log line).
 */
import * as Path from "node:path"
import { Cause, Chunk, Clock, Data, Deferred, Effect, Exit, Option } from "effect"
import type { ReadBuffers } from "../log/BufferPool.js"
import type { Disk } from "../log/internal/disk.js"
import type { EpochEndOffset } from "../log/LeaderEpochCache.js"
import type { AppendInfo, Log, LogConfig, LogOwner, ReadResult } from "../log/Log.js"
import type { LogError, KafkaStorageError as LogStorageError, OffsetOutOfRangeError } from "../log/LogError.js"
import type { TopicPartition } from "../log/LogStorage.js"
import * as ProducerState from "../log/ProducerState.js"
import * as RecordBatch from "../protocol/RecordBatch.js"
import * as Actor from "./internal/actor.js"
import * as Leader from "./internal/replication/leader.js"
import {
  InvalidProducerEpoch,
  InvalidTxnState,
  NotLeaderOrFollower,
  OutOfOrderSequenceNumber,
  ReplicaBusy,
  type RequestTimedOut,
  UnknownTopicOrPartition
} from "./PartitionError.js"

export type { TopicPartition } from "../log/LogStorage.js"

/** What an acknowledged append reports. */
export interface AppendResult {
  readonly baseOffset: number
  readonly lastOffset: number
  /** The broker time stamped on LogAppendTime topics, else -1. */
  readonly logAppendTime: number
  readonly logStartOffset: number
}

/** Why an append can fail (RequestTimedOut: a waiting request's deadline, set by its handler, passed). */
export type AppendError =
  | LogError
  | NotLeaderOrFollower
  | ReplicaBusy
  | RequestTimedOut
  | UnknownTopicOrPartition
  | OutOfOrderSequenceNumber
  | InvalidProducerEpoch
  | InvalidTxnState

/** A transaction marker to write (from the transaction coordinator). */
export interface TxnMarker {
  readonly producerId: number
  readonly producerEpoch: number
  readonly commit: boolean
  readonly coordinatorEpoch: number
}

/** Why a delete-records can fail. */
export type DeleteRecordsError =
  | OffsetOutOfRangeError
  | LogStorageError
  | NotLeaderOrFollower
  | ReplicaBusy
  | UnknownTopicOrPartition

/** What becoming (or staying) the leader needs from the partition record. */
export interface LeaderTarget {
  readonly leaderEpoch: number
  readonly partitionEpoch: number
  readonly replicas: ReadonlyArray<number>
  readonly isr: ReadonlyArray<number>
}

/** What becoming a follower needs from the partition record. */
export interface FollowerTarget {
  readonly leaderId: number
  readonly leaderEpoch: number
  readonly partitionEpoch: number
}

/** An ISR change the leader proposes (the record to write: `partitionEpoch` is the committed one plus one). */
export interface IsrProposal {
  readonly topicPartition: TopicPartition
  readonly leaderEpoch: number
  readonly isr: ReadonlyArray<number>
  readonly partitionEpoch: number
}

/** Why a replication command (truncate, replicate) can fail. */
export type ReplicationError = LogError | NotLeaderOrFollower | ReplicaBusy | UnknownTopicOrPartition

/** The commands a replica's mailbox carries. */
export type Command = Data.TaggedEnum<{
  /** Appends whole batches (already validated) with offsets assigned by the log. */
  Append: {
    readonly batches: ReadonlyArray<Uint8Array>
    readonly reply: Deferred.Deferred<AppendResult, AppendError>
  }
  /** Advances the log start offset (`offset` -1 means the high watermark). */
  DeleteRecords: { readonly offset: number; readonly reply: Deferred.Deferred<number, DeleteRecordsError> }
  /**
   * Parks a fetch waiter until the high watermark (the log end when `untilLogEnd`: a follower's fetch) passes
   * `fetchOffset`, the role changes, or the waiter is done elsewhere.
   */
  Park: { readonly fetchOffset: number; readonly waiter: Deferred.Deferred<void>; readonly untilLogEnd: boolean }
  /** Becomes (or stays) the leader with this partition record. */
  BecomeLeader: { readonly target: LeaderTarget; readonly reply: Deferred.Deferred<void> }
  /** Becomes a follower of `leaderId`. */
  BecomeFollower: { readonly target: FollowerTarget; readonly reply: Deferred.Deferred<void> }
  /** A follower fetched from this leader at `fetchOffset` (its log end). */
  FollowerFetched: { readonly replica: number; readonly fetchOffset: number }
  /** Time passed: the leader looks for followers to drop from the ISR. */
  Tick: {}
  /** The store's answer to an ISR proposal. */
  IsrResult: {
    readonly leaderEpoch: number
    readonly committed: boolean
    readonly isr: ReadonlyArray<number>
    readonly partitionEpoch: number
  }
  /** A follower truncates its log to `offset` (`full`: empties it and restarts at `offset`). */
  Truncate: {
    readonly leaderEpoch: number
    readonly offset: number
    readonly full: boolean
    readonly reply: Deferred.Deferred<void, ReplicationError>
  }
  /** A follower appends batches fetched from its leader (offsets kept) and takes the leader's high watermark. */
  Replicate: {
    readonly leaderEpoch: number
    readonly records: Uint8Array
    readonly leaderHw: number
    readonly reply: Deferred.Deferred<void, ReplicationError>
  }
  /** Replaces the log configuration. */
  UpdateConfig: { readonly config: LogConfig; readonly reply: Deferred.Deferred<void> }
  /** Writes a COMMIT or ABORT marker for a producer's transaction. */
  Marker: { readonly marker: TxnMarker; readonly reply: Deferred.Deferred<AppendResult, AppendError> }
  /** Writes a producer-state snapshot (at shutdown). */
  Snapshot: { readonly reply: Deferred.Deferred<void> }
  /** Runs a maintenance mutation the log hands to its owner (retention, a cleaner swap, a scheduled flush). */
  Maintain: {
    readonly mutation: Effect.Effect<unknown, unknown>
    readonly reply: Deferred.Deferred<Option.Option<unknown>, unknown>
  }
}>

/** Constructors and matchers of {@link Command}. */
export const Command = Data.taggedEnum<Command>()

/** A running partition replica, as seen by handlers. */
export interface PartitionReplica {
  readonly topicPartition: TopicPartition
  /** The partition's log; read it directly, mutate it only through the actor. */
  readonly log: Log
  /** The leader epoch (0 on a single node until a partition record says otherwise). */
  readonly leaderEpoch: number
  /** True while this broker leads the partition. */
  readonly isLeader: () => boolean
  /** The leader's broker id as this replica knows it (this broker while it leads). */
  readonly leaderId: () => number
  /** The committed ISR (the leader's view; a follower's is empty). */
  readonly inSyncReplicas: () => ReadonlyArray<number>
  /** Becomes (or stays) the leader with this partition record; the leader epoch goes into the epoch cache. */
  readonly becomeLeader: (target: LeaderTarget) => Effect.Effect<void, ReplicaBusy | UnknownTopicOrPartition>
  /** Becomes a follower of `target.leaderId`. */
  readonly becomeFollower: (target: FollowerTarget) => Effect.Effect<void, ReplicaBusy | UnknownTopicOrPartition>
  /** Tells the leader a follower fetched at `fetchOffset` (no reply; dropped when the mailbox is full). */
  readonly followerFetched: (replica: number, fetchOffset: number) => Effect.Effect<void>
  /** Tells the leader to look for lagging ISR members (no reply). */
  readonly tick: Effect.Effect<void>
  /** Tells the leader the store's answer to its ISR proposal (no reply). */
  readonly isrResult: (result: {
    readonly leaderEpoch: number
    readonly committed: boolean
    readonly isr: ReadonlyArray<number>
    readonly partitionEpoch: number
  }) => Effect.Effect<void>
  /** A follower of `leaderEpoch` truncates to `offset` (`full`: empties the log and restarts it at `offset`). */
  readonly truncate: (leaderEpoch: number, offset: number, full?: boolean) => Effect.Effect<void, ReplicationError>
  /** A follower of `leaderEpoch` appends fetched batches (offsets kept) and takes the leader's high watermark. */
  readonly replicate: (
    leaderEpoch: number,
    records: Uint8Array,
    leaderHw: number
  ) => Effect.Effect<void, ReplicationError>
  /** Completes `waiter` once the log end is above `fetchOffset` (a follower's fetch), or the role changes. */
  readonly parkUntilLogEnd: (fetchOffset: number, waiter: Deferred.Deferred<void>) => Effect.Effect<void, ReplicaBusy>
  /** The high watermark as last published by the actor. */
  readonly highWatermark: () => number
  /** The last stable offset: the first offset of the oldest open transaction, at most the high watermark. */
  readonly lastStableOffset: () => number
  /** Producer ids with state in this partition (sequence numbers, open transactions), as the actor last left it. */
  readonly producerIdCount: () => number
  /** Aborted transactions overlapping `[fetchOffset, upperOffset)`, for a read_committed fetch. */
  readonly abortedTransactions: (
    fetchOffset: number,
    upperOffset: number
  ) => ReadonlyArray<{ readonly producerId: number; readonly firstOffset: number }>
  /**
   * Appends a COMMIT or ABORT control batch for the producer's transaction (written even when the
   * producer has no open transaction here, as Kafka does); completes when durable and under the high
   * watermark. Fails with InvalidProducerEpoch when `producerEpoch` is older than the stored epoch.
   */
  readonly writeTxnMarker: (marker: TxnMarker) => Effect.Effect<AppendResult, AppendError>
  /** Writes a producer-state snapshot beside the log (clean shutdown). */
  readonly snapshot: Effect.Effect<void>
  /** Appends validated batches; completes once they are durable per the flush policy and under the high watermark. */
  readonly append: (batches: ReadonlyArray<Uint8Array>) => Effect.Effect<AppendResult, AppendError>
  /**
   * Queues an append and returns its reply without waiting for it, so a request can queue appends to
   * several partitions and then await them all without a fiber per partition.
   */
  readonly offerAppend: (
    batches: ReadonlyArray<Uint8Array>
  ) => Effect.Effect<Deferred.Deferred<AppendResult, AppendError>, ReplicaBusy | UnknownTopicOrPartition>
  /** DeleteRecords: advances the log start offset, at most to the high watermark; -1 means the high watermark. */
  readonly deleteRecords: (offset: number) => Effect.Effect<number, DeleteRecordsError>
  /** Completes `waiter` once the high watermark is above `fetchOffset` (immediately if it already is). */
  readonly park: (fetchOffset: number, waiter: Deferred.Deferred<void>) => Effect.Effect<void, ReplicaBusy>
  /** Applies a new log configuration. */
  readonly updateConfig: (config: LogConfig) => Effect.Effect<void, ReplicaBusy | UnknownTopicOrPartition>
  /**
   * Whole batches from the one holding `offset`, up to the high watermark (or `maxOffset`); the bytes
   * land in `buffers` when given (a request's lease: see `ReadOptions.buffers`).
   */
  readonly read: (
    offset: number,
    maxBytes: number,
    minOneMessage: boolean,
    maxOffset?: number,
    buffers?: ReadBuffers
  ) => Effect.Effect<ReadResult, OffsetOutOfRangeError | LogStorageError>
  /** OffsetForLeaderEpoch against the log's epoch cache. */
  readonly endOffsetForEpoch: (epoch: number) => Effect.Effect<EpochEndOffset>
  /**
   * Logs a failed write of this partition (disk full, I/O error) as one warning naming the partition and
   * the file, at most once per {@link STORAGE_WARNING_INTERVAL_MS} of Clock time; later ones are dropped.
   */
  readonly warnStorageError: (error: LogStorageError) => Effect.Effect<void>
  /** Refuses every later command and fails those still queued (the partition is going away). */
  readonly stop: Effect.Effect<void>
}

/** At most one storage warning per partition in this many milliseconds. */
export const STORAGE_WARNING_INTERVAL_MS = 10_000

/** Records in the batches of `buf` (lastOffsetDelta + 1 each). */
const recordCount = (buf: Uint8Array): number => {
  let n = 0
  for (let pos = 0; pos < buf.length; pos += RecordBatch.sizeAt(buf, pos)) {
    const d = pos + RecordBatch.Field.lastOffsetDelta
    n += ((buf[d]! << 24) | (buf[d + 1]! << 16) | (buf[d + 2]! << 8) | buf[d + 3]!) + 1
  }
  return n
}

/** Options of {@link make}. */
export interface ReplicaOptions {
  /** Commands the mailbox holds before refusing more (default 4096). */
  readonly mailboxCapacity?: number
  /** Leader epoch to serve (default 0). */
  readonly leaderEpoch?: number
  /** Where producer-state snapshots live (the log's disk); without it they are not written. */
  readonly disk?: Disk
  /** `producer.id.expiration.ms` (default 86400000). */
  readonly producerIdExpirationMs?: number
  /** This broker's id (`node.id`), the replica's id in the partition's replica set (default 0). */
  readonly brokerId?: number
  /** `replica.lag.time.max.ms` (default 30000). */
  readonly lagTimeMaxMs?: number
  /** Carries out an ISR proposal without blocking the actor (forks), answering later with `isrResult`. */
  readonly onProposeIsr?: (proposal: IsrProposal) => Effect.Effect<void>
  /**
   * The high watermark checkpointed for this partition (`replication-offset-checkpoint`): the replica starts with it,
   * clamped to the log, and leaderless (no leader, client writes refused) until `becomeLeader` or `becomeFollower`
   * gives it its role. Without it, the replica starts as the sole leader (its high watermark the log end).
   */
  readonly highWatermark?: number
}

/** How often idle producers are looked for, at most (`producer.id.expiration.check.interval.ms` in Kafka is 10 min). */
const EXPIRY_CHECK_INTERVAL_MS = 60_000
/** Producer-state snapshots kept per partition. */
const SNAPSHOTS_KEPT = 2
/** Bytes read per step when the producer state is rebuilt from the log. */
const REPLAY_CHUNK = 1 << 20

interface Waiter {
  readonly fetchOffset: number
  readonly waiter: Deferred.Deferred<void>
}

/**
 * Builds a replica over an open log. Returns the handle and `run`, the actor's supervised loop, which
 * the caller forks (the ReplicaManager runs it in a FiberMap under the broker's scope).
 */
export const make = (
  topicPartition: TopicPartition,
  log: Log,
  options: ReplicaOptions = {}
): Effect.Effect<{ readonly replica: PartitionReplica; readonly run: Effect.Effect<void> }> =>
  Effect.gen(function* () {
    let leaderEpoch = options.leaderEpoch ?? 0
    const self = options.brokerId ?? 0
    const lagTimeMaxMs = options.lagTimeMaxMs ?? Leader.DEFAULT_LAG_TIME_MAX_MS
    const name = `${topicPartition.topic}-${topicPartition.partition}`
    const gone = () => new UnknownTopicOrPartition({ message: `Partition ${name} is not hosted here.` })
    const actor = yield* Actor.make<Command, ReplicaBusy, UnknownTopicOrPartition>({
      name: `Partition ${name} actor`,
      policy: Actor.bounded(options.mailboxCapacity ?? 4096, "fail"),
      full: () => new ReplicaBusy({ message: `Partition ${name} has too many pending commands.` }),
      stopped: gone,
      // the partition is going away: waiters see the error themselves when they fetch again
      onDropped: (c) =>
        c._tag === "Park"
          ? Deferred.succeed(c.waiter, undefined)
          : c._tag === "FollowerFetched" || c._tag === "Tick" || c._tag === "IsrResult"
            ? Effect.void
            : c._tag === "UpdateConfig" || c._tag === "Snapshot"
              ? Deferred.succeed(c.reply, undefined)
              : c._tag === "Maintain"
                ? Deferred.succeed(c.reply, Option.none())
                : Deferred.fail(c.reply as Deferred.Deferred<unknown, UnknownTopicOrPartition>, gone())
    })
    if (log.latestEpoch < leaderEpoch) {
      yield* log
        .assignEpochStartOffset(leaderEpoch, log.logEndOffset)
        .pipe(Effect.catchAll((e) => Effect.logWarning(`${name}: cannot record leader epoch ${leaderEpoch}`, e)))
    }

    // a checkpointed high watermark, clamped to the log
    const restored =
      options.highWatermark === undefined
        ? undefined
        : Math.max(log.logStartOffset, Math.min(options.highWatermark, log.logEndOffset))
    if (restored !== undefined) yield* log.updateHighWatermark(restored)

    // actor state
    let highWatermark = restored ?? 0
    let lastStable = 0
    let waiters: Array<Waiter> = []
    // follower fetches parked on this leader: woken when the log end passes their offset
    let logEndWaiters: Array<Waiter> = []
    // the role: the leader's replication state while leading (initially the sole replica, unless restored from a
    // checkpoint: then leaderless until told its role), else the leader's id
    let leaderState: Leader.LeaderState | undefined =
      restored === undefined
        ? Leader.init({
            self,
            topic: topicPartition.topic,
            partition: topicPartition.partition,
            leaderEpoch,
            partitionEpoch: 0,
            replicas: [self],
            isr: [self],
            leo: log.logEndOffset,
            hw: highWatermark,
            lagTimeMaxMs,
            nowMs: 0
          })
        : undefined
    let leaderId = restored === undefined ? self : -1
    const producers = new ProducerState.ProducerStateManager()
    const expirationMs = options.producerIdExpirationMs ?? 86_400_000
    let lastExpiryCheck = 0
    let segmentCount = log.segments.length
    const disk = options.disk

    const publishLastStable = () => {
      const first = producers.firstUnstableOffset()
      // an open transaction whose start was deleted (DeleteRecords, retention) holds the LSO at the log start
      lastStable = first === undefined ? highWatermark : Math.min(Math.max(first, log.logStartOffset), highWatermark)
    }

    /** Writes a snapshot of the producer state as of the log end, keeping the latest {@link SNAPSHOTS_KEPT}. */
    const writeSnapshot: Effect.Effect<void> = Effect.flatMap(Clock.currentTimeMillis, (now) => {
      if (disk === undefined) return Effect.void
      lastExpiryCheck = now
      producers.removeExpired(now, expirationMs)
      // the actor has applied every batch up to the log end (plain batches change nothing)
      producers.mapEndOffset = log.logEndOffset
      const file = Path.join(log.dir, ProducerState.snapshotFileName(producers.mapEndOffset))
      return disk.writeFileAtomic(file, producers.encodeSnapshot()).pipe(
        Effect.zipRight(disk.list(log.dir)),
        Effect.flatMap((names) => {
          const old = names
            .map((n) => ProducerState.snapshotOffset(n))
            .filter((o): o is number => o !== undefined)
            .sort((a, b) => b - a)
            .slice(SNAPSHOTS_KEPT)
          return Effect.forEach(old, (o) => disk.remove(Path.join(log.dir, ProducerState.snapshotFileName(o))), {
            discard: true
          })
        }),
        Effect.catchAll((e) => Effect.logWarning(`${name}: cannot write a producer-state snapshot`, e))
      )
    })

    /** Loads the latest usable snapshot and replays the log after it. */
    const recoverProducers: Effect.Effect<void> = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      producers.clear(log.logStartOffset)
      if (disk !== undefined) {
        const names = yield* Effect.orElseSucceed(disk.list(log.dir), () => [] as ReadonlyArray<string>)
        const all = names.map((n) => ProducerState.snapshotOffset(n)).filter((o): o is number => o !== undefined)
        // a snapshot past the log end describes batches that recovery cut off (an unclean shutdown): once
        // the log grows past it again it would describe other batches, so it goes now
        yield* Effect.forEach(
          all.filter((o) => o > log.logEndOffset),
          (o) => Effect.ignore(disk.remove(Path.join(log.dir, ProducerState.snapshotFileName(o)))),
          { discard: true }
        )
        const offsets = all.filter((o) => o <= log.logEndOffset).sort((a, b) => b - a)
        for (const o of offsets) {
          const bytes = yield* Effect.orElseSucceed(
            disk.readFile(Path.join(log.dir, ProducerState.snapshotFileName(o))),
            () => undefined
          )
          if (bytes !== undefined && bytes._tag === "Some" && producers.loadSnapshot(bytes.value)) break
          producers.clear(log.logStartOffset)
        }
      }
      let offset = Math.max(producers.mapEndOffset, log.logStartOffset)
      producers.onLogStartOffset(log.logStartOffset)
      while (offset < log.logEndOffset) {
        const read = yield* log.read(offset, REPLAY_CHUNK, { maxOffset: log.logEndOffset, minOneMessage: true })
        if (read.records.length === 0 || read.nextOffset <= offset) break
        producers.replay(read.records, now)
        offset = read.nextOffset
      }
      producers.mapEndOffset = log.logEndOffset
    }).pipe(
      Effect.catchAll((e) => Effect.logWarning(`${name}: cannot rebuild the producer state`, e)),
      // a batch the log's recovery let through but replay cannot read: serve with the state rebuilt so far
      Effect.catchAllDefect((d) => Effect.logError(`${name}: cannot rebuild the producer state`, d))
    )

    const advance = (offset: number): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (offset <= highWatermark) {
          publishLastStable()
          return Effect.void
        }
        highWatermark = offset
        publishLastStable()
        const ready: Array<Waiter> = []
        const parked: Array<Waiter> = []
        for (const w of waiters) (w.fetchOffset < offset ? ready : parked).push(w)
        waiters = parked
        return Effect.zipRight(
          log.updateHighWatermark(offset),
          Effect.forEach(ready, (w) => Deferred.succeed(w.waiter, undefined), { discard: true })
        )
      })

    /** Sets a follower's high watermark (it may go down: a truncation, or the leader's is lower). */
    const setHighWatermark = (offset: number): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (offset === highWatermark) return Effect.void
        if (offset > highWatermark) return advance(offset)
        highWatermark = offset
        publishLastStable()
        return Effect.asVoid(log.updateHighWatermark(offset))
      })

    /** Carries out the leader state machine's effects. */
    const applyLeader = (result: Leader.Step): Effect.Effect<void> => {
      leaderState = result.state
      if (result.effects.length === 0) return Effect.void
      // the hot path (an append on a sole or caught-up ISR): one high watermark, no proposal
      const only = result.effects.length === 1 ? result.effects[0]! : undefined
      if (only !== undefined && only._tag === "HighWatermark") return advance(only.hw)
      return Effect.forEach(
        result.effects,
        (e) =>
          e._tag === "HighWatermark"
            ? advance(e.hw)
            : options.onProposeIsr === undefined
              ? Effect.void
              : options.onProposeIsr({ topicPartition, leaderEpoch, isr: e.isr, partitionEpoch: e.partitionEpoch }),
        { discard: true }
      )
    }

    /** After a leader's own append reached `leo`: parked follower fetches wake, and the high watermark follows the ISR. */
    const onLeaderAppend = (leo: number, now: number): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (logEndWaiters.length > 0) {
          const ready = logEndWaiters.filter((w) => w.fetchOffset < leo)
          logEndWaiters = logEndWaiters.filter((w) => w.fetchOffset >= leo)
          for (const w of ready) Deferred.unsafeDone(w.waiter, Exit.void)
        }
        if (leaderState === undefined) return Effect.void
        return applyLeader(Leader.step(leaderState, { _tag: "Appended", leo, nowMs: now }))
      })

    /** Wakes every parked waiter (the role changed: they re-check it). */
    const wakeAll = (): void => {
      for (const w of waiters) Deferred.unsafeDone(w.waiter, Exit.void)
      for (const w of logEndWaiters) Deferred.unsafeDone(w.waiter, Exit.void)
      waiters = []
      logEndWaiters = []
    }

    /** Re-derives the actor's state from the log (start and restart). */
    const resync = Effect.suspend(() => {
      highWatermark = Math.min(highWatermark, log.logEndOffset)
      return Effect.zipRight(
        recoverProducers,
        Effect.suspend(() => {
          if (leaderState === undefined) {
            publishLastStable()
            return Effect.void
          }
          // the state follows the log end (at start, or after a defect), and the high watermark the ISR
          leaderState = { ...leaderState, leo: log.logEndOffset, hw: Math.min(leaderState.hw, log.logEndOffset) }
          const { isr, partitionEpoch } = leaderState
          return applyLeader(Leader.step(leaderState, { _tag: "IsrCommitted", isr, partitionEpoch }))
        })
      )
    })

    /**
     * Forgets producers idle for `producer.id.expiration.ms` (a scan at most once a minute, or once per
     * expiration period when shorter). Expiry is lazy but never observably late: it runs before producer
     * batches are checked (an expired producer is treated as new), after appends, and before a snapshot is
     * written (so no expired producer is persisted); a partition nobody writes to needs no timer.
     */
    const expireIfDue = (now: number): void => {
      if (now - lastExpiryCheck >= Math.min(expirationMs, EXPIRY_CHECK_INTERVAL_MS)) {
        lastExpiryCheck = now
        producers.removeExpired(now, expirationMs)
      }
    }

    /** After an append: snapshot on a segment roll, expire idle producers now and then. */
    const afterAppend = (now: number): Effect.Effect<void> =>
      Effect.suspend(() => {
        expireIfDue(now)
        const count = log.segments.length
        if (count === segmentCount) return Effect.void
        segmentCount = count
        producers.onLogStartOffset(log.logStartOffset)
        return writeSnapshot
      })

    const toResult = (info: AppendInfo): AppendResult => ({
      baseOffset: info.firstOffset,
      lastOffset: info.lastOffset,
      logAppendTime: info.logAppendTime,
      logStartOffset: info.logStartOffset
    })

    /** Appends batches of producers: checked against the producer state first, which is updated after. */
    const appendProducerBatches = (
      batches: ReadonlyArray<Uint8Array>,
      reply: Deferred.Deferred<AppendResult, AppendError>
    ): Effect.Effect<void> =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        expireIfDue(now)
        for (const buf of batches) {
          for (let pos = 0; pos < buf.length; pos += RecordBatch.sizeAt(buf, pos)) {
            const verdict = producers.check(RecordBatch.readHeader(buf, pos))
            switch (verdict._tag) {
              case "Append":
                continue
              case "Duplicate":
                yield* Deferred.succeed(reply, {
                  baseOffset: verdict.firstOffset,
                  lastOffset: verdict.lastOffset,
                  logAppendTime: -1,
                  logStartOffset: log.logStartOffset
                })
                return
              case "InvalidProducerEpoch":
                yield* Deferred.fail(reply, new InvalidProducerEpoch({ message: verdict.message }))
                return
              case "OutOfOrderSequence":
                yield* Deferred.fail(reply, new OutOfOrderSequenceNumber({ message: verdict.message }))
                return
              case "InvalidTxnState":
                yield* Deferred.fail(reply, new InvalidTxnState({ message: verdict.message }))
                return
            }
          }
        }
        const appended = yield* Effect.exit(
          log.append(batches, { leaderEpoch, verifyCrc: false }).pipe(Effect.tap((info: AppendInfo) => info.durable))
        )
        if (Exit.isSuccess(appended)) {
          // the log rewrote each batch's base offset in place
          for (const buf of batches) {
            for (let pos = 0; pos < buf.length; pos += RecordBatch.sizeAt(buf, pos)) {
              producers.update(RecordBatch.readHeader(buf, pos), now)
            }
          }
          yield* onLeaderAppend(appended.value.lastOffset + 1, now)
          yield* afterAppend(now)
        }
        yield* Deferred.done(reply, Exit.map(appended, toResult))
      })

    const hasProducer = (batches: ReadonlyArray<Uint8Array>): boolean => {
      for (const buf of batches) {
        for (let pos = 0; pos < buf.length; pos += RecordBatch.sizeAt(buf, pos)) {
          if (RecordBatch.readHeader(buf, pos).producerId >= 0) return true
        }
      }
      return false
    }

    const writeMarker = (marker: TxnMarker, reply: Deferred.Deferred<AppendResult, AppendError>): Effect.Effect<void> =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const entry = producers.producers.get(marker.producerId)
        if (entry !== undefined && marker.producerEpoch < entry.epoch) {
          yield* Deferred.fail(
            reply,
            new InvalidProducerEpoch({
              message: `Marker epoch ${marker.producerEpoch} of producer ${marker.producerId} is older than ${entry.epoch}`
            })
          )
          return
        }
        const type = marker.commit ? "COMMIT" : "ABORT"
        const batch = RecordBatch.encodeControlBatch({
          type,
          producerId: marker.producerId,
          producerEpoch: marker.producerEpoch,
          coordinatorEpoch: marker.coordinatorEpoch,
          timestamp: now
        })
        const appended = yield* Effect.exit(
          log.append(batch, { leaderEpoch, verifyCrc: false }).pipe(Effect.tap((info: AppendInfo) => info.durable))
        )
        if (Exit.isSuccess(appended)) {
          producers.update(RecordBatch.readHeader(batch), now, {
            type: RecordBatch.ControlType[type],
            coordinatorEpoch: marker.coordinatorEpoch
          })
          yield* onLeaderAppend(appended.value.lastOffset + 1, now)
          yield* afterAppend(now)
        }
        yield* Deferred.done(reply, Exit.map(appended, toResult))
      })

    const notLeader = () =>
      new NotLeaderOrFollower({ message: `This broker is not the leader of ${name} (leader ${leaderId}).` })

    /** Becomes (or stays) the leader: a new epoch starts in the epoch cache at the log end. */
    const becomeLeader = (target: LeaderTarget): Effect.Effect<void> =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const previous = leaderState
        const sameEpoch = previous !== undefined && target.leaderEpoch === leaderEpoch
        if (log.latestEpoch < target.leaderEpoch) {
          yield* log
            .assignEpochStartOffset(target.leaderEpoch, log.logEndOffset)
            .pipe(
              Effect.catchAll((e) => Effect.logWarning(`${name}: cannot record leader epoch ${target.leaderEpoch}`, e))
            )
        }
        if (!sameEpoch) wakeAll()
        leaderEpoch = target.leaderEpoch
        leaderId = self
        const fresh = Leader.init({
          self,
          topic: topicPartition.topic,
          partition: topicPartition.partition,
          leaderEpoch: target.leaderEpoch,
          partitionEpoch: target.partitionEpoch,
          replicas: target.replicas,
          isr: target.isr,
          leo: log.logEndOffset,
          hw: highWatermark,
          epochStartOffset: sameEpoch ? previous.epochStartOffset : log.logEndOffset,
          lagTimeMaxMs,
          nowMs: now
        })
        // within one epoch (an ISR or assignment change) what the leader knows of its followers stays
        const followers = new Map(fresh.followers)
        if (sameEpoch) for (const [id, f] of previous.followers) if (followers.has(id)) followers.set(id, f)
        const state = { ...fresh, followers }
        // the high watermark follows the new ISR at once (a sole replica: its log end)
        yield* applyLeader(
          Leader.step(state, { _tag: "IsrCommitted", isr: state.isr, partitionEpoch: state.partitionEpoch })
        )
      })

    /** Becomes a follower of `target.leaderId`: client writes are refused from now on, parked requests re-check. */
    const becomeFollower = (target: FollowerTarget): Effect.Effect<void> =>
      Effect.sync(() => {
        wakeAll()
        leaderState = undefined
        leaderEpoch = target.leaderEpoch
        leaderId = target.leaderId
      })

    /** A follower's truncation (its fetcher found a divergent suffix, or the leader's log start moved past it). */
    const truncate = (
      epoch: number,
      offset: number,
      full: boolean,
      reply: Deferred.Deferred<void, ReplicationError>
    ): Effect.Effect<void> =>
      Effect.gen(function* () {
        if (leaderState !== undefined || epoch !== leaderEpoch) return yield* Deferred.fail(reply, notLeader())
        const done = yield* Effect.exit(full ? log.truncateFullyAndStartAt(offset) : log.truncateTo(offset))
        segmentCount = log.segments.length
        // the producer state is rebuilt from what is left (snapshots past the log end are removed)
        yield* recoverProducers
        yield* setHighWatermark(Math.min(highWatermark, log.logEndOffset))
        yield* Deferred.done(reply, done)
      })

    /** Skips the bytes of batches wholly below `offset`; the rest starts at a batch boundary. */
    const from = (records: Uint8Array, offset: number): Uint8Array => {
      let pos = 0
      while (pos + RecordBatch.HEADER_SIZE <= records.length) {
        const h = RecordBatch.readHeader(records, pos)
        if (h.baseOffset + h.lastOffsetDelta >= offset) break
        pos += RecordBatch.sizeAt(records, pos)
      }
      return pos === 0 ? records : records.subarray(pos)
    }

    /** A follower appends what it fetched (offsets and epochs as the leader wrote them) and takes the leader's hw. */
    const replicate = (
      epoch: number,
      records: Uint8Array,
      leaderHw: number,
      reply: Deferred.Deferred<void, ReplicationError>
    ): Effect.Effect<void> =>
      Effect.gen(function* () {
        if (leaderState !== undefined || epoch !== leaderEpoch) return yield* Deferred.fail(reply, notLeader())
        const now = yield* Clock.currentTimeMillis
        const rest = from(records, log.logEndOffset)
        if (rest.length >= RecordBatch.HEADER_SIZE) {
          // a batch straddling the log end (after a truncation inside it) is written again whole
          const base = RecordBatch.readHeader(rest, 0).baseOffset
          if (base < log.logEndOffset) {
            const cut = yield* Effect.exit(log.truncateTo(base))
            if (Exit.isFailure(cut)) return yield* Deferred.done(reply, cut)
            yield* recoverProducers
          }
          const written = yield* Effect.exit(
            log.append(rest, { assignOffsets: false }).pipe(Effect.tap((info: AppendInfo) => info.durable))
          )
          if (Exit.isFailure(written)) return yield* Deferred.done(reply, Exit.asVoid(written))
          producers.replay(rest, now)
          producers.mapEndOffset = log.logEndOffset
          yield* afterAppend(now)
        }
        yield* setHighWatermark(Math.min(leaderHw, log.logEndOffset))
        yield* Deferred.succeed(reply, undefined)
      })

    const handle = (command: Command): Effect.Effect<void> =>
      Command.$match(command, {
        Append: ({ batches, reply }) =>
          leaderState === undefined
            ? Deferred.fail(reply, notLeader())
            : hasProducer(batches)
              ? appendProducerBatches(batches, reply)
              : appendPlain(batches, reply),
        DeleteRecords: ({ offset, reply }) =>
          leaderState === undefined
            ? Deferred.fail(reply, notLeader())
            : log.deleteRecords(offset === -1 ? highWatermark : offset).pipe(
                Effect.tap(() =>
                  Effect.sync(() => {
                    producers.onLogStartOffset(log.logStartOffset)
                    publishLastStable()
                  })
                ),
                Effect.exit,
                Effect.flatMap((exit) => Deferred.done(reply, exit)),
                Effect.asVoid
              ),
        Park: ({ fetchOffset, waiter, untilLogEnd }) =>
          Effect.gen(function* () {
            if (untilLogEnd) {
              if (fetchOffset < log.logEndOffset || leaderState === undefined)
                yield* Deferred.succeed(waiter, undefined)
              else {
                if (logEndWaiters.length >= 64) {
                  logEndWaiters = yield* Effect.filter(logEndWaiters, (w) =>
                    Effect.map(Deferred.isDone(w.waiter), (done) => !done)
                  )
                }
                logEndWaiters.push({ fetchOffset, waiter })
              }
              return
            }
            if (fetchOffset < highWatermark) {
              yield* Deferred.succeed(waiter, undefined)
              return
            }
            if (waiters.length >= 64) {
              // drop waiters whose fetch already answered (timed out or woken by another partition)
              waiters = yield* Effect.filter(waiters, (w) => Effect.map(Deferred.isDone(w.waiter), (done) => !done))
            }
            waiters.push({ fetchOffset, waiter })
          }),
        UpdateConfig: ({ config, reply }) =>
          log.updateConfig(config).pipe(Effect.zipRight(Deferred.succeed(reply, undefined)), Effect.asVoid),
        Marker: ({ marker, reply }) =>
          leaderState === undefined ? Deferred.fail(reply, notLeader()) : writeMarker(marker, reply),
        BecomeLeader: ({ target, reply }) => Effect.zipRight(becomeLeader(target), Deferred.succeed(reply, undefined)),
        BecomeFollower: ({ target, reply }) =>
          Effect.zipRight(becomeFollower(target), Deferred.succeed(reply, undefined)),
        FollowerFetched: ({ replica, fetchOffset }) =>
          Effect.flatMap(Clock.currentTimeMillis, (nowMs) =>
            leaderState === undefined
              ? Effect.void
              : applyLeader(Leader.step(leaderState, { _tag: "FollowerFetched", replica, fetchOffset, nowMs }))
          ),
        Tick: () =>
          Effect.flatMap(Clock.currentTimeMillis, (nowMs) =>
            leaderState === undefined || leaderState.followers.size === 0
              ? Effect.void
              : applyLeader(Leader.step(leaderState, { _tag: "Tick", nowMs }))
          ),
        IsrResult: ({ leaderEpoch: epoch, committed, isr, partitionEpoch }) =>
          Effect.suspend(() => {
            if (leaderState === undefined || epoch !== leaderEpoch) return Effect.void
            return applyLeader(
              Leader.step(
                leaderState,
                committed ? { _tag: "IsrCommitted", isr, partitionEpoch } : { _tag: "IsrRejected" }
              )
            )
          }),
        Truncate: ({ leaderEpoch: epoch, offset, full, reply }) => truncate(epoch, offset, full, reply),
        Replicate: ({ leaderEpoch: epoch, records, leaderHw, reply }) => replicate(epoch, records, leaderHw, reply),
        Snapshot: ({ reply }) => Effect.zipRight(writeSnapshot, Deferred.succeed(reply, undefined)),
        Maintain: ({ mutation, reply }) =>
          mutation.pipe(
            Effect.map(Option.some),
            // retention may have moved the log start past producers' batches and open transactions
            Effect.ensuring(
              Effect.sync(() => {
                producers.onLogStartOffset(log.logStartOffset)
                publishLastStable()
              })
            ),
            Effect.exit,
            Effect.flatMap((exit) => Deferred.done(reply, exit)),
            Effect.asVoid
          )
      })

    const appendPlain = (
      batches: ReadonlyArray<Uint8Array>,
      reply: Deferred.Deferred<AppendResult, AppendError>
    ): Effect.Effect<void> =>
      log.append(batches, { leaderEpoch, verifyCrc: false }).pipe(
        Effect.tap((info: AppendInfo) => info.durable),
        Effect.tap((info) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Effect.zipRight(onLeaderAppend(info.lastOffset + 1, now), afterAppend(now))
          )
        ),
        Effect.map(toResult),
        Effect.exit,
        Effect.flatMap((exit) => Deferred.done(reply, exit)),
        Effect.asVoid
      )

    type AppendCommand = Extract<Command, { readonly _tag: "Append" }>

    /** Appends several commands' batches with one log append, then answers each with its own offsets. */
    const appendAll = (all: ReadonlyArray<AppendCommand>): Effect.Effect<void> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        if (leaderState === undefined) {
          for (const c of all) Deferred.unsafeDone(c.reply, Exit.fail(notLeader()))
          return Effect.void
        }
        expireIfDue(now)
        // producer batches are checked in order against the state, updated as if appended at the offsets
        // the log will assign (it assigns them in order from its end); what the append then refuses is
        // rolled back
        const saved = new Map<number, ProducerState.ProducerEntry | undefined>()
        const savedMapEnd = producers.mapEndOffset
        const save = (pid: number) => {
          if (saved.has(pid)) return
          const e = producers.producers.get(pid)
          saved.set(pid, e === undefined ? undefined : { ...e, batches: [...e.batches] })
        }
        const restore = (pids: Iterable<number>) => {
          for (const pid of pids) {
            const e = saved.get(pid)
            if (e === undefined) producers.producers.delete(pid)
            else producers.producers.set(pid, { ...e, batches: [...e.batches] })
          }
        }
        const group: Array<AppendCommand> = []
        // retries of batches that are in this very group: answered only once the originals are durable
        const retries: Array<{ readonly command: AppendCommand; readonly result: AppendResult }> = []
        let next = log.logEndOffset
        for (const c of all) {
          if (!hasProducer(c.batches)) {
            group.push(c)
            for (const buf of c.batches) next += recordCount(buf)
            continue
          }
          const touched = new Set<number>()
          const before = new Map<number, ProducerState.ProducerEntry | undefined>()
          let verdict: ProducerState.CheckResult = { _tag: "Append" }
          let offset = next
          outer: for (const buf of c.batches) {
            for (let pos = 0; pos < buf.length; pos += RecordBatch.sizeAt(buf, pos)) {
              const h = { ...RecordBatch.readHeader(buf, pos), baseOffset: offset }
              verdict = producers.check(h)
              if (verdict._tag !== "Append") break outer
              if (h.producerId >= 0) {
                save(h.producerId)
                if (!touched.has(h.producerId)) {
                  const e = producers.producers.get(h.producerId)
                  before.set(h.producerId, e === undefined ? undefined : { ...e, batches: [...e.batches] })
                  touched.add(h.producerId)
                }
                producers.update(h, now)
              }
              offset += h.lastOffsetDelta + 1
            }
          }
          if (verdict._tag === "Append") {
            group.push(c)
            next = offset
            continue
          }
          // this command alone is answered (duplicate or refused); its provisional updates are undone
          for (const [pid, e] of before) {
            if (e === undefined) producers.producers.delete(pid)
            else producers.producers.set(pid, e)
          }
          const exit = verdictExit(verdict)
          if (verdict._tag === "Duplicate" && verdict.firstOffset >= log.logEndOffset && Exit.isSuccess(exit)) {
            retries.push({ command: c, result: exit.value })
          } else {
            Deferred.unsafeDone(c.reply, exit)
          }
        }
        producers.mapEndOffset = savedMapEnd
        if (group.length === 0) return Effect.void
        return appendChecked(group, retries, () => {
          restore(saved.keys())
          producers.mapEndOffset = savedMapEnd
        }).pipe(
          Effect.zipRight(
            Effect.sync(() => {
              if (producers.mapEndOffset < log.logEndOffset) producers.mapEndOffset = log.logEndOffset
            })
          )
        )
      })

    /** The reply of a producer batch that is not appended. */
    const verdictExit = (verdict: ProducerState.CheckResult): Exit.Exit<AppendResult, AppendError> => {
      switch (verdict._tag) {
        case "Duplicate":
          return Exit.succeed({
            baseOffset: verdict.firstOffset,
            lastOffset: verdict.lastOffset,
            logAppendTime: -1,
            logStartOffset: log.logStartOffset
          })
        case "InvalidProducerEpoch":
          return Exit.fail(new InvalidProducerEpoch({ message: verdict.message }))
        case "OutOfOrderSequence":
          return Exit.fail(new OutOfOrderSequenceNumber({ message: verdict.message }))
        case "InvalidTxnState":
          return Exit.fail(new InvalidTxnState({ message: verdict.message }))
        default:
          return Exit.die("unreachable")
      }
    }

    /**
     * Appends commands already checked against the producer state; `retries` (retried batches of `group`) are
     * answered with the originals' offsets after them; `undo` rolls the state back if nothing was appended.
     */
    const appendChecked = (
      group: ReadonlyArray<AppendCommand>,
      retries: ReadonlyArray<{ readonly command: AppendCommand; readonly result: AppendResult }>,
      undo: () => void
    ): Effect.Effect<void> => {
      const batches: Array<Uint8Array> = []
      for (const c of group) for (const b of c.batches) batches.push(b)
      const failAll = (cause: Cause.Cause<AppendError>) => {
        for (const c of group) Deferred.unsafeDone(c.reply, Exit.failCause(cause))
        for (const r of retries) Deferred.unsafeDone(r.command.reply, Exit.failCause(cause))
      }
      return Effect.flatMap(Effect.exit(log.append(batches, { leaderEpoch, verifyCrc: false })), (appended) => {
        if (Exit.isFailure(appended)) {
          undo()
          // a typed failure appended nothing (or took the log offline): each command gets its own attempt and
          // error, the retries after their originals; a defect is reported to all of them as it is
          if (Cause.isFailure(appended.cause)) {
            return Effect.forEach([...group, ...retries.map((r) => r.command)], handle, { discard: true })
          }
          failAll(appended.cause)
          return Effect.void
        }
        const info = appended.value
        return Effect.flatMap(Effect.exit(info.durable), (durable) => {
          if (Exit.isFailure(durable)) {
            failAll(durable.cause)
            return Effect.void
          }
          return Effect.map(
            Effect.flatMap(Clock.currentTimeMillis, (now) =>
              Effect.zipRight(onLeaderAppend(info.lastOffset + 1, now), afterAppend(now))
            ),
            () => {
              let next = info.firstOffset
              for (const c of group) {
                let records = 0
                for (const b of c.batches) records += recordCount(b)
                Deferred.unsafeDone(
                  c.reply,
                  Exit.succeed({
                    baseOffset: next,
                    lastOffset: next + records - 1,
                    logAppendTime: info.logAppendTime,
                    logStartOffset: info.logStartOffset
                  })
                )
                next += records
              }
              for (const r of retries) Deferred.unsafeDone(r.command.reply, Exit.succeed(r.result))
            }
          )
        })
      })
    }

    /** Runs the commands taken together in order, consecutive appends as one log append. */
    const handleAll = (commands: Chunk.Chunk<Command>): Effect.Effect<void> => {
      if (commands.length === 1) return handle(Chunk.unsafeHead(commands))
      const steps: Array<Effect.Effect<void>> = []
      let group: Array<AppendCommand> = []
      const close = () => {
        if (group.length === 1) steps.push(handle(group[0]!))
        else if (group.length > 1) steps.push(appendAll(group))
        group = []
      }
      for (const c of commands) {
        if (c._tag === "Append") group.push(c)
        else {
          close()
          steps.push(handle(c))
        }
      }
      close()
      return Effect.all(steps, { discard: true })
    }

    // the state is derived before the replica is handed out, so no request sees it unset
    yield* resync
    /** The log's maintenance, taken into the mailbox; skipped (None) when the mailbox is full or stopped. */
    const owner: LogOwner = {
      run: <A, E>(mutation: Effect.Effect<A, E>) =>
        actor
          .ask<Option.Option<unknown>, unknown>((reply) => Command.Maintain({ mutation, reply }))
          .pipe(
            Effect.catchIf(
              (e): e is ReplicaBusy | UnknownTopicOrPartition =>
                e instanceof ReplicaBusy || e instanceof UnknownTopicOrPartition,
              () => Effect.succeed(Option.none())
            )
          ) as Effect.Effect<Option.Option<A>, E>
    }

    const run: Effect.Effect<void> = actor.run({
      start: Effect.sync(() => log.setOwner(owner)),
      receive: handle,
      receiveAll: handleAll,
      maxBatch: 256,
      recover: resync,
      // a defect outside a command's own error handling: its caller is answered with the defect
      onDefect: (commands, cause) =>
        Effect.forEach(
          commands,
          (c) =>
            c._tag === "Park"
              ? Deferred.succeed(c.waiter, undefined)
              : c._tag === "FollowerFetched" || c._tag === "Tick" || c._tag === "IsrResult"
                ? Effect.void
                : Deferred.done(c.reply as Deferred.Deferred<unknown, unknown>, Exit.failCause(cause)),
          { discard: true }
        ),
      onExit: Effect.sync(() => {
        log.setOwner(undefined)
        wakeAll()
      })
    })

    const send = actor.tell
    const ask = actor.ask

    // when the last storage warning was logged (only for rate limiting; not partition state)
    let lastStorageWarning = Number.NEGATIVE_INFINITY
    const warnStorageError = (e: LogStorageError): Effect.Effect<void> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        if (now - lastStorageWarning < STORAGE_WARNING_INTERVAL_MS) return Effect.void
        lastStorageWarning = now
        const file = e.path === "" ? log.dir : e.path
        return Effect.logWarning(
          `Partition ${name}: cannot write ${file}: ${e.message}` +
            ` (KAFKA_STORAGE_ERROR; at most one such line per ${STORAGE_WARNING_INTERVAL_MS / 1000} s)`
        )
      })

    /** A command without a reply: dropped when the mailbox is full or the actor stopped (the sender retries). */
    const tellQuietly = (command: Command): Effect.Effect<void> => Effect.ignore(send(command))

    const replica: PartitionReplica = {
      topicPartition,
      warnStorageError,
      log,
      get leaderEpoch() {
        return leaderEpoch
      },
      isLeader: () => leaderState !== undefined,
      leaderId: () => leaderId,
      inSyncReplicas: () => leaderState?.isr ?? [],
      becomeLeader: (target) => ask<void, never>((reply) => Command.BecomeLeader({ target, reply })),
      becomeFollower: (target) => ask<void, never>((reply) => Command.BecomeFollower({ target, reply })),
      followerFetched: (replica, fetchOffset) => tellQuietly(Command.FollowerFetched({ replica, fetchOffset })),
      tick: tellQuietly(Command.Tick()),
      isrResult: (result) => tellQuietly(Command.IsrResult(result)),
      truncate: (epoch, offset, full = false) =>
        ask<void, ReplicationError>((reply) => Command.Truncate({ leaderEpoch: epoch, offset, full, reply })),
      replicate: (epoch, records, leaderHw) =>
        ask<void, ReplicationError>((reply) => Command.Replicate({ leaderEpoch: epoch, records, leaderHw, reply })),
      parkUntilLogEnd: (fetchOffset, waiter) =>
        send(Command.Park({ fetchOffset, waiter, untilLogEnd: true })).pipe(
          Effect.catchTag("UnknownTopicOrPartition", () => Effect.asVoid(Deferred.succeed(waiter, undefined)))
        ),
      highWatermark: () => highWatermark,
      lastStableOffset: () => lastStable,
      producerIdCount: () => producers.producers.size,
      abortedTransactions: (fetchOffset, upperOffset) => producers.abortedTransactions(fetchOffset, upperOffset),
      writeTxnMarker: (marker) => ask<AppendResult, AppendError>((reply) => Command.Marker({ marker, reply })),
      snapshot: ask<void, never>((reply) => Command.Snapshot({ reply })).pipe(Effect.ignore),
      append: (batches) => ask<AppendResult, AppendError>((reply) => Command.Append({ batches, reply })),
      offerAppend: (batches) => actor.offer<AppendResult, AppendError>((reply) => Command.Append({ batches, reply })),
      deleteRecords: (offset) => ask<number, DeleteRecordsError>((reply) => Command.DeleteRecords({ offset, reply })),
      park: (fetchOffset, waiter) =>
        send(Command.Park({ fetchOffset, waiter, untilLogEnd: false })).pipe(
          // a partition going away wakes its waiters: the fetch then sees the error itself
          Effect.catchTag("UnknownTopicOrPartition", () => Effect.asVoid(Deferred.succeed(waiter, undefined)))
        ),
      updateConfig: (config) => ask<void, never>((reply) => Command.UpdateConfig({ config, reply })),
      read: (offset, maxBytes, minOneMessage, maxOffset, buffers) =>
        log.read(offset, maxBytes, { maxOffset: maxOffset ?? highWatermark, minOneMessage, buffers }),
      endOffsetForEpoch: (epoch) => log.endOffsetForEpoch(epoch),
      stop: actor.stop("interrupt")
    }
    return { replica, run }
  })
