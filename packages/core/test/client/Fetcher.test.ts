import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Stream } from "effect"
import * as Admin from "../../src/client/Admin.js"
import * as Fetcher from "../../src/client/Fetcher.js"
import * as Producer from "../../src/client/Producer.js"
import { startEddy } from "./util.js"

const text = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString())

describe("Fetcher", () => {
  it.scopedLive("reads several partitions from explicit offsets, skipping records below the offset", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy()
      const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
      yield* admin.createTopics([{ name: "f", numPartitions: 2 }])
      // one big batch per partition, so that offset 5 lies inside a batch
      const producer = yield* Producer.make({ "bootstrap.servers": bootstrap, "linger.ms": 20 })
      yield* producer.sendBatch(
        "f",
        Array.from({ length: 20 }, (_, i) => ({
          value: Buffer.from(`p${i % 2}-${Math.floor(i / 2)}`),
          partition: i % 2
        }))
      )
      const fetcher = yield* Fetcher.make({ "bootstrap.servers": bootstrap, "fetch.max.wait.ms": 50 })
      const records = yield* fetcher
        .fetch("f", [
          { partition: 0, offset: 5 },
          { partition: 1, offset: "earliest" }
        ])
        .pipe(Stream.take(15), Stream.runCollect, Effect.map(Chunk.toArray))
      const p0 = records.filter((r) => r.partition === 0).map((r) => text(r.value))
      const p1 = records.filter((r) => r.partition === 1).map((r) => text(r.value))
      assert.deepStrictEqual(
        p0,
        [5, 6, 7, 8, 9].map((i) => `p0-${i}`)
      )
      assert.deepStrictEqual(
        p1,
        Array.from({ length: 10 }, (_, i) => `p1-${i}`)
      )
    })
  )

  it.scopedLive("waits at the end of the log and delivers new records; latest starts at the end", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy()
      const producer = yield* Producer.make({ "bootstrap.servers": bootstrap })
      yield* producer.send("tail", { value: Buffer.from("old"), partition: 0 })
      const fetcher = yield* Fetcher.make({ "bootstrap.servers": bootstrap, "fetch.max.wait.ms": 100 })
      const reader = yield* Effect.fork(
        fetcher.fetch("tail", [{ partition: 0, offset: "latest" }]).pipe(Stream.take(2), Stream.runCollect)
      )
      yield* Effect.sleep(300)
      yield* producer.sendBatch("tail", [
        { value: Buffer.from("new1"), partition: 0 },
        { value: Buffer.from("new2"), partition: 0 }
      ])
      const got = yield* Fiber.join(reader)
      assert.deepStrictEqual(
        Chunk.toArray(got).map((r) => text(r.value)),
        ["new1", "new2"]
      )
    })
  )

  it.scopedLive("resets an out-of-range offset per auto.offset.reset", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy()
      const producer = yield* Producer.make({ "bootstrap.servers": bootstrap })
      yield* producer.sendBatch(
        "oor",
        Array.from({ length: 5 }, (_, i) => ({ value: Buffer.from(`v${i}`), partition: 0 }))
      )
      const earliest = yield* Fetcher.make({
        "bootstrap.servers": bootstrap,
        "auto.offset.reset": "earliest",
        "fetch.max.wait.ms": 50
      })
      const again = yield* earliest
        .fetch("oor", [{ partition: 0, offset: 1000 }])
        .pipe(Stream.take(5), Stream.runCollect, Effect.map(Chunk.toArray))
      assert.deepStrictEqual(
        again.map((r) => r.offset),
        [0, 1, 2, 3, 4]
      )
      const none = yield* Fetcher.make({ "bootstrap.servers": bootstrap, "auto.offset.reset": "none" })
      const error = yield* Effect.flip(
        none.fetch("oor", [{ partition: 0, offset: 1000 }]).pipe(Stream.take(1), Stream.runCollect)
      )
      assert.strictEqual(error._tag === "KafkaError" && error.errorName, "OFFSET_OUT_OF_RANGE")
    })
  )

  it.scopedLive("decompresses batches of every codec", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy()
      const fetcher = yield* Fetcher.make({ "bootstrap.servers": bootstrap, "fetch.max.wait.ms": 50 })
      for (const codec of ["gzip", "snappy", "lz4", "zstd"] as const) {
        const producer = yield* Producer.make({ "bootstrap.servers": bootstrap, "compression.type": codec })
        yield* producer.sendBatch(
          `z-${codec}`,
          Array.from({ length: 50 }, (_, i) => ({ value: Buffer.from(`${codec}-${i}`.repeat(20)), partition: 0 }))
        )
        const records = yield* fetcher
          .fetch(`z-${codec}`, [{ partition: 0, offset: 0 }])
          .pipe(Stream.take(50), Stream.runCollect, Effect.map(Chunk.toArray))
        assert.deepStrictEqual(
          records.map((r) => text(r.value)),
          Array.from({ length: 50 }, (_, i) => `${codec}-${i}`.repeat(20))
        )
      }
    })
  )
})
