/**
 * The in-memory byte-level key-value store (Kafka Streams' `Stores.inMemoryKeyValueStore`).
 *
 * Invariants: entries live in a `Map` keyed by the latin1 string of the key bytes (one char per byte, so
 * JavaScript's string order is the unsigned byte order of `compareBytes`); a `SortedKeys` index holds the
 * same ids in order and changes only when a key is added or removed (an update of an existing key touches
 * the map alone). An iterator copies its range of entries when iteration starts (its snapshot).
 */
import { copy, toId } from "./internal/bytes.js"
import { SortedKeys } from "./internal/sortedKeys.js"
import { type KeyValue, type KeyValueBytesStore, prefixUpperBound } from "./KeyValueStore.js"
import { throwClosed } from "./StoreError.js"

interface Entry {
  readonly key: Uint8Array
  value: Uint8Array
}

/** Makes an empty in-memory store named `name`. */
export const make = (name: string): KeyValueBytesStore => new InMemoryKeyValueStore(name)

class InMemoryKeyValueStore implements KeyValueBytesStore {
  readonly persistent = false
  private readonly entries = new Map<string, Entry>()
  private readonly ids = new SortedKeys()
  private closed = false

  constructor(readonly name: string) {}

  get(key: Uint8Array): Uint8Array | undefined {
    if (this.closed) throwClosed(this.name)
    return this.entries.get(toId(key))?.value
  }

  put(key: Uint8Array, value: Uint8Array | null): void {
    if (this.closed) throwClosed(this.name)
    const id = toId(key)
    if (value === null) {
      if (this.entries.delete(id)) this.ids.delete(id)
      return
    }
    const entry = this.entries.get(id)
    if (entry !== undefined) entry.value = copy(value)
    else {
      this.entries.set(id, { key: copy(key), value: copy(value) })
      this.ids.insert(id)
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

  private *iterate(
    from: Uint8Array | undefined,
    to: Uint8Array | undefined,
    toInclusive: boolean,
    reverse: boolean
  ): IterableIterator<KeyValue<Uint8Array, Uint8Array>> {
    if (this.closed) throwClosed(this.name)
    const ids = this.ids.slice(
      from === undefined ? undefined : toId(from),
      to === undefined ? undefined : toId(to),
      toInclusive,
      reverse
    )
    const snapshot: Array<KeyValue<Uint8Array, Uint8Array>> = new Array(ids.length)
    for (let i = 0; i < ids.length; i++) {
      const entry = this.entries.get(ids[i]!)!
      snapshot[i] = { key: entry.key, value: entry.value }
    }
    yield* snapshot
  }

  range(from: Uint8Array | undefined, to: Uint8Array | undefined) {
    return this.iterate(from, to, true, false)
  }

  reverseRange(from: Uint8Array | undefined, to: Uint8Array | undefined) {
    return this.iterate(from, to, true, true)
  }

  all() {
    return this.iterate(undefined, undefined, true, false)
  }

  reverseAll() {
    return this.iterate(undefined, undefined, true, true)
  }

  prefixScan(prefix: Uint8Array): IterableIterator<KeyValue<Uint8Array, Uint8Array>> {
    return this.iterate(prefix, prefixUpperBound(prefix), false, false)
  }

  approximateNumEntries(): number {
    if (this.closed) throwClosed(this.name)
    return this.entries.size
  }

  flush(): void {}

  close(): void {
    this.closed = true
    this.entries.clear()
    this.ids.clear()
  }
}
