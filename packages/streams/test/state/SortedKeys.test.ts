import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { SortedKeys } from "../../src/state/internal/sortedKeys.js"

describe("SortedKeys", () => {
  it.prop(
    "keeps a sorted set through enough inserts and deletes to split and empty chunks",
    [
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3000 })), { minLength: 2000, maxLength: 6000 }),
      fc.array(
        fc.tuple(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 3000 }), fc.boolean(), fc.boolean()),
        { maxLength: 5 }
      )
    ],
    ([ops, slices]) => {
      const keys = new SortedKeys()
      const model = new Set<string>()
      const id = (n: number) => String(n).padStart(4, "0")
      for (const [insert, n] of ops) {
        if (insert && !model.has(id(n))) {
          keys.insert(id(n))
          model.add(id(n))
        } else if (!insert) {
          keys.delete(id(n))
          model.delete(id(n))
        }
      }
      const sorted = [...model].sort()
      assert.strictEqual(keys.size, sorted.length)
      assert.deepStrictEqual(keys.slice(undefined, undefined, true, false), sorted)
      for (const [from, to, inclusive, reverse] of slices) {
        const expected = sorted.filter((x) => x >= id(from) && (inclusive ? x <= id(to) : x < id(to)))
        if (reverse) expected.reverse()
        assert.deepStrictEqual(keys.slice(id(from), id(to), inclusive, reverse), expected)
      }
    },
    { fastCheck: { numRuns: 20 } }
  )
})
