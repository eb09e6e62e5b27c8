/**
 * `npm run bench -- streams` (this module: `streams-join`): a stream-table join against a hand-written
 * client loop doing the same work, on one in-process broker: 1,000 customers (the table) then 100k orders
 * of ~100 B (the stream) on 4 partitions each; each order is joined with its customer's row and written
 * out. The loop consumes both topics with one `Consumer.batches`, keeps the customers in a `Map` and sends
 * joined orders with `Producer.sendBatch`; Streams runs `stream(orders).join(table(customers))` (in-memory
 * store, record cache on). A Streams run ends when its committed order offsets reach the end. Three runs;
 * the median of the ratios (loop time / Streams time) is printed last.
 */
import type * as Admin from "@eddy/core/client/Admin"
import * as Topic from "@eddy/core/client/Topic"
import { Effect, Schema } from "effect"
import * as StreamsBuilder from "../src/dsl/StreamsBuilder.js"
import { setup } from "../test/runtime/util.js"
import { consumerLoop, timedStreams } from "./baseline.js"

const ORDERS = 100_000
const CUSTOMERS = 1000
const PARTITIONS = 4
const orders = Topic.make("bench-orders", { key: Schema.String, value: Schema.String })
const customers = Topic.make("bench-customers", { key: Schema.String, value: Schema.String })

const joiner = (order: string, customer: string) => `${customer}:${order.length}`

const handWritten = (bootstrap: string, admin: Admin.Admin, run: number) =>
  Effect.gen(function* () {
    const out = Topic.make(`join-loop-out-${run}`, { key: Schema.String, value: Schema.String })
    yield* admin.createTopics([{ name: out.name, numPartitions: PARTITIONS }])
    const table = new Map<string, string>()
    return yield* consumerLoop(
      bootstrap,
      {
        group: `join-loop-${run}`,
        topics: [customers, orders],
        records: ORDERS,
        counted: (b) => (b.topic === orders.name ? b.records.length : 0)
      },
      (b, producer) => {
        if (b.topic === customers.name) {
          for (const r of b.records) table.set(r.key!, r.value)
          return Effect.void
        }
        const records = []
        for (const r of b.records) {
          const customer = table.get(r.key!)
          if (customer !== undefined)
            records.push({ key: r.key, value: joiner(r.value, customer), timestamp: r.timestamp })
        }
        return producer.sendBatch(out, records)
      }
    )
  })

const streamsRun = (bootstrap: string, admin: Admin.Admin, run: number) =>
  Effect.gen(function* () {
    const id = `join-streams-${run}`
    const out = `join-streams-out-${run}`
    yield* admin.createTopics([{ name: out, numPartitions: PARTITIONS }])
    const builder = StreamsBuilder.make()
    builder
      .stream(orders)
      .join(builder.table(customers), joiner)
      .to(out, { keySerde: Topic.string as never, valueSerde: Topic.string as never })
    return yield* timedStreams(bootstrap, admin, {
      id,
      topology: yield* builder.build,
      input: orders.name,
      records: ORDERS,
      config: { "default.dsl.store": "in_memory" }
    })
  })

export const run = () =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const { bootstrap, admin, producer } = yield* setup({ [orders.name]: PARTITIONS, [customers.name]: PARTITIONS })
        yield* producer.sendBatch(
          customers,
          Array.from({ length: CUSTOMERS }, (_, i) => ({ key: `c-${i}`, value: `customer ${i}`, timestamp: 0 }))
        )
        const payload = "x".repeat(90)
        for (let i = 0; i < ORDERS; i += 10_000) {
          yield* producer.sendBatch(
            orders,
            Array.from({ length: 10_000 }, (_, j) => ({ key: `c-${(i + j) % CUSTOMERS}`, value: `${payload}${i + j}` }))
          )
        }
        const ratios: Array<number> = []
        const rate = (secs: number) => Math.round(ORDERS / secs)
        for (let runNo = 0; runNo < 3; runNo++) {
          const loop = yield* handWritten(bootstrap, admin, runNo)
          const streams = yield* streamsRun(bootstrap, admin, runNo)
          ratios.push(loop / streams)
          console.log(
            `run ${runNo + 1}: loop ${rate(loop)} orders/s; stream-table join ${rate(streams)} orders/s ` +
              `(${(loop / streams).toFixed(2)}x)`
          )
        }
        const median = [...ratios].sort((a, b) => a - b)[1]!
        console.log(`median of 3 runs: stream-table join ${median.toFixed(2)}x the Map loop`)
      })
    )
  )
