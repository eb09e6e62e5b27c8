/**
 * Table-table joins against a model: after any sequence of upserts and deletes on both tables, the last
 * value per key of the join's changelog (a tombstone: absent) is the SQL join of the two final tables, for
 * key joins (inner, left, outer) and foreign-key joins (inner, left).
 */
import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Effect, FastCheck as fc, Schema } from "effect"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import * as TopologyTestDriver from "../../src/TopologyTestDriver.js"

const left = Topic.make("left", { key: Schema.String, value: Schema.NullOr(Schema.String) })
const right = Topic.make("right", { key: Schema.String, value: Schema.NullOr(Schema.String) })
const out = Topic.make("out", { key: Schema.String, value: Schema.NullOr(Schema.String) })

interface Op {
  readonly side: "left" | "right"
  readonly key: string
  readonly value: string | null
}

const opsArb = (leftValues: ReadonlyArray<string>) =>
  fc.array(
    fc.oneof(
      fc.record({
        side: fc.constant("left" as const),
        key: fc.constantFrom("a", "b", "c"),
        value: fc.option(fc.constantFrom(...leftValues), { nil: null })
      }),
      fc.record({
        side: fc.constant("right" as const),
        key: fc.constantFrom("x", "y", "a", "b"),
        value: fc.option(fc.constantFrom("1", "2"), { nil: null })
      })
    ),
    { maxLength: 30 }
  )

const finalTables = (ops: ReadonlyArray<Op>) => {
  const tables = { left: new Map<string, string>(), right: new Map<string, string>() }
  for (const o of ops) {
    if (o.value === null) tables[o.side].delete(o.key)
    else tables[o.side].set(o.key, o.value)
  }
  return tables
}

const run = (ops: ReadonlyArray<Op>, build: (b: StreamsBuilder.StreamsBuilder) => void) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const builder = StreamsBuilder.make()
      build(builder)
      const driver = yield* TopologyTestDriver.make(yield* builder.build, { "statestore.cache.max.bytes": 0 })
      const inputs = { left: driver.createInputTopic(left), right: driver.createInputTopic(right) }
      let t = 0
      for (const o of ops) yield* inputs[o.side].pipeInput(o.key, o.value, ++t)
      const result = new Map<string, string>()
      for (const [k, v] of driver.createOutputTopic(out).readKeyValuesToMap()) if (v !== null) result.set(k, v)
      return result
    }).pipe(Effect.scoped)
  )

const joiner = (l: string | null, r: string | null) => `${l},${r}`

describe("table-table joins against a model", () => {
  for (const kind of ["inner", "left", "outer"] as const) {
    it.effect(`key ${kind} join`, () =>
      Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(opsArb(["A", "B"]), async (ops) => {
            const got = await run(ops, (b) => {
              const l = b.table(left)
              const r = b.table(right)
              const j =
                kind === "inner" ? l.join(r, joiner) : kind === "left" ? l.leftJoin(r, joiner) : l.outerJoin(r, joiner)
              j.toStream().to(out)
            })
            const { left: lt, right: rt } = finalTables(ops)
            const expected = new Map<string, string>()
            for (const k of new Set([...lt.keys(), ...rt.keys()])) {
              const l = lt.get(k) ?? null
              const r = rt.get(k) ?? null
              if (kind === "inner" ? l !== null && r !== null : kind === "left" ? l !== null : true)
                expected.set(k, joiner(l, r))
            }
            assert.deepStrictEqual(got, expected)
          }),
          { numRuns: 40 }
        )
      )
    )
  }

  for (const kind of ["inner", "left"] as const) {
    it.effect(`foreign-key ${kind} join`, () =>
      Effect.promise(() =>
        fc.assert(
          // left values name the right key they refer to
          fc.asyncProperty(opsArb(["x", "y", "x2"]), async (ops) => {
            const fk = (v: string) => v.slice(0, 1)
            const got = await run(ops, (b) => {
              const l = b.table(left)
              const r = b.table(right)
              ;(kind === "inner" ? l.join(r, fk, joiner) : l.leftJoin(r, fk, joiner)).toStream().to(out)
            })
            const { left: lt, right: rt } = finalTables(ops)
            const expected = new Map<string, string>()
            for (const [k, v] of lt) {
              const r = rt.get(fk(v)) ?? null
              if (kind === "left" || r !== null) expected.set(k, joiner(v, r))
            }
            assert.deepStrictEqual(got, expected)
          }),
          { numRuns: 40 }
        )
      )
    )
  }
})
