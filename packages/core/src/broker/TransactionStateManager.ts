/**
 * Persistence of transactional ids: each id's state (producer id and epoch, timeout, status, the
 * partitions of its transaction, timestamps) is a record in the compacted internal topic
 * `__transaction_state`, in Kafka's own format (`records/TransactionLogKey`/`Value`, each prefixed
 * by its int16 version), on the partition `partitionFor(transactionalId)`. A null value is a tombstone.
 * Values are written in v0, or in v1 (flexible, with the tagged `PreviousProducerId`, `NextProducerId` and
 * `ClientTransactionVersion` of KIP-890 part 2) for an id whose transactions end with an epoch bump (EndTxn v5).
 *
 * Invariants:
 * - Writes go through the partition's {@link PartitionReplica} actor (ordinary appends: high watermark,
 *   flush policy and compaction apply) and complete only once the partition's high watermark passes them
 *   (acks=all through the ISR, so a new leader replays every state a client was told of); a write whose
 *   leadership moved first fails COORDINATOR_NOT_AVAILABLE. The latest record of an id is its state.
 * - Replay scans a partition (the coordinator loads each one it leads) from its log start; records of versions newer than the generated codecs
 *   know are skipped (as Kafka skips unknown versions), control batches are ignored, and a record that
 *   cannot be decoded is logged with its offset, skipped and counted: it never stops the broker starting.
 * - Only the coordinator writes the topic: client produces to it are refused (INVALID_TOPIC_EXCEPTION).
 * - The topic is created on first use (FindCoordinator key type 1, or the first write), with
 *   `transaction.state.log.num.partitions` partitions; an existing topic keeps its partition count.
 */
import { Clock, Effect } from "effect"
import * as TransactionLogKey from "../protocol/generated/records/TransactionLogKey.js"
import * as TransactionLogValue from "../protocol/generated/records/TransactionLogValue.js"
import { Reader } from "../protocol/Reader.js"
import * as RecordBatch from "../protocol/RecordBatch.js"
import { Writer } from "../protocol/Writer.js"
import * as BrokerConfig from "./BrokerConfig.js"
import { partitionFor } from "./CoordinatorKey.js"
import { replayLog } from "./internal/replay.js"
import { awaitReplicated } from "./internal/replicated.js"
import { ReplicaManager } from "./ReplicaManager.js"
import { TopicRegistry, TRANSACTION_STATE } from "./TopicRegistry.js"
import { TxnCoordinatorNotAvailable } from "./TransactionError.js"

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

/** Kafka's name of a transaction state (DescribeTransactions, ListTransactions). */
export const statusName = (status: number): string =>
  Object.entries(TxnStatus).find(([, code]) => code === status)?.[0] ?? "Unknown"

/** The status of a state name, undefined for names Kafka does not know. */
export const statusOfName = (name: string): number | undefined =>
  Object.entries(TxnStatus).find(([n]) => n === name)?.[1]

/** One transactional id's state. */
export interface TxnMetadata {
  readonly transactionalId: string
  producerId: number
  producerEpoch: number
  /**
   * The epoch before the last bump (to recognise a retried InitProducerId or EndTxn v5), -1 when none. Not
   * persisted: replay derives it for transactions ended with an epoch bump ({@link decodeRecord}).
   */
  lastProducerEpoch: number
  /** The producer id before the last end of a transaction rotated it (epoch exhausted), -1 when none. */
  previousProducerId: number
  /** In Prepare* of a transaction whose end rotates the producer id: the id it gets at Complete*, else -1. */
  nextProducerId: number
  /** 2 when the transaction ends with an epoch bump (EndTxn v5, transaction version 2), 0 otherwise. */
  clientTransactionVersion: number
  timeoutMs: number
  status: number
  /** topic -> partitions of the open (or completing) transaction */
  partitions: Map<string, Set<number>>
  startTimestamp: number
  lastUpdateTimestamp: number
}

/** A deep copy (the partition sets too). */
export const copyMetadata = (m: TxnMetadata): TxnMetadata => ({
  ...m,
  partitions: new Map([...m.partitions].map(([topic, ps]) => [topic, new Set(ps)]))
})

// ------------------------------------------------------------------------------------------------
// records

const KEY_VERSION = 0

/** Transaction version 2 (KIP-890 part 2): every transaction end bumps the producer epoch. */
export const TRANSACTION_VERSION_2 = 2

/** The largest producer epoch (Kafka's `Short.MAX_VALUE`). */
export const MAX_EPOCH = 32767

/** v1 when the state has a field only v1 holds, else v0 (the format of transaction version 1, as before). */
const valueVersionOf = (m: TxnMetadata): number =>
  m.clientTransactionVersion !== 0 || m.previousProducerId >= 0 || m.nextProducerId >= 0 ? 1 : 0

const encodeKey = (transactionalId: string): Buffer => {
  const w = new Writer(64)
  w.int16(KEY_VERSION)
  TransactionLogKey.encodeTransactionLogKey(w, { transactionalId }, KEY_VERSION)
  return Buffer.from(w.finish())
}

