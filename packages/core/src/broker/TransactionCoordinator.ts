/**
 * The transaction coordinator: producer ids for idempotent producers, and one actor per transactional id
 * running Kafka's transaction state machine (Empty -> Ongoing -> PrepareCommit/PrepareAbort ->
 * CompleteCommit/CompleteAbort).
 *
 * Invariants:
 * - Each transactional id's state is owned by its actor (a fiber taking jobs from a mailbox in order);
 *   the service only routes. Every change is written to `__transaction_state` (partition
 *   `partitionFor(transactionalId)`, Kafka's TransactionLogKey/Value records) before it is answered.
 * - EndTxn writes Prepare*, then a COMMIT or ABORT marker to every partition of the transaction
 *   (through each partition's actor; the group coordinator learns of markers on `__consumer_offsets`),
 *   then Complete*, and only then answers. A transaction left in Prepare* (a crash, a failed marker) is
 *   completed before the next request for that id and at start, so it ends whole or not at all.
 * - InitProducerId bumps the epoch: batches and markers of older epochs are refused on every partition
 *   (the old producer is fenced); an open transaction is aborted first. A transaction open longer than
 *   its timeout is aborted by the coordinator with a bumped epoch, on a schedule driven by `Clock`.
 */
import { Clock, Context, Deferred, Duration, Effect, FiberMap, Layer, Queue, type Scope } from "effect"
import * as TransactionLogKey from "../protocol/generated/records/TransactionLogKey.js"
import * as TransactionLogValue from "../protocol/generated/records/TransactionLogValue.js"
import { Reader } from "../protocol/Reader.js"
import * as RecordBatch from "../protocol/RecordBatch.js"
import { Writer } from "../protocol/Writer.js"
import * as BrokerConfig from "./BrokerConfig.js"
import type { KafkaStorageError } from "./BrokerError.js"
import { partitionFor } from "./CoordinatorKey.js"
import { GroupCoordinator } from "./GroupCoordinator.js"
import type { InvalidProducerEpoch } from "./PartitionError.js"
import * as ProducerIdManager from "./ProducerIdManager.js"
import { ReplicaManager } from "./ReplicaManager.js"
import { CONSUMER_OFFSETS, TopicRegistry, TRANSACTION_STATE } from "./TopicRegistry.js"
import {
  ConcurrentTransactions,
  InvalidProducerIdMapping,
  InvalidTransactionTimeout,
  ProducerFenced,
  type TransactionError,
  TxnCoordinatorNotAvailable,
  TxnInvalidState
} from "./TransactionError.js"

/** Kafka's transaction states (TransactionLogValue `transaction_status`). */
export const TxnStatus = {
  Empty: 0,
  Ongoing: 1,
  PrepareCommit: 2,
  PrepareAbort: 3,
  CompleteCommit: 4,
  CompleteAbort: 5,
  Dead: 6,
  PrepareEpochFence: 7
} as const

/** The largest producer epoch; past it a transactional id gets a new producer id. */
const MAX_EPOCH = 32767

/** One transactional id's state. */
export interface TxnMetadata {
  readonly transactionalId: string
  producerId: number
  producerEpoch: number
  /** The epoch before the last bump (to recognise a retried InitProducerId), -1 when none. */
  lastProducerEpoch: number
  timeoutMs: number
  status: number
  /** topic -> partitions of the open (or completing) transaction */
  partitions: Map<string, Set<number>>
  startTimestamp: number
  lastUpdateTimestamp: number
}

/** A producer id and epoch handed to a client. */
export interface ProducerIdAndEpoch {
  readonly producerId: number
  readonly producerEpoch: number
}

