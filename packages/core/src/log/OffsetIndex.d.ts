/**
 * A segment's sparse offset index: offset -> file position of the batch starting at that offset.
 *
 * On disk (`.index`), Kafka's format: 8-byte entries, big-endian `int32 relativeOffset` (offset minus
 * the segment's base offset) and `int32 position`. An entry is added every `index.interval.bytes` of
 * batches; a lookup finds the last entry at or below an offset, and the reader scans forward from its
 * position. This module is the in-memory structure and its (de)serialization; the segment does the I/O.
 */
/** Size of one entry on disk. */
export declare const ENTRY_SIZE = 8;
/** One index entry, in absolute offsets. */
export interface OffsetPosition {
    readonly offset: number;
    readonly position: number;
}
/** A sparse offset index, growable up to `maxEntries`. */
export declare class OffsetIndex {
    readonly baseOffset: number;
    readonly maxEntries: number;
    private rel;
    private pos;
    private count;
    constructor(baseOffset: number, maxEntries: number);
    /** Number of entries. */
    get entries(): number;
    /** True when no entry can be added (the segment must roll). */
    get isFull(): boolean;
    /** The last entry, or the segment start when empty. */
    get lastEntry(): OffsetPosition;
    /** Entry `i`. */
    entry(i: number): OffsetPosition;
    /** Adds an entry; offsets and positions must increase. Returns false when full or out of order. */
    append(offset: number, position: number): boolean;
    /** The last entry whose offset is <= `offset`, or the segment start when none. */
    lookup(offset: number): OffsetPosition;
    /** Removes every entry whose offset is >= `offset`. */
    truncateTo(offset: number): void;
    /** Removes every entry whose position is >= `position`. */
    truncateToPosition(position: number): void;
    /** Removes all entries. */
    reset(): void;
    /** Entries `[from, entries)` in the on-disk format. */
    encode(from?: number): Buffer;
    /**
     * Parses an index file and checks it: whole entries, offsets and positions strictly increasing,
     * positions inside the log. Returns undefined when the file is not a valid index (the caller rebuilds it).
     */
    static decode(bytes: Uint8Array, baseOffset: number, maxEntries: number, logSize: number): OffsetIndex | undefined;
}
