/**
 * The window store on segments of an ordered byte-level key-value store (in memory or persistent); see
 * WindowStore.ts for the contract. Inner key: segment id (of the window start), then Kafka's binary window
 * key (key, start, seqnum).
 *
 * Invariants: `seqnum` is 0 without `retainDuplicates`; with it, it is incremented (31 bits, wrapping)
 * before every non-null put, as Kafka numbers duplicates, and never restarts below a number already used:
 * a persistent store keeps it across reopen and `restore` raises it to the restored records' numbers (else
 * a duplicate put after a restart would overwrite an older one with the same key, time and number).
 */
import type { KeyValue, KeyValueBytesStore } from "../KeyValueStore.js"
import { compareBytes } from "../KeyValueStore.js"
import { type WindowBytesStore, type Windowed, windowKeyFromBinary, windowKeyToBinary } from "../WindowStore.js"
import { equalAt, readInt64, writeInt32, writeInt64 } from "./bytes.js"
import { maxSuffix, Segments, upperBoundOf } from "./segments.js"

/** How a window store keeps its windows. */
export interface WindowStoreOptions {
  readonly retentionPeriod: number
  readonly windowSize: number
  readonly segmentInterval: number
  readonly retainDuplicates: boolean
}

const SUFFIX = 12
const MAX_SUFFIX = maxSuffix(1, 4)
const MAX_TIME = Number.MAX_SAFE_INTEGER

/** A window store over `inner`, which it owns (closing the window store closes it). */
export const make = (inner: KeyValueBytesStore, options: WindowStoreOptions): WindowBytesStore =>
  new SegmentedWindowStore(inner, options)

type Windows = IterableIterator<KeyValue<Windowed<Uint8Array>, Uint8Array>>

class SegmentedWindowStore implements WindowBytesStore {
  readonly name: string
  readonly persistent: boolean
  readonly retentionPeriod: number
  readonly windowSize: number
  readonly segmentInterval: number
  readonly retainDuplicates: boolean
  private readonly segments: Segments
  private seqnum = 0

  constructor(
    private readonly inner: KeyValueBytesStore,
    options: WindowStoreOptions
  ) {
    this.name = inner.name
    this.persistent = inner.persistent
    this.retentionPeriod = options.retentionPeriod
    this.windowSize = options.windowSize
    this.segmentInterval = options.segmentInterval
    this.retainDuplicates = options.retainDuplicates
    this.segments = new Segments(inner, options.retentionPeriod, options.segmentInterval)
    if (this.retainDuplicates) this.seqnum = this.segments.meta("seqnum") ?? 0
  }

  get observedStreamTime(): number {
    return this.segments.observedStreamTime
  }

  put(key: Uint8Array, value: Uint8Array | null, windowStartTimestamp: number): Uint8Array | undefined {
    if (!this.segments.observe(windowStartTimestamp)) return undefined
    if (this.retainDuplicates) {
      if (value === null) return undefined
      this.seqnum = (this.seqnum + 1) & 0x7fffffff
      this.segments.setMeta("seqnum", this.seqnum)
    }
    const storeKey = this.storeKey(key, windowStartTimestamp, this.retainDuplicates ? this.seqnum : 0)
    this.inner.put(storeKey, value)
    return storeKey.subarray(8)
  }

  restore(changelogKey: Uint8Array, value: Uint8Array | null): void {
    const { windowStart, seqnum } = windowKeyFromBinary(changelogKey)
    if (this.retainDuplicates && seqnum > this.seqnum) {
      this.seqnum = seqnum
      this.segments.setMeta("seqnum", seqnum)
    }
    if (!this.segments.observe(windowStart)) return
    this.inner.put(this.segments.storeKey(this.segments.segmentId(windowStart), changelogKey), value)
  }

  fetch(key: Uint8Array, time: number): Uint8Array | undefined
  fetch(key: Uint8Array, timeFrom: number, timeTo: number): IterableIterator<KeyValue<number, Uint8Array>>
  fetch(
    keyFrom: Uint8Array | undefined,
    keyTo: Uint8Array | undefined,
    timeFrom: number,
    timeTo: number
  ): IterableIterator<KeyValue<Windowed<Uint8Array>, Uint8Array>>
  fetch(
    a: Uint8Array | undefined,
    b: number | Uint8Array | undefined,
    c?: number,
    d?: number
  ): Uint8Array | undefined | IterableIterator<KeyValue<number, Uint8Array>> | Windows {
    if (typeof b === "number" && c === undefined) return this.fetchOne(a!, b)
    if (typeof b === "number") return this.fetchKey(a!, b, c!, false)
    return this.fetchRange(a, b, c!, d!, false)
  }

