/**
 * One client connection: frames in, requests dispatched concurrently, responses out in request order.
 *
 * Socket callbacks only decode frames and put them in the inbox. The connection fiber takes frames
 * in arrival order, decodes header and body, appends a response slot to the outbox and runs the
 * handler in its own fiber. Whoever fills a slot flushes the outbox synchronously: every filled slot
 * at its head is written, so responses leave in request order whatever order handlers finish in, with
 * no writer fiber or per-request `Deferred` in between. Reading pauses while `maxInFlight` requests
 * are received but not yet answered.
 *
 * Closing: a frame outside the size limits, an undecodable header or body, an unknown api key or an
 * unsupported version (except ApiVersions) closes the connection once the responses to earlier
 * requests are written; so does a failure of a request that gets no response (Produce acks=0).
 */
import type * as net from "node:net";
import { Effect } from "effect";
import type { BufferPool } from "../../log/BufferPool.js";
import type { BrokerInfo } from "../Handler.js";
import type { Registry } from "../KafkaApis.js";
/** Smallest request frame: api key, api version and correlation id (header v0). */
export declare const MIN_REQUEST_SIZE = 8;
/** Settings of one connection. */
export interface ConnectionOptions<R> {
    readonly socket: net.Socket;
    readonly id: string;
    readonly registry: Registry<R>;
    readonly broker: BrokerInfo;
    readonly maxFrameSize: number;
    readonly maxInFlight: number;
    /** Close the connection after this long without traffic and nothing in flight (`connections.max.idle.ms`). */
    readonly idleTimeoutMs: number;
    /** Buffers for the log reads of Fetch responses, given back once a response is on the socket. */
    readonly readBuffers?: BufferPool;
}
/** The server's handle on a running connection. */
export interface ConnectionHandle {
    /** Stops reading; requests already received are answered, then the socket is closed. */
    readonly shutdown: () => void;
}
/** Serves one socket until it closes or is shut down; `onHandle` receives the shutdown handle first. */
export declare const serve: <R>(options: ConnectionOptions<R>, onHandle: (handle: ConnectionHandle) => void) => Effect.Effect<void, never, R>;
