/**
 * The in-memory byte-level key-value store (Kafka Streams' `Stores.inMemoryKeyValueStore`).
 *
 * Invariants: entries live in a `Map` keyed by the latin1 string of the key bytes (one char per byte, so
 * JavaScript's string order is the unsigned byte order of `compareBytes`), and the same entry objects in a
 * `SortedIndex` in order. An update of an existing key changes the entry in place, unless an iterator is
 * open: then it puts a new entry in both, so iterators keep the snapshot they started with (O(1) to take).
 */
import { copy, toId } from "./internal/bytes.js"
import { SortedIndex } from "./internal/sortedIndex.js"
import { type KeyValue, type KeyValueBytesStore, prefixUpperBound } from "./KeyValueStore.js"
import { throwClosed } from "./StoreError.js"

interface Entry {
  readonly id: string
  readonly key: Uint8Array
  value: Uint8Array
}

/** Makes an empty in-memory store named `name`. */
export const make = (name: string): KeyValueBytesStore => new InMemoryKeyValueStore(name)

class InMemoryKeyValueStore implements KeyValueBytesStore {
  readonly persistent = false
  private readonly entries = new Map<string, Entry>()
  private readonly index = new SortedIndex<Entry>()
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
      if (this.entries.delete(id)) this.index.delete(id)
      return
    }
    const entry = this.entries.get(id)
    if (entry === undefined) {
      const created = { id, key: copy(key), value: copy(value) }
      this.entries.set(id, created)
      this.index.insert(created)
    } else if (!this.index.hasReaders) entry.value = copy(value)
    else {
      const replaced = { id, key: entry.key, value: copy(value) }
      this.entries.set(id, replaced)
      this.index.replace(replaced)
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
    const entries = this.index.iterate(
      from === undefined ? undefined : toId(from),
      to === undefined ? undefined : toId(to),
      toInclusive,
      reverse
    )
    for (const entry of entries) yield { key: entry.key, value: entry.value }
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
    this.index.clear()
  }
}
