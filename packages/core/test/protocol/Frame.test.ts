import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import {
  decodeRequestFrame,
  decodeResponseFrame,
  encodeRequestFrame,
  encodeResponseFrame,
  encodeResponseFrameParts,
  FrameDecoder,
  FrameReader,
  frameSize
} from "../../src/protocol/Frame.js"
import { ApiKey, decodeRequest } from "../../src/protocol/generated/ApiKey.js"
import * as ApiVersions from "../../src/protocol/generated/ApiVersions.js"
import * as Fetch from "../../src/protocol/generated/Fetch.js"
import * as Metadata from "../../src/protocol/generated/Metadata.js"
import { isProtocolError } from "../../src/protocol/ProtocolError.js"

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex")

const throwsProtocolError = (f: () => unknown): void => {
  try {
    f()
  } catch (e) {
    assert.isTrue(isProtocolError(e), `expected a ProtocolError, got ${String(e)}`)
    return
  }
  assert.fail("expected a ProtocolError")
}

const frame = (body: Uint8Array): Uint8Array => {
  const out = new Uint8Array(4 + body.length)
  new DataView(out.buffer).setInt32(0, body.length)
  out.set(body, 4)
  return out
}

describe("frameSize", () => {
  it("reads the int32 size, undefined when incomplete", () => {
    assert.strictEqual(frameSize(Uint8Array.of(0, 0, 1, 2)), 258)
    assert.strictEqual(frameSize(Uint8Array.of(0xff, 0xff, 0xff, 0xff)), -1)
    assert.strictEqual(frameSize(Uint8Array.of(0, 0, 1)), undefined)
    assert.strictEqual(frameSize(Uint8Array.of(9, 0, 0, 0, 5), 1), 5)
  })
})

describe("FrameDecoder", () => {
  it("reassembles frames however the stream is split", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 8 }),
        (bodies, cuts) => {
          const stream = Buffer.concat(bodies.map(frame))
          const d = new FrameDecoder()
          const out: Array<Uint8Array> = []
          let pos = 0
          let i = 0
          while (pos < stream.length) {
            const n = cuts[i++ % cuts.length]!
            out.push(...d.push(Uint8Array.from(stream.subarray(pos, pos + n))))
            pos += n
          }
          assert.deepStrictEqual(out.map(hex), bodies.map(hex))
          assert.strictEqual(d.buffered, 0)
        }
      ),
      { numRuns: 200 }
    )
  })

  it("returns a frame inside one chunk as a view", () => {
    const chunk = frame(Uint8Array.of(1, 2, 3))
    const [f] = new FrameDecoder().push(chunk)
    assert.strictEqual(f!.buffer, chunk.buffer)
  })

  it("rejects a negative size", () => {
    throwsProtocolError(() => new FrameDecoder().push(Uint8Array.of(0xff, 0xff, 0xff, 0xfe)))
  })

  it("rejects a size above the maximum before the body arrives", () => {
    const d = new FrameDecoder({ maxFrameSize: 1000 })
    throwsProtocolError(() => d.push(Uint8Array.of(0, 0, 0x03, 0xe9)))
    // the default maximum is socket.request.max.bytes = 104857600
    throwsProtocolError(() => new FrameDecoder().push(Uint8Array.of(0x06, 0x40, 0x00, 0x01)))
    assert.deepStrictEqual(new FrameDecoder().push(Uint8Array.of(0x06, 0x40, 0x00, 0x00)), [])
    throwsProtocolError(() => new FrameDecoder().push(Uint8Array.of(0x7f, 0xff, 0xff, 0xff)))
  })

  it("returns the frames before a bad size field with the problem (pushUntilError)", () => {
    const chunk = Uint8Array.of(0, 0, 0, 1, 7, 0, 0, 0, 2, 8, 9, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 5)
    const { frames, error } = new FrameDecoder().pushUntilError(chunk)
    assert.deepStrictEqual(
      frames.map((f) => [...f]),
      [[7], [8, 9]]
    )
    assert.match(error ?? "", /frame size -1/)
    throwsProtocolError(() => new FrameDecoder().push(chunk))
  })

  it("rejects a size below the minimum", () => {
    throwsProtocolError(() => new FrameDecoder({ minFrameSize: 8 }).push(Uint8Array.of(0, 0, 0, 7)))
  })
})

/** Feeds `stream` to `reader` as a socket would: each read fills at most the buffer handed out and `cut` bytes. */
const readAll = (reader: FrameReader, stream: Uint8Array, cuts: ReadonlyArray<number>) => {
  const out: Array<Uint8Array> = []
  const early: Array<string> = []
  const buffers: Array<number> = []
  let pos = 0
  let i = 0
  while (pos < stream.length) {
    const target = reader.buffer()
    buffers.push(target.length)
    const n = Math.min(target.length, cuts[i++ % cuts.length]!, stream.length - pos)
    target.set(stream.subarray(pos, pos + n))
    pos += n
    const frames = reader.read(n)
    out.push(...frames)
    early.push(...frames.map(hex))
  }
  return { out, early, buffers }
}

