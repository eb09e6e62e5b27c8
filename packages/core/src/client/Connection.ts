/**
 * One TCP connection to one broker: framing, correlation ids, pipelined requests whose responses are
 * matched in order, ApiVersions negotiation on connect, a per-request timeout, and shutdown with its Scope.
 *
 * The timeout is watched by one fiber per connection, not a timer per request: responses come in request
 * order, so the oldest pending request is the first that can time out; the watchdog sleeps (on `Clock`)
 * until its deadline, and while nothing is pending it waits on a latch.
 *
 * Requests are written as soon as they are sent; any number may be in flight. Responses arrive in request
 * order (the Kafka protocol guarantees it), so the first pending request owns the next frame and its
 * correlation id is checked. A request that times out closes the connection (as the Java client does):
 * every other in-flight request then fails with a {@link ConnectionError}, which is retriable.
 */
import * as net from "node:net"
import { Clock, Duration, Effect, type Scope } from "effect"
import { encodeRequestFrame, FrameDecoder, FrameReader } from "../protocol/Frame.js"
import {
  type ApiKey,
  apiSpec,
  decodeResponse,
  type RequestTypes,
  type ResponseTypes
} from "../protocol/generated/ApiKey.js"
import type { ApiVersionsResponse } from "../protocol/generated/ApiVersions.js"
import * as ApiVersions from "../protocol/generated/ApiVersions.js"
import { decodeResponseHeader, responseHeaderVersion } from "../protocol/generated/Header.js"
import { isProtocolError, type ProtocolError } from "../protocol/ProtocolError.js"
import { Reader } from "../protocol/Reader.js"
import { ConnectionError, RequestTimeoutError, UnsupportedVersionError } from "./ClientError.js"

/** The software name and version sent in ApiVersions v3+. */
export const CLIENT_SOFTWARE = { name: "eddy-client", version: "0.1.0" } as const

/**
 * The versions this client speaks where they differ from what the codecs support: Produce from v3 and
 * Fetch from v4 (RecordBatch v2 only), Fetch up to v12 (v13+ names topics by id).
 */
export const clientVersionOverrides: ReadonlyMap<number, { readonly min: number; readonly max: number }> = new Map([
  [0, { min: 3, max: 11 }],
  [1, { min: 4, max: 12 }]
])

/** The version range this client speaks for `apiKey`, undefined for unknown keys. */
export const clientVersions = (apiKey: number): { readonly min: number; readonly max: number } | undefined => {
  const o = clientVersionOverrides.get(apiKey)
  if (o !== undefined) return o
  const spec = apiSpec(apiKey)
  return spec === undefined ? undefined : { min: spec.minVersion, max: spec.maxVersion }
}

/** Options of {@link make}. */
export interface ConnectionOptions {
  readonly host: string
  readonly port: number
  /** `client.id` of every request header. */
  readonly clientId: string
  /** `request.timeout.ms`. */
  readonly requestTimeoutMs: number
  /** `socket.connection.setup.timeout.ms`. */
  readonly connectTimeoutMs?: number
  /** Highest ApiVersions version to try first (default 3). */
  readonly apiVersionsVersion?: number
}

/** The errors of one request. */
export type SendError = ConnectionError | RequestTimeoutError | UnsupportedVersionError | ProtocolError

/** An open connection to one broker. */
export interface Connection {
  /** `host:port`. */
  readonly broker: string
  /** The broker's advertised version ranges, by api key. */
  readonly brokerVersions: ReadonlyMap<number, { readonly min: number; readonly max: number }>
  /** The version negotiated for `apiKey` (min of both maxima), undefined when there is none. */
  readonly versionOf: (apiKey: number) => number | undefined
  /** Sends a request in the negotiated version (or `version`) and awaits its response. */
  readonly send: <K extends ApiKey>(
    apiKey: K,
    body: RequestTypes[K],
    version?: number
  ) => Effect.Effect<ResponseTypes[K], SendError>
  /**
   * Sends a request built for the negotiated version; fails with `UnsupportedVersionError` when the broker
   * and the client share no version of `apiKey`.
   */
  readonly sendNegotiated: <K extends ApiKey>(
    apiKey: K,
    body: (version: number) => RequestTypes[K]
  ) => Effect.Effect<ResponseTypes[K], SendError>
  /** Sends a request that gets no response (Produce with acks=0); completes once written. */
  readonly sendNoResponse: <K extends ApiKey>(
    apiKey: K,
    body: RequestTypes[K],
    version?: number
  ) => Effect.Effect<void, SendError>
  /** Whether the socket is still open. */
  readonly isOpen: () => boolean
  /** Requests written and not yet answered. */
  readonly inFlight: () => number
  /** Closes the socket; in-flight requests fail with a ConnectionError. */
  readonly close: Effect.Effect<void>
}

