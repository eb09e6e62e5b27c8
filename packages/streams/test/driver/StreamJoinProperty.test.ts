/**
 * Stream-stream joins against a brute-force model: for records in timestamp order (no late records), an
 * inner join emits exactly the pairs of one key within the time difference, a left join also each left
 * record without any partner, an outer join also each right record without any (once a far-later record
 * closed every window), whatever the interleaving of the two sides.
 */
import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Effect, FastCheck as fc, Schema } from "effect"
import * as JoinWindows from "../../src/dsl/JoinWindows.js"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import * as TopologyTestDriver from "../../src/TopologyTestDriver.js"

const left = Topic.make("left", { key: Schema.String, value: Schema.String })
const right = Topic.make("right", { key: Schema.String, value: Schema.String })
const out = Topic.make("out", { key: Schema.String, value: Schema.String })
const DIFFERENCE = 10

interface Input {
  readonly side: "left" | "right"
  readonly key: string
  readonly gap: number
}

const inputArb = fc.array(
  fc.record({
    side: fc.constantFrom("left" as const, "right" as const),
    key: fc.constantFrom("a", "b"),
    gap: fc.integer({ min: 0, max: 8 })
  }),
  { maxLength: 25 }
)

const model = (records: ReadonlyArray<Input & { t: number; id: string }>, kind: "inner" | "left" | "outer") => {
  const lefts = records.filter((r) => r.side === "left")
  const rights = records.filter((r) => r.side === "right")
  const near = (l: { key: string; t: number }, r: { key: string; t: number }) =>
    l.key === r.key && Math.abs(l.t - r.t) <= DIFFERENCE
  const out: Array<string> = []
  for (const l of lefts) for (const r of rights) if (near(l, r)) out.push(`${l.id},${r.id}`)
  if (kind !== "inner") for (const l of lefts) if (!rights.some((r) => near(l, r))) out.push(`${l.id},null`)
  if (kind === "outer") for (const r of rights) if (!lefts.some((l) => near(l, r))) out.push(`null,${r.id}`)
  return out.sort()
}

describe("stream-stream joins against a model", () => {
  for (const kind of ["inner", "left", "outer"] as const) {
    it.effect(`${kind} join`, () =>
      Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(inputArb, fc.integer({ min: 0, max: 5 }), async (inputs, grace) => {
            const records: Array<Input & { t: number; id: string }> = []
            let t = 0
            for (const [i, r] of inputs.entries()) {
              t += r.gap
              records.push({ ...r, t, id: `${r.side[0]}${i}` })
            }
            const program = Effect.gen(function* () {
              const builder = StreamsBuilder.make()
              const l = builder.stream(left)
              const r = builder.stream(right)
              const w = JoinWindows.ofTimeDifferenceAndGrace(DIFFERENCE, grace)
              const joiner = (a: string | null, b: string | null) => `${a},${b}`
              const joined =
                kind === "inner"
                  ? l.join(r, joiner, w)
                  : kind === "left"
                    ? l.leftJoin(r, joiner, w)
                    : l.outerJoin(r, joiner, w)
              joined.to(out)
              const driver = yield* TopologyTestDriver.make(yield* builder.build)
              const inputs = { left: driver.createInputTopic(left), right: driver.createInputTopic(right) }
              for (const x of records) yield* inputs[x.side].pipeInput(x.key, x.id, x.t)
              // a record far later on another key closes every window
              yield* inputs.left.pipeInput("z", "end", t + 1000)
              yield* inputs.right.pipeInput("z", "end", t + 2000)
              return driver
                .createOutputTopic(out)
                .readValuesToList()
                .filter((v) => !v.includes("end"))
                .sort()
            }).pipe(Effect.scoped)
            assert.deepStrictEqual(await Effect.runPromise(program), model(records, kind))
          }),
          { numRuns: 40 }
        )
      )
    )
  }
})
