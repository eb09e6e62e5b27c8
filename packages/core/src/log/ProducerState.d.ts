/**
 * Per-partition producer state: what idempotent and transactional producers have written to one log.
 *
 * For every producer id it keeps the epoch, the metadata of the last {@link BATCHES_KEPT} batches
 * (sequence and offset ranges, to answer a retried batch with its original offsets) and the first
 * offset of the producer's open transaction. From the open transactions follows the partition's last
 * stable offset; ABORT markers feed the aborted-transaction index that read_committed fetches return.
 *
 * The state is rebuilt from batch headers alone (control batches are the only ones whose record is
 * read), so it can be recovered from any point of the log: a snapshot (`<offset>.snapshot`, JSON, in
 * the partition folder) holds the state as of an offset, and the log after it is replayed.
 *
 * Invariants:
 * - The owner (the partition's actor) calls {@link ProducerStateManager.check} before an append and
 *   {@link ProducerStateManager.update} after it, in log order; nothing else mutates the state.
 * - A producer with an open transaction never expires.
 * - Aborted-transaction entries are kept sorted by last offset and dropped once wholly below the log
 *   start offset.
 */
import * as RecordBatch from "../protocol/RecordBatch.js";
/** Batches remembered per producer for duplicate detection (Kafka's value). */
export declare const BATCHES_KEPT = 5;
/** Metadata of one appended batch. */
export interface BatchMetadata {
    readonly firstSeq: number;
    readonly lastSeq: number;
    readonly firstOffset: number;
    readonly lastOffset: number;
    readonly timestamp: number;
}
/** What is known of one producer on this partition. */
export interface ProducerEntry {
    epoch: number;
    batches: Array<BatchMetadata>;
    /** First offset of the open transaction, -1 when none. */
    txnFirstOffset: number;
    /** Coordinator epoch of the last marker, -1 when none. */
    coordinatorEpoch: number;
    /** Broker time of the last write (for expiry). */
    lastTimestamp: number;
}
/** An aborted transaction as a read_committed fetch needs it. */
export interface AbortedTxn {
    readonly producerId: number;
    readonly firstOffset: number;
    readonly lastOffset: number;
}
/** The verdict on a batch about to be appended. */
export type CheckResult = {
    readonly _tag: "Append";
} | {
    readonly _tag: "Duplicate";
    readonly firstOffset: number;
    readonly lastOffset: number;
} | {
    readonly _tag: "InvalidProducerEpoch";
    readonly message: string;
} | {
    readonly _tag: "OutOfOrderSequence";
    readonly message: string;
} | {
    readonly _tag: "InvalidTxnState";
    readonly message: string;
};
/** The snapshot file of an offset: 20 digits, as Kafka names it. */
export declare const snapshotFileName: (offset: number) => string;
/** The offset a snapshot file name stands for, or undefined for other files. */
export declare const snapshotOffset: (name: string) => number | undefined;
/** The producer state of one partition. */
export declare class ProducerStateManager {
    readonly producers: Map<number, ProducerEntry>;
    /** Sorted by lastOffset. */
    aborted: Array<AbortedTxn>;
    /** Every offset below it has been applied. */
    mapEndOffset: number;
    /** Checks a batch's header against the producer's state (no change is made). */
    check(h: RecordBatch.RecordBatchHeader): CheckResult;
    /**
     * Applies an appended batch (its header with the assigned base offset). For a control batch,
     * `control` is its marker type and coordinator epoch.
     */
    update(h: RecordBatch.RecordBatchHeader, now: number, control?: {
        readonly type: number;
        readonly coordinatorEpoch: number;
    }): void;
    private addAborted;
    /** First offset of the oldest open transaction, or undefined when none is open. */
    firstUnstableOffset(): number | undefined;
    /** Aborted transactions overlapping `[fetchOffset, upperOffset)`, oldest first. */
    abortedTransactions(fetchOffset: number, upperOffset: number): Array<{
        readonly producerId: number;
        readonly firstOffset: number;
    }>;
    /** Forgets producers idle since before `now - expirationMs` that have no open transaction; returns how many. */
    removeExpired(now: number, expirationMs: number): number;
    /** Drops aborted-index entries wholly below the log start offset. */
    onLogStartOffset(logStartOffset: number): void;
    /** Forgets everything (before a rebuild). */
    clear(offset?: number): void;
    /**
     * Applies the batches of `buf` (whole batches as read from the log) at or after `mapEndOffset`;
     * `now` stamps the producers seen (expiry counts from recovery).
     */
    replay(buf: Uint8Array, now: number): void;
    /** The state as a snapshot file's bytes. */
    encodeSnapshot(): Buffer;
    /** Replaces the state with a snapshot's; false (state untouched) when the bytes are not a valid snapshot. */
    loadSnapshot(bytes: Uint8Array): boolean;
}
