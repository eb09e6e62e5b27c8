/**
 * A small broker-to-broker connection for the follower fetcher: one TCP socket to another broker, requests
 * framed with the generated protocol codecs, responses matched in order by correlation id. It is not the client
 * package's connection (the broker does not depend on the client): no version negotiation (brokers of one
 * cluster speak the versions the fetcher names), no pooling, no retries.
 *
 * Invariants:
 * - Each request is answered once: with its response, or with {@link PeerError} when the socket fails or
 *   closes, the response cannot be decoded, or `timeoutMs` of Clock time passes (the socket is then closed, so
 *   later responses cannot be matched to the wrong request).
 * - The socket is destroyed when the scope closes.
 */
import * as net from "node:net"
import { Deferred, Effect, Exit, Schema, type Scope } from "effect"
import { decodeResponseFrame, encodeRequestFrame, FrameDecoder } from "../../../protocol/Frame.js"
import type { ApiKey, RequestTypes, ResponseTypes } from "../../../protocol/generated/ApiKey.js"
import { ErrorCode } from "../../../protocol/generated/ErrorCode.js"

/** The connection to another broker failed (connect, socket error or close, timeout, undecodable response). */
export class PeerError extends Schema.TaggedError<PeerError>()("PeerError", { message: Schema.String }) {
  readonly errorCode = ErrorCode.NETWORK_EXCEPTION
}

/** A connection to another broker. */
export interface Peer {
  /** Sends one request and awaits its response. */
  readonly send: <K extends ApiKey>(
    apiKey: K,
    version: number,
    body: RequestTypes[K]
  ) => Effect.Effect<ResponseTypes[K], PeerError>
  /** True once the socket failed or closed. */
  readonly isClosed: () => boolean
}

interface Pending {
  readonly correlationId: number
  readonly apiKey: ApiKey
  readonly version: number
  readonly reply: Deferred.Deferred<unknown, PeerError>
}

/** Connects to `host:port` for the current scope; requests carry `clientId`. */
export const connect = (
  host: string,
  port: number,
  clientId: string,
  timeoutMs: number
): Effect.Effect<Peer, PeerError, Scope.Scope> =>
  Effect.gen(function* () {
    const socket = yield* Effect.acquireRelease(
      Effect.async<net.Socket, PeerError>((resume) => {
        const s = net.connect({ host, port, noDelay: true })
        const failed = (e: Error) =>
          resume(Effect.fail(new PeerError({ message: `connect ${host}:${port}: ${e.message}` })))
        s.once("error", failed)
        s.once("connect", () => {
          s.off("error", failed)
          resume(Effect.succeed(s))
        })
        return Effect.sync(() => s.destroy())
      }),
      (s) => Effect.sync(() => s.destroy())
    )
    const decoder = new FrameDecoder({ maxFrameSize: 1 << 30 })
    const pending: Array<Pending> = []
    let closed = false
    let correlation = 0
    const failAll = (message: string) => {
      closed = true
      for (const p of pending.splice(0)) Deferred.unsafeDone(p.reply, Exit.fail(new PeerError({ message })))
    }
    socket.on("data", (chunk: Buffer) => {
      let frames: Array<Uint8Array>
      try {
        frames = decoder.push(chunk)
      } catch (e) {
        failAll(`bad frame from ${host}:${port}: ${String(e)}`)
        socket.destroy()
        return
      }
      for (const frame of frames) {
        const p = pending.shift()
        if (p === undefined) continue
        try {
          const decoded = decodeResponseFrame(p.apiKey, p.version, frame)
          if (decoded.correlationId !== p.correlationId) throw new Error(`correlation id ${decoded.correlationId}`)
          Deferred.unsafeDone(p.reply, Exit.succeed(decoded.body))
        } catch (e) {
          Deferred.unsafeDone(p.reply, Exit.fail(new PeerError({ message: `bad response: ${String(e)}` })))
          failAll(`connection to ${host}:${port} closed after a bad response`)
          socket.destroy()
        }
      }
    })
    socket.on("error", (e) => failAll(`connection to ${host}:${port}: ${e.message}`))
    socket.on("close", () => failAll(`connection to ${host}:${port} closed`))

    const send = <K extends ApiKey>(
      apiKey: K,
      version: number,
      body: RequestTypes[K]
    ): Effect.Effect<ResponseTypes[K], PeerError> =>
      Effect.flatMap(Deferred.make<unknown, PeerError>(), (reply) => {
        if (closed) return Effect.fail(new PeerError({ message: `connection to ${host}:${port} is closed` }))
        const correlationId = ++correlation
        pending.push({ correlationId, apiKey, version, reply })
        socket.write(encodeRequestFrame(apiKey, version, correlationId, clientId, body))
        return Deferred.await(reply).pipe(
          Effect.timeoutFail({
            duration: timeoutMs,
            onTimeout: () => {
              failAll(`request to ${host}:${port} timed out after ${timeoutMs} ms`)
              socket.destroy()
              return new PeerError({ message: `request to ${host}:${port} timed out after ${timeoutMs} ms` })
            }
          })
        ) as Effect.Effect<ResponseTypes[K], PeerError>
      })

    return { send, isClosed: () => closed }
  })
