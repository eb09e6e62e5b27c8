import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { resolveWith } from "../../src/internal/runtime/patterns.js"
import type { ProcessorSupplier } from "../../src/processor/api/Processor.js"
import * as Serdes from "../../src/Serdes.js"
import { keyValueStoreBuilder } from "../../src/state/StoreBuilder.js"
import * as Stores from "../../src/state/Stores.js"
import * as TopologyBuilder from "../../src/topology/TopologyBuilder.js"

const input = Topic.make("input", { key: Schema.String, value: Schema.String })
const pass: ProcessorSupplier<unknown, unknown> = () => (r, ctx) => ctx.forward(r)
const store = (name: string) => keyValueStoreBuilder(Stores.inMemoryKeyValueStore(name), Serdes.string, Serdes.long)

describe("TopologyBuilder", () => {
  it.effect("a hand-built topology prints as Kafka's describe() (golden)", () =>
    Effect.gen(function* () {
      const topology = yield* TopologyBuilder.make()
        .addSource("Source", input)
        .addProcessor("Process", pass, "Source")
        .addStateStore(store("Counts"), "Process")
        .addSink("Sink", "output", { keySerde: Serdes.string, valueSerde: Serdes.string }, "Process")
        .addGlobalStore(
          store("Global").withLoggingDisabled(),
          "GlobalSource",
          "global-topic",
          { keySerde: Serdes.string, valueSerde: Serdes.long },
          "GlobalProcess",
          pass
        ).build
      assert.strictEqual(
        topology.describe(),
        `Topologies:
   Sub-topology: 0 for global store (will not generate tasks)
    Source: GlobalSource (topics: [global-topic])
      --> GlobalProcess
    Processor: GlobalProcess (stores: [Global])
      --> none
      <-- GlobalSource

  Sub-topology: 1
    Source: Source (topics: [input])
      --> Process
    Processor: Process (stores: [Counts])
      --> Sink
      <-- Source
    Sink: Sink (topic: output)
      <-- Process

`
      )
      assert.deepStrictEqual([...topology.internalTopics.keys()], ["Counts-changelog"])
      assert.isFalse(topology.stores.get("Global")!.loggingEnabled)
    })
  )

  it.effect("a read-only store uses its source topic as changelog (no changelog topic)", () =>
    Effect.gen(function* () {
      const topology = yield* TopologyBuilder.make().addReadOnlyStateStore(
        store("Lookup"),
        "LookupSource",
        input,
        {},
        "LookupUpdate",
        pass
      ).build
      assert.deepStrictEqual([...topology.internalTopics.keys()], [])
      assert.strictEqual(topology.stores.get("Lookup")!.restoreFrom, "input")
      assert.deepStrictEqual(topology.subtopologies[0]!.stores, ["Lookup"])
    })
  )

  it.effect("every mistake is reported at build, each in one sentence", () =>
    Effect.gen(function* () {
      const error = yield* TopologyBuilder.make()
        .addSource("Source", input)
        .addSource("Source", "other", { keySerde: Serdes.string, valueSerde: Serdes.string })
        .addProcessor("Orphan", pass)
        .addProcessor("Child", pass, "Missing")
        .addSink("Sink", "out", {}, "Source")
        .addProcessor("AfterSink", pass, "Sink")
        .addStateStore(store("Unconnected"))
        .addStateStore(store("Connected"), "Nobody")
        .connectProcessorAndStateStores("Child", "NotAdded")
        .addGlobalStore(store("G").withLoggingDisabled(), "GS", "g", {}, "GP", pass)
        .addProcessor("BelowGlobal", pass, "GP")
        .build.pipe(Effect.flip)
      const has = (text: string) =>
        assert.isTrue(
          error.errors.some((e) => e.includes(text)),
          `${text} not in ${JSON.stringify(error.errors)}`
        )
      has("Processor Source is already added")
      has("Processor Orphan must have at least one parent")
      has("Parent Missing of processor Child is not added yet")
      has("Parent Sink of processor AfterSink is a sink")
      has("State store Unconnected is not connected to any processor")
      has("State store Connected is connected to unknown processor Nobody")
      has("Processor Child uses unknown store NotAdded")
      has("Parent GP of processor BelowGlobal belongs to a global store")
      has("No key serde for sink Sink")
      has("No key serde for source GS")
    })
  )

  it.effect("a pattern source prints its pattern; a pattern matching another source's topic fails the build", () =>
    Effect.gen(function* () {
      const topology = yield* TopologyBuilder.make()
        .addSource("Logs", /logs-\d+/, { keySerde: Serdes.string, valueSerde: Serdes.string })
        .addProcessor("P", pass, "Logs").build
      assert.include(topology.describe(), "Source: Logs (topics: logs-\\d+)\n      --> P")
      assert.deepStrictEqual(topology.subtopologies[0]!.sourceTopics, [])
      const resolved = resolveWith(topology, "app", ["logs-1", "logs-22", "logs-x", "other", "__consumer_offsets"])
      assert.deepStrictEqual(resolved.subtopologies[0]!.sourceTopics, ["logs-1", "logs-22"])
      const error = yield* TopologyBuilder.make()
        .addSource("Logs", /logs-\d+/, { keySerde: Serdes.string, valueSerde: Serdes.string })
        .addSource("One", "logs-1", { keySerde: Serdes.string, valueSerde: Serdes.string })
        .build.pipe(Effect.flip)
      assert.deepStrictEqual(error.errors, [
        "Pattern logs-\\d+ of source Logs matches topic logs-1, already registered by source One"
      ])
    })
  )
})
