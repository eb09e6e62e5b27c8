/**
 * The conformance suite every byte-level session store passes (in memory, persistent): the contract of
 * src/state/SessionStore.ts, by examples and by a property test against a reference model (a sorted array).
 */
import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { compareBytes, type KeyValue } from "../../src/state/KeyValueStore.js"
import { type SessionBytesStore, sessionKeyFromBinary } from "../../src/state/SessionStore.js"
import type { Windowed } from "../../src/state/WindowStore.js"

/** How a test wants its session store. */
export interface SessionOptions {
  readonly retentionPeriod: number
  readonly segmentInterval: number
}

/** Opens session stores for one test; a persistent factory reopens the same data for the same name. */
export interface SessionStoreFactory {
  readonly persistent: boolean
  open(name: string, options: SessionOptions): SessionBytesStore
}

const s = (text: string): Uint8Array => new TextEncoder().encode(text)
const t = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex")
const w = (key: string, start: number, end: number): Windowed<Uint8Array> => ({ key: s(key), window: { start, end } })
const show = (it: Iterable<KeyValue<Windowed<Uint8Array>, Uint8Array>>): Array<string> =>
  [...it].map((kv) => `${t(kv.key.key)}[${kv.key.window.start},${kv.key.window.end}]=${t(kv.value)}`)
const defaults: SessionOptions = { retentionPeriod: 1000, segmentInterval: 100 }

