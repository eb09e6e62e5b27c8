import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Effect, FastCheck as fc, Schema } from "effect"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import { BufferConfig, Suppressed } from "../../src/dsl/Suppressed.js"
import * as WindowedSerdes from "../../src/dsl/WindowedSerdes.js"
import { SlidingWindows, TimeWindows, windowStartsFor } from "../../src/dsl/Windows.js"
import * as Serdes from "../../src/Serdes.js"
import * as TopologyTestDriver from "../../src/TopologyTestDriver.js"

const clicks = Topic.make("clicks", { key: Schema.String, value: Schema.String })
const noCache = { "statestore.cache.max.bytes": 0 }

const record = fc.record({ key: fc.constantFrom("a", "b", "c"), timestamp: fc.integer({ min: 0, max: 300 }) })
const windowConfig = fc
  .record({
    size: fc.integer({ min: 1, max: 40 }),
    hops: fc.integer({ min: 1, max: 3 }),
    grace: fc.integer({ min: 0, max: 60 })
  })
  .map((c) => ({ ...c, advance: Math.max(1, Math.floor(c.size / c.hops)) }))

type Config = { size: number; advance: number; grace: number }

/** The reference: per key and window start, the records accepted while the window was open. */
const timeWindowModel = (c: Config, records: ReadonlyArray<{ key: string; timestamp: number }>) => {
  const windows = TimeWindows.ofSizeAndGrace(c.size, c.grace).advanceBy(c.advance)
  const counts = new Map<string, number>()
  let streamTime = -1
  for (const r of records) {
    streamTime = Math.max(streamTime, r.timestamp)
    for (const start of windowStartsFor(windows, r.timestamp)) {
      if (start + c.size <= streamTime - c.grace) continue
      const id = `${r.key}@${start}`
      counts.set(id, (counts.get(id) ?? 0) + 1)
    }
  }
  return { counts, streamTime }
}

const run = (
  c: Config,
  records: ReadonlyArray<{ key: string; timestamp: number }>,
  suppress: boolean,
  cached = false
) =>
  Effect.gen(function* () {
    const builder = StreamsBuilder.make()
    const table = builder
      .stream(clicks)
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeAndGrace(c.size, c.grace).advanceBy(c.advance))
      .count()
    const out = suppress ? table.suppress(Suppressed.untilWindowCloses(BufferConfig.unbounded())) : table
    out.toStream().to("out")
    const driver = yield* TopologyTestDriver.make(yield* builder.build, cached ? {} : noCache)
    const input = driver.createInputTopic(clicks)
    for (const r of records) yield* input.pipeInput(r.key, "v", r.timestamp)
    return driver
      .createOutputTopic({ name: "out", key: WindowedSerdes.timeWindowed(Serdes.string, c.size), value: Serdes.long })
      .readRecordsToList()
      .map((r) => ({ id: `${r.key.key}@${r.key.window.start}`, value: r.value }))
  }).pipe(Effect.scoped)

describe("windowed aggregation properties", () => {
  it.effect.prop(
    "windowed counts (tumbling and hopping, out of order, with grace, cached or not) equal a reference model",
    [windowConfig, fc.array(record, { maxLength: 50 }), fc.boolean()],
    ([c, records, cached]) =>
      Effect.gen(function* () {
        const emitted = yield* run(c, records, false, cached)
        const last = new Map<string, number>()
        for (const e of emitted) last.set(e.id, e.value)
        assert.deepStrictEqual(last, timeWindowModel(c, records).counts)
      }),
    { fastCheck: { numRuns: 60 } }
  )

  it.effect.prop(
    "suppress(untilWindowCloses) emits exactly one final result per closed window and key",
    [windowConfig, fc.array(record, { maxLength: 50 })],
    ([c, records]) =>
      Effect.gen(function* () {
        const emitted = yield* run(c, records, true)
        const { counts, streamTime } = timeWindowModel(c, records)
        const ids = emitted.map((e) => e.id)
        assert.strictEqual(new Set(ids).size, ids.length, "a window was emitted twice")
        const closed = new Map([...counts].filter(([id]) => Number(id.split("@")[1]) + c.size + c.grace <= streamTime))
        assert.deepStrictEqual(new Map(emitted.map((e) => [e.id, e.value])), closed)
      }),
    { fastCheck: { numRuns: 60 } }
  )

  it.effect.prop(
    "sliding windows hold exactly the records within timeDifference of each window's end (any arrival order)",
    [fc.integer({ min: 1, max: 30 }), fc.array(fc.integer({ min: 100, max: 200 }), { maxLength: 30 })],
    ([d, timestamps]) =>
      Effect.gen(function* () {
        const builder = StreamsBuilder.make()
        builder
          .stream(clicks)
          .groupByKey()
          .windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(d, 1000))
          .count()
          .toStream()
          .to("out")
        const driver = yield* TopologyTestDriver.make(yield* builder.build, noCache)
        const input = driver.createInputTopic(clicks)
        for (const t of timestamps) yield* input.pipeInput("k", "v", t)
        const last = new Map<number, number>()
        const out = driver.createOutputTopic({
          name: "out",
          key: WindowedSerdes.timeWindowed(Serdes.string, d),
          value: Serdes.long
        })
        for (const r of out.readRecordsToList()) last.set(r.key.window.end, r.value)
        // reference: a left window ending at each record, a right window starting after each record that has
        // records within d after it; each holds the records in [end - d, end]
        const expected = new Map<number, number>()
        const inWindow = (end: number) => timestamps.filter((t) => t >= end - d && t <= end).length
        for (const t of timestamps) {
          expected.set(t, inWindow(t))
          if (timestamps.some((u) => u > t && u <= t + 1 + d)) expected.set(t + 1 + d, inWindow(t + 1 + d))
        }
        assert.deepStrictEqual(
          new Map([...last].sort((a, b) => a[0] - b[0])),
          new Map([...expected].sort((a, b) => a[0] - b[0]))
        )
      }).pipe(Effect.scoped),
    { fastCheck: { numRuns: 60 } }
  )
})