interface Pending {
  readonly correlationId: number
  readonly apiKey: number
  /** Clock millis after which the request has timed out. */
  readonly deadline: number
  readonly decode: (frame: Uint8Array) => unknown
  resume: (
    result: { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: SendError }
  ) => void
}

const noop = () => {}

/** Peeks at an ApiVersions response: v0 layout when it reports UNSUPPORTED_VERSION (35), else `version`. */
const decodeApiVersions =
  (version: number) =>
  (frame: Uint8Array): ApiVersionsResponse => {
    const r = new Reader(frame)
    decodeResponseHeader(r, 0)
    const errorCode = frame.length >= 6 ? (frame[4]! << 8) | frame[5]! : 0
    return decodeResponse(18, errorCode === 35 ? 0 : version, r)
  }

/** Opens a connection and negotiates versions; the connection closes with the scope. */
export const make = (
  options: ConnectionOptions
): Effect.Effect<
  Connection,
  ConnectionError | RequestTimeoutError | UnsupportedVersionError | ProtocolError,
  Scope.Scope
> =>
  Effect.gen(function* () {
    const broker = `${options.host}:${options.port}`
    const { socket, reader } = yield* Effect.acquireRelease(open(options.host, options.port, broker), (s) =>
      Effect.sync(() => s.socket.destroy())
    ).pipe(
      Effect.timeoutFail({
        duration: Duration.millis(options.connectTimeoutMs ?? 10000),
        onTimeout: () => new ConnectionError({ broker, message: "connection setup timed out", retriable: true })
      })
    )
    const state = wire(socket, reader, broker, options)
    yield* Effect.addFinalizer(() => state.close)
    // interruptible even when the connection is opened in an uninterruptible region (the cluster's connect):
    // otherwise its scope could never end it
    yield* Effect.forkScoped(Effect.interruptible(state.watchdog))
    // ApiVersions: try our version; a broker that does not know it answers v0 with its list
    let wanted = options.apiVersionsVersion ?? 3
    let response = yield* state.request<ApiVersionsResponse>(
      18,
      wanted,
      ApiVersions.makeApiVersionsRequest({
        clientSoftwareName: CLIENT_SOFTWARE.name,
        clientSoftwareVersion: CLIENT_SOFTWARE.version
      }),
      decodeApiVersions(wanted)
    )
    if (response.errorCode === 35) {
      const theirs = response.apiKeys.find((a) => a.apiKey === 18)
      wanted = Math.min(theirs?.maxVersion ?? 0, wanted)
      response = yield* state.request<ApiVersionsResponse>(
        18,
        wanted,
        ApiVersions.makeApiVersionsRequest(
          wanted >= 3
            ? { clientSoftwareName: CLIENT_SOFTWARE.name, clientSoftwareVersion: CLIENT_SOFTWARE.version }
            : {}
        ),
        decodeApiVersions(wanted)
      )
    }
    if (response.errorCode !== 0) {
      return yield* new UnsupportedVersionError({
        broker,
        apiKey: 18,
        message: `ApiVersions failed with error code ${response.errorCode}`,
        retriable: false
      })
    }
    const brokerVersions = new Map<number, { min: number; max: number }>()
    const negotiated = new Map<number, number>()
    for (const a of response.apiKeys) {
      brokerVersions.set(a.apiKey, { min: a.minVersion, max: a.maxVersion })
      const ours = clientVersions(a.apiKey)
      if (ours === undefined) continue
      const v = Math.min(ours.max, a.maxVersion)
      if (v >= Math.max(ours.min, a.minVersion)) negotiated.set(a.apiKey, v)
    }
    const versionFor = (apiKey: number, version: number | undefined) => {
      const v = version ?? negotiated.get(apiKey)
      return v === undefined
        ? Effect.fail(
            new UnsupportedVersionError({
              broker,
              apiKey,
              message: `no common version of api ${apiSpec(apiKey)?.name ?? apiKey} with ${broker}`,
              retriable: false
            })
          )
        : Effect.succeed(v)
    }
    const send = <K extends ApiKey>(
      apiKey: K,
      body: RequestTypes[K],
      version?: number
    ): Effect.Effect<ResponseTypes[K], SendError> => {
      const v = version ?? negotiated.get(apiKey)
      if (v === undefined) return Effect.flatMap(versionFor(apiKey, version), () => Effect.never)
      return state.request<ResponseTypes[K]>(apiKey, v, body, (frame) => {
        const r = new Reader(frame)
        decodeResponseHeader(r, responseHeaderVersion(apiKey, v))
        return decodeResponse(apiKey, v, r)
      })
    }
    return {
      broker,
      brokerVersions,
      versionOf: (apiKey) => negotiated.get(apiKey),
      send,
      sendNegotiated: (apiKey, body) => Effect.flatMap(versionFor(apiKey, undefined), (v) => send(apiKey, body(v), v)),
      sendNoResponse: (apiKey, body, version) =>
        Effect.flatMap(versionFor(apiKey, version), (v) => state.write(apiKey, v, body)),
      isOpen: () => !state.closed(),
      inFlight: () => state.inFlight(),
      close: state.close
    } satisfies Connection
  })