/** What a transactional request names. */
export interface TxnRef {
  readonly transactionalId: string
  readonly producerId: number
  readonly producerEpoch: number
}

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
      expected: ProducerIdAndEpoch
    ) => Effect.Effect<ProducerIdAndEpoch, TransactionError | InvalidProducerEpoch>
    /** AddPartitionsToTxn; `verifyOnly` checks that they are already part of the transaction. */
    readonly addPartitions: (
      ref: TxnRef,
      partitions: ReadonlyArray<{ readonly topic: string; readonly partitions: ReadonlyArray<number> }>
    ) => Effect.Effect<void, TransactionError | InvalidProducerEpoch>
    /** AddOffsetsToTxn: adds the group's `__consumer_offsets` partition to the transaction. */
    readonly addOffsets: (ref: TxnRef, groupId: string) => Effect.Effect<void, TransactionError | InvalidProducerEpoch>
    /** EndTxn: commits or aborts; completes once every marker is written. */
    readonly endTxn: (ref: TxnRef, commit: boolean) => Effect.Effect<void, TransactionError | InvalidProducerEpoch>
    /** The state of a transactional id (tests, DescribeTransactions). */
    readonly describe: (transactionalId: string) => Effect.Effect<TxnMetadata | undefined>
    /** Aborts transactions past their timeout now (the schedule calls it). */
    readonly abortTimedOut: Effect.Effect<void>
  }
}

// ------------------------------------------------------------------------------------------------
// __transaction_state records

const KEY_VERSION = 0
const VALUE_VERSION = 0

const encodeKey = (transactionalId: string): Buffer => {
  const w = new Writer(64)
  w.int16(KEY_VERSION)
  TransactionLogKey.encodeTransactionLogKey(w, { transactionalId }, KEY_VERSION)
  return Buffer.from(w.finish())
}

const encodeValue = (m: TxnMetadata): Buffer => {
  const w = new Writer(128)
  w.int16(VALUE_VERSION)
  TransactionLogValue.encodeTransactionLogValue(
    w,
    TransactionLogValue.makeTransactionLogValue({
      producerId: BigInt(m.producerId),
      producerEpoch: m.producerEpoch,
      transactionTimeoutMs: m.timeoutMs,
      transactionStatus: m.status,
      transactionPartitions: [...m.partitions].map(([topic, ids]) => ({
        topic,
        partitionIds: [...ids].sort((a, b) => a - b)
      })),
      transactionLastUpdateTimestampMs: BigInt(m.lastUpdateTimestamp),
      transactionStartTimestampMs: BigInt(m.startTimestamp)
    }),
    VALUE_VERSION
  )
  return Buffer.from(w.finish())
}

/** Decodes one `__transaction_state` record; undefined for records of other kinds. */
export const decodeRecord = (
  key: Uint8Array,
  value: Uint8Array | null
): { readonly transactionalId: string; readonly metadata: TxnMetadata | null } | undefined => {
  const kr = new Reader(key)
  const keyVersion = kr.int16()
  if (keyVersion > TransactionLogKey.validVersions.max) return undefined
  const { transactionalId } = TransactionLogKey.decodeTransactionLogKey(kr, keyVersion)
  if (value === null) return { transactionalId, metadata: null }
  const vr = new Reader(value)
  const valueVersion = vr.int16()
  if (valueVersion > TransactionLogValue.validVersions.max) return undefined
  const v = TransactionLogValue.decodeTransactionLogValue(vr, valueVersion)
  return {
    transactionalId,
    metadata: {
      transactionalId,
      producerId: Number(v.producerId),
      producerEpoch: v.producerEpoch,
      lastProducerEpoch: -1,
      timeoutMs: v.transactionTimeoutMs,
      status: v.transactionStatus,
      partitions: new Map((v.transactionPartitions ?? []).map((p) => [p.topic, new Set(p.partitionIds)])),
      startTimestamp: Number(v.transactionStartTimestampMs),
      lastUpdateTimestamp: Number(v.transactionLastUpdateTimestampMs)
    }
  }
}

// ------------------------------------------------------------------------------------------------
// the coordinator

/** Options of {@link make}. */
export interface TransactionCoordinatorOptions {
  /** Where the producer-id block file lives; undefined keeps ids in memory. */
  readonly dataDir?: string
}

interface TxnActor {
  readonly meta: { current: TxnMetadata | undefined }
  readonly mailbox: Queue.Queue<Effect.Effect<void>>
}