describe("FrameReader", () => {
  it("reassembles frames however the reads are cut, into scratch or straight into the frame", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 8, max: 64 }),
        (bodies, cuts, scratch) => {
          const stream = Buffer.concat(bodies.map(frame))
          const reader = new FrameReader({}, scratch)
          const { out, early } = readAll(reader, stream, cuts)
          // and later reads (into the reused scratch buffer) do not change a frame already returned
          assert.deepStrictEqual(out.map(hex), bodies.map(hex))
          assert.deepStrictEqual(early, bodies.map(hex))
        }
      ),
      { numRuns: 300 }
    )
  })

  it("reads the rest of a large frame into the frame itself", () => {
    const body = Buffer.alloc(1 << 20, 7)
    const reader = new FrameReader({}, 1024)
    const { out, buffers } = readAll(reader, frame(body), [1 << 20])
    assert.strictEqual(out.length, 1)
    assert.isTrue(Buffer.from(out[0]!).equals(body))
    // the first read fills the scratch buffer, the second takes everything else in one go
    assert.deepStrictEqual(buffers, [1024, (1 << 20) - 1020])
  })

  it("rejects sizes outside the limits", () => {
    const reject = (reader: FrameReader, size: Uint8Array) => {
      reader.buffer().set(size)
      throwsProtocolError(() => reader.read(4))
    }
    reject(new FrameReader(), Uint8Array.of(0xff, 0xff, 0xff, 0xfe))
    reject(new FrameReader({ maxFrameSize: 1000 }), Uint8Array.of(0, 0, 0x03, 0xe9))
    reject(new FrameReader({ minFrameSize: 8 }), Uint8Array.of(0, 0, 0, 7))
  })
})

describe("request and response frames", () => {
  it("a request frame decodes back to its header and body", () => {
    const body = Metadata.makeMetadataRequest({ topics: null, allowAutoTopicCreation: false })
    const bytes = encodeRequestFrame(ApiKey.Metadata, 9, 42, "client", body)
    const [f] = new FrameDecoder().push(Uint8Array.from(bytes))
    const { header, body: r } = decodeRequestFrame(f!)
    assert.deepStrictEqual(header, { requestApiKey: 3, requestApiVersion: 9, correlationId: 42, clientId: "client" })
    assert.deepStrictEqual(decodeRequest(ApiKey.Metadata, 9, r), body)
    assert.strictEqual(r.remaining, 0)
  })

  it("an ApiVersions v3 response frame uses response header v0", () => {
    const body = ApiVersions.makeApiVersionsResponse({ errorCode: 0 })
    const bytes = encodeResponseFrame(ApiKey.ApiVersions, 3, 7, body)
    // size 12 | correlation_id 7 (header v0: no tagged fields) | error_code | api_keys [] | throttle | tags
    assert.strictEqual(hex(bytes), "0000000c" + "00000007" + "0000" + "01" + "00000000" + "00")
    assert.deepStrictEqual(decodeResponseFrame(ApiKey.ApiVersions, 3, bytes.subarray(4)), { correlationId: 7, body })
  })

  it("a flexible Metadata response frame uses response header v1", () => {
    const bytes = encodeResponseFrame(ApiKey.Metadata, 12, 7, Metadata.makeMetadataResponse())
    assert.strictEqual(hex(bytes.subarray(4, 9)), "00000007" + "00")
  })
})

describe("encodeResponseFrameParts", () => {
  it("gives the bytes of encodeResponseFrame, keeping large records by reference, for every Fetch version", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 70_000 }), { maxLength: 6 }),
        fc.integer({ min: Fetch.validVersions.min, max: Fetch.validVersions.max }),
        (sizes, version) => {
          const records = sizes.map((n, i) => Buffer.alloc(n, i + 1))
          const body = Fetch.makeFetchResponse({
            responses: [
              Fetch.makeFetchResponseFetchableTopicResponse({
                topic: "t",
                topicId: new Uint8Array(16),
                partitions: records.map((r, partitionIndex) =>
                  Fetch.makeFetchResponsePartitionData({ partitionIndex, highWatermark: 10n, records: r })
                )
              })
            ]
          })
          const whole = encodeResponseFrame(1, version, 7, body)
          const parts = encodeResponseFrameParts(1, version, 7, body)
          assert.strictEqual(hex(Buffer.concat(parts)), hex(whole))
          // records of at least 16 KiB are the very arrays given, not copies
          for (const r of records) if (r.length >= 16 * 1024) assert.isTrue(parts.includes(r))
          const decoded = decodeResponseFrame(1, version, whole.subarray(4)).body
          assert.strictEqual(decoded.responses[0]?.partitions.length ?? 0, records.length)
        }
      ),
      { numRuns: 60 }
    )
  })
})
