/**
 * Test helpers: a real broker on an ephemeral port over a temporary data dir, and a raw Kafka client
 * that sends framed requests and reads framed responses.
 */
import * as child from "node:child_process";
import * as net from "node:net";
import { Context, Effect, type Scope } from "effect";
import * as Broker from "../../src/broker/Broker.js";
import * as BrokerConfig from "../../src/broker/BrokerConfig.js";
import type { AnyHandler } from "../../src/broker/Handler.js";
import * as KafkaApis from "../../src/broker/KafkaApis.js";
import * as PartitionManager from "../../src/broker/PartitionManager.js";
import * as Server from "../../src/broker/Server.js";
import * as TopicRegistry from "../../src/broker/TopicRegistry.js";
import type { ApiKey, RequestTypes, ResponseTypes } from "../../src/protocol/generated/ApiKey.js";
/** A fresh temporary directory, removed when the scope closes. */
export declare const tempDir: Effect.Effect<string, never, Scope.Scope>;
/**
 * Starts a broker in a child process (`fixtures/brokerProcess.ts`) over `dir` with the given broker
 * settings; it is SIGKILLed with the scope if still running.
 */
export declare const spawnBrokerProcess: (dir: string, props?: Record<string, string>) => Effect.Effect<{
    readonly proc: child.ChildProcess;
    readonly port: number;
}, Error, Scope.Scope>;
/** Waits for a child process to exit; its exit code (null when killed by a signal). */
export declare const processExited: (proc: child.ChildProcess) => Effect.Effect<number | null>;
/** Broker settings for tests: 127.0.0.1, port 0, the given data dir. */
export declare const testConfig: (dir: string, extra?: Record<string, string>) => Effect.Effect<BrokerConfig.BrokerConfig, BrokerConfig.BrokerConfigError, never>;
/** Starts a broker in the scope over `dir` (a new temp dir when omitted). */
export declare const startBroker: (options?: {
    readonly dir?: string;
    readonly extra?: Record<string, string>;
    readonly handlers?: ReadonlyArray<AnyHandler<KafkaApis.Requirements>>;
    readonly withoutApis?: ReadonlyArray<number>;
}) => Effect.Effect<{
    broker: {
        readonly config: BrokerConfig.BrokerConfig;
        readonly nodeId: number;
        readonly clusterId: string;
        readonly dataDir: string;
        readonly address: {
            readonly host: string;
            readonly port: number;
        };
        readonly advertised: {
            readonly host: string;
            readonly port: number;
        };
    };
    dir: string;
    context: Context.Context<PartitionManager.PartitionManager | import("../../src/broker/ReplicaManager.js").ReplicaManager | TopicRegistry.TopicRegistry | import("../../src/broker/GroupCoordinator.js").GroupCoordinator | import("../../src/broker/TransactionCoordinator.js").TransactionCoordinator | Broker.Broker>;
}, BrokerConfig.BrokerConfigError | Broker.StartError, Scope.Scope>;
/** A raw client connection. */
export interface RawClient {
    readonly socket: net.Socket;
    /** Sends one request and awaits its response (responses are matched in order). */
    readonly send: <K extends ApiKey>(apiKey: K, version: number, body: RequestTypes[K], clientId?: string | null) => Effect.Effect<ResponseTypes[K]>;
    /** Writes raw bytes. */
    readonly write: (bytes: Uint8Array) => Effect.Effect<void>;
    /** The next raw frame received (without its size). */
    readonly nextFrame: Effect.Effect<Uint8Array>;
    /** Resolves when the broker closes the connection. */
    readonly closed: Effect.Effect<void>;
    readonly nextCorrelationId: () => number;
}
/** Connects to `port` on 127.0.0.1; closed with the scope. */
export declare const connect: (port: number) => Effect.Effect<RawClient, never, Scope.Scope>;
/**
 * A bare server (memory partitions, a temp data dir) serving exactly `handlers`: connection tests
 * do not depend on which apis the broker registers.
 */
export declare const startServer: (handlers: ReadonlyArray<AnyHandler<TopicRegistry.TopicRegistry | PartitionManager.PartitionManager>>, extra?: Record<string, string>) => Effect.Effect<{
    readonly address: {
        readonly host: string;
        readonly port: number;
    };
    readonly broker: import("../../src/broker/Handler.js").BrokerInfo;
    readonly connectionCount: Effect.Effect<number>;
}, import("../../src/log/LogError.js").KafkaStorageError | BrokerConfig.BrokerConfigError | Server.ServerError, Scope.Scope>;
