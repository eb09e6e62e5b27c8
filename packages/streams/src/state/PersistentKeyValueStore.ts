/**
 * The persistent byte-level key-value store (Kafka Streams' `Stores.persistentKeyValueStore`), on LMDB
 * through the `lmdb` package: synchronous reads from a memory-mapped B+tree, writes batched in memory and
 * committed in one durable transaction by `flush()` (which the runtime calls before it writes a checkpoint).
 *
 * Invariants:
 * - Writes since the last flush live in `pending` (latin1 id -> key and value, `null` for a delete), the
 *   same objects ordered in `pendingIndex` (replaced, not mutated, while an iterator is open); a read looks
 *   there first, then in LMDB. `flush()` writes `pending`
 *   in key order in one `transactionSync` (fsynced: `overlappingSync` off) and empties it.
 * - LMDB keys are the store key behind one 0x00 byte: LMDB refuses empty keys, and a common prefix keeps
 *   the unsigned byte order of the store's keys. Keys longer than `maxKeySize` are refused at `put`.
 * - An iterator merges a snapshot of the pending writes (`SortedIndex`, taken when iteration starts) with an
 *   LMDB cursor, whose read transaction is a snapshot: writes and flushes during iteration do not show up.
 * - `close()` flushes first, so what was written before a clean close is there after reopening.
 */
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import type { Database, RootDatabase } from "lmdb"
import { copy, toId } from "./internal/bytes.js"
import type { LmdbModule } from "./internal/lmdb.js"
import { SortedIndex } from "./internal/sortedIndex.js"
import { compareBytes, type KeyValue, type KeyValueBytesStore, prefixUpperBound } from "./KeyValueStore.js"
import { ProcessorStateError, throwClosed } from "./StoreError.js"

/** The longest key the persistent store accepts (LMDB's 1978-byte limit, less the one-byte prefix). */
export const maxKeySize = 1977

interface Pending {
  readonly id: string
  readonly key: Uint8Array
  readonly value: Uint8Array | null
}

const PREFIX = 0x00
const LOW = Buffer.from([PREFIX])
const HIGH = Buffer.from([PREFIX + 1])

const prefixed = (key: Uint8Array): Buffer => {
  const out = Buffer.allocUnsafe(key.length + 1)
  out[0] = PREFIX
  out.set(key, 1)
  return out
}

/**
 * Opens (creating it if needed) the persistent store `name` in `<dir>/<name>`, an LMDB environment
 * directory. `lmdb` is the loaded native module (see `Stores` for the fallback when it does not load).
 */
export const open = (lmdb: LmdbModule, name: string, dir: string): KeyValueBytesStore => {
  const path = join(dir, name)
  // Synchronous on purpose: suppliers open stores inside the synchronous task set-up, and lmdb's own open
  // is synchronous too.
  mkdirSync(path, { recursive: true })
  try {
    const root = lmdb.open<Buffer, Buffer>({
      path,
      noSubdir: false,
      encoding: "binary",
      keyEncoding: "binary",
      overlappingSync: false,
      cache: false,
      compression: false
    })
    return new PersistentKeyValueStore(name, root)
  } catch (error) {
    throw new ProcessorStateError({ store: name, message: `Cannot open ${path}: ${String(error)}` })
  }
}

class PersistentKeyValueStore implements KeyValueBytesStore {
  readonly persistent = true
  private pending = new Map<string, Pending>()
  private readonly pendingIndex = new SortedIndex<Pending>()
  private pendingLive = 0
  private committedCount: number
  private closed = false
  private scratch = Buffer.allocUnsafe(256)

  constructor(
    readonly name: string,
    private readonly db: RootDatabase<Buffer, Buffer> | Database<Buffer, Buffer>
  ) {
    this.committedCount = (db.getStats() as { entryCount: number }).entryCount
  }

