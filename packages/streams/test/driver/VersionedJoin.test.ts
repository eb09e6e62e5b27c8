/**
 * Versioned tables in the test driver: a table materialized with a versioned store forwards only changes
 * of the latest version (out-of-order records fill in history), and a stream-table join reads it as of
 * each stream record's timestamp.
 */
import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { materializedAs } from "../../src/dsl/Options.js"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import * as Stores from "../../src/state/Stores.js"
import * as TopologyTestDriver from "../../src/TopologyTestDriver.js"

const prices = Topic.make("prices", { key: Schema.String, value: Schema.NullOr(Schema.String) })
const orders = Topic.make("orders", { key: Schema.String, value: Schema.String })
const out = Topic.make("out", { key: Schema.String, value: Schema.String })
const changes = Topic.make("price-changes", { key: Schema.String, value: Schema.NullOr(Schema.String) })

describe("versioned tables", () => {
  it.effect("a stream-table join reads the version valid at the stream record's time", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make()
      const table = builder.table(
        prices,
        {},
        materializedAs("prices-store", {
          storeSupplier: Stores.persistentVersionedKeyValueStore("prices-store", "1 hour")
        })
      )
      table.toStream().to(changes)
      builder
        .stream(orders)
        .leftJoin(table, (order, price) => `${order}@${price ?? "none"}`)
        .to(out)
      const driver = yield* TopologyTestDriver.make(yield* builder.build)
      const p = driver.createInputTopic(prices)
      const o = driver.createInputTopic(orders)
      yield* p.pipeInput("x", "v1", 10)
      yield* p.pipeInput("x", "v3", 30)
      // out of order: history only, the table does not change
      yield* p.pipeInput("x", "v2", 20)
      yield* p.pipeInput("x", null, 40)
      assert.deepStrictEqual(driver.createOutputTopic(changes).readValuesToList(), ["v1", "v3", null])
      for (const t of [25, 35, 15, 5, 45]) yield* o.pipeInput("x", `o${t}`, t)
      assert.deepStrictEqual(driver.createOutputTopic(out).readValuesToList(), [
        "o25@v2",
        "o35@v3",
        "o15@v1",
        "o5@none",
        "o45@none"
      ])
      const store = driver.getVersionedKeyValueStore<string, string>("prices-store")
      assert.strictEqual(store.get("x"), undefined)
      assert.deepStrictEqual(store.get("x", 22), { value: "v2", timestamp: 20, validTo: 30 })
      assert.isTrue(driver.producedTopicNames().has("test-prices-store-changelog"))
    }).pipe(Effect.scoped)
  )

  it.effect("with a grace period, stream records wait so that late table updates are seen", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make()
      const table = builder.table(
        prices,
        {},
        materializedAs("prices-store", {
          storeSupplier: Stores.inMemoryVersionedKeyValueStore("prices-store", "1 hour")
        })
      )
      builder
        .stream(orders)
        .leftJoin(table, (order, price) => `${order}@${price ?? "none"}`, { name: "priced", gracePeriod: 10 })
        .to(out)
      const topology = yield* builder.build
      assert.isTrue(topology.stores.has("priced-Buffer"))
      const driver = yield* TopologyTestDriver.make(topology)
      const p = driver.createInputTopic(prices)
      const o = driver.createInputTopic(orders)
      const output = driver.createOutputTopic(out)
      yield* p.pipeInput("x", "v1", 0)
      yield* o.pipeInput("x", "o20", 20) // waits until stream time 30
      assert.isTrue(output.isEmpty())
      yield* p.pipeInput("x", "v2", 15) // a late price, valid from 15
      yield* o.pipeInput("x", "o31", 31) // stream time 31: o20 is due and sees v2
      assert.deepStrictEqual(output.readValuesToList(), ["o20@v2"])
      yield* o.pipeInput("x", "o5", 5) // already older than the grace: joined at once, as of 5
      assert.deepStrictEqual(output.readValuesToList(), ["o5@v1"])
      yield* o.pipeInput("y", "o45", 45) // stream time 45: o31 is due
      assert.deepStrictEqual(output.readValuesToList(), ["o31@v2"])
    }).pipe(Effect.scoped)
  )

  it.effect("a grace period on a table that is not versioned fails the build", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make()
      builder
        .stream(orders)
        .join(builder.table(prices), (order, price) => `${order}@${price}`, { gracePeriod: 10 })
        .to(out)
      const error = yield* Effect.flip(builder.build)
      assert.include(error.message, "a grace period needs a versioned table")
    })
  )
})
