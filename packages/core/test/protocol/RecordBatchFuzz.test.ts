import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import * as MessageSet from "../../src/protocol/MessageSet.js"
import { isProtocolError } from "../../src/protocol/ProtocolError.js"
import * as RB from "../../src/protocol/RecordBatch.js"

const utf8 = (s: string) => Buffer.from(s, "utf8")
const codecs = [0, 1, 2, 3, 4] as const

/** Runs `f`; only a ProtocolError may escape. */
const onlyProtocolError = (what: string, f: () => unknown) => {
  try {
    f()
  } catch (e) {
    assert.isTrue(isProtocolError(e), `${what} threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`)
  }
}

const seeds: ReadonlyArray<Buffer> = codecs.flatMap((compression) => [
  RB.encode(
    [
      { key: utf8("key-1"), value: utf8("value ".repeat(20)), headers: [{ key: "h", value: utf8("x") }] },
      { key: null, value: null },
      { value: utf8("third") }
    ],
    { compression, producerId: 5, producerEpoch: 1, baseSequence: 0 }
  ),
  RB.encodeControlBatch({ type: "COMMIT", producerId: 1, producerEpoch: 0, coordinatorEpoch: 2, timestamp: 9 })
])

const legacySeeds: ReadonlyArray<Buffer> = [0, 1].flatMap((magic) =>
  [0, 1, 2, 3].map((compression) =>
    MessageSet.encode(
      [
        { offset: 0, key: utf8("k"), value: utf8("v".repeat(50)), timestamp: 5 },
        { offset: 1, key: null, value: utf8("w") }
      ],
      { magic: magic as 0 | 1, compression: compression as RB.Compression }
    )
  )
)

const mutation = (seed: Buffer) =>
  fc
    .array(fc.tuple(fc.nat({ max: seed.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 })
    .map((edits) => {
      const b = Buffer.from(seed)
      for (const [i, v] of edits) b[i] = v
      return b
    })

const exercise = (buf: Buffer, fixCrc: boolean) => {
  if (fixCrc && buf.length >= RB.HEADER_SIZE)
    onlyProtocolError("writeCrc", () => RB.writeCrc(buf, 0, Math.min(buf.length, RB.sizeAt(buf))))
  onlyProtocolError("decode", () => RB.decode(buf))
  onlyProtocolError("records", () => [...RB.records(buf)])
  onlyProtocolError("headers", () => RB.headers(buf))
  // validate never throws for bad input
  const v = RB.validate(buf)
  assert.include(["ValidBatch", "ValidationError"], v._tag)
  onlyProtocolError("MessageSet.decode", () => MessageSet.decode(buf))
  onlyProtocolError("MessageSet.toRecordBatch", () => MessageSet.toRecordBatch(buf))
  onlyProtocolError("magicAt", () => MessageSet.magicAt(buf))
}

describe("RecordBatch fuzz", () => {
  it("random bytes: only ProtocolError or a typed validation error", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => exercise(Buffer.from(bytes), false)),
      { numRuns: 500 }
    )
  })

  it("random bytes behind a plausible v2 header", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.integer({ min: -2, max: 10 }),
        fc.constantFrom(...codecs),
        (tail, count, codec) => {
          const buf = Buffer.concat([Buffer.alloc(RB.HEADER_SIZE), tail])
          buf.writeInt32BE(buf.length - RB.LOG_OVERHEAD, RB.Field.batchLength)
          buf[RB.Field.magic] = 2
          buf.writeInt16BE(codec, RB.Field.attributes)
          buf.writeInt32BE(count, RB.Field.recordCount)
          buf.writeInt32BE(count - 1, RB.Field.lastOffsetDelta)
          exercise(buf, true)
        }
      ),
      { numRuns: 500 }
    )
  })

  it("mutated valid batches (every codec), with and without a repaired CRC", () => {
    for (const seed of seeds) {
      fc.assert(
        fc.property(mutation(seed), fc.boolean(), (buf, fix) => exercise(buf, fix)),
        { numRuns: 120 }
      )
    }
  })

  it("truncations of valid batches", () => {
    for (const seed of [...seeds, ...legacySeeds]) {
      for (let n = 0; n < seed.length; n++) exercise(Buffer.from(seed.subarray(0, n)), false)
    }
  })

  it("mutated legacy message sets", () => {
    for (const seed of legacySeeds) {
      fc.assert(
        fc.property(mutation(seed), (buf) => exercise(buf, false)),
        { numRuns: 120 }
      )
    }
  })
})
