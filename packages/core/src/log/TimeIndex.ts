/**
 * A segment's sparse time index: timestamp -> offset.
 *
 * On disk (`.timeindex`), Kafka's format: 12-byte entries, big-endian `int64 timestamp` and
 * `int32 relativeOffset`. An entry `(t, o)` says: the batch starting at `o` holds the largest timestamp
 * seen so far in the segment, `t`. Timestamps strictly increase from one entry to the next, so every
 * record before the end of that batch has a timestamp <= t. Entries are added together with offset
 * index entries (and once more when the segment stops being active).
 */

/** Size of one entry on disk. */
export const ENTRY_SIZE = 12

/** One time index entry, in absolute offsets. */
export interface TimestampOffset {
  readonly timestamp: number
  readonly offset: number
}

/** A sparse time index, growable up to `maxEntries`. */
export class TimeIndex {
  private ts: Float64Array
  private rel: Int32Array
  private count = 0

  constructor(
    readonly baseOffset: number,
    readonly maxEntries: number
  ) {
    this.ts = new Float64Array(Math.min(64, Math.max(1, maxEntries)))
    this.rel = new Int32Array(this.ts.length)
  }

  /** Number of entries. */
  get entries(): number {
    return this.count
  }

  /** True when no entry can be added (the segment must roll). */
  get isFull(): boolean {
    return this.count >= this.maxEntries
  }

  /** The last entry, if any. */
  get lastEntry(): TimestampOffset | undefined {
    return this.count === 0 ? undefined : this.entry(this.count - 1)
  }

  /** Entry `i`. */
  entry(i: number): TimestampOffset {
    return { timestamp: this.ts[i]!, offset: this.baseOffset + this.rel[i]! }
  }

  /** Adds an entry when `timestamp` is larger than the last one (and offsets do not go back); returns whether it did. */
  maybeAppend(timestamp: number, offset: number): boolean {
    if (this.isFull || timestamp < 0) return false
    const r = offset - this.baseOffset
    if (this.count > 0 && (timestamp <= this.ts[this.count - 1]! || r < this.rel[this.count - 1]!)) return false
    if (this.count === this.ts.length) {
      const n = Math.min(this.maxEntries, this.ts.length * 2)
      const ts = new Float64Array(n)
      const rel = new Int32Array(n)
      ts.set(this.ts)
      rel.set(this.rel)
      this.ts = ts
      this.rel = rel
    }
    this.ts[this.count] = timestamp
    this.rel[this.count] = r
    this.count++
    return true
  }

  /**
   * The last entry whose timestamp is < `timestamp`: every record up to the end of its batch is older
   * than `timestamp`, so a search for the first record at or after `timestamp` may start at that batch.
   */
  lookupBefore(timestamp: number): TimestampOffset | undefined {
    let lo = 0
    let hi = this.count - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (this.ts[mid]! < timestamp) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    return found < 0 ? undefined : this.entry(found)
  }

  /** Removes every entry whose offset is >= `offset`. */
  truncateTo(offset: number): void {
    const r = offset - this.baseOffset
    while (this.count > 0 && this.rel[this.count - 1]! >= r) this.count--
  }

  /** Removes all entries. */
  reset(): void {
    this.count = 0
  }

  /** Entries `[from, entries)` in the on-disk format. */
  encode(from = 0): Buffer {
    const out = Buffer.allocUnsafe((this.count - from) * ENTRY_SIZE)
    for (let i = from, p = 0; i < this.count; i++, p += ENTRY_SIZE) {
      out.writeBigInt64BE(BigInt(this.ts[i]!), p)
      out.writeInt32BE(this.rel[i]!, p + 8)
    }
    return out
  }

  /** Parses and checks a time index file; undefined when it is not valid (the caller rebuilds it). */
  static decode(bytes: Uint8Array, baseOffset: number, maxEntries: number, maxOffset: number): TimeIndex | undefined {
    if (bytes.byteLength % ENTRY_SIZE !== 0) return undefined
    const n = bytes.byteLength / ENTRY_SIZE
    const index = new TimeIndex(baseOffset, Math.max(maxEntries, n))
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    for (let i = 0; i < n; i++) {
      const t = view.getBigInt64(i * ENTRY_SIZE)
      const rel = view.getInt32(i * ENTRY_SIZE + 8)
      if (t < 0n || t > BigInt(Number.MAX_SAFE_INTEGER) || rel < 0 || baseOffset + rel > maxOffset) return undefined
      if (!index.maybeAppend(Number(t), baseOffset + rel)) return undefined
    }
    return index
  }
}
