/**
 * Order totals per customer with exactly-once (`processing.guarantee: exactly_once_v2`): reads `orders`
 * (key: customer, value: an order as JSON), keeps each customer's order count and total in a store, and
 * writes every update to `order-totals`. Start a broker with `npm start`, then:
 *
 *   npm run build && node examples/dist/order-totals.js        # sends sample orders, prints the totals, exits
 *   npm run build && node examples/dist/order-totals.js run    # runs the application until stopped (prints its states)
 *
 * `EDDY_BOOTSTRAP` (default localhost:9092) and `STATE_DIR` override the broker address and state directory;
 * `SESSION_TIMEOUT_MS` (default 3000) how soon the group notices a killed instance.
 */

import * as Admin from "@eddy/core/client/Admin"
import * as Fetcher from "@eddy/core/client/Fetcher"
import * as Producer from "@eddy/core/client/Producer"
import * as Topic from "@eddy/core/client/Topic"
import { KafkaStreams, Options, StreamsBuilder } from "@eddy/streams"
import { Effect, Schema, Stream } from "effect"

export class Order extends Schema.Class<Order>("Order")({
  id: Schema.String,
  customer: Schema.String,
  amount: Schema.Number
}) {}

export const Totals = Schema.Struct({ count: Schema.Number, total: Schema.Number })
export type Totals = typeof Totals.Type

export const orders = Topic.make("orders", { key: Schema.String, value: Order })
export const totals = Topic.make("order-totals", { key: Schema.String, value: Totals })

/** orders -> per-customer { count, total } -> order-totals. */
export const topology = Effect.gen(function* () {
  const builder = StreamsBuilder.make()
  builder
    .stream(orders)
    .groupByKey()
    .aggregate(
      (): Totals => ({ count: 0, total: 0 }),
      (_customer, order, t) => ({ count: t.count + 1, total: t.total + order.amount }),
      Options.materializedAs("totals", { valueSerde: Topic.schema(Totals) })
    )
    .toStream()
    .to(totals)
  return yield* builder.build
})

const bootstrap = process.env.EDDY_BOOTSTRAP ?? "localhost:9092"

export const config = {
  "application.id": "order-totals-app",
  "bootstrap.servers": bootstrap,
  "processing.guarantee": "exactly_once_v2",
  "session.timeout.ms": Number(process.env.SESSION_TIMEOUT_MS ?? 3000),
  "heartbeat.interval.ms": 200,
  ...(process.env.STATE_DIR === undefined ? {} : { "state.dir": process.env.STATE_DIR })
} as const

/** Creates the example's topics (4 partitions) unless they exist. */
export const createTopics = Effect.gen(function* () {
  const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
  const existing = new Set(yield* admin.listTopics())
  const missing = [orders.name, totals.name].filter((t) => !existing.has(t))
  if (missing.length > 0) yield* admin.createTopics(missing.map((name) => ({ name, numPartitions: 4 })))
}).pipe(Effect.scoped)

/** Runs the application until interrupted, printing each state. */
const run = Effect.gen(function* () {
  yield* createTopics
  const app = yield* KafkaStreams.make(yield* topology, config, {
    onStateChange: (state) => Effect.sync(() => console.log(state))
  })
  yield* app.start
  yield* Effect.never
}).pipe(Effect.scoped)

/** Sends sample orders, waits for their totals, prints them. */
const demo = Effect.gen(function* () {
  yield* createTopics
  const app = yield* KafkaStreams.make(yield* topology, config)
  yield* app.start
  const producer = yield* Producer.make({ "bootstrap.servers": bootstrap })
  const sample = [
    new Order({ id: "o1", customer: "alice", amount: 30 }),
    new Order({ id: "o2", customer: "bob", amount: 12.5 }),
    new Order({ id: "o3", customer: "alice", amount: 8 })
  ]
  yield* producer.sendBatch(
    orders,
    sample.map((o) => ({ key: o.customer, value: o }))
  )
  const fetcher = yield* Fetcher.make({ "bootstrap.servers": bootstrap, "isolation.level": "read_committed" })
  const seen = new Map<string, Totals>()
  yield* fetcher
    .fetch(
      totals,
      [0, 1, 2, 3].map((partition) => ({ partition, offset: "earliest" as const }))
    )
    .pipe(
      Stream.tap((r) => Effect.sync(() => seen.set(r.key!, r.value))),
      Stream.takeUntil(() => (seen.get("alice")?.count ?? 0) >= 2 && (seen.get("bob")?.count ?? 0) >= 1),
      Stream.runDrain
    )
  for (const [customer, t] of seen) console.log(`${customer}: ${t.count} orders, total ${t.total}`)
}).pipe(Effect.scoped)

Effect.runPromise(process.argv[2] === "run" ? run : demo).then(
  () => process.exit(0),
  (e) => {
    console.error(e)
    process.exit(1)
  }
)
