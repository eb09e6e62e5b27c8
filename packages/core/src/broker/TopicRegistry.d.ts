import { Context, Effect, Layer } from "effect";
import * as BrokerConfig from "./BrokerConfig.js";
import { type BrokerError, type KafkaStorageError } from "./BrokerError.js";
import { PartitionManager } from "./PartitionManager.js";
/** One topic as the registry keeps it. */
export interface Topic {
    readonly name: string;
    /** Kafka's string form of the 16-byte topic id. */
    readonly topicId: string;
    readonly partitions: number;
    readonly replicationFactor: number;
    /** Topic-level config overrides (normalized values), by Kafka name. */
    readonly configs: Readonly<Record<string, string>>;
    readonly internal: boolean;
}
/** A topic creation request, in CreateTopics terms (-1 means the broker default). */
export interface CreateTopic {
    readonly name: string;
    readonly numPartitions: number;
    readonly replicationFactor: number;
    /** Manual assignment: partition index -> broker ids. When non-empty, both counts must be -1. */
    readonly assignments?: ReadonlyArray<{
        readonly partitionIndex: number;
        readonly brokerIds: ReadonlyArray<number>;
    }>;
    readonly configs?: ReadonlyArray<{
        readonly name: string;
        readonly value: string | null;
    }>;
}
/** An IncrementalAlterConfigs operation (SET 0, DELETE 1, APPEND 2, SUBTRACT 3). */
export interface AlterOp {
    readonly name: string;
    readonly op: 0 | 1 | 2 | 3;
    readonly value: string | null;
}
/** Kafka's internal topics. */
export declare const CONSUMER_OFFSETS = "__consumer_offsets";
export declare const TRANSACTION_STATE = "__transaction_state";
/** True for Kafka's internal topic names. */
export declare const isInternal: (name: string) => boolean;
/** Checks a topic name per Kafka's rules; returns the problem or undefined when legal. */
export declare const validateName: (name: string) => string | undefined;
/** The collision key of a topic name: `.` and `_` are the same in metric names. */
export declare const collisionKey: (name: string) => string;
declare const TopicRegistry_base: Context.TagClass<TopicRegistry, "@eddy/core/broker/TopicRegistry", {
    /** The cluster id, stable across restarts (from `meta.properties`). */
    readonly clusterId: string;
    /** This node's id. */
    readonly nodeId: number;
    /** The broker configuration the registry resolves defaults from. */
    readonly config: BrokerConfig.BrokerConfig;
    /** All topics, sorted by name. */
    readonly list: Effect.Effect<ReadonlyArray<Topic>>;
    /** A topic by name. */
    readonly get: (name: string) => Effect.Effect<Topic | undefined>;
    /** A topic by id (string form). */
    readonly getById: (topicId: string) => Effect.Effect<Topic | undefined>;
    /** Creates a topic (or only validates it), creating its partition logs. */
    readonly create: (request: CreateTopic, options?: {
        readonly validateOnly?: boolean;
        readonly internal?: boolean;
    }) => Effect.Effect<Topic, BrokerError>;
    /** Creates a topic for Metadata auto-creation (internal topics get their own defaults). */
    readonly autoCreate: (name: string) => Effect.Effect<Topic, BrokerError>;
    /** Deletes a topic and its partition logs. */
    readonly delete: (name: string) => Effect.Effect<Topic, BrokerError>;
    /** Deletes a topic by id. */
    readonly deleteById: (topicId: string) => Effect.Effect<Topic, BrokerError>;
    /** Grows a topic to `count` partitions (increase only). */
    readonly createPartitions: (name: string, count: number, options?: {
        readonly validateOnly?: boolean;
        readonly assignments?: number | undefined;
    }) => Effect.Effect<Topic, BrokerError>;
    /** Replaces all of a topic's config overrides (AlterConfigs). */
    readonly alterConfigs: (name: string, configs: ReadonlyArray<{
        readonly name: string;
        readonly value: string | null;
    }>, options?: {
        readonly validateOnly?: boolean;
    }) => Effect.Effect<Topic, BrokerError>;
    /** Applies SET/DELETE/APPEND/SUBTRACT operations to a topic's overrides (IncrementalAlterConfigs). */
    readonly incrementalAlterConfigs: (name: string, ops: ReadonlyArray<AlterOp>, options?: {
        readonly validateOnly?: boolean;
    }) => Effect.Effect<Topic, BrokerError>;
}>;
/** The broker's topic metadata service. */
export declare class TopicRegistry extends TopicRegistry_base {
}
/** Reads or creates `meta.properties` (cluster id, node id, directory id); fails on a node id mismatch. */
export declare const loadMetaProperties: (config: BrokerConfig.BrokerConfig) => Effect.Effect<{
    readonly clusterId: string;
    readonly nodeId: number;
}, KafkaStorageError>;
/** Builds the registry over the data dir of `config`, loading stored topics and opening their partitions. */
export declare const make: (config: BrokerConfig.BrokerConfig) => Effect.Effect<TopicRegistry["Type"], KafkaStorageError, PartitionManager>;
/** The registry as a layer over `config`'s data directory. */
export declare const layer: (config: BrokerConfig.BrokerConfig) => Layer.Layer<TopicRegistry, KafkaStorageError, PartitionManager>;
export {};
