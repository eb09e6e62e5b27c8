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
 *   (the old producer is fenced); an open transaction is aborted first. A transaction open longer than
 *   its timeout is aborted by the coordinator with a bumped epoch, on a schedule driven by `Clock`.
 * - Idempotent producers (no transactional id) get a fresh producer id, epoch 0, from the durable
 *   {@link ProducerIdManager}, as Kafka does, also when they name their current id (KIP-360: they bump
 *   their epoch themselves).
 */
import { Context, Effect, Layer, type Scope } from "effect";
import type { KafkaStorageError } from "./BrokerError.js";
import { GroupCoordinator } from "./GroupCoordinator.js";
import * as TxnActor from "./internal/txnActor.js";
import type { InvalidProducerEpoch } from "./PartitionError.js";
import { ReplicaManager } from "./ReplicaManager.js";
import { TopicRegistry } from "./TopicRegistry.js";
import { type TransactionError, TxnCoordinatorNotAvailable } from "./TransactionError.js";
import type { TxnMetadata } from "./TransactionStateManager.js";
export type { ProducerIdAndEpoch, TxnRef } from "./internal/txnActor.js";
export { decodeRecord, encodeRecord, statusName, statusOfName, type TxnMetadata, TxnStatus } from "./TransactionStateManager.js";
declare const TransactionCoordinator_base: Context.TagClass<TransactionCoordinator, "@eddy/core/broker/TransactionCoordinator", TransactionCoordinator.Service>;
/** Manages producer ids and transactions. */
export declare class TransactionCoordinator extends TransactionCoordinator_base {
}
/** Types of the transaction coordinator. */
export declare namespace TransactionCoordinator {
    /** The service. */
    interface Service {
        /** Creates `__transaction_state` when missing (FindCoordinator for a transactional id). */
        readonly ensureTopic: Effect.Effect<void, TxnCoordinatorNotAvailable>;
        /**
         * InitProducerId: a fresh producer id for an idempotent producer (`transactionalId` null), or the
         * transactional id's producer id with a bumped epoch (fencing the previous producer, aborting its
         * open transaction). `expected` is the caller's current id and epoch (v3+), -1/-1 when none.
         */
        readonly initProducerId: (transactionalId: string | null, transactionTimeoutMs: number, expected: TxnActor.ProducerIdAndEpoch) => Effect.Effect<TxnActor.ProducerIdAndEpoch, TransactionError | InvalidProducerEpoch>;
        /** AddPartitionsToTxn. */
        readonly addPartitions: (ref: TxnActor.TxnRef, partitions: ReadonlyArray<TxnActor.TopicPartitions>) => Effect.Effect<void, TransactionError | InvalidProducerEpoch>;
        /** AddOffsetsToTxn: adds the group's `__consumer_offsets` partition to the transaction. */
        readonly addOffsets: (ref: TxnActor.TxnRef, groupId: string) => Effect.Effect<void, TransactionError | InvalidProducerEpoch>;
        /** EndTxn: commits or aborts; completes once every marker is written. */
        readonly endTxn: (ref: TxnActor.TxnRef, commit: boolean) => Effect.Effect<void, TransactionError | InvalidProducerEpoch>;
        /** The state of a transactional id (a copy; DescribeTransactions). */
        readonly describe: (transactionalId: string) => Effect.Effect<TxnMetadata | undefined>;
        /** The state of every transactional id this coordinator knows (copies; ListTransactions). */
        readonly list: Effect.Effect<ReadonlyArray<TxnMetadata>>;
        /** Aborts transactions past their timeout now (the schedule calls it). */
        readonly abortTimedOut: Effect.Effect<void>;
    }
}
/** Options of {@link make}. */
export interface TransactionCoordinatorOptions {
    /** Where the producer-id block file lives; undefined keeps ids in memory. */
    readonly dataDir?: string;
}
/** Builds the coordinator: replays `__transaction_state` and completes transactions left half done. */
export declare const make: (options?: TransactionCoordinatorOptions) => Effect.Effect<TransactionCoordinator.Service, KafkaStorageError | TxnCoordinatorNotAvailable, Scope.Scope | TopicRegistry | ReplicaManager | GroupCoordinator>;
/** The coordinator as a layer. */
export declare const layer: (options?: TransactionCoordinatorOptions) => Layer.Layer<TransactionCoordinator, KafkaStorageError | TxnCoordinatorNotAvailable, TopicRegistry | ReplicaManager | GroupCoordinator>;
