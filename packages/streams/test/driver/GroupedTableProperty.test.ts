import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Effect, FastCheck as fc, Schema } from "effect"
import { materializedAs } from "../../src/dsl/Options.js"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import * as Serdes from "../../src/Serdes.js"
import * as TopologyTestDriver from "../../src/TopologyTestDriver.js"

const Row = Schema.Struct({ group: Schema.String, amount: Schema.Number })
const rows = Topic.make("rows", { key: Schema.String, value: Schema.NullOr(Row) })
const sums = Topic.make("sums", { key: Schema.String, value: Serdes.long })

const update = fc.record({
  key: fc.constantFrom("r1", "r2", "r3", "r4", "r5"),
  value: fc.option(fc.record({ group: fc.constantFrom("g1", "g2", "g3"), amount: fc.integer({ min: -50, max: 50 }) }), {
    nil: null
  })
})

/** The reference: per group, the sum and count of the rows currently in it (groups once touched stay, at 0). */
const reference = (updates: ReadonlyArray<{ key: string; value: { group: string; amount: number } | null }>) => {
  const table = new Map<string, { group: string; amount: number }>()
  const touched = new Set<string>()
  for (const u of updates) {
    if (u.value === null) table.delete(u.key)
    else {
      table.set(u.key, u.value)
      touched.add(u.value.group)
    }
  }
  const sum = new Map<string, number>()
  const count = new Map<string, number>()
  for (const g of touched) {
    sum.set(g, 0)
    count.set(g, 0)
  }
  for (const row of table.values()) {
    sum.set(row.group, sum.get(row.group)! + row.amount)
    count.set(row.group, count.get(row.group)! + 1)
  }
  return { sum, count }
}

describe("grouped table aggregation", () => {
  it.effect.prop(
    "sum and count per group equal the reference model (with and without the record cache)",
    [fc.array(update, { maxLength: 60 }), fc.boolean()],
    ([updates, cached]) =>
      Effect.gen(function* () {
        const builder = StreamsBuilder.make()
        const grouped = builder.table(rows).groupBy((_k, row) => ({ key: row.group, value: row.amount }), {
          keySerde: Serdes.string,
          valueSerde: Serdes.long
        })
        grouped
          .aggregate(
            () => 0,
            (_g, amount, total) => total + amount,
            (_g, amount, total) => total - amount,
            materializedAs("sum", { valueSerde: Serdes.long })
          )
          .toStream()
          .to(sums)
        grouped.count(materializedAs("count"))
        const driver = yield* TopologyTestDriver.make(yield* builder.build, {
          "statestore.cache.max.bytes": cached ? 1024 * 1024 : 0
        })
        yield* driver.createInputTopic(rows, { startTimestamp: 0, autoAdvance: 1 }).pipeKeyValueList(updates)
        const expected = reference(updates)
        const sumStore = driver.getKeyValueStore<string, number>("sum")
        const countStore = driver.getKeyValueStore<string, number>("count")
        assert.deepStrictEqual(new Map([...sumStore.all()].map((e) => [e.key, e.value])), expected.sum)
        assert.deepStrictEqual(new Map([...countStore.all()].map((e) => [e.key, e.value])), expected.count)
        // the last update emitted per group is the store's value
        assert.deepStrictEqual(driver.createOutputTopic(sums).readKeyValuesToMap(), expected.sum)
      }).pipe(Effect.scoped),
    { fastCheck: { numRuns: 60 } }
  )
})
