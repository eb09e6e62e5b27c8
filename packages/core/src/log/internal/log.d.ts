import { Effect, Option } from "effect";
import * as LeaderEpochCache from "../LeaderEpochCache.js";
import type { AppendInfo, AppendOptions, CleanerStats, Log, ReadOptions, ReadResult, SegmentInfo, TimestampAndOffset } from "../Log.js";
import type { LogConfig } from "../LogConfig.js";
import { KafkaStorageError, type LogError, OffsetOutOfRangeError } from "../LogError.js";
import * as Recovery from "../Recovery.js";
import { Segment, type SegmentLimits } from "../Segment.js";
import { type Disk } from "./disk.js";
/** The segment limits a configuration implies. */
export declare const limitsOf: (config: LogConfig) => SegmentLimits;
/**
 * The log's mutex, FIFO. Taking it when it is free is synchronous (the Effect `Semaphore` always goes
 * through an asynchronous step, which dominated the cost of a small append); a holder keeps it until
 * its effect exits, whether it succeeds, fails or is interrupted, and then hands it to the first waiter.
 * `withPermits(1)` has the shape of `Semaphore.withPermits`.
 */
export declare class Lock {
    private locked;
    private readonly waiters;
    /** Shared by every holder (no allocation per call). */
    private readonly releasing;
    /** True when no one holds the lock (nor waits for it). */
    get isFree(): boolean;
    withPermits(_permits: 1): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>;
    /** Runs `self` holding the lock (interruptible as the caller is, except while taking and releasing). */
    run<A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R>;
    /** Runs `self`, already holding the lock, and releases it when `self` exits. */
    private holding;
    /**
     * Takes the lock when free, outside any Effect: the caller must then {@link unlock} it on every path,
     * whatever happens to its fiber (the log does so from an I/O callback).
     */
    tryTake(): boolean;
    /** Releases the lock: to the first waiter, or free. */
    unlock(): void;
}
/** Opens (recovering if needed) the log in `dir`. */
export declare const open: (options: {
    readonly disk: Disk;
    readonly dir: string;
    readonly config: LogConfig;
}) => Effect.Effect<LogImpl, KafkaStorageError>;
/** One partition's log. */
export declare class LogImpl implements Log {
    readonly disk: Disk;
    readonly dir: string;
    config: LogConfig;
    /** Segments, oldest first; replaced (never mutated) so that readers can hold a snapshot. */
    segmentList: ReadonlyArray<Segment>;
    logStartOffset: number;
    logEndOffset: number;
    highWatermark: number;
    recoveryPoint: number;
    cleanerCheckpoint: number;
    private recoveryCheckpoint;
    private unflushedMessages;
    private lastFlushTime;
    /** Serializes mutations (the owner's calls, retention and compaction). */
    readonly lock: Lock;
    /** Set after an I/O failure that left the state uncertain: the log is offline. */
    private failure;
    private closed;
    private syncInFlight;
    readonly epochCache: LeaderEpochCache.LeaderEpochCache;
    constructor(disk: Disk, dir: string, config: LogConfig, loaded: Recovery.Loaded, now: number);
    get active(): Segment;
    get size(): number;
    get segments(): ReadonlyArray<SegmentInfo>;
    get epochs(): readonly LeaderEpochCache.EpochEntry[];
    get latestEpoch(): number;
    get limits(): SegmentLimits;
    private check;
    private storageError;
    /** Takes the log offline after a failure that left memory and disk out of step. */
    goOffline(e: KafkaStorageError): Effect.Effect<never, KafkaStorageError>;
    /** The error every call fails with once the log is offline or closed. */
    private refusal;
    /** Runs a mutation under the log's lock, after the state checks. */
    mutate<A, E>(f: (now: number) => Effect.Effect<A, E>): Effect.Effect<A, E | KafkaStorageError>;
    private writeEpochCheckpoint;
    private setRecoveryCheckpoint;
    append(batches: Uint8Array | ReadonlyArray<Uint8Array>, options?: AppendOptions): Effect.Effect<AppendInfo, LogError>;
    /**
     * Parses and checks an append against the current state, changing nothing (the batches' bytes
     * included). Throws a LogError.
     */
    private plan;
    /** {@link plan} after the state checks; the failure instead when the log refuses the append or the batches. */
    private planChecked;
    /** Rewrites the batches of a leader append: offsets from the log end, leader epoch, LogAppendTime. */
    private rewrite;
    /**
     * The whole append as plain synchronous code, when it needs no asynchronous step: the lock is free,
     * the disk can write the batches synchronously (at most `SYNC_IO_MAX` bytes), and neither a roll
     * nor an epoch checkpoint is due. No other fiber can run in the middle of it, so it is serialized
     * with every other mutation without taking the lock (which costs several Effect steps). Returns
     * undefined, having changed nothing, when the append must take the locked path. An fsync due by the
     * flush policy is awaited after, as on the locked path.
     */
    private appendNow;
    /**
     * A large append on the `node:fs` disk in a single Effect step: takes the lock synchronously, starts
     * the write, checks the CRCs while it is in flight, and from the write's callback commits (or undoes
     * the write) and releases the lock. The lock is so held until the write is done even if the fiber is
     * interrupted meanwhile (the append then completes unseen). Falls back to the locked path when the
     * state changed since {@link appendNow} looked.
     */
    private appendAsync;
    /** The append through the lock. */
    private appendLocking;
    /** The append under the lock, for the cases {@link appendNow} leaves: rolls, large writes, epoch changes. */
    private appendLocked;
    /** Writes the batches at the end of the active segment, then commits them to memory. */
    private writeLocked;
    /** Undoes a partial or refused write; if even that fails the file no longer matches memory. */
    private undoWrite;
    /** {@link commit}, then the epoch checkpoint when the epoch cache changed. */
    private commitLocked;
    /**
     * Updates memory after a successful write: indexes, sizes, log end, epoch cache (whose checkpoint
     * the caller writes when `plan.epochChange`), flush policy.
     */
    private commit;
    /**
     * Completes once every offset below `target` is fsynced. Concurrent callers share fsyncs: one runs
     * while the others wait; whoever arrives during it joins the next one (group commit).
     */
    syncTo(target: number): Effect.Effect<void, KafkaStorageError>;
    /** Starts a new active segment at `baseOffset` (>= the log end offset), sealing the current one. */
    rollAt(baseOffset: number, now: number): Effect.Effect<void, KafkaStorageError>;
    get roll(): Effect.Effect<void, KafkaStorageError>;
    get flush(): Effect.Effect<void, KafkaStorageError>;
    private flushLocked;
    get flushIfDue(): Effect.Effect<void, KafkaStorageError>;
    read(offset: number, maxBytes: number, options?: ReadOptions): Effect.Effect<ReadResult, OffsetOutOfRangeError | KafkaStorageError>;
    offsetForTimestamp(timestamp: number): Effect.Effect<Option.Option<TimestampAndOffset>, KafkaStorageError>;
    get maxTimestamp(): Effect.Effect<Option.Option<TimestampAndOffset>, KafkaStorageError>;
    updateHighWatermark(offset: number): Effect.Effect<number>;
    truncateTo(offset: number): Effect.Effect<void, KafkaStorageError>;
    truncateFullyAndStartAt(offset: number): Effect.Effect<void, KafkaStorageError>;
    private truncateFullyLocked;
    deleteRecords(offset: number): Effect.Effect<number, OffsetOutOfRangeError | KafkaStorageError>;
    get deleteOldSegments(): Effect.Effect<number, KafkaStorageError>;
    private deleteOldSegmentsLocked;
    get compact(): Effect.Effect<CleanerStats, KafkaStorageError>;
    /** Replaces `old` (consecutive segments, none active) by `fresh` in the list. Called under the lock. */
    replaceSegments(old: ReadonlyArray<Segment>, fresh: Segment): void;
    /** True when `segments` are still consecutive members of the log (nothing deleted or truncated them). */
    stillHas(segments: ReadonlyArray<Segment>): boolean;
    setCleanerCheckpoint(offset: number): Effect.Effect<void, KafkaStorageError>;
    assignEpochStartOffset(epoch: number, startOffset: number): Effect.Effect<void, KafkaStorageError>;
    endOffsetForEpoch(epoch: number): Effect.Effect<LeaderEpochCache.EpochEndOffset>;
    updateConfig(config: LogConfig): Effect.Effect<void>;
    get close(): Effect.Effect<void, KafkaStorageError>;
    get delete(): Effect.Effect<void, KafkaStorageError>;
}
