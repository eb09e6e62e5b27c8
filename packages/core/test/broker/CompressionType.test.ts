/**
 * Compression as Kafka's broker applies it: zstd batches served as stored to Fetch v4+ (KIP-110 refuses only
 * zstd topics below v10, and v0-3 cannot down-convert zstd), and `compression.type` other than `producer`
 * recompressing produced batches (one batch per batch, producer fields and flags kept).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as CreateTopics from "../../src/protocol/generated/CreateTopics.js"
import * as IncrementalAlterConfigs from "../../src/protocol/generated/IncrementalAlterConfigs.js"
import * as MessageSet from "../../src/protocol/MessageSet.js"
import * as RecordBatch from "../../src/protocol/RecordBatch.js"
import { batch, createTopic, fetchOne, fetchRequest, produce, topicId, values } from "./produceFetch.js"
import { connect, type RawClient, startBroker } from "./util.js"

const setup = (extra: Record<string, string> = {}) =>
  Effect.gen(function* () {
    const { broker } = yield* startBroker({ extra })
    return yield* connect(broker.address.port)
  })

const codecs = { uncompressed: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const
type CodecName = keyof typeof codecs

/** `sent` as the log stores it at `baseOffset`: only baseOffset and partitionLeaderEpoch (0) differ. */
const asStored = (sent: Uint8Array, baseOffset: number): Buffer => {
  const out = Buffer.from(sent)
  RecordBatch.setBaseOffset(out, 0, baseOffset)
  RecordBatch.setPartitionLeaderEpoch(out, 0, 0)
  return out
}

/** Records with keys, headers and distinct timestamps, compressible enough for levels to matter. */
const richBatch = (n: number, options: RecordBatch.EncodeOptions = {}, tag = "r") =>
  RecordBatch.encode(
    Array.from({ length: n }, (_, i) => ({
      key: i % 3 === 0 ? null : Buffer.from(`${tag}-key-${i}`),
      value: Buffer.from(`${tag}-value-${i} `.repeat(20)),
      headers: [{ key: "h", value: i % 2 === 0 ? Buffer.from(`hv${i}`) : null }],
      timestamp: 1_700_000_000_000 + ((i * 7919) % 1000)
    })),
    options
  )

/** The records of every batch in `records`, for comparing what was sent with what is stored. */
const recordsOf = (records: Uint8Array | null) =>
  records === null
    ? []
    : RecordBatch.headers(records).flatMap(({ position }) =>
        RecordBatch.decode(records, position).records.map((r) => ({
          offset: r.offset,
          timestamp: r.timestamp,
          key: r.key === null ? null : Buffer.from(r.key).toString(),
          value: r.value === null ? null : Buffer.from(r.value).toString(),
          headers: r.headers.map((h) => [h.key, h.value === null ? null : Buffer.from(h.value).toString()])
        }))
      )

/** Records of `sent` as they read back from offset `base`. */
const expectedRecords = (sent: Uint8Array, base: number) => recordsOf(asStored(sent, base))

const createTopicCode = (client: RawClient, name: string, configs: Record<string, string>) =>
  Effect.map(
    client.send(
      19,
      4,
      CreateTopics.makeCreateTopicsRequest({
        timeoutMs: 5000,
        topics: [
          CreateTopics.makeCreateTopicsRequestCreatableTopic({
            name,
            numPartitions: 1,
            replicationFactor: 1,
            configs: Object.entries(configs).map(([n, value]) =>
              CreateTopics.makeCreateTopicsRequestCreatableTopicConfig({ name: n, value })
            )
          })
        ]
      })
    ),
    (res) => res.topics[0]!.errorCode
  )

