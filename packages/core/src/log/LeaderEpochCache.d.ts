/**
 * The leader epoch cache: for each leader epoch, the first offset written in it. Replication uses it
 * to answer OffsetForLeaderEpoch and to truncate a follower safely.
 *
 * Stored in the partition folder as `leader-epoch-checkpoint`, Kafka's text format: a version line
 * (`0`), a count line, then one `epoch startOffset` line per entry.
 */
/** One entry: `epoch` started at `startOffset`. */
export interface EpochEntry {
    readonly epoch: number;
    readonly startOffset: number;
}
/** Kafka's UNDEFINED_EPOCH and UNDEFINED_EPOCH_OFFSET. */
export declare const UNDEFINED_EPOCH = -1;
/** Kafka's UNDEFINED_EPOCH_OFFSET. */
export declare const UNDEFINED_EPOCH_OFFSET = -1;
/** The answer to OffsetForLeaderEpoch. */
export interface EpochEndOffset {
    readonly leaderEpoch: number;
    readonly endOffset: number;
}
/** The file name of the checkpoint. */
export declare const FILE_NAME = "leader-epoch-checkpoint";
/** An ordered list of epochs and their start offsets (epochs and offsets both increasing). */
export declare class LeaderEpochCache {
    private list;
    constructor(entries?: ReadonlyArray<EpochEntry>);
    /** The entries, oldest first. */
    get entries(): ReadonlyArray<EpochEntry>;
    /** The latest epoch, or -1. */
    get latestEpoch(): number;
    /**
     * Records that `epoch` starts at `startOffset`. Ignored unless the epoch is newer than the latest one;
     * entries starting at or after `startOffset` (left by a truncation not yet seen) are dropped first.
     * Returns whether the cache changed.
     */
    assign(epoch: number, startOffset: number): boolean;
    /** Drops entries starting at or after `endOffset` (the log was truncated to it). Returns whether it changed. */
    truncateFromEnd(endOffset: number): boolean;
    /**
     * Drops entries wholly before `startOffset` (the log start moved): the last entry at or before it is
     * kept, starting at `startOffset`. Returns whether it changed.
     */
    truncateFromStart(startOffset: number): boolean;
    /**
     * OffsetForLeaderEpoch: for the largest known epoch <= `requested`, the offset where the next epoch
     * starts (or `logEndOffset` for the latest epoch). Unknown: `(-1, -1)`.
     */
    endOffsetFor(requested: number, logEndOffset: number): EpochEndOffset;
    /** The checkpoint file's text. */
    encode(): string;
    /** Parses a checkpoint file; undefined when it is malformed. */
    static decode(text: string): LeaderEpochCache | undefined;
}
