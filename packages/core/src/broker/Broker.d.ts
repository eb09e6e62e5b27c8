/**
 * The broker supervisor: configuration -> data directory (created, locked) -> partition manager ->
 * topic registry -> server. Everything lives in the layer's scope; closing it shuts down in reverse:
 * stop accepting, answer in-flight requests, close sockets, close the partition logs, unlock.
 */
import { Context, Effect, Layer, type Scope } from "effect";
import * as LogStorage from "../log/LogStorage.js";
import * as BrokerConfig from "./BrokerConfig.js";
import { KafkaStorageError } from "./BrokerError.js";
import * as GroupCoordinator from "./GroupCoordinator.js";
import type { AnyHandler } from "./Handler.js";
import * as KafkaApis from "./KafkaApis.js";
import type * as PartitionManager from "./PartitionManager.js";
import * as ReplicaManager from "./ReplicaManager.js";
import * as Server from "./Server.js";
import * as TopicRegistry from "./TopicRegistry.js";
import * as TransactionCoordinator from "./TransactionCoordinator.js";
declare const Broker_base: Context.TagClass<Broker, "@eddy/core/broker/Broker", {
    readonly config: BrokerConfig.BrokerConfig;
    readonly nodeId: number;
    readonly clusterId: string;
    /** Absolute path of the data directory. */
    readonly dataDir: string;
    /** The bound address. */
    readonly address: {
        readonly host: string;
        readonly port: number;
    };
    /** The advertised address (what Metadata tells clients). */
    readonly advertised: {
        readonly host: string;
        readonly port: number;
    };
}>;
/** A running broker node. */
export declare class Broker extends Broker_base {
}
/** Options of {@link layer}. */
export interface BrokerOptions {
    /** The partition storage; defaults to {@link PartitionManager.layerLogStorage} over {@link storageLayer}. */
    readonly partitionManager?: Layer.Layer<PartitionManager.PartitionManager | ReplicaManager.ReplicaManager, KafkaStorageError>;
    /** Extra handlers (e.g. Produce/Fetch) served next to the built-in ones. */
    readonly handlers?: ReadonlyArray<AnyHandler<KafkaApis.Requirements>>;
    /** Built-in APIs (by key) not to serve, to behave like an older Kafka (client compatibility tests). */
    readonly withoutApis?: ReadonlyArray<number>;
    /** How long shutdown waits for in-flight requests. */
    readonly drainTimeoutMs?: number;
}
/** Errors that stop a broker from starting. */
export type StartError = KafkaStorageError | Server.ServerError;
/** Starts a broker in the current scope and returns its description. */
export declare const start: (config: BrokerConfig.BrokerConfig, options?: BrokerOptions) => Effect.Effect<Broker["Type"], StartError, Scope.Scope | TopicRegistry.TopicRegistry | PartitionManager.PartitionManager | ReplicaManager.ReplicaManager | GroupCoordinator.GroupCoordinator | TransactionCoordinator.TransactionCoordinator>;
/** The log engine over the data directory, with the broker's `log.*` settings as defaults. */
export declare const storageLayer: (config: BrokerConfig.BrokerConfig) => Layer.Layer<LogStorage.LogStorage, KafkaStorageError>;
/** A whole broker node as a layer: also provides its topic registry and partition manager. */
export declare const layer: (config: BrokerConfig.BrokerConfig, options?: BrokerOptions) => Layer.Layer<Broker | TopicRegistry.TopicRegistry | PartitionManager.PartitionManager | ReplicaManager.ReplicaManager | GroupCoordinator.GroupCoordinator | TransactionCoordinator.TransactionCoordinator, StartError>;
/** Runs a broker until interrupted (the CLI's entry point); shutdown is graceful. */
export declare const run: (config: BrokerConfig.BrokerConfig, options?: BrokerOptions) => Effect.Effect<never, StartError>;
export {};
