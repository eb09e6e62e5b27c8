/**
 * One client connection: frames in, requests dispatched concurrently, responses out in request order.
 *
 * Socket callbacks only decode frames and put them in the inbox. The connection fiber takes frames
 * in arrival order, decodes header and body, appends a response slot to the outbox and runs the
 * handler in its own fiber. Whoever fills a slot flushes the outbox synchronously: every filled slot
 * at its head is written, so responses leave in request order whatever order handlers finish in, with
 * no writer fiber or per-request `Deferred` in between.
 *
 * Memory per connection is bounded whatever the client does (it may pipeline requests and never read
 * the answers). Reading pauses while `maxInFlight` requests, or `maxRequestBytes` bytes of requests
 * (`queued.max.request.bytes`), are received but not yet answered, and while more than
 * `maxResponseBytes` (`queued.max.response.bytes`) of answers are not yet handed to the kernel. A
 * request is dispatched only when the bytes of unwritten answers plus the bounds declared by the
 * requests in flight (`Handler.responseBytes`, e.g. a Fetch's `max_bytes`) plus its own bound fit in
 * `maxResponseBytes`, or when nothing is in flight or unwritten (so a single answer larger than the
 * budget still goes out). The budget is given back as answers reach the kernel (write callbacks).
 *
 * Closing: a frame outside the size limits, an undecodable header or body, an unknown api key or an
 * unsupported version (except ApiVersions) closes the connection once the responses to earlier
 * requests are written; so does a failure of a request that gets no response (Produce acks=0). The
 * frames received before a bad one (even in the same chunk) are handled and answered first; then the
 * socket is half-closed (FIN after the answers), further input is read and dropped (unread input would
 * make the kernel answer with a reset that can discard answers in flight), and the socket is destroyed
 * when the client closes its side or after {@link CLOSE_LINGER_MS}.
 */
import type * as net from "node:net"
import { Cause, Deferred, Effect, Exit, Fiber, FiberSet, Queue } from "effect"
import type { BufferPool } from "../../log/BufferPool.js"
import {
  decodeRequestFrame,
  encodeResponseFrame,
  encodeResponseFrameParts,
  FrameDecoder
} from "../../protocol/Frame.js"
import { type ApiKey, apiSpec, decodeRequest } from "../../protocol/generated/ApiKey.js"
import * as ApiVersions from "../../protocol/generated/ApiVersions.js"
import { isProtocolError } from "../../protocol/ProtocolError.js"
import { Codes, causeToWire } from "../BrokerError.js"
import type { BrokerInfo, RequestContext } from "../Handler.js"
import { NoResponse } from "../Handler.js"
import { apiKeys } from "../handlers/apiVersions.js"
import type { Registry } from "../KafkaApis.js"
import type { Recorder } from "../Metrics.js"

/** Smallest request frame: api key, api version and correlation id (header v0). */
export const MIN_REQUEST_SIZE = 8

/** How long a connection closed by the broker waits for the client to close its side once the answers are sent. */
export const CLOSE_LINGER_MS = 2000

/** Settings of one connection. */
export interface ConnectionOptions<R> {
  readonly socket: net.Socket
  readonly id: string
  readonly registry: Registry<R>
  readonly broker: BrokerInfo
  readonly maxFrameSize: number
  readonly maxInFlight: number
  /** Bytes of requests received but not yet answered before reading pauses (`queued.max.request.bytes`; -1: no bound). */
  readonly maxRequestBytes?: number
  /** Bytes of answers (computed or in flight) not yet handed to the kernel (`queued.max.response.bytes`). */
  readonly maxResponseBytes?: number
  /** Close the connection after this long without traffic and nothing in flight (`connections.max.idle.ms`). */
  readonly idleTimeoutMs: number
  /** Buffers for the log reads of Fetch responses, given back once a response is on the socket. */
  readonly readBuffers?: BufferPool
  /** Times every request (queue, handling, response) when the broker serves metrics. */
  readonly metrics?: Recorder | undefined
}

