/**
 * The conformance suite every byte-level key-value store passes (in-memory, persistent, the in-memory
 * fallback of a persistent one): the contract of src/state/KeyValueStore.ts, checked by examples and by
 * a property test against a reference model (a sorted array of entries).
 */
import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { compareBytes, type KeyValue, type KeyValueBytesStore } from "../../src/state/KeyValueStore.js"

/** Opens stores for one test; a persistent factory reopens the same data for the same name. */
export interface KeyValueStoreFactory {
  readonly persistent: boolean
  open(name: string): KeyValueBytesStore
}

const b = (...bytes: Array<number>): Uint8Array => Uint8Array.from(bytes)
const s = (text: string): Uint8Array => new TextEncoder().encode(text)
const text = (bytes: Uint8Array | undefined): string | undefined =>
  bytes === undefined ? undefined : new TextDecoder().decode(bytes)
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex")
const keysOf = (it: Iterable<KeyValue<Uint8Array, Uint8Array>>): Array<string> => [...it].map((kv) => hex(kv.key))
const entriesOf = (it: Iterable<KeyValue<Uint8Array, Uint8Array>>): Array<[string, string]> =>
  [...it].map((kv) => [hex(kv.key), hex(kv.value)])

/** The reference model: entries sorted by key. */
class Model {
  entries: Array<[Uint8Array, Uint8Array]> = []
  private find(key: Uint8Array): number {
    return this.entries.findIndex(([k]) => compareBytes(k, key) === 0)
  }
  get(key: Uint8Array): Uint8Array | undefined {
    const i = this.find(key)
    return i < 0 ? undefined : this.entries[i]![1]
  }
  put(key: Uint8Array, value: Uint8Array | null): void {
    const i = this.find(key)
    if (i >= 0) this.entries.splice(i, 1)
    if (value !== null) {
      this.entries.push([key.slice(), value.slice()])
      this.entries.sort(([x], [y]) => compareBytes(x, y))
    }
  }
  range(from: Uint8Array | undefined, to: Uint8Array | undefined): Array<[string, string]> {
    return this.entries
      .filter(
        ([k]) => (from === undefined || compareBytes(k, from) >= 0) && (to === undefined || compareBytes(k, to) <= 0)
      )
      .map(([k, v]) => [hex(k), hex(v)])
  }
  prefix(prefix: Uint8Array): Array<[string, string]> {
    return this.entries
      .filter(([k]) => k.length >= prefix.length && compareBytes(k.subarray(0, prefix.length), prefix) === 0)
      .map(([k, v]) => [hex(k), hex(v)])
  }
}

// Small alphabets make equal keys, shared prefixes and 0xff bytes likely.
const keyArb = fc.uint8Array({ maxLength: 4 }).map((k) => k.map((x) => [0, 1, 0x7f, 0x80, 0xfe, 0xff][x % 6]!))
const valueArb = fc.uint8Array({ maxLength: 6 })
type Op =
  | { readonly op: "put"; readonly key: Uint8Array; readonly value: Uint8Array | null }
  | { readonly op: "putIfAbsent"; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly op: "delete"; readonly key: Uint8Array }
  | { readonly op: "putAll"; readonly entries: Array<{ key: Uint8Array; value: Uint8Array | null }> }
  | { readonly op: "flush" }
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ op: fc.constant("put" as const), key: keyArb, value: fc.option(valueArb, { nil: null }) })
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("putIfAbsent" as const), key: keyArb, value: valueArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("delete" as const), key: keyArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("putAll" as const),
      entries: fc.array(fc.record({ key: keyArb, value: fc.option(valueArb, { nil: null }) }), { maxLength: 4 })
    })
  },
  { weight: 1, arbitrary: fc.constant({ op: "flush" as const }) }
)

