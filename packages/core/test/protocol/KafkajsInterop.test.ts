/**
 * Cross-checks with kafkajs 2.2.4 as an oracle: batches its own encoders write decode exactly in Eddy,
 * and Eddy's batches decode in kafkajs's decoder. kafkajs supports gzip natively; the other codecs are
 * registered as kafkajs codec plugins backed by Eddy's Compression module.
 */

import { createRequire } from "node:module"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { Codec, compress, decompress } from "../../src/protocol/Compression.js"
import * as MessageSet from "../../src/protocol/MessageSet.js"
import * as RB from "../../src/protocol/RecordBatch.js"

const require = createRequire(import.meta.url)

interface KEncoder {
  readonly buffer: Buffer
}
type KHeaders = { [key: string]: Buffer | Array<Buffer> }
const kafkajs = require("kafkajs") as {
  CompressionTypes: { [k: string]: number }
  CompressionCodecs: { [k: number]: () => unknown }
}
const Long = require("kafkajs/src/utils/long") as { fromValue: (v: number | string) => unknown }
const Decoder = require("kafkajs/src/protocol/decoder") as new (buf: Buffer) => unknown
const { RecordBatch: KRecordBatch } = require("kafkajs/src/protocol/recordBatch/v0") as {
  RecordBatch: (o: object) => Promise<KEncoder>
}
const KRecord = require("kafkajs/src/protocol/recordBatch/record/v0") as (o: object) => KEncoder
const kDecodeBatch = require("kafkajs/src/protocol/recordBatch/v0/decoder") as (d: unknown) => Promise<{
  firstOffset: string
  lastOffsetDelta: number
  producerId: string
  producerEpoch: number
  firstSequence: number
  inTransaction: boolean
  records: Array<{ offset: string; timestamp: string; key: Buffer | null; value: Buffer | null; headers: KHeaders }>
}>
const KMessageSet = require("kafkajs/src/protocol/messageSet") as (o: object) => KEncoder & { size(): number }
const kDecodeMessageSet = require("kafkajs/src/protocol/messageSet/decoder") as (
  d: unknown,
  size: number
) => Promise<Array<{ offset: string; timestamp?: string; key: Buffer | null; value: Buffer | null }>>
const kGzip = require("kafkajs/src/protocol/message/compression/gzip") as {
  compress: (e: KEncoder) => Promise<Buffer>
}

const plugin = (codec: number) => () => ({
  compress: async (encoder: KEncoder) => Buffer.from(compress(codec, encoder.buffer)),
  decompress: async (buf: Buffer) => Buffer.from(decompress(codec, buf))
})

beforeAll(() => {
  kafkajs.CompressionCodecs[kafkajs.CompressionTypes.Snappy!] = plugin(Codec.snappy)
  kafkajs.CompressionCodecs[kafkajs.CompressionTypes.LZ4!] = plugin(Codec.lz4)
  kafkajs.CompressionCodecs[kafkajs.CompressionTypes.ZSTD!] = plugin(Codec.zstd)
})

const codecs = [
  RB.Compression.none,
  RB.Compression.gzip,
  RB.Compression.snappy,
  RB.Compression.lz4,
  RB.Compression.zstd
]

interface Rec {
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: ReadonlyArray<{ key: string; value: Buffer }>
  readonly timestamp: number
}

const bufArb = fc.uint8Array({ maxLength: 80 }).map((u) => Buffer.from(u))
const recArb: fc.Arbitrary<Rec> = fc.record({
  key: fc.option(bufArb, { nil: null }),
  value: fc.option(bufArb, { nil: null }),
  // kafkajs decodes headers into an object: use distinct keys so the comparison is exact
  headers: fc.uniqueArray(
    fc.record({
      // kafkajs collects headers in a plain object: names of Object.prototype members ("valueOf") break it
      key: fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !(k in Object.prototype)),
      value: bufArb
    }),
    {
      maxLength: 3,
      selector: (h) => h.key
    }
  ),
  timestamp: fc.integer({ min: 1_600_000_000_000, max: 1_800_000_000_000 })
})

const eqBuf = (a: Uint8Array | null, b: Uint8Array | null) =>
  a === null ? b === null : b !== null && Buffer.from(a).equals(Buffer.from(b))

