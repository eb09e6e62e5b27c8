import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as P from "../../src/internal/task/punctuation.js"

const schedule = (state: P.State, type: P.Schedule["type"], interval: number, now = 0) =>
  P.step(state, P.Event.Schedule({ node: "p", type, interval, now }))

/** Feeds stream times in order and returns the timestamps the schedule fired at. */
const fires = (times: ReadonlyArray<number>, interval: number): Array<number> => {
  let state = schedule(P.initial, "STREAM_TIME", interval).state
  const out: Array<number> = []
  for (const time of times) {
    const r = P.step(state, P.Event.StreamTime({ time }))
    state = r.state
    for (const d of r.due) out.push(d.timestamp)
  }
  return out
}

describe("punctuation schedule", () => {
  it("a stream-time schedule fires 6 times for 60 records 1 s apart with a 10 s interval", () => {
    const times = Array.from({ length: 60 }, (_, i) => i * 1000)
    assert.deepStrictEqual(fires(times, 10_000), [0, 10_000, 20_000, 30_000, 40_000, 50_000])
  })

  it("fires once when stream time jumps several intervals; the next point is time + interval", () => {
    assert.deepStrictEqual(fires([0, 35_000, 40_000, 44_999, 45_000], 10_000), [0, 35_000, 45_000])
  })

  it("does nothing before the task has stream time", () => {
    assert.deepStrictEqual(fires([-1, -1], 10), [])
  })

  it("a wall-clock schedule starts interval after now and ignores stream time", () => {
    let state = schedule(P.initial, "WALL_CLOCK_TIME", 100, 1_000).state
    assert.strictEqual(P.step(state, P.Event.StreamTime({ time: 5_000 })).due.length, 0)
    assert.strictEqual(P.step(state, P.Event.WallClock({ time: 1_099 })).due.length, 0)
    const r = P.step(state, P.Event.WallClock({ time: 1_100 }))
    assert.deepStrictEqual(r.due, [{ id: 0, node: "p", timestamp: 1_100 }])
    state = r.state
    assert.strictEqual(P.step(state, P.Event.WallClock({ time: 1_199 })).due.length, 0)
    assert.strictEqual(P.step(state, P.Event.WallClock({ time: 1_200 })).due.length, 1)
  })

  it("a cancelled schedule never fires; others keep going", () => {
    const a = schedule(P.initial, "STREAM_TIME", 10)
    const b = schedule(a.state, "STREAM_TIME", 10)
    const cancelled = P.step(b.state, P.Event.Cancel({ id: a.scheduled! })).state
    assert.isFalse(P.isLive(cancelled, a.scheduled!))
    assert.deepStrictEqual(
      P.step(cancelled, P.Event.StreamTime({ time: 0 })).due.map((d) => d.id),
      [b.scheduled]
    )
  })

  it.prop(
    "fires at most once per record, at times aligned to 0 or to the last jump, never leaving 2 intervals unfired",
    [fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 60 }), fc.integer({ min: 1, max: 30 })],
    ([steps, interval]) => {
      let time = 0
      const times = steps.map((s) => (time += s))
      if (times.length > 0) assert.isAtLeast(times[0]!, 0)
      let state = schedule(P.initial, "STREAM_TIME", interval).state
      let last: number | undefined
      for (const t of times) {
        const r = P.step(state, P.Event.StreamTime({ time: t }))
        assert.isAtMost(r.due.length, 1)
        if (r.due.length === 1) {
          if (last !== undefined) assert.isAbove(t, last)
          last = t
        } else if (last !== undefined) assert.isBelow(t - last, 2 * interval)
        else assert.strictEqual(t, -1)
        state = r.state
      }
    }
  )
})
