/**
 * One partition's log: a folder of segments holding record batches as stored on the wire.
 *
 * A Log is written by one caller (the broker's PartitionReplica actor) that calls it sequentially, and
 * reads run concurrently with appends. The maintenance the storage schedules (retention deletes, the
 * cleaner's segment swaps, `flush.ms` flushes) runs through the log's {@link LogOwner} when one is set (the
 * replica's mailbox: the owner is then the log's only writer); without one (a log used alone) the log
 * serializes those mutations with its own lock. Appends handle whole batches as bytes: header and CRC
 * checks, `baseOffset` (and `partitionLeaderEpoch`) rewritten in place, one write per call.
 * Durability follows the flush policy (`flush.messages`, `flush.ms`); several appends waiting for a
 * flush share one fsync (group commit).
 */
import type { Effect, Option } from "effect"
import type { ReadBuffers } from "./BufferPool.js"
import * as Disk from "./internal/disk.js"
import * as internal from "./internal/log.js"
import type { EpochEndOffset, EpochEntry } from "./LeaderEpochCache.js"
import type { LogConfig } from "./LogConfig.js"
import type { KafkaStorageError, LogError, OffsetOutOfRangeError } from "./LogError.js"

export type { LogConfig } from "./LogConfig.js"

/** Options of {@link Log.append}. */
export interface AppendOptions {
  /**
   * true (the leader, default): offsets are assigned from the log end offset by rewriting each batch's
   * `baseOffset`. false (a follower): batches keep their offsets, which must not go below the log end offset.
   */
  readonly assignOffsets?: boolean
  /** Written into each batch's `partitionLeaderEpoch` (leader appends) and recorded in the leader epoch cache. */
  readonly leaderEpoch?: number
  /** Check every batch's CRC (default true); the broker may skip it when it has just checked it. */
  readonly verifyCrc?: boolean
}

/** What an append did. */
export interface AppendInfo {
  /** Offset of the first record appended. */
  readonly firstOffset: number
  /** Offset of the last record appended. */
  readonly lastOffset: number
  /** Largest batch max timestamp appended (after LogAppendTime), -1 when none. */
  readonly maxTimestamp: number
  /** The broker's clock at append when `message.timestamp.type` is LogAppendTime, else -1. */
  readonly logAppendTime: number
  /** Log start offset after the append. */
  readonly logStartOffset: number
  /** Bytes written. */
  readonly bytes: number
  /**
   * Completes when the appended bytes are durable per the flush policy (an fsync shared with other
   * appends); already complete when the policy asks for no flush, or when `flush.group.commit` is off
   * (the append then waited itself).
   */
  readonly durable: Effect.Effect<void, KafkaStorageError>
}

/** Options of {@link Log.read}. */
export interface ReadOptions {
  /** Read only batches whose last offset is < maxOffset (the high watermark or last stable offset). Default: log end. */
  readonly maxOffset?: number
  /** Return the first batch even when larger than `maxBytes` (KIP-74). Default true. */
  readonly minOneMessage?: boolean
  /**
   * Where the bytes read land (a request's {@link BufferPool} lease, released once they are on the
   * socket). Default: fresh allocations, which the caller may keep as long as it likes.
   */
  readonly buffers?: ReadBuffers | undefined
}

/** The result of a read: whole batches as file bytes, ready for a socket. */
export interface ReadResult {
  /** Whole batches, contiguous as on disk (empty when nothing to return). */
  readonly records: Buffer
  /** Base offset of the first batch returned (it may be below the fetch offset), -1 when none. */
  readonly firstOffset: number
  /** Offset after the last batch returned, -1 when none. */
  readonly nextOffset: number
  readonly logStartOffset: number
  readonly logEndOffset: number
}

/** A timestamp and the offset of the record holding it. */
export interface TimestampAndOffset {
  readonly timestamp: number
  readonly offset: number
  /** Leader epoch of the batch holding the record (-1 unknown). */
  readonly leaderEpoch: number
}

/** What one compaction pass did. */
export interface CleanerStats {
  readonly segmentsCleaned: number
  readonly bytesRead: number
  readonly bytesWritten: number
  readonly recordsRemoved: number
}

/**
 * The single writer of a log, which takes over its scheduled maintenance: retention deletes, the cleaner's
 * segment swaps and `flush.ms` flushes run through `run`, in order with the owner's own writes.
 */
export interface LogOwner {
  /**
   * Runs `mutation` among the owner's writes and returns its result; `None` when the owner cannot take it now
   * (its mailbox is full or it stopped): the maintenance is skipped and the next scheduled run tries again.
   */
  readonly run: <A, E>(mutation: Effect.Effect<A, E>) => Effect.Effect<Option.Option<A>, E>
}

/** A segment as seen from outside (tests, metrics). */
export interface SegmentInfo {
  readonly baseOffset: number
  readonly nextOffset: number
  readonly size: number
  readonly maxTimestamp: number
}

