import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { materializedAs } from "../../src/dsl/Options.js"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import { BufferConfig, Suppressed } from "../../src/dsl/Suppressed.js"
import * as WindowedSerdes from "../../src/dsl/WindowedSerdes.js"
import {
  EmitStrategy,
  SessionWindows,
  SlidingWindows,
  TimeWindows,
  type Windowed,
  type WindowSpec
} from "../../src/dsl/Windows.js"
import { droppedRecordsOf } from "../../src/internal/dsl/windowProcessors.js"
import * as Serdes from "../../src/Serdes.js"
import * as TopologyTestDriver from "../../src/TopologyTestDriver.js"

const clicks = Topic.make("clicks", { key: Schema.String, value: Schema.String })
const noCache = { "statestore.cache.max.bytes": 0 }

type Row = readonly [key: string, start: number, end: number, value: number | null, timestamp?: number]

const timeOut = (size: number) => ({
  name: "out",
  key: WindowedSerdes.timeWindowed(Serdes.string, size),
  value: Serdes.long
})
const sessionOut = { name: "out", key: WindowedSerdes.sessionWindowed(Serdes.string), value: Serdes.long }

const rows = (records: ReadonlyArray<TopologyTestDriver.TestRecord<Windowed<string>, number | null>>): Array<Row> =>
  records.map((r) => [r.key.key, r.key.window.start, r.key.window.end, r.value] as const)

/** Pipes `input` ([key, timestamp]) into a windowed count and returns what it emitted. */
const countWith = (windows: WindowSpec, input: ReadonlyArray<readonly [string, number]>, applicationId = "test") =>
  Effect.gen(function* () {
    const builder = StreamsBuilder.make()
    const grouped = builder.stream(clicks).groupByKey()
    const table =
      windows._tag === "SessionWindows"
        ? grouped.windowedBy(windows).count(materializedAs("counts"))
        : grouped.windowedBy(windows).count(materializedAs("counts"))
    table.toStream().to("out")
    const driver = yield* TopologyTestDriver.make(yield* builder.build, { ...noCache, "application.id": applicationId })
    const topic = driver.createInputTopic(clicks)
    for (const [key, ts] of input) yield* topic.pipeInput(key, "v", ts)
    const out =
      windows._tag === "SessionWindows"
        ? sessionOut
        : timeOut(windows._tag === "TimeWindows" ? windows.sizeMs : windows.timeDifferenceMs)
    return { driver, emitted: rows(driver.createOutputTopic(out).readRecordsToList()) }
  })

