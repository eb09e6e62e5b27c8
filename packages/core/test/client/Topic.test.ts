import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Schema, Stream } from "effect"
import * as Fetcher from "../../src/client/Fetcher.js"
import * as Partitioner from "../../src/client/Partitioner.js"
import * as Producer from "../../src/client/Producer.js"
import * as Topic from "../../src/client/Topic.js"
import { startEddy } from "./util.js"

class Order extends Schema.Class<Order>("Order")({
  id: Schema.String,
  amount: Schema.Number,
  placedAt: Schema.DateFromString
}) {}

const orders = Topic.make("orders", { key: Schema.String, value: Order })

describe("Topic", () => {
  it("encodes values as JSON of the Schema's encoded form and string keys as UTF-8", () => {
    const order = new Order({ id: "o-1", amount: 12.5, placedAt: new Date("2026-01-02T03:04:05.000Z") })
    const bytes = orders.value.encode(order)!
    assert.deepStrictEqual(JSON.parse(Buffer.from(bytes).toString()), {
      id: "o-1",
      amount: 12.5,
      placedAt: "2026-01-02T03:04:05.000Z"
    })
    assert.strictEqual(Buffer.from(orders.key.encode("k-1")!).toString(), "k-1")
    const back = orders.value.decode(bytes)
    assert.instanceOf(back, Order)
    assert.strictEqual(back.placedAt.getTime(), order.placedAt.getTime())
    assert.strictEqual(orders.key.decode(Buffer.from("k-1")), "k-1")
    assert.throws(() => orders.value.decode(Buffer.from('{"id":1}')))
    assert.strictEqual(Buffer.from(Topic.json(Schema.String).encode("x")!).toString(), '"x"')
    assert.strictEqual(Topic.string.decode(Topic.string.encode("héllo")), "héllo")
    assert.isNull(Topic.bytes.decode(null))
  })

  it.scopedLive("produces and fetches typed records; a record that fails to decode is a typed error", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy()
      const producer = yield* Producer.make({ "bootstrap.servers": bootstrap })
      const placedAt = new Date("2026-03-04T05:06:07.000Z")
      const acks = yield* Effect.forEach(
        Array.from({ length: 10 }, (_, i) => i),
        (i) =>
          producer.send(orders, {
            key: `customer-${i % 3}`,
            value: new Order({ id: `o-${i}`, amount: i, placedAt }),
            headers: { source: "test" }
          }),
        { concurrency: "unbounded" }
      )
      const partitions = acks[0]!.partition + 1
      assert.strictEqual(acks[0]!.partition, Partitioner.partitionForKey(Buffer.from("customer-0"), partitions))
      const fetcher = yield* Fetcher.make({ "bootstrap.servers": bootstrap, "fetch.max.wait.ms": 50 })
      const records = yield* fetcher
        .fetch(orders, [{ partition: 0, offset: "earliest" }])
        .pipe(Stream.take(10), Stream.runCollect, Effect.map(Chunk.toArray))
      assert.deepStrictEqual(
        records.map((r) => [r.key, r.value.id, r.value.amount, r.value.placedAt.getTime()]),
        Array.from({ length: 10 }, (_, i) => [`customer-${i % 3}`, `o-${i}`, i, placedAt.getTime()])
      )
      assert.strictEqual(Buffer.from(records[0]!.headers[0]!.value!).toString(), "test")

      // a record that is not an Order
      const bad = yield* producer.send("orders", {
        key: Buffer.from("x"),
        value: Buffer.from("not json"),
        partition: 0
      })
      const error = yield* fetcher
        .fetch(orders, [{ partition: 0, offset: bad.offset }])
        .pipe(Stream.runCollect, Effect.flip)
      assert.strictEqual(error._tag, "RecordDecodeError")
      if (error._tag === "RecordDecodeError") {
        assert.strictEqual(error.topic, "orders")
        assert.strictEqual(error.partition, 0)
        assert.strictEqual(error.offset, bad.offset)
        assert.strictEqual(error.field, "value")
      }
    })
  )

  it.scopedLive("a value that fails to encode fails send with RecordEncodeError", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy()
      const producer = yield* Producer.make({ "bootstrap.servers": bootstrap })
      const positive = Topic.make("positive", { value: Schema.Number.pipe(Schema.positive()) })
      const error = yield* Effect.flip(producer.send(positive, { value: -1 }))
      assert.strictEqual(error._tag, "RecordEncodeError")
    })
  )
})
