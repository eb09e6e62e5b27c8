/**
 * An ordered set of strings kept as a list of sorted chunks (the layout of Python's sortedcontainers):
 * insert and delete cost a binary search plus a splice inside one chunk of at most `2 * LOAD` strings, and
 * ordered reads walk the chunks. It replaces re-sorting every key after each insertion, which made a
 * range query after an insert O(n log n).
 *
 * Invariants: every chunk is non-empty and strictly increasing; the chunks are in order (the last string
 * of a chunk is below the first of the next); `maxes[i]` is the last string of `chunks[i]`.
 */

const LOAD = 512

/** Index of the first element of `xs` that is `>= x` (`xs.length` when none). */
const lowerBound = (xs: ReadonlyArray<string>, x: string): number => {
  let lo = 0
  let hi = xs.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (xs[mid]! < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** An ordered set of strings (JavaScript's `<` order, which is the byte order of latin1 strings). */
export class SortedKeys {
  private chunks: Array<Array<string>> = []
  private maxes: Array<string> = []
  size = 0

  /** Adds `id`, which must not be in the set. */
  insert(id: string): void {
    this.size++
    if (this.chunks.length === 0) {
      this.chunks.push([id])
      this.maxes.push(id)
      return
    }
    let ci = lowerBound(this.maxes, id)
    if (ci === this.chunks.length) ci--
    const chunk = this.chunks[ci]!
    chunk.splice(lowerBound(chunk, id), 0, id)
    this.maxes[ci] = chunk[chunk.length - 1]!
    if (chunk.length > 2 * LOAD) {
      const tail = chunk.splice(LOAD)
      this.chunks.splice(ci + 1, 0, tail)
      this.maxes.splice(ci, 1, chunk[chunk.length - 1]!, tail[tail.length - 1]!)
    }
  }

  /** Removes `id` if it is in the set. */
  delete(id: string): void {
    const ci = lowerBound(this.maxes, id)
    if (ci === this.chunks.length) return
    const chunk = this.chunks[ci]!
    const pos = lowerBound(chunk, id)
    if (chunk[pos] !== id) return
    this.size--
    chunk.splice(pos, 1)
    if (chunk.length === 0) {
      this.chunks.splice(ci, 1)
      this.maxes.splice(ci, 1)
    } else this.maxes[ci] = chunk[chunk.length - 1]!
  }

  /**
   * The ids in `[from, to]` (or `[from, to)` when `toInclusive` is false) in order, reversed when `reverse`;
   * an undefined bound is open. The result is a fresh array (a snapshot).
   */
  slice(from: string | undefined, to: string | undefined, toInclusive: boolean, reverse: boolean): Array<string> {
    const out: Array<string> = []
    if (from !== undefined && to !== undefined && (toInclusive ? from > to : from >= to)) return out
    let ci = from === undefined ? 0 : lowerBound(this.maxes, from)
    let pos = from === undefined || ci === this.chunks.length ? 0 : lowerBound(this.chunks[ci]!, from)
    for (; ci < this.chunks.length; ci++, pos = 0) {
      const chunk = this.chunks[ci]!
      for (; pos < chunk.length; pos++) {
        const id = chunk[pos]!
        if (to !== undefined && (toInclusive ? id > to : id >= to)) {
          if (reverse) out.reverse()
          return out
        }
        out.push(id)
      }
    }
    if (reverse) out.reverse()
    return out
  }

  /** Removes every id. */
  clear(): void {
    this.chunks = []
    this.maxes = []
    this.size = 0
  }
}
