/**
 * The actor of one transactional id: a fiber that owns the id's {@link TxnMetadata} and runs jobs from
 * its mailbox one at a time, each uninterruptible once started. It runs Kafka's transaction state
 * machine: Empty -> Ongoing (first AddPartitionsToTxn / AddOffsetsToTxn) -> PrepareCommit / PrepareAbort
 * -> CompleteCommit / CompleteAbort, and back to Ongoing with the next transaction.
 *
 * Invariants:
 * - Only the actor reads or writes the state; every change is written to `__transaction_state` (through
 *   the store) before the state in memory changes and before the reply that depends on it.
 * - Ending a transaction writes Prepare*, then the markers (through `writeMarkers`, every partition of
 *   the transaction), then Complete*. A transaction found in Prepare* (a crash, a failed marker write)
 *   is completed first by the next job of any kind, so it ends whole or not at all, and the outcome
 *   recorded in Prepare* is the one written.
 * - An epoch bump (InitProducerId, a timeout) fences the previous producer: the partitions refuse its
 *   batches and markers, and this actor answers it PRODUCER_FENCED. An open transaction is aborted with
 *   the bumped epoch before InitProducerId answers.
 */
import { Effect } from "effect";
import { type TransactionError, type TxnCoordinatorNotAvailable } from "../TransactionError.js";
import { type TxnMetadata } from "../TransactionStateManager.js";
/** The largest producer epoch; past it a transactional id gets a new producer id. */
export declare const MAX_EPOCH = 32767;
/** A producer id and epoch handed to a client. */
export interface ProducerIdAndEpoch {
    readonly producerId: number;
    readonly producerEpoch: number;
}
/** What a transactional request names. */
export interface TxnRef {
    readonly transactionalId: string;
    readonly producerId: number;
    readonly producerEpoch: number;
}
/** Partitions joining a transaction. */
export interface TopicPartitions {
    readonly topic: string;
    readonly partitions: ReadonlyArray<number>;
}
/** What the actor needs from the coordinator. */
export interface TxnActorOptions {
    readonly transactionalId: string;
    /** The state replayed from `__transaction_state`, undefined for a new id. */
    readonly initial: TxnMetadata | undefined;
    /** Largest timeout a producer may ask for (`transaction.max.timeout.ms`). */
    readonly maxTimeoutMs: number;
    /** Writes the id's state durably. */
    readonly write: (m: TxnMetadata) => Effect.Effect<void, TxnCoordinatorNotAvailable>;
    /** A producer id never handed out before. */
    readonly nextProducerId: Effect.Effect<number, TxnCoordinatorNotAvailable>;
    /** Writes a COMMIT or ABORT marker of `m`'s producer to every partition of its transaction. */
    readonly writeMarkers: (m: TxnMetadata, commit: boolean) => Effect.Effect<void, TxnCoordinatorNotAvailable>;
}
/** One transactional id's actor. */
export interface TxnActor {
    readonly transactionalId: string;
    /** A copy of the state as last written; undefined before the id's first InitProducerId. */
    readonly current: () => TxnMetadata | undefined;
    /**
     * InitProducerId: the id's producer id with the epoch bumped (a new producer id for a new id or past
     * {@link MAX_EPOCH}). `expected` is the caller's id and epoch (v3+, KIP-360), -1/-1 when none.
     */
    readonly initProducerId: (timeoutMs: number, expected: ProducerIdAndEpoch) => Effect.Effect<ProducerIdAndEpoch, TransactionError>;
    /** AddPartitionsToTxn / AddOffsetsToTxn: the partitions join the (possibly new) transaction. */
    readonly addPartitions: (ref: TxnRef, add: ReadonlyArray<TopicPartitions>) => Effect.Effect<void, TransactionError>;
    /** EndTxn: completes once every marker is written. */
    readonly endTxn: (ref: TxnRef, commit: boolean) => Effect.Effect<void, TransactionError>;
    /** Completes a transaction left in Prepare* (nothing else). */
    readonly settle: Effect.Effect<void, TxnCoordinatorNotAvailable>;
    /** Aborts the open transaction, with a bumped epoch, when it started more than its timeout before `now`. */
    readonly abortIfTimedOut: (now: number) => Effect.Effect<void, TxnCoordinatorNotAvailable>;
    /** The mailbox loop (the coordinator runs it in its FiberMap). */
    readonly run: Effect.Effect<never>;
}
/** A transaction in PrepareCommit or PrepareAbort: its markers may be missing. */
export declare const isPrepare: (status: number) => boolean;
/** A transaction open longer than its timeout at `now`. */
export declare const isTimedOut: (m: TxnMetadata, now: number) => boolean;
/** Creates the actor; its loop starts when `run` does. */
export declare const make: (options: TxnActorOptions) => Effect.Effect<TxnActor>;
