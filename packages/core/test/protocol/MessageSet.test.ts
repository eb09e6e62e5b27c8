import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import * as MessageSet from "../../src/protocol/MessageSet.js"
import { isProtocolError } from "../../src/protocol/ProtocolError.js"
import * as RB from "../../src/protocol/RecordBatch.js"

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex")
const utf8 = (s: string) => Buffer.from(s, "utf8")

const throwsProtocolError = (f: () => unknown) => {
  try {
    f()
  } catch (e) {
    assert.isTrue(isProtocolError(e), `expected a ProtocolError, got ${String(e)}`)
    return
  }
  assert.fail("expected a ProtocolError")
}

// magic 0, key "k", value "v": crc = CRC-32 of 00 00 00000001 6b 00000001 76
const GOLDEN_V0 = hex("0000000000000007 00000010 1fecd70a 00 00 00000001 6b 00000001 76")

describe("MessageSet", () => {
  it("encodes and decodes golden magic-0 bytes", () => {
    const out = MessageSet.encode([{ offset: 7, key: utf8("k"), value: utf8("v") }], { magic: 0 })
    assert.strictEqual(out.toString("hex"), GOLDEN_V0.toString("hex"))
    const [m] = MessageSet.decode(GOLDEN_V0)
    assert.strictEqual(m!.offset, 7)
    assert.strictEqual(m!.magic, 0)
    assert.strictEqual(m!.timestamp, -1)
    assert.strictEqual(Buffer.from(m!.key!).toString(), "k")
  })

  it("tells v2 from legacy by the magic byte at offset 16", () => {
    assert.isTrue(MessageSet.isLegacy(GOLDEN_V0))
    assert.isFalse(MessageSet.isLegacy(RB.encode([{ value: null }])))
    assert.strictEqual(MessageSet.magicAt(MessageSet.encode([{ offset: 0, value: null }], { magic: 1 })), 1)
    throwsProtocolError(() => MessageSet.magicAt(Buffer.alloc(16)))
  })

  it("round trips both magics and every legacy codec", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            key: fc.option(fc.uint8Array({ maxLength: 30 }), { nil: null }),
            value: fc.option(fc.uint8Array({ maxLength: 60 }), { nil: null }),
            timestamp: fc.integer({ min: 0, max: 2 ** 45 })
          }),
          { minLength: 1, maxLength: 10 }
        ),
        fc.constantFrom(0 as const, 1 as const),
        fc.constantFrom(0, 1, 2, 3),
        fc.integer({ min: 0, max: 2 ** 40 }),
        (msgs, magic, compression, base) => {
          const input = msgs.map((m, i) => ({ ...m, offset: base + i }))
          const buf = MessageSet.encode(input, { magic, compression: compression as RB.Compression })
          const out = MessageSet.decode(buf)
          assert.strictEqual(out.length, input.length)
          out.forEach((m, i) => {
            assert.strictEqual(m.offset, base + i)
            assert.strictEqual(m.magic, magic)
            assert.strictEqual(m.codec, compression)
            assert.strictEqual(m.timestamp, magic === 0 ? -1 : input[i]!.timestamp)
            assert.deepStrictEqual(
              m.key === null ? null : [...m.key],
              input[i]!.key === null ? null : [...input[i]!.key!]
            )
            assert.deepStrictEqual(
              m.value === null ? null : [...m.value],
              input[i]!.value === null ? null : [...input[i]!.value!]
            )
          })
          // produce path: convert to a v2 batch
          const batch = MessageSet.toRecordBatch(buf)
          assert.strictEqual(RB.validate(batch)._tag, "ValidBatch")
          const { header, records } = RB.decode(batch)
          assert.strictEqual(RB.compressionOf(header.attributes), compression)
          assert.deepStrictEqual(
            records.map((r) => r.offset),
            input.map((_, i) => i)
          )
          records.forEach((r, i) => {
            assert.strictEqual(r.timestamp, magic === 0 ? -1 : input[i]!.timestamp)
          })
        }
      ),
      { numRuns: 150 }
    )
  })

  it("magic 1 compressed wrappers: relative inner offsets, LogAppendTime from the wrapper", () => {
    const buf = MessageSet.encode(
      [
        { offset: 100, value: utf8("a"), timestamp: 1 },
        { offset: 101, value: utf8("b"), timestamp: 2 }
      ],
      { magic: 1, compression: RB.Compression.gzip, logAppendTime: 999 }
    )
    // one wrapper holding the last absolute offset
    assert.strictEqual(buf.readBigInt64BE(0), 101n)
    const out = MessageSet.decode(buf)
    assert.deepStrictEqual(
      out.map((m) => [m.offset, m.timestamp]),
      [
        [100, 999],
        [101, 999]
      ]
    )
  })

  it("CRC mismatch, bad magic, nested compression, zstd fail with ProtocolError", () => {
    const bad = Buffer.from(GOLDEN_V0)
    bad[bad.length - 1] = 0x77
    throwsProtocolError(() => MessageSet.decode(bad))
    const magic = Buffer.from(GOLDEN_V0)
    magic[16] = 2
    throwsProtocolError(() => MessageSet.decode(magic))
    throwsProtocolError(() =>
      MessageSet.encode([{ offset: 0, value: null }], { magic: 1, compression: RB.Compression.zstd })
    )
    throwsProtocolError(() => MessageSet.toRecordBatch(Buffer.alloc(0)))
  })

  it("a truncated tail is an error for produce and ignored for fetch when asked", () => {
    const two = MessageSet.encode(
      [
        { offset: 0, value: utf8("a") },
        { offset: 1, value: utf8("b") }
      ],
      { magic: 1 }
    )
    const cut = two.subarray(0, two.length - 3)
    throwsProtocolError(() => MessageSet.decode(cut))
    assert.strictEqual(MessageSet.decode(cut, { allowTruncatedTail: true }).length, 1)
  })

  it("fromRecordBatches down-converts v2 batches for Fetch v0-3, skipping control batches", () => {
    const a = RB.encode([{ key: utf8("k"), value: utf8("v"), timestamp: 50 }], {
      baseOffset: 10,
      compression: RB.Compression.snappy
    })
    const marker = RB.encodeControlBatch({
      type: "COMMIT",
      producerId: 1,
      producerEpoch: 0,
      coordinatorEpoch: 0,
      timestamp: 1,
      baseOffset: 11
    })
    const b = RB.encode(
      [
        { value: utf8("w"), timestamp: 60 },
        { value: utf8("x"), timestamp: 61 }
      ],
      {
        baseOffset: 12,
        compression: RB.Compression.zstd
      }
    )
    for (const magic of [0, 1] as const) {
      const out = MessageSet.decode(MessageSet.fromRecordBatches(Buffer.concat([a, marker, b]), magic))
      assert.deepStrictEqual(
        out.map((m) => [m.offset, m.timestamp, Buffer.from(m.value!).toString()]),
        [
          [10, magic === 1 ? 50 : -1, "v"],
          [12, magic === 1 ? 60 : -1, "w"],
          [13, magic === 1 ? 61 : -1, "x"]
        ]
      )
    }
  })
})