/** Runs the key-value store conformance suite against the stores `factory()` opens. */
export const suite = (label: string, factory: () => KeyValueStoreFactory): void => {
  describe(`${label}: key-value store conformance`, () => {
    it("gets what was put, overwrites, deletes with a null put or delete()", () => {
      const store = factory().open("kv")
      assert.strictEqual(store.get(s("a")), undefined)
      store.put(s("a"), s("1"))
      assert.strictEqual(text(store.get(s("a"))), "1")
      store.put(s("a"), s("2"))
      assert.strictEqual(text(store.get(s("a"))), "2")
      store.put(s("a"), null)
      assert.strictEqual(store.get(s("a")), undefined)
      store.put(s("b"), s("3"))
      assert.strictEqual(text(store.delete(s("b"))), "3")
      assert.strictEqual(store.delete(s("b")), undefined)
      assert.strictEqual(store.get(s("b")), undefined)
      store.close()
    })

    it("putIfAbsent writes only absent keys and returns the existing value", () => {
      const store = factory().open("kv")
      assert.strictEqual(store.putIfAbsent(s("k"), s("first")), undefined)
      assert.strictEqual(text(store.putIfAbsent(s("k"), s("second"))), "first")
      assert.strictEqual(text(store.get(s("k"))), "first")
      store.close()
    })

    it("putAll applies entries in order, null values as tombstones", () => {
      const store = factory().open("kv")
      store.put(s("gone"), s("x"))
      store.putAll([
        { key: s("a"), value: s("1") },
        { key: s("a"), value: s("2") },
        { key: s("gone"), value: null },
        { key: s("b"), value: s("3") }
      ])
      assert.deepStrictEqual(
        [...store.all()].map((kv) => [text(kv.key), text(kv.value)]),
        [
          ["a", "2"],
          ["b", "3"]
        ]
      )
      store.close()
    })

    it("copies what it keeps: callers may reuse the arrays they passed", () => {
      const store = factory().open("kv")
      const key = s("key")
      const value = s("value")
      store.put(key, value)
      key[0] = 0x41
      value[0] = 0x41
      assert.strictEqual(text(store.get(s("key"))), "value")
      assert.strictEqual(store.get(key), undefined)
      store.flush()
      assert.strictEqual(text(store.get(s("key"))), "value")
      store.close()
    })

    it("orders keys by unsigned bytes, a prefix before its extensions; the empty key first", () => {
      const store = factory().open("kv")
      const keys = [b(0xff), b(0x80), b(0x7f), b(1, 0), b(1), b(), b(0), b(1, 0xff), b(0xff, 0xff)]
      for (const k of keys) store.put(k, b(k.length))
      const expected = ["", "00", "01", "0100", "01ff", "7f", "80", "ff", "ffff"]
      assert.deepStrictEqual(keysOf(store.all()), expected)
      assert.deepStrictEqual(keysOf(store.reverseAll()), [...expected].reverse())
      store.flush()
      assert.deepStrictEqual(keysOf(store.all()), expected)
      assert.strictEqual(hex(store.get(b())!), "00")
      store.close()
    })

    it("range includes both bounds, treats undefined as open and yields nothing for inverted bounds", () => {
      const store = factory().open("kv")
      for (const k of ["a", "b", "c", "d"]) store.put(s(k), s(k))
      const r = (from?: string, to?: string, reverse = false) =>
        [
          ...(reverse ? store.reverseRange : store.range).call(
            store,
            from === undefined ? undefined : s(from),
            to === undefined ? undefined : s(to)
          )
        ].map((kv) => text(kv.key))
      for (const flushed of [false, true]) {
        assert.deepStrictEqual(r("b", "c"), ["b", "c"], `flushed=${flushed}`)
        assert.deepStrictEqual(r("b", "c", true), ["c", "b"])
        assert.deepStrictEqual(r("bb", "cc"), ["c"])
        assert.deepStrictEqual(r(undefined, "b"), ["a", "b"])
        assert.deepStrictEqual(r("c", undefined), ["c", "d"])
        assert.deepStrictEqual(r(undefined, undefined, true), ["d", "c", "b", "a"])
        assert.deepStrictEqual(r("c", "b"), [])
        assert.deepStrictEqual(r("c", "b", true), [])
        assert.deepStrictEqual(r("b", "b"), ["b"])
        assert.deepStrictEqual(r("b", "b", true), ["b"])
        store.flush()
      }
      store.close()
    })

    it("prefixScan finds exactly the keys with the prefix, including 0xff prefixes", () => {
      const store = factory().open("kv")
      const keys = [
        b(1),
        b(1, 2),
        b(1, 0xff),
        b(2),
        b(0xff),
        b(0xff, 0),
        b(0xff, 0xff),
        b(0xff, 0xff, 1),
        b(0xfe, 0xff)
      ]
      for (const k of keys) store.put(k, b(1))
      for (const flushed of [false, true]) {
        assert.deepStrictEqual(keysOf(store.prefixScan(b(1))), ["01", "0102", "01ff"], `flushed=${flushed}`)
        assert.deepStrictEqual(keysOf(store.prefixScan(b(0xff))), ["ff", "ff00", "ffff", "ffff01"])
        assert.deepStrictEqual(keysOf(store.prefixScan(b(0xff, 0xff))), ["ffff", "ffff01"])
        assert.deepStrictEqual(keysOf(store.prefixScan(b(0xfe))), ["feff"])
        assert.deepStrictEqual(keysOf(store.prefixScan(b(3))), [])
        assert.strictEqual(keysOf(store.prefixScan(b())).length, keys.length)
        store.flush()
      }
      store.close()
    })

    it("counts its entries (exactly once flushed)", () => {
      const store = factory().open("kv")
      assert.strictEqual(store.approximateNumEntries(), 0)
      for (let i = 0; i < 50; i++) store.put(b(i), b(i))
      for (let i = 0; i < 10; i++) store.delete(b(i))
      store.flush()
      assert.strictEqual(store.approximateNumEntries(), 40)
      store.close()
    })

    it("iterators see the store as it was when iteration started", () => {
      const store = factory().open("kv")
      for (let i = 0; i < 10; i++) store.put(b(i), b(i))
      store.flush()
      store.put(b(3), b(33))
      const iter = store.all()
      const first = iter.next()
      assert.strictEqual(hex(first.value!.key), "00")
      store.put(b(5), null)
      store.put(b(2), b(22))
      store.put(b(20), b(20))
      store.flush()
      store.put(b(6), null)
      const rest = entriesOf({ [Symbol.iterator]: () => iter })
      assert.deepStrictEqual(
        rest.map(([k]) => k),
        ["01", "02", "03", "04", "05", "06", "07", "08", "09"]
      )
      assert.deepStrictEqual(rest[1], ["02", "02"])
      assert.deepStrictEqual(rest[2], ["03", "21"])
      store.close()
    })

    it("is unusable after close", () => {
      const store = factory().open("kv")
      store.put(s("a"), s("1"))
      store.close()
      assert.throws(() => store.get(s("a")), /closed/)
      assert.throws(() => store.put(s("a"), s("1")), /closed/)
      assert.throws(() => [...store.all()], /closed/)
    })

    it("keeps its data across close and reopen when persistent, starts empty otherwise", () => {
      const f = factory()
      const store = f.open("kept")
      store.put(s("flushed"), s("1"))
      store.flush()
      store.put(s("closed"), s("2"))
      store.put(s("flushed-then-deleted"), s("3"))
      store.flush()
      store.delete(s("flushed-then-deleted"))
      store.close()
      const again = f.open("kept")
      assert.strictEqual(again.persistent, f.persistent)
      const expected = f.persistent
        ? [
            ["closed", "2"],
            ["flushed", "1"]
          ]
        : []
      assert.deepStrictEqual(
        [...again.all()].map((kv) => [text(kv.key), text(kv.value)]),
        expected
      )
      again.close()
    })

    it.prop(
      "behaves like a sorted array of entries",
      [
        fc.array(opArb, { maxLength: 40 }),
        fc.array(fc.tuple(fc.option(keyArb, { nil: undefined }), fc.option(keyArb, { nil: undefined })), {
          maxLength: 4
        }),
        fc.array(keyArb, { maxLength: 3 })
      ],
      ([ops, ranges, prefixes]) => {
        const store = factory().open("model")
        const model = new Model()
        for (const op of ops) {
          switch (op.op) {
            case "put":
              store.put(op.key, op.value)
              model.put(op.key, op.value)
              break
            case "putIfAbsent": {
              const expected = model.get(op.key)
              const got = store.putIfAbsent(op.key, op.value)
              assert.strictEqual(
                got === undefined ? undefined : hex(got),
                expected === undefined ? undefined : hex(expected)
              )
              if (expected === undefined) model.put(op.key, op.value)
              break
            }
            case "delete": {
              const expected = model.get(op.key)
              const got = store.delete(op.key)
              assert.strictEqual(
                got === undefined ? undefined : hex(got),
                expected === undefined ? undefined : hex(expected)
              )
              model.put(op.key, null)
              break
            }
            case "putAll":
              store.putAll(op.entries)
              for (const e of op.entries) model.put(e.key, e.value)
              break
            case "flush":
              store.flush()
          }
        }
        assert.deepStrictEqual(entriesOf(store.all()), model.range(undefined, undefined))
        assert.deepStrictEqual(entriesOf(store.reverseAll()), model.range(undefined, undefined).reverse())
        for (const [from, to] of ranges) {
          assert.deepStrictEqual(entriesOf(store.range(from, to)), model.range(from, to))
          assert.deepStrictEqual(entriesOf(store.reverseRange(from, to)), model.range(from, to).reverse())
        }
        for (const p of prefixes) assert.deepStrictEqual(entriesOf(store.prefixScan(p)), model.prefix(p))
        for (const [k, v] of model.entries) assert.strictEqual(hex(store.get(k)!), hex(v))
        store.flush()
        assert.strictEqual(store.approximateNumEntries(), model.entries.length)
        store.close()
      },
      { fastCheck: { numRuns: 60 } }
    )
  })
}
