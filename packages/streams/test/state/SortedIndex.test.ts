import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { SortedIndex } from "../../src/state/internal/sortedIndex.js"

interface Item {
  readonly id: string
  readonly n: number
}
const id = (n: number): string => String(n).padStart(4, "0")
const opsArb = fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3000 })), { minLength: 1500, maxLength: 5000 })

/** Applies `ops` (insert or replace when true, delete when false) to both the index and the model. */
const apply = (
  index: SortedIndex<Item>,
  model: Map<string, Item>,
  ops: ReadonlyArray<[boolean, number]>,
  tag: number
) => {
  for (const [insert, n] of ops) {
    const item = { id: id(n), n: tag }
    if (insert && model.has(item.id)) index.replace(item)
    else if (insert) index.insert(item)
    else index.delete(item.id)
    if (insert) model.set(item.id, item)
    else model.delete(item.id)
  }
}

const expected = (model: Map<string, Item>, from: string, to: string, inclusive: boolean, reverse: boolean) => {
  const items = [...model.values()]
    .filter((x) => x.id >= from && (inclusive ? x.id <= to : x.id < to))
    .sort((a, b) => (a.id < b.id ? -1 : 1))
  return reverse ? items.reverse() : items
}

describe("SortedIndex", () => {
  it.prop(
    "keeps a sorted set through enough inserts, replaces and deletes to split and empty chunks",
    [opsArb, fc.array(fc.tuple(fc.nat(3000), fc.nat(3000), fc.boolean(), fc.boolean()), { maxLength: 6 })],
    ([ops, slices]) => {
      const index = new SortedIndex<Item>()
      const model = new Map<string, Item>()
      apply(index, model, ops, 1)
      assert.strictEqual(index.size, model.size)
      assert.deepStrictEqual(
        [...index.iterate(undefined, undefined, true, false)],
        expected(model, "", "9999", true, false)
      )
      assert.deepStrictEqual(
        [...index.iterate(undefined, undefined, true, true)],
        expected(model, "", "9999", true, true)
      )
      for (const [from, to, inclusive, reverse] of slices) {
        assert.deepStrictEqual(
          [...index.iterate(id(from), id(to), inclusive, reverse)],
          expected(model, id(from), id(to), inclusive, reverse)
        )
      }
    },
    { fastCheck: { numRuns: 20 } }
  )

  it.prop(
    "an open iterator keeps the snapshot it started with while writes go on",
    [opsArb, opsArb, fc.nat(3000), fc.boolean()],
    ([before, during, from, reverse]) => {
      const index = new SortedIndex<Item>()
      const model = new Map<string, Item>()
      apply(index, model, before, 1)
      const snapshot = expected(model, reverse ? "" : id(from), reverse ? id(from) : "9999", true, reverse)
      const iter = reverse
        ? index.iterate(undefined, id(from), true, true)
        : index.iterate(id(from), undefined, true, false)
      const seen: Array<Item> = []
      const first = iter.next()
      if (!first.done) seen.push(first.value)
      apply(index, model, during.slice(0, during.length / 2), 2)
      for (const item of { [Symbol.iterator]: () => iter }) {
        seen.push(item)
        if (seen.length === 3) apply(index, model, during.slice(during.length / 2), 3)
      }
      assert.deepStrictEqual(seen, snapshot)
      assert.deepStrictEqual(
        [...index.iterate(undefined, undefined, true, false)],
        expected(model, "", "9999", true, false)
      )
      assert.isFalse(index.hasReaders)
    },
    { fastCheck: { numRuns: 20 } }
  )
})
