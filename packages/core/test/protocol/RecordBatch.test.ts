import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { isProtocolError } from "../../src/protocol/ProtocolError.js"
import * as RB from "../../src/protocol/RecordBatch.js"

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex")
const utf8 = (s: string) => Buffer.from(s, "utf8")
/** Hex bytes one field per line; text after two spaces is a comment. */
const annotated = (s: string) =>
  hex(
    s
      .split("\n")
      .map((line) => line.trim().split(/\s{2,}/)[0] ?? "")
      .join("")
  )

const throwsProtocolError = (f: () => unknown) => {
  try {
    f()
  } catch (e) {
    assert.isTrue(isProtocolError(e), `expected a ProtocolError, got ${String(e)}`)
    return
  }
  assert.fail("expected a ProtocolError")
}

// One record with key "k", value "vv", header h=0x01, timestampDelta 3; written out by hand from the spec.
const GOLDEN = annotated(`
  0000000000000005      baseOffset 5
  0000003f              batchLength 63 (75 - 12)
  00000007              partitionLeaderEpoch 7
  02                    magic
  572c1224              crc (CRC-32C of attributes..end)
  0000                  attributes
  00000000              lastOffsetDelta
  0000018bcfe56800      baseTimestamp 1700000000000
  0000018bcfe56803      maxTimestamp 1700000000003
  ffffffffffffffff      producerId -1
  ffff                  producerEpoch -1
  ffffffff              baseSequence -1
  00000001              recordCount
  1a                    record length 13 (zigzag 26)
  00                    attributes
  06                    timestampDelta 3 (zigzag)
  00                    offsetDelta 0
  02 6b                 key "k"
  04 7676               value "vv"
  02                    1 header
  02 68                 header key h
  02 01                 header value 0x01
`)

const goldenInput: RB.RecordInput = {
  key: utf8("k"),
  value: utf8("vv"),
  headers: [{ key: "h", value: Uint8Array.of(1) }],
  timestamp: 1700000000003
}

const codecs = [
  RB.Compression.none,
  RB.Compression.gzip,
  RB.Compression.snappy,
  RB.Compression.lz4,
  RB.Compression.zstd
]

const bytesArb = fc.option(fc.uint8Array({ maxLength: 64 }), { nil: null })
const recordArb: fc.Arbitrary<RB.RecordInput> = fc.record({
  key: bytesArb,
  value: bytesArb,
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 10, unit: "grapheme" }), value: bytesArb }), {
    maxLength: 3
  }),
  timestamp: fc.integer({ min: 0, max: 2 ** 45 })
})

const same = (a: Uint8Array | null | undefined, b: Uint8Array | null) => {
  if (a === null || a === undefined) return b === null
  return b !== null && Buffer.from(a).equals(Buffer.from(b))
}

