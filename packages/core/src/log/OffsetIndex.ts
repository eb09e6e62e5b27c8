/**
 * A segment's sparse offset index: offset -> file position of the batch starting at that offset.
 *
 * On disk (`.index`), Kafka's format: 8-byte entries, big-endian `int32 relativeOffset` (offset minus
 * the segment's base offset) and `int32 position`. An entry is added every `index.interval.bytes` of
 * batches; a lookup finds the last entry at or below an offset, and the reader scans forward from its
 * position. This module is the in-memory structure and its (de)serialization; the segment does the I/O.
 */

/** Size of one entry on disk. */
export const ENTRY_SIZE = 8

/** One index entry, in absolute offsets. */
export interface OffsetPosition {
  readonly offset: number
  readonly position: number
}

/** A sparse offset index, growable up to `maxEntries`. */
export class OffsetIndex {
  private rel: Int32Array
  private pos: Int32Array
  private count = 0

  constructor(
    readonly baseOffset: number,
    readonly maxEntries: number
  ) {
    this.rel = new Int32Array(Math.min(64, Math.max(1, maxEntries)))
    this.pos = new Int32Array(this.rel.length)
  }

  /** Number of entries. */
  get entries(): number {
    return this.count
  }

  /** True when no entry can be added (the segment must roll). */
  get isFull(): boolean {
    return this.count >= this.maxEntries
  }

  /** The last entry, or the segment start when empty. */
  get lastEntry(): OffsetPosition {
    return this.count === 0 ? { offset: this.baseOffset, position: 0 } : this.entry(this.count - 1)
  }

  /** Entry `i`. */
  entry(i: number): OffsetPosition {
    return { offset: this.baseOffset + this.rel[i]!, position: this.pos[i]! }
  }

  /** Adds an entry; offsets and positions must increase. Returns false when full or out of order. */
  append(offset: number, position: number): boolean {
    if (this.isFull) return false
    const r = offset - this.baseOffset
    if (this.count > 0 && (r <= this.rel[this.count - 1]! || position <= this.pos[this.count - 1]!)) return false
    if (this.count === this.rel.length) {
      const n = Math.min(this.maxEntries, this.rel.length * 2)
      const rel = new Int32Array(n)
      const pos = new Int32Array(n)
      rel.set(this.rel)
      pos.set(this.pos)
      this.rel = rel
      this.pos = pos
    }
    this.rel[this.count] = r
    this.pos[this.count] = position
    this.count++
    return true
  }

  /** The last entry whose offset is <= `offset`, or the segment start when none. */
  lookup(offset: number): OffsetPosition {
    const r = offset - this.baseOffset
    let lo = 0
    let hi = this.count - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (this.rel[mid]! <= r) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    return found < 0 ? { offset: this.baseOffset, position: 0 } : this.entry(found)
  }

  /** Removes every entry whose offset is >= `offset`. */
  truncateTo(offset: number): void {
    const r = offset - this.baseOffset
    while (this.count > 0 && this.rel[this.count - 1]! >= r) this.count--
  }

  /** Removes every entry whose position is >= `position`. */
  truncateToPosition(position: number): void {
    while (this.count > 0 && this.pos[this.count - 1]! >= position) this.count--
  }

  /** Removes all entries. */
  reset(): void {
    this.count = 0
  }

  /** Entries `[from, entries)` in the on-disk format. */
  encode(from = 0): Buffer {
    const out = Buffer.allocUnsafe((this.count - from) * ENTRY_SIZE)
    for (let i = from, p = 0; i < this.count; i++, p += ENTRY_SIZE) {
      out.writeInt32BE(this.rel[i]!, p)
      out.writeInt32BE(this.pos[i]!, p + 4)
    }
    return out
  }

  /**
   * Parses an index file and checks it: whole entries, offsets and positions strictly increasing,
   * positions inside the log. Returns undefined when the file is not a valid index (the caller rebuilds it).
   */
  static decode(bytes: Uint8Array, baseOffset: number, maxEntries: number, logSize: number): OffsetIndex | undefined {
    if (bytes.byteLength % ENTRY_SIZE !== 0) return undefined
    const n = bytes.byteLength / ENTRY_SIZE
    const index = new OffsetIndex(baseOffset, Math.max(maxEntries, n))
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    for (let i = 0; i < n; i++) {
      const rel = view.getInt32(i * ENTRY_SIZE)
      const position = view.getInt32(i * ENTRY_SIZE + 4)
      if (rel < 0 || position < 0 || position >= logSize) return undefined
      // a zero entry after the first is the mark of a preallocated or torn file
      if (!index.append(baseOffset + rel, position)) return undefined
    }
    return index
  }
}
