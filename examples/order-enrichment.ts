/**
 * Order enrichment, a stream-table join: each order on `orders` (key: customer id) is joined with the
 * customer's current row of the `customers` table and written to `enriched-orders`; orders of unknown
 * customers go out with `customer: null` (a left join). Start a broker with `npm start`, then:
 *
 *   npm run build && node examples/dist/order-enrichment.js
 *
 * It sends a few customers, waits until the table holds them, sends orders, prints the enriched orders
 * and exits. `EDDY_BOOTSTRAP` (default localhost:9092) and `STATE_DIR` override the broker address and
 * state directory.
 */

import * as Admin from "@eddy/core/client/Admin"
import * as Fetcher from "@eddy/core/client/Fetcher"
import * as Producer from "@eddy/core/client/Producer"
import * as Topic from "@eddy/core/client/Topic"
import { KafkaStreams, Options, StreamsBuilder } from "@eddy/streams"
import { Effect, Schema, Stream } from "effect"

export const Order = Schema.Struct({ id: Schema.String, customer: Schema.String, amount: Schema.Number })
export const Customer = Schema.Struct({ name: Schema.String, tier: Schema.String })
export const EnrichedOrder = Schema.Struct({
  id: Schema.String,
  amount: Schema.Number,
  customer: Schema.NullOr(Customer)
})

export const orders = Topic.make("orders-to-enrich", { key: Schema.String, value: Order })
export const customers = Topic.make("customers", { key: Schema.String, value: Customer })
export const enriched = Topic.make("enriched-orders", { key: Schema.String, value: EnrichedOrder })

const bootstrap = process.env.EDDY_BOOTSTRAP ?? "localhost:9092"
const applicationId = "order-enrichment-app"

/** orders (by customer) left-joined with the customers table -> enriched-orders. */
export const topology = Effect.gen(function* () {
  const builder = StreamsBuilder.make()
  const table = builder.table(customers, {}, Options.materializedAs("customers-store"))
  builder
    .stream(orders)
    .leftJoin(table, (order, customer) => ({ id: order.id, amount: order.amount, customer }))
    .to(enriched)
  return yield* builder.build
})

const program = Effect.gen(function* () {
  const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
  const existing = new Set(yield* admin.listTopics())
  const missing = [orders.name, customers.name, enriched.name].filter((t) => !existing.has(t))
  if (missing.length > 0) yield* admin.createTopics(missing.map((name) => ({ name, numPartitions: 2 })))

  const app = yield* KafkaStreams.make(yield* topology, {
    "application.id": applicationId,
    "bootstrap.servers": bootstrap,
    "commit.interval.ms": 200,
    "statestore.cache.max.bytes": 0,
    ...(process.env.STATE_DIR === undefined ? {} : { "state.dir": process.env.STATE_DIR })
  })
  yield* app.start

  // this run's keys, so that runs against one broker do not see each other's records
  const run = Date.now().toString(36)
  const ann = `ann-${run}`
  const bob = `bob-${run}`
  const producer = yield* Producer.make({ "bootstrap.servers": bootstrap })
  yield* producer.sendBatch(customers, [
    { key: ann, value: { name: "Ann", tier: "gold" } },
    { key: bob, value: { name: "Bob", tier: "standard" } }
  ])

  // the orders must find the customers in the table: wait until its changelog holds them
  const fetcher = yield* Fetcher.make({ "bootstrap.servers": bootstrap })
  const changelog = Topic.make(`${applicationId}-customers-store-changelog`, { key: Schema.String, value: Customer })
  const loaded = new Set<string>()
  yield* fetcher
    .fetch(
      changelog,
      [0, 1].map((partition) => ({ partition, offset: "earliest" as const }))
    )
    .pipe(
      Stream.tap((r) => Effect.sync(() => loaded.add(r.key!))),
      Stream.takeUntil(() => loaded.has(ann) && loaded.has(bob)),
      Stream.runDrain
    )

  const sample = [
    { id: `o1-${run}`, customer: ann, amount: 30 },
    { id: `o2-${run}`, customer: bob, amount: 12.5 },
    { id: `o3-${run}`, customer: `eve-${run}`, amount: 7 }
  ]
  yield* producer.sendBatch(
    orders,
    sample.map((o) => ({ key: o.customer, value: o }))
  )
  const results = new Map<string, typeof EnrichedOrder.Type>()
  yield* fetcher
    .fetch(
      enriched,
      [0, 1].map((partition) => ({ partition, offset: "earliest" as const }))
    )
    .pipe(
      Stream.filter((r) => r.value.id.endsWith(run)),
      Stream.tap((r) => Effect.sync(() => results.set(r.value.id, r.value))),
      Stream.takeUntil(() => results.size === sample.length),
      Stream.runDrain
    )
  for (const o of sample) {
    const e = results.get(o.id)!
    const who = e.customer === null ? "unknown customer" : `${e.customer.name} (${e.customer.tier})`
    console.log(`${o.id.replace(`-${run}`, "")}: ${e.amount} for ${who}`)
  }
}).pipe(Effect.scoped)

Effect.runPromise(program).then(
  () => process.exit(0),
  (e) => {
    console.error(e)
    process.exit(1)
  }
)