describe("windowed aggregations", () => {
  const tumbling = TimeWindows.ofSizeAndGrace(10, 5)
  const cases: ReadonlyArray<{
    name: string
    windows: WindowSpec
    input: ReadonlyArray<readonly [string, number]>
    emitted: ReadonlyArray<Row>
    dropped: number
  }> = [
    {
      name: "a record at end - 1 is in the window",
      windows: tumbling,
      input: [["a", 9]],
      emitted: [["a", 0, 10, 1]],
      dropped: 0
    },
    {
      name: "a record at end is in the next window",
      windows: tumbling,
      input: [["a", 10]],
      emitted: [["a", 10, 20, 1]],
      dropped: 0
    },
    {
      name: "a late record inside grace is counted",
      windows: tumbling,
      input: [
        ["a", 5],
        ["a", 14],
        ["a", 9]
      ],
      emitted: [
        ["a", 0, 10, 1],
        ["a", 10, 20, 1],
        ["a", 0, 10, 2]
      ],
      dropped: 0
    },
    {
      name: "a late record outside grace is dropped",
      windows: tumbling,
      input: [
        ["a", 5],
        ["a", 15],
        ["a", 9]
      ],
      emitted: [
        ["a", 0, 10, 1],
        ["a", 10, 20, 1]
      ],
      dropped: 1
    },
    {
      name: "hopping windows: a record is in size / advance windows",
      windows: TimeWindows.ofSizeWithNoGrace(10).advanceBy(5),
      input: [["a", 12]],
      emitted: [
        ["a", 5, 15, 1],
        ["a", 10, 20, 1]
      ],
      dropped: 0
    },
    {
      name: "sessions: a record within the gap extends a session; keys are separate",
      windows: SessionWindows.ofInactivityGapAndGrace(5, 100),
      input: [
        ["a", 0],
        ["b", 3],
        ["a", 5]
      ],
      emitted: [
        ["a", 0, 0, 1],
        ["b", 3, 3, 1],
        ["a", 0, 0, null],
        ["a", 0, 5, 2]
      ],
      dropped: 0
    },
    {
      name: "sessions: a late record merges two sessions and deletes them",
      windows: SessionWindows.ofInactivityGapAndGrace(5, 100),
      input: [
        ["a", 0],
        ["a", 10],
        ["a", 5]
      ],
      emitted: [
        ["a", 0, 0, 1],
        ["a", 10, 10, 1],
        ["a", 0, 0, null],
        ["a", 10, 10, null],
        ["a", 0, 10, 3]
      ],
      dropped: 0
    },
    {
      name: "sessions: a record that would only extend a closed session is dropped",
      windows: SessionWindows.ofInactivityGapWithNoGrace(5),
      input: [
        ["a", 0],
        ["b", 20],
        ["a", 3]
      ],
      emitted: [
        ["a", 0, 0, 1],
        ["b", 20, 20, 1]
      ],
      dropped: 1
    },
    {
      name: "sliding: left and right windows, both bounds inclusive, out of order",
      windows: SlidingWindows.ofTimeDifferenceAndGrace(10, 100),
      input: [
        ["a", 105],
        ["a", 112],
        ["a", 108]
      ],
      emitted: [
        ["a", 95, 105, 1],
        ["a", 102, 112, 2],
        ["a", 106, 116, 1],
        ["a", 102, 112, 3],
        ["a", 106, 116, 2],
        ["a", 98, 108, 2],
        ["a", 109, 119, 1]
      ],
      dropped: 0
    },
    {
      name: "sliding: a record exactly timeDifference later shares a window",
      windows: SlidingWindows.ofTimeDifferenceWithNoGrace(10),
      input: [
        ["a", 110],
        ["a", 120]
      ],
      emitted: [
        ["a", 100, 110, 1],
        ["a", 110, 120, 2],
        ["a", 111, 121, 1]
      ],
      dropped: 0
    }
  ]
  cases.forEach((c, i) => {
    it.effect(c.name, () =>
      Effect.gen(function* () {
        const app = `windows-${i}`
        const { emitted } = yield* countWith(c.windows, c.input, app)
        assert.deepStrictEqual(emitted, c.emitted)
        const dropped = yield* droppedRecordsOf(app, "0_0", "KSTREAM-AGGREGATE-0000000001")
        assert.strictEqual(dropped.count, c.dropped)
      }).pipe(Effect.scoped)
    )
  })

  it.effect("reduce and aggregate per window; windowed changelog is compact,delete with retention", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make()
      const grouped = builder.stream(clicks).groupByKey()
      const windowed = grouped.windowedBy(TimeWindows.ofSizeWithNoGrace(10))
      windowed
        .reduce((a, b) => `${a}+${b}`, materializedAs("concat", { retention: "1 hour" }))
        .toStream()
        .to({ name: "reduced", key: WindowedSerdes.timeWindowed(Serdes.string, 10), value: Serdes.string } as never)
      windowed
        .aggregate(
          () => 0,
          (_k, v, n: number) => n + v.length,
          materializedAs("lengths", { valueSerde: Serdes.long })
        )
        .toStream()
        .to("lengths")
      const topology = yield* builder.build
      const changelog = topology.internalTopics.get("concat-changelog")!
      assert.deepStrictEqual(changelog.configs, { "cleanup.policy": "compact,delete", "retention.ms": "90000000" })
      const driver = yield* TopologyTestDriver.make(topology, noCache)
      yield* driver.createInputTopic(clicks).pipeRecordList([
        { key: "a", value: "x", timestamp: 1 },
        { key: "a", value: "yy", timestamp: 2 },
        { key: "a", value: "zzz", timestamp: 11 }
      ])
      const reduced = driver.createOutputTopic({
        name: "reduced",
        key: WindowedSerdes.timeWindowed(Serdes.string, 10),
        value: Serdes.string
      })
      assert.deepStrictEqual(
        reduced.readRecordsToList().map((r) => [r.key.window.start, r.value, r.timestamp]),
        [
          [0, "x", 1],
          [0, "x+yy", 2],
          [10, "zzz", 11]
        ]
      )
      const lengths = driver.createOutputTopic({ ...timeOut(10), name: "lengths" })
      assert.deepStrictEqual(
        lengths.readRecordsToList().map((r) => r.value),
        [1, 3, 3]
      )
      assert.isTrue(driver.producedTopicNames().has("test-concat-changelog"))
    }).pipe(Effect.scoped)
  )

  it.effect("the driver's getWindowStore and getSessionStore read the aggregates", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make()
      const grouped = builder.stream(clicks).groupByKey()
      grouped.windowedBy(TimeWindows.ofSizeWithNoGrace(10)).count(materializedAs("per-window"))
      grouped.windowedBy(SessionWindows.ofInactivityGapWithNoGrace(5)).count(materializedAs("per-session"))
      const driver = yield* TopologyTestDriver.make(yield* builder.build)
      const input = driver.createInputTopic(clicks)
      for (const ts of [1, 3, 12]) yield* input.pipeInput("a", "v", ts)
      const windows = driver.getWindowStore<string, number>("per-window")
      assert.strictEqual(windows.fetch("a", 0), 2)
      assert.deepStrictEqual(windows.fetch("a", 0, 20), [
        { start: 0, value: 2, timestamp: 3 },
        { start: 10, value: 1, timestamp: 12 }
      ])
      assert.strictEqual(windows.all().length, 2)
      const sessions = driver.getSessionStore<string, number>("per-session")
      assert.deepStrictEqual(
        sessions.all().map((s) => [s.key.window.start, s.key.window.end, s.value]),
        [
          [1, 3, 2],
          [12, 12, 1]
        ]
      )
      assert.strictEqual(sessions.findSessions("a", 10, 20).length, 1)
    }).pipe(Effect.scoped)
  )

  it.effect("retention smaller than size + grace fails the build", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make()
      builder
        .stream(clicks)
        .groupByKey()
        .windowedBy(TimeWindows.ofSizeAndGrace(60_000, 30_000))
        .count(materializedAs("short", { retention: 60_000 }))
      const error = yield* Effect.flip(builder.build)
      assert.match(
        error.message,
        /retention period of the window store short must be no smaller than its window size 60000 ms \+ grace 30000 ms/
      )
    })
  )

  it.effect("cogroup: two grouped streams fold into one aggregate, windowed and not", () =>
    Effect.gen(function* () {
      const views = Topic.make("views", { key: Schema.String, value: Schema.String })
      const buys = Topic.make("buys", { key: Schema.String, value: Schema.Number })
      const Summary = Schema.Struct({ views: Schema.Number, spent: Schema.Number })
      const summarySerde = Serdes.json(Summary)
      const builder = StreamsBuilder.make()
      const v = builder.stream(views).groupByKey()
      const b = builder.stream(buys).groupByKey()
      const cogrouped = v
        .cogroup((_k, _page: string, s: typeof Summary.Type) => ({ ...s, views: s.views + 1 }))
        .cogroup(b, (_k, amount: number, s) => ({ ...s, spent: s.spent + amount }))
      cogrouped
        .aggregate(() => ({ views: 0, spent: 0 }), materializedAs("summary", { valueSerde: summarySerde }))
        .toStream()
        .to("summary", { valueSerde: summarySerde })
      cogrouped
        .windowedBy(TimeWindows.ofSizeWithNoGrace(10))
        .aggregate(() => ({ views: 0, spent: 0 }), materializedAs("windowed-summary", { valueSerde: summarySerde }))
        .toStream()
        .to("windowed-summary")
      const topology = yield* builder.build
      assert.include(topology.describe(), "COGROUPKSTREAM-MERGE-")
      const driver = yield* TopologyTestDriver.make(topology, noCache)
      yield* driver.createInputTopic(views).pipeInput("u", "home", 1)
      yield* driver.createInputTopic(buys).pipeInput("u", 30, 2)
      yield* driver.createInputTopic(views).pipeInput("u", "cart", 12)
      assert.deepStrictEqual(driver.getKeyValueStore("summary").get("u"), { views: 2, spent: 30 })
      const windowed = driver
        .createOutputTopic({
          name: "windowed-summary",
          key: WindowedSerdes.timeWindowed(Serdes.string, 10),
          value: summarySerde
        })
        .readRecordsToList()
        .map((r) => [r.key.window.start, r.value])
      assert.deepStrictEqual(windowed, [
        [0, { views: 1, spent: 0 }],
        [0, { views: 1, spent: 30 }],
        [10, { views: 1, spent: 0 }]
      ])
    }).pipe(Effect.scoped)
  )
})

