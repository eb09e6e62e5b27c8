/**
 * The transaction coordinator: producer ids for idempotent producers, and one actor per transactional id
 * (`internal/txnActor.ts`, Kafka's state machine Empty -> Ongoing -> PrepareCommit/PrepareAbort ->
 * CompleteCommit/CompleteAbort) whose state lives in `__transaction_state` ({@link TransactionStateManager}).
 *
 * Invariants:
 * - Each transactional id's state is owned by its actor (a fiber in this service's `FiberMap`, taking
 *   jobs from a mailbox in order); the service only routes, and reads published copies for
 *   DescribeTransactions, ListTransactions and the timeout scan. Every change is written to
 *   `__transaction_state` before it is answered.
 * - EndTxn writes Prepare*, then a COMMIT or ABORT marker to every partition of the transaction at once
 *   (through each partition's actor; after a marker on `__consumer_offsets` the group coordinator applies
 *   or drops that producer's pending offsets), then Complete*, and only then answers. A transaction left
 *   in Prepare* (a crash, a failed marker) is completed before the next request for that id and at start,
 *   so it ends whole or not at all.
 * - InitProducerId bumps the epoch: batches and markers of older epochs are refused on every partition
 *   (the old producer is fenced); an open transaction is aborted first. EndTxn v5 (transaction version 2)
 *   bumps it too: the markers carry the new epoch, so the ended transaction's late requests are fenced. A transaction open longer than
 *   its timeout is aborted by the coordinator with a bumped epoch, on a schedule driven by `Clock`.
 * - Idempotent producers (no transactional id) get a fresh producer id, epoch 0, from the durable
 *   {@link ProducerIdManager}, as Kafka does, also when they name their current id (KIP-360: they bump
 *   their epoch themselves).
 * - This broker coordinates exactly the transactional ids of the `__transaction_state` partitions it leads
 *   (what FindCoordinator answers): when the replica manager makes it leader of partition p (or at start, for
 *   the partitions it already leads: all of them on a single node), p is replayed from the local log up to its
 *   end, every id of p gets its actor back, and the transactions found in Prepare* are completed (markers, then
 *   Complete*; at start before the coordinator is ready, after a later election in a fiber of this scope, so the
 *   replica manager's lock is never held across marker writes). While p is replayed, requests for its ids answer
 *   COORDINATOR_LOAD_IN_PROGRESS; when this broker stops leading p, the actors of p stop (queued requests answer
 *   COORDINATOR_NOT_AVAILABLE) and every request for an id of p answers NOT_COORDINATOR. Loads and unloads run
 *   one at a time in the order the replica manager announces them.
 */
import { Clock, Context, Duration, Effect, FiberMap, FiberSet, Layer, Option, type Scope } from "effect"
import { ErrorCode } from "../protocol/generated/ErrorCode.js"
import * as WriteTxnMarkers from "../protocol/generated/WriteTxnMarkers.js"
import * as BrokerConfig from "./BrokerConfig.js"
import type { KafkaStorageError } from "./BrokerError.js"
import { GroupCoordinator } from "./GroupCoordinator.js"
import * as Peer from "./internal/replication/peer.js"
import * as TxnActor from "./internal/txnActor.js"
import { writeLocalMarker } from "./internal/txnMarkers.js"
import * as MetadataStore from "./MetadataStore.js"
import { InvalidProducerEpoch } from "./PartitionError.js"
import type { TxnMarker } from "./PartitionReplica.js"
import * as ProducerIdManager from "./ProducerIdManager.js"
import { ReplicaManager } from "./ReplicaManager.js"
import { CONSUMER_OFFSETS, TopicRegistry, TRANSACTION_STATE } from "./TopicRegistry.js"
import {
  type TransactionError,
  TxnCoordinatorLoadInProgress,
  TxnCoordinatorNotAvailable,
  TxnNotCoordinator
} from "./TransactionError.js"
import type { TxnMetadata } from "./TransactionStateManager.js"
import * as TransactionStateManager from "./TransactionStateManager.js"

export type { ProducerIdAndEpoch, TxnRef } from "./internal/txnActor.js"
export {
  decodeRecord,
  encodeRecord,
  statusName,
  statusOfName,
  type TxnMetadata,
  TxnStatus
} from "./TransactionStateManager.js"

/** Manages producer ids and transactions. */
export class TransactionCoordinator extends Context.Tag("@eddy/core/broker/TransactionCoordinator")<
  TransactionCoordinator,
  TransactionCoordinator.Service
>() {}

