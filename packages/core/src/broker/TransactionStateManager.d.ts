/**
 * Persistence of transactional ids: each id's state (producer id and epoch, timeout, status, the
 * partitions of its transaction, timestamps) is a record in the compacted internal topic
 * `__transaction_state`, in Kafka's own format (`records/TransactionLogKey`/`Value` v0, each prefixed
 * by its int16 version), on the partition `partitionFor(transactionalId)`. A null value is a tombstone.
 *
 * Invariants:
 * - Writes go through the partition's {@link PartitionReplica} actor (ordinary appends: high watermark,
 *   flush policy and compaction apply) and complete once acknowledged; the latest record of an id is its
 *   state.
 * - Replay scans every partition from its log start; records of versions newer than the generated codecs
 *   know are skipped (as Kafka skips unknown versions), control batches are ignored.
 * - The topic is created on first use (FindCoordinator key type 1, or the first write), with
 *   `transaction.state.log.num.partitions` partitions; an existing topic keeps its partition count.
 */
import { Effect } from "effect";
import { ReplicaManager } from "./ReplicaManager.js";
import { TopicRegistry } from "./TopicRegistry.js";
import { TxnCoordinatorNotAvailable } from "./TransactionError.js";
/** Kafka's transaction states (TransactionLogValue `transaction_status`). */
export declare const TxnStatus: {
    readonly Empty: 0;
    readonly Ongoing: 1;
    readonly PrepareCommit: 2;
    readonly PrepareAbort: 3;
    readonly CompleteCommit: 4;
    readonly CompleteAbort: 5;
    readonly Dead: 6;
    readonly PrepareEpochFence: 7;
};
/** Kafka's name of a transaction state (DescribeTransactions, ListTransactions). */
export declare const statusName: (status: number) => string;
/** The status of a state name, undefined for names Kafka does not know. */
export declare const statusOfName: (name: string) => number | undefined;
/** One transactional id's state. */
export interface TxnMetadata {
    readonly transactionalId: string;
    producerId: number;
    producerEpoch: number;
    /** The epoch before the last bump (to recognise a retried InitProducerId), -1 when none. Not persisted. */
    lastProducerEpoch: number;
    timeoutMs: number;
    status: number;
    /** topic -> partitions of the open (or completing) transaction */
    partitions: Map<string, Set<number>>;
    startTimestamp: number;
    lastUpdateTimestamp: number;
}
/** A deep copy (the partition sets too). */
export declare const copyMetadata: (m: TxnMetadata) => TxnMetadata;
/** The `__transaction_state` record (key, value) holding a transactional id's state. */
export declare const encodeRecord: (m: TxnMetadata) => {
    readonly key: Buffer;
    readonly value: Buffer;
};
/** Decodes one `__transaction_state` record; undefined for records of other kinds. */
export declare const decodeRecord: (key: Uint8Array, value: Uint8Array | null) => {
    readonly transactionalId: string;
    readonly metadata: TxnMetadata | null;
} | undefined;
/** The transaction state store over `__transaction_state`. */
export interface TransactionStateManager {
    /** The `__transaction_state` partition that holds `transactionalId`. */
    readonly partitionFor: (transactionalId: string) => number;
    /** Creates `__transaction_state` if it does not exist yet. */
    readonly ensureTopic: Effect.Effect<void, TxnCoordinatorNotAvailable>;
    /** Writes an id's state and waits until it is acknowledged. */
    readonly write: (m: TxnMetadata) => Effect.Effect<void, TxnCoordinatorNotAvailable>;
    /** Replays every partition: the latest state of each id (ids whose last record is a tombstone are absent). */
    readonly loadAll: Effect.Effect<Map<string, TxnMetadata>, TxnCoordinatorNotAvailable>;
}
/** The store of this broker's topic registry and replicas. */
export declare const make: Effect.Effect<TransactionStateManager, never, TopicRegistry | ReplicaManager>;
