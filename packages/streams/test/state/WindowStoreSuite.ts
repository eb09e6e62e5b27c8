/**
 * The conformance suite every byte-level window store passes (in memory, persistent): the contract of
 * src/state/WindowStore.ts, by examples and by a property test against a reference model (a sorted array).
 */
import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { compareBytes } from "../../src/state/KeyValueStore.js"
import { type WindowBytesStore, windowKeyFromBinary } from "../../src/state/WindowStore.js"

/** How a test wants its window store. */
export interface WindowOptions {
  readonly retentionPeriod: number
  readonly windowSize: number
  readonly segmentInterval: number
  readonly retainDuplicates: boolean
}

/** Opens window stores for one test; a persistent factory reopens the same data for the same name. */
export interface WindowStoreFactory {
  readonly persistent: boolean
  open(name: string, options: WindowOptions): WindowBytesStore
}

const s = (text: string): Uint8Array => new TextEncoder().encode(text)
const t = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex")
const defaults: WindowOptions = { retentionPeriod: 1000, windowSize: 10, segmentInterval: 100, retainDuplicates: false }

/** Runs the window store conformance suite against the stores `factory()` opens. */
export const suite = (label: string, factory: () => WindowStoreFactory): void => {
  describe(`${label}: window store conformance`, () => {
    it("puts, fetches a window, overwrites and deletes with null", () => {
      const store = factory().open("w", defaults)
      assert.strictEqual(store.fetch(s("a"), 0), undefined)
      store.put(s("a"), s("1"), 0)
      store.put(s("a"), s("2"), 10)
      assert.strictEqual(t(store.fetch(s("a"), 0)!), "1")
      store.put(s("a"), s("one"), 0)
      assert.strictEqual(t(store.fetch(s("a"), 0)!), "one")
      store.put(s("a"), null, 0)
      assert.strictEqual(store.fetch(s("a"), 0), undefined)
      assert.strictEqual(t(store.fetch(s("a"), 10)!), "2")
      store.close()
    })

    it("returns Kafka's changelog key: key, 8-byte start, 4-byte seqnum", () => {
      const store = factory().open("w", defaults)
      const key = store.put(s("k"), s("v"), 0x0102030405)
      assert.strictEqual(hex(key!), "6b" + "0000000102030405" + "00000000")
      assert.deepStrictEqual(windowKeyFromBinary(key!).windowStart, 0x0102030405)
      store.close()
    })

    it("fetches one key's windows in [from, to] in start order, never another key sharing its prefix", () => {
      const store = factory().open("w", defaults)
      for (const time of [250, 0, 30, 120, 10]) store.put(s("a"), s(`a${time}`), time)
      store.put(s("ab"), s("x"), 30)
      store.put(s(""), s("empty"), 30)
      store.put(Uint8Array.from([0x61, 0, 0, 0, 0, 0, 0, 0]), s("zeros"), 30)
      for (const flushed of [false, true]) {
        const fetched = [...store.fetch(s("a"), 10, 120)].map((kv) => [kv.key, t(kv.value)])
        assert.deepStrictEqual(
          fetched,
          [
            [10, "a10"],
            [30, "a30"],
            [120, "a120"]
          ],
          `flushed=${flushed}`
        )
        assert.deepStrictEqual(
          [...store.backwardFetch(s("a"), 10, 120)].map((kv) => kv.key),
          [120, 30, 10]
        )
        assert.deepStrictEqual(
          [...store.fetch(s("a"), 0, Number.MAX_SAFE_INTEGER)].map((kv) => kv.key),
          [0, 10, 30, 120, 250]
        )
        assert.deepStrictEqual([...store.fetch(s("a"), 31, 119)], [])
        assert.deepStrictEqual([...store.fetch(s("a"), 120, 10)], [])
        assert.deepStrictEqual(
          [...store.fetch(s(""), 0, 100)].map((kv) => t(kv.value)),
          ["empty"]
        )
        store.flush()
      }
      store.close()
    })

    it("fetches key ranges in segment, key, start order, with windows of the store's size", () => {
      const store = factory().open("w", defaults)
      store.put(s("b"), s("b150"), 150)
      store.put(s("b"), s("b20"), 20)
      store.put(s("a"), s("a30"), 30)
      store.put(s("c"), s("c10"), 10)
      store.put(s("ab"), s("ab10"), 10)
      const show = (it: Iterable<{ key: { key: Uint8Array; window: { start: number; end: number } } }>) =>
        [...it].map((kv) => `${t(kv.key.key)}@${kv.key.window.start}-${kv.key.window.end}`)
      for (const flushed of [false, true]) {
        assert.deepStrictEqual(
          show(store.fetch(s("a"), s("b"), 0, 200)),
          ["a@30-40", "ab@10-20", "b@20-30", "b@150-160"],
          `flushed=${flushed}`
        )
        assert.deepStrictEqual(show(store.backwardFetch(s("a"), s("b"), 0, 200)), [
          "b@150-160",
          "b@20-30",
          "ab@10-20",
          "a@30-40"
        ])
        assert.deepStrictEqual(show(store.fetch(undefined, s("ab"), 0, 25)), ["ab@10-20"])
        assert.deepStrictEqual(show(store.fetch(s("b"), undefined, 0, 1000)), ["b@20-30", "c@10-20", "b@150-160"])
        assert.deepStrictEqual(show(store.fetch(s("b"), s("a"), 0, 1000)), [])
        assert.deepStrictEqual(show(store.fetchAll(15, 30)), ["a@30-40", "b@20-30"])
        assert.deepStrictEqual(show(store.backwardFetchAll(15, 30)), ["b@20-30", "a@30-40"])
        assert.deepStrictEqual(show(store.all()), ["a@30-40", "ab@10-20", "b@20-30", "c@10-20", "b@150-160"])
        assert.deepStrictEqual(show(store.backwardAll()), ["b@150-160", "c@10-20", "b@20-30", "ab@10-20", "a@30-40"])
        store.flush()
      }
      store.close()
    })

    it("finds a shorter key whose changelog keys sort after the upper key bound", () => {
      const store = factory().open("w", defaults)
      const keyTo = Uint8Array.from([0x61, 0, 0, 0, 0, 0, 0, 0, 0])
      store.put(s("a"), s("short"), 1)
      assert.deepStrictEqual(
        [...store.fetch(undefined, keyTo, 0, 100)].map((kv) => t(kv.value)),
        ["short"]
      )
      store.close()
    })

    it("expires windows by observed stream time: live while start > streamTime - retention", () => {
      const store = factory().open("w", { ...defaults, retentionPeriod: 100, segmentInterval: 50 })
      for (const time of [0, 60, 120]) assert.isDefined(store.put(s("k"), s(`${time}`), time))
      assert.isDefined(store.put(s("k"), s("200"), 200))
      assert.strictEqual(store.observedStreamTime, 200)
      assert.strictEqual(store.put(s("k"), s("100"), 100), undefined, "start 100 <= 200 - 100 is expired")
      assert.isDefined(store.put(s("k"), s("101"), 101))
      assert.deepStrictEqual(
        [...store.fetch(s("k"), 0, 1000)].map((kv) => kv.key),
        [101, 120, 200]
      )
      assert.strictEqual(store.fetch(s("k"), 60), undefined)
      assert.deepStrictEqual(
        [...store.all()].map((kv) => kv.key.window.start),
        [101, 120, 200]
      )
      store.put(s("other"), s("x"), 1000)
      assert.deepStrictEqual(
        [...store.all()].map((kv) => kv.key.window.start),
        [1000]
      )
      store.close()
    })

    it("keeps every duplicate under its own seqnum when retaining duplicates; a null put does nothing", () => {
      const store = factory().open("join", { ...defaults, retainDuplicates: true })
      const k1 = store.put(s("k"), s("x"), 5)
      const k2 = store.put(s("k"), s("y"), 5)
      assert.strictEqual(store.put(s("k"), null, 5), undefined)
      assert.strictEqual(hex(k1!).slice(-8), "00000001")
      assert.strictEqual(hex(k2!).slice(-8), "00000002")
      assert.deepStrictEqual(
        [...store.fetch(s("k"), 0, 10)].map((kv) => t(kv.value)),
        ["x", "y"]
      )
      assert.strictEqual(t(store.fetch(s("k"), 5)!), "x")
      store.close()
    })

    it("never reuses a duplicate's seqnum after a restore or (persistent) a reopen", () => {
      const f = factory()
      const options = { ...defaults, retainDuplicates: true }
      const source = f.open("dups-src", options)
      const log = [source.put(s("k"), s("x"), 5)!, source.put(s("k"), s("y"), 5)!]
      const target = f.open("dups-dst", options)
      for (const key of log) target.restore(key, s("r"))
      target.put(s("k"), s("z"), 5)
      assert.strictEqual([...target.fetch(s("k"), 5, 5)].length, 3)
      source.flush()
      source.close()
      const again = f.open("dups-src", options)
      again.put(s("k"), s("w"), 5)
      assert.deepStrictEqual(
        [...again.fetch(s("k"), 5, 5)].map((kv) => t(kv.value)),
        f.persistent ? ["x", "y", "w"] : ["w"]
      )
      target.close()
      again.close()
    })

    it("restores from changelog records to the same contents", () => {
      const f = factory()
      const source = f.open("src", defaults)
      const log: Array<[Uint8Array, Uint8Array | null]> = []
      const put = (k: string, v: string | null, time: number) => {
        const key = source.put(s(k), v === null ? null : s(v), time)
        if (key !== undefined) log.push([key, v === null ? null : s(v)])
      }
      put("a", "1", 0)
      put("b", "2", 50)
      put("a", null, 0)
      put("a", "3", 70)
      const target = f.open("dst", defaults)
      for (const [key, value] of log) target.restore(key, value)
      const dump = (store: WindowBytesStore) =>
        [...store.all()].map((kv) => `${t(kv.key.key)}@${kv.key.window.start}=${t(kv.value)}`)
      assert.deepStrictEqual(dump(target), dump(source))
      assert.strictEqual(target.observedStreamTime, source.observedStreamTime)
      source.close()
      target.close()
    })

    it("is unusable after close", () => {
      const store = factory().open("w", defaults)
      store.close()
      assert.throws(() => store.put(s("a"), s("1"), 0), /closed/)
      assert.throws(() => store.fetch(s("a"), 0), /closed/)
      assert.throws(() => [...store.all()], /closed/)
    })

    it("keeps windows and stream time across close and reopen when persistent", () => {
      const f = factory()
      const options = { ...defaults, retentionPeriod: 100, segmentInterval: 50 }
      const store = f.open("kept", options)
      store.put(s("k"), s("early"), 10)
      store.put(s("k"), s("late"), 105)
      store.flush()
      store.put(s("k"), s("closed"), 106)
      store.close()
      const again = f.open("kept", options)
      if (f.persistent) {
        assert.strictEqual(again.observedStreamTime, 106)
        assert.deepStrictEqual(
          [...again.fetch(s("k"), 0, 200)].map((kv) => t(kv.value)),
          ["early", "late", "closed"]
        )
        assert.strictEqual(again.put(s("k"), s("expired"), 6), undefined)
        again.put(s("k"), s("later"), 120)
        assert.deepStrictEqual(
          [...again.fetch(s("k"), 0, 200)].map((kv) => t(kv.value)),
          ["late", "closed", "later"]
        )
      } else assert.deepStrictEqual([...again.all()], [])
      again.close()
    })

    it.prop(
      "retaining duplicates, behaves like an append-only sorted array of windows with retention",
      [
        fc.array(
          fc.record({
            key: fc.constantFrom("a", "ab", "b"),
            time: fc.integer({ min: 0, max: 300 }),
            value: fc.option(fc.constantFrom("x", "y", "z"), { nil: null }),
            flush: fc.boolean()
          }),
          { maxLength: 40 }
        )
      ],
      ([ops]) => {
        const options = { retentionPeriod: 100, windowSize: 5, segmentInterval: 40, retainDuplicates: true }
        const store = factory().open("dups", options)
        let observed = -1
        let seq = 0
        const model: Array<{ key: Uint8Array; time: number; seq: number; value: string }> = []
        for (const op of ops) {
          const key = s(op.key)
          store.put(key, op.value === null ? null : s(op.value), op.time)
          if (op.flush) store.flush()
          observed = Math.max(observed, op.time)
          if (op.time <= observed - options.retentionPeriod || op.value === null) continue
          model.push({ key, time: op.time, seq: ++seq, value: op.value })
        }
        const live = model
          .filter((w) => w.time > observed - options.retentionPeriod)
          .sort(
            (a, b) =>
              Math.floor(a.time / 40) - Math.floor(b.time / 40) ||
              compareBytes(a.key, b.key) ||
              a.time - b.time ||
              a.seq - b.seq
          )
        assert.deepStrictEqual(
          [...store.all()].map((kv) => `${t(kv.key.key)}@${kv.key.window.start}=${t(kv.value)}`),
          live.map((w) => `${t(w.key)}@${w.time}=${w.value}`)
        )
        const a = s("a")
        assert.deepStrictEqual(
          [...store.backwardFetch(a, 0, 1000)].map((kv) => `${kv.key}=${t(kv.value)}`),
          live
            .filter((w) => compareBytes(w.key, a) === 0)
            .sort((x, y) => x.time - y.time || x.seq - y.seq)
            .reverse()
            .map((w) => `${w.time}=${w.value}`)
        )
        store.close()
      },
      { fastCheck: { numRuns: 40 } }
    )

    it.prop(
      "behaves like a sorted array of windows with retention",
      [
        fc.array(
          fc.record({
            key: fc.constantFrom("", "a", "ab", "b", "\u00ff"),
            time: fc.integer({ min: 0, max: 400 }),
            value: fc.option(fc.constantFrom("x", "y", "z"), { nil: null }),
            flush: fc.boolean()
          }),
          { maxLength: 40 }
        ),
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 0, max: 400 })
      ],
      ([ops, t1, t2]) => {
        const options = { retentionPeriod: 120, windowSize: 5, segmentInterval: 30, retainDuplicates: false }
        const store = factory().open("model", options)
        let observed = -1
        let model: Array<{ key: Uint8Array; time: number; value: string }> = []
        for (const op of ops) {
          const key = Buffer.from(op.key, "latin1")
          store.put(key, op.value === null ? null : s(op.value), op.time)
          if (op.flush) store.flush()
          observed = Math.max(observed, op.time)
          if (op.time <= observed - options.retentionPeriod) continue
          model = model.filter((w) => !(compareBytes(w.key, key) === 0 && w.time === op.time))
          if (op.value !== null) model.push({ key, time: op.time, value: op.value })
        }
        const live = model.filter((w) => w.time > observed - options.retentionPeriod)
        const order = (a: (typeof live)[number], b: (typeof live)[number]) =>
          Math.floor(a.time / 30) - Math.floor(b.time / 30) || compareBytes(a.key, b.key) || a.time - b.time
        live.sort(order)
        const [from, to] = [Math.min(t1, t2), Math.max(t1, t2)]
        const show = (it: Iterable<{ key: { key: Uint8Array; window: { start: number } }; value: Uint8Array }>) =>
          [...it].map((kv) => `${hex(kv.key.key)}@${kv.key.window.start}=${t(kv.value)}`)
        const expect = (ws: typeof live) => ws.map((w) => `${hex(w.key)}@${w.time}=${w.value}`)
        assert.deepStrictEqual(show(store.all()), expect(live))
        assert.deepStrictEqual(
          show(store.fetchAll(from, to)),
          expect(live.filter((w) => w.time >= from && w.time <= to))
        )
        assert.deepStrictEqual(show(store.backwardAll()), expect(live).reverse())
        const a = Buffer.from("a", "latin1")
        assert.deepStrictEqual(
          [...store.fetch(a, from, to)].map((kv) => `${kv.key}=${t(kv.value)}`),
          live
            .filter((w) => compareBytes(w.key, a) === 0 && w.time >= from && w.time <= to)
            .sort((x, y) => x.time - y.time)
            .map((w) => `${w.time}=${w.value}`)
        )
        const lo = Buffer.from("a", "latin1")
        const hi = Buffer.from("b", "latin1")
        assert.deepStrictEqual(
          show(store.fetch(lo, hi, from, to)),
          expect(
            live.filter(
              (w) => compareBytes(w.key, lo) >= 0 && compareBytes(w.key, hi) <= 0 && w.time >= from && w.time <= to
            )
          )
        )
        store.close()
      },
      { fastCheck: { numRuns: 60 } }
    )
  })
}