/** Types of the transaction coordinator. */
export declare namespace TransactionCoordinator {
  /** The service. */
  export interface Service {
    /** Creates `__transaction_state` when missing (FindCoordinator for a transactional id). */
    readonly ensureTopic: Effect.Effect<void, TxnCoordinatorNotAvailable>
    /**
     * InitProducerId: a fresh producer id for an idempotent producer (`transactionalId` null), or the
     * transactional id's producer id with a bumped epoch (fencing the previous producer, aborting its
     * open transaction). `expected` is the caller's current id and epoch (v3+), -1/-1 when none.
     */
    readonly initProducerId: (
      transactionalId: string | null,
      transactionTimeoutMs: number,
      expected: TxnActor.ProducerIdAndEpoch
    ) => Effect.Effect<TxnActor.ProducerIdAndEpoch, TransactionError | InvalidProducerEpoch>
    /** AddPartitionsToTxn. */
    readonly addPartitions: (
      ref: TxnActor.TxnRef,
      partitions: ReadonlyArray<TxnActor.TopicPartitions>
    ) => Effect.Effect<void, TransactionError | InvalidProducerEpoch>
    /** AddOffsetsToTxn: adds the group's `__consumer_offsets` partition to the transaction. */
    readonly addOffsets: (
      ref: TxnActor.TxnRef,
      groupId: string
    ) => Effect.Effect<void, TransactionError | InvalidProducerEpoch>
    /**
     * EndTxn: commits or aborts; completes once every marker is written. With `bumpEpoch` (EndTxn v5, KIP-890
     * part 2) the markers carry the epoch bumped and the answer is the producer id and epoch of the producer's
     * next transaction; without it, the unchanged ones.
     */
    readonly endTxn: (
      ref: TxnActor.TxnRef,
      commit: boolean,
      bumpEpoch?: boolean
    ) => Effect.Effect<TxnActor.ProducerIdAndEpoch, TransactionError | InvalidProducerEpoch>
    /** The state of a transactional id (a copy; DescribeTransactions). */
    readonly describe: (transactionalId: string) => Effect.Effect<TxnMetadata | undefined>
    /** The state of every transactional id this coordinator knows (copies; ListTransactions). */
    readonly list: Effect.Effect<ReadonlyArray<TxnMetadata>>
    /** Aborts transactions past their timeout now (the schedule calls it). */
    readonly abortTimedOut: Effect.Effect<void>
    /** Records of `__transaction_state` that replay could not read and skipped (each logged with its offset). */
    readonly skippedRecords: Effect.Effect<number>
  }
}

// markers to a partition whose leader is moving: retried every 100 ms for up to 30 s, each request at most 30 s
const MARKER_ATTEMPTS = 300
const MARKER_RETRY_BACKOFF_MS = 100
const MARKER_REQUEST_TIMEOUT_MS = 30_000
const RETRIED_MARKER_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.NETWORK_EXCEPTION,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.NOT_ENOUGH_REPLICAS,
  ErrorCode.REQUEST_TIMED_OUT,
  ErrorCode.KAFKA_STORAGE_ERROR
])

/** Options of {@link make}. */
export interface TransactionCoordinatorOptions {
  /** Where the producer-id block file lives; undefined keeps ids in memory. */
  readonly dataDir?: string
}

/** Builds the coordinator: replays `__transaction_state` and completes transactions left half done. */
export const make = (
  options: TransactionCoordinatorOptions = {}
): Effect.Effect<
  TransactionCoordinator.Service,
  KafkaStorageError | TxnCoordinatorNotAvailable,
  Scope.Scope | TopicRegistry | ReplicaManager | GroupCoordinator
