import { Context, Effect, Layer } from "effect";
import type * as LogConfig from "../log/LogConfig.js";
import { LogStorage } from "../log/LogStorage.js";
import type { KafkaStorageError } from "./BrokerError.js";
/** The partitions a topic should have, with the effective log configuration. */
export interface TopicPartitions {
    readonly topic: string;
    /** The topic id in Kafka's string form (base64url of 16 bytes). */
    readonly topicId: string;
    /** Total partition count: partitions `0..count-1` must exist after the call. */
    readonly count: number;
    readonly config: LogConfig.LogConfig;
}
/** Size and lag of one hosted partition (DescribeLogDirs). */
export interface PartitionLogInfo {
    readonly topic: string;
    readonly partition: number;
    /** Bytes on disk of all the partition's segments. */
    readonly size: number;
    /** How far this replica's log end offset lags the high watermark (0 for a leader). */
    readonly offsetLag: number;
}
/** One data directory (DescribeLogDirs). */
export interface LogDirInfo {
    /** Absolute path. */
    readonly path: string;
    /** Capacity of the file system, -1 when unknown. */
    readonly totalBytes: number;
    /** Free space of the file system, -1 when unknown. */
    readonly usableBytes: number;
    readonly partitions: ReadonlyArray<PartitionLogInfo>;
}
declare const PartitionManager_base: Context.TagClass<PartitionManager, "@eddy/core/broker/PartitionManager", {
    /** Ensures partitions `0..count-1` of the topic exist (opening or creating their logs). Idempotent. */
    readonly createPartitions: (topic: TopicPartitions) => Effect.Effect<void, KafkaStorageError>;
    /** Closes and deletes every partition log of the topic. Deleting an unknown topic succeeds. */
    readonly deletePartitions: (topic: string) => Effect.Effect<void, KafkaStorageError>;
    /** Applies a new effective configuration to the topic's open logs. */
    readonly applyConfig: (topic: string, config: LogConfig.LogConfig) => Effect.Effect<void, KafkaStorageError>;
    /** Sizes of the hosted partitions, per data directory. */
    readonly logDirInfo: Effect.Effect<ReadonlyArray<LogDirInfo>, KafkaStorageError>;
}>;
/** Creates, deletes and configures partition logs on behalf of the topic registry. */
export declare class PartitionManager extends PartitionManager_base {
}
/** A partition manager that only records which partitions exist (every size is 0). */
export declare const makeMemory: (dir?: string) => Effect.Effect<PartitionManager["Type"]>;
/** {@link makeMemory} as a layer. */
export declare const layerMemory: Layer.Layer<PartitionManager>;
/** A partition manager over the log engine: one log per partition, opened, reconfigured and deleted. */
export declare const makeLogStorage: Effect.Effect<PartitionManager["Type"], never, LogStorage>;
/** {@link makeLogStorage} as a layer (needs a `LogStorage`). */
export declare const layerLogStorage: Layer.Layer<PartitionManager, never, LogStorage>;
export {};