/** The largest response frame a connection accepts. */
const MAX_RESPONSE_FRAME = 1 << 30

/** A socket's reads: into the frame reader's buffers, then to `onBytes` (set by {@link wire}). */
interface SocketReader {
  readonly frames: FrameReader
  onBytes: (n: number) => void
}

const open = (
  host: string,
  port: number,
  broker: string
): Effect.Effect<{ readonly socket: net.Socket; readonly reader: SocketReader }, ConnectionError> =>
  Effect.async((resume) => {
    // a response is read straight into its own buffer (no chunk per read, no copy into the frame)
    const reader: SocketReader = { frames: new FrameReader({ maxFrameSize: MAX_RESPONSE_FRAME }), onBytes: () => {} }
    const socket = net.connect({
      host,
      port,
      onread: {
        buffer: () => reader.frames.buffer(),
        callback: (n) => {
          reader.onBytes(n)
          return true
        }
      }
    })
    const onError = (e: Error) => {
      socket.destroy()
      resume(Effect.fail(new ConnectionError({ broker, message: e.message, retriable: true })))
    }
    socket.once("error", onError)
    socket.once("connect", () => {
      socket.off("error", onError)
      socket.setNoDelay(true)
      resume(Effect.succeed({ socket, reader }))
    })
    return Effect.sync(() => socket.destroy())
  })

