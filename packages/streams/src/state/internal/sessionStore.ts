/**
 * The session store on segments of an ordered byte-level key-value store (in memory or persistent); see
 * SessionStore.ts for the contract. Inner key: segment id (of the session end), then Kafka's binary
 * session key (key, end, start).
 */
import type { KeyValue, KeyValueBytesStore } from "../KeyValueStore.js"
import { compareBytes } from "../KeyValueStore.js"
import { type SessionBytesStore, sessionKeyFromBinary, sessionKeyToBinary } from "../SessionStore.js"
import type { Windowed } from "../WindowStore.js"
import { equalAt, readInt64 } from "./bytes.js"
import { maxSuffix, Segments, upperBoundOf } from "./segments.js"

/** How a session store keeps its sessions. */
export interface SessionStoreOptions {
  readonly retentionPeriod: number
  readonly segmentInterval: number
}

const SUFFIX = 16
const MAX_SUFFIX = maxSuffix(2, 0)
const MAX_TIME = Number.MAX_SAFE_INTEGER

/** A session store over `inner`, which it owns (closing the session store closes it). */
export const make = (inner: KeyValueBytesStore, options: SessionStoreOptions): SessionBytesStore =>
  new SegmentedSessionStore(inner, options)

type Sessions = IterableIterator<KeyValue<Windowed<Uint8Array>, Uint8Array>>

class SegmentedSessionStore implements SessionBytesStore {
  readonly name: string
  readonly persistent: boolean
  readonly retentionPeriod: number
  readonly segmentInterval: number
  private readonly segments: Segments

  constructor(
    private readonly inner: KeyValueBytesStore,
    options: SessionStoreOptions
  ) {
    this.name = inner.name
    this.persistent = inner.persistent
    this.retentionPeriod = options.retentionPeriod
    this.segmentInterval = options.segmentInterval
    this.segments = new Segments(inner, options.retentionPeriod, options.segmentInterval)
  }

  get observedStreamTime(): number {
    return this.segments.observedStreamTime
  }

  put(sessionKey: Windowed<Uint8Array>, value: Uint8Array | null): Uint8Array | undefined {
    const end = sessionKey.window.end
    if (!this.segments.observe(end)) return undefined
    const changelogKey = sessionKeyToBinary(sessionKey)
    this.inner.put(this.segments.storeKey(this.segments.segmentId(end), changelogKey), value)
    return changelogKey
  }

  remove(sessionKey: Windowed<Uint8Array>): void {
    this.put(sessionKey, null)
  }

  restore(changelogKey: Uint8Array, value: Uint8Array | null): void {
    const end = sessionKeyFromBinary(changelogKey).window.end
    if (!this.segments.observe(end)) return
    this.inner.put(this.segments.storeKey(this.segments.segmentId(end), changelogKey), value)
  }

  fetchSession(key: Uint8Array, sessionStartTime: number, sessionEndTime: number): Uint8Array | undefined {
    this.segments.check()
    if (sessionEndTime < this.segments.minLiveTime()) return undefined
    const changelogKey = sessionKeyToBinary({ key, window: { start: sessionStartTime, end: sessionEndTime } })
    return this.inner.get(this.segments.storeKey(this.segments.segmentId(sessionEndTime), changelogKey))
  }

  findSessions(key: Uint8Array, earliestSessionEndTime: number, latestSessionStartTime: number): Sessions
  findSessions(
    keyFrom: Uint8Array | undefined,
    keyTo: Uint8Array | undefined,
    earliestSessionEndTime: number,
    latestSessionStartTime: number
  ): Sessions
  findSessions(a: Uint8Array | undefined, b: number | Uint8Array | undefined, c: number, d?: number): Sessions {
    return typeof b === "number" ? this.findKey(a!, b, c, false) : this.findRange(a, b, c, d!, false)
  }