describe("Fetch of zstd data (KIP-110)", () => {
  it.scopedLive("v4 to v17 return zstd batches byte for byte as stored; v0-3 stop before them", () =>
    Effect.gen(function* () {
      const client = yield* setup()
      yield* createTopic(client, "z")
      const id = yield* topicId(client, "z")
      // written raw: a gzip batch, a zstd batch, an uncompressed one
      const sent = [batch(["g0", "g1"], { compression: 1 }), richBatch(5, { compression: 4 }), batch(["n0"])]
      const bases = [0, 2, 7]
      for (let i = 0; i < sent.length; i++) {
        const p = yield* produce(client, "z", 0, Buffer.from(sent[i]!), { version: 7 })
        assert.deepStrictEqual([p.errorCode, p.baseOffset], [0, BigInt(bases[i]!)])
      }
      const stored = Buffer.concat(sent.map((b, i) => asStored(b, bases[i]!)))
      for (let v = 4; v <= 17; v++) {
        for (const [offset, from] of [
          [0, 0],
          [3, sent[0]!.length]
        ] as const) {
          const res = yield* client.send(1, v, fetchRequest([{ topic: "z", topicId: id, partition: 0, offset }]))
          const p = res.responses[0]!.partitions[0]!
          assert.strictEqual(p.errorCode, 0, `v${v} offset ${offset}`)
          assert.isTrue(
            Buffer.from(p.records!).equals(stored.subarray(from)),
            `v${v} offset ${offset}: bytes as stored`
          )
        }
      }
      for (let v = 0; v <= 3; v++) {
        // from the start: the gzip batch down-converted, nothing at or past the zstd batch
        const before = yield* fetchOne(client, "z", 0, 0, v)
        assert.strictEqual(before.errorCode, 0, `v${v}`)
        const messages = MessageSet.decode(before.records!)
        assert.deepStrictEqual(
          messages.map((m) => [m.offset, Buffer.from(m.value!).toString()]),
          [
            [0, "g0"],
            [1, "g1"]
          ],
          `v${v}`
        )
        // from inside the zstd batch: it cannot be down-converted
        const at = yield* fetchOne(client, "z", 0, 3, v)
        assert.strictEqual(at.errorCode, 76, `v${v}`)
        assert.strictEqual((yield* fetchOne(client, "z", 0, 7, v)).errorCode, 0, `v${v} past the zstd batch`)
      }
    })
  )

  it.scopedLive("a topic whose compression.type is zstd is refused below v10, whatever its data", () =>
    Effect.gen(function* () {
      const client = yield* setup()
      yield* createTopic(client, "zt", 1, { "compression.type": "zstd" })
      yield* createTopic(client, "plain")
      const id = yield* topicId(client, "zt")
      const pid = yield* topicId(client, "plain")
      // empty: refused below v10 all the same
      for (const v of [0, 4, 9]) assert.strictEqual((yield* fetchOne(client, "zt", 0, 0, v)).errorCode, 76, `v${v}`)
      yield* produce(client, "zt", 0, batch(["a", "b"]), { version: 3 })
      yield* produce(client, "plain", 0, batch(["p"]), { version: 3 })
      for (let v = 0; v <= 17; v++) {
        const res = yield* client.send(
          1,
          v,
          fetchRequest([
            { topic: "zt", topicId: id, partition: 0, offset: 0 },
            { topic: "plain", topicId: pid, partition: 0, offset: 0 }
          ])
        )
        const [zt, plain] = res.responses.map((t) => t.partitions[0]!)
        assert.strictEqual(zt!.errorCode, v < 10 ? 76 : 0, `v${v}`)
        assert.strictEqual(plain!.errorCode, 0, `v${v}`)
        if (v >= 10) assert.deepStrictEqual(values(zt!.records), ["a", "b"], `v${v}`)
      }
    })
  )

  it.scopedLive("the broker's compression.type=zstd makes every topic without its own setting a zstd topic", () =>
    Effect.gen(function* () {
      const client = yield* setup({ "compression.type": "zstd" })
      yield* createTopic(client, "inherits")
      yield* createTopic(client, "own", 1, { "compression.type": "producer" })
      assert.strictEqual((yield* fetchOne(client, "inherits", 0, 0, 9)).errorCode, 76)
      assert.strictEqual((yield* fetchOne(client, "own", 0, 0, 9)).errorCode, 0)
      yield* produce(client, "inherits", 0, batch(["x"], { compression: 1 }))
      const p = yield* fetchOne(client, "inherits", 0, 0, 10)
      assert.strictEqual(RecordBatch.compressionOf(RecordBatch.readHeader(p.records!).attributes), 4)
    })
  )
})