/** The server's handle on a running connection. */
export interface ConnectionHandle {
  /** Stops reading; requests already received are answered, then the socket is closed. */
  readonly shutdown: () => void
  /** Bytes of answers computed but not yet handed to the kernel, plus the bounds of the requests in flight. */
  readonly queuedResponseBytes: () => number
}

type Inbound =
  | { readonly _tag: "Frame"; readonly frame: Uint8Array; readonly size: number; readonly at: number }
  | { readonly _tag: "Close"; readonly reason: string }
  | { readonly _tag: "Eof" }
  | { readonly _tag: "Shutdown" }

/** What the flush does for one slot: send a frame (whole, or as parts in order), skip (no response), or close. */
type Outcome = Uint8Array | ReadonlyArray<Uint8Array> | null | { readonly close: string }
/** One response slot, in request order; `outcome` is undefined until the request is answered. */
interface Slot {
  outcome: Outcome | undefined
  /** Bytes of the request frame, counted against `maxRequestBytes` until the answer is written. */
  readonly requestBytes: number
  /** The bound reserved against `maxResponseBytes` while the request runs. */
  readonly reserved: number
  /**
   * Called once the outcome's bytes are on the socket (or no bytes are sent): gives the request's read
   * buffers back. Left unset when they must not be reused (a request interrupted during a read).
   */
  written?: () => void
  /** Called when the outcome goes to the socket (request metrics). */
  sent?: () => void
}

const EOF: Inbound = { _tag: "Eof" }
const SHUTDOWN: Inbound = { _tag: "Shutdown" }

