import { Context, Effect, Layer, Option, type Scope } from "effect";
import * as Disk from "./internal/disk.js";
import type { CleanerStats, Log } from "./Log.js";
import * as LogConfig from "./LogConfig.js";
import type { KafkaStorageError } from "./LogError.js";
/** A topic partition. */
export interface TopicPartition {
    readonly topic: string;
    readonly partition: number;
}
/** The folder name of a partition: `<topic>-<partition>`, as in Kafka. */
export declare const folderName: (tp: TopicPartition) => string;
/** The partition a folder name stands for, if it is one. */
export declare const parseFolderName: (name: string) => TopicPartition | undefined;
declare const LogStorage_base: Context.TagClass<LogStorage, "@eddy/core/log/LogStorage", LogStorage.Service>;
/** The log storage service. */
export declare class LogStorage extends LogStorage_base {
}
/** Types of the log storage service. */
export declare namespace LogStorage {
    /** The service. */
    interface Service {
        /** The data folder. */
        readonly dataDir: string;
        /** The disk the logs live on, for files their owners keep beside them (producer-state snapshots). */
        readonly disk: Disk.Disk;
        /**
         * Opens a partition's log, creating it when missing and recovering it after an unclean shutdown;
         * returns the already open log when it is. `config` overrides the storage's topic defaults.
         */
        readonly open: (tp: TopicPartition, config?: Partial<LogConfig.LogConfig>) => Effect.Effect<Log, KafkaStorageError>;
        /** The open log of a partition, if any. */
        readonly get: (tp: TopicPartition) => Effect.Effect<Option.Option<Log>>;
        /** The partitions with a folder in the data folder. */
        readonly list: Effect.Effect<ReadonlyArray<TopicPartition>, KafkaStorageError>;
        /** Closes a partition's log cleanly (it can be opened again). */
        readonly close: (tp: TopicPartition) => Effect.Effect<void, KafkaStorageError>;
        /** Deletes a partition's log and folder. */
        readonly delete: (tp: TopicPartition) => Effect.Effect<void, KafkaStorageError>;
        /** Runs retention (and the `flush.ms` check) over every open log now; returns the segments deleted. */
        readonly runRetention: Effect.Effect<number>;
        /** Runs one compaction pass over every open compacted log now. */
        readonly runCleaner: Effect.Effect<CleanerStats>;
        /** Flushes every open log. */
        readonly flushAll: Effect.Effect<void, KafkaStorageError>;
    }
}
/** Builds the service over a disk; the scope closes every log cleanly and stops the schedules. */
export declare const make: (options: {
    readonly disk: Disk.Disk;
    readonly config?: Partial<LogConfig.StorageConfig>;
}) => Effect.Effect<LogStorage.Service, KafkaStorageError, Scope.Scope>;
/** The file-based storage under `log.dirs`. */
export declare const layer: (config?: Partial<LogConfig.StorageConfig>) => Layer.Layer<LogStorage, KafkaStorageError>;
/** The same engine over an in-memory disk (tests, simulations): nothing survives the layer. */
export declare const layerMemory: (config?: Partial<LogConfig.StorageConfig>) => Layer.Layer<LogStorage, KafkaStorageError>;
export {};
