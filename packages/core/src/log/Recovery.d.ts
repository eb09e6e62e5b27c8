import { Effect } from "effect";
import type { Disk } from "./internal/disk.js";
import * as LeaderEpochCache from "./LeaderEpochCache.js";
import type { KafkaStorageError } from "./LogError.js";
import { Segment, type SegmentLimits } from "./Segment.js";
/** The state of a partition folder after recovery. */
export interface Loaded {
    /** Segments, oldest first; never empty (the last is active). */
    readonly segments: Array<Segment>;
    readonly logStartOffset: number;
    readonly logEndOffset: number;
    readonly epochCache: LeaderEpochCache.LeaderEpochCache;
    /** Offsets below it are flushed: the base of the active segment. */
    readonly recoveryPoint: number;
    /** True when the folder held a clean-shutdown marker (no scan was needed). */
    readonly cleanShutdown: boolean;
    /** Bytes dropped by recovery (torn or corrupt tails and the segments after them). */
    readonly truncatedBytes: number;
    /** Compaction progress: offsets below it have been cleaned. */
    readonly cleanerCheckpoint: number;
}
/** Loads (and if needed recovers) the log in `dir`, creating the folder when missing. */
export declare const load: (options: {
    readonly disk: Disk;
    readonly dir: string;
    readonly limits: SegmentLimits;
    readonly now: number;
}) => Effect.Effect<Loaded, KafkaStorageError>;
