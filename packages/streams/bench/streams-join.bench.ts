/**
 * `npm run bench -- streams` (this module: `streams-join`): a stream-table join against a hand-written
 * client loop doing the same work, on one in-process broker: 1,000 customers (the table) then 100k orders
 * of ~100 B (the stream) on 4 partitions each; each order is joined with its customer's row and written
 * out. The loop consumes both topics with one `Consumer.batches`, keeps the customers in a `Map` and sends
 * joined orders with `Producer.sendBatch`; Streams runs `stream(orders).join(table(customers))` (in-memory
 * store, record cache on). A Streams run ends when its committed order offsets reach the end. Three runs;
 * the median of the ratios (loop time / Streams time) is printed last.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Admin from "@eddy/core/client/Admin"
import * as Consumer from "@eddy/core/client/Consumer"
import * as Producer from "@eddy/core/client/Producer"
import * as Topic from "@eddy/core/client/Topic"
import { Effect, Schema, Stream } from "effect"
import * as StreamsBuilder from "../src/dsl/StreamsBuilder.js"
import * as KafkaStreams from "../src/KafkaStreams.js"
import { startEddy } from "../test/runtime/util.js"

const ORDERS = 100_000
const CUSTOMERS = 1000
const PARTITIONS = 4
const orders = Topic.make("bench-orders", { key: Schema.String, value: Schema.String })
const customers = Topic.make("bench-customers", { key: Schema.String, value: Schema.String })

const joiner = (order: string, customer: string) => `${customer}:${order.length}`

const committedOrders = (admin: Admin.Admin, group: string) =>
  Effect.map(admin.listGroupOffsets(group), (os) =>
    os.filter((o) => o.topic === orders.name).reduce((n, o) => n + Math.max(0, o.offset), 0)
  )

const handWritten = (bootstrap: string, admin: Admin.Admin, run: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const out = Topic.make(`join-loop-out-${run}`, { key: Schema.String, value: Schema.String })
      yield* admin.createTopics([{ name: out.name, numPartitions: PARTITIONS }])
      const producer = yield* Producer.make({ "bootstrap.servers": bootstrap })
      const consumer = yield* Consumer.make({
        "bootstrap.servers": bootstrap,
        "group.id": `join-loop-${run}`,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": false
      })
      const table = new Map<string, string>()
      const t0 = performance.now()
      let seen = 0
      yield* consumer.batches([customers, orders]).pipe(
        Stream.mapEffect((b) => {
          if (b.topic === customers.name) {
            for (const r of b.records) table.set(r.key!, r.value)
            return Effect.void
          }
          seen += b.records.length
          const records = []
          for (const r of b.records) {
            const customer = table.get(r.key!)
            if (customer !== undefined)
              records.push({ key: r.key, value: joiner(r.value, customer), timestamp: r.timestamp })
          }
          return producer.sendBatch(out, records)
        }),
        Stream.takeUntil(() => seen >= ORDERS),
        Stream.runDrain
      )
      yield* consumer.commit
      return (performance.now() - t0) / 1000
    })
  )

const streamsRun = (bootstrap: string, admin: Admin.Admin, run: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const id = `join-streams-${run}`
      const out = `join-streams-out-${run}`
      yield* admin.createTopics([{ name: out, numPartitions: PARTITIONS }])
      const builder = StreamsBuilder.make()
      builder
        .stream(orders)
        .join(builder.table(customers), joiner)
        .to(out, { keySerde: Topic.string as never, valueSerde: Topic.string as never })
      const app = yield* KafkaStreams.make(yield* builder.build, {
        "application.id": id,
        "bootstrap.servers": bootstrap,
        "commit.interval.ms": 100,
        "default.dsl.store": "in_memory",
        "state.dir": mkdtempSync(join(tmpdir(), "streams-join-bench-"))
      })
      const t0 = performance.now()
      yield* app.start
      while ((yield* committedOrders(admin, id).pipe(Effect.orElseSucceed(() => 0))) < ORDERS) yield* Effect.sleep(50)
      return (performance.now() - t0) / 1000
    })
  )

export const run = () =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddy
        const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
        yield* admin.createTopics([
          { name: orders.name, numPartitions: PARTITIONS },
          { name: customers.name, numPartitions: PARTITIONS }
        ])
        const producer = yield* Producer.make({ "bootstrap.servers": bootstrap })
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
