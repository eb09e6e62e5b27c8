import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema, TestClock } from "effect"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import * as WindowedSerdes from "../../src/dsl/WindowedSerdes.js"
import { TimeWindows } from "../../src/dsl/Windows.js"
import * as Extractors from "../../src/processor/TimestampExtractor.js"
import * as Serdes from "../../src/Serdes.js"
import * as TopologyTestDriver from "../../src/TopologyTestDriver.js"

const events = Topic.make("events", { key: Schema.String, value: Schema.String })
const out = Topic.make("out", { key: Schema.String, value: Schema.String })

/** Pipes (value, timestamp) pairs through a pass-through topology; returns (value, timestamp) out or the failure. */
const passThrough = (
  input: ReadonlyArray<readonly [string, number]>,
  extractor: Extractors.TimestampExtractor | undefined
) =>
  Effect.gen(function* () {
    const builder = StreamsBuilder.make()
    builder.stream(events).to(out)
    const driver = yield* TopologyTestDriver.make(
      yield* builder.build,
      extractor === undefined ? {} : { "default.timestamp.extractor": extractor }
    )
    const topic = driver.createInputTopic(events)
    for (const [value, ts] of input) {
      const r = yield* Effect.either(topic.pipeInput("k", value, ts))
      if (r._tag === "Left") return { failed: r.left.message }
    }
    return {
      out: driver
        .createOutputTopic(out)
        .readRecordsToList()
        .map((r) => [r.value, r.timestamp] as const)
    }
  }).pipe(Effect.scoped)

describe("timestamp extractors", () => {
  const input = [
    ["a", 10],
    ["b", -1],
    ["c", 20]
  ] as const
  const cases: ReadonlyArray<{
    name: string
    extractor: Extractors.TimestampExtractor | undefined
    expected: { out?: ReadonlyArray<readonly [string, number]>; failed?: RegExp }
  }> = [
    {
      name: "default (failOnInvalidTimestamp) fails on a negative timestamp",
      extractor: undefined,
      expected: { failed: /invalid \(negative\) timestamp -1/ }
    },
    {
      name: "logAndSkipOnInvalidTimestamp skips the record",
      extractor: Extractors.logAndSkipOnInvalidTimestamp,
      expected: {
        out: [
          ["a", 10],
          ["c", 20]
        ]
      }
    },
    {
      name: "usePartitionTimeOnInvalidTimestamp uses the partition time",
      extractor: Extractors.usePartitionTimeOnInvalidTimestamp,
      expected: {
        out: [
          ["a", 10],
          ["b", 10],
          ["c", 20]
        ]
      }
    },
    {
      name: "a user function: event time from the value",
      extractor: (r) => (r.value === "b" ? 15 : r.timestamp),
      expected: {
        out: [
          ["a", 10],
          ["b", 15],
          ["c", 20]
        ]
      }
    }
  ]
  for (const c of cases) {
    it.effect(c.name, () =>
      Effect.gen(function* () {
        const result = yield* passThrough(input, c.extractor)
        if (c.expected.failed !== undefined) assert.match(result.failed ?? "", c.expected.failed)
        else assert.deepStrictEqual(result.out, c.expected.out)
      })
    )
  }

  it.effect("usePartitionTimeOnInvalidTimestamp fails before the partition time is known", () =>
    Effect.gen(function* () {
      const result = yield* passThrough([["b", -1]], Extractors.usePartitionTimeOnInvalidTimestamp)
      assert.match(result.failed ?? "", /partition time is not known/)
    })
  )

  it.effect("wallclockTimestampExtractor stamps records with the Clock's time", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(5_000)
      const result = yield* passThrough([["a", 10]], Extractors.wallclockTimestampExtractor)
      assert.deepStrictEqual(result.out, [["a", 5_000]])
    })
  )

  it.effect("Consumed.timestampExtractor drives a windowed aggregation's event time per source", () =>
    Effect.gen(function* () {
      const Event = Schema.Struct({ at: Schema.Number })
      const timed = Topic.make("timed", { key: Schema.String, value: Event })
      const builder = StreamsBuilder.make()
      builder
        .stream(timed, { timestampExtractor: (r) => (r.value as typeof Event.Type).at })
        .groupByKey()
        .windowedBy(TimeWindows.ofSizeWithNoGrace(100))
        .count()
        .toStream()
        .to("counts")
      const driver = yield* TopologyTestDriver.make(yield* builder.build, { "statestore.cache.max.bytes": 0 })
      const input = driver.createInputTopic(timed)
      yield* input.pipeInput("k", { at: 150 }, 1)
      yield* input.pipeInput("k", { at: 20 }, 2) // the window [0, 100) closed when stream time reached 150
      yield* input.pipeInput("k", { at: 199 }, 3)
      const counts = driver
        .createOutputTopic({ name: "counts", key: WindowedSerdes.timeWindowed(Serdes.string, 100), value: Serdes.long })
        .readRecordsToList()
        .map((r) => [r.key.window.start, r.value, r.timestamp])
      assert.deepStrictEqual(counts, [
        [100, 1, 150],
        [100, 2, 199]
      ])
    }).pipe(Effect.scoped)
  )
})