/** One partition's log. */
export interface Log {
  /** The partition folder. */
  readonly dir: string
  /** Current configuration. */
  readonly config: LogConfig
  /** First offset readable. */
  readonly logStartOffset: number
  /** Offset the next appended record gets. */
  readonly logEndOffset: number
  /** High watermark as last set by the owner (bounds retention and delete-records). */
  readonly highWatermark: number
  /** Offsets below it are flushed (fsynced). */
  readonly recoveryPoint: number
  /** Bytes in all segments. */
  readonly size: number
  /** The segments, oldest first (the last is active). */
  readonly segments: ReadonlyArray<SegmentInfo>
  /** The leader epoch cache entries. */
  readonly epochs: ReadonlyArray<EpochEntry>

  /**
   * Appends whole batches: `batches` is a buffer holding one or more consecutive batches, or several
   * such buffers. The buffers are rewritten in place (offsets, epoch, LogAppendTime) and written as is.
   */
  readonly append: (
    batches: Uint8Array | ReadonlyArray<Uint8Array>,
    options?: AppendOptions
  ) => Effect.Effect<AppendInfo, LogError>

  /**
   * Reads whole batches from the one holding `offset`, up to `maxBytes` (the first batch even if larger
   * unless `minOneMessage` is false). Fails with OffsetOutOfRange when `offset` is outside
   * `[logStartOffset, logEndOffset]`.
   */
  readonly read: (
    offset: number,
    maxBytes: number,
    options?: ReadOptions
  ) => Effect.Effect<ReadResult, OffsetOutOfRangeError | KafkaStorageError>

  /** The first record whose timestamp is >= `timestamp` (at or after the log start), if any. */
  readonly offsetForTimestamp: (
    timestamp: number
  ) => Effect.Effect<Option.Option<TimestampAndOffset>, KafkaStorageError>

  /** The record with the largest timestamp (ListOffsets -3), if any. */
  readonly maxTimestamp: Effect.Effect<Option.Option<TimestampAndOffset>, KafkaStorageError>

  /** Sets the high watermark (owned by the broker); clipped to `[logStartOffset, logEndOffset]`. */
  readonly updateHighWatermark: (offset: number) => Effect.Effect<number>

  /**
   * Removes every record at or after `offset` (a batch holding `offset` goes whole); the log end becomes
   * `offset`. Below the log start, the log is emptied and restarts at `offset`. For replication.
   */
  readonly truncateTo: (offset: number) => Effect.Effect<void, KafkaStorageError>

  /** Deletes every segment and restarts the log, empty, at `offset`. */
  readonly truncateFullyAndStartAt: (offset: number) => Effect.Effect<void, KafkaStorageError>

  /**
   * DeleteRecords: advances the log start offset to `offset` (at most the high watermark) and deletes
   * the segments wholly below it. Returns the new log start offset.
   */
  readonly deleteRecords: (offset: number) => Effect.Effect<number, OffsetOutOfRangeError | KafkaStorageError>

  /** Starts a new active segment (no-op when the active one is empty). */
  readonly roll: Effect.Effect<void, KafkaStorageError>

  /** Applies retention now (segments past `retention.ms`/`retention.bytes`/log start); returns the segments deleted. */
  readonly deleteOldSegments: Effect.Effect<number, KafkaStorageError>

  /** Runs one compaction pass when the policy includes `compact` (and there is something to clean). */
  readonly compact: Effect.Effect<CleanerStats, KafkaStorageError>

  /** Flushes (fsyncs) batches and indexes now. */
  readonly flush: Effect.Effect<void, KafkaStorageError>

  /** Flushes if `flush.ms` has passed since the last flush and something is unflushed. */
  readonly flushIfDue: Effect.Effect<void, KafkaStorageError>

  /** Records that leader `epoch` starts at `startOffset` (on becoming leader: the log end offset). */
  readonly assignEpochStartOffset: (epoch: number, startOffset: number) => Effect.Effect<void, KafkaStorageError>

  /** OffsetForLeaderEpoch: the largest epoch <= `epoch` and the offset where it ended. */
  readonly endOffsetForEpoch: (epoch: number) => Effect.Effect<EpochEndOffset>

  /** The latest leader epoch recorded, -1 when none. */
  readonly latestEpoch: number

  /**
   * Hands the scheduled maintenance (retention, the cleaner's swaps, `flush.ms` flushes) to `owner`, or back to
   * the log's own lock (undefined).
   */
  readonly setOwner: (owner: LogOwner | undefined) => void

  /** Replaces the configuration (AlterConfigs); takes effect from the next operation. */
  readonly updateConfig: (config: LogConfig) => Effect.Effect<void>

  /** Flushes everything, writes the clean-shutdown marker and closes the files. Later calls fail. */
  readonly close: Effect.Effect<void, KafkaStorageError>

  /** Closes the files and removes the partition folder. */
  readonly delete: Effect.Effect<void, KafkaStorageError>
}

/**
 * Opens the log in `dir` (creating it when missing), recovering it after an unclean shutdown.
 * Usually reached through {@link LogStorage}; exposed for tools and tests that bring their own disk.
 */
export const open = (options: {
  readonly dir: string
  readonly config: LogConfig
  readonly disk?: Disk.Disk
}): Effect.Effect<Log, KafkaStorageError> =>
  internal.open({ dir: options.dir, config: options.config, disk: options.disk ?? Disk.node })
