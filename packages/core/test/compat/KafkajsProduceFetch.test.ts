/**
 * kafkajs 2.2.4 producing to and consuming from Eddy. Consuming here goes straight through kafkajs's own
 * Cluster/Broker fetch path (the one its consumer uses: Fetch v11, kafkajs's record-batch decoders and
 * codecs), reached through the client's cluster factory, so every codec is checked without group timing;
 * `consumer.run` in a consumer group is covered by KafkajsGroups.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { CompressionCodecs, CompressionTypes, Kafka, logLevel, type Message } from "kafkajs"
import * as Compression from "../../src/protocol/Compression.js"
import { startBroker } from "../broker/util.js"

// kafkajs ships gzip only; snappy, lz4 and zstd come from Eddy's own codecs
const codec = (id: number) => () => ({
  compress: async (encoder: { buffer: Buffer }) => Buffer.from(Compression.compress(id, encoder.buffer)),
  decompress: async (buffer: Buffer) => Buffer.from(Compression.decompress(id, buffer))
})
CompressionCodecs[CompressionTypes.Snappy] = codec(Compression.Codec.snappy)
CompressionCodecs[CompressionTypes.LZ4] = codec(Compression.Codec.lz4)
CompressionCodecs[CompressionTypes.ZSTD] = codec(Compression.Codec.zstd)

interface FetchedMessage {
  readonly offset: string
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: Record<string, Buffer>
}

interface KafkajsBroker {
  fetch(request: unknown): Promise<{
    responses: Array<{
      topicName: string
      partitions: Array<{
        partition: number
        errorCode: number
        highWatermark: string
        messages: Array<FetchedMessage>
      }>
    }>
  }>
}

interface KafkajsCluster {
  connect(): Promise<void>
  disconnect(): Promise<void>
  addTargetTopic(topic: string): Promise<void>
  findLeaderForPartitions(topic: string, partitions: Array<number>): Record<string, Array<number>>
  findBroker(node: { nodeId: string }): Promise<KafkajsBroker>
}

const kafkaFor = (port: number) =>
  new Kafka({
    clientId: "eddy-compat",
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 50 }
  })

/** kafkajs's cluster (the object its consumer fetches through). */
const clusterOf = (kafka: Kafka): KafkajsCluster => {
  const create = Object.getOwnPropertySymbols(kafka).find((s) => s.description === "private:Kafka:createCluster")
  if (create === undefined) throw new Error("kafkajs cluster factory not found (kafkajs version changed?)")
  return (kafka as unknown as Record<symbol, (o: object) => KafkajsCluster>)[create]!({ allowAutoTopicCreation: false })
}

/** Reads every message of the topic's partitions from the beginning, with kafkajs's fetch. */
const consumeAll = async (kafka: Kafka, topic: string, partitions: number, expected: number) => {
  const cluster = clusterOf(kafka)
  await cluster.connect()
  try {
    await cluster.addTargetTopic(topic)
    const next = new Map<number, bigint>(Array.from({ length: partitions }, (_, p) => [p, 0n]))
    const out = new Map<number, Array<FetchedMessage>>(Array.from({ length: partitions }, (_, p) => [p, []]))
    let total = 0
    for (let round = 0; round < 200 && total < expected; round++) {
      const leaders = cluster.findLeaderForPartitions(topic, [...next.keys()])
      for (const [nodeId, ps] of Object.entries(leaders)) {
        const broker = await cluster.findBroker({ nodeId })
        const res = await broker.fetch({
          replicaId: -1,
          isolationLevel: 1,
          maxWaitTime: 50,
          minBytes: 1,
          maxBytes: 10 << 20,
          topics: [
            {
              topic,
              partitions: ps.map((partition) => ({
                partition,
                fetchOffset: String(next.get(partition)),
                maxBytes: 1 << 20
              }))
            }
          ]
        })
        for (const p of res.responses[0]?.partitions ?? []) {
          assert.strictEqual(p.errorCode, 0)
          for (const m of p.messages) {
            if (BigInt(m.offset) < next.get(p.partition)!) continue
            out.get(p.partition)!.push(m)
            next.set(p.partition, BigInt(m.offset) + 1n)
            total++
          }
        }
      }
    }
    return out
  } finally {
    await cluster.disconnect()
  }
}

