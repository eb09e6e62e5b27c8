import * as net from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Scope } from "effect"
import * as Handler from "../../src/broker/Handler.js"
import * as ApiVersionsHandler from "../../src/broker/handlers/apiVersions.js"
import * as MetadataHandler from "../../src/broker/handlers/metadata.js"
import { decodeResponseFrame, encodeRequestFrame } from "../../src/protocol/Frame.js"
import * as ApiVersions from "../../src/protocol/generated/ApiVersions.js"
import * as DescribeGroups from "../../src/protocol/generated/DescribeGroups.js"
import * as FindCoordinator from "../../src/protocol/generated/FindCoordinator.js"
import * as ListGroups from "../../src/protocol/generated/ListGroups.js"
import * as Metadata from "../../src/protocol/generated/Metadata.js"
import * as Produce from "../../src/protocol/generated/Produce.js"
import { Writer } from "../../src/protocol/Writer.js"
import { connect, type RawClient, startServer } from "./util.js"

/** ListGroups that sleeps for the number of ms given as its first states filter, and echoes it. */
const slowHandler = Handler.make({
  apiKey: ListGroups.apiKey,
  minVersion: 4,
  maxVersion: 4,
  handle: (request) =>
    Effect.as(
      Effect.sleep(Number(request.statesFilter[0] ?? "0")),
      ListGroups.makeListGroupsResponse({
        groups: [{ groupId: request.statesFilter[0] ?? "", protocolType: "", groupState: "", groupType: "" }]
      })
    )
})

/** Requests of `countingHandler` running now, and the most seen at once. */
const running = { now: 0, max: 0 }

/** ListGroups v5 that holds each request 100 ms and counts how many run at once (its filter pads the frame). */
const countingHandler = Handler.make({
  apiKey: ListGroups.apiKey,
  minVersion: 5,
  maxVersion: 5,
  handle: () =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        running.now++
        running.max = Math.max(running.max, running.now)
      }),
      () => Effect.as(Effect.sleep(100), ListGroups.makeListGroupsResponse({ groups: [] })),
      () => Effect.sync(() => running.now--)
    )
})

/** DescribeGroups that dies; it has an error response. */
const dyingWithErrorResponse = Handler.make({
  apiKey: DescribeGroups.apiKey,
  minVersion: 0,
  maxVersion: 5,
  handle: () => Effect.die(new Error("boom")),
  errorResponse: (request, error) =>
    DescribeGroups.makeDescribeGroupsResponse({
      groups: request.groups.map((groupId) =>
        DescribeGroups.makeDescribeGroupsResponseDescribedGroup({ groupId, errorCode: error.errorCode })
      )
    })
})

/** FindCoordinator that dies and has no error response: the connection closes. */
const dyingWithoutErrorResponse = Handler.make({
  apiKey: FindCoordinator.apiKey,
  minVersion: 0,
  maxVersion: 6,
  handle: () => Effect.die(new Error("boom"))
})

/** Produce that answers success, or dies for the topic "fail". */
const fakeProduce = Handler.make({
  apiKey: Produce.apiKey,
  minVersion: 3,
  maxVersion: 11,
  handle: (request) =>
    request.topicData.some((t) => t.name === "fail")
      ? Effect.die(new Error("produce failed"))
      : Effect.succeed(Produce.makeProduceResponse())
})

const testHandlers = [
  ApiVersionsHandler.handler,
  MetadataHandler.handler,
  slowHandler,
  dyingWithErrorResponse,
  dyingWithoutErrorResponse,
  fakeProduce
]

const slowRequest = (client: RawClient, delayMs: number) =>
  encodeRequestFrame(
    16,
    4,
    client.nextCorrelationId(),
    "pipeline",
    ListGroups.makeListGroupsRequest({ statesFilter: [String(delayMs)] })
  )

const frame = (build: (w: Writer) => void): Buffer => {
  const w = new Writer()
  w.int32(0)
  build(w)
  const out = w.finish()
  out.writeInt32BE(out.length - 4, 0)
  return Buffer.from(out)
}

