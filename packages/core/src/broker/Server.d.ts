import { Context, Effect, Schema, type Scope } from "effect";
import * as BrokerConfig from "./BrokerConfig.js";
import type { BrokerInfo } from "./Handler.js";
import type { Registry } from "./KafkaApis.js";
declare const Server_base: Context.TagClass<Server, "@eddy/core/broker/Server", {
    /** The address the socket is bound to. */
    readonly address: {
        readonly host: string;
        readonly port: number;
    };
    /** What clients are told (advertised listener, cluster id, node id). */
    readonly broker: BrokerInfo;
    /** Connections currently open. */
    readonly connectionCount: Effect.Effect<number>;
}>;
/** The bound address and broker identity of a running server. */
export declare class Server extends Server_base {
}
declare const ServerError_base: Schema.TaggedErrorClass<ServerError, "ServerError", {
    readonly _tag: Schema.tag<"ServerError">;
} & {
    message: typeof Schema.String;
}>;
/** The listener could not be bound. */
export declare class ServerError extends ServerError_base {
}
/** Settings of {@link make}. */
export interface ServerOptions<R> {
    readonly config: BrokerConfig.BrokerConfig;
    readonly clusterId: string;
    readonly nodeId: number;
    readonly registry: Registry<R>;
    /** How long shutdown waits for in-flight requests before closing sockets (default 10 s). */
    readonly drainTimeoutMs?: number;
}
/** Binds the listener of `options.config` and serves connections until the scope closes. */
export declare const make: <R>(options: ServerOptions<R>) => Effect.Effect<Server["Type"], ServerError, R | Scope.Scope>;
export {};