describe("suppression", () => {
  it.effect("untilWindowCloses emits one final result per window once stream time passes end + grace", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make()
      builder
        .stream(clicks)
        .groupByKey()
        .windowedBy(TimeWindows.ofSizeAndGrace(10, 5))
        .count()
        .suppress(Suppressed.untilWindowCloses(BufferConfig.unbounded()))
        .toStream()
        .to("out")
      const topology = yield* builder.build
      assert.include(
        topology.describe(),
        "KTABLE-SUPPRESS-0000000003 (stores: [KTABLE-SUPPRESS-STATE-STORE-0000000004])"
      )
      const driver = yield* TopologyTestDriver.make(topology, noCache)
      const input = driver.createInputTopic(clicks)
      const out = driver.createOutputTopic(timeOut(10))
      yield* input.pipeInput("a", "v", 1)
      yield* input.pipeInput("a", "v", 9)
      yield* input.pipeInput("b", "v", 14)
      assert.isTrue(out.isEmpty())
      yield* input.pipeInput("a", "v", 3) // late, inside grace
      yield* input.pipeInput("b", "v", 15) // closes [0, 10)
      assert.deepStrictEqual(rows(out.readRecordsToList()), [["a", 0, 10, 3]])
      yield* input.pipeInput("c", "v", 30)
      assert.deepStrictEqual(rows(out.readRecordsToList()), [["b", 10, 20, 2]])
      assert.isTrue(driver.producedTopicNames().has("test-KTABLE-SUPPRESS-STATE-STORE-0000000004-changelog"))
    }).pipe(Effect.scoped)
  )

  it.effect("emitStrategy(onWindowClose) on session windows: merged sessions are not emitted", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make()
      builder
        .stream(clicks)
        .groupByKey()
        .windowedBy(SessionWindows.ofInactivityGapAndGrace(5, 10))
        .emitStrategy(EmitStrategy.onWindowClose())
        .count()
        .toStream()
        .to("out")
      const driver = yield* TopologyTestDriver.make(yield* builder.build, noCache)
      const input = driver.createInputTopic(clicks)
      for (const ts of [0, 10, 5, 40]) yield* input.pipeInput("a", "v", ts)
      assert.deepStrictEqual(rows(driver.createOutputTopic(sessionOut).readRecordsToList()), [["a", 0, 10, 3]])
    }).pipe(Effect.scoped)
  )

  it.effect(
    "untilTimeLimit: the latest value per key at most once per limit; emitEarlyWhenFull; shutDownWhenFull",
    () =>
      Effect.gen(function* () {
        const counts = Topic.make("counts", { key: Schema.String, value: Serdes.long })
        const run = (buffer: BufferConfig) =>
          Effect.gen(function* () {
            const builder = StreamsBuilder.make()
            builder
              .stream(clicks)
              .groupByKey()
              .count()
              .suppress(Suppressed.withName(Suppressed.untilTimeLimit(10, buffer), "rate"))
              .toStream()
              .to(counts)
            const driver = yield* TopologyTestDriver.make(yield* builder.build, noCache)
            const input = driver.createInputTopic(clicks)
            const out = driver.createOutputTopic(counts)
            const seen: Array<Array<[string, number, number]>> = []
            for (const [k, ts] of [
              ["a", 0],
              ["a", 4],
              ["b", 5],
              ["a", 10],
              ["b", 16]
            ] as const) {
              const r = yield* Effect.either(input.pipeInput(k, "v", ts))
              if (r._tag === "Left") return { seen, failed: r.left.message }
              seen.push(out.readRecordsToList().map((x) => [x.key, x.value, x.timestamp]))
            }
            assert.isTrue(driver.producedTopicNames().has("test-rate-store-changelog"))
            return { seen, failed: undefined }
          }).pipe(Effect.scoped)
        assert.deepStrictEqual(yield* run(BufferConfig.unbounded()), {
          seen: [[], [], [], [["a", 3, 10]], [["b", 2, 16]]],
          failed: undefined
        })
        assert.deepStrictEqual(yield* run(BufferConfig.maxRecords(1)), {
          seen: [[], [], [["a", 2, 4]], [["b", 1, 5]], [["a", 3, 10]]],
          failed: undefined
        })
        const strict = yield* run(BufferConfig.maxRecords(1).shutDownWhenFull())
        assert.deepStrictEqual(strict.seen, [[], []])
        assert.match(strict.failed ?? "", /exceeded its bounds/)
      })
  )
})
