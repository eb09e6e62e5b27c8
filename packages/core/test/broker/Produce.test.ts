import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { encodeRequestFrame } from "../../src/protocol/Frame.js"
import * as MessageSet from "../../src/protocol/MessageSet.js"
import * as RecordBatch from "../../src/protocol/RecordBatch.js"
import { batch, createTopic, fetchOne, offsets, produce, produceRequest, values } from "./produceFetch.js"
import { connect, startBroker } from "./util.js"

const setup = (topics: Record<string, Record<string, string>> = { t: {} }, partitions = 1) =>
  Effect.gen(function* () {
    const { broker } = yield* startBroker()
    const client = yield* connect(broker.address.port)
    for (const [name, configs] of Object.entries(topics)) yield* createTopic(client, name, partitions, configs)
    return { broker, client }
  })

describe("Produce", () => {
  it.scopedLive("assigns consecutive offsets in every version from v3 and reads them back", () =>
    Effect.gen(function* () {
      const { client } = yield* setup()
      let next = 0
      for (let v = 3; v <= 11; v++) {
        const p = yield* produce(client, "t", 0, batch([`a${v}`, `b${v}`]), { version: v })
        assert.strictEqual(p.errorCode, 0, `v${v}`)
        assert.strictEqual(p.baseOffset, BigInt(next), `v${v}`)
        assert.strictEqual(p.logAppendTimeMs, -1n)
        if (v >= 5) assert.strictEqual(p.logStartOffset, 0n)
        next += 2
      }
      const f = yield* fetchOne(client, "t", 0, 0)
      assert.strictEqual(f.highWatermark, BigInt(next))
      assert.deepStrictEqual(
        offsets(f.records),
        Array.from({ length: next }, (_, i) => i)
      )
      assert.strictEqual(values(f.records)[0], "a3")
    })
  )

  it.scopedLive("rejects acks other than -1, 0, 1 with INVALID_REQUIRED_ACKS", () =>
    Effect.gen(function* () {
      const { client } = yield* setup()
      const p = yield* produce(client, "t", 0, batch(["x"]), { acks: 2 })
      assert.strictEqual(p.errorCode, 21)
      assert.strictEqual((yield* fetchOne(client, "t", 0, 0)).highWatermark, 0n)
    })
  )

  it.scopedLive("answers UNKNOWN_TOPIC_OR_PARTITION for unknown topics and partitions", () =>
    Effect.gen(function* () {
      const { client } = yield* setup()
      assert.strictEqual((yield* produce(client, "nope", 0, batch(["x"]))).errorCode, 3)
      assert.strictEqual((yield* produce(client, "t", 5, batch(["x"]))).errorCode, 3)
    })
  )

  it.scopedLive("requires exactly one batch per partition from v3 (INVALID_RECORD)", () =>
    Effect.gen(function* () {
      const { client } = yield* setup()
      const two = Buffer.concat([batch(["a"]), batch(["b"])])
      assert.strictEqual((yield* produce(client, "t", 0, two, { version: 3 })).errorCode, 87)
      assert.strictEqual((yield* produce(client, "t", 0, null, { version: 3 })).errorCode, 87)
      // v2 accepts several v2 batches
      const ok = yield* produce(client, "t", 0, two, { version: 2 })
      assert.strictEqual(ok.errorCode, 0)
      assert.deepStrictEqual(values((yield* fetchOne(client, "t", 0, 0)).records), ["a", "b"])
    })
  )

  it.scopedLive("checks sizes: MESSAGE_TOO_LARGE over max.message.bytes, RECORD_LIST_TOO_LARGE over a segment", () =>
    Effect.gen(function* () {
      const { client } = yield* setup({
        small: { "max.message.bytes": "300" },
        tiny: { "segment.bytes": "200", "max.message.bytes": "100000" }
      })
      const big = batch(["x".repeat(500)])
      assert.strictEqual((yield* produce(client, "small", 0, big)).errorCode, 10)
      assert.strictEqual((yield* produce(client, "small", 0, batch(["ok"]))).errorCode, 0)
      assert.strictEqual((yield* produce(client, "tiny", 0, big)).errorCode, 18)
    })
  )

  it.scopedLive("rejects a CRC mismatch with CORRUPT_MESSAGE and bad offset deltas with INVALID_RECORD", () =>
    Effect.gen(function* () {
      const { client } = yield* setup()
      const corrupt = batch(["hello"])
      corrupt[corrupt.length - 2]! ^= 0xff
      assert.strictEqual((yield* produce(client, "t", 0, corrupt)).errorCode, 2)
      const torn = batch(["hello"]).subarray(0, 40)
      assert.strictEqual((yield* produce(client, "t", 0, torn)).errorCode, 2)
      const badDeltas = RecordBatch.encode([
        { value: Buffer.from("a"), offsetDelta: 0 },
        { value: Buffer.from("b"), offsetDelta: 5 }
      ])
      const p = yield* produce(client, "t", 0, badDeltas)
      assert.strictEqual(p.errorCode, 87)
      assert.isNotNull(p.errorMessage)
      assert.strictEqual((yield* fetchOne(client, "t", 0, 0)).highWatermark, 0n)
    })
  )

  it.scopedLive("refuses null keys on compacted topics", () =>
    Effect.gen(function* () {
      const { client } = yield* setup({ c: { "cleanup.policy": "compact" }, d: {} })
      assert.strictEqual((yield* produce(client, "c", 0, batch(["v"], { keys: [null] }))).errorCode, 87)
      assert.strictEqual((yield* produce(client, "c", 0, batch(["v"], { keys: ["k"] }))).errorCode, 0)
      assert.strictEqual((yield* produce(client, "d", 0, batch(["v"], { keys: [null] }))).errorCode, 0)
    })
  )

  it.scopedLive("checks timestamps against message.timestamp.before/after.max.ms (INVALID_TIMESTAMP)", () =>
    Effect.gen(function* () {
      const { client } = yield* setup({
        t: { "message.timestamp.before.max.ms": "60000", "message.timestamp.after.max.ms": "60000" }
      })
      const now = Date.now()
      assert.strictEqual((yield* produce(client, "t", 0, batch(["old"], { timestamp: now - 3_600_000 }))).errorCode, 32)
      assert.strictEqual((yield* produce(client, "t", 0, batch(["new"], { timestamp: now + 3_600_000 }))).errorCode, 32)
      assert.strictEqual((yield* produce(client, "t", 0, batch(["now"], { timestamp: now }))).errorCode, 0)
    })
  )

  it.scopedLive("stamps LogAppendTime topics: attribute bit, maxTimestamp and a valid CRC", () =>
    Effect.gen(function* () {
      const { client } = yield* setup({ lat: { "message.timestamp.type": "LogAppendTime" } })
      const before = Date.now()
      const p = yield* produce(client, "lat", 0, batch(["a", "b"], { timestamp: 1000 }))
      assert.strictEqual(p.errorCode, 0)
      const at = Number(p.logAppendTimeMs)
      assert.isAtLeast(at, before - 5)
      const f = yield* fetchOne(client, "lat", 0, 0)
      const header = RecordBatch.readHeader(f.records!)
      assert.notStrictEqual(header.attributes & RecordBatch.Attributes.timestampTypeLogAppendTime, 0)
      assert.strictEqual(header.maxTimestamp, at)
      assert.isTrue(RecordBatch.isCrcValid(f.records!))
      for (const r of RecordBatch.decode(f.records!).records) assert.strictEqual(r.timestamp, at)
    })
  )

  it.scopedLive("stores compressed batches as sent (validated, never re-compressed); zstd needs v7", () =>
    Effect.gen(function* () {
      const { client } = yield* setup()
      for (const compression of [1, 2, 3, 4] as const) {
        const sent = batch(["one", "two", "three"], { compression })
        const copy = Buffer.from(sent)
        if (compression === 4) {
          assert.strictEqual((yield* produce(client, "t", 0, sent, { version: 6 })).errorCode, 76)
        }
        const p = yield* produce(client, "t", 0, sent, { version: 7 })
        assert.strictEqual(p.errorCode, 0, `codec ${compression}`)
        const f = yield* fetchOne(client, "t", 0, Number(p.baseOffset))
        const stored = Buffer.from(f.records!)
        // identical past baseOffset (8) and partitionLeaderEpoch (12..16)
        assert.isTrue(stored.subarray(16).equals(copy.subarray(16)), `codec ${compression}`)
        assert.deepStrictEqual(values(f.records), ["one", "two", "three"])
      }
    })
  )

  it.scopedLive("converts legacy message sets (magic 0 and 1) from Produce v0-2 to RecordBatch v2", () =>
    Effect.gen(function* () {
      const { client } = yield* setup()
      const m0 = MessageSet.encode([{ offset: 0, key: Buffer.from("k"), value: Buffer.from("m0") }], { magic: 0 })
      const m1 = MessageSet.encode(
        [
          { offset: 0, timestamp: 1234, value: Buffer.from("m1a") },
          { offset: 1, timestamp: 1235, value: Buffer.from("m1b") }
        ],
        { magic: 1, compression: 1 }
      )
      assert.strictEqual((yield* produce(client, "t", 0, m0, { version: 0 })).errorCode, 0)
      const p = yield* produce(client, "t", 0, m1, { version: 2 })
      assert.strictEqual(p.errorCode, 0)
      assert.strictEqual(p.baseOffset, 1n)
      const f = yield* fetchOne(client, "t", 0, 0)
      assert.deepStrictEqual(values(f.records), ["m0", "m1a", "m1b"])
      // v3+ must not carry legacy messages
      assert.strictEqual((yield* produce(client, "t", 0, m0, { version: 3 })).errorCode, 87)
    })
  )

  it.scopedLive("acks=0 sends no response; a failing acks=0 produce closes the connection", () =>
    Effect.gen(function* () {
      const { client } = yield* setup()
      yield* client.write(
        encodeRequestFrame(0, 9, client.nextCorrelationId(), "test", produceRequest("t", 0, batch(["x"]), 0))
      )
      // the next response on the connection is for the next request; requests of one connection are handled
      // concurrently, so the fetch long-polls (min_bytes 1) for the append it may overtake
      const f = yield* fetchOne(client, "t", 0, 0, 11, { minBytes: 1, maxWaitMs: 10_000 })
      assert.deepStrictEqual(values(f.records), ["x"])
      yield* client.write(
        encodeRequestFrame(0, 9, client.nextCorrelationId(), "test", produceRequest("nope", 0, batch(["x"]), 0))
      )
      yield* client.closed
    })
  )

  it.scopedLive("acks=-1 answers once the append is durable (flush every message)", () =>
    Effect.gen(function* () {
      const { client } = yield* setup({ t: { "flush.messages": "1" } })
      const p = yield* produce(client, "t", 0, batch(["durable"]), { acks: -1 })
      assert.strictEqual(p.errorCode, 0)
      assert.strictEqual((yield* fetchOne(client, "t", 0, 0)).highWatermark, 1n)
    })
  )

  it.scopedLive("produces to many partitions of many topics in one request", () =>
    Effect.gen(function* () {
      const { client } = yield* setup({ a: {}, b: {} }, 4)
      const req = produceRequest("a", 0, null)
      req.topicData = ["a", "b"].map((name) => ({
        name,
        partitionData: [0, 1, 2, 3].map((index) => ({ index, records: batch([`${name}${index}`]) }))
      }))
      const res = yield* client.send(0, 8, req)
      assert.deepStrictEqual(
        res.responses.map((t) => [t.name, t.partitionResponses.map((p) => [p.index, p.errorCode, p.baseOffset])]),
        ["a", "b"].map((name) => [name, [0, 1, 2, 3].map((i) => [i, 0, 0n])])
      )
      assert.deepStrictEqual(values((yield* fetchOne(client, "b", 3, 0)).records), ["b3"])
    })
  )

  it.scopedLive(
    "idempotent producers: a retry gets its original offsets; gaps, zombies and bad batches are refused",
    () =>
      Effect.gen(function* () {
        const { client } = yield* setup()
        const idem = (v: ReadonlyArray<string>, baseSequence: number, producerEpoch = 0, transactional = false) =>
          batch(v, { producerId: 42, producerEpoch, baseSequence, transactional })
        const first = idem(["a", "b"], 0)
        assert.strictEqual((yield* produce(client, "t", 0, Buffer.from(first))).baseOffset, 0n)
        assert.strictEqual((yield* produce(client, "t", 0, idem(["c"], 2))).baseOffset, 2n)
        // the retry of the first batch: its original base offset, and nothing written
        const retry = yield* produce(client, "t", 0, Buffer.from(first))
        assert.deepStrictEqual([retry.errorCode, retry.baseOffset], [0, 0n])
        assert.strictEqual((yield* fetchOne(client, "t", 0, 0)).highWatermark, 3n)
        // a gap: OUT_OF_ORDER_SEQUENCE_NUMBER (45)
        assert.strictEqual((yield* produce(client, "t", 0, idem(["x"], 9))).errorCode, 45)
        // a new epoch starts at sequence 0; the old epoch is then a zombie: INVALID_PRODUCER_EPOCH (47)
        assert.strictEqual((yield* produce(client, "t", 0, idem(["x"], 5, 1))).errorCode, 45)
        assert.strictEqual((yield* produce(client, "t", 0, idem(["d"], 0, 1))).baseOffset, 3n)
        assert.strictEqual((yield* produce(client, "t", 0, idem(["x"], 3, 0))).errorCode, 47)
        // an open transaction refuses non-transactional batches of its producer: INVALID_TXN_STATE (48)
        assert.strictEqual((yield* produce(client, "t", 0, idem(["t"], 1, 1, true))).baseOffset, 4n)
        assert.strictEqual((yield* produce(client, "t", 0, idem(["x"], 2, 1))).errorCode, 48)
        // clients may not write control batches, nor producer batches without a sequence: INVALID_RECORD (87)
        const marker = RecordBatch.encodeControlBatch({
          type: "COMMIT",
          producerId: 42,
          producerEpoch: 1,
          coordinatorEpoch: 0,
          timestamp: Date.now()
        })
        assert.strictEqual((yield* produce(client, "t", 0, marker)).errorCode, 87)
        assert.strictEqual(
          (yield* produce(client, "t", 0, batch(["x"], { producerId: 43, baseSequence: -1 }))).errorCode,
          87
        )
        assert.strictEqual((yield* fetchOne(client, "t", 0, 0)).highWatermark, 5n)
      })
  )
})