> =>
  Effect.gen(function* () {
    const registry = yield* TopicRegistry
    const replicas = yield* ReplicaManager
    const groups = yield* GroupCoordinator
    const metadataStore = yield* Effect.serviceOption(MetadataStore.MetadataStore)
    const config = registry.config
    const maxTimeoutMs = BrokerConfig.getNumber(config, "transaction.max.timeout.ms")
    const cleanupIntervalMs = BrokerConfig.getNumber(
      config,
      "transaction.abort.timed.out.transaction.cleanup.interval.ms"
    )
    const store = yield* TransactionStateManager.make
    const ids = yield* ProducerIdManager.make(options.dataDir, Option.getOrUndefined(metadataStore))
    const fibers = yield* FiberMap.make<string>()
    const actors = new Map<string, TxnActor.TxnActor>()
    // the __transaction_state partitions this broker leads, by index; loads and unloads take `leadership` in turn
    const led = new Map<number, { readonly status: "Loading" | "Loaded"; readonly leaderEpoch: number }>()
    const leadership = yield* Effect.makeSemaphore(1)
    const settling = yield* FiberSet.make()

    const unavailable = (message: string) => new TxnCoordinatorNotAvailable({ message })
    const nextProducerId = ids.next.pipe(Effect.mapError((e) => unavailable(e.message)))

    /**
     * One marker to the partition's current leader: written here when this broker leads it, else sent as
     * WriteTxnMarkers to the leader the metadata store names (a fresh broker-internal connection); retried while the
     * partition has no leader, its leader moved (NOT_LEADER_OR_FOLLOWER) or the leader cannot be reached.
     */
    const writeMarker = (
      topic: string,
      partition: number,
      marker: TxnMarker
    ): Effect.Effect<void, InvalidProducerEpoch | TxnCoordinatorNotAvailable> => {
      const attempt: Effect.Effect<"done" | "retry", InvalidProducerEpoch | TxnCoordinatorNotAvailable> = Effect.gen(
        function* () {
          const replica = replicas.get(topic, partition)
          const leader =
            replica?.isLeader() === true || Option.isNone(metadataStore)
              ? replicas.brokerId
              : yield* metadataStore.value.partition(topic, partition).pipe(
                  Effect.map((record) => (Option.isSome(record) ? record.value.value.leader : -2)),
                  Effect.orElseSucceed(() => -1)
                )
          // a partition deleted since it joined the transaction needs no marker
          if (leader === -2 || (leader === replicas.brokerId && replica === undefined)) return "done"
          if (leader < 0) return "retry"
          const code =
            leader === replicas.brokerId
              ? yield* writeLocalMarker(replicas, groups, topic, partition, marker).pipe(
                  Effect.as(ErrorCode.NONE),
                  Effect.catchAll((e) => Effect.succeed(e.errorCode))
                )
              : yield* sendMarker(leader, topic, partition, marker)
          if (code === ErrorCode.NONE) return "done"
          if (code === ErrorCode.INVALID_PRODUCER_EPOCH) {
            return yield* new InvalidProducerEpoch({ message: `${topic}-${partition} refused the marker's epoch` })
          }
          if (code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION && leader === replicas.brokerId) return "done"
          if (RETRIED_MARKER_ERRORS.has(code)) return "retry"
          return yield* unavailable(`Cannot write the transaction marker to ${topic}-${partition}: error ${code}`)
        }
      )
      return Effect.gen(function* () {
        for (let i = 0; i < MARKER_ATTEMPTS; i++) {
          if ((yield* attempt) === "done") return
          yield* Effect.sleep(Duration.millis(MARKER_RETRY_BACKOFF_MS))
        }
        return yield* unavailable(`The transaction marker to ${topic}-${partition} found no leader to take it; retry.`)
      })
    }

    /** WriteTxnMarkers of one marker to broker `leader`: the partition's error code (NETWORK_EXCEPTION when unreachable). */
    const sendMarker = (leader: number, topic: string, partition: number, marker: TxnMarker): Effect.Effect<number> =>
      Effect.scoped(
        Effect.gen(function* () {
          if (Option.isNone(metadataStore)) return ErrorCode.NOT_LEADER_OR_FOLLOWER
          const brokers = yield* metadataStore.value.brokers
          const target = brokers.find((b) => b.value.brokerId === leader)
          if (target === undefined) return ErrorCode.NOT_LEADER_OR_FOLLOWER
          const peer = yield* Peer.connect(
            target.value.host,
            target.value.port,
            `eddy-txn-coordinator-${replicas.brokerId}`,
            MARKER_REQUEST_TIMEOUT_MS
          )
          const response = yield* peer.send(
            WriteTxnMarkers.apiKey,
            1,
            WriteTxnMarkers.makeWriteTxnMarkersRequest({
              markers: [
                WriteTxnMarkers.makeWriteTxnMarkersRequestWritableTxnMarker({
                  producerId: BigInt(marker.producerId),
                  producerEpoch: marker.producerEpoch,
                  transactionResult: marker.commit,
                  coordinatorEpoch: marker.coordinatorEpoch,
                  topics: [
                    WriteTxnMarkers.makeWriteTxnMarkersRequestWritableTxnMarkerTopic({
                      name: topic,
                      partitionIndexes: [partition]
                    })
                  ]
                })
              ]
            })
          )
          return response.markers[0]?.topics[0]?.partitions[0]?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR
        })
      ).pipe(Effect.orElseSucceed(() => ErrorCode.NETWORK_EXCEPTION))

    /** Markers of `m`'s producer on every partition of its transaction, all at once. */
    const writeMarkers = (m: TxnMetadata, commit: boolean): Effect.Effect<void, TxnCoordinatorNotAvailable> => {
      const targets: Array<{ readonly topic: string; readonly partition: number }> = []
      for (const [topic, partitions] of m.partitions)
        for (const partition of partitions) targets.push({ topic, partition })
      return Effect.forEach(
        targets,
        ({ topic, partition }) =>
          writeMarker(topic, partition, {
            producerId: m.producerId,
            producerEpoch: m.producerEpoch,
            commit,
            coordinatorEpoch: 0
          }).pipe(
            Effect.catchTag("InvalidProducerEpoch", (e) =>
              // a newer epoch already wrote there: the transaction is over on that partition
              Effect.zipRight(
                Effect.logWarning(`Marker for ${m.transactionalId} on ${topic}-${partition} refused`, e),
                topic === CONSUMER_OFFSETS ? groups.completeTransaction(m.producerId, commit, partition) : Effect.void
              )
            )
          ),
        { concurrency: "unbounded", discard: true }
      )
    }

    /** The actor of `transactionalId`, started on first use. */
    const actorOf = (transactionalId: string, initial?: TxnMetadata): Effect.Effect<TxnActor.TxnActor> =>
      Effect.gen(function* () {
        const found = actors.get(transactionalId)
        if (found !== undefined) return found
        const actor = yield* TxnActor.make({
          transactionalId,
          initial,
          maxTimeoutMs,
          write: store.write,
          nextProducerId,
          writeMarkers
        })
        // another request for the id may have started its actor while this one was being made: one actor per id
        const raced = actors.get(transactionalId)
        if (raced !== undefined) return raced
        actors.set(transactionalId, actor)
        yield* FiberMap.run(fibers, transactionalId, actor.run)
        return actor
      })

    /** The error for an id of a partition this broker does not (yet) serve; undefined when it does. */
    const notServed = (transactionalId: string): TxnNotCoordinator | TxnCoordinatorLoadInProgress | undefined => {
      const partition = store.partitionFor(transactionalId)
      const state = led.get(partition)
      if (state?.status === "Loaded") return undefined
      return state?.status === "Loading"
        ? new TxnCoordinatorLoadInProgress({ message: `${TRANSACTION_STATE}-${partition} is being loaded; retry.` })
        : new TxnNotCoordinator({
            message: `This broker does not lead ${TRANSACTION_STATE}-${partition} (transactional id ${transactionalId}).`
          })
    }

    /** The actor of an id this broker serves (creating `__transaction_state` on first use, as Kafka does). */
    const servedActor = (transactionalId: string): Effect.Effect<TxnActor.TxnActor, TransactionError> =>
      Effect.gen(function* () {
        yield* store.ensureTopic
        const error = notServed(transactionalId)
        if (error !== undefined) return yield* error
        const actor = yield* actorOf(transactionalId)
        // the partition may have been unloaded while the actor started
        const lost = notServed(transactionalId)
        if (lost === undefined) return actor
        yield* stopActor(transactionalId)
        return yield* lost
      })

    const stopActor = (transactionalId: string): Effect.Effect<void> =>
      Effect.suspend(() => {
        actors.delete(transactionalId)
        return FiberMap.remove(fibers, transactionalId)
      })

    /** Completes a transaction a replay found in Prepare* (its markers may be missing). */
    const settle = (transactionalId: string): Effect.Effect<void> =>
      Effect.suspend(() => actors.get(transactionalId)?.settle ?? Effect.void).pipe(
        Effect.catchAll((e) => Effect.logWarning(`Cannot complete the transaction of ${transactionalId} yet`, e))
      )

    /**
     * Became leader of `partition`: replays it and starts the actors of its ids (once per leadership); the ids
     * whose transaction is in Prepare*, for the caller to settle.
     */
    const loadPartition = (partition: number, leaderEpoch: number): Effect.Effect<ReadonlyArray<string>> =>
      leadership.withPermits(1)(
        Effect.gen(function* () {
          const current = led.get(partition)
          if (current !== undefined) {
            led.set(partition, { ...current, leaderEpoch })
            return []
          }
          led.set(partition, { status: "Loading", leaderEpoch })
          const loaded = yield* Effect.either(store.loadPartition(partition))
          if (loaded._tag === "Left") {
            led.delete(partition)
            yield* Effect.logError(`Cannot load ${TRANSACTION_STATE}-${partition}`, loaded.left)
            return []
          }
          const unfinished: Array<string> = []
          for (const [transactionalId, m] of loaded.right) {
            yield* actorOf(transactionalId, m)
            if (TxnActor.isPrepare(m.status)) unfinished.push(transactionalId)
          }
          led.set(partition, { status: "Loaded", leaderEpoch })
          if (loaded.right.size > 0) {
            yield* Effect.logInfo(
              `Loaded ${loaded.right.size} transactional id(s) from ${TRANSACTION_STATE}-${partition}; ${unfinished.length} to complete`
            )
          }
          return unfinished
        })
      )

    /** No longer leads `partition`: the actors of its ids stop. */
    const unloadPartition = (partition: number): Effect.Effect<void> =>
      leadership.withPermits(1)(
        Effect.gen(function* () {
          if (!led.delete(partition)) return
          const gone = [...actors.keys()].filter((id) => store.partitionFor(id) === partition)
          for (const id of gone) yield* stopActor(id)
          if (gone.length > 0) {
            yield* Effect.logInfo(`Unloaded ${gone.length} transactional id(s) of ${TRANSACTION_STATE}-${partition}`)
          }
        })
      )

    const service: TransactionCoordinator.Service = {
      ensureTopic: store.ensureTopic,
      skippedRecords: store.skippedRecords,
      initProducerId: (transactionalId, timeoutMs, expected) =>
        transactionalId === null || transactionalId === ""
          ? Effect.map(nextProducerId, (producerId) => ({ producerId, producerEpoch: 0 }))
          : Effect.flatMap(servedActor(transactionalId), (actor) => actor.initProducerId(timeoutMs, expected)),
      addPartitions: (ref, partitions) =>
        Effect.flatMap(servedActor(ref.transactionalId), (actor) => actor.addPartitions(ref, partitions)),
      addOffsets: (ref, groupId) =>
        Effect.gen(function* () {
          yield* groups.ensureOffsetsTopic.pipe(
            Effect.mapError((e) => unavailable(`Cannot create ${CONSUMER_OFFSETS}: ${e.message}`))
          )
          const actor = yield* servedActor(ref.transactionalId)
          yield* actor.addPartitions(ref, [{ topic: CONSUMER_OFFSETS, partitions: [groups.partitionFor(groupId)] }])
        }),
      endTxn: (ref, commit, bumpEpoch = false) =>
        Effect.flatMap(servedActor(ref.transactionalId), (actor) => actor.endTxn(ref, commit, bumpEpoch)),
      describe: (transactionalId) => Effect.sync(() => actors.get(transactionalId)?.current()),
      list: Effect.sync(() => {
        const out: Array<TxnMetadata> = []
        for (const actor of actors.values()) {
          const m = actor.current()
          if (m !== undefined) out.push(m)
        }
        return out
      }),
      abortTimedOut: Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        for (const actor of actors.values()) {
          const m = actor.current()
          if (m === undefined || !TxnActor.isTimedOut(m, now)) continue
          // the actor checks again: the transaction may have ended while this job waited
          yield* actor
            .abortIfTimedOut(now)
            .pipe(Effect.catchAll((e) => Effect.logWarning(`Cannot abort timed-out ${actor.transactionalId}`, e)))
        }
      })
    }

    // follow the leadership of __transaction_state: from now on (an election's transactions in Prepare* complete
    // in a fiber of this scope), then for what this broker already leads (completed before the coordinator is ready)
    yield* replicas.onLeadershipChange((change) =>
      change.topic !== TRANSACTION_STATE
        ? Effect.void
        : change.isLeader
          ? Effect.flatMap(loadPartition(change.partition, change.leaderEpoch), (unfinished) =>
              unfinished.length === 0
                ? Effect.void
                : Effect.asVoid(FiberSet.run(settling, Effect.forEach(unfinished, settle, { discard: true })))
            )
          : unloadPartition(change.partition)
    )
    for (const replica of replicas.replicas(TRANSACTION_STATE)) {
      if (!replica.isLeader()) continue
      const unfinished = yield* loadPartition(replica.topicPartition.partition, replica.leaderEpoch)
      yield* Effect.forEach(unfinished, settle, { discard: true })
    }

    yield* Effect.forkScoped(
      Effect.forever(Effect.zipRight(Effect.sleep(Duration.millis(cleanupIntervalMs)), service.abortTimedOut))
    )
    return service
  })

/** The coordinator as a layer. */
export const layer = (
  options: TransactionCoordinatorOptions = {}
): Layer.Layer<
  TransactionCoordinator,
  KafkaStorageError | TxnCoordinatorNotAvailable,
  TopicRegistry | ReplicaManager | GroupCoordinator
> => Layer.scoped(TransactionCoordinator, make(options))