const READ_BYTES = 4 << 20

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
    const config = registry.config
    const maxTimeoutMs = BrokerConfig.getNumber(config, "transaction.max.timeout.ms")
    const cleanupIntervalMs = BrokerConfig.getNumber(
      config,
      "transaction.abort.timed.out.transaction.cleanup.interval.ms"
    )
    const ids = yield* ProducerIdManager.make(options.dataDir)
    const fibers = yield* FiberMap.make<string>()
    const actors = new Map<string, TxnActor>()
    const existing = yield* registry.get(TRANSACTION_STATE)
    let numPartitions = existing?.partitions ?? BrokerConfig.getNumber(config, "transaction.state.log.num.partitions")

    const unavailable = (message: string) => new TxnCoordinatorNotAvailable({ message })

    const ensureTopic: Effect.Effect<void, TxnCoordinatorNotAvailable> = Effect.suspend(() =>
      replicas.get(TRANSACTION_STATE, 0) !== undefined
        ? Effect.void
        : registry.autoCreate(TRANSACTION_STATE).pipe(
            Effect.tap((t) =>
              Effect.sync(() => {
                numPartitions = t.partitions
              })
            ),
            Effect.asVoid,
            Effect.mapError((e) => unavailable(`Cannot create ${TRANSACTION_STATE}: ${e.message}`))
          )
    )

    /** Writes a transactional id's state and waits until it is acknowledged. */
    const persist = (m: TxnMetadata): Effect.Effect<void, TxnCoordinatorNotAvailable> =>
      Effect.gen(function* () {
        yield* ensureTopic
        const partition = partitionFor(m.transactionalId, numPartitions)
        const replica = replicas.get(TRANSACTION_STATE, partition)
        if (replica === undefined) return yield* unavailable(`${TRANSACTION_STATE}-${partition} is not hosted here.`)
        const now = yield* Clock.currentTimeMillis
        const batch = RecordBatch.encode([{ key: encodeKey(m.transactionalId), value: encodeValue(m), timestamp: now }])
        yield* replica
          .append([batch])
          .pipe(Effect.mapError((e) => unavailable(`Cannot write to ${TRANSACTION_STATE}: ${e.message}`)))
      })

    /** Writes the markers of a transaction in Prepare*, then Complete*. */
    const complete = (m: TxnMetadata): Effect.Effect<void, TxnCoordinatorNotAvailable> =>
      Effect.gen(function* () {
        const commit = m.status === TxnStatus.PrepareCommit
        const targets: Array<{ readonly topic: string; readonly partition: number }> = []
        for (const [topic, partitions] of m.partitions)
          for (const partition of partitions) targets.push({ topic, partition })
        // the markers go out to every partition at once; each partition's actor orders its own
        yield* Effect.forEach(
          targets,
          ({ topic, partition }) => {
            const replica = replicas.get(topic, partition)
            // a partition deleted since it joined the transaction needs no marker
            if (replica === undefined) return Effect.void
            return replica
              .writeTxnMarker({
                producerId: m.producerId,
                producerEpoch: m.producerEpoch,
                commit,
                coordinatorEpoch: 0
              })
              .pipe(
                Effect.retry({ times: 3 }),
                Effect.catchTag("InvalidProducerEpoch", (e) =>
                  // a newer epoch already wrote there: the transaction is over on that partition
                  Effect.logWarning(`Marker for ${m.transactionalId} on ${topic}-${partition} refused`, e)
                ),
                Effect.mapError((e) =>
                  unavailable(`Cannot write the transaction marker to ${topic}-${partition}: ${e.message}`)
                ),
                Effect.zipRight(
                  topic === CONSUMER_OFFSETS ? groups.completeTransaction(m.producerId, commit, partition) : Effect.void
                )
              )
          },
          { concurrency: "unbounded", discard: true }
        )
        const now = yield* Clock.currentTimeMillis
        const done: TxnMetadata = {
          ...m,
          status: commit ? TxnStatus.CompleteCommit : TxnStatus.CompleteAbort,
          partitions: new Map(),
          lastUpdateTimestamp: now
        }
        yield* persist(done)
        Object.assign(m, done)
      })

    /** Moves an Ongoing transaction to Prepare* and completes it. */
    const end = (m: TxnMetadata, commit: boolean): Effect.Effect<void, TxnCoordinatorNotAvailable> =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const prepared: TxnMetadata = {
          ...m,
          partitions: m.partitions,
          status: commit ? TxnStatus.PrepareCommit : TxnStatus.PrepareAbort,
          lastUpdateTimestamp: now
        }
        yield* persist(prepared)
        Object.assign(m, prepared)
        yield* complete(m)
      })

    /** Finishes a transaction left in Prepare* before anything else happens to the id. */
    const settle = (m: TxnMetadata): Effect.Effect<void, TxnCoordinatorNotAvailable> =>
      m.status === TxnStatus.PrepareCommit || m.status === TxnStatus.PrepareAbort ? complete(m) : Effect.void

    /** Aborts an open transaction with a bumped epoch (fencing its producer). */
    const fenceAndAbort = (m: TxnMetadata): Effect.Effect<void, TxnCoordinatorNotAvailable> =>
      Effect.suspend(() => {
        if (m.producerEpoch < MAX_EPOCH) {
          m.lastProducerEpoch = m.producerEpoch
          m.producerEpoch++
        }
        return end(m, false)
      })

    const actorOf = (transactionalId: string, initial: TxnMetadata | undefined) =>
      Effect.gen(function* () {
        const found = actors.get(transactionalId)
        if (found !== undefined) return found
        const actor: TxnActor = { meta: { current: initial }, mailbox: yield* Queue.unbounded<Effect.Effect<void>>() }
        actors.set(transactionalId, actor)
        yield* FiberMap.run(
          fibers,
          transactionalId,
          Effect.forever(Effect.flatMap(Queue.take(actor.mailbox), (job) => Effect.uninterruptible(job)))
        )
        return actor
      })

    /** Runs `f` in the transactional id's actor, after any pending completion. */
    const inActor = <A, E>(
      transactionalId: string,
      f: (state: { current: TxnMetadata | undefined }) => Effect.Effect<A, E>
    ): Effect.Effect<A, E | TxnCoordinatorNotAvailable> =>
      Effect.gen(function* () {
        const actor = yield* actorOf(transactionalId, undefined)
        const reply = yield* Deferred.make<A, E | TxnCoordinatorNotAvailable>()
        const job = Effect.gen(function* () {
          if (actor.meta.current !== undefined) yield* settle(actor.meta.current)
          return yield* f(actor.meta)
        }).pipe(
          Effect.exit,
          Effect.flatMap((exit) => Deferred.done(reply, exit)),
          Effect.asVoid
        )
        yield* Queue.offer(actor.mailbox, job)
        return yield* Deferred.await(reply)
      })

    /** Checks a request's producer id and epoch against the state. */
    const check = (
      m: TxnMetadata | undefined,
      ref: TxnRef
    ): Effect.Effect<TxnMetadata, InvalidProducerIdMapping | ProducerFenced> => {
      if (m === undefined || m.producerId !== ref.producerId) {
        return Effect.fail(
          new InvalidProducerIdMapping({
            message: `Producer id ${ref.producerId} is not the one of transactional id ${ref.transactionalId}.`
          })
        )
      }
      if (m.producerEpoch !== ref.producerEpoch) {
        return Effect.fail(
          new ProducerFenced({
            message: `Epoch ${ref.producerEpoch} of ${ref.transactionalId} is fenced by epoch ${m.producerEpoch}.`
          })
        )
      }
      return Effect.succeed(m)
    }

    const beginOrExtend = (
      m: TxnMetadata,
      add: ReadonlyArray<{ readonly topic: string; readonly partitions: ReadonlyArray<number> }>
    ): Effect.Effect<void, TransactionError> =>
      Effect.gen(function* () {
        if (m.status === TxnStatus.PrepareCommit || m.status === TxnStatus.PrepareAbort) {
          return yield* new ConcurrentTransactions({ message: `${m.transactionalId} is completing a transaction.` })
        }
        const now = yield* Clock.currentTimeMillis
        const ongoing = m.status === TxnStatus.Ongoing
        const partitions = new Map<string, Set<number>>(
          ongoing ? [...m.partitions].map(([t, ps]) => [t, new Set(ps)]) : []
        )
        let added = false
        for (const t of add) {
          let set = partitions.get(t.topic)
          if (set === undefined) {
            set = new Set()
            partitions.set(t.topic, set)
          }
          for (const p of t.partitions) {
            if (!set.has(p)) {
              set.add(p)
              added = true
            }
          }
        }
        if (ongoing && !added) return
        const next: TxnMetadata = {
          ...m,
          status: TxnStatus.Ongoing,
          partitions,
          startTimestamp: ongoing ? m.startTimestamp : now,
          lastUpdateTimestamp: now
        }
        yield* persist(next)
        Object.assign(m, next)
      })

    const service: TransactionCoordinator.Service = {
      ensureTopic,
      initProducerId: (transactionalId, timeoutMs, expected) =>
        Effect.gen(function* () {
          if (transactionalId === null || transactionalId === "") {
            const producerId = yield* ids.next.pipe(Effect.mapError((e) => unavailable(e.message)))
            return { producerId, producerEpoch: 0 }
          }
          if (timeoutMs <= 0 || timeoutMs > maxTimeoutMs) {
            return yield* new InvalidTransactionTimeout({
              message: `Transaction timeout ${timeoutMs} ms is outside (0, ${maxTimeoutMs}] (transaction.max.timeout.ms).`
            })
          }
          return yield* inActor(transactionalId, (state) =>
            Effect.gen(function* () {
              const now = yield* Clock.currentTimeMillis
              const m = state.current
              if (m === undefined) {
                const producerId = yield* ids.next.pipe(Effect.mapError((e) => unavailable(e.message)))
                const fresh: TxnMetadata = {
                  transactionalId,
                  producerId,
                  producerEpoch: 0,
                  lastProducerEpoch: -1,
                  timeoutMs,
                  status: TxnStatus.Empty,
                  partitions: new Map(),
                  startTimestamp: -1,
                  lastUpdateTimestamp: now
                }
                yield* persist(fresh)
                state.current = fresh
                return { producerId, producerEpoch: 0 }
              }
              if (expected.producerId >= 0) {
                // KIP-360: a producer recovering with its current id and epoch (or retrying a bump it missed)
                const retried = expected.producerId === m.producerId && expected.producerEpoch === m.lastProducerEpoch
                if (retried && m.status !== TxnStatus.Ongoing) {
                  return { producerId: m.producerId, producerEpoch: m.producerEpoch }
                }
                if (expected.producerId !== m.producerId || expected.producerEpoch !== m.producerEpoch) {
                  return yield* new ProducerFenced({
                    message: `Producer ${expected.producerId} epoch ${expected.producerEpoch} is not the current one of ${transactionalId}.`
                  })
                }
              }
              if (m.status === TxnStatus.Ongoing) yield* fenceAndAbort(m)
              let producerId = m.producerId
              let producerEpoch = m.producerEpoch + 1
              if (producerEpoch > MAX_EPOCH) {
                producerId = yield* ids.next.pipe(Effect.mapError((e) => unavailable(e.message)))
                producerEpoch = 0
              }
              const next: TxnMetadata = {
                ...m,
                producerId,
                producerEpoch,
                lastProducerEpoch: producerId === m.producerId ? m.producerEpoch : -1,
                timeoutMs,
                status: TxnStatus.Empty,
                partitions: new Map(),
                startTimestamp: -1,
                lastUpdateTimestamp: now
              }
              yield* persist(next)
              state.current = next
              return { producerId, producerEpoch }
            })
          )
        }),
      addPartitions: (ref, partitions) =>
        inActor(ref.transactionalId, (state) =>
          Effect.flatMap(check(state.current, ref), (m) => beginOrExtend(m, partitions))
        ),
      addOffsets: (ref, groupId) =>
        Effect.gen(function* () {
          yield* groups.ensureOffsetsTopic.pipe(
            Effect.mapError((e) => unavailable(`Cannot create ${CONSUMER_OFFSETS}: ${e.message}`))
          )
          const partition = groups.partitionFor(groupId)
          yield* inActor(ref.transactionalId, (state) =>
            Effect.flatMap(check(state.current, ref), (m) =>
              beginOrExtend(m, [{ topic: CONSUMER_OFFSETS, partitions: [partition] }])
            )
          )
        }),
      endTxn: (ref, commit) =>
        inActor(ref.transactionalId, (state) =>
          Effect.gen(function* () {
            const m = state.current
            // a retried EndTxn whose first attempt completed (the answer got lost)
            if (
              m !== undefined &&
              m.producerId === ref.producerId &&
              m.producerEpoch === ref.producerEpoch &&
              ((commit && m.status === TxnStatus.CompleteCommit) || (!commit && m.status === TxnStatus.CompleteAbort))
            ) {
              return
            }
            const current = yield* check(m, ref)
            if (current.status !== TxnStatus.Ongoing) {
              return yield* new TxnInvalidState({
                message: `${ref.transactionalId} has no transaction open to ${commit ? "commit" : "abort"}.`
              })
            }
            yield* end(current, commit)
          })
        ),
      describe: (transactionalId) =>
        Effect.sync(() => {
          const m = actors.get(transactionalId)?.meta.current
          return m === undefined ? undefined : { ...m, partitions: new Map(m.partitions) }
        }),
      abortTimedOut: Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        for (const [transactionalId, actor] of actors) {
          const m = actor.meta.current
          if (m === undefined || m.status !== TxnStatus.Ongoing || now - m.startTimestamp <= m.timeoutMs) continue
          yield* inActor(transactionalId, (state) =>
            Effect.suspend(() => {
              const cur = state.current
              if (cur === undefined || cur.status !== TxnStatus.Ongoing || now - cur.startTimestamp <= cur.timeoutMs) {
                return Effect.void
              }
              return Effect.zipRight(
                Effect.logInfo(`Aborting ${transactionalId}: open longer than ${cur.timeoutMs} ms`),
                fenceAndAbort(cur)
              )
            })
          ).pipe(Effect.catchAll((e) => Effect.logWarning(`Cannot abort timed-out ${transactionalId}`, e)))
        }
      })
    }

    // replay __transaction_state, then finish what a crash left in Prepare*
    const loaded = new Map<string, TxnMetadata>()
    for (const replica of replicas.replicas(TRANSACTION_STATE)) {
      const log = replica.log
      let offset = log.logStartOffset
      const endOffset = log.logEndOffset
      while (offset < endOffset) {
        const read = yield* log
          .read(offset, READ_BYTES, { maxOffset: endOffset })
          .pipe(Effect.mapError((e) => unavailable(`Cannot replay ${TRANSACTION_STATE}: ${e.message}`)))
        if (read.records.length === 0 || read.nextOffset <= offset) break
        for (const { position, header } of RecordBatch.headers(read.records)) {
          if (RecordBatch.isControl(header.attributes)) continue
          for (const r of RecordBatch.records(read.records, position)) {
            if (r.offset < offset || r.key === null) continue
            const decoded = decodeRecord(r.key, r.value)
            if (decoded === undefined) continue
            if (decoded.metadata === null) loaded.delete(decoded.transactionalId)
            else loaded.set(decoded.transactionalId, decoded.metadata)
          }
        }
        offset = read.nextOffset
      }
    }
    for (const [transactionalId, m] of loaded) yield* actorOf(transactionalId, m)
    let unfinished = 0
    for (const [transactionalId, m] of loaded) {
      if (m.status !== TxnStatus.PrepareCommit && m.status !== TxnStatus.PrepareAbort) continue
      unfinished++
      yield* inActor(transactionalId, () => Effect.void).pipe(
        Effect.catchAll((e) => Effect.logWarning(`Cannot complete the transaction of ${transactionalId} yet`, e))
      )
    }
    if (loaded.size > 0) {
      yield* Effect.logInfo(
        `Loaded ${loaded.size} transactional id(s) from ${TRANSACTION_STATE}; completed ${unfinished} transaction(s)`
      )
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
