import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as JoinWindows from "../../src/dsl/JoinWindows.js"
import { materializedAs } from "../../src/dsl/Options.js"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import * as KafkaStreams from "../../src/KafkaStreams.js"
import * as Stores from "../../src/state/Stores.js"
import { fastGroup, readAll, setup, waitUntil } from "./util.js"

const orders = Topic.make("orders", { key: Schema.String, value: Schema.String })
const customers = Topic.make("customers", { key: Schema.String, value: Schema.String })
const enriched = Topic.make("enriched", { key: Schema.String, value: Schema.String })

const config = (bootstrap: string, id: string) => ({
  "application.id": id,
  "bootstrap.servers": bootstrap,
  "commit.interval.ms": 100,
  "statestore.cache.max.bytes": 0,
  "state.dir": mkdtempSync(join(tmpdir(), "streams-joins-")),
  ...fastGroup
})

describe("joins on a broker", () => {
  it.scopedLive(
    "a stream-table join enriches orders with the customer row of their key, across partitions",
    () =>
      Effect.gen(function* () {
        const { bootstrap, producer } = yield* setup({ orders: 2, customers: 2, enriched: 1 })
        const builder = StreamsBuilder.make()
        builder
          .stream(orders)
          .leftJoin(builder.table(customers), (order, customer) => `${order} for ${customer ?? "?"}`)
          .to(enriched)
        const app = yield* KafkaStreams.make(yield* builder.build, config(bootstrap, "enrich"))
        yield* app.start
        yield* KafkaStreams.awaitState(app, "RUNNING")
        yield* producer.sendBatch(customers, [
          { key: "c1", value: "Ann" },
          { key: "c2", value: "Bob" }
        ])
        // the table side must be in the store before the orders look it up: wait for its changelog
        const changelog = Topic.make("enrich-customers-STATE-STORE-0000000001-changelog", {
          key: Schema.String,
          value: Schema.String
        })
        yield* waitUntil(
          "the customers in the table's store",
          Effect.map(readAll(bootstrap, changelog, 2), (rs) => rs.length >= 2)
        )
        yield* producer.sendBatch(orders, [
          { key: "c1", value: "book" },
          { key: "c2", value: "pen" },
          { key: "c3", value: "ink" }
        ])
        yield* waitUntil(
          "three enriched orders",
          Effect.map(readAll(bootstrap, enriched, 1), (rs) => rs.length >= 3)
        )
        const values = (yield* readAll(bootstrap, enriched, 1)).map((r) => r.value).sort()
        assert.deepStrictEqual(values, ["book for Ann", "ink for ?", "pen for Bob"])
      }),
    60_000
  )

  it.scopedLive(
    "a foreign-key join across differently partitioned tables, with fan-out when the right row changes",
    () =>
      Effect.gen(function* () {
        const { bootstrap, producer, admin } = yield* setup({ orders: 2, customers: 3, enriched: 1 })
        const builder = StreamsBuilder.make()
        builder
          .table(orders)
          .join(
            builder.table(customers),
            (order) => order.split("/")[0]!,
            (order, customer) => `${order} for ${customer}`
          )
          .toStream()
          .to(enriched)
        const app = yield* KafkaStreams.make(yield* builder.build, config(bootstrap, "fk"))
        yield* app.start
        yield* KafkaStreams.awaitState(app, "RUNNING")
        const described = yield* admin.describeTopics([
          "fk-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic",
          "fk-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000014-topic"
        ])
        // registrations are partitioned like the right table, responses like the left one
        assert.deepStrictEqual(
          described.map((d) => d.partitions.length),
          [3, 2]
        )
        yield* producer.sendBatch(customers, [
          { key: "c1", value: "Ann" },
          { key: "c2", value: "Bob" }
        ])
        yield* producer.sendBatch(orders, [
          { key: "o1", value: "c1/book" },
          { key: "o2", value: "c2/pen" },
          { key: "o3", value: "c1/ink" }
        ])
        const latest = Effect.map(readAll(bootstrap, enriched, 1), (rs) => new Map(rs.map((r) => [r.key, r.value])))
        yield* waitUntil(
          "three joined orders",
          Effect.map(latest, (m) => m.size === 3)
        )
        assert.deepStrictEqual(
          yield* latest,
          new Map([
            ["o1", "c1/book for Ann"],
            ["o2", "c2/pen for Bob"],
            ["o3", "c1/ink for Ann"]
          ])
        )
        yield* producer.sendBatch(customers, [{ key: "c1", value: "Anna" }])
        yield* waitUntil(
          "the new name fanned out to both orders of c1",
          Effect.map(latest, (m) => m.get("o1") === "c1/book for Anna" && m.get("o3") === "c1/ink for Anna")
        )
      }),
    60_000
  )

  it.scopedLive(
    "a stream-stream join's window store is restored from its changelog by the next instance",
    () =>
      Effect.gen(function* () {
        const { bootstrap, producer } = yield* setup({ orders: 1, customers: 1, enriched: 1 })
        const topology = Effect.suspend(() => {
          const builder = StreamsBuilder.make()
          builder
            .stream(orders)
            .join(builder.stream(customers), (o, c) => `${o}+${c}`, JoinWindows.ofTimeDifferenceWithNoGrace("1 minute"))
            .to(enriched)
          return builder.build
        })
        const settings = { ...config(bootstrap, "restore-join"), "default.dsl.store": "in_memory" as const }
        // keys in Kafka's binary window-key form: read raw
        const changelog = Topic.raw("restore-join-KSTREAM-JOINTHIS-0000000004-store-changelog")
        yield* Effect.scoped(
          Effect.gen(function* () {
            const app = yield* KafkaStreams.make(yield* topology, settings)
            yield* app.start
            yield* KafkaStreams.awaitState(app, "RUNNING")
            yield* producer.sendBatch(orders, [{ key: "k", value: "order" }])
            yield* waitUntil(
              "the order in the window store's changelog",
              Effect.map(readAll(bootstrap, changelog, 1), (rs) => rs.length === 1)
            )
          })
        )
        // a new instance with in-memory stores: the order is only in the changelog now
        const app = yield* KafkaStreams.make(yield* topology, settings)
        yield* app.start
        yield* KafkaStreams.awaitState(app, "RUNNING")
        yield* producer.sendBatch(customers, [{ key: "k", value: "customer" }])
        yield* waitUntil(
          "the join of the restored order",
          Effect.map(readAll(bootstrap, enriched, 1), (rs) => rs.some((r) => r.value === "order+customer"))
        )
      }),
    60_000
  )

  it.scopedLive(
    "a left join's unmatched record held before a restart is emitted once its window closes after it",
    () =>
      Effect.gen(function* () {
        const { bootstrap, producer } = yield* setup({ orders: 1, customers: 1, enriched: 1 })
        const topology = Effect.suspend(() => {
          const builder = StreamsBuilder.make()
          builder
            .stream(orders)
            .leftJoin(builder.stream(customers), (o, c) => `${o}+${c}`, JoinWindows.ofTimeDifferenceWithNoGrace(1000))
            .to(enriched)
          return builder.build
        })
        const settings = { ...config(bootstrap, "outer-restart"), "default.dsl.store": "in_memory" as const }
        const shared = Topic.raw("outer-restart-KSTREAM-OUTERSHARED-0000000004-store-changelog")
        const t0 = Date.now() - 60_000
        yield* Effect.scoped(
          Effect.gen(function* () {
            const app = yield* KafkaStreams.make(yield* topology, settings)
            yield* app.start
            yield* KafkaStreams.awaitState(app, "RUNNING")
            yield* producer.sendBatch(orders, [{ key: "a", value: "lonely", timestamp: t0 }])
            yield* waitUntil(
              "the unmatched order in the outer store's changelog",
              Effect.map(readAll(bootstrap, shared, 1), (rs) => rs.length === 1)
            )
          })
        )
        const app = yield* KafkaStreams.make(yield* topology, settings)
        yield* app.start
        yield* KafkaStreams.awaitState(app, "RUNNING")
        yield* producer.sendBatch(orders, [{ key: "b", value: "later", timestamp: t0 + 5000 }])
        yield* waitUntil(
          "the held order joined with null",
          Effect.map(readAll(bootstrap, enriched, 1), (rs) => rs.some((r) => r.value === "lonely+null"))
        )
      }),
    60_000
  )

  it.scopedLive(
    "a versioned table's history is restored from its changelog, and a stream-table join reads it as of each order",
    () =>
      Effect.gen(function* () {
        const { bootstrap, producer } = yield* setup({ orders: 1, customers: 1, enriched: 1 })
        const topology = Effect.suspend(() => {
          const builder = StreamsBuilder.make()
          const store = Stores.inMemoryVersionedKeyValueStore("tiers", "1 day")
          builder
            .stream(orders)
            .leftJoin(
              builder.table(customers, {}, materializedAs("tiers", { storeSupplier: store })),
              (o, tier) => `${o}:${tier}`
            )
            .to(enriched)
          return builder.build
        })
        const settings = config(bootstrap, "versioned-join")
        const changelog = Topic.make("versioned-join-tiers-changelog", { key: Schema.String, value: Schema.String })
        const t0 = Date.now() - 60_000
        yield* Effect.scoped(
          Effect.gen(function* () {
            const app = yield* KafkaStreams.make(yield* topology, settings)
            yield* app.start
            yield* KafkaStreams.awaitState(app, "RUNNING")
            yield* producer.sendBatch(customers, [
              { key: "c1", value: "silver", timestamp: t0 },
              { key: "c1", value: "gold", timestamp: t0 + 20_000 }
            ])
            yield* waitUntil(
              "both versions in the changelog",
              Effect.map(readAll(bootstrap, changelog, 1), (rs) => rs.length === 2)
            )
          })
        )
        // the next instance's in-memory store holds only what it restored
        const app = yield* KafkaStreams.make(yield* topology, settings)
        yield* app.start
        yield* KafkaStreams.awaitState(app, "RUNNING")
        yield* producer.sendBatch(orders, [
          { key: "c1", value: "early", timestamp: t0 + 10_000 },
          { key: "c1", value: "late", timestamp: t0 + 30_000 },
          { key: "c1", value: "before", timestamp: t0 - 1 }
        ])
        yield* waitUntil(
          "three joined orders",
          Effect.map(readAll(bootstrap, enriched, 1), (rs) => rs.length === 3)
        )
        assert.deepStrictEqual(
          (yield* readAll(bootstrap, enriched, 1)).map((r) => r.value),
          ["early:silver", "late:gold", "before:null"]
        )
      }),
    60_000
  )

  it.scopedLive(
    "start fails with a clear error when a join's inputs have different partition counts",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* setup({ orders: 2, customers: 3, enriched: 1 })
        const builder = StreamsBuilder.make()
        builder
          .stream(orders)
          .join(builder.stream(customers), (o, c) => `${o}${c}`, JoinWindows.ofTimeDifferenceWithNoGrace(1000))
          .to(enriched)
        const app = yield* KafkaStreams.make(yield* builder.build, config(bootstrap, "mismatch"))
        const error = yield* Effect.flip(app.start)
        assert.include(error.message, "not co-partitioned")
        assert.include(error.message, "orders (2 partitions)")
        assert.include(error.message, "customers (3 partitions)")
      }),
    60_000
  )
})