/** Runs the session store conformance suite against the stores `factory()` opens. */
export const suite = (label: string, factory: () => SessionStoreFactory): void => {
  describe(`${label}: session store conformance`, () => {
    it("puts, fetches a session, removes it", () => {
      const store = factory().open("s", defaults)
      store.put(w("k", 0, 10), s("a"))
      assert.strictEqual(t(store.fetchSession(s("k"), 0, 10)!), "a")
      assert.strictEqual(store.fetchSession(s("k"), 0, 11), undefined)
      store.put(w("k", 0, 10), s("b"))
      assert.strictEqual(t(store.fetchSession(s("k"), 0, 10)!), "b")
      store.remove(w("k", 0, 10))
      assert.strictEqual(store.fetchSession(s("k"), 0, 10), undefined)
      store.put(w("k", 5, 6), s("c"))
      store.put(w("k", 5, 6), null)
      assert.deepStrictEqual(show(store.fetch(s("k"))), [])
      store.close()
    })

    it("returns Kafka's changelog key: key, 8-byte end, 8-byte start", () => {
      const store = factory().open("s", defaults)
      const key = store.put(w("k", 0x0a, 0x0b0c), s("v"))
      assert.strictEqual(hex(key!), "6b" + "0000000000000b0c" + "000000000000000a")
      assert.deepStrictEqual(sessionKeyFromBinary(key!).window, { start: 0x0a, end: 0x0b0c })
      store.close()
    })

    it("finds the sessions ending at or after earliestEnd and starting at or before latestStart, by end then start", () => {
      const store = factory().open("s", defaults)
      store.put(w("k", 40, 50), s("3"))
      store.put(w("k", 0, 10), s("1"))
      store.put(w("k", 20, 30), s("2"))
      store.put(w("k", 25, 30), s("2b"))
      store.put(w("kk", 20, 30), s("other"))
      store.put(w("", 20, 30), s("empty"))
      for (const flushed of [false, true]) {
        assert.deepStrictEqual(
          show(store.findSessions(s("k"), 25, 45)),
          ["k[20,30]=2", "k[25,30]=2b", "k[40,50]=3"],
          `flushed=${flushed}`
        )
        assert.deepStrictEqual(show(store.backwardFindSessions(s("k"), 25, 45)), [
          "k[40,50]=3",
          "k[25,30]=2b",
          "k[20,30]=2"
        ])
        assert.deepStrictEqual(show(store.findSessions(s("k"), 31, 39)), [])
        assert.deepStrictEqual(show(store.findSessions(s("k"), 30, 20)), ["k[20,30]=2"])
        assert.deepStrictEqual(show(store.findSessions(s("k"), 10, 10)), ["k[0,10]=1"])
        assert.deepStrictEqual(show(store.fetch(s("k"))), ["k[0,10]=1", "k[20,30]=2", "k[25,30]=2b", "k[40,50]=3"])
        assert.deepStrictEqual(show(store.backwardFetch(s("k"))), [
          "k[40,50]=3",
          "k[25,30]=2b",
          "k[20,30]=2",
          "k[0,10]=1"
        ])
        assert.deepStrictEqual(show(store.fetch(s(""))), ["[20,30]=empty"])
        store.flush()
      }
      store.close()
    })

    it("queries key ranges in segment, key, end, start order", () => {
      const store = factory().open("s", defaults)
      store.put(w("b", 150, 160), s("b2"))
      store.put(w("b", 0, 20), s("b1"))
      store.put(w("a", 10, 30), s("a1"))
      store.put(w("c", 5, 10), s("c1"))
      for (const flushed of [false, true]) {
        assert.deepStrictEqual(
          show(store.fetch(s("a"), s("b"))),
          ["a[10,30]=a1", "b[0,20]=b1", "b[150,160]=b2"],
          `flushed=${flushed}`
        )
        assert.deepStrictEqual(show(store.backwardFetch(s("a"), s("b"))), [
          "b[150,160]=b2",
          "b[0,20]=b1",
          "a[10,30]=a1"
        ])
        assert.deepStrictEqual(show(store.fetch(undefined, undefined)), [
          "a[10,30]=a1",
          "b[0,20]=b1",
          "c[5,10]=c1",
          "b[150,160]=b2"
        ])
        assert.deepStrictEqual(show(store.findSessions(s("b"), undefined, 15, 100)), ["b[0,20]=b1"])
        assert.deepStrictEqual(show(store.findSessions(s("b"), s("a"), 0, 1000)), [])
        assert.deepStrictEqual(show(store.backwardFindSessions(undefined, s("b"), 0, 100)), [
          "b[0,20]=b1",
          "a[10,30]=a1"
        ])
        store.flush()
      }
      store.close()
    })

    it("expires sessions by observed stream time: live while end > streamTime - retention", () => {
      const store = factory().open("s", { retentionPeriod: 100, segmentInterval: 50 })
      store.put(w("k", 0, 10), s("old"))
      store.put(w("k", 90, 101), s("edge"))
      store.put(w("k", 150, 200), s("new"))
      assert.strictEqual(store.observedStreamTime, 200)
      assert.strictEqual(store.put(w("k", 90, 100), s("late")), undefined)
      assert.deepStrictEqual(show(store.fetch(s("k"))), ["k[90,101]=edge", "k[150,200]=new"])
      assert.strictEqual(store.fetchSession(s("k"), 0, 10), undefined)
      store.close()
    })

    it("restores from changelog records to the same contents", () => {
      const f = factory()
      const source = f.open("src", defaults)
      const log: Array<[Uint8Array, Uint8Array | null]> = []
      const put = (key: Windowed<Uint8Array>, v: string | null) => {
        const k = source.put(key, v === null ? null : s(v))
        if (k !== undefined) log.push([k, v === null ? null : s(v)])
      }
      put(w("a", 0, 10), "1")
      put(w("b", 5, 50), "2")
      put(w("a", 0, 10), null)
      put(w("a", 0, 20), "3")
      const target = f.open("dst", defaults)
      for (const [key, value] of log) target.restore(key, value)
      assert.deepStrictEqual(show(target.fetch(undefined, undefined)), show(source.fetch(undefined, undefined)))
      assert.strictEqual(target.observedStreamTime, 50)
      source.close()
      target.close()
    })

    it("is unusable after close", () => {
      const store = factory().open("s", defaults)
      store.close()
      assert.throws(() => store.put(w("a", 0, 1), s("1")), /closed/)
      assert.throws(() => store.fetchSession(s("a"), 0, 1), /closed/)
      assert.throws(() => [...store.fetch(s("a"))], /closed/)
    })

    it("keeps sessions and stream time across close and reopen when persistent", () => {
      const f = factory()
      const store = f.open("kept", defaults)
      store.put(w("k", 0, 10), s("flushed"))
      store.flush()
      store.put(w("k", 20, 30), s("closed"))
      store.close()
      const again = f.open("kept", defaults)
      if (f.persistent) {
        assert.strictEqual(again.observedStreamTime, 30)
        assert.deepStrictEqual(show(again.fetch(s("k"))), ["k[0,10]=flushed", "k[20,30]=closed"])
      } else assert.deepStrictEqual(show(again.fetch(undefined, undefined)), [])
      again.close()
    })

    it.prop(
      "behaves like a sorted array of sessions with retention",
      [
        fc.array(
          fc.record({
            key: fc.constantFrom("", "a", "ab", "b"),
            start: fc.integer({ min: 0, max: 300 }),
            length: fc.integer({ min: 0, max: 40 }),
            value: fc.option(fc.constantFrom("x", "y"), { nil: null }),
            flush: fc.boolean()
          }),
          { maxLength: 40 }
        ),
        fc.integer({ min: 0, max: 350 }),
        fc.integer({ min: 0, max: 350 })
      ],
      ([ops, earliestEnd, latestStart]) => {
        const options = { retentionPeriod: 100, segmentInterval: 30 }
        const store = factory().open("model", options)
        let observed = -1
        let model: Array<{ key: Uint8Array; start: number; end: number; value: string }> = []
        for (const op of ops) {
          const key = s(op.key)
          const end = op.start + op.length
          store.put({ key, window: { start: op.start, end } }, op.value === null ? null : s(op.value))
          if (op.flush) store.flush()
          observed = Math.max(observed, end)
          if (end <= observed - options.retentionPeriod) continue
          model = model.filter((x) => !(compareBytes(x.key, key) === 0 && x.start === op.start && x.end === end))
          if (op.value !== null) model.push({ key, start: op.start, end, value: op.value })
        }
        const live = model
          .filter((x) => x.end > observed - options.retentionPeriod)
          .sort(
            (a, b) =>
              Math.floor(a.end / 30) - Math.floor(b.end / 30) ||
              compareBytes(a.key, b.key) ||
              a.end - b.end ||
              a.start - b.start
          )
        const expect = (xs: typeof live) => xs.map((x) => `${t(x.key)}[${x.start},${x.end}]=${x.value}`)
        assert.deepStrictEqual(show(store.fetch(undefined, undefined)), expect(live))
        assert.deepStrictEqual(show(store.backwardFetch(undefined, undefined)), expect(live).reverse())
        const found = live.filter((x) => x.end >= earliestEnd && x.start <= latestStart)
        assert.deepStrictEqual(show(store.findSessions(undefined, undefined, earliestEnd, latestStart)), expect(found))
        const a = s("a")
        assert.deepStrictEqual(
          show(store.findSessions(a, earliestEnd, latestStart)),
          expect(found.filter((x) => compareBytes(x.key, a) === 0).sort((x, y) => x.end - y.end || x.start - y.start))
        )
        store.close()
      },
      { fastCheck: { numRuns: 60 } }
    )
  })
}
