/**
 * Time segments over one ordered byte-level key-value store, shared by the window and session stores:
 * every stored key is an 8-byte big-endian segment id (record time / segment interval) followed by the
 * record's Kafka changelog key, so a segment is one contiguous key range and expiring a segment deletes
 * that range. Numbers the store must keep across restarts (observed stream time, a window store's
 * duplicate counter) live under keys behind eight 0xff bytes, which no segment id reaches.
 *
 * Invariants: `observedStreamTime` only grows; a record time `t` is live while
 * `t > observedStreamTime - retentionPeriod`; every segment below `droppedBelow` holds no keys. A persistent
 * inner store also keeps the metadata numbers (written on flush and close), so expiry resumes where it
 * stopped after a reopen. Segment ids of safe-integer times never reach the metadata prefix.
 */
import { compareBytes, type KeyValueBytesStore } from "../KeyValueStore.js"
import { throwClosed } from "../StoreError.js"
import { readInt64, writeInt64 } from "./bytes.js"

const metaKey = (name: string): Uint8Array =>
  Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...Buffer.from(name)])

/** The largest byte form of a safe-integer timestamp. */
const MAX_TIME = Uint8Array.from([0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])

/** The largest suffix (time fields) of a changelog key: `times` timestamps then `extra` 0xff bytes. */
export const maxSuffix = (times: number, extra: number): Uint8Array => {
  const out = new Uint8Array(times * 8 + extra).fill(0xff)
  for (let i = 0; i < times; i++) out.set(MAX_TIME, i * 8)
  return out
}

/**
 * An upper bound of the changelog keys (`key + suffix`) of every key `<= keyTo`: the largest of
 * `prefix + suffixMax` over the prefixes of `keyTo` (a proper prefix of `keyTo` is a smaller key whose
 * changelog keys may still sort after `keyTo`'s).
 */
export const upperBoundOf = (keyTo: Uint8Array, suffixMax: Uint8Array): Uint8Array => {
  let best: Uint8Array | undefined
  for (let j = 0; j <= keyTo.length; j++) {
    const candidate = new Uint8Array(j + suffixMax.length)
    candidate.set(keyTo.subarray(0, j), 0)
    candidate.set(suffixMax, j)
    if (best === undefined || compareBytes(candidate, best) > 0) best = candidate
  }
  return best!
}

/** Segments of one inner store. */
export class Segments {
  observedStreamTime = -1
  private droppedBelow = 0
  private readonly dirty = new Map<string, number>()
  closed = false

  constructor(
    readonly inner: KeyValueBytesStore,
    readonly retentionPeriod: number,
    readonly segmentInterval: number
  ) {
    this.observedStreamTime = this.meta("observedStreamTime") ?? -1
  }

  /** A metadata number a persistent inner store kept, if any. */
  meta(name: string): number | undefined {
    if (!this.inner.persistent) return undefined
    const bytes = this.inner.get(metaKey(name))
    return bytes === undefined ? undefined : readInt64(bytes, 0)
  }

  /** Sets a metadata number, written to a persistent inner store on the next flush or close. */
  setMeta(name: string, value: number): void {
    if (this.inner.persistent) this.dirty.set(name, value)
  }

  check(): void {
    if (this.closed) throwClosed(this.inner.name)
  }

  /** The earliest live record time. */
  minLiveTime(): number {
    return this.observedStreamTime - this.retentionPeriod + 1
  }

  segmentId(time: number): number {
    return Math.floor(time / this.segmentInterval)
  }

  /** Advances stream time to `time`; false when a record at `time` has expired. Drops expired segments. */
  observe(time: number): boolean {
    this.check()
    if (time > this.observedStreamTime) {
      this.observedStreamTime = time
      this.setMeta("observedStreamTime", time)
    }
    const minLive = this.minLiveTime()
    if (time < minLive) return false
    const minSegment = this.segmentId(Math.max(0, minLive))
    if (minSegment > this.droppedBelow) {
      this.dropBelow(minSegment)
      this.droppedBelow = minSegment
    }
    return true
  }

  private dropBelow(segment: number): void {
    const doomed: Array<Uint8Array> = []
    for (const kv of this.inner.range(undefined, this.prefix(segment))) doomed.push(kv.key)
    for (const key of doomed) this.inner.put(key, null)
  }

  /**
   * The ids of the non-empty live segments that may hold times in `[from, to]`, in order (reversed when
   * `reverse`). Each next id is found by one seek in the inner store, so empty segments cost nothing (a
   * long retention with a short segment interval would otherwise mean millions of empty scans).
   */
  *segmentsFor(from: number, to: number, reverse: boolean): Generator<number> {
    const lo = Math.max(from, this.minLiveTime(), 0)
    const hi = Math.min(to, this.observedStreamTime)
    if (lo > hi) return
    const first = this.segmentId(lo)
    const last = this.segmentId(hi)
    // A bare segment prefix is never a stored key, so prefixes bound segments inclusively.
    let segment = reverse ? last : first
    while (reverse ? segment >= first : segment <= last) {
      const found = this.firstKey(
        reverse
          ? this.inner.reverseRange(this.prefix(first), this.prefix(segment + 1))
          : this.inner.range(this.prefix(segment), this.prefix(last + 1))
      )
      if (found === undefined) return
      const id = readInt64(found, 0)
      yield id
      segment = reverse ? id - 1 : id + 1
    }
  }

  private firstKey(entries: IterableIterator<{ readonly key: Uint8Array }>): Uint8Array | undefined {
    for (const kv of entries) return kv.key
    return undefined
  }

  /** The 8-byte prefix of `segment`. */
  prefix(segment: number): Uint8Array {
    const out = new Uint8Array(8)
    writeInt64(out, 0, segment)
    return out
  }

  /** The inner key of a changelog key in `segment`: the segment prefix, then the changelog key. */
  storeKey(segment: number, changelogKey: Uint8Array): Uint8Array {
    const out = new Uint8Array(8 + changelogKey.length)
    writeInt64(out, 0, segment)
    out.set(changelogKey, 8)
    return out
  }

  private saveMeta(): void {
    for (const [name, value] of this.dirty) {
      const bytes = new Uint8Array(8)
      writeInt64(bytes, 0, value)
      this.inner.put(metaKey(name), bytes)
    }
    this.dirty.clear()
  }

  flush(): void {
    this.check()
    this.saveMeta()
    this.inner.flush()
  }

  close(): void {
    if (this.closed) return
    this.saveMeta()
    this.closed = true
    this.inner.close()
  }
}
