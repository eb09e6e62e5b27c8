/**
 * A request handler: one per api key (`broker/handlers/<api>.ts`), declaring the versions it serves.
 *
 * The connection decodes the request, runs `handle` with a {@link RequestContext}, and encodes the
 * response in the request's version. When `handle` fails or dies, the connection asks
 * `errorResponse` for a response carrying the error code (UNKNOWN_SERVER_ERROR for defects, which
 * are logged); without `errorResponse` it closes the connection.
 */
import type { Effect } from "effect"
import type { ReadBuffers } from "../log/BufferPool.js"
import type * as ApiKeys from "../protocol/generated/ApiKey.js"
import type * as BrokerConfig from "./BrokerConfig.js"
import type { WireError } from "./BrokerError.js"
import type { ControllerHandle } from "./internal/controller/controller.js"
import type { PartitionState } from "./MetadataRecords.js"
import type { Recorder } from "./Metrics.js"

/** The version range of one api key that the broker serves. */
export interface ApiVersionRange {
  readonly apiKey: number
  readonly minVersion: number
  readonly maxVersion: number
}

/** A live broker as Metadata, DescribeCluster and FindCoordinator describe it. */
export interface BrokerEndpoint {
  readonly nodeId: number
  readonly host: string
  readonly port: number
  readonly rack: string | null
}

/** The cluster as this broker sees it through the metadata store (partition records, the controller). */
export interface ClusterView {
  /** The elected controller's node id (-1 while there is none). */
  readonly controllerId: () => number
  /** A topic's partition records by partition (holes for records not seen yet); undefined for an unknown topic. */
  readonly partitions: (topic: string) => ReadonlyArray<PartitionState | undefined> | undefined
  /** Every partition record held. */
  readonly all: () => ReadonlyArray<PartitionState>
  /** The controller when this broker is it. */
  readonly controller: () => ControllerHandle | undefined
}

/** What a handler knows of the broker serving it. */
export interface BrokerInfo {
  readonly nodeId: number
  readonly clusterId: string
  /** The host clients are told to connect to (advertised listener). */
  readonly host: string
  /** The port clients are told to connect to (the bound port when the listener asked for port 0). */
  readonly port: number
  readonly rack: string | null
  /** The live brokers registered in the metadata store, by node id (this one included). */
  readonly brokers: () => ReadonlyArray<BrokerEndpoint>
  /** The cluster as the metadata store has it; undefined until the broker joined it (then: this broker alone). */
  readonly cluster: () => ClusterView | undefined
  readonly config: BrokerConfig.BrokerConfig
  /** Records produce/fetch traffic when the broker serves metrics; absent otherwise. */
  readonly metrics?: Recorder | undefined
}

/** Per-request context handed to a handler. */
export interface RequestContext {
  readonly apiKey: number
  readonly apiVersion: number
  readonly correlationId: number
  readonly clientId: string | null
  /** A connection id for logs: `remoteHost:remotePort-n`. */
  readonly connectionId: string
  /** The `client_software_name` and version the connection sent in ApiVersions v3+, if any. */
  readonly clientSoftware: { readonly name: string; readonly version: string } | undefined
  readonly broker: BrokerInfo
  /** The api keys and versions this broker serves (derived from the registered handlers). */
  readonly apis: ReadonlyArray<ApiVersionRange>
  /** Set by ApiVersions v3+ to record the client's software name/version on the connection. */
  readonly setClientSoftware: (name: string, version: string) => void
  /**
   * Where log reads for this request's response land: buffers the connection gives back to its pool once
   * the response is on the socket, so the handler must not keep the bytes beyond its response. Present
   * for Fetch.
   */
  readonly readBuffers?: ReadBuffers | undefined
}

/** A value a handler returns instead of a response when none must be sent (Produce with acks=0). */
export const NoResponse: unique symbol = Symbol.for("@eddy/core/broker/Handler/NoResponse")
/** The type of {@link NoResponse}. */
export type NoResponse = typeof NoResponse

/** A handler for api key `K`, needing services `R`. */
export interface Handler<K extends ApiKeys.ApiKey, R = never> {
  readonly apiKey: K
  /** Lowest version served. */
  readonly minVersion: number
  /** Highest version served (at most what the generated codec supports). */
  readonly maxVersion: number
  /** Serves one request. Typed failures carry a Kafka `errorCode` and go through `errorResponse`. */
  readonly handle: (
    request: ApiKeys.RequestTypes[K],
    context: RequestContext
  ) => Effect.Effect<ApiKeys.ResponseTypes[K] | NoResponse, unknown, R>
  /** A response that reports `error` for every part of the request; absent when the api has no error code. */
  readonly errorResponse?: (
    request: ApiKeys.RequestTypes[K],
    error: WireError,
    context: RequestContext
  ) => ApiKeys.ResponseTypes[K]
  /**
   * An upper bound of the response's size in bytes, for apis whose answers can be large (Fetch): the connection
   * reserves it in its response budget (`queued.max.response.bytes`) before running the request. Absent: small.
   */
  readonly responseBytes?: (request: ApiKeys.RequestTypes[K], version: number) => number
}

/** Any handler, erased for the registry. */
export interface AnyHandler<R = never> {
  readonly apiKey: number
  readonly minVersion: number
  readonly maxVersion: number
  readonly handle: (request: never, context: RequestContext) => Effect.Effect<unknown, unknown, R>
  readonly errorResponse?: (request: never, error: WireError, context: RequestContext) => unknown
  readonly responseBytes?: (request: never, version: number) => number
}

/** Declares a handler (identity with the types checked). */
export const make = <K extends ApiKeys.ApiKey, R = never>(handler: Handler<K, R>): Handler<K, R> => handler
