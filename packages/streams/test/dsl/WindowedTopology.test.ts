import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import { BufferConfig, Suppressed } from "../../src/dsl/Suppressed.js"
import { SessionWindows, TimeWindows } from "../../src/dsl/Windows.js"
import * as Serdes from "../../src/Serdes.js"

const views = Topic.make("page-views", { key: Schema.String, value: Schema.String })
const clicks = Topic.make("clicks", { key: Schema.String, value: Schema.String })

describe("windowed topologies", () => {
  it.effect("a windowed count with suppress prints Kafka's generated names (golden)", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make()
      builder
        .stream(views)
        .groupByKey()
        .windowedBy(TimeWindows.ofSizeAndGrace(60_000, 10_000))
        .count()
        .suppress(Suppressed.untilWindowCloses(BufferConfig.unbounded()))
        .toStream()
        .to("page-view-counts")
      const topology = yield* builder.build
      assert.strictEqual(
        topology.describe(),
        `Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [page-views])
      --> KSTREAM-AGGREGATE-0000000002
    Processor: KSTREAM-AGGREGATE-0000000002 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000001])
      --> KTABLE-SUPPRESS-0000000003
      <-- KSTREAM-SOURCE-0000000000
    Processor: KTABLE-SUPPRESS-0000000003 (stores: [KTABLE-SUPPRESS-STATE-STORE-0000000004])
      --> KTABLE-TOSTREAM-0000000005
      <-- KSTREAM-AGGREGATE-0000000002
    Processor: KTABLE-TOSTREAM-0000000005 (stores: [])
      --> KSTREAM-SINK-0000000006
      <-- KTABLE-SUPPRESS-0000000003
    Sink: KSTREAM-SINK-0000000006 (topic: page-view-counts)
      <-- KTABLE-TOSTREAM-0000000005

`
      )
      const changelog = topology.internalTopics.get("KSTREAM-AGGREGATE-STATE-STORE-0000000001-changelog")!
      assert.deepStrictEqual(changelog.configs, { "cleanup.policy": "compact,delete", "retention.ms": "172800000" })
      assert.deepStrictEqual(topology.internalTopics.get("KTABLE-SUPPRESS-STATE-STORE-0000000004-changelog")!.configs, {
        "cleanup.policy": "compact"
      })
    })
  )

  it.effect("a cogroup of two streams in session windows: an aggregate per input, then a merge", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make()
      const a = builder.stream(views).groupByKey()
      const b = builder.stream(clicks).groupByKey()
      a.cogroup((_k, _v: string, n: number) => n + 1)
        .cogroup(b, (_k, _v: string, n: number) => n + 10)
        .windowedBy(SessionWindows.ofInactivityGapWithNoGrace(1000))
        .aggregate(
          () => 0,
          (_k, x, y) => x + y,
          { valueSerde: Serdes.long }
        )
      const text = (yield* builder.build).describe()
      assert.include(
        text,
        "Processor: COGROUPKSTREAM-AGGREGATE-0000000003 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000002])"
      )
      assert.include(
        text,
        "Processor: COGROUPKSTREAM-AGGREGATE-0000000004 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000002])"
      )
      assert.include(
        text,
        "Processor: COGROUPKSTREAM-MERGE-0000000005 (stores: [])\n      --> none\n      <-- COGROUPKSTREAM-AGGREGATE-0000000003, COGROUPKSTREAM-AGGREGATE-0000000004"
      )
    })
  )
})
