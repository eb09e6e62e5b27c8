/**
 * A malformed frame after valid requests in the same write: every answer due before it is sent, then the
 * connection closes (docs/broker.md, connection behaviour). A Produce acks=1 among them is acknowledged, so a
 * client never retries (and duplicates) an append it was not told about.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { decodeResponseFrame, encodeRequestFrame } from "../../src/protocol/Frame.js"
import * as ApiVersions from "../../src/protocol/generated/ApiVersions.js"
import * as Metadata from "../../src/protocol/generated/Metadata.js"
import { Writer } from "../../src/protocol/Writer.js"
import { batch, createTopic, fetchOne, produceRequest, values } from "./produceFetch.js"
import { connect, type RawClient, startBroker } from "./util.js"

/** The next answer, failing the test when none comes. */
const next = (client: RawClient) => Effect.timeout(client.nextFrame, 5000)

/** A frame whose body is written by `build` (size field set afterwards). */
const frame = (build: (w: Writer) => void): Buffer => {
  const w = new Writer()
  w.int32(0)
  build(w)
  const out = w.finish()
  out.writeInt32BE(out.length - 4, 0)
  return Buffer.from(out)
}

/** The malformed tails: each closes the connection. */
const malformed: ReadonlyArray<readonly [string, Buffer]> = [
  ["size field below the header", Buffer.from([0, 0, 0, 3, 1, 2, 3])],
  ["size field above socket.request.max.bytes", Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 0])],
  ["undecodable header", frame((w) => w.int16(3).int16(1).int32(99).int16(500))],
  ["unknown api key", frame((w) => w.int16(999).int16(0).int32(99).nullableString("x"))],
  [
    "undecodable Metadata body",
    frame((w) =>
      w
        .int16(3)
        .int16(9)
        .int32(99)
        .nullableString("x")
        .uvarint(0)
        .raw(new Uint8Array([0x7f]))
    )
  ]
]

describe("pipelined requests before a malformed frame", () => {
  it.scopedLive("are all answered, a Produce acks=1 included, before the connection closes", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker()
      const port = broker.address.port
      const admin = yield* connect(port)
      yield* createTopic(admin, "t", 1)
      let expected = 0
      for (const [name, bad] of malformed) {
        const client = yield* connect(port)
        const versions = encodeRequestFrame(18, 3, 1, "c", ApiVersions.makeApiVersionsRequest())
        const produced = encodeRequestFrame(0, 9, 2, "c", produceRequest("t", 0, batch([name])))
        const metadata = encodeRequestFrame(3, 12, 3, "c", Metadata.makeMetadataRequest({ topics: null }))
        yield* client.write(Buffer.concat([versions, produced, metadata, bad]))
        const a = decodeResponseFrame(18, 3, yield* next(client))
        assert.strictEqual(a.correlationId, 1, name)
        const p = decodeResponseFrame(0, 9, yield* next(client))
        assert.strictEqual(p.correlationId, 2, name)
        const partition = p.body.responses[0]!.partitionResponses[0]!
        assert.strictEqual(partition.errorCode, 0, name)
        assert.strictEqual(partition.baseOffset, BigInt(expected), name)
        const m = decodeResponseFrame(3, 12, yield* next(client))
        assert.strictEqual(m.correlationId, 3, name)
        yield* Effect.timeout(client.closed, 5000)
        expected++
      }
      // each record was appended exactly once
      const all = yield* fetchOne(admin, "t", 0, 0)
      assert.deepStrictEqual(
        values(all.records),
        malformed.map(([name]) => name)
      )
    })
  )
})