  backwardFetch(key: Uint8Array, timeFrom: number, timeTo: number): IterableIterator<KeyValue<number, Uint8Array>>
  backwardFetch(
    keyFrom: Uint8Array | undefined,
    keyTo: Uint8Array | undefined,
    timeFrom: number,
    timeTo: number
  ): IterableIterator<KeyValue<Windowed<Uint8Array>, Uint8Array>>
  backwardFetch(
    a: Uint8Array | undefined,
    b: number | Uint8Array | undefined,
    c: number,
    d?: number
  ): IterableIterator<KeyValue<number, Uint8Array>> | Windows {
    if (typeof b === "number") return this.fetchKey(a!, b, c, true)
    return this.fetchRange(a, b, c, d!, true)
  }

  fetchAll(timeFrom: number, timeTo: number) {
    return this.fetchRange(undefined, undefined, timeFrom, timeTo, false)
  }

  backwardFetchAll(timeFrom: number, timeTo: number) {
    return this.fetchRange(undefined, undefined, timeFrom, timeTo, true)
  }

  all() {
    return this.fetchRange(undefined, undefined, 0, MAX_TIME, false)
  }

  backwardAll() {
    return this.fetchRange(undefined, undefined, 0, MAX_TIME, true)
  }

  /** The inner key of a window in one allocation: segment id, key, window start, seqnum. */
  private storeKey(key: Uint8Array, windowStart: number, seqnum: number): Uint8Array {
    const out = new Uint8Array(8 + key.length + SUFFIX)
    writeInt64(out, 0, this.segments.segmentId(windowStart))
    out.set(key, 8)
    writeInt64(out, 8 + key.length, windowStart)
    writeInt32(out, 16 + key.length, seqnum)
    return out
  }

  private fetchOne(key: Uint8Array, time: number): Uint8Array | undefined {
    this.segments.check()
    if (time < this.segments.minLiveTime()) return undefined
    if (this.retainDuplicates) {
      for (const kv of this.fetchKey(key, time, time, false)) return kv.value
      return undefined
    }
    return this.inner.get(this.storeKey(key, time, 0))
  }

  private *fetchKey(
    key: Uint8Array,
    timeFrom: number,
    timeTo: number,
    reverse: boolean
  ): IterableIterator<KeyValue<number, Uint8Array>> {
    this.segments.check()
    const from = Math.max(timeFrom, this.segments.minLiveTime(), 0)
    const to = Math.min(timeTo, MAX_TIME)
    const low = windowKeyToBinary(key, from, 0)
    const high = windowKeyToBinary(key, to, -1)
    const length = 8 + key.length + SUFFIX
    for (const segment of this.segments.segmentsFor(from, to, reverse)) {
      const lo = this.segments.storeKey(segment, low)
      const hi = this.segments.storeKey(segment, high)
      for (const kv of reverse ? this.inner.reverseRange(lo, hi) : this.inner.range(lo, hi)) {
        if (kv.key.length !== length || !equalAt(kv.key, 8, key)) continue
        const start = readInt64(kv.key, 8 + key.length)
        if (start >= from && start <= to) yield { key: start, value: kv.value }
      }
    }
  }

  private *fetchRange(
    keyFrom: Uint8Array | undefined,
    keyTo: Uint8Array | undefined,
    timeFrom: number,
    timeTo: number,
    reverse: boolean
  ): IterableIterator<KeyValue<Windowed<Uint8Array>, Uint8Array>> {
    this.segments.check()
    if (keyFrom !== undefined && keyTo !== undefined && compareBytes(keyFrom, keyTo) > 0) return
    const from = Math.max(timeFrom, this.segments.minLiveTime(), 0)
    const to = Math.min(timeTo, MAX_TIME)
    const high = keyTo === undefined ? undefined : upperBoundOf(keyTo, MAX_SUFFIX)
    for (const segment of this.segments.segmentsFor(from, to, reverse)) {
      // The next segment's bare prefix is never a stored key, so it bounds this segment inclusively.
      const lo = this.segments.storeKey(segment, keyFrom ?? new Uint8Array(0))
      const hi = high === undefined ? this.segments.prefix(segment + 1) : this.segments.storeKey(segment, high)
      const entries = reverse ? this.inner.reverseRange(lo, hi) : this.inner.range(lo, hi)
      for (const kv of entries) {
        const { key, windowStart } = windowKeyFromBinary(kv.key.subarray(8))
        if (windowStart < from || windowStart > to) continue
        if (keyFrom !== undefined && compareBytes(key, keyFrom) < 0) continue
        if (keyTo !== undefined && compareBytes(key, keyTo) > 0) continue
        yield { key: { key, window: { start: windowStart, end: windowStart + this.windowSize } }, value: kv.value }
      }
    }
  }

  flush(): void {
    this.segments.flush()
  }

  close(): void {
    this.segments.close()
  }
}