  /** `key` behind the prefix byte, in a reused buffer (valid until the next call). */
  private lookupKey(key: Uint8Array): Buffer {
    if (this.scratch.length < key.length + 1)
      this.scratch = Buffer.allocUnsafe(Math.max(key.length + 1, 2 * this.scratch.length))
    this.scratch[0] = PREFIX
    this.scratch.set(key, 1)
    return this.scratch.subarray(0, key.length + 1)
  }

  get(key: Uint8Array): Uint8Array | undefined {
    if (this.closed) throwClosed(this.name)
    if (this.pending.size > 0) {
      const p = this.pending.get(toId(key))
      if (p !== undefined) return p.value ?? undefined
    }
    return this.db.get(this.lookupKey(key)) ?? undefined
  }

  put(key: Uint8Array, value: Uint8Array | null): void {
    if (this.closed) throwClosed(this.name)
    if (key.length > maxKeySize) {
      throw new ProcessorStateError({
        store: this.name,
        message: `Key of ${key.length} bytes is longer than the ${maxKeySize} bytes a persistent store accepts`
      })
    }
    const id = toId(key)
    const before = this.pending.get(id)
    const entry = { id, key: before?.key ?? copy(key), value: value === null ? null : copy(value) }
    this.pending.set(id, entry)
    if (before === undefined) this.pendingIndex.insert(entry)
    else {
      this.pendingIndex.replace(entry)
      if (before.value !== null) this.pendingLive--
    }
    if (value !== null) this.pendingLive++
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
    if (from !== undefined && to !== undefined) {
      const c = compareBytes(from, to)
      if (c > 0 || (c === 0 && !toInclusive)) return
    }
    const overlay = this.pendingIndex.iterate(
      from === undefined ? undefined : toId(from),
      to === undefined ? undefined : toId(to),
      toInclusive,
      reverse
    )
    const low = from === undefined ? LOW : prefixed(from)
    const high = to === undefined ? HIGH : prefixed(to)
    const highInclusive = to !== undefined && toInclusive
    const cursor = this.db
      .getRange(
        reverse
          ? { start: high, end: low, reverse: true, inclusiveEnd: true, exclusiveStart: !highInclusive }
          : { start: low, end: high, inclusiveEnd: highInclusive }
      )
      [Symbol.iterator]()
    const sign = reverse ? -1 : 1
    try {
      let p = overlay.next().value as Pending | undefined
      let next = cursor.next()
      while (!next.done || p !== undefined) {
        const stored = next.done ? undefined : next.value.key.subarray(1)
        const c = p === undefined ? 1 : stored === undefined ? -1 : sign * compareBytes(p.key, stored)
        if (c <= 0) {
          const current = p!
          p = overlay.next().value as Pending | undefined
          if (c === 0) next = cursor.next()
          if (current.value !== null) yield { key: current.key, value: current.value }
        } else {
          const value = next.value!.value
          next = cursor.next()
          yield { key: stored!, value }
        }
      }
    } finally {
      overlay.return(undefined)
      cursor.return?.()
    }
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

  /** The committed count plus the live writes pending (an overwrite pending counts twice until flushed). */
  approximateNumEntries(): number {
    if (this.closed) throwClosed(this.name)
    return this.committedCount + this.pendingLive
  }

  flush(): void {
    if (this.closed) throwClosed(this.name)
    if (this.pending.size === 0) return
    const writes = [...this.pendingIndex.iterate(undefined, undefined, true, false)]
    try {
      this.db.transactionSync(() => {
        for (const p of writes) {
          if (p.value === null) this.db.remove(prefixed(p.key))
          else this.db.put(prefixed(p.key), Buffer.from(p.value.buffer, p.value.byteOffset, p.value.byteLength))
        }
      })
    } catch (error) {
      throw new ProcessorStateError({ store: this.name, message: `Flush failed: ${String(error)}` })
    }
    this.pending = new Map()
    this.pendingIndex.clear()
    this.pendingLive = 0
    this.committedCount = (this.db.getStats() as { entryCount: number }).entryCount
  }

  close(): void {
    if (this.closed) return
    this.flush()
    this.closed = true
    void this.db.close()
  }
}
