/**
 * The semantics tables of Kafka Streams' developer guide for stream-stream, stream-table and table-table
 * joins, replayed row by row through the test driver. Every row is one input record (same key "k"); the
 * expected columns list what the joiner produced for that record (`L,R`, with `null` for a missing side)
 * and `null` for a tombstone.
 */
import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as JoinWindows from "../../src/dsl/JoinWindows.js"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import * as TopologyTestDriver from "../../src/TopologyTestDriver.js"

const leftTopic = Topic.make("left", { key: Schema.String, value: Schema.NullOr(Schema.String) })
const rightTopic = Topic.make("right", { key: Schema.String, value: Schema.NullOr(Schema.String) })
const out = Topic.make("out", { key: Schema.String, value: Schema.NullOr(Schema.String) })
const noCache = { "statestore.cache.max.bytes": 0 }

type Kind = "inner" | "left" | "outer"

/** One input record and what each join kind emits for it. */
interface Row {
  readonly t: number
  readonly side: "left" | "right"
  readonly value: string | null
  readonly inner?: ReadonlyArray<string | null>
  readonly left?: ReadonlyArray<string | null>
  readonly outer?: ReadonlyArray<string | null>
}

const joiner = (l: string | null, r: string | null) => `${l},${r}`

const replay = (rows: ReadonlyArray<Row>, kind: Kind, build: (b: StreamsBuilder.StreamsBuilder) => void) =>
  Effect.gen(function* () {
    const builder = StreamsBuilder.make()
    build(builder)
    const driver = yield* TopologyTestDriver.make(yield* builder.build, noCache)
    const left = driver.createInputTopic(leftTopic)
    const right = driver.createInputTopic(rightTopic)
    const output = driver.createOutputTopic(out)
    for (const row of rows) {
      yield* (row.side === "left" ? left : right).pipeInput("k", row.value, row.t)
      const got = output.readValuesToList()
      assert.deepStrictEqual(got, [...(row[kind] ?? [])], `${kind} join, row at ${row.t} (${row.side} ${row.value})`)
    }
  }).pipe(Effect.scoped)

// The guide's stream-stream table (timestamps in seconds). Rows 1-15 assume every record is in one window
// (D at 15 s joins a at 4 s) and rows 40-100 that a window closes 20 s after its record, so the time
// difference is 14 s (within [11 s, 15 s)) with a grace of 5 s.
const streamStreamRows: ReadonlyArray<Row> = (
  [
    { t: 1, side: "left", value: null },
    { t: 2, side: "right", value: null },
    { t: 3, side: "left", value: "A" },
    { t: 4, side: "right", value: "a", inner: ["A,a"], left: ["A,a"], outer: ["A,a"] },
    { t: 5, side: "left", value: "B", inner: ["B,a"], left: ["B,a"], outer: ["B,a"] },
    { t: 6, side: "right", value: "b", inner: ["A,b", "B,b"], left: ["A,b", "B,b"], outer: ["A,b", "B,b"] },
    { t: 7, side: "left", value: null },
    { t: 8, side: "right", value: null },
    { t: 9, side: "left", value: "C", inner: ["C,a", "C,b"], left: ["C,a", "C,b"], outer: ["C,a", "C,b"] },
    {
      t: 10,
      side: "right",
      value: "c",
      inner: ["A,c", "B,c", "C,c"],
      left: ["A,c", "B,c", "C,c"],
      outer: ["A,c", "B,c", "C,c"]
    },
    { t: 11, side: "right", value: null },
    { t: 12, side: "left", value: null },
    { t: 13, side: "right", value: null },
    {
      t: 14,
      side: "right",
      value: "d",
      inner: ["A,d", "B,d", "C,d"],
      left: ["A,d", "B,d", "C,d"],
      outer: ["A,d", "B,d", "C,d"]
    },
    {
      t: 15,
      side: "left",
      value: "D",
      inner: ["D,a", "D,b", "D,c", "D,d"],
      left: ["D,a", "D,b", "D,c", "D,d"],
      outer: ["D,a", "D,b", "D,c", "D,d"]
    },
    { t: 40, side: "left", value: "E" },
    { t: 60, side: "left", value: "F", left: ["E,null"], outer: ["E,null"] },
    { t: 80, side: "right", value: "f", left: ["F,null"], outer: ["F,null"] },
    { t: 100, side: "left", value: "G", outer: ["null,f"] }
  ] satisfies ReadonlyArray<Row>
).map((r) => ({ ...r, t: r.t * 1000 }))

