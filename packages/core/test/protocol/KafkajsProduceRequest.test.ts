/**
 * Cross-check of whole requests with kafkajs 2.2.4 as an oracle: Produce requests that kafkajs encodes
 * (v3..v7, several topics and partitions, keys, headers, gzip) decode exactly with Eddy's generated codec
 * and RecordBatch, and Produce responses Eddy encodes parse in kafkajs's response decoder.
 */
import { createRequire } from "node:module"
import { assert, describe, it } from "@effect/vitest"
import { decodeRequestFrame } from "../../src/protocol/Frame.js"
import { ApiKey, decodeRequest, encodeResponse } from "../../src/protocol/generated/ApiKey.js"
import type { ProduceRequest, ProduceResponse } from "../../src/protocol/generated/Produce.js"
import * as RB from "../../src/protocol/RecordBatch.js"
import { Writer } from "../../src/protocol/Writer.js"

const require = createRequire(import.meta.url)
const kafkajs = require("kafkajs") as { CompressionTypes: { None: number; GZIP: number } }
const kRequest = require("kafkajs/src/protocol/request") as (o: object) => Promise<{ buffer: Buffer }>

interface KMessage {
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly timestamp: number
  readonly headers: { [k: string]: Buffer }
}

const topicData = [
  {
    topic: "orders",
    partitions: [0, 1, 2].map((partition) => ({
      partition,
      firstSequence: 0,
      messages: Array.from(
        { length: 5 + partition },
        (_, i): KMessage => ({
          key: i === 0 ? null : Buffer.from(`key-${partition}-${i}`),
          value: Buffer.from(JSON.stringify({ partition, i, text: "é✓".repeat(i) })),
          timestamp: 1_700_000_000_000 + i * 7,
          headers: i % 2 === 0 ? { trace: Buffer.from(`t${i}`), "x-empty": Buffer.alloc(0) } : {}
        })
      )
    }))
  },
  {
    topic: "payments.v1",
    partitions: [
      { partition: 7, firstSequence: 0, messages: [{ key: Buffer.from("k"), value: null, timestamp: 1, headers: {} }] }
    ]
  }
]

const headersOf = (h: ReadonlyArray<RB.RecordHeader>) =>
  Object.fromEntries(h.map((x) => [x.key, x.value === null ? null : Buffer.from(x.value).toString("hex")]))

describe("kafkajs Produce requests decode in Eddy", () => {
  for (const version of [3, 4, 5, 6, 7]) {
    for (const [codecName, compression] of [
      ["none", kafkajs.CompressionTypes.None],
      ["gzip", kafkajs.CompressionTypes.GZIP]
    ] as const) {
      it(`v${version} ${codecName}`, async () => {
        const request = require(`kafkajs/src/protocol/requests/produce/v${version}/request`) as (o: object) => object
        const { buffer } = await kRequest({
          correlationId: 4242,
          clientId: "kafkajs-oracle",
          request: request({ acks: -1, timeout: 30000, compression, topicData })
        })
        // kafkajs prefixes the size; the frame decoder hands the broker what follows it
        assert.strictEqual(buffer.readInt32BE(0), buffer.length - 4)
        const { header, body } = decodeRequestFrame(buffer.subarray(4))
        assert.strictEqual(header.requestApiKey, ApiKey.Produce)
        assert.strictEqual(header.requestApiVersion, version)
        assert.strictEqual(header.correlationId, 4242)
        assert.strictEqual(header.clientId, "kafkajs-oracle")
        const produce = decodeRequest(ApiKey.Produce, version, body) as ProduceRequest
        assert.strictEqual(body.remaining, 0)
        assert.strictEqual(produce.acks, -1)
        assert.strictEqual(produce.timeoutMs, 30000)
        assert.strictEqual(produce.transactionalId, null)
        assert.deepStrictEqual(
          produce.topicData.map((t) => t.name),
          topicData.map((t) => t.topic)
        )
        for (const [ti, t] of produce.topicData.entries()) {
          const expectedTopic = topicData[ti]!
          assert.deepStrictEqual(
            t.partitionData.map((p) => p.index),
            expectedTopic.partitions.map((p) => p.partition)
          )
          for (const [pi, p] of t.partitionData.entries()) {
            const expected = expectedTopic.partitions[pi]!.messages
            assert.isNotNull(p.records)
            const batches = RB.headers(p.records!)
            assert.strictEqual(batches.length, 1, "one batch per partition (v3+)")
            const validated = RB.validate(p.records!, 0)
            assert.isFalse(RB.isValidationError(validated), "the batch passes broker-side validation")
            const { header: bh, records } = RB.decode(p.records!, 0)
            assert.strictEqual(RB.compressionOf(bh.attributes), compression)
            assert.strictEqual(records.length, expected.length)
            for (const [i, r] of records.entries()) {
              const m = expected[i]!
              assert.strictEqual(r.offset, i)
              assert.strictEqual(r.timestamp, m.timestamp)
              assert.strictEqual(r.key === null ? null : Buffer.from(r.key).toString(), m.key?.toString() ?? null)
              assert.strictEqual(r.value === null ? null : Buffer.from(r.value).toString(), m.value?.toString() ?? null)
              assert.deepStrictEqual(
                headersOf(r.headers),
                Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, v.toString("hex")]))
              )
            }
          }
        }
      })
    }
  }
})

describe("Eddy's Produce responses parse in kafkajs", () => {
  for (const version of [3, 5, 7]) {
    it(`v${version}`, async () => {
      const response: ProduceResponse = {
        responses: [
          {
            name: "orders",
            partitionResponses: [
              {
                index: 0,
                errorCode: 0,
                baseOffset: 41n,
                logAppendTimeMs: -1n,
                logStartOffset: 3n,
                recordErrors: [],
                errorMessage: null,
                currentLeader: { leaderId: -1, leaderEpoch: -1 }
              },
              {
                index: 1,
                errorCode: 0,
                baseOffset: 9_007_199_254_740_000n,
                logAppendTimeMs: 1_700_000_000_000n,
                logStartOffset: 0n,
                recordErrors: [],
                errorMessage: null,
                currentLeader: { leaderId: -1, leaderEpoch: -1 }
              }
            ]
          }
        ],
        throttleTimeMs: 0,
        nodeEndpoints: []
      }
      const w = new Writer()
      encodeResponse(ApiKey.Produce, version, w, response)
      const { decode, parse } = require(`kafkajs/src/protocol/requests/produce/v${version}/response`) as {
        decode: (b: Buffer) => Promise<unknown>
        parse: (
          d: unknown
        ) => Promise<{ topics: Array<{ topicName: string; partitions: Array<Record<string, unknown>> }> }>
      }
      const parsed = await parse(await decode(Buffer.from(w.finish())))
      assert.strictEqual(parsed.topics[0]!.topicName, "orders")
      const [p0, p1] = parsed.topics[0]!.partitions
      assert.strictEqual(p0!.partition, 0)
      assert.strictEqual(String(p0!.baseOffset), "41")
      assert.strictEqual(String(p1!.baseOffset), "9007199254740000")
      assert.strictEqual(String(p1!.logAppendTime), "1700000000000")
      if (version >= 5) assert.strictEqual(String(p0!.logStartOffset), "3")
    })
  }
})
