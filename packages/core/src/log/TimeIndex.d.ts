/**
 * A segment's sparse time index: timestamp -> offset.
 *
 * On disk (`.timeindex`), Kafka's format: 12-byte entries, big-endian `int64 timestamp` and
 * `int32 relativeOffset`. An entry `(t, o)` says: the batch starting at `o` holds the largest timestamp
 * seen so far in the segment, `t`. Timestamps strictly increase from one entry to the next, so every
 * record before the end of that batch has a timestamp <= t. Entries are added together with offset
 * index entries (and once more when the segment stops being active).
 */
/** Size of one entry on disk. */
export declare const ENTRY_SIZE = 12;
/** One time index entry, in absolute offsets. */
export interface TimestampOffset {
    readonly timestamp: number;
    readonly offset: number;
}
/** A sparse time index, growable up to `maxEntries`. */
export declare class TimeIndex {
    readonly baseOffset: number;
    readonly maxEntries: number;
    private ts;
    private rel;
    private count;
    constructor(baseOffset: number, maxEntries: number);
    /** Number of entries. */
    get entries(): number;
    /** True when no entry can be added (the segment must roll). */
    get isFull(): boolean;
    /** The last entry, if any. */
    get lastEntry(): TimestampOffset | undefined;
    /** Entry `i`. */
    entry(i: number): TimestampOffset;
    /** Adds an entry when `timestamp` is larger than the last one (and offsets do not go back); returns whether it did. */
    maybeAppend(timestamp: number, offset: number): boolean;
    /**
     * The last entry whose timestamp is < `timestamp`: every record up to the end of its batch is older
     * than `timestamp`, so a search for the first record at or after `timestamp` may start at that batch.
     */
    lookupBefore(timestamp: number): TimestampOffset | undefined;
    /** Removes every entry whose offset is >= `offset`. */
    truncateTo(offset: number): void;
    /** Removes all entries. */
    reset(): void;
    /** Entries `[from, entries)` in the on-disk format. */
    encode(from?: number): Buffer;
    /** Parses and checks a time index file; undefined when it is not valid (the caller rebuilds it). */
    static decode(bytes: Uint8Array, baseOffset: number, maxEntries: number, maxOffset: number): TimeIndex | undefined;
}
