/**
 * The in-memory byte-level key-value store (Kafka Streams' `Stores.inMemoryKeyValueStore`).
 *
 * Invariants: entries live in a `Map` keyed by the latin1 string of the key bytes (one char per byte, so
 * JavaScript's string order is the unsigned byte order of `compareBytes`); ordered iteration uses a sorted
 * key list that is rebuilt only after a key was added or removed (updates of existing keys keep it).
 */
import { compareBytes, hasPrefix, type KeyValue, type KeyValueBytesStore, prefixUpperBound } from "./KeyValueStore.js"

const toId = (key: Uint8Array): string => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("latin1")
const copy = (bytes: Uint8Array): Uint8Array => Uint8Array.prototype.slice.call(bytes)

interface Entry {
  readonly key: Uint8Array
  value: Uint8Array
}

/** Makes an empty in-memory store named `name`. */
export const make = (name: string): KeyValueBytesStore => new InMemoryKeyValueStore(name)

class InMemoryKeyValueStore implements KeyValueBytesStore {
  readonly persistent = false
  private readonly entries = new Map<string, Entry>()
  private sorted: Array<string> | undefined = undefined
  private closed = false

  constructor(readonly name: string) {}

  private check(): void {
    if (this.closed) throw new Error(`State store ${this.name} is closed`)
  }

  get(key: Uint8Array): Uint8Array | undefined {
    this.check()
    return this.entries.get(toId(key))?.value
  }

  put(key: Uint8Array, value: Uint8Array | null): void {
    this.check()
    const id = toId(key)
    if (value === null) {
      if (this.entries.delete(id)) this.sorted = undefined
      return
    }
    const entry = this.entries.get(id)
    if (entry !== undefined) entry.value = copy(value)
    else {
      this.entries.set(id, { key: copy(key), value: copy(value) })
      this.sorted = undefined
    }
  }

  putIfAbsent(key: Uint8Array, value: Uint8Array): Uint8Array | undefined {
    const existing = this.get(key)
    if (existing === undefined) this.put(key, value)
    return existing
  }

  putAll(entries: ReadonlyArray<KeyValue<Uint8Array, Uint8Array | null>>): void {
    for (const { key, value } of entries) this.put(key, value)
  }

  delete(key: Uint8Array): Uint8Array | undefined {
    const existing = this.get(key)
    if (existing !== undefined) this.put(key, null)
    return existing
  }

  private sortedIds(): Array<string> {
    if (this.sorted === undefined) this.sorted = [...this.entries.keys()].sort()
    return this.sorted
  }

  /** Index of the first id >= `id` in the sorted list. */
  private lowerBound(ids: Array<string>, id: string): number {
    let lo = 0
    let hi = ids.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (ids[mid]! < id) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  private *iterate(
    from: Uint8Array | undefined,
    toInclusive: Uint8Array | undefined,
    toExclusive: Uint8Array | undefined,
    reverse: boolean
  ): IterableIterator<KeyValue<Uint8Array, Uint8Array>> {
    this.check()
    if (from !== undefined && toInclusive !== undefined && compareBytes(from, toInclusive) > 0) return
    const ids = this.sortedIds()
    const start = from === undefined ? 0 : this.lowerBound(ids, toId(from))
    let end = ids.length
    if (toInclusive !== undefined) {
      const toIdStr = toId(toInclusive)
      end = this.lowerBound(ids, toIdStr)
      if (end < ids.length && ids[end] === toIdStr) end++
    } else if (toExclusive !== undefined) end = this.lowerBound(ids, toId(toExclusive))
    const snapshot: Array<KeyValue<Uint8Array, Uint8Array>> = []
    for (let i = start; i < end; i++) {
      const entry = this.entries.get(ids[i]!)
      if (entry !== undefined) snapshot.push({ key: entry.key, value: entry.value })
    }
    if (reverse) snapshot.reverse()
    yield* snapshot
  }

  range(from: Uint8Array | undefined, to: Uint8Array | undefined) {
    return this.iterate(from, to, undefined, false)
  }

  reverseRange(from: Uint8Array | undefined, to: Uint8Array | undefined) {
    return this.iterate(from, to, undefined, true)
  }

  all() {
    return this.iterate(undefined, undefined, undefined, false)
  }

  reverseAll() {
    return this.iterate(undefined, undefined, undefined, true)
  }

  *prefixScan(prefix: Uint8Array): IterableIterator<KeyValue<Uint8Array, Uint8Array>> {
    for (const kv of this.iterate(prefix, undefined, prefixUpperBound(prefix), false)) {
      if (hasPrefix(kv.key, prefix)) yield kv
    }
  }

  approximateNumEntries(): number {
    this.check()
    return this.entries.size
  }

  flush(): void {}

  close(): void {
    this.closed = true
    this.entries.clear()
    this.sorted = undefined
  }
}
