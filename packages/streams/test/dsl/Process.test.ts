import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema, TestClock } from "effect"
import { groupedWith, materializedAs, named } from "../../src/dsl/Options.js"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import type * as Api from "../../src/processor/api/Processor.js"
import * as StreamRecord from "../../src/processor/Record.js"
import * as Serdes from "../../src/Serdes.js"
import type { KeyValueStore } from "../../src/state/KeyValueStore.js"
import { keyValueStoreBuilder } from "../../src/state/StoreBuilder.js"
import * as Stores from "../../src/state/Stores.js"
import * as TopologyTestDriver from "../../src/TopologyTestDriver.js"

const words = Topic.make("words", { key: Schema.String, value: Schema.String })
const seenStore = () => keyValueStoreBuilder(Stores.inMemoryKeyValueStore("Seen"), Serdes.string, Serdes.long)

/** Forwards each word keyed by itself, once (the "Seen" store remembers). */
const firstSeen: Api.ProcessorSupplier<string, string, string, string> = () => (r, ctx) => {
  const seen = ctx.getStateStore<KeyValueStore<string, number>>("Seen")
  if (seen.get(r.value) !== undefined) return
  seen.put(r.value, r.timestamp)
  ctx.forward(StreamRecord.make(r.value, r.key, r.timestamp))
}

/** Appends the length of the value (a fixed-key processor cannot change the key). */
const withLength: Api.FixedKeyProcessorSupplier<string, string, string> = () => (r, ctx) =>
  ctx.forward(StreamRecord.withValue(r, `${r.value}/${r.value.length}`))

describe("KStream.process and processValues", () => {
  it.effect("Kafka's names and stores; process repartitions before a keyed aggregation, processValues does not", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make().addStateStore(seenStore())
      const processed = builder.stream(words).process(firstSeen, "Seen")
      processed.groupByKey(groupedWith(Serdes.string, Serdes.string)).count(materializedAs("after-process"))
      builder
        .stream("other", { keySerde: Serdes.string, valueSerde: Serdes.string })
        .processValues(withLength)
        .groupByKey(groupedWith(Serdes.string, Serdes.string))
        .count(materializedAs("after-values"))
      const topology = yield* builder.build
      const text = topology.describe()
      assert.include(text, "Processor: KSTREAM-PROCESSOR-0000000001 (stores: [Seen])")
      assert.include(text, "Processor: KSTREAM-PROCESSVALUES-")
      const repartitions = [...topology.internalTopics.values()].filter((t) => t.kind === "repartition")
      assert.deepStrictEqual(
        repartitions.map((t) => t.name),
        ["after-process-repartition"]
      )
      assert.isTrue(topology.internalTopics.has("Seen-changelog"))
    })
  )

  it.effect("a named process node, run in the driver; processValues keeps the key", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make().addStateStore(seenStore())
      builder
        .stream(words)
        .process(firstSeen, named("first-seen"), "Seen")
        .processValues(withLength)
        .to("out", { keySerde: Serdes.string, valueSerde: Serdes.string })
      const topology = yield* builder.build
      assert.include(topology.describe(), "Processor: first-seen (stores: [Seen])")
      const driver = yield* TopologyTestDriver.make(topology)
      yield* driver.createInputTopic(words).pipeKeyValueList([
        { key: "1", value: "apple" },
        { key: "2", value: "fig" },
        { key: "3", value: "apple" }
      ])
      const out = driver.createOutputTopic({ name: "out", key: Serdes.string, value: Serdes.string })
      assert.deepStrictEqual(out.readKeyValuesToList(), [
        { key: "apple", value: "1/1" },
        { key: "fig", value: "2/1" }
      ])
    }).pipe(Effect.scoped)
  )

  it.effect("a store no processor names, or a name no store has, fails the build", () =>
    Effect.gen(function* () {
      const builder = StreamsBuilder.make().addStateStore(seenStore())
      builder.stream(words).process(firstSeen, "Missing")
      const error = yield* Effect.flip(builder.build)
      assert.deepStrictEqual(error.errors, [
        "Processor KSTREAM-PROCESSOR-0000000001 uses unknown store Missing",
        "State store Seen is not connected to any processor (name it in addStateStore, connectProcessorAndStateStores or process)"
      ])
    })
  )

  it.effect(
    "a synchronous processor forwarding several records to an Effect-returning child: none dropped, in order",
    () =>
      Effect.gen(function* () {
        const builder = StreamsBuilder.make()
        const seen: Array<string> = []
        const splitter: Api.ProcessorSupplier<string, string, string, string> = () => (r, ctx) => {
          for (const part of r.value.split(",")) ctx.forward(StreamRecord.withValue(r, part))
        }
        builder
          .stream(words)
          .process(splitter)
          .mapValuesEffect((v: string) => Effect.sleep(1).pipe(Effect.as(v.toUpperCase())))
          .peek((_k, v) => seen.push(v))
          .to("out", { keySerde: Serdes.string, valueSerde: Serdes.string })
        const driver = yield* TopologyTestDriver.make(yield* builder.build)
        yield* Effect.fork(driver.createInputTopic(words).pipeInput("k", "a,b,c"))
        yield* TestClock.adjust(10)
        yield* Effect.yieldNow()
        assert.deepStrictEqual(seen, ["A", "B", "C"])
      }).pipe(Effect.scoped)
  )
})
