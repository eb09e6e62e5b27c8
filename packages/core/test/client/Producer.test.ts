import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Fiber, Option, Scope, Stream, TestClock } from "effect"
import * as Handler from "../../src/broker/Handler.js"
import * as Admin from "../../src/client/Admin.js"
import * as Fetcher from "../../src/client/Fetcher.js"
import * as Partitioner from "../../src/client/Partitioner.js"
import * as Producer from "../../src/client/Producer.js"
import * as InitProducerId from "../../src/protocol/generated/InitProducerId.js"
import { tempDir } from "../broker/util.js"
import { startEddy } from "./util.js"

const text = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString())

/** Every record of `topic`'s partitions 0..n-1, up to the high watermarks at the time of the call. */
const readAll = (bootstrap: string, topic: string, partitions: number, expected: number) =>
  Effect.gen(function* () {
    const fetcher = yield* Fetcher.make({ "bootstrap.servers": bootstrap, "fetch.max.wait.ms": 50 })
    return yield* fetcher
      .fetch(
        topic,
        Array.from({ length: partitions }, (_, partition) => ({ partition, offset: "earliest" as const }))
      )
      .pipe(Stream.take(expected), Stream.runCollect, Effect.map(Chunk.toArray))
  })

const codecs = ["none", "gzip", "snappy", "lz4", "zstd"] as const

