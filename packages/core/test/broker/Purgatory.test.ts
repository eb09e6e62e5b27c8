/**
 * The purgatory's deadlines under `TestClock`: an entry expires once the clock passes its deadline (at
 * the next tick, never before), exactly once; a cancelled entry never expires; entries scheduled after
 * an idle period are still swept.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import * as Purgatory from "../../src/broker/internal/purgatory.js"

describe("Purgatory", () => {
  it.scoped("expires entries at their deadline (up to one tick late), once, and never cancelled ones", () =>
    Effect.gen(function* () {
      const purgatory = yield* Purgatory.make(10)
      const fired: Array<string> = []
      purgatory.schedule(100, () => fired.push("a"))
      const cancelB = purgatory.schedule(100, () => fired.push("b"))
      purgatory.schedule(250, () => fired.push("c"))
      cancelB()
      yield* TestClock.adjust("95 millis")
      assert.deepStrictEqual(fired, [])
      yield* TestClock.adjust("15 millis")
      assert.deepStrictEqual(fired, ["a"])
      yield* TestClock.adjust("100 millis")
      assert.deepStrictEqual(fired, ["a"])
      yield* TestClock.adjust("50 millis")
      assert.deepStrictEqual(fired, ["a", "c"])
      // idle now; a later entry wakes the sweeper again
      yield* TestClock.adjust("1 seconds")
      purgatory.schedule(1300, () => fired.push("d"))
      yield* TestClock.adjust("20 millis")
      assert.deepStrictEqual(fired, ["a", "c"])
      yield* TestClock.adjust("100 millis")
      assert.deepStrictEqual(fired, ["a", "c", "d"])
      yield* TestClock.adjust("1 seconds")
      assert.deepStrictEqual(fired, ["a", "c", "d"])
    })
  )
})