// The guide's stream-table table: only the stream (left) side triggers.
const streamTableRows: ReadonlyArray<Row> = [
  { t: 1, side: "left", value: null },
  { t: 2, side: "right", value: null },
  { t: 3, side: "left", value: "A", left: ["A,null"] },
  { t: 4, side: "right", value: "a" },
  { t: 5, side: "left", value: "B", inner: ["B,a"], left: ["B,a"] },
  { t: 6, side: "right", value: "b" },
  { t: 7, side: "left", value: null },
  { t: 8, side: "right", value: null },
  { t: 9, side: "left", value: "C", left: ["C,null"] },
  { t: 10, side: "right", value: "c" },
  { t: 11, side: "right", value: null },
  { t: 12, side: "left", value: null },
  { t: 13, side: "right", value: null },
  { t: 14, side: "right", value: "d" },
  { t: 15, side: "left", value: "D", inner: ["D,d"], left: ["D,d"] }
]

// The guide's table-table table: tombstones go out only where a previous result existed.
const tableTableRows: ReadonlyArray<Row> = [
  { t: 1, side: "left", value: null },
  { t: 2, side: "right", value: null },
  { t: 3, side: "left", value: "A", left: ["A,null"], outer: ["A,null"] },
  { t: 4, side: "right", value: "a", inner: ["A,a"], left: ["A,a"], outer: ["A,a"] },
  { t: 5, side: "left", value: "B", inner: ["B,a"], left: ["B,a"], outer: ["B,a"] },
  { t: 6, side: "right", value: "b", inner: ["B,b"], left: ["B,b"], outer: ["B,b"] },
  { t: 7, side: "left", value: null, inner: [null], left: [null], outer: ["null,b"] },
  { t: 8, side: "right", value: null, outer: [null] },
  { t: 9, side: "left", value: "C", left: ["C,null"], outer: ["C,null"] },
  { t: 10, side: "right", value: "c", inner: ["C,c"], left: ["C,c"], outer: ["C,c"] },
  { t: 11, side: "right", value: null, inner: [null], left: ["C,null"], outer: ["C,null"] },
  { t: 12, side: "left", value: null, left: [null], outer: [null] },
  { t: 13, side: "right", value: null },
  { t: 14, side: "right", value: "d", outer: ["null,d"] },
  { t: 15, side: "left", value: "D", inner: ["D,d"], left: ["D,d"], outer: ["D,d"] }
]

describe("join semantics (the developer guide's tables)", () => {
  for (const kind of ["inner", "left", "outer"] as const) {
    it.effect(`stream-stream ${kind} join`, () =>
      replay(streamStreamRows, kind, (b) => {
        const l = b.stream(leftTopic)
        const r = b.stream(rightTopic)
        const w = JoinWindows.ofTimeDifferenceAndGrace("14 seconds", "5 seconds")
        const joined =
          kind === "inner"
            ? l.join(r, joiner, w)
            : kind === "left"
              ? l.leftJoin(r, joiner, w)
              : l.outerJoin(r, joiner, w)
        joined.to(out)
      })
    )

    it.effect(`table-table ${kind} join`, () =>
      replay(tableTableRows, kind, (b) => {
        const l = b.table(leftTopic)
        const r = b.table(rightTopic)
        const joined =
          kind === "inner" ? l.join(r, joiner) : kind === "left" ? l.leftJoin(r, joiner) : l.outerJoin(r, joiner)
        joined.toStream().to(out)
      })
    )
  }

  for (const kind of ["inner", "left"] as const) {
    it.effect(`stream-table ${kind} join`, () =>
      replay(streamTableRows, kind, (b) => {
        const l = b.stream(leftTopic)
        const r = b.table(rightTopic)
        ;(kind === "inner" ? l.join(r, joiner) : l.leftJoin(r, joiner)).to(out)
      })
    )
  }
})