describe("kafkajs produce and fetch against Eddy", () => {
  it.scopedLive("produces keys, headers and values to many partitions with every codec; reads them back in order", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker()
      const port = broker.address.port
      yield* Effect.promise(async () => {
        const kafka = kafkaFor(port)
        const admin = kafka.admin()
        await admin.connect()
        const partitions = 6
        await admin.createTopics({ topics: [{ topic: "orders", numPartitions: partitions }] })
        const producer = kafka.producer({ allowAutoTopicCreation: false })
        await producer.connect()
        const codecs = [
          CompressionTypes.None,
          CompressionTypes.GZIP,
          CompressionTypes.Snappy,
          CompressionTypes.LZ4,
          CompressionTypes.ZSTD
        ]
        const sent = new Map<number, Array<Message>>(Array.from({ length: partitions }, (_, p) => [p, []]))
        let n = 0
        for (const compression of codecs) {
          for (const acks of [1, -1]) {
            const messages: Array<Message> = Array.from({ length: 30 }, () => {
              const i = n++
              return {
                partition: i % partitions,
                key: i % 5 === 0 ? null : `key-${i}`,
                value: `value-${i}-${"x".repeat(i % 50)}`,
                headers: { seq: String(i), codec: String(compression) }
              }
            })
            const meta = await producer.send({ topic: "orders", messages, compression, acks })
            assert.isTrue(meta.every((m) => m.errorCode === 0))
            for (const m of messages) sent.get(m.partition!)!.push(m)
          }
        }
        // acks=0: fire and forget, still stored
        await producer.send({ topic: "orders", acks: 0, messages: [{ partition: 0, key: "k0", value: "acks0" }] })
        sent.get(0)!.push({ partition: 0, key: "k0", value: "acks0", headers: {} })
        n++

        // acks=0 resolves before the broker appended: wait (bounded) for the high watermarks to add up
        let high = 0
        for (let i = 0; i < 100 && high !== n; i++) {
          if (i > 0) await new Promise((r) => setTimeout(r, 20))
          high = (await admin.fetchTopicOffsets("orders")).reduce((a, o) => a + Number(o.high), 0)
        }
        assert.strictEqual(high, n)
        const got = await consumeAll(kafka, "orders", partitions, n)
        for (let p = 0; p < partitions; p++) {
          const expected = sent.get(p)!
          const actual = got.get(p)!
          assert.strictEqual(actual.length, expected.length, `partition ${p}`)
          actual.forEach((m, i) => {
            const e = expected[i]!
            assert.strictEqual(m.offset, String(i))
            assert.strictEqual(m.value?.toString(), String(e.value))
            assert.strictEqual(
              m.key === null ? null : m.key.toString(),
              e.key === null || e.key === undefined ? null : String(e.key)
            )
            for (const [h, v] of Object.entries(e.headers ?? {}))
              assert.strictEqual(m.headers[h]?.toString(), String(v))
          })
        }
        await producer.disconnect()
        await admin.disconnect()
      })
    })
  )

  it.scopedLive("reports produce errors to kafkajs: unknown partition, oversized batch", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker()
      yield* Effect.promise(async () => {
        const kafka = kafkaFor(broker.address.port)
        const admin = kafka.admin()
        await admin.connect()
        await admin.createTopics({
          topics: [{ topic: "small", configEntries: [{ name: "max.message.bytes", value: "1000" }] }]
        })
        const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } })
        await producer.connect()
        const tooBig = await producer.send({ topic: "small", messages: [{ value: "x".repeat(5000) }] }).then(
          () => "sent",
          (e: { type?: string }) => e.type ?? String(e)
        )
        assert.strictEqual(tooBig, "MESSAGE_TOO_LARGE")
        await producer.disconnect()
        await admin.disconnect()
      })
    })
  )
})