/** Serves one socket until it closes or is shut down; `onHandle` receives the shutdown handle first. */
export const serve = <R>(
  options: ConnectionOptions<R>,
  onHandle: (handle: ConnectionHandle) => void
): Effect.Effect<void, never, R> =>
  Effect.scoped(
    Effect.gen(function* () {
      const { socket, id, registry, broker, maxInFlight, metrics } = options
      const now = metrics === undefined ? () => 0 : metrics.now
      const maxRequestBytes = options.maxRequestBytes ?? -1
      const maxResponseBytes = options.maxResponseBytes ?? Number.MAX_SAFE_INTEGER
      const inbox = yield* Queue.unbounded<Inbound>()
      // the outbox: slots in request order; completed by the flush with the close reason (undefined: clean end)
      const outbox: Array<Slot> = []
      const finished = yield* Deferred.make<string | undefined>()
      let ended = false
      let done = false
      let draining = false
      const handlers = yield* FiberSet.make<void>()
      const decoder = new FrameDecoder({ maxFrameSize: options.maxFrameSize, minFrameSize: MIN_REQUEST_SIZE })
      let clientSoftware: RequestContext["clientSoftware"]
      let pending = 0
      // bytes of requests received and not yet answered; bytes of answers not yet in the kernel; bounds in flight
      let pendingBytes = 0
      let unwritten = 0
      let reserved = 0
      // the reader waiting for room in the response budget, and the bound it waits to reserve
      let admission: { readonly deferred: Deferred.Deferred<void>; readonly bound: number } | undefined
      const admissible = (bound: number) =>
        socket.destroyed || unwritten + reserved === 0 || unwritten + reserved + bound <= maxResponseBytes
      const overLimits = () =>
        pending >= maxInFlight ||
        (maxRequestBytes >= 0 && pendingBytes >= maxRequestBytes) ||
        unwritten + reserved > maxResponseBytes
      /** Pauses reading when a limit is reached; resumes when back under (with half the request count as slack). */
      const updateReading = () => {
        if (stopped) return
        if (!paused && overLimits()) {
          paused = true
          socket.pause()
        } else if (paused && !draining && !overLimits() && pending <= maxInFlight >> 1) {
          paused = false
          socket.resume()
        }
      }
      /** Called whenever budget is given back: admits the waiting request when it now fits. */
      const released = () => {
        if (admission !== undefined && admissible(admission.bound)) {
          const { deferred } = admission
          admission = undefined
          Deferred.unsafeDone(deferred, Exit.void)
        }
        updateReading()
      }
      let paused = false
      let stopped = false

      // after the last request, input is read and dropped: unread bytes at close would make the kernel reset the
      // connection, and a reset can discard answers the client has not read yet
      const stopReading = () => {
        stopped = true
        socket.resume()
      }
      socket.on("data", (chunk: Buffer) => {
        if (stopped) return
        // the frames before a bad size field are still handled and answered before the connection closes
        const { frames, error } = decoder.pushUntilError(chunk)
        for (const frame of frames) {
          pending++
          pendingBytes += frame.length + 4
          inbox.unsafeOffer({ _tag: "Frame", frame, size: frame.length + 4, at: now() })
        }
        if (error !== undefined) {
          stopReading()
          inbox.unsafeOffer({ _tag: "Close", reason: error })
          return
        }
        updateReading()
      })
      if (options.idleTimeoutMs > 0 && options.idleTimeoutMs < 2 ** 31) {
        socket.setTimeout(options.idleTimeoutMs)
        socket.on("timeout", () => {
          if (pending > 0 || stopped) return
          stopReading()
          inbox.unsafeOffer({ _tag: "Close", reason: `idle for ${options.idleTimeoutMs} ms` })
        })
      }
      socket.on("end", () => inbox.unsafeOffer(EOF))
      socket.on("close", () => {
        inbox.unsafeOffer(EOF)
        released()
      })
      socket.on("error", () => inbox.unsafeOffer(EOF))
      yield* Effect.addFinalizer(() => Effect.sync(() => socket.destroy()))
      onHandle({
        shutdown: () => {
          stopReading()
          inbox.unsafeOffer(SHUTDOWN)
        },
        queuedResponseBytes: () => unwritten + reserved
      })

      // responses flushed in the same tick leave in one write (cork until the next tick)
      let corked = false
      const uncork = () => {
        corked = false
        socket.uncork()
      }
      const onDrain = () => {
        socket.off("drain", onDrain)
        socket.off("close", onDrain)
        draining = false
        flush()
      }
      const finish = (reason: string | undefined) => {
        done = true
        Deferred.unsafeDone(finished, Exit.succeed(reason))
      }
      /** Writes every answered slot at the head of the outbox; runs synchronously wherever a slot is filled. */
      const flush = (): void => {
        while (!done && !draining && outbox.length > 0) {
          const slot = outbox[0]!
          const outcome = slot.outcome
          if (outcome === undefined) return
          outbox.shift()
          slot.sent?.()
          if (outcome !== null && "close" in outcome) {
            slot.written?.()
            finish(outcome.close)
            return
          }
          pending--
          pendingBytes -= slot.requestBytes
          const bytes = outcomeBytes(outcome)
          if (outcome === null || socket.destroyed) {
            unwritten -= bytes
            slot.written?.()
          } else {
            if (!corked) {
              corked = true
              socket.cork()
              process.nextTick(uncork)
            }
            let flowing = true
            // the write callback runs once the bytes are handed to the kernel (or the socket is gone)
            const onWritten = () => {
              unwritten -= bytes
              slot.written?.()
              released()
            }
            if (outcome instanceof Uint8Array) flowing = socket.write(outcome, onWritten)
            else {
              // a frame has at least one part (its size field)
              const last = outcome.length - 1
              for (let i = 0; i < last; i++) flowing = socket.write(outcome[i]!)
              flowing = socket.write(outcome[last]!, onWritten)
            }
            if (!flowing) {
              draining = true
              socket.on("drain", onDrain)
              socket.on("close", onDrain)
            }
          }
        }
        updateReading()
        if (!done && ended && outbox.length === 0) finish(undefined)
      }
      const fill = (slot: Slot, outcome: Outcome) => {
        if (slot.outcome !== undefined) return
        slot.outcome = outcome
        reserved -= slot.reserved
        unwritten += outcomeBytes(outcome)
        flush()
        released()
      }

      const close = (reason: string) =>
        Effect.zipRight(
          Effect.logInfo(`Closing connection ${id}: ${reason}`),
          Effect.sync(() => {
            stopReading()
            outbox.push({ outcome: { close: reason }, requestBytes: 0, reserved: 0 })
            flush()
          })
        )

      const respond = (outcome: Outcome, requestBytes: number) =>
        Effect.sync(() => {
          const slot: Slot = { outcome: undefined, requestBytes, reserved: 0 }
          outbox.push(slot)
          fill(slot, outcome)
        })

      /** Waits until a request whose answer may take `bound` bytes fits in the response budget, and reserves it. */
      const admit = (bound: number) =>
        Effect.gen(function* () {
          if (!admissible(bound)) {
            const deferred = yield* Deferred.make<void>()
            admission = { deferred, bound }
            yield* Deferred.await(deferred)
          }
          reserved += bound
        })

      /** Handles one frame; false when the connection must close. */
      const dispatch = (frame: Uint8Array, size: number, receivedAt: number): Effect.Effect<boolean, never, R> =>
        Effect.gen(function* () {
          const startedAt = now()
          let decoded: ReturnType<typeof decodeRequestFrame>
          try {
            decoded = decodeRequestFrame(frame)
          } catch (e) {
            yield* close(`malformed request header: ${isProtocolError(e) ? e.message : String(e)}`)
            return false
          }
          const { header, body } = decoded
          const apiKey = header.requestApiKey
          const apiVersion = header.requestApiVersion
          const correlationId = header.correlationId
          const handler = registry.get(apiKey)
          if (handler === undefined) {
            yield* close(`unsupported api key ${apiKey}`)
            return false
          }
          const spec = apiSpec(apiKey)!
          if (apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
            if (apiKey === ApiVersions.apiKey) {
              // answered in v0 with the full list so the client can pick a version (body not parsed)
              yield* Effect.logDebug(`ApiVersions v${apiVersion} unsupported, answering v0`)
              yield* respond(
                encodeResponseFrame(
                  ApiVersions.apiKey,
                  0,
                  correlationId,
                  ApiVersions.makeApiVersionsResponse({
                    errorCode: Codes.UNSUPPORTED_VERSION,
                    apiKeys: apiKeys(registry.apis)
                  })
                ),
                size
              )
              return true
            }
            yield* close(`unsupported version ${apiVersion} of ${spec.name}`)
            return false
          }
          let request: unknown
          try {
            request = decodeRequest(apiKey as ApiKey, apiVersion, body)
          } catch (e) {
            yield* close(`malformed ${spec.name} v${apiVersion} request: ${isProtocolError(e) ? e.message : String(e)}`)
            return false
          }
          const bound = Math.min(
            Math.max(handler.responseBytes?.(request as never, apiVersion) ?? 0, 0),
            maxResponseBytes
          )
          yield* admit(bound)
          yield* Effect.logDebug(
            `${spec.name} v${apiVersion} correlation ${correlationId} client ${header.clientId ?? "-"}` +
              (clientSoftware ? ` (${clientSoftware.name} ${clientSoftware.version})` : "")
          )
          const lease = apiKey === 1 ? options.readBuffers?.lease() : undefined
          const context: RequestContext = {
            apiKey,
            apiVersion,
            correlationId,
            clientId: header.clientId,
            connectionId: id,
            clientSoftware,
            broker,
            apis: registry.apis,
            setClientSoftware: (name, version) => {
              clientSoftware = { name, version }
            },
            readBuffers: lease
          }
          const noResponse = apiKey === 0 && (request as { acks?: number }).acks === 0
          const slot: Slot = { outcome: undefined, requestBytes: size, reserved: bound }
          outbox.push(slot)
          const run = Effect.gen(function* () {
            const exit = yield* Effect.exit(handler.handle(request as never, context))
            if (metrics !== undefined) {
              const handledAt = now()
              slot.sent = () => metrics.request(apiKey, receivedAt, startedAt, handledAt, now())
            }
            // reads are over unless the handler was interrupted (a read may still be filling a buffer)
            if (lease !== undefined && !Exit.isInterrupted(exit)) slot.written = lease.release
            if (Exit.isSuccess(exit)) {
              if (noResponse || exit.value === NoResponse) return null
              return encode(apiKey, apiVersion, correlationId, exit.value)
            }
            if (Cause.isInterruptedOnly(exit.cause)) return { close: "request interrupted" }
            const wire = causeToWire(exit.cause)
            if (wire.errorCode === Codes.UNKNOWN_SERVER_ERROR) {
              yield* Effect.logError(`${spec.name} v${apiVersion} request from ${id} failed`, exit.cause)
            }
            if (noResponse) return { close: `${spec.name} with acks=0 failed` }
            if (handler.errorResponse === undefined) return { close: `${spec.name} failed` }
            return encode(apiKey, apiVersion, correlationId, handler.errorResponse(request as never, wire, context))
          }).pipe(
            Effect.flatMap((outcome) => Effect.sync(() => fill(slot, outcome))),
            Effect.catchAllCause((cause) =>
              Effect.zipRight(
                Effect.logError(`Encoding a ${spec.name} v${apiVersion} response for ${id} failed`, cause),
                Effect.sync(() => fill(slot, { close: "response encoding failed" }))
              )
            ),
            Effect.onInterrupt(() => Effect.sync(() => fill(slot, { close: "request interrupted" })))
          )
          yield* FiberSet.run(handlers, run)
          return true
        })

      const reader = Effect.gen(function* () {
        for (;;) {
          const msg = yield* Queue.take(inbox)
          if (msg._tag === "Frame") {
            if (!(yield* dispatch(msg.frame, msg.size, msg.at))) return
            continue
          }
          if (msg._tag === "Close") yield* close(msg.reason)
          else {
            ended = true
            flush()
          }
          return
        }
      })
      const readerFiber = yield* Effect.fork(reader)
      // the outbox finishes after the reader's last slot, or early when a slot asks to close
      const closeReason = yield* Deferred.await(finished)
      yield* Fiber.interrupt(readerFiber)
      stopReading()
      // the answers written so far leave before the FIN. A clean end destroys the socket once they are flushed; a
      // close for a bad request waits for the client to close its side (up to CLOSE_LINGER_MS), so the client
      // reads every answer before the socket is gone
      if (closeReason === undefined) {
        yield* Effect.async<void>((resume) => {
          if (socket.destroyed) return resume(Effect.void)
          socket.end(() => resume(Effect.void))
          socket.once("close", () => resume(Effect.void))
        })
      } else {
        yield* Effect.async<void>((resume) => {
          if (socket.destroyed) return resume(Effect.void)
          socket.once("close", () => resume(Effect.void))
          socket.end()
        }).pipe(Effect.timeoutOption(CLOSE_LINGER_MS))
      }
      yield* Effect.logDebug(`Connection ${id} closed`)
    })
  )

/** Bytes an outcome holds until it is written. */
const outcomeBytes = (outcome: Outcome): number => {
  if (outcome === null || outcome === undefined) return 0
  if (outcome instanceof Uint8Array) return outcome.length
  if ("close" in outcome) return 0
  let n = 0
  for (const part of outcome) n += part.length
  return n
}

/** A response frame; a Fetch response keeps its records by reference (the log's read buffers go to the socket as they are). */
const encode = (
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  body: unknown
): Uint8Array | ReadonlyArray<Uint8Array> =>
  apiKey === 1
    ? encodeResponseFrameParts(1, apiVersion, correlationId, body as never)
    : encodeResponseFrame(apiKey as ApiKey, apiVersion, correlationId, body as never)