describe("RecordBatch", () => {
  it("encodes golden bytes written from the spec", () => {
    const out = RB.encode([goldenInput], { baseOffset: 5, partitionLeaderEpoch: 7, baseTimestamp: 1700000000000 })
    assert.strictEqual(out.toString("hex"), GOLDEN.toString("hex"))
    // the first record's timestamp is the default base timestamp
    const dflt = RB.encode([{ ...goldenInput, timestamp: 1700000000000 }])
    assert.strictEqual(dflt.readBigInt64BE(RB.Field.baseTimestamp), 1700000000000n)
  })

  it("decodes golden bytes", () => {
    const { header, records } = RB.decode(GOLDEN)
    assert.strictEqual(header.baseOffset, 5)
    assert.strictEqual(header.partitionLeaderEpoch, 7)
    assert.strictEqual(header.crc, 0x572c1224)
    assert.strictEqual(header.recordCount, 1)
    assert.isTrue(RB.isCrcValid(GOLDEN))
    assert.strictEqual(records.length, 1)
    const r = records[0]!
    assert.strictEqual(r.offset, 5)
    assert.strictEqual(r.timestamp, 1700000000003)
    assert.strictEqual(Buffer.from(r.key!).toString(), "k")
    assert.strictEqual(Buffer.from(r.value!).toString(), "vv")
    assert.deepStrictEqual(
      r.headers.map((h) => [h.key, [...h.value!]]),
      [["h", [1]]]
    )
    // uncompressed keys and values are views into the input, not copies
    assert.strictEqual(r.key!.buffer, GOLDEN.buffer)
    assert.strictEqual(r.value!.byteOffset, GOLDEN.byteOffset + 68)
  })

  it("decodes at a position inside a larger buffer", () => {
    const buf = Buffer.concat([Buffer.alloc(13, 0xee), GOLDEN, Buffer.alloc(5)])
    assert.strictEqual(RB.decode(buf, 13).records[0]!.offset, 5)
    assert.strictEqual(RB.validate(buf, 13)._tag, "ValidBatch")
  })

  it("round trips random records with every codec and batch flags", () => {
    fc.assert(
      fc.property(
        fc.array(recordArb, { maxLength: 20 }),
        fc.constantFrom(...codecs),
        fc.record({
          baseOffset: fc.integer({ min: 0, max: 2 ** 50 }),
          partitionLeaderEpoch: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
          producerId: fc.integer({ min: -1, max: 2 ** 50 }),
          producerEpoch: fc.integer({ min: -1, max: 32767 }),
          baseSequence: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
          transactional: fc.boolean()
        }),
        (records, compression, o) => {
          const buf = RB.encode(records, { ...o, compression })
          const v = RB.validate(buf)
          assert.strictEqual(v._tag, "ValidBatch", RB.isValidationError(v) ? v.message : "")
          const { header, records: out } = RB.decode(buf)
          assert.strictEqual(header.batchLength + RB.LOG_OVERHEAD, buf.length)
          assert.strictEqual(RB.compressionOf(header.attributes), compression)
          assert.strictEqual(RB.isTransactional(header.attributes), o.transactional)
          assert.strictEqual(header.producerId, o.producerId)
          assert.strictEqual(header.producerEpoch, o.producerEpoch)
          assert.strictEqual(header.baseSequence, o.baseSequence)
          assert.strictEqual(header.partitionLeaderEpoch, o.partitionLeaderEpoch)
          assert.strictEqual(header.recordCount, records.length)
          assert.strictEqual(header.lastOffsetDelta, records.length - 1)
          if (records.length > 0) {
            assert.strictEqual(header.maxTimestamp, Math.max(...records.map((r) => r.timestamp!)))
          }
          assert.strictEqual(out.length, records.length)
          records.forEach((r, i) => {
            const d = out[i]!
            assert.strictEqual(d.offset, o.baseOffset + i)
            assert.strictEqual(d.timestamp, r.timestamp)
            assert.isTrue(same(r.key, d.key))
            assert.isTrue(same(r.value, d.value))
            assert.strictEqual(d.headers.length, r.headers!.length)
            r.headers!.forEach((h, j) => {
              assert.strictEqual(d.headers[j]!.key, h.key)
              assert.isTrue(same(h.value, d.headers[j]!.value))
            })
          })
          assert.deepStrictEqual([...RB.records(buf)], out)
        }
      ),
      { numRuns: 150 }
    )
  })

  it("LogAppendTime: every record reads maxTimestamp", () => {
    const buf = RB.encode(
      [
        { value: utf8("a"), timestamp: 10 },
        { value: utf8("b"), timestamp: 30 },
        { value: utf8("c"), timestamp: 20 }
      ],
      { logAppendTime: true }
    )
    const { header, records } = RB.decode(buf)
    assert.strictEqual(
      header.attributes & RB.Attributes.timestampTypeLogAppendTime,
      RB.Attributes.timestampTypeLogAppendTime
    )
    assert.deepStrictEqual(
      records.map((r) => r.timestamp),
      [30, 30, 30]
    )
  })

  it("delete horizon sets the attribute bit and is stored as baseTimestamp", () => {
    const buf = RB.encode([{ value: null, key: utf8("k"), timestamp: 1000 }], { deleteHorizonMs: 5000 })
    const { header, records } = RB.decode(buf)
    assert.strictEqual(header.attributes & RB.Attributes.hasDeleteHorizon, RB.Attributes.hasDeleteHorizon)
    assert.strictEqual(header.baseTimestamp, 5000)
    assert.strictEqual(records[0]!.timestamp, 1000)
  })

  it("rewriting baseOffset and partitionLeaderEpoch leaves the CRC valid and shifts offsets", () => {
    for (const compression of codecs) {
      const buf = RB.encode([{ value: utf8("x") }, { value: utf8("y") }], { compression })
      RB.setBaseOffset(buf, 0, 1_000_000_000_123)
      RB.setPartitionLeaderEpoch(buf, 0, 42)
      assert.isTrue(RB.isCrcValid(buf))
      assert.strictEqual(RB.validate(buf)._tag, "ValidBatch")
      const { header, records } = RB.decode(buf)
      assert.strictEqual(header.partitionLeaderEpoch, 42)
      assert.deepStrictEqual(
        records.map((r) => r.offset),
        [1_000_000_000_123, 1_000_000_000_124]
      )
    }
  })

  it("records() is lazy: a corrupt compressed payload only fails on iteration", () => {
    const buf = RB.encode([{ value: utf8("hello".repeat(100)) }], { compression: RB.Compression.gzip })
    buf.fill(0x00, RB.HEADER_SIZE + 10) // break the gzip stream (CRC no longer matches either)
    const lazy = RB.records(buf) // no decompression yet
    throwsProtocolError(() => [...lazy])
    // and a valid one decompresses once, iterable twice
    const ok = RB.records(RB.encode([{ value: utf8("v") }], { compression: RB.Compression.zstd }))
    assert.strictEqual([...ok].length, 1)
    assert.strictEqual([...ok].length, 1)
  })

  describe("validate", () => {
    const good = () =>
      RB.encode([
        { key: utf8("a"), value: utf8("1") },
        { key: null, value: utf8("2"), timestamp: 5 }
      ])

    it("accepts a valid batch and reports what the broker still checks", () => {
      const v = RB.validate(good())
      assert.strictEqual(v._tag, "ValidBatch")
      if (v._tag !== "ValidBatch") return
      assert.isTrue(v.hasNullKey)
      assert.strictEqual(v.minTimestamp, 5)
      assert.strictEqual(v.size, good().length)
    })

    it("CRC mismatch -> CORRUPT_MESSAGE", () => {
      const buf = good()
      buf[buf.length - 1]! ^= 0xff
      const v = RB.validate(buf)
      assert.strictEqual(v._tag, "ValidationError")
      if (v._tag === "ValidationError") {
        assert.strictEqual(v.error, "CORRUPT_MESSAGE")
        assert.strictEqual(v.errorCode, 2)
      }
    })

    it("truncated batch, bad batchLength, bad magic -> CORRUPT_MESSAGE", () => {
      const buf = good()
      for (const bad of [buf.subarray(0, buf.length - 1), buf.subarray(0, 30)]) {
        const v = RB.validate(bad)
        assert.isTrue(RB.isValidationError(v) && v.error === "CORRUPT_MESSAGE")
      }
      const magic = Buffer.from(buf)
      magic[16] = 1
      const v = RB.validate(magic)
      assert.isTrue(RB.isValidationError(v) && v.error === "CORRUPT_MESSAGE")
    })

    const withFix = (mutate: (b: Buffer) => void) => {
      const buf = good()
      mutate(buf)
      RB.writeCrc(buf)
      return RB.validate(buf)
    }

    it("record count vs lastOffsetDelta -> INVALID_RECORD", () => {
      const v = withFix((b) => b.writeInt32BE(5, RB.Field.lastOffsetDelta))
      assert.isTrue(RB.isValidationError(v) && v.error === "INVALID_RECORD" && v.errorCode === 87)
      const w = withFix((b) => b.writeInt32BE(3, RB.Field.recordCount))
      assert.isTrue(RB.isValidationError(w) && w.error === "INVALID_RECORD")
    })

    it("offset deltas out of order -> INVALID_RECORD, compressed too", () => {
      for (const compression of codecs) {
        const buf = RB.encode(
          [
            { value: utf8("a"), offsetDelta: 1 },
            { value: utf8("b"), offsetDelta: 0 }
          ],
          { compression }
        )
        const v = RB.validate(buf)
        assert.isTrue(RB.isValidationError(v) && v.error === "INVALID_RECORD", `codec ${compression}`)
      }
    })

    it("unknown codec -> UNSUPPORTED_COMPRESSION_TYPE", () => {
      const v = withFix((b) => b.writeInt16BE(6, RB.Field.attributes))
      assert.isTrue(RB.isValidationError(v) && v.error === "UNSUPPORTED_COMPRESSION_TYPE" && v.errorCode === 76)
    })

    it("walks headers, multi-byte varints and null keys like decode does", () => {
      const big = new Uint8Array(300).fill(7)
      const buf = RB.encode([
        {
          key: utf8("k"),
          value: big,
          timestamp: 5,
          headers: [
            { key: "ключ", value: utf8("v") },
            { key: "n", value: null }
          ]
        },
        { key: null, value: null, timestamp: 1 },
        { key: big, value: utf8("x"), timestamp: 2 ** 40 }
      ])
      const v = RB.validate(buf)
      assert.strictEqual(v._tag, "ValidBatch", RB.isValidationError(v) ? v.message : "")
      if (v._tag !== "ValidBatch") return
      assert.isTrue(v.hasNullKey)
      assert.strictEqual(v.minTimestamp, 1)
      assert.strictEqual(v.maxTimestamp, 2 ** 40)
      // an invalid UTF-8 header key is refused, as decode refuses it
      const bad = RB.encode([{ value: utf8("v"), headers: [{ key: "é", value: null }] }])
      bad[bad.indexOf(0xc3, RB.HEADER_SIZE)] = 0xff
      RB.writeCrc(bad)
      const w = RB.validate(bad)
      assert.isTrue(RB.isValidationError(w) && w.error === "INVALID_RECORD")
    })

    it("a record length that lies -> INVALID_RECORD", () => {
      const v = withFix((b) => {
        b[RB.HEADER_SIZE] = 0x7e
      })
      assert.isTrue(RB.isValidationError(v) && v.error === "INVALID_RECORD")
    })
  })

  describe("control batches", () => {
    it("encode and decode transaction markers", () => {
      for (const type of ["ABORT", "COMMIT"] as const) {
        const buf = RB.encodeControlBatch({
          type,
          producerId: 77,
          producerEpoch: 3,
          coordinatorEpoch: 9,
          timestamp: 1234,
          baseOffset: 100,
          partitionLeaderEpoch: 4
        })
        assert.strictEqual(RB.validate(buf)._tag, "ValidBatch")
        const { header, records } = RB.decode(buf)
        assert.isTrue(RB.isControl(header.attributes))
        assert.isTrue(RB.isTransactional(header.attributes))
        assert.strictEqual(header.producerId, 77)
        assert.strictEqual(header.producerEpoch, 3)
        assert.strictEqual(header.baseOffset, 100)
        assert.strictEqual(header.partitionLeaderEpoch, 4)
        assert.strictEqual(records.length, 1)
        assert.strictEqual(Buffer.from(records[0]!.key!).toString("hex"), type === "ABORT" ? "00000000" : "00000001")
        assert.strictEqual(Buffer.from(records[0]!.value!).toString("hex"), "000000000009")
        assert.deepStrictEqual(RB.decodeControlRecord(records[0]!), {
          type: type === "ABORT" ? 0 : 1,
          coordinatorEpoch: 9
        })
      }
    })

    it("property: control batches round trip", () => {
      fc.assert(
        fc.property(
          fc.constantFrom("ABORT" as const, "COMMIT" as const),
          fc.integer({ min: 0, max: 2 ** 50 }),
          fc.integer({ min: 0, max: 32767 }),
          fc.integer({ min: -1, max: 2 ** 31 - 1 }),
          (type, producerId, producerEpoch, coordinatorEpoch) => {
            const buf = RB.encodeControlBatch({ type, producerId, producerEpoch, coordinatorEpoch, timestamp: 1 })
            const r = RB.decode(buf).records[0]!
            assert.deepStrictEqual(RB.decodeControlRecord(r), { type: RB.ControlType[type], coordinatorEpoch })
          }
        )
      )
    })

    it("malformed control records fail with ProtocolError", () => {
      const base = { offset: 0, timestamp: 0, headers: [] }
      throwsProtocolError(() => RB.decodeControlRecord({ ...base, key: null, value: null }))
      throwsProtocolError(() => RB.decodeControlRecord({ ...base, key: hex("0000"), value: null }))
      throwsProtocolError(() => RB.decodeControlRecord({ ...base, key: hex("00000001"), value: hex("0000") }))
      throwsProtocolError(() => RB.decodeControlRecord({ ...base, key: hex("ffff0001"), value: hex("000000000001") }))
      assert.deepStrictEqual(RB.decodeControlRecord({ ...base, key: hex("00000002"), value: null }), {
        type: 2,
        coordinatorEpoch: -1
      })
    })
  })

  it("empty batch encodes with lastOffsetDelta -1 and validates", () => {
    const buf = RB.encode([])
    assert.strictEqual(RB.readHeader(buf).lastOffsetDelta, -1)
    assert.strictEqual(RB.validate(buf)._tag, "ValidBatch")
    assert.deepStrictEqual(RB.decode(buf).records, [])
  })
})