describe("kafkajs interop", () => {
  it("batches encoded by kafkajs decode exactly in Eddy (every codec)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(recArb, { minLength: 1, maxLength: 12 }),
        fc.constantFrom(...codecs),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.boolean(),
        async (recs, compression, firstOffset, transactional) => {
          const firstTimestamp = recs[0]!.timestamp
          const records = recs.map((r, i) =>
            KRecord({
              offsetDelta: i,
              timestampDelta: r.timestamp - firstTimestamp,
              key: r.key,
              value: r.value,
              headers: Object.fromEntries(r.headers.map((h) => [h.key, h.value]))
            })
          )
          const encoder = await KRecordBatch({
            compression,
            firstOffset: Long.fromValue(firstOffset),
            firstTimestamp,
            maxTimestamp: Math.max(...recs.map((r) => r.timestamp)),
            lastOffsetDelta: recs.length - 1,
            transactional,
            producerId: Long.fromValue(42),
            producerEpoch: 3,
            firstSequence: 7,
            records
          })
          const buf = encoder.buffer
          const v = RB.validate(buf)
          assert.strictEqual(v._tag, "ValidBatch", RB.isValidationError(v) ? v.message : "")
          const { header, records: out } = RB.decode(buf)
          assert.strictEqual(RB.compressionOf(header.attributes), compression)
          assert.strictEqual(RB.isTransactional(header.attributes), transactional)
          assert.strictEqual(header.producerId, 42)
          assert.strictEqual(header.producerEpoch, 3)
          assert.strictEqual(header.baseSequence, 7)
          assert.strictEqual(out.length, recs.length)
          recs.forEach((r, i) => {
            const d = out[i]!
            assert.strictEqual(d.offset, firstOffset + i)
            assert.strictEqual(d.timestamp, r.timestamp)
            assert.isTrue(eqBuf(r.key, d.key))
            assert.isTrue(eqBuf(r.value, d.value))
            // kafkajs writes headers in Object.keys order (integer-like keys first): compare as maps
            assert.deepStrictEqual(
              Object.fromEntries(d.headers.map((h) => [h.key, Buffer.from(h.value!).toString("hex")])),
              Object.fromEntries(r.headers.map((h) => [h.key, h.value.toString("hex")]))
            )
          })
        }
      ),
      { numRuns: 60 }
    )
  })

  it("Eddy's batches decode in kafkajs's decoder with identical contents (every codec)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(recArb, { minLength: 1, maxLength: 12 }),
        fc.constantFrom(...codecs),
        fc.integer({ min: 0, max: 2 ** 40 }),
        async (recs, compression, baseOffset) => {
          const buf = RB.encode(recs, { compression, baseOffset, producerId: 9, producerEpoch: 1, baseSequence: 0 })
          const k = await kDecodeBatch(new Decoder(buf))
          assert.strictEqual(k.firstOffset, String(baseOffset))
          assert.strictEqual(k.lastOffsetDelta, recs.length - 1)
          assert.strictEqual(k.producerId, "9")
          assert.strictEqual(k.records.length, recs.length)
          recs.forEach((r, i) => {
            const d = k.records[i]!
            assert.strictEqual(d.offset, String(baseOffset + i))
            assert.strictEqual(d.timestamp, String(r.timestamp))
            assert.isTrue(eqBuf(r.key, d.key))
            assert.isTrue(eqBuf(r.value, d.value))
            assert.deepStrictEqual(
              Object.fromEntries(Object.entries(d.headers).map(([key, v]) => [key, (v as Buffer).toString("hex")])),
              Object.fromEntries(r.headers.map((h) => [h.key, h.value.toString("hex")]))
            )
          })
        }
      ),
      { numRuns: 60 }
    )
  })

  it("legacy message sets from kafkajs's encoder decode in Eddy (v0, v1, gzip wrapper) and convert to v2", async () => {
    const entries = [
      { key: Buffer.from("k1"), value: Buffer.from("v1"), timestamp: 1_700_000_000_001 },
      { key: null, value: Buffer.from("v2"), timestamp: 1_700_000_000_002 },
      { key: Buffer.from("k3"), value: null, timestamp: 1_700_000_000_003 }
    ]
    for (const messageVersion of [0, 1]) {
      const plain = KMessageSet({ messageVersion, compression: 0, entries }).buffer
      const out = MessageSet.decode(plain)
      assert.strictEqual(out.length, 3)
      out.forEach((m, i) => {
        assert.strictEqual(m.magic, messageVersion)
        assert.isTrue(eqBuf(entries[i]!.key, m.key))
        assert.isTrue(eqBuf(entries[i]!.value, m.value))
        assert.strictEqual(m.timestamp, messageVersion === 1 ? entries[i]!.timestamp : -1)
      })
      const batch = MessageSet.toRecordBatch(plain)
      assert.strictEqual(RB.validate(batch)._tag, "ValidBatch")
      assert.deepStrictEqual(
        RB.decode(batch).records.map((r) => (r.value === null ? null : Buffer.from(r.value).toString())),
        ["v1", "v2", null]
      )
    }
    // a gzip wrapper built the way kafkajs's Produce v2 request builds it
    const inner = KMessageSet({ messageVersion: 1, compression: 1, entries })
    const value = await kGzip.compress(inner)
    const wrapped = KMessageSet({
      messageVersion: 1,
      entries: [{ compression: 1, timestamp: 1_700_000_000_009, value }]
    }).buffer
    const out = MessageSet.decode(wrapped)
    assert.deepStrictEqual(
      out.map((m) => [m.codec, m.timestamp, m.value === null ? null : Buffer.from(m.value).toString()]),
      entries.map((e) => [1, e.timestamp, e.value === null ? null : e.value.toString()])
    )
    const batch = MessageSet.toRecordBatch(wrapped)
    assert.strictEqual(RB.compressionOf(RB.readHeader(batch).attributes), RB.Compression.gzip)
    assert.strictEqual(RB.decode(batch).records.length, 3)
  })

  it("Eddy's legacy message sets decode in kafkajs's message set decoder", async () => {
    const msgs = [
      { offset: 5, key: Buffer.from("a"), value: Buffer.from("1"), timestamp: 1_700_000_000_000 },
      { offset: 6, key: null, value: Buffer.from("2"), timestamp: 1_700_000_000_001 }
    ]
    for (const magic of [0, 1] as const) {
      for (const compression of [0, 1] as const) {
        const buf = MessageSet.encode(msgs, { magic, compression })
        const out = await kDecodeMessageSet(new Decoder(buf), buf.length)
        assert.deepStrictEqual(
          out.map((m) => [String(m.offset), m.value?.toString()]),
          [
            ["5", "1"],
            ["6", "2"]
          ],
          `magic ${magic} codec ${compression}`
        )
      }
    }
  })
})
