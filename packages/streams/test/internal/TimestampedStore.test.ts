import { assert, describe, it } from "@effect/vitest"
import { RecordCache } from "../../src/internal/store/RecordCache.js"
import { TimestampedStore } from "../../src/internal/store/TimestampedStore.js"
import * as Serdes from "../../src/Serdes.js"
import * as InMemoryKeyValueStore from "../../src/state/InMemoryKeyValueStore.js"

const make = (cache: RecordCache | undefined) => {
  const changelog: Array<[string, number | null, number]> = []
  const forwarded: Array<[string, number | null, number | null, number]> = []
  const store = new TimestampedStore(
    "s",
    InMemoryKeyValueStore.make("s"),
    Serdes.string,
    Serdes.long,
    (k, v, ts) => changelog.push([Buffer.from(k).toString(), v === null ? null : Serdes.long.decode(v), ts]),
    cache
  )
  store.setFlushListener((k, n, o, ts) => {
    forwarded.push([k, n, o, ts])
    return undefined
  })
  return { store, changelog, forwarded }
}

describe("TimestampedStore", () => {
  it("without a cache writes through to the byte store and the changelog", () => {
    const { store, changelog, forwarded } = make(undefined)
    assert.isFalse(store.caching)
    store.put("a", 1, 10)
    store.put("a", 2, 12)
    store.put("a", null, 13)
    assert.deepStrictEqual(changelog, [
      ["a", 1, 10],
      ["a", 2, 12],
      ["a", null, 13]
    ])
    assert.deepStrictEqual(forwarded, [])
    assert.strictEqual(store.get("a"), undefined)
  })

  it("with a cache keeps one entry per key until flush, then forwards (new, old) once", () => {
    const { store, changelog, forwarded } = make(new RecordCache(1 << 20))
    store.put("a", 1, 10)
    store.put("b", 5, 11)
    store.put("a", 2, 12)
    assert.deepStrictEqual(store.get("a"), { value: 2, timestamp: 12 })
    assert.deepStrictEqual(changelog, [])
    store.flush()
    assert.deepStrictEqual(forwarded, [
      ["b", 5, null, 11],
      ["a", 2, null, 12]
    ])
    store.put("a", 3, 14)
    store.put("c", null, 15) // delete of an absent key: nothing to forward
    store.flush()
    assert.deepStrictEqual(forwarded.slice(2), [["a", 3, 2, 14]])
    assert.deepStrictEqual(changelog, [
      ["b", 5, 11],
      ["a", 2, 12],
      ["a", 3, 14]
    ])
  })

  it("a full cache evicts its least recently written entries first", () => {
    const cache = new RecordCache(3 * (1 + 16 + 64)) // three entries of a 1-byte key and a 16-byte stored value
    const { store, forwarded } = make(cache)
    store.put("a", 1, 1)
    store.put("b", 1, 2)
    store.put("c", 1, 3)
    store.put("a", 2, 4) // a is now the most recent
    assert.deepStrictEqual(forwarded, [])
    store.put("d", 1, 5)
    assert.deepStrictEqual(forwarded, [["b", 1, null, 2]])
    assert.ok(cache.bytes <= cache.maxBytes)
  })
})

describe("int64 without BigInt", () => {
  it("round-trips timestamps and Long values, negative ones too, as Kafka's big-endian int64", () => {
    for (const n of [
      0,
      1,
      -1,
      1_733_000_000_000,
      -1_733_000_000_000,
      2 ** 53 - 1,
      -(2 ** 53 - 1),
      4294967296,
      -4294967296
    ]) {
      const bytes = Serdes.long.encode(n)!
      assert.strictEqual(new DataView(bytes.buffer).getBigInt64(0), BigInt(n))
      assert.strictEqual(Serdes.long.decode(bytes), n)
    }
  })
})