describe("compression.type on produce", () => {
  it.scopedLive("recompresses every codec to the topic's codec: same records, offsets, valid CRC", () =>
    Effect.gen(function* () {
      const client = yield* setup()
      const targets: ReadonlyArray<CodecName> = ["uncompressed", "gzip", "snappy", "lz4", "zstd"]
      for (const target of targets) {
        const topic = `to-${target}`
        yield* createTopic(client, topic, 1, { "compression.type": target })
        let next = 0
        for (const source of targets) {
          const sent = richBatch(4, { compression: codecs[source] }, source)
          const p = yield* produce(client, topic, 0, Buffer.from(sent))
          assert.deepStrictEqual([p.errorCode, p.baseOffset], [0, BigInt(next)], `${source} -> ${target}`)
          const f = yield* fetchOne(client, topic, 0, next, 12)
          const stored = f.records!
          const h = RecordBatch.readHeader(stored)
          assert.strictEqual(RecordBatch.compressionOf(h.attributes), codecs[target], `${source} -> ${target}`)
          assert.isTrue(RecordBatch.isCrcValid(stored), `${source} -> ${target}: CRC`)
          assert.strictEqual(stored.length, RecordBatch.LOG_OVERHEAD + h.batchLength)
          assert.strictEqual(RecordBatch.validate(stored)._tag, "ValidBatch", `${source} -> ${target}`)
          assert.deepStrictEqual(
            [h.baseOffset, h.lastOffsetDelta, h.recordCount, h.producerId, h.baseSequence],
            [next, 3, 4, -1, -1]
          )
          const sentHeader = RecordBatch.readHeader(sent)
          assert.strictEqual(h.baseTimestamp, sentHeader.baseTimestamp)
          assert.strictEqual(h.maxTimestamp, Math.max(...recordsOf(sent).map((r) => r.timestamp)))
          assert.deepStrictEqual(recordsOf(stored), expectedRecords(sent, next), `${source} -> ${target}`)
          if (source === target) {
            assert.isTrue(Buffer.from(stored).equals(asStored(sent, next)), `${source}: stored as sent`)
          }
          next += 4
        }
      }
    })
  )

  it.scopedLive(
    "keeps producer id, epoch, sequence and the transactional flag: retries and transactions still work",
    () =>
      Effect.gen(function* () {
        const client = yield* setup()
        yield* createTopic(client, "t", 1, { "compression.type": "gzip" })
        const idempotent = richBatch(3, { compression: 3, producerId: 42, producerEpoch: 2, baseSequence: 0 })
        assert.strictEqual((yield* produce(client, "t", 0, Buffer.from(idempotent))).baseOffset, 0n)
        // the retry is recognised as a duplicate from the header fields the recompressed batch kept
        const retry = yield* produce(client, "t", 0, Buffer.from(idempotent))
        assert.deepStrictEqual([retry.errorCode, retry.baseOffset], [0, 0n])
        assert.strictEqual(
          (yield* produce(client, "t", 0, batch(["gap"], { producerId: 42, producerEpoch: 2, baseSequence: 9 })))
            .errorCode,
          45
        )
        const txn = batch(["t0", "t1"], {
          compression: 2,
          producerId: 43,
          producerEpoch: 0,
          baseSequence: 0,
          transactional: true
        })
        assert.strictEqual((yield* produce(client, "t", 0, Buffer.from(txn))).baseOffset, 3n)
        const f = yield* fetchOne(client, "t", 0, 0, 12)
        const batches = RecordBatch.headers(f.records!)
        assert.strictEqual(batches.length, 2)
        const [a, b] = batches.map((x) => x.header)
        assert.deepStrictEqual(
          [a!.producerId, a!.producerEpoch, a!.baseSequence, RecordBatch.isTransactional(a!.attributes)],
          [42, 2, 0, false]
        )
        assert.deepStrictEqual(
          [b!.producerId, b!.producerEpoch, b!.baseSequence, RecordBatch.isTransactional(b!.attributes)],
          [43, 0, 0, true]
        )
        for (const x of batches) {
          assert.strictEqual(RecordBatch.compressionOf(x.header.attributes), 1)
          assert.isTrue(RecordBatch.isCrcValid(f.records!, x.position))
        }
        // the open transaction holds the last stable offset at its first offset
        assert.deepStrictEqual([f.highWatermark, f.lastStableOffset], [5n, 3n])
        const committed = yield* fetchOne(client, "t", 0, 0, 12, { isolationLevel: 1 })
        assert.deepStrictEqual(recordsOf(committed.records).length, 3)
      })
  )

  it.scopedLive("LogAppendTime applies to recompressed batches (attribute, maxTimestamp, CRC, response)", () =>
    Effect.gen(function* () {
      const client = yield* setup()
      yield* createTopic(client, "lat", 1, { "compression.type": "zstd", "message.timestamp.type": "LogAppendTime" })
      const before = Date.now()
      const p = yield* produce(client, "lat", 0, richBatch(3, { compression: 1 }))
      assert.strictEqual(p.errorCode, 0)
      const at = Number(p.logAppendTimeMs)
      assert.isAtLeast(at, before)
      const f = yield* fetchOne(client, "lat", 0, 0, 12)
      const h = RecordBatch.readHeader(f.records!)
      assert.strictEqual(RecordBatch.compressionOf(h.attributes), 4)
      assert.notStrictEqual(h.attributes & RecordBatch.Attributes.timestampTypeLogAppendTime, 0)
      assert.strictEqual(h.maxTimestamp, at)
      assert.isTrue(RecordBatch.isCrcValid(f.records!))
      for (const r of RecordBatch.decode(f.records!).records) assert.strictEqual(r.timestamp, at)
    })
  )

  it.scopedLive("checks max.message.bytes against the batch as stored (MESSAGE_TOO_LARGE)", () =>
    Effect.gen(function* () {
      const client = yield* setup()
      const sent = batch(["x".repeat(4000)], { compression: 1 })
      assert.isBelow(sent.length, 1000)
      yield* createTopic(client, "small", 1, { "compression.type": "uncompressed", "max.message.bytes": "2000" })
      assert.strictEqual((yield* produce(client, "small", 0, sent)).errorCode, 10)
      yield* createTopic(client, "small-producer", 1, { "max.message.bytes": "2000" })
      assert.strictEqual((yield* produce(client, "small-producer", 0, sent)).errorCode, 0)
    })
  )

  it.scopedLive(
    "compression.gzip.level and compression.zstd.level (KIP-390) set the level; bad levels are refused",
    () =>
      Effect.gen(function* () {
        const client = yield* setup()
        const sizeWith = (codec: "gzip" | "zstd", level: string) =>
          Effect.gen(function* () {
            const topic = `${codec}-${level}`
            yield* createTopic(client, topic, 1, { "compression.type": codec, [`compression.${codec}.level`]: level })
            const sent = RecordBatch.encode(
              Array.from({ length: 200 }, (_, i) => ({
                value: Buffer.from(`value ${i % 17} ${(i * 31) % 101} `.repeat(8))
              }))
            )
            assert.strictEqual((yield* produce(client, topic, 0, sent)).errorCode, 0)
            const f = yield* fetchOne(client, topic, 0, 0, 12)
            assert.strictEqual(recordsOf(f.records).length, 200)
            return f.records!.length
          })
        assert.isAbove(yield* sizeWith("gzip", "1"), yield* sizeWith("gzip", "9"))
        assert.isAbove(yield* sizeWith("zstd", "-5"), yield* sizeWith("zstd", "19"))
        // INVALID_CONFIG (40)
        assert.strictEqual(yield* createTopicCode(client, "bad-gzip", { "compression.gzip.level": "10" }), 40)
        assert.strictEqual(yield* createTopicCode(client, "bad-zstd", { "compression.zstd.level": "23" }), 40)
        assert.strictEqual(yield* createTopicCode(client, "no-lz4-level", { "compression.lz4.level": "9" }), 40)
      })
  )

  it.scopedLive("a compression.type change applies from the next produce and fetch", () =>
    Effect.gen(function* () {
      const client = yield* setup()
      yield* createTopic(client, "alter")
      const set = (value: string) =>
        client.send(
          44,
          0,
          IncrementalAlterConfigs.makeIncrementalAlterConfigsRequest({
            resources: [
              {
                resourceType: 2,
                resourceName: "alter",
                configs: [{ name: "compression.type", configOperation: 0, value }]
              }
            ]
          })
        )
      const codecAt = (offset: number) =>
        Effect.map(fetchOne(client, "alter", 0, offset, 12), (p) =>
          RecordBatch.compressionOf(RecordBatch.readHeader(p.records!).attributes)
        )
      yield* produce(client, "alter", 0, batch(["a"], { compression: 3 }))
      assert.strictEqual(yield* codecAt(0), 3)
      assert.strictEqual((yield* set("zstd")).responses[0]!.errorCode, 0)
      assert.strictEqual((yield* fetchOne(client, "alter", 0, 0, 9)).errorCode, 76)
      yield* produce(client, "alter", 0, batch(["b"], { compression: 3 }))
      assert.strictEqual(yield* codecAt(1), 4)
      assert.strictEqual((yield* set("producer")).responses[0]!.errorCode, 0)
      assert.strictEqual((yield* fetchOne(client, "alter", 0, 0, 9)).errorCode, 0)
      yield* produce(client, "alter", 0, batch(["c"], { compression: 3 }))
      assert.strictEqual(yield* codecAt(2), 3)
    })
  )
})
