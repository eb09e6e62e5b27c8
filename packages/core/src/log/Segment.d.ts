import { Effect, Option } from "effect";
import * as RecordBatch from "../protocol/RecordBatch.js";
import type { ReadBuffers } from "./BufferPool.js";
import { type ScanStop } from "./internal/batchReader.js";
import type { Disk, FileHandle } from "./internal/disk.js";
import type { KafkaStorageError } from "./LogError.js";
import * as OffsetIndex from "./OffsetIndex.js";
import * as TimeIndex from "./TimeIndex.js";
/** File suffixes. */
export declare const Suffix: {
    readonly log: ".log";
    readonly index: ".index";
    readonly timeIndex: ".timeindex";
    /** A compacted replacement being written. */
    readonly cleaned: ".cleaned";
    /** A compacted replacement ready to take the place of the segments it covers. */
    readonly swap: ".swap";
    /** A segment being deleted. */
    readonly deleted: ".deleted";
};
/** Kafka's file name for a base offset: 20 digits, zero-padded. */
export declare const fileName: (baseOffset: number, suffix: string) => string;
/** The base offset in a segment file name, or undefined when the name is not one. */
export declare const parseFileName: (name: string) => {
    readonly baseOffset: number;
    readonly suffix: string;
} | undefined;
/** The sizes and interval a segment needs from the log's configuration. */
export interface SegmentLimits {
    readonly maxIndexEntries: number;
    readonly maxTimeIndexEntries: number;
    readonly indexIntervalBytes: number;
}
/** A batch as the segment indexes it. */
export interface BatchInfo {
    readonly baseOffset: number;
    readonly lastOffset: number;
    readonly maxTimestamp: number;
    readonly position: number;
    readonly size: number;
}
/** The batches of one read, as file bytes. */
export interface SegmentRead {
    /** Whole batches, contiguous, as stored in the file. */
    readonly records: Buffer;
    /** Base offset of the first batch returned (-1 when none). */
    readonly firstOffset: number;
    /** Offset after the last batch returned (-1 when none). */
    readonly nextOffset: number;
}
/** The outcome of a segment recovery scan. */
export interface RecoveryResult {
    /** Bytes cut off the end of the segment (a torn or corrupt tail). */
    readonly truncatedBytes: number;
    /** Where and why the scan stopped, when it cut something. */
    readonly stop: ScanStop | undefined;
}
/** One segment: its log file, indexes and the facts the log needs (size, next offset, max timestamp). */
export declare class Segment {
    readonly disk: Disk;
    readonly dir: string;
    readonly baseOffset: number;
    readonly log: FileHandle;
    readonly limits: SegmentLimits;
    /** Clock time when the segment was created or opened (for `segment.ms`, and retention when there are no timestamps). */
    created: number;
    index: OffsetIndex.OffsetIndex;
    timeIndex: TimeIndex.TimeIndex;
    /** Bytes in the `.log` file. */
    size: number;
    /** Offset after the last batch (the base offset when empty). */
    nextOffset: number;
    /** Largest batch max timestamp, -1 when none. */
    maxTimestamp: number;
    /** Base offset of the batch holding {@link maxTimestamp}. */
    offsetOfMaxTimestamp: number;
    private bytesSinceLastIndexEntry;
    private indexPersisted;
    private timeIndexPersisted;
    private indexHandle;
    private timeIndexHandle;
    private readers;
    /** True once the segment was removed from its log; its file closes when the last reader is done. */
    deleted: boolean;
    private constructor();
    /**
     * Extra suffix of all the segment's file names: "" for a live segment, `.cleaned` for a compacted
     * replacement being written.
     */
    tag: string;
    /** Path of one of the segment's files. */
    path(suffix: string): string;
    /** Creates an empty segment (removing stale index files of the same name). */
    static create(disk: Disk, dir: string, baseOffset: number, limits: SegmentLimits, now: number, tag?: string): Effect.Effect<Segment, KafkaStorageError>;
    /** Opens an existing segment without reading it; follow with {@link loadClean} or {@link recover}. */
    static open(disk: Disk, dir: string, baseOffset: number, limits: SegmentLimits, now: number, tag?: string): Effect.Effect<Segment, KafkaStorageError>;
    /** Updates indexes and facts for a batch just written at `position` (append, scan or rebuild). */
    indexBatch(b: BatchInfo): void;
    /** {@link indexBatch} with the facts as arguments (the append path: no object per batch). */
    indexBatchAt(baseOffset: number, lastOffset: number, maxTimestamp: number, position: number, size: number): void;
    private observe;
    /** True when an index is full (the segment must roll). */
    get indexFull(): boolean;
    /**
     * Loads the indexes written at the last clean shutdown (or roll) and checks them; scans only the tail
     * after the last index entry. Returns false when an index is missing or invalid or the tail does not
     * scan: the caller then runs {@link recover}.
     */
    loadClean(): Effect.Effect<boolean, KafkaStorageError>;
    /**
     * Recomputes next offset, max timestamp and the index state from the batches after the last offset
     * index entry (the time index covers everything before it). Returns false when the tail does not scan.
     */
    private rescanTail;
    /**
     * Scans the whole segment checking every batch (header, length, CRC, offsets increasing from
     * `minOffset`), rebuilds both indexes, and truncates the file at the first invalid batch.
     * `onBatch` sees each valid batch (to rebuild the leader epoch cache).
     */
    recover(minOffset: number, onBatch: (header: RecordBatch.RecordBatchHeader) => void): Effect.Effect<RecoveryResult, KafkaStorageError>;
    /** Writes whole batches at the end of the file; updates nothing (the log calls {@link indexBatch} after). */
    write(buffers: ReadonlyArray<Uint8Array>, position?: number, during?: () => void): Effect.Effect<void, KafkaStorageError>;
    /** Writes index entries not yet on disk (rewriting the files when they shrank); fsyncs them when `sync`. */
    persistIndexes(sync: boolean, ensureFiles?: boolean): Effect.Effect<void, KafkaStorageError>;
    /** Makes the batches and indexes durable. */
    flush(): Effect.Effect<void, KafkaStorageError>;
    /** Called when the segment stops being the active one: final time index entry, flush, close index files. */
    seal(): Effect.Effect<void, KafkaStorageError>;
    private closeIndexHandles;
    /**
     * Reads whole batches from the first one holding an offset >= `offset`: as many as fit in `maxBytes`
     * (the first even if larger when `minOneMessage`), stopping before a batch whose last offset is >= `maxOffset`.
     */
    read(offset: number, maxBytes: number, maxOffset: number, minOneMessage: boolean, buffers?: ReadBuffers): Effect.Effect<SegmentRead, KafkaStorageError>;
    /**
     * Finds the batch holding the first record with timestamp >= `timestamp`: the first batch whose max
     * timestamp is >= it, starting from the time index. Returns its bytes (to find the record inside).
     */
    findTimestamp(timestamp: number): Effect.Effect<Buffer | undefined, KafkaStorageError>;
    /** The bytes of the batch starting at offset `baseOffset` (which must be a batch start), if any. */
    batchAt(baseOffset: number): Effect.Effect<Buffer | undefined, KafkaStorageError>;
    /**
     * Removes every batch holding an offset >= `offset` (a batch holding it is removed whole).
     * Returns the base offset of the first batch removed, -1 when nothing was.
     */
    truncateTo(offset: number): Effect.Effect<number, KafkaStorageError>;
    /** Like {@link use}, but none when the segment's file is already closed (deleted and unread). */
    tryUse<A, E>(f: Effect.Effect<A, E>): Effect.Effect<Option.Option<A>, E>;
    /** Runs `f` as a reader: a deleted segment's file stays open until its readers are done. */
    use<A, E>(f: Effect.Effect<A, E>): Effect.Effect<A, E>;
    /** Removes the segment's files (the log first, so that no index outlives it) and closes it once unread. */
    delete(): Effect.Effect<void, KafkaStorageError>;
    private logClosed;
    private closeLog;
    /** Closes the files (after the log flushed what it wanted); an in-flight reader closes the log file when done. */
    close(): Effect.Effect<void, KafkaStorageError>;
}
