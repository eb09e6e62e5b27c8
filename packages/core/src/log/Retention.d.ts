/**
 * Retention: which whole segments to delete, by `retention.ms`, `retention.bytes` and the log start
 * offset. Never the active segment, never a segment holding an offset at or above the high watermark.
 * Pure: the {@link Log} applies the decision.
 */
import type { LogConfig } from "./LogConfig.js";
/** What retention needs to know of a segment. */
export interface SegmentView {
    readonly baseOffset: number;
    readonly size: number;
    /** Largest record timestamp in the segment, -1 when none. */
    readonly maxTimestamp: number;
    /** Clock time the segment was created or opened (used when it has no timestamps). */
    readonly created: number;
}
/** Why a segment is deleted. */
export type Reason = "retention.ms" | "retention.bytes" | "log-start-offset";
/** The decision: how many of the oldest segments go, and why each. */
export interface Decision {
    readonly count: number;
    readonly reasons: ReadonlyArray<Reason>;
}
/**
 * The oldest segments to delete (a prefix of `segments`, oldest first, the last being the active one).
 * A segment goes when the next one starts at or below the log start offset, or (for `delete` policies)
 * when its newest timestamp is older than `retention.ms` or the log is larger than `retention.bytes`
 * without it; and only when the next segment starts at or below `highWatermark`.
 */
export declare const decide: (segments: ReadonlyArray<SegmentView>, options: {
    readonly config: LogConfig;
    readonly now: number;
    readonly highWatermark: number;
    readonly logStartOffset: number;
}) => Decision;