describe("Producer", () => {
  for (const codec of codecs) {
    it.scopedLive(`round-trips keys, values and headers with compression ${codec}`, () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddy()
        const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
        yield* admin.createTopics([{ name: "rt", numPartitions: 3 }])
        const producer = yield* Producer.make({ "bootstrap.servers": bootstrap, "compression.type": codec })
        const n = 300
        const acks = yield* Effect.forEach(
          Array.from({ length: n }, (_, i) => i),
          (i) =>
            producer.send("rt", {
              key: Buffer.from(`key-${i % 17}`),
              value: Buffer.from(`value-${i}`.repeat(1 + (i % 5))),
              headers: [
                { key: "i", value: String(i) },
                { key: "nil", value: null }
              ]
            }),
          { concurrency: "unbounded" }
        )
        for (let i = 0; i < n; i++) {
          assert.strictEqual(acks[i]!.partition, Partitioner.partitionForKey(Buffer.from(`key-${i % 17}`), 3))
        }
        const records = yield* readAll(bootstrap, "rt", 3, n)
        assert.strictEqual(records.length, n)
        const byIndex = new Map(records.map((r) => [Number(text(r.headers[0]!.value)), r]))
        for (let i = 0; i < n; i++) {
          const r = byIndex.get(i)!
          assert.strictEqual(text(r.key), `key-${i % 17}`)
          assert.strictEqual(text(r.value), `value-${i}`.repeat(1 + (i % 5)))
          assert.strictEqual(r.headers[1]!.key, "nil")
          assert.isNull(r.headers[1]!.value)
          assert.strictEqual(r.partition, acks[i]!.partition)
          assert.strictEqual(r.offset, acks[i]!.offset)
          assert.strictEqual(r.timestamp, acks[i]!.timestamp)
        }
        // sends to one partition are acknowledged in order
        for (let p = 0; p < 3; p++) {
          const offsets = acks.filter((a) => a.partition === p).map((a) => a.offset)
          assert.deepStrictEqual(
            offsets,
            [...offsets].sort((a, b) => a - b)
          )
        }
      })
    )
  }

  it.scopedLive("sendBatch keeps order and reports every record", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy()
      const producer = yield* Producer.make({ "bootstrap.servers": bootstrap, "batch.size": 1024 })
      const metas = yield* producer.sendBatch(
        "batch",
        Array.from({ length: 1000 }, (_, i) => ({ value: Buffer.from(`v${i}`), partition: 0 }))
      )
      assert.deepStrictEqual(
        metas.map((m) => m.offset),
        Array.from({ length: 1000 }, (_, i) => i)
      )
      const records = yield* readAll(bootstrap, "batch", 1, 1000)
      assert.deepStrictEqual(
        records.map((r) => text(r.value)),
        Array.from({ length: 1000 }, (_, i) => `v${i}`)
      )
    })
  )

  it.scopedLive("sticks keyless records to one partition per batch", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy()
      const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
      yield* admin.createTopics([{ name: "sticky", numPartitions: 8 }])
      const producer = yield* Producer.make({ "bootstrap.servers": bootstrap, "linger.ms": 50, "batch.size": 1 << 20 })
      const first = yield* Effect.forEach(
        Array.from({ length: 50 }, (_, i) => i),
        (i) => producer.send("sticky", { value: Buffer.from(`a${i}`) }),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(new Set(first.map((m) => m.partition)).size, 1)
      // small batches: the partition moves on as batches fill up
      const small = yield* Producer.make({ "bootstrap.servers": bootstrap, "linger.ms": 50, "batch.size": 200 })
      const spread = yield* Effect.forEach(
        Array.from({ length: 200 }, (_, i) => i),
        (i) => small.send("sticky", { value: Buffer.from(`b${i}`) }),
        { concurrency: "unbounded" }
      )
      assert.isAbove(new Set(spread.map((m) => m.partition)).size, 1)
    })
  )

  it.scopedLive(
    "makes a sendBatch's records for a partition into batches of up to max.request.size unless batch.size is set",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddy()
        const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
        yield* admin.createTopics([{ name: "big", numPartitions: 8 }])
        // keyless records stick to a partition until its batch is full, then move to another one
        const partitionsOf = (producer: Producer.Producer, n: number) =>
          Effect.map(
            producer.sendBatch(
              "big",
              Array.from({ length: n }, () => ({ value: Buffer.alloc(1000, 1) }))
            ),
            (sent) => new Set(sent.map((m) => m.partition)).size
          )
        const byDefault = yield* Producer.make({ "bootstrap.servers": bootstrap })
        assert.strictEqual(yield* partitionsOf(byDefault, 200), 1)
        // 2.9 MB: batches of at most 1 MiB
        assert.isAtLeast(yield* partitionsOf(byDefault, 2900), 2)
        const smaller = yield* Producer.make({ "bootstrap.servers": bootstrap, "max.request.size": 65536 })
        assert.isAtLeast(yield* partitionsOf(smaller, 200), 2)
        const explicit = yield* Producer.make({ "bootstrap.servers": bootstrap, "batch.size": 16384 })
        assert.isAtLeast(yield* partitionsOf(explicit, 200), 2)
      })
  )

  it.scopedLive("waits when buffer.memory is full and drops nothing", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy()
      const limit = 4096
      const producer = yield* Producer.make({
        "bootstrap.servers": bootstrap,
        "buffer.memory": limit,
        "batch.size": 1024,
        "linger.ms": 1
      })
      let peak = 0
      const n = 500
      const fiber = yield* Effect.fork(
        Effect.forEach(
          Array.from({ length: n }, (_, i) => i),
          (i) =>
            producer.send("bp", { value: Buffer.alloc(100, i % 256), partition: 0 }).pipe(
              Effect.tap(() =>
                Effect.sync(() => {
                  peak = Math.max(peak, producer.bufferedBytes())
                })
              )
            ),
          { concurrency: "unbounded" }
        )
      )
      // while the sends run, the buffer never holds more than buffer.memory
      for (let k = 0; k < 20; k++) {
        peak = Math.max(peak, producer.bufferedBytes())
        yield* Effect.sleep(1)
      }
      const metas = yield* Fiber.join(fiber)
      assert.isAtMost(peak, limit)
      assert.deepStrictEqual(
        metas.map((m) => m.offset),
        Array.from({ length: n }, (_, i) => i)
      )
      const records = yield* readAll(bootstrap, "bp", 1, n)
      assert.strictEqual(records.length, n)
    })
  )

  it.scopedLive("acks=0 and acks=1", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy()
      const one = yield* Producer.make({ "bootstrap.servers": bootstrap, acks: 1 })
      const m1 = yield* one.send("acks", { value: Buffer.from("one"), partition: 0 })
      assert.strictEqual(m1.offset, 0)
      const zero = yield* Producer.make({ "bootstrap.servers": bootstrap, acks: 0 })
      const m0 = yield* zero.send("acks", { value: Buffer.from("zero"), partition: 0 })
      assert.strictEqual(m0.offset, -1)
      yield* zero.flush
      const records = yield* readAll(bootstrap, "acks", 1, 2)
      assert.deepStrictEqual(
        records.map((r) => text(r.value)),
        ["one", "zero"]
      )
    })
  )

  it.scopedLive("flush sends lingering records at once", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy()
      const producer = yield* Producer.make({ "bootstrap.servers": bootstrap, "linger.ms": 60_000 })
      yield* producer.send("flush", { value: Buffer.from("warmup"), partition: 0 }).pipe(Effect.fork)
      yield* Effect.sleep(50)
      const start = Date.now()
      yield* producer.flush
      assert.isBelow(Date.now() - start, 5000)
      assert.strictEqual(producer.bufferedBytes(), 0)
    })
  )

  it.scoped("linger.ms is driven by the Clock (TestClock here)", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy()
      const producer = yield* Producer.make({ "bootstrap.servers": bootstrap, "linger.ms": 1000 })
      const fiber = yield* Effect.fork(producer.send("linger", { value: Buffer.from("a"), partition: 0 }))
      // metadata and connections use real sockets: give them real time, the linger clock does not move
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 300)))
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust(1000)
      const meta = yield* Fiber.join(fiber)
      assert.strictEqual(meta.offset, 0)
      assert.strictEqual(meta.timestamp, 0)
    })
  )

  it.scopedLive("closing the scope flushes pending records", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy()
      const scope = yield* Scope.make()
      const producer = yield* Producer.make({ "bootstrap.servers": bootstrap, "linger.ms": 60_000 }).pipe(
        Scope.extend(scope)
      )
      yield* producer.flush.pipe(
        Effect.zipRight(producer.send("close", { value: Buffer.from("w"), partition: 0 })),
        Effect.fork
      )
      yield* Effect.sleep(200)
      const fiber = yield* Effect.fork(producer.sendBatch("close", [{ value: Buffer.from("x"), partition: 0 }]))
      yield* Effect.sleep(50)
      yield* Scope.close(scope, Exit.void)
      const metas = yield* Fiber.join(fiber)
      assert.strictEqual(metas[0]!.offset, 1)
      const error = yield* Effect.flip(producer.send("close", { value: Buffer.from("late") }))
      assert.strictEqual(error._tag, "ClientClosedError")
    })
  )

  it.scopedLive("falls back to non-idempotent without InitProducerId, uses a producer id when offered", () =>
    Effect.gen(function* () {
      // a broker like Kafka before 0.11: no InitProducerId
      const old = yield* startEddy({ withoutApis: [InitProducerId.apiKey] })
      const p1 = yield* Producer.make({ "bootstrap.servers": old.bootstrap })
      yield* p1.send("idem", { value: Buffer.from("a") })
      assert.isUndefined(p1.idempotence())

      const initProducerId = Handler.make({
        apiKey: InitProducerId.apiKey,
        minVersion: 0,
        maxVersion: 4,
        handle: () => Effect.succeed(InitProducerId.makeInitProducerIdResponse({ producerId: 4242n, producerEpoch: 3 }))
      })
      const withId = yield* startEddy({ withoutApis: [InitProducerId.apiKey], handlers: [initProducerId as never] })
      const p2 = yield* Producer.make({ "bootstrap.servers": withId.bootstrap })
      const metas = yield* Effect.forEach(
        Array.from({ length: 10 }, (_, i) => i),
        (i) => p2.send("idem", { value: Buffer.from(`v${i}`), partition: 0 }),
        { concurrency: "unbounded" }
      )
      assert.deepStrictEqual(p2.idempotence(), { producerId: 4242, producerEpoch: 3 })
      assert.deepStrictEqual(
        metas.map((m) => m.offset),
        Array.from({ length: 10 }, (_, i) => i)
      )
    })
  )

  it.scopedLive("retries across a broker restart on the same data dir and port", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const first = yield* Scope.make()
      const { port, bootstrap } = yield* startEddy({ dir }).pipe(Scope.extend(first))
      const producer = yield* Producer.make({
        "bootstrap.servers": bootstrap,
        "retry.backoff.ms": 20,
        "retry.backoff.max.ms": 200,
        "request.timeout.ms": 3000
      })
      const n = 200
      const sender = yield* Effect.fork(
        Effect.forEach(
          Array.from({ length: n }, (_, i) => i),
          (i) => Effect.delay(producer.send("restart", { value: Buffer.from(`r${i}`), partition: 0 }), 2),
          { concurrency: 4 }
        )
      )
      yield* Effect.sleep(100)
      yield* Scope.close(first, Exit.void)
      yield* Effect.sleep(300)
      yield* startEddy({ dir, extra: { listeners: `PLAINTEXT://127.0.0.1:${port}` } })
      const metas = yield* Fiber.join(sender)
      assert.strictEqual(metas.length, n)
      const records = yield* readAll(bootstrap, "restart", 1, n)
      const values = records.map((r) => text(r.value))
      for (let i = 0; i < n; i++) assert.include(values, `r${i}`)
    })
  )
})