describe("recompress", () => {
  const codecs = [
    RB.Compression.none,
    RB.Compression.gzip,
    RB.Compression.snappy,
    RB.Compression.lz4,
    RB.Compression.zstd
  ]
  const record = fc.record({
    key: fc.option(fc.uint8Array({ maxLength: 20 }), { nil: null }),
    value: fc.option(fc.uint8Array({ maxLength: 200 }), { nil: null }),
    timestamp: fc.integer({ min: 0, max: 2 ** 42 }),
    headers: fc.array(
      fc.record({ key: fc.string({ maxLength: 5 }), value: fc.option(fc.uint8Array({ maxLength: 5 }), { nil: null }) }),
      { maxLength: 2 }
    )
  })

  it("any codec to any codec: same header fields and records, valid CRC, the new codec", () => {
    fc.assert(
      fc.property(
        fc.array(record, { maxLength: 20 }),
        fc.constantFrom(...codecs),
        fc.constantFrom(...codecs),
        fc.boolean(),
        fc.integer({ min: 0, max: 2 ** 40 }),
        (records, from, to, transactional, producerId) => {
          const sent = RB.encode(records, {
            baseOffset: 7,
            partitionLeaderEpoch: 3,
            compression: from,
            producerId,
            producerEpoch: 5,
            baseSequence: 11,
            transactional
          })
          const valid = RB.validate(sent)
          if (RB.isValidationError(valid)) assert.fail(valid.message)
          const out = RB.recompress(sent, 0, valid.section, to)
          assert.isTrue(RB.isCrcValid(out))
          assert.strictEqual(RB.validate(out)._tag, "ValidBatch")
          const a = RB.readHeader(sent)
          const b = RB.readHeader(out)
          assert.strictEqual(RB.compressionOf(b.attributes), to)
          assert.strictEqual(b.batchLength, out.length - RB.LOG_OVERHEAD)
          assert.deepStrictEqual(
            { ...b, attributes: b.attributes & ~7, crc: 0, batchLength: 0 },
            { ...a, attributes: a.attributes & ~7, crc: 0, batchLength: 0 }
          )
          assert.deepStrictEqual(RB.decode(out).records, RB.decode(sent).records)
          if (from === to && from === RB.Compression.none) assert.isTrue(out.equals(sent))
        }
      ),
      { numRuns: 200 }
    )
  })

  it("sets maxTimestamp when asked and keeps a batch at another position in its buffer intact", () => {
    const batch = RB.encode([{ value: utf8("a"), timestamp: 10 }], { compression: RB.Compression.gzip })
    const buf = Buffer.concat([Buffer.alloc(13), batch])
    const valid = RB.validate(buf, 13)
    if (RB.isValidationError(valid)) return assert.fail(valid.message)
    const out = RB.recompress(buf, 13, valid.section, RB.Compression.zstd, { maxTimestamp: 99, level: 1 })
    assert.strictEqual(RB.readHeader(out).maxTimestamp, 99)
    assert.isTrue(RB.isCrcValid(out))
    assert.deepStrictEqual(
      RB.decode(out).records.map((r) => [r.timestamp, Buffer.from(r.value!).toString()]),
      [[10, "a"]]
    )
  })
})
