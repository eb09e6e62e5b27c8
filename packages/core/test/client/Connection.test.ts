import * as net from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { ConnectionError, RequestTimeoutError } from "../../src/client/ClientError.js"
import * as Connection from "../../src/client/Connection.js"
import { decodeRequestFrame, encodeResponseFrame, FrameDecoder } from "../../src/protocol/Frame.js"
import * as ApiVersions from "../../src/protocol/generated/ApiVersions.js"
import * as Metadata from "../../src/protocol/generated/Metadata.js"
import { startEddy } from "./util.js"

/** A fake broker: `onFrame` gets each request frame and the socket. */
const fakeBroker = (onFrame: (frame: Uint8Array, socket: net.Socket, index: number) => void) =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: net.Server; readonly port: number }>((resume) => {
      const server = net.createServer((socket) => {
        const decoder = new FrameDecoder()
        let n = 0
        socket.on("data", (chunk) => {
          for (const f of decoder.push(chunk)) onFrame(f, socket, n++)
        })
        socket.on("error", () => {})
      })
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({ server, port: (server.address() as net.AddressInfo).port }))
      )
    }),
    ({ server }) => Effect.sync(() => server.close())
  )

const apiVersionsBody = (errorCode: number, apiVersionsMax: number) =>
  ApiVersions.makeApiVersionsResponse({
    errorCode,
    apiKeys: [
      { apiKey: 18, minVersion: 0, maxVersion: apiVersionsMax },
      { apiKey: 3, minVersion: 0, maxVersion: 12 }
    ]
  })

describe("Connection", () => {
  it.scopedLive("negotiates min(client max, broker max) per api with a real broker", () =>
    Effect.gen(function* () {
      const { port } = yield* startEddy()
      const conn = yield* Connection.make({ host: "127.0.0.1", port, clientId: "t", requestTimeoutMs: 5000 })
      const produce = conn.brokerVersions.get(0)!
      assert.strictEqual(conn.versionOf(0), Math.min(11, produce.max))
      assert.strictEqual(conn.versionOf(1), Math.min(12, conn.brokerVersions.get(1)!.max))
      assert.strictEqual(conn.versionOf(18), Math.min(4, conn.brokerVersions.get(18)!.max))
      // pipelined requests come back matched, in order
      const responses = yield* Effect.forEach(
        Array.from({ length: 50 }, (_, i) => i),
        () => conn.send(3, Metadata.makeMetadataRequest({ topics: [] })),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(responses.length, 50)
      for (const r of responses) assert.strictEqual(r.brokers.length, 1)
      assert.strictEqual(conn.inFlight(), 0)
    })
  )

  it.scopedLive("falls back to the ApiVersions version the broker lists after UNSUPPORTED_VERSION", () =>
    Effect.gen(function* () {
      const seen: Array<number> = []
      const { port } = yield* fakeBroker((frame, socket) => {
        const { header } = decodeRequestFrame(frame)
        seen.push(header.requestApiVersion)
        if (header.requestApiVersion > 2) {
          socket.write(encodeResponseFrame(18, 0, header.correlationId, apiVersionsBody(35, 2)))
        } else {
          socket.write(encodeResponseFrame(18, header.requestApiVersion, header.correlationId, apiVersionsBody(0, 2)))
        }
      })
      const conn = yield* Connection.make({ host: "127.0.0.1", port, clientId: "t", requestTimeoutMs: 5000 })
      assert.deepStrictEqual(seen, [3, 2])
      assert.strictEqual(conn.versionOf(18), 2)
      assert.strictEqual(conn.versionOf(3), 12)
      assert.strictEqual(conn.versionOf(0), undefined)
      const unsupported = yield* Effect.exit(
        conn.send(0, { transactionalId: null, acks: 1, timeoutMs: 1, topicData: [] })
      )
      assert.isTrue(Exit.isFailure(unsupported))
    })
  )

  it.scopedLive("times out a request after request.timeout.ms and fails the others in flight", () =>
    Effect.gen(function* () {
      const { port } = yield* fakeBroker((frame, socket, i) => {
        const { header } = decodeRequestFrame(frame)
        if (i === 0) socket.write(encodeResponseFrame(18, 3, header.correlationId, apiVersionsBody(0, 3)))
        // everything else is never answered
      })
      const conn = yield* Connection.make({ host: "127.0.0.1", port, clientId: "t", requestTimeoutMs: 200 })
      const [a, b] = yield* Effect.all(
        [
          Effect.flip(conn.send(3, Metadata.makeMetadataRequest({ topics: [] }))),
          Effect.flip(Effect.delay(conn.send(3, Metadata.makeMetadataRequest({ topics: [] })), 50))
        ],
        { concurrency: "unbounded" }
      )
      assert.instanceOf(a, RequestTimeoutError)
      assert.instanceOf(b, ConnectionError)
      assert.isFalse(conn.isOpen())
      const after = yield* Effect.flip(conn.send(3, Metadata.makeMetadataRequest({ topics: [] })))
      assert.instanceOf(after, ConnectionError)
    })
  )

  it.scopedLive("fails in-flight requests with a ConnectionError when the socket dies", () =>
    Effect.gen(function* () {
      const { port } = yield* fakeBroker((frame, socket, i) => {
        const { header } = decodeRequestFrame(frame)
        if (i === 0) socket.write(encodeResponseFrame(18, 3, header.correlationId, apiVersionsBody(0, 3)))
        else socket.destroy()
      })
      const conn = yield* Connection.make({ host: "127.0.0.1", port, clientId: "t", requestTimeoutMs: 5000 })
      const error = yield* Effect.flip(conn.send(3, Metadata.makeMetadataRequest({ topics: [] })))
      assert.instanceOf(error, ConnectionError)
      assert.isTrue(error.retriable)
    })
  )

  it.scopedLive("fails to connect with a retriable ConnectionError", () =>
    Effect.gen(function* () {
      const { server, port } = yield* fakeBroker(() => {})
      server.close()
      yield* Effect.sleep(20)
      const error = yield* Effect.flip(
        Connection.make({ host: "127.0.0.1", port, clientId: "t", requestTimeoutMs: 1000 })
      )
      assert.strictEqual(error._tag, "ConnectionError")
    })
  )
})
