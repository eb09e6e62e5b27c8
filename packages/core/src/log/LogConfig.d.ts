/**
 * Per-partition log configuration, under Kafka's own topic-level names and defaults.
 *
 * Kafka's `Long.MAX_VALUE` ("never") is written as `Number.MAX_SAFE_INTEGER`: offsets, sizes and
 * times in the log are JS numbers.
 */
/** A cleanup policy: `delete` (retention), `compact` (keep the latest record per key) or both. */
export type CleanupPolicy = "delete" | "compact" | "compact,delete";
/** How a batch's timestamp is set: by the producer, or by the broker at append time. */
export type TimestampType = "CreateTime" | "LogAppendTime";
/** Configuration of one partition's log (Kafka topic-level keys). */
export interface LogConfig {
    /** Roll a segment when it would grow past this many bytes. */
    readonly "segment.bytes": number;
    /** Roll a non-empty segment this long after its first append (clock time). */
    readonly "segment.ms": number;
    /** Maximum size of a segment's offset index (8 bytes an entry) and time index (12 bytes an entry); a full index rolls. */
    readonly "segment.index.bytes": number;
    /** Bytes of batches between two index entries. */
    readonly "index.interval.bytes": number;
    /** Delete whole segments whose newest record is older than this (-1: no time limit). */
    readonly "retention.ms": number;
    /** Delete the oldest whole segments while the log is larger than this (-1: no size limit). */
    readonly "retention.bytes": number;
    /** `delete`, `compact` or `compact,delete`. */
    readonly "cleanup.policy": CleanupPolicy;
    /** How long compaction keeps a tombstone (a null value) after it was first cleaned. */
    readonly "delete.retention.ms": number;
    /** A record younger than this (by batch max timestamp) is never compacted. */
    readonly "min.compaction.lag.ms": number;
    /** Compact when the dirty (not yet cleaned) share of the inactive log reaches this ratio. */
    readonly "min.cleanable.dirty.ratio": number;
    /** Flush (fsync) after this many records appended since the last flush. */
    readonly "flush.messages": number;
    /** Flush (fsync) when this long has passed since the last flush. */
    readonly "flush.ms": number;
    /** Kept for compatibility: Eddy closes a deleted segment's files as soon as its last reader is done. */
    readonly "file.delete.delay.ms": number;
    /** `CreateTime` (the producer's timestamps) or `LogAppendTime` (the broker's clock, set at append). */
    readonly "message.timestamp.type": TimestampType;
    /** Largest batch accepted, in bytes (checked by the broker; the log only refuses a batch larger than a segment). */
    readonly "max.message.bytes": number;
    /**
     * Eddy-specific: when true, `append` returns as soon as the bytes are written and hands back a `durable`
     * effect that waits for a shared fsync (group commit); when false, `append` itself waits for the fsync
     * the flush policy asks for.
     */
    readonly "flush.group.commit": boolean;
}
/** Kafka's `Long.MAX_VALUE`, as the largest safe JS integer. */
export declare const LONG_MAX: number;
/** Kafka's defaults. */
export declare const defaults: LogConfig;
/** A full configuration from Kafka's defaults and some overrides. */
export declare const make: (overrides?: Partial<LogConfig>) => LogConfig;
/** True when the policy includes time/size retention. */
export declare const isDelete: (config: LogConfig) => boolean;
/** True when the policy includes compaction. */
export declare const isCompact: (config: LogConfig) => boolean;
/** Broker-level settings of the storage service (Kafka's `log.*` server keys). */
export interface StorageConfig {
    /** Folder holding one sub-folder per partition (`<topic>-<partition>`). */
    readonly "log.dirs": string;
    /** How often retention (and `flush.ms`) is checked. */
    readonly "log.retention.check.interval.ms": number;
    /** How often the flusher checks `flush.ms`; Kafka's default is never (Long.MAX), the retention check also does it. */
    readonly "log.flush.scheduler.interval.ms": number;
    /** Whether compaction runs for `compact` topics. */
    readonly "log.cleaner.enable": boolean;
    /** Pause between two compaction passes over all logs. */
    readonly "log.cleaner.backoff.ms": number;
    /** Topic-level defaults for logs opened without their own settings. */
    readonly log: Partial<LogConfig>;
}
/** Kafka's server defaults (`log.dirs` is `/tmp/kafka-logs` in Kafka; Eddy uses `./data`). */
export declare const storageDefaults: StorageConfig;