const apiVersionsWorks = (client: RawClient) =>
  client.send(18, 3, ApiVersions.makeApiVersionsRequest()).pipe(Effect.map((r) => r.errorCode === 0))

describe("Connection", () => {
  it.scopedLive("answers pipelined requests in request order while handling them concurrently", () =>
    Effect.gen(function* () {
      const server = yield* startServer(testHandlers)
      const client = yield* connect(server.address.port)
      const delays = Array.from({ length: 60 }, (_, i) => (i * 37) % 50)
      const frames: Array<Buffer> = []
      const expectations: Array<{ correlationId: number; kind: "slow" | "versions" | "metadata"; delay: number }> = []
      for (const [i, delay] of delays.entries()) {
        if (i % 3 === 1) {
          const correlationId = client.nextCorrelationId()
          frames.push(encodeRequestFrame(18, 3, correlationId, "p", ApiVersions.makeApiVersionsRequest()))
          expectations.push({ correlationId, kind: "versions", delay: 0 })
        } else if (i % 3 === 2) {
          const correlationId = client.nextCorrelationId()
          frames.push(encodeRequestFrame(3, 12, correlationId, "p", Metadata.makeMetadataRequest({ topics: null })))
          expectations.push({ correlationId, kind: "metadata", delay: 0 })
        } else {
          const f = slowRequest(client, delay)
          frames.push(f)
          expectations.push({ correlationId: f.readInt32BE(8), kind: "slow", delay })
        }
      }
      const start = Date.now()
      yield* client.write(Buffer.concat(frames))
      for (const e of expectations) {
        const raw = yield* client.nextFrame
        if (e.kind === "slow") {
          const res = decodeResponseFrame(16, 4, raw)
          assert.strictEqual(res.correlationId, e.correlationId)
          assert.strictEqual(res.body.groups[0]!.groupId, String(e.delay))
        } else if (e.kind === "versions") {
          assert.strictEqual(decodeResponseFrame(18, 3, raw).correlationId, e.correlationId)
        } else {
          assert.strictEqual(decodeResponseFrame(3, 12, raw).correlationId, e.correlationId)
        }
      }
      // 20 slow requests of up to 49 ms each: sequential handling would take ~500 ms
      assert.isBelow(Date.now() - start, 400)
    })
  )

  it.scopedLive("sends no response to Produce acks=0 and keeps the order for the next request", () =>
    Effect.gen(function* () {
      const server = yield* startServer(testHandlers)
      const client = yield* connect(server.address.port)
      const silent = encodeRequestFrame(0, 7, client.nextCorrelationId(), "p", Produce.makeProduceRequest({ acks: 0 }))
      const loud = encodeRequestFrame(0, 7, client.nextCorrelationId(), "p", Produce.makeProduceRequest({ acks: 1 }))
      yield* client.write(Buffer.concat([silent, loud]))
      const res = decodeResponseFrame(0, 7, yield* client.nextFrame)
      assert.strictEqual(res.correlationId, loud.readInt32BE(8))
      // a failing acks=0 produce closes the connection (the only way to tell the client)
      yield* client.write(
        encodeRequestFrame(
          0,
          7,
          client.nextCorrelationId(),
          "p",
          Produce.makeProduceRequest({ acks: 0, topicData: [{ name: "fail", partitionData: [] }] })
        )
      )
      yield* client.closed
    })
  )

  it.scopedLive("turns a handler defect into UNKNOWN_SERVER_ERROR, or closes when the api has no error response", () =>
    Effect.gen(function* () {
      const server = yield* startServer(testHandlers)
      const client = yield* connect(server.address.port)
      const res = yield* client.send(15, 5, DescribeGroups.makeDescribeGroupsRequest({ groups: ["g1", "g2"] }))
      assert.deepStrictEqual(
        res.groups.map((g) => [g.groupId, g.errorCode]),
        [
          ["g1", -1],
          ["g2", -1]
        ]
      )
      assert.isTrue(yield* apiVersionsWorks(client))
      yield* client.write(
        encodeRequestFrame(10, 4, client.nextCorrelationId(), "p", FindCoordinator.makeFindCoordinatorRequest())
      )
      yield* client.closed
      const other = yield* connect(server.address.port)
      assert.isTrue(yield* apiVersionsWorks(other))
    })
  )

  it.scopedLive("closes a connection on malformed frames while other connections keep working", () =>
    Effect.gen(function* () {
      const server = yield* startServer(testHandlers, { "socket.request.max.bytes": "1024" })
      const healthy = yield* connect(server.address.port)
      const cases: Array<[string, Buffer]> = [
        ["oversized", Buffer.from([0, 0, 0x10, 0, 1, 2, 3])],
        ["negative size", Buffer.from([0xff, 0xff, 0xff, 0xff])],
        ["below the header minimum", Buffer.from([0, 0, 0, 4, 0, 18, 0, 0])],
        ["lying client id length", frame((w) => w.int16(3).int16(1).int32(1).int16(500))],
        ["unknown api key", frame((w) => w.int16(999).int16(0).int32(1).nullableString("x"))],
        ["key without a handler", frame((w) => w.int16(50).int16(0).int32(1).nullableString("x"))],
        ["unsupported Metadata version", frame((w) => w.int16(3).int16(13).int32(1).nullableString("x").uvarint(0))],
        [
          "garbage body",
          frame((w) =>
            w
              .int16(3)
              .int16(9)
              .int32(1)
              .nullableString("x")
              .uvarint(0)
              .raw(new Uint8Array([0x7f]))
          )
        ]
      ]
      for (const [name, bytes] of cases) {
        const bad = yield* connect(server.address.port)
        yield* bad.write(bytes)
        const closed = yield* Effect.timeout(bad.closed, 2000).pipe(Effect.exit)
        assert.isTrue(Exit.isSuccess(closed), `${name}: connection should be closed`)
        assert.isTrue(yield* apiVersionsWorks(healthy), `${name}: other connection still works`)
      }
    })
  )

  it.scopedLive("stops reading while queued.max.request.bytes of requests are unanswered", () =>
    Effect.gen(function* () {
      const server = yield* startServer([countingHandler], { "queued.max.request.bytes": String(200 * 1024) })
      const client = yield* connect(server.address.port)
      const padding = "x".repeat(50 * 1024)
      const frames = Array.from({ length: 40 }, () =>
        encodeRequestFrame(
          16,
          5,
          client.nextCorrelationId(),
          "p",
          ListGroups.makeListGroupsRequest({ statesFilter: [padding] })
        )
      )
      running.max = 0
      yield* client.write(Buffer.concat(frames))
      for (const f of frames) {
        assert.strictEqual(decodeResponseFrame(16, 5, yield* client.nextFrame).correlationId, f.readInt32BE(8))
      }
      // 200 KiB of 50 KiB requests: four, plus those of the chunk that crossed the budget
      assert.isAtMost(running.max, 8, `${running.max} requests ran at once`)
    })
  )

  it.scopedLive("closes idle connections after connections.max.idle.ms", () =>
    Effect.gen(function* () {
      const server = yield* startServer(testHandlers, { "connections.max.idle.ms": "200" })
      const client = yield* connect(server.address.port)
      assert.isTrue(yield* apiVersionsWorks(client))
      const closed = yield* Effect.timeout(client.closed, 3000).pipe(Effect.exit)
      assert.isTrue(Exit.isSuccess(closed))
    })
  )

  it.scopedLive("answers requests already received before shutting down", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const { address } = yield* Scope.extend(startServer(testHandlers), scope)
      const client = yield* connect(address.port)
      const slow = slowRequest(client, 300)
      yield* client.write(slow)
      yield* Effect.sleep(50)
      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
      const res = decodeResponseFrame(16, 4, yield* client.nextFrame)
      assert.strictEqual(res.correlationId, slow.readInt32BE(8))
      yield* client.closed
      yield* closing.await
      const refused = yield* Effect.exit(
        Effect.async<void, Error>((resume) => {
          const s = net.connect({ host: "127.0.0.1", port: address.port })
          s.on("connect", () => {
            s.destroy()
            resume(Effect.fail(new Error("still accepting")))
          })
          s.on("error", () => resume(Effect.void))
        })
      )
      assert.isTrue(Exit.isSuccess(refused))
    })
  )
})