  backwardFindSessions(key: Uint8Array, earliestSessionEndTime: number, latestSessionStartTime: number): Sessions
  backwardFindSessions(
    keyFrom: Uint8Array | undefined,
    keyTo: Uint8Array | undefined,
    earliestSessionEndTime: number,
    latestSessionStartTime: number
  ): Sessions
  backwardFindSessions(a: Uint8Array | undefined, b: number | Uint8Array | undefined, c: number, d?: number): Sessions {
    return typeof b === "number" ? this.findKey(a!, b, c, true) : this.findRange(a, b, c, d!, true)
  }

  fetch(key: Uint8Array): Sessions
  fetch(keyFrom: Uint8Array | undefined, keyTo: Uint8Array | undefined): Sessions
  fetch(...args: [Uint8Array] | [Uint8Array | undefined, Uint8Array | undefined]): Sessions {
    return args.length === 1
      ? this.findKey(args[0], 0, MAX_TIME, false)
      : this.findRange(args[0], args[1], 0, MAX_TIME, false)
  }

  backwardFetch(key: Uint8Array): Sessions
  backwardFetch(keyFrom: Uint8Array | undefined, keyTo: Uint8Array | undefined): Sessions
  backwardFetch(...args: [Uint8Array] | [Uint8Array | undefined, Uint8Array | undefined]): Sessions {
    return args.length === 1
      ? this.findKey(args[0], 0, MAX_TIME, true)
      : this.findRange(args[0], args[1], 0, MAX_TIME, true)
  }

  private *findKey(key: Uint8Array, earliestEnd: number, latestStart: number, reverse: boolean): Sessions {
    this.segments.check()
    const from = Math.max(earliestEnd, this.segments.minLiveTime(), 0)
    const low = sessionKeyToBinary({ key, window: { start: 0, end: from } })
    const high = new Uint8Array(key.length + SUFFIX)
    high.set(key, 0)
    high.set(MAX_SUFFIX, key.length)
    const length = 8 + key.length + SUFFIX
    for (const segment of this.segments.segmentsFor(from, MAX_TIME, reverse)) {
      const lo = this.segments.storeKey(segment, low)
      const hi = this.segments.storeKey(segment, high)
      for (const kv of reverse ? this.inner.reverseRange(lo, hi) : this.inner.range(lo, hi)) {
        if (kv.key.length !== length || !equalAt(kv.key, 8, key)) continue
        const end = readInt64(kv.key, 8 + key.length)
        const start = readInt64(kv.key, 16 + key.length)
        if (end >= from && start <= latestStart)
          yield { key: { key: copyOf(key), window: { start, end } }, value: kv.value }
      }
    }
  }

  private *findRange(
    keyFrom: Uint8Array | undefined,
    keyTo: Uint8Array | undefined,
    earliestEnd: number,
    latestStart: number,
    reverse: boolean
  ): Sessions {
    this.segments.check()
    if (keyFrom !== undefined && keyTo !== undefined && compareBytes(keyFrom, keyTo) > 0) return
    const from = Math.max(earliestEnd, this.segments.minLiveTime(), 0)
    const high = keyTo === undefined ? undefined : upperBoundOf(keyTo, MAX_SUFFIX)
    for (const segment of this.segments.segmentsFor(from, MAX_TIME, reverse)) {
      // The next segment's bare prefix is never a stored key, so it bounds this segment inclusively.
      const lo = this.segments.storeKey(segment, keyFrom ?? new Uint8Array(0))
      const hi = high === undefined ? this.segments.prefix(segment + 1) : this.segments.storeKey(segment, high)
      for (const kv of reverse ? this.inner.reverseRange(lo, hi) : this.inner.range(lo, hi)) {
        const session = sessionKeyFromBinary(kv.key.subarray(8))
        if (session.window.end < from || session.window.start > latestStart) continue
        if (keyFrom !== undefined && compareBytes(session.key, keyFrom) < 0) continue
        if (keyTo !== undefined && compareBytes(session.key, keyTo) > 0) continue
        yield { key: session, value: kv.value }
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

const copyOf = (bytes: Uint8Array): Uint8Array => Uint8Array.prototype.slice.call(bytes)
