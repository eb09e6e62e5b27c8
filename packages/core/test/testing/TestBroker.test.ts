/**
 * TestBroker as a user's test suite uses it: a layer under @effect/vitest with Eddy's client, and the promise
 * API under plain vitest with kafkajs. Start-up times are printed (not asserted); docs/testing.md quotes them.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import { Kafka, logLevel } from "kafkajs"
import { afterAll, beforeAll, expect, it as plainIt } from "vitest"
import * as Admin from "../../src/client/Admin.js"
import * as Fetcher from "../../src/client/Fetcher.js"
import * as Producer from "../../src/client/Producer.js"
import * as Topic from "../../src/client/Topic.js"
import * as TestBroker from "../../src/testing/TestBroker.js"

// the real clock (excludeTestServices): the client's timers (linger, retries) must run
layer(TestBroker.layer(), { excludeTestServices: true })("TestBroker.layer with @effect/vitest", (it) => {
  it.scoped("serves Eddy's client on a real socket", () =>
    Effect.gen(function* () {
      const broker = yield* TestBroker.TestBrokerTag
      assert.match(broker.bootstrapServers, /^127\.0\.0\.1:\d+$/)
      const config = { "bootstrap.servers": broker.bootstrapServers }
      const admin = yield* Admin.make(config)
      yield* admin.createTopics([{ name: "orders", numPartitions: 2 }])
      const producer = yield* Producer.make(config)
      const orders = Topic.stringTopic("orders")
      yield* producer.send(orders, { key: "alice", value: "3", partition: 0 })
      const fetcher = yield* Fetcher.make(config)
      const records = yield* fetcher
        .fetch(orders, [{ partition: 0, offset: 0 }])
        .pipe(Stream.take(1), Stream.runCollect)
      assert.deepStrictEqual(
        Chunk.toArray(records).map((r) => [r.key, r.value]),
        [["alice", "3"]]
      )
    })
  )
})

describe("startTestBroker with plain vitest and kafkajs", () => {
  let broker: TestBroker.RunningTestBroker
  beforeAll(async () => {
    broker = await TestBroker.startTestBroker()
  })
  afterAll(() => broker.close())

  plainIt("produces and consumes through kafkajs", async () => {
    const kafka = new Kafka({ clientId: "test", brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING })
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic: "payments", numPartitions: 1 }] })
    await admin.disconnect()
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({ topic: "payments", messages: [{ key: "k", value: "v" }] })
    await producer.disconnect()
    const consumer = kafka.consumer({ groupId: "payments-test" })
    await consumer.connect()
    await consumer.subscribe({ topic: "payments", fromBeginning: true })
    const values = await new Promise<Array<string>>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve([String(message.value)]) })
    })
    await consumer.disconnect()
    expect(values).toEqual(["v"])
  })
})

describe("configuration", () => {
  plainIt("takes broker settings, and refuses a key it does not know", async () => {
    const broker = await TestBroker.startTestBroker({ config: { "num.partitions": "3" } })
    const admin = new Kafka({ brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic: "three" }] })
    const [three] = (await admin.fetchTopicMetadata({ topics: ["three"] })).topics
    await admin.disconnect()
    await broker.close()
    expect(three!.partitions.length).toBe(3)
    await expect(TestBroker.startTestBroker({ config: { "num.partitons": "3" } })).rejects.toMatchObject({
      _tag: "BrokerConfigError",
      key: "num.partitons"
    })
  })
})

describe("start-up", () => {
  plainIt("starts and stops in memory and on disk (times printed, not asserted)", async () => {
    const figures: Array<string> = []
    for (const storage of ["memory", "disk"] as const) {
      for (let i = 0; i < 3; i++) {
        const started = performance.now()
        const broker = await TestBroker.startTestBroker({ storage })
        const up = performance.now() - started
        const admin = new Kafka({ brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING }).admin()
        await admin.connect()
        expect(await admin.listTopics()).toEqual([])
        await admin.disconnect()
        const closing = performance.now()
        await broker.close()
        figures.push(
          `${storage} #${i + 1}: start ${up.toFixed(1)} ms, close ${(performance.now() - closing).toFixed(1)} ms`
        )
      }
    }
    console.log(`TestBroker ${figures.join("; ")}`)
  })
})
