import { assert, describe, it } from "@effect/vitest"
import * as InMemoryKeyValueStore from "../../src/state/InMemoryKeyValueStore.js"
import * as SessionStore from "../../src/state/internal/sessionStore.js"
import * as WindowStore from "../../src/state/internal/windowStore.js"

const s = (text: string): Uint8Array => new TextEncoder().encode(text)

describe("segments", () => {
  it("a window store deletes a segment once every window in it has expired, and not before", () => {
    const inner = InMemoryKeyValueStore.make("w")
    const store = WindowStore.make(inner, {
      retentionPeriod: 100,
      windowSize: 10,
      segmentInterval: 50,
      retainDuplicates: false
    })
    store.put(s("a"), s("1"), 0)
    store.put(s("a"), s("2"), 49)
    store.put(s("a"), s("3"), 50)
    store.put(s("a"), s("4"), 148)
    assert.strictEqual(inner.approximateNumEntries(), 4, "segment 0 still holds the live window 49")
    store.put(s("a"), s("5"), 149)
    assert.strictEqual(inner.approximateNumEntries(), 3, "stream time 149: windows up to 49 expired, segment 0 dropped")
    assert.deepStrictEqual(
      [...store.fetch(s("a"), 0, 1000)].map((kv) => kv.key),
      [50, 148, 149]
    )
  })

  it("a session store deletes a segment of session ends once all have expired", () => {
    const inner = InMemoryKeyValueStore.make("s")
    const store = SessionStore.make(inner, { retentionPeriod: 100, segmentInterval: 50 })
    store.put({ key: s("a"), window: { start: 0, end: 10 } }, s("1"))
    store.put({ key: s("b"), window: { start: 20, end: 60 } }, s("2"))
    store.put({ key: s("a"), window: { start: 140, end: 150 } }, s("3"))
    assert.strictEqual(inner.approximateNumEntries(), 2)
    store.put({ key: s("a"), window: { start: 200, end: 200 } }, s("4"))
    assert.strictEqual(inner.approximateNumEntries(), 2, "ends up to 100 expired: segment 1 dropped")
  })

  it("skips empty segments: a long retention with 1 ms segments still fetches at once", () => {
    const store = WindowStore.make(InMemoryKeyValueStore.make("long"), {
      retentionPeriod: 1e12,
      windowSize: 1,
      segmentInterval: 1,
      retainDuplicates: false
    })
    store.put(s("a"), s("early"), 5)
    store.put(s("b"), s("x"), 7)
    store.put(s("a"), s("late"), 1e11)
    assert.deepStrictEqual(
      [...store.fetch(s("a"), 0, Number.MAX_SAFE_INTEGER)].map((kv) => kv.key),
      [5, 1e11]
    )
    assert.deepStrictEqual(
      [...store.backwardAll()].map((kv) => kv.key.window.start),
      [1e11, 7, 5]
    )
  })
})