/** The socket plumbing: a queue of pending requests, each owning the next frame. */
const wire = (socket: net.Socket, reader: SocketReader, broker: string, options: ConnectionOptions) => {
  const pending: Array<Pending> = []
  let head = 0
  let correlation = 0
  let closed = false
  let closeReason = "connection closed"

  const failAll = (reason: string) => {
    if (closed) return
    closed = true
    closeReason = reason
    const error = new ConnectionError({ broker, message: reason, retriable: true })
    const all = pending.splice(head)
    pending.length = 0
    head = 0
    for (const p of all) p.resume({ ok: false, error })
    socket.destroy()
  }

  const onFrames = (frames: Array<Uint8Array>) => {
    for (const frame of frames) {
      const p = pending[head]
      if (p === undefined) {
        failAll("unexpected response frame")
        return
      }
      pending[head++] = undefined as never
      if (head > 1024 && head * 2 > pending.length) {
        pending.splice(0, head)
        head = 0
      }
      const id = frame.length >= 4 ? (frame[0]! << 24) | (frame[1]! << 16) | (frame[2]! << 8) | frame[3]! : -1
      if (id !== p.correlationId) {
        p.resume({
          ok: false,
          error: new ConnectionError({
            broker,
            message: `correlation id ${id} !== ${p.correlationId}`,
            retriable: true
          })
        })
        failAll(`correlation id mismatch (${id} !== ${p.correlationId})`)
        return
      }
      let value: unknown
      try {
        value = p.decode(frame)
      } catch (e) {
        p.resume(
          isProtocolError(e)
            ? { ok: false, error: e }
            : { ok: false, error: new ConnectionError({ broker, message: String(e), retriable: true }) }
        )
        continue
      }
      p.resume({ ok: true, value })
    }
  }
  // reads go into the reader's buffers (see open); a runtime without the onread option emits chunks instead
  reader.onBytes = (n) => {
    let frames: Array<Uint8Array>
    try {
      frames = reader.frames.read(n)
    } catch (e) {
      failAll(`bad frame from broker: ${String(e)}`)
      return
    }
    onFrames(frames)
  }
  const decoder = new FrameDecoder({ maxFrameSize: MAX_RESPONSE_FRAME })
  socket.on("data", (chunk: Buffer) => {
    let frames: Array<Uint8Array>
    try {
      frames = decoder.push(chunk)
    } catch (e) {
      failAll(`bad frame from broker: ${String(e)}`)
      return
    }
    onFrames(frames)
  })
  socket.on("error", (e) => failAll(e.message))
  socket.on("close", () => failAll("connection closed by broker"))

  const nextCorrelation = () => {
    correlation = (correlation + 1) | 0
    return correlation
  }

  const encode = (apiKey: number, version: number, body: unknown, id: number) =>
    encodeRequestFrame(apiKey as ApiKey, version, id, options.clientId, body as never)

  /** Open while requests are pending (the watchdog then runs). */
  const busy = Effect.unsafeMakeLatch(false)

  const request = <A>(
    apiKey: number,
    version: number,
    body: unknown,
    decode: (frame: Uint8Array) => unknown
  ): Effect.Effect<A, SendError> =>
    Effect.clockWith((clock) =>
      Effect.async<A, SendError>((resume) => {
        if (closed) {
          resume(Effect.fail(new ConnectionError({ broker, message: closeReason, retriable: true })))
          return
        }
        const correlationId = nextCorrelation()
        let frame: Buffer
        try {
          frame = encode(apiKey, version, body, correlationId)
        } catch (e) {
          resume(isProtocolError(e) ? Effect.fail(e) : Effect.die(e))
          return
        }
        const p: Pending = {
          correlationId,
          apiKey,
          deadline: clock.unsafeCurrentTimeMillis() + options.requestTimeoutMs,
          decode,
          resume: (r) => {
            p.resume = noop
            resume(r.ok ? Effect.succeed(r.value as A) : Effect.fail(r.error))
          }
        }
        pending.push(p)
        if (pending.length - head === 1) busy.unsafeOpen()
        socket.write(frame)
        // an interrupted request keeps its slot (the response still arrives, in order) but is ignored
        return Effect.sync(() => {
          p.resume = noop
        })
      })
    )

  /**
   * Fails the oldest pending request with a RequestTimeoutError once its deadline passes, and closes the
   * connection (every other request in flight then fails with a retriable ConnectionError), as the Java
   * client does. Runs for the connection's life.
   */
  const watchdog: Effect.Effect<never> = Effect.forever(
    Effect.zipRight(
      busy.await,
      Effect.flatMap(Clock.currentTimeMillis, (now): Effect.Effect<void> => {
        const oldest = pending[head]
        if (oldest === undefined || closed) {
          busy.unsafeClose()
          return Effect.void
        }
        if (oldest.deadline > now) return Effect.sleep(oldest.deadline - now)
        const apiKey = oldest.apiKey
        const timedOut = oldest.resume
        oldest.resume = noop
        failAll(`request (api key ${apiKey}) timed out after ${options.requestTimeoutMs} ms`)
        timedOut({
          ok: false,
          error: new RequestTimeoutError({ broker, apiKey, timeoutMs: options.requestTimeoutMs, retriable: true })
        })
        return Effect.void
      })
    )
  )

  const write = (apiKey: number, version: number, body: unknown): Effect.Effect<void, SendError> =>
    Effect.async<void, SendError>((resume) => {
      if (closed) {
        resume(Effect.fail(new ConnectionError({ broker, message: closeReason, retriable: true })))
        return
      }
      let frame: Buffer
      try {
        frame = encode(apiKey, version, body, nextCorrelation())
      } catch (e) {
        resume(isProtocolError(e) ? Effect.fail(e) : Effect.die(e))
        return
      }
      socket.write(frame, (err) =>
        resume(err ? Effect.fail(new ConnectionError({ broker, message: err.message, retriable: true })) : Effect.void)
      )
    })

  return {
    request,
    write,
    watchdog,
    closed: () => closed,
    inFlight: () => pending.length - head,
    close: Effect.sync(() => {
      if (!closed) {
        socket.end()
        failAll("connection closed")
      }
    })
  }
}
