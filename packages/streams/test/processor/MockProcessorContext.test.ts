import { assert, describe, it } from "@effect/vitest"
import { Context, Effect } from "effect"
import * as MockProcessorContext from "../../src/processor/api/MockProcessorContext.js"
import type * as Api from "../../src/processor/api/Processor.js"
import { PunctuationType } from "../../src/processor/api/Processor.js"
import * as StreamRecord from "../../src/processor/Record.js"
import * as Serdes from "../../src/Serdes.js"
import type { KeyValueStore } from "../../src/state/KeyValueStore.js"
import { keyValueStoreBuilder } from "../../src/state/StoreBuilder.js"
import * as Stores from "../../src/state/Stores.js"

/** Sums values per key in "Sums"; every 10 s of stream time forwards all sums to "report" and asks to commit. */
const summer: Api.ProcessorSupplier<string, number, string, number> = () => {
  let sums: KeyValueStore<string, number>
  return {
    init(ctx) {
      sums = ctx.getStateStore("Sums")
      ctx.schedule("10 seconds", PunctuationType.STREAM_TIME, (at) => {
        for (const { key, value } of sums.all()) ctx.forward(StreamRecord.make(key, value, at), "report")
        ctx.commit()
      })
    },
    process(record) {
      sums.put(record.key, (sums.get(record.key) ?? 0) + record.value)
    }
  }
}

const sumsStore = () => keyValueStoreBuilder(Stores.inMemoryKeyValueStore("Sums"), Serdes.string, Serdes.long).build()

describe("MockProcessorContext", () => {
  it.effect("registered stores, captured forwards with child names, punctuators the test fires, commits", () =>
    Effect.gen(function* () {
      const context = MockProcessorContext.make<string, number>()
      context.addStateStore(sumsStore())
      const processor = MockProcessorContext.instantiate(summer, context)
      yield* MockProcessorContext.run(processor.process(StreamRecord.make("a", 2, 1)))
      yield* MockProcessorContext.run(processor.process(StreamRecord.make("a", 3, 2)))
      yield* MockProcessorContext.run(processor.process(StreamRecord.make("b", 1, 3)))
      assert.deepStrictEqual(context.forwarded(), [])
      assert.strictEqual(context.getStateStore<KeyValueStore<string, number>>("Sums").get("a"), 5)

      const [punctuation] = context.scheduledPunctuators()
      assert.strictEqual(punctuation!.intervalMs, 10_000)
      assert.strictEqual(punctuation!.type, "STREAM_TIME")
      assert.isFalse(context.committed())
      yield* MockProcessorContext.run(punctuation!.punctuator(10_000))
      assert.deepStrictEqual(
        context.forwarded("report").map((f) => [f.record.key, f.record.value, f.record.timestamp]),
        [
          ["a", 5, 10_000],
          ["b", 1, 10_000]
        ]
      )
      assert.deepStrictEqual(context.forwarded("elsewhere"), [])
      assert.isTrue(context.committed())
      context.resetForwards()
      context.resetCommit()
      assert.deepStrictEqual(context.forwarded(), [])
      assert.isFalse(context.committed())
    })
  )

  it.effect(
    "record metadata, times and cancellation as the test sets them; an Effect-returning function processor",
    () =>
      Effect.gen(function* () {
        class Rate extends Context.Tag("Rate")<Rate, number>() {}
        const seen: Array<unknown> = []
        let cancellable: Api.Cancellable | undefined
        const converter: Api.ProcessorSupplier<string, number, string, number> = () => (r, ctx) =>
          Effect.gen(function* () {
            seen.push([ctx.recordMetadata(), ctx.currentStreamTimeMs(), ctx.currentSystemTimeMs()])
            cancellable ??= ctx.schedule(5, PunctuationType.WALL_CLOCK_TIME, () => undefined)
            ctx.forward(StreamRecord.withValue(r, r.value * (yield* Rate)))
          })
        const context = MockProcessorContext.make<string, number>()
        context.setRecordMetadata({ topic: "prices", partition: 3, offset: 42 })
        context.setCurrentStreamTimeMs(100)
        context.setCurrentSystemTimeMs(200)
        const processor = MockProcessorContext.instantiate(converter, context)
        yield* MockProcessorContext.run(processor.process(StreamRecord.make("eur", 10, 7))).pipe(
          Effect.provideService(Rate, 2)
        )
        assert.deepStrictEqual(seen, [[{ topic: "prices", partition: 3, offset: 42 }, 100, 200]])
        assert.deepStrictEqual(context.forwarded(), [{ record: StreamRecord.make("eur", 20, 7), childName: undefined }])
        assert.isFalse(context.scheduledPunctuators()[0]!.cancelled)
        cancellable!.cancel()
        assert.isTrue(context.scheduledPunctuators()[0]!.cancelled)
      })
  )

  it("a fixed-key processor and a store that is not registered", () => {
    const context = MockProcessorContext.make<string, string>()
    const shout = MockProcessorContext.instantiateFixedKey<string, string, string>(
      () => (r, ctx) => ctx.forward(StreamRecord.withValue(r, r.value.toUpperCase())),
      context
    )
    shout.process(MockProcessorContext.fixedKeyRecord("k", "hi", 5))
    assert.deepStrictEqual(
      context.forwarded().map((f) => f.record),
      [{ key: "k", value: "HI", timestamp: 5, headers: [] }]
    )
    assert.throws(() => context.getStateStore("nope"), /No state store nope/)
  })
})
