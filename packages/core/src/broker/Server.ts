/**
 * The broker's TCP server: binds the client listener, runs one connection fiber per socket and, when
 * its scope closes, shuts down gracefully (stop accepting, answer the requests already received,
 * close the sockets).
 */
import * as net from "node:net"
import { Context, Effect, FiberSet, Schema, type Scope } from "effect"
import { BufferPool } from "../log/BufferPool.js"
import * as BrokerConfig from "./BrokerConfig.js"
import type { BrokerEndpoint, BrokerInfo, ClusterView } from "./Handler.js"
import * as Connection from "./internal/connection.js"
import type { Registry } from "./KafkaApis.js"
import type { Recorder } from "./Metrics.js"

/** The bound address and broker identity of a running server. */
export class Server extends Context.Tag("@eddy/core/broker/Server")<
  Server,
  {
    /** The address the socket is bound to. */
    readonly address: { readonly host: string; readonly port: number }
    /** What clients are told (advertised listener, cluster id, node id). */
    readonly broker: BrokerInfo
    /** Connections currently open. */
    readonly connectionCount: Effect.Effect<number>
    /**
     * Bytes of answers not yet handed to the kernel plus the bounds of the requests in flight, over every
     * connection (each is bounded by `queued.max.response.bytes`).
     */
    readonly queuedResponseBytes: Effect.Effect<number>
  }
>() {}

/** The listener could not be bound. */
export class ServerError extends Schema.TaggedError<ServerError>()("ServerError", {
  message: Schema.String
}) {}

/** Settings of {@link make}. */
export interface ServerOptions<R> {
  readonly config: BrokerConfig.BrokerConfig
  readonly clusterId: string
  readonly nodeId: number
  readonly registry: Registry<R>
  /** How long shutdown waits for in-flight requests before closing sockets (default 10 s). */
  readonly drainTimeoutMs?: number
  /** Records request and traffic metrics (the broker serves metrics); nothing is recorded without it. */
  readonly metrics?: Recorder
  /** The live brokers (the metadata store's list); undefined, or no option: this broker alone. */
  readonly brokers?: () => ReadonlyArray<BrokerEndpoint> | undefined
  /** The cluster view (partition records, the controller); undefined, or no option: this broker alone. */
  readonly cluster?: () => ClusterView | undefined
}

/** Binds the listener of `options.config` and serves connections until the scope closes. */
export const make = <R>(options: ServerOptions<R>): Effect.Effect<Server["Type"], ServerError, R | Scope.Scope> =>
  Effect.gen(function* () {
    const { config, registry } = options
    const listener = yield* Effect.try({
      try: () => BrokerConfig.listener(config),
      catch: (e) => new ServerError({ message: (e as Error).message })
    })
    const maxFrameSize = BrokerConfig.getNumber(config, "socket.request.max.bytes")
    const maxInFlight = BrokerConfig.getNumber(config, "queued.max.requests")
    const maxRequestBytes = BrokerConfig.getNumber(config, "queued.max.request.bytes")
    const maxResponseBytes = BrokerConfig.getNumber(config, "queued.max.response.bytes")
    const idleTimeoutMs = BrokerConfig.getNumber(config, "connections.max.idle.ms")
    const server = net.createServer({ noDelay: true, pauseOnConnect: true })
    const host = listener.host === "" ? "0.0.0.0" : listener.host
    yield* Effect.async<void, ServerError>((resume) => {
      const onError = (e: Error) =>
        resume(Effect.fail(new ServerError({ message: `Cannot listen on ${host}:${listener.port}: ${e.message}` })))
      server.once("error", onError)
      server.listen({ host, port: listener.port }, () => {
        server.off("error", onError)
        resume(Effect.void)
      })
    })
    const bound = server.address() as net.AddressInfo
    const advertised = BrokerConfig.advertisedListener(config, bound.port)
    const rack = BrokerConfig.get(config, "broker.rack") ?? null
    const self: ReadonlyArray<BrokerEndpoint> = [
      { nodeId: options.nodeId, host: advertised.host, port: advertised.port, rack }
    ]
    const brokers = options.brokers
    const broker: BrokerInfo = {
      nodeId: options.nodeId,
      clusterId: options.clusterId,
      host: advertised.host,
      port: advertised.port,
      rack,
      brokers: brokers === undefined ? () => self : () => brokers() ?? self,
      cluster: options.cluster ?? (() => undefined),
      config,
      metrics: options.metrics
    }

    // one pool of read buffers for every connection's Fetch responses (an allocator, not shared state)
    const readBuffers = new BufferPool()
    const connections = yield* FiberSet.make<void>()
    const run = yield* FiberSet.runtime(connections)<R>()
    const handles = new Set<Connection.ConnectionHandle>()
    let accepting = true
    let counter = 0
    // a failed accept (EMFILE/ENFILE that libuv could not absorb) is logged, never an unhandled 'error' event;
    // logged on the 1st, 2nd, 4th, 8th... failure so a storm of them does not flood the log
    let acceptFailures = 0
    server.on("error", (e) => {
      acceptFailures++
      if ((acceptFailures & (acceptFailures - 1)) === 0) {
        run(Effect.logWarning(`Accepting a connection failed (${acceptFailures} time(s) so far): ${e.message}`))
      }
    })
    server.on("connection", (socket) => {
      if (!accepting) {
        socket.destroy()
        return
      }
      const id = `${socket.remoteAddress}:${socket.remotePort}-${++counter}`
      options.metrics?.connectionCreated()
      let handle: Connection.ConnectionHandle | undefined
      run(
        Connection.serve(
          {
            socket,
            id,
            registry,
            broker,
            maxFrameSize,
            maxInFlight,
            maxRequestBytes,
            maxResponseBytes,
            idleTimeoutMs,
            readBuffers,
            metrics: options.metrics
          },
          (h) => {
            handle = h
            handles.add(h)
            socket.resume()
          }
        ).pipe(
          Effect.ensuring(
            Effect.sync(() => {
              if (handle !== undefined) handles.delete(handle)
            })
          ),
          Effect.annotateLogs("connection", id)
        )
      )
    })
    // runs before the FiberSet's own finalizer (which interrupts whatever is left)
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        accepting = false
        yield* Effect.logInfo(`Shutting down listener ${host}:${bound.port} (${handles.size} connection(s) open)`)
        const closed = Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void))
        })
        for (const h of handles) h.shutdown()
        yield* FiberSet.awaitEmpty(connections).pipe(
          Effect.timeout(options.drainTimeoutMs ?? 10_000),
          Effect.catchAll(() => Effect.logWarning("Connections did not drain in time; closing them"))
        )
        yield* FiberSet.clear(connections)
        yield* closed
      })
    )
    yield* Effect.logInfo(
      `Broker ${options.nodeId} listening on ${host}:${bound.port} (advertised ${advertised.host}:${advertised.port})`
    )
    return Server.of({
      address: { host, port: bound.port },
      broker,
      connectionCount: FiberSet.size(connections),
      queuedResponseBytes: Effect.sync(() => {
        let n = 0
        for (const h of handles) n += h.queuedResponseBytes()
        return n
      })
    })
  })