const encodeValue = (m: TxnMetadata): Buffer => {
  const w = new Writer(128)
  const version = valueVersionOf(m)
  w.int16(version)
  TransactionLogValue.encodeTransactionLogValue(
    w,
    TransactionLogValue.makeTransactionLogValue({
      producerId: BigInt(m.producerId),
      ...(version >= 1
        ? {
            previousProducerId: BigInt(m.previousProducerId),
            nextProducerId: BigInt(m.nextProducerId),
            clientTransactionVersion: m.clientTransactionVersion
          }
        : {}),
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
    version
  )
  return Buffer.from(w.finish())
}

/** The `__transaction_state` record (key, value) holding a transactional id's state. */
export const encodeRecord = (m: TxnMetadata): { readonly key: Buffer; readonly value: Buffer } => ({
  key: encodeKey(m.transactionalId),
  value: encodeValue(m)
})

/**
 * The epoch a transaction ended with an epoch bump had (what a retried EndTxn v5 names), for a replayed state:
 * the epoch before the bump, or Kafka's last bumpable epoch (32766) when the end rotated the producer id; -1
 * for states of transaction version 1, whose epoch no transaction end changes.
 */
const replayedLastEpoch = (status: number, producerEpoch: number, previousProducerId: number, version: number) => {
  if (version < TRANSACTION_VERSION_2 || status < TxnStatus.PrepareCommit || status > TxnStatus.CompleteAbort) return -1
  const rotated = previousProducerId >= 0 && producerEpoch === 0 && status >= TxnStatus.CompleteCommit
  return rotated ? MAX_EPOCH - 1 : producerEpoch - 1
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
  const previousProducerId = Number(v.previousProducerId)
  return {
    transactionalId,
    metadata: {
      transactionalId,
      producerId: Number(v.producerId),
      producerEpoch: v.producerEpoch,
      lastProducerEpoch: replayedLastEpoch(
        v.transactionStatus,
        v.producerEpoch,
        previousProducerId,
        v.clientTransactionVersion
      ),
      previousProducerId,
      nextProducerId: Number(v.nextProducerId),
      clientTransactionVersion: v.clientTransactionVersion,
      timeoutMs: v.transactionTimeoutMs,
      status: v.transactionStatus,
      partitions: new Map((v.transactionPartitions ?? []).map((p) => [p.topic, new Set(p.partitionIds)])),
      startTimestamp: Number(v.transactionStartTimestampMs),
      lastUpdateTimestamp: Number(v.transactionLastUpdateTimestampMs)
    }
  }
}

// ------------------------------------------------------------------------------------------------
// the store

/** The transaction state store over `__transaction_state`. */
export interface TransactionStateManager {
  /** The `__transaction_state` partition that holds `transactionalId`. */
  readonly partitionFor: (transactionalId: string) => number
  /** Creates `__transaction_state` if it does not exist yet. */
  readonly ensureTopic: Effect.Effect<void, TxnCoordinatorNotAvailable>
  /** Writes an id's state and waits until it is acknowledged. */
  readonly write: (m: TxnMetadata) => Effect.Effect<void, TxnCoordinatorNotAvailable>
  /** Replays one partition: the latest state of each of its ids (ids whose last record is a tombstone are absent). */
  readonly loadPartition: (partition: number) => Effect.Effect<Map<string, TxnMetadata>, TxnCoordinatorNotAvailable>
  /** How many records (or undecodable batches) replay could not read and skipped. */
  readonly skippedRecords: Effect.Effect<number>
}

const unavailable = (message: string) => new TxnCoordinatorNotAvailable({ message })

/** The store of this broker's topic registry and replicas. */
export const make: Effect.Effect<TransactionStateManager, never, TopicRegistry | ReplicaManager> = Effect.gen(
  function* () {
    const registry = yield* TopicRegistry
    const replicas = yield* ReplicaManager
    const existing = yield* registry.get(TRANSACTION_STATE)
    let numPartitions =
      existing?.partitions ?? BrokerConfig.getNumber(registry.config, "transaction.state.log.num.partitions")

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

    const write = (m: TxnMetadata): Effect.Effect<void, TxnCoordinatorNotAvailable> =>
      Effect.gen(function* () {
        yield* ensureTopic
        const partition = partitionFor(m.transactionalId, numPartitions)
        const replica = replicas.get(TRANSACTION_STATE, partition)
        if (replica === undefined) return yield* unavailable(`${TRANSACTION_STATE}-${partition} is not hosted here.`)
        const now = yield* Clock.currentTimeMillis
        const batch = RecordBatch.encode([{ ...encodeRecord(m), timestamp: now }])
        const epoch = replica.leaderEpoch
        const result = yield* replica
          .append([batch])
          .pipe(Effect.mapError((e) => unavailable(`Cannot write to ${TRANSACTION_STATE}: ${e.message}`)))
        if (!(yield* awaitReplicated(replica, epoch, result.lastOffset))) {
          return yield* unavailable(
            `The leadership of ${TRANSACTION_STATE}-${partition} moved before the write was replicated.`
          )
        }
      })

    let skipped = 0
    const loadPartition = (partition: number): Effect.Effect<Map<string, TxnMetadata>, TxnCoordinatorNotAvailable> =>
      Effect.gen(function* () {
        const loaded = new Map<string, TxnMetadata>()
        const replica = replicas.get(TRANSACTION_STATE, partition)
        if (replica === undefined) return loaded
        const tp = `${TRANSACTION_STATE}-${partition}`
        skipped += yield* replayLog(replica.log, tp, {
          record: (_, r) => {
            const decoded = decodeRecord(r.key, r.value)
            if (decoded === undefined) return
            if (decoded.metadata === null) loaded.delete(decoded.transactionalId)
            else loaded.set(decoded.transactionalId, decoded.metadata)
          }
        }).pipe(Effect.mapError((e) => unavailable(`Cannot replay ${tp}: ${e.message}`)))
        return loaded
      })

    return {
      partitionFor: (transactionalId) => partitionFor(transactionalId, numPartitions),
      ensureTopic,
      write,
      loadPartition,
      skippedRecords: Effect.sync(() => skipped)
    }
  }
)
