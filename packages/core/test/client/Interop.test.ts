import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import { CompressionTypes, Kafka, logLevel } from "kafkajs"
import * as Admin from "../../src/client/Admin.js"
import * as Fetcher from "../../src/client/Fetcher.js"
import * as Producer from "../../src/client/Producer.js"
import { startEddy } from "./util.js"

const PARTITIONS = 6
const keys = Array.from({ length: 120 }, (_, i) => `user-${i * 7919}`)

const kafkaFor = (bootstrap: string) =>
  new Kafka({ clientId: "eddy-interop", brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 3 } })

describe("interop with kafkajs", () => {
  it.scopedLive("kafkajs producer -> Eddy Fetcher: identical keys, headers and partitions", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy()
      const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
      yield* admin.createTopics([
        { name: "from-kafkajs", numPartitions: PARTITIONS },
        { name: "from-eddy", numPartitions: PARTITIONS }
      ])
      yield* Effect.promise(async () => {
        const producer = kafkaFor(bootstrap).producer()
        await producer.connect()
        await producer.send({
          topic: "from-kafkajs",
          compression: CompressionTypes.GZIP,
          messages: keys.map((key, i) => ({ key, value: `v${i}`, headers: { idx: String(i), kind: "kafkajs" } }))
        })
        await producer.disconnect()
      })
      const producer = yield* Producer.make({ "bootstrap.servers": bootstrap })
      const acks = yield* producer.sendBatch(
        "from-eddy",
        keys.map((key, i) => ({ key: Buffer.from(key), value: Buffer.from(`v${i}`) }))
      )
      const fetcher = yield* Fetcher.make({ "bootstrap.servers": bootstrap, "fetch.max.wait.ms": 50 })
      const all = Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, offset: "earliest" as const }))
      const records = yield* fetcher
        .fetch("from-kafkajs", all)
        .pipe(Stream.take(keys.length), Stream.runCollect, Effect.map(Chunk.toArray))
      assert.strictEqual(records.length, keys.length)
      for (const r of records) {
        const i = Number(Buffer.from(r.headers.find((h) => h.key === "idx")!.value!).toString())
        assert.strictEqual(Buffer.from(r.key!).toString(), keys[i])
        assert.strictEqual(Buffer.from(r.value!).toString(), `v${i}`)
        assert.strictEqual(Buffer.from(r.headers.find((h) => h.key === "kind")!.value!).toString(), "kafkajs")
        // kafkajs and Eddy put the same key on the same partition
        assert.strictEqual(r.partition, acks[i]!.partition, `key ${keys[i]}`)
      }
    })
  )

  it.scopedLive("Eddy producer -> kafkajs admin: per-partition offsets match kafkajs's own placement", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy()
      const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
      yield* admin.createTopics([
        { name: "eddy-side", numPartitions: PARTITIONS },
        { name: "kafkajs-side", numPartitions: PARTITIONS }
      ])
      const producer = yield* Producer.make({ "bootstrap.servers": bootstrap, "compression.type": "lz4" })
      yield* producer.sendBatch(
        "eddy-side",
        keys.map((key) => ({ key: Buffer.from(key), value: Buffer.from("x"), headers: { a: "b" } }))
      )
      const [eddySide, kafkajsSide] = yield* Effect.promise(async () => {
        const kafka = kafkaFor(bootstrap)
        const producer = kafka.producer()
        await producer.connect()
        await producer.send({ topic: "kafkajs-side", messages: keys.map((key) => ({ key, value: "x" })) })
        await producer.disconnect()
        const kadmin = kafka.admin()
        await kadmin.connect()
        const a = await kadmin.fetchTopicOffsets("eddy-side")
        const b = await kadmin.fetchTopicOffsets("kafkajs-side")
        await kadmin.disconnect()
        const byPartition = (xs: Array<{ partition: number; high: string }>) =>
          xs.sort((x, y) => x.partition - y.partition).map((x) => Number(x.high))
        return [byPartition(a), byPartition(b)]
      })
      assert.strictEqual(
        eddySide!.reduce((x, y) => x + y, 0),
        keys.length
      )
      assert.deepStrictEqual(eddySide, kafkajsSide)
    })
  )
})
