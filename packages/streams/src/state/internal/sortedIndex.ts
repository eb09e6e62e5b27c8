/**
 * An ordered index of items by string id, kept as a list of sorted chunks (the layout of Python's
 * sortedcontainers): insert, replace and delete cost a binary search plus a splice inside one chunk of at
 * most `2 * LOAD` items, and iteration walks the chunks lazily. Iterators are snapshots at O(1) cost:
 * while one is open, writers copy a chunk (and the chunk list) before changing it instead of changing it
 * in place, and callers replace items instead of mutating them (`hasReaders`).
 *
 * Invariants: every chunk is non-empty and strictly increasing by id; the chunks are in order;
 * `maxes[i]` is the last id of `chunks[i]`. While `readers > 0`, a chunk or chunk list reachable from an
 * open iterator is never changed: only chunks in `owned` (copied since the last iterator started) and a
 * list not `listShared` are changed in place. An iterator that is dropped unfinished without `return()`
 * keeps `readers` above zero, which only makes writes copy.
 */

const LOAD = 512

/** What the index holds: anything with an id (JavaScript's `<` order on ids is the index order). */
export interface Item {
  readonly id: string
}

/** Index of the first element of `xs` whose id (or value) is `>= x` (`xs.length` when none). */
const lowerBound = <T>(xs: ReadonlyArray<T>, x: string, idOf: (t: T) => string): number => {
  let lo = 0
  let hi = xs.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (idOf(xs[mid]!) < x) lo = mid + 1
    else hi = mid
  }
  return lo
}
const self = (s: string): string => s
const itemId = (item: Item): string => item.id

/** An ordered index of items by id. */
export class SortedIndex<E extends Item> {
  private chunks: Array<Array<E>> = []
  private maxes: Array<string> = []
  private readers = 0
  private listShared = false
  private owned = new WeakSet<Array<E>>()
  size = 0

  /** True while an iterator is open: callers must then replace items rather than mutate them. */
  get hasReaders(): boolean {
    return this.readers > 0
  }

  private list(): Array<Array<E>> {
    if (this.readers > 0 && this.listShared) {
      this.chunks = this.chunks.slice()
      this.listShared = false
    }
    return this.chunks
  }

  private chunk(ci: number): Array<E> {
    let chunk = this.chunks[ci]!
    if (this.readers > 0 && !this.owned.has(chunk)) {
      chunk = chunk.slice()
      this.owned.add(chunk)
      this.list()[ci] = chunk
    }
    return chunk
  }

  /** Adds `item`, whose id must not be in the index. */
  insert(item: E): void {
    this.size++
    if (this.chunks.length === 0) {
      const chunk = [item]
      this.owned.add(chunk)
      this.list().push(chunk)
      this.maxes.push(item.id)
      return
    }
    let ci = lowerBound(this.maxes, item.id, self)
    if (ci === this.chunks.length) ci--
    const chunk = this.chunk(ci)
    chunk.splice(lowerBound(chunk, item.id, itemId), 0, item)
    this.maxes[ci] = chunk[chunk.length - 1]!.id
    if (chunk.length > 2 * LOAD) {
      const tail = chunk.splice(LOAD)
      this.owned.add(tail)
      this.list().splice(ci + 1, 0, tail)
      this.maxes.splice(ci, 1, chunk[chunk.length - 1]!.id, tail[tail.length - 1]!.id)
    }
  }

  private locate(id: string): [number, number] | undefined {
    const ci = lowerBound(this.maxes, id, self)
    if (ci === this.chunks.length) return undefined
    const pos = lowerBound(this.chunks[ci]!, id, itemId)
    return this.chunks[ci]![pos]?.id === id ? [ci, pos] : undefined
  }

  /** Puts `item` in place of the item with the same id, which must be in the index. */
  replace(item: E): void {
    const at = this.locate(item.id)
    if (at !== undefined) this.chunk(at[0])[at[1]] = item
  }

  /** Removes the item with id `id`, if any. */
  delete(id: string): void {
    const at = this.locate(id)
    if (at === undefined) return
    const [ci, pos] = at
    this.size--
    const chunk = this.chunk(ci)
    chunk.splice(pos, 1)
    if (chunk.length === 0) {
      this.list().splice(ci, 1)
      this.maxes.splice(ci, 1)
    } else this.maxes[ci] = chunk[chunk.length - 1]!.id
  }

  /** Removes every item (open iterators keep what they saw). */
  clear(): void {
    this.chunks = []
    this.maxes = []
    this.listShared = false
    this.size = 0
  }

  /**
   * The items with ids in `[from, to]` (or `[from, to)` when `toInclusive` is false), in order or reversed;
   * an undefined bound is open. The snapshot is taken when iteration starts.
   */
  *iterate(from: string | undefined, to: string | undefined, toInclusive: boolean, reverse: boolean): Generator<E> {
    if (from !== undefined && to !== undefined && (toInclusive ? from > to : from >= to)) return
    const list = this.chunks
    if (list.length === 0) return
    this.readers++
    this.listShared = true
    this.owned = new WeakSet()
    try {
      if (!reverse) {
        let ci = from === undefined ? 0 : lowerBound(this.maxes, from, self)
        let pos = from === undefined || ci === list.length ? 0 : lowerBound(list[ci]!, from, itemId)
        for (; ci < list.length; ci++, pos = 0) {
          const chunk = list[ci]!
          for (; pos < chunk.length; pos++) {
            const item = chunk[pos]!
            if (to !== undefined && (toInclusive ? item.id > to : item.id >= to)) return
            yield item
          }
        }
      } else {
        // Start at the last item at or below `to` (below, when exclusive).
        let ci = list.length - 1
        let pos = list[ci]!.length - 1
        if (to !== undefined) {
          ci = Math.min(lowerBound(this.maxes, to, self), list.length - 1)
          const chunk = list[ci]!
          pos = lowerBound(chunk, to, itemId)
          if (toInclusive && chunk[pos]?.id === to) pos++
          pos--
        }
        for (; ci >= 0; ci--, pos = ci >= 0 ? list[ci]!.length - 1 : -1) {
          const chunk = list[ci]!
          for (; pos >= 0; pos--) {
            const item = chunk[pos]!
            if (from !== undefined && item.id < from) return
            yield item
          }
        }
      }
    } finally {
      this.readers--
    }
  }
}
