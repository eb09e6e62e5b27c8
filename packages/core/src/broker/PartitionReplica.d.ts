import { Data, Deferred, Effect } from "effect";
import type { ReadBuffers } from "../log/BufferPool.js";
import type { Disk } from "../log/internal/disk.js";
import type { EpochEndOffset } from "../log/LeaderEpochCache.js";
import type { Log, LogConfig, ReadResult } from "../log/Log.js";
import type { LogError, KafkaStorageError as LogStorageError, OffsetOutOfRangeError } from "../log/LogError.js";
import type { TopicPartition } from "../log/LogStorage.js";
import { InvalidProducerEpoch, InvalidTxnState, OutOfOrderSequenceNumber, ReplicaBusy, type RequestTimedOut, UnknownTopicOrPartition } from "./PartitionError.js";
export type { TopicPartition } from "../log/LogStorage.js";
/** What an acknowledged append reports. */
export interface AppendResult {
    readonly baseOffset: number;
    readonly lastOffset: number;
    /** The broker time stamped on LogAppendTime topics, else -1. */
    readonly logAppendTime: number;
    readonly logStartOffset: number;
}
/** Why an append can fail (RequestTimedOut: a waiting request's deadline, set by its handler, passed). */
export type AppendError = LogError | ReplicaBusy | RequestTimedOut | UnknownTopicOrPartition | OutOfOrderSequenceNumber | InvalidProducerEpoch | InvalidTxnState;
/** A transaction marker to write (from the transaction coordinator). */
export interface TxnMarker {
    readonly producerId: number;
    readonly producerEpoch: number;
    readonly commit: boolean;
    readonly coordinatorEpoch: number;
}
/** Why a delete-records can fail. */
export type DeleteRecordsError = OffsetOutOfRangeError | LogStorageError | ReplicaBusy | UnknownTopicOrPartition;
/** The commands a replica's mailbox carries. */
export type Command = Data.TaggedEnum<{
    /** Appends whole batches (already validated) with offsets assigned by the log. */
    Append: {
        readonly batches: ReadonlyArray<Uint8Array>;
        readonly reply: Deferred.Deferred<AppendResult, AppendError>;
    };
    /** Advances the log start offset (`offset` -1 means the high watermark). */
    DeleteRecords: {
        readonly offset: number;
        readonly reply: Deferred.Deferred<number, DeleteRecordsError>;
    };
    /** Parks a fetch waiter until the high watermark passes `fetchOffset` (or the waiter is done elsewhere). */
    Park: {
        readonly fetchOffset: number;
        readonly waiter: Deferred.Deferred<void>;
    };
    /** Replaces the log configuration. */
    UpdateConfig: {
        readonly config: LogConfig;
        readonly reply: Deferred.Deferred<void>;
    };
    /** Writes a COMMIT or ABORT marker for a producer's transaction. */
    Marker: {
        readonly marker: TxnMarker;
        readonly reply: Deferred.Deferred<AppendResult, AppendError>;
    };
    /** Writes a producer-state snapshot (at shutdown). */
    Snapshot: {
        readonly reply: Deferred.Deferred<void>;
    };
}>;
/** Constructors and matchers of {@link Command}. */
export declare const Command: {
    readonly Append: Data.Case.Constructor<{
        readonly _tag: "Append";
        readonly batches: ReadonlyArray<Uint8Array>;
        readonly reply: Deferred.Deferred<AppendResult, AppendError>;
    }, "_tag">;
    readonly DeleteRecords: Data.Case.Constructor<{
        readonly _tag: "DeleteRecords";
        readonly offset: number;
        readonly reply: Deferred.Deferred<number, DeleteRecordsError>;
    }, "_tag">;
    readonly Park: Data.Case.Constructor<{
        readonly _tag: "Park";
        readonly fetchOffset: number;
        readonly waiter: Deferred.Deferred<void>;
    }, "_tag">;
    readonly UpdateConfig: Data.Case.Constructor<{
        readonly _tag: "UpdateConfig";
        readonly config: LogConfig;
        readonly reply: Deferred.Deferred<void>;
    }, "_tag">;
    readonly Marker: Data.Case.Constructor<{
        readonly _tag: "Marker";
        readonly marker: TxnMarker;
        readonly reply: Deferred.Deferred<AppendResult, AppendError>;
    }, "_tag">;
    readonly Snapshot: Data.Case.Constructor<{
        readonly _tag: "Snapshot";
        readonly reply: Deferred.Deferred<void>;
    }, "_tag">;
    readonly $is: <Tag extends "Append" | "DeleteRecords" | "Park" | "UpdateConfig" | "Marker" | "Snapshot">(tag: Tag) => (u: unknown) => u is Extract<{
        readonly _tag: "Append";
        readonly batches: ReadonlyArray<Uint8Array>;
        readonly reply: Deferred.Deferred<AppendResult, AppendError>;
    }, {
        readonly _tag: Tag;
    }> | Extract<{
        readonly _tag: "DeleteRecords";
        readonly offset: number;
        readonly reply: Deferred.Deferred<number, DeleteRecordsError>;
    }, {
        readonly _tag: Tag;
    }> | Extract<{
        readonly _tag: "Park";
        readonly fetchOffset: number;
        readonly waiter: Deferred.Deferred<void>;
    }, {
        readonly _tag: Tag;
    }> | Extract<{
        readonly _tag: "UpdateConfig";
        readonly config: LogConfig;
        readonly reply: Deferred.Deferred<void>;
    }, {
        readonly _tag: Tag;
    }> | Extract<{
        readonly _tag: "Marker";
        readonly marker: TxnMarker;
        readonly reply: Deferred.Deferred<AppendResult, AppendError>;
    }, {
        readonly _tag: Tag;
    }> | Extract<{
        readonly _tag: "Snapshot";
        readonly reply: Deferred.Deferred<void>;
    }, {
        readonly _tag: Tag;
    }>;
    readonly $match: {
        <const Cases extends {
            readonly Append: (args: {
                readonly _tag: "Append";
                readonly batches: ReadonlyArray<Uint8Array>;
                readonly reply: Deferred.Deferred<AppendResult, AppendError>;
            }) => any;
            readonly DeleteRecords: (args: {
                readonly _tag: "DeleteRecords";
                readonly offset: number;
                readonly reply: Deferred.Deferred<number, DeleteRecordsError>;
            }) => any;
            readonly Park: (args: {
                readonly _tag: "Park";
                readonly fetchOffset: number;
                readonly waiter: Deferred.Deferred<void>;
            }) => any;
            readonly UpdateConfig: (args: {
                readonly _tag: "UpdateConfig";
                readonly config: LogConfig;
                readonly reply: Deferred.Deferred<void>;
            }) => any;
            readonly Marker: (args: {
                readonly _tag: "Marker";
                readonly marker: TxnMarker;
                readonly reply: Deferred.Deferred<AppendResult, AppendError>;
            }) => any;
            readonly Snapshot: (args: {
                readonly _tag: "Snapshot";
                readonly reply: Deferred.Deferred<void>;
            }) => any;
        }>(cases: Cases & { [K in Exclude<keyof Cases, "Append" | "DeleteRecords" | "Park" | "UpdateConfig" | "Marker" | "Snapshot">]: never; }): (value: {
            readonly _tag: "Append";
            readonly batches: ReadonlyArray<Uint8Array>;
            readonly reply: Deferred.Deferred<AppendResult, AppendError>;
        } | {
            readonly _tag: "DeleteRecords";
            readonly offset: number;
            readonly reply: Deferred.Deferred<number, DeleteRecordsError>;
        } | {
            readonly _tag: "Park";
            readonly fetchOffset: number;
            readonly waiter: Deferred.Deferred<void>;
        } | {
            readonly _tag: "UpdateConfig";
            readonly config: LogConfig;
            readonly reply: Deferred.Deferred<void>;
        } | {
            readonly _tag: "Marker";
            readonly marker: TxnMarker;
            readonly reply: Deferred.Deferred<AppendResult, AppendError>;
        } | {
            readonly _tag: "Snapshot";
            readonly reply: Deferred.Deferred<void>;
        }) => import("effect/Unify").Unify<ReturnType<Cases["Append" | "DeleteRecords" | "Park" | "UpdateConfig" | "Marker" | "Snapshot"]>>;
        <const Cases extends {
            readonly Append: (args: {
                readonly _tag: "Append";
                readonly batches: ReadonlyArray<Uint8Array>;
                readonly reply: Deferred.Deferred<AppendResult, AppendError>;
            }) => any;
            readonly DeleteRecords: (args: {
                readonly _tag: "DeleteRecords";
                readonly offset: number;
                readonly reply: Deferred.Deferred<number, DeleteRecordsError>;
            }) => any;
            readonly Park: (args: {
                readonly _tag: "Park";
                readonly fetchOffset: number;
                readonly waiter: Deferred.Deferred<void>;
            }) => any;
            readonly UpdateConfig: (args: {
                readonly _tag: "UpdateConfig";
                readonly config: LogConfig;
                readonly reply: Deferred.Deferred<void>;
            }) => any;
            readonly Marker: (args: {
                readonly _tag: "Marker";
                readonly marker: TxnMarker;
                readonly reply: Deferred.Deferred<AppendResult, AppendError>;
            }) => any;
            readonly Snapshot: (args: {
                readonly _tag: "Snapshot";
                readonly reply: Deferred.Deferred<void>;
            }) => any;
        }>(value: {
            readonly _tag: "Append";
            readonly batches: ReadonlyArray<Uint8Array>;
            readonly reply: Deferred.Deferred<AppendResult, AppendError>;
        } | {
            readonly _tag: "DeleteRecords";
            readonly offset: number;
            readonly reply: Deferred.Deferred<number, DeleteRecordsError>;
        } | {
            readonly _tag: "Park";
            readonly fetchOffset: number;
            readonly waiter: Deferred.Deferred<void>;
        } | {
            readonly _tag: "UpdateConfig";
            readonly config: LogConfig;
            readonly reply: Deferred.Deferred<void>;
        } | {
            readonly _tag: "Marker";
            readonly marker: TxnMarker;
            readonly reply: Deferred.Deferred<AppendResult, AppendError>;
        } | {
            readonly _tag: "Snapshot";
            readonly reply: Deferred.Deferred<void>;
        }, cases: Cases & { [K in Exclude<keyof Cases, "Append" | "DeleteRecords" | "Park" | "UpdateConfig" | "Marker" | "Snapshot">]: never; }): import("effect/Unify").Unify<ReturnType<Cases["Append" | "DeleteRecords" | "Park" | "UpdateConfig" | "Marker" | "Snapshot"]>>;
    };
};
/** A running partition replica, as seen by handlers. */
export interface PartitionReplica {
    readonly topicPartition: TopicPartition;
    /** The partition's log; read it directly, mutate it only through the actor. */
    readonly log: Log;
    /** The leader epoch (0 on a single node). */
    readonly leaderEpoch: number;
    /** The high watermark as last published by the actor. */
    readonly highWatermark: () => number;
    /** The last stable offset: the first offset of the oldest open transaction, at most the high watermark. */
    readonly lastStableOffset: () => number;
    /** Aborted transactions overlapping `[fetchOffset, upperOffset)`, for a read_committed fetch. */
    readonly abortedTransactions: (fetchOffset: number, upperOffset: number) => ReadonlyArray<{
        readonly producerId: number;
        readonly firstOffset: number;
    }>;
    /**
     * Appends a COMMIT or ABORT control batch for the producer's transaction (written even when the
     * producer has no open transaction here, as Kafka does); completes when durable and under the high
     * watermark. Fails with InvalidProducerEpoch when `producerEpoch` is older than the stored epoch.
     */
    readonly writeTxnMarker: (marker: TxnMarker) => Effect.Effect<AppendResult, AppendError>;
    /** Writes a producer-state snapshot beside the log (clean shutdown). */
    readonly snapshot: Effect.Effect<void>;
    /** Appends validated batches; completes once they are durable per the flush policy and under the high watermark. */
    readonly append: (batches: ReadonlyArray<Uint8Array>) => Effect.Effect<AppendResult, AppendError>;
    /**
     * Queues an append and returns its reply without waiting for it, so a request can queue appends to
     * several partitions and then await them all without a fiber per partition.
     */
    readonly offerAppend: (batches: ReadonlyArray<Uint8Array>) => Effect.Effect<Deferred.Deferred<AppendResult, AppendError>, ReplicaBusy | UnknownTopicOrPartition>;
    /** DeleteRecords: advances the log start offset, at most to the high watermark; -1 means the high watermark. */
    readonly deleteRecords: (offset: number) => Effect.Effect<number, DeleteRecordsError>;
    /** Completes `waiter` once the high watermark is above `fetchOffset` (immediately if it already is). */
    readonly park: (fetchOffset: number, waiter: Deferred.Deferred<void>) => Effect.Effect<void, ReplicaBusy>;
    /** Applies a new log configuration. */
    readonly updateConfig: (config: LogConfig) => Effect.Effect<void, ReplicaBusy | UnknownTopicOrPartition>;
    /**
     * Whole batches from the one holding `offset`, up to the high watermark (or `maxOffset`); the bytes
     * land in `buffers` when given (a request's lease: see `ReadOptions.buffers`).
     */
    readonly read: (offset: number, maxBytes: number, minOneMessage: boolean, maxOffset?: number, buffers?: ReadBuffers) => Effect.Effect<ReadResult, OffsetOutOfRangeError | LogStorageError>;
    /** OffsetForLeaderEpoch against the log's epoch cache. */
    readonly endOffsetForEpoch: (epoch: number) => Effect.Effect<EpochEndOffset>;
    /** Refuses every later command and fails those still queued (the partition is going away). */
    readonly stop: Effect.Effect<void>;
}
/** Options of {@link make}. */
export interface ReplicaOptions {
    /** Commands the mailbox holds before refusing more (default 4096). */
    readonly mailboxCapacity?: number;
    /** Leader epoch to serve (default 0). */
    readonly leaderEpoch?: number;
    /** Where producer-state snapshots live (the log's disk); without it they are not written. */
    readonly disk?: Disk;
    /** `producer.id.expiration.ms` (default 86400000). */
    readonly producerIdExpirationMs?: number;
}
/**
 * Builds a replica over an open log. Returns the handle and `run`, the actor's supervised loop, which
 * the caller forks (the ReplicaManager runs it in a FiberMap under the broker's scope).
 */
export declare const make: (topicPartition: TopicPartition, log: Log, options?: ReplicaOptions) => Effect.Effect<{
    readonly replica: PartitionReplica;
    readonly run: Effect.Effect<never>;
}>;
