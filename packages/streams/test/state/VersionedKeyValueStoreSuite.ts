/**
 * The conformance suite every byte-level versioned key-value store passes (in-memory, persistent, the
 * in-memory fallback of a persistent one): the contract of src/state/VersionedKeyValueStore.ts, checked
 * by examples and by a property test against a reference model (every accepted version of every key).
 */
import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import {
  NOT_PUT,
  VALID_TO_UNDEFINED,
  type VersionedBytesStore,
  type VersionedRecord
} from "../../src/state/VersionedKeyValueStore.js"

/** Opens stores for one test; a persistent factory reopens the same data for the same name. */
export interface VersionedStoreFactory {
  readonly persistent: boolean
  open(name: string, historyRetention: number): VersionedBytesStore
}

const s = (text: string): Uint8Array => new TextEncoder().encode(text)
const text = (r: VersionedRecord<Uint8Array> | undefined) =>
  r === undefined ? undefined : { value: new TextDecoder().decode(r.value), timestamp: r.timestamp, validTo: r.validTo }

/** Runs the suite against the stores `factory` opens. */
export const suite = (label: string, makeFactory: () => VersionedStoreFactory) =>
  describe(`versioned store: ${label}`, () => {
    it("keeps every version: latest by default, the one valid at a time as of it", () => {
      const store = makeFactory().open("v", 1000)
      const k = s("k")
      assert.strictEqual(store.put(k, s("a"), 10), VALID_TO_UNDEFINED)
      assert.strictEqual(store.put(k, s("b"), 20), VALID_TO_UNDEFINED)
      assert.deepStrictEqual(text(store.get(k)), { value: "b", timestamp: 20, validTo: undefined })
      assert.deepStrictEqual(text(store.get(k, 15)), { value: "a", timestamp: 10, validTo: 20 })
      assert.deepStrictEqual(text(store.get(k, 20)), { value: "b", timestamp: 20, validTo: undefined })
      assert.strictEqual(store.get(k, 9), undefined)
      assert.strictEqual(store.get(s("other")), undefined)
      store.close()
    })

    it("an out-of-order put fills in history and answers the next version's timestamp", () => {
      const store = makeFactory().open("v", 1000)
      const k = s("k")
      store.put(k, s("a"), 10)
      store.put(k, s("c"), 30)
      assert.strictEqual(store.put(k, s("b"), 20), 30)
      assert.deepStrictEqual(text(store.get(k)), { value: "c", timestamp: 30, validTo: undefined })
      assert.deepStrictEqual(text(store.get(k, 25)), { value: "b", timestamp: 20, validTo: 30 })
      // a put at an existing timestamp replaces that version
      assert.strictEqual(store.put(k, s("B"), 20), 30)
      assert.deepStrictEqual(text(store.get(k, 25)), { value: "B", timestamp: 20, validTo: 30 })
      store.close()
    })

    it("tombstones: a deleted key reads as absent from then on, its history stays", () => {
      const store = makeFactory().open("v", 1000)
      const k = s("k")
      store.put(k, s("a"), 10)
      assert.deepStrictEqual(text(store.delete(k, 20)), { value: "a", timestamp: 10, validTo: undefined })
      assert.strictEqual(store.get(k), undefined)
      assert.strictEqual(store.get(k, 25), undefined)
      assert.deepStrictEqual(text(store.get(k, 15)), { value: "a", timestamp: 10, validTo: 20 })
      assert.strictEqual(store.put(k, s("b"), 30), VALID_TO_UNDEFINED)
      assert.deepStrictEqual(text(store.get(k)), { value: "b", timestamp: 30, validTo: undefined })
      assert.strictEqual(store.delete(s("never"), 40), undefined)
      store.close()
    })

    it("history retention: older puts are refused and older reads answer nothing", () => {
      const store = makeFactory().open("v", 100)
      const k = s("k")
      store.put(k, s("a"), 10)
      store.put(k, s("b"), 200)
      assert.strictEqual(store.observedStreamTime, 200)
      assert.strictEqual(store.put(k, s("old"), 50), NOT_PUT)
      assert.strictEqual(store.get(k, 99), undefined)
      assert.deepStrictEqual(text(store.get(k, 150)), { value: "a", timestamp: 10, validTo: 200 })
      assert.strictEqual(store.put(s("j"), s("x"), 100), VALID_TO_UNDEFINED)
      store.put(k, s("c"), 400)
      assert.strictEqual(store.get(k, 250), undefined)
      assert.deepStrictEqual(text(store.get(k, 300)), { value: "b", timestamp: 200, validTo: 400 })
      // the latest version of a key is kept however old it is
      assert.deepStrictEqual(text(store.get(s("j"))), { value: "x", timestamp: 100, validTo: undefined })
      store.close()
    })

    it("the latest version survives a close and reopen of a persistent store", () => {
      const factory = makeFactory()
      if (!factory.persistent) return
      const first = factory.open("reopen", 1000)
      first.put(s("k"), s("a"), 10)
      first.put(s("k"), s("b"), 20)
      first.flush()
      first.close()
      const second = factory.open("reopen", 1000)
      assert.deepStrictEqual(text(second.get(s("k"))), { value: "b", timestamp: 20, validTo: undefined })
      assert.deepStrictEqual(text(second.get(s("k"), 15)), { value: "a", timestamp: 10, validTo: 20 })
      second.close()
    })

    it("matches a model keeping every accepted version", () => {
      const op = fc.record({
        key: fc.constantFrom("a", "b", "c"),
        value: fc.option(fc.constantFrom("x", "y", "z"), { nil: null }),
        timestamp: fc.integer({ min: 0, max: 200 })
      })
      fc.assert(
        fc.property(fc.array(op, { maxLength: 40 }), fc.integer({ min: 0, max: 100 }), (ops, retention) => {
          const store = makeFactory().open("model", retention)
          const model = new Map<string, Map<number, string | null>>()
          let streamTime = -1
          for (const o of ops) {
            streamTime = Math.max(streamTime, o.timestamp)
            const accepted = o.timestamp >= streamTime - retention
            const result = store.put(s(o.key), o.value === null ? null : s(o.value), o.timestamp)
            assert.strictEqual(result === NOT_PUT, !accepted)
            if (!accepted) continue
            const versions = model.get(o.key) ?? new Map()
            versions.set(o.timestamp, o.value)
            model.set(o.key, versions)
          }
          for (const key of ["a", "b", "c"]) {
            const versions = [...(model.get(key) ?? new Map<number, string | null>())].sort(([x], [y]) => y - x)
            const latest = versions[0]
            assert.strictEqual(
              text(store.get(s(key)))?.value,
              latest === undefined ? undefined : (latest[1] ?? undefined)
            )
            for (let asOf = Math.max(0, streamTime - retention); asOf <= streamTime + 1; asOf += 7) {
              const valid = versions.find(([t]) => t <= asOf)
              const expected = valid === undefined || valid[1] === null ? undefined : valid[1]
              assert.strictEqual(text(store.get(s(key), asOf))?.value, expected, `${key} as of ${asOf}`)
            }
          }
          store.close()
        }),
        { numRuns: 200 }
      )
    })
  })
