/**
 * Foreign-key table-table joins in the test driver: orders (key: order id, value `<customer>/<item>`)
 * joined with customers on the customer id, row by row, for inner and left joins; the internal topics and
 * the subscription store as Kafka names them.
 */
import { createHash } from "node:crypto"
import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { materializedAs } from "../../src/dsl/Options.js"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import { responseSerde } from "../../src/internal/dsl/fkJoin.js"
import * as Serdes from "../../src/Serdes.js"
import * as TopologyTestDriver from "../../src/TopologyTestDriver.js"

const orders = Topic.make("orders", { key: Schema.String, value: Schema.NullOr(Schema.String) })
const customers = Topic.make("customers", { key: Schema.String, value: Schema.NullOr(Schema.String) })
const out = Topic.make("out", { key: Schema.String, value: Schema.NullOr(Schema.String) })

/** A customer id, or none for `/<item>` (an order without a customer). */
const customerOf = (order: string) => (order.startsWith("/") ? null : order.split("/")[0]!)

/** One input record and the (key, value) results each join emits for it. */
interface Step {
  readonly topic: "orders" | "customers"
  readonly key: string
  readonly value: string | null
  readonly inner: ReadonlyArray<[string, string | null]>
  readonly left: ReadonlyArray<[string, string | null]>
}

const steps: ReadonlyArray<Step> = [
  // no order refers to c1 yet: nothing to send
  { topic: "customers", key: "c1", value: "Ann", inner: [], left: [] },
  { topic: "orders", key: "o1", value: "c1/book", inner: [["o1", "c1/book+Ann"]], left: [["o1", "c1/book+Ann"]] },
  // c2 does not exist: only the left join emits
  { topic: "orders", key: "o2", value: "c2/pen", inner: [], left: [["o2", "c2/pen+null"]] },
  // a right row appearing fans out to its subscribers
  { topic: "customers", key: "c2", value: "Bob", inner: [["o2", "c2/pen+Bob"]], left: [["o2", "c2/pen+Bob"]] },
  { topic: "customers", key: "c1", value: "Anna", inner: [["o1", "c1/book+Anna"]], left: [["o1", "c1/book+Anna"]] },
  // o1 moves to c2: it unsubscribes from c1 and joins c2
  { topic: "orders", key: "o1", value: "c2/book", inner: [["o1", "c2/book+Bob"]], left: [["o1", "c2/book+Bob"]] },
  { topic: "customers", key: "c1", value: "Annie", inner: [], left: [] },
  // deleting c2 reaches both subscribers (in left-key order)
  {
    topic: "customers",
    key: "c2",
    value: null,
    inner: [
      ["o1", null],
      ["o2", null]
    ],
    left: [
      ["o1", "c2/book+null"],
      ["o2", "c2/pen+null"]
    ]
  },
  // deleting a left row deletes its result (the inner join's result of o2 was already deleted with c2)
  { topic: "orders", key: "o2", value: null, inner: [], left: [["o2", null]] },
  // a row without a foreign key: the left join joins it with null, the inner join ignores it
  { topic: "orders", key: "o3", value: "/ink", inner: [], left: [["o3", "/ink+null"]] },
  { topic: "customers", key: "c2", value: "Bea", inner: [["o1", "c2/book+Bea"]], left: [["o1", "c2/book+Bea"]] }
]

describe("foreign-key table-table joins", () => {
  for (const kind of ["inner", "left"] as const) {
    it.effect(`${kind} join, row by row`, () =>
      Effect.gen(function* () {
        const builder = StreamsBuilder.make()
        const o = builder.table(orders)
        const c = builder.table(customers)
        const joiner = (order: string, customer: string | null) => `${order}+${customer}`
        const joined =
          kind === "inner"
            ? o.join(c, customerOf, joiner, {}, materializedAs("enriched", { valueSerde: Serdes.string }))
            : o.leftJoin(c, customerOf, joiner, {}, materializedAs("enriched", { valueSerde: Serdes.string }))
        joined.toStream().to(out)
        const topology = yield* builder.build
        const driver = yield* TopologyTestDriver.make(topology, { "statestore.cache.max.bytes": 0 })
        const inputs = { orders: driver.createInputTopic(orders), customers: driver.createInputTopic(customers) }
        const output = driver.createOutputTopic(out)
        let t = 0
        for (const step of steps) {
          yield* inputs[step.topic].pipeInput(step.key, step.value, ++t)
          const got = output.readKeyValuesToList().map((kv): [string, string | null] => [kv.key, kv.value])
          assert.deepStrictEqual(got, [...step[kind]], `${kind}: ${step.topic} ${step.key}=${step.value}`)
        }
        const store = driver.getKeyValueStore<string, string>("enriched")
        assert.strictEqual(store.get("o1"), "c2/book+Bea")
        assert.strictEqual(store.get("o2"), undefined)
        const names = driver.producedTopicNames()
        for (const topic of [
          "test-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic",
          "test-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000014-topic",
          "test-KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-0000000011-changelog"
        ]) {
          assert.isTrue(names.has(topic), `${topic} in ${[...names].join(", ")}`)
        }
        assert.include(topology.describe(), "KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR-")
      }).pipe(Effect.scoped)
    )
  }

  it.effect("a response computed for an older left value (another hash) is dropped as stale", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make()
      builder
        .table(orders)
        .join(builder.table(customers), customerOf, (order: string, customer: string) => `${order}+${customer}`)
        .toStream()
        .to(out)
      const driver = yield* TopologyTestDriver.make(yield* builder.build, { "statestore.cache.max.bytes": 0 })
      yield* driver.createInputTopic(customers).pipeInput("c1", "Ann", 1)
      yield* driver.createInputTopic(customers).pipeInput("c2", "Bob", 2)
      yield* driver.createInputTopic(orders).pipeInput("o1", "c1/book", 3)
      yield* driver.createInputTopic(orders).pipeInput("o1", "c2/book", 4)
      const output = driver.createOutputTopic(out)
      assert.deepStrictEqual(output.readValuesToList(), ["c1/book+Ann", "c2/book+Bob"])
      // a response to o1's first subscription arriving late (as it can between partitions on a broker)
      const md5 = (v: string) => new Uint8Array(createHash("md5").update(orders.value.encode(v)!).digest())
      const responses = driver.createInputTopic({
        name: "test-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000014-topic",
        key: orders.key,
        value: responseSerde(customers.value)
      })
      yield* responses.pipeInput("o1", { hash: md5("c1/book"), rightValue: "Ann" }, 5)
      assert.isTrue(output.isEmpty())
      yield* responses.pipeInput("o1", { hash: md5("c2/book"), rightValue: "Bea" }, 6)
      assert.deepStrictEqual(output.readValuesToList(), ["c2/book+Bea"])
    }).pipe(Effect.scoped)
  )
})
