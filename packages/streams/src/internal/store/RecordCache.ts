/**
 * The record cache in front of table stores (Kafka Streams' thread cache, `statestore.cache.max.bytes`):
 * writes to a cached store stay here, one entry per key, until the task commits or the cache is full; then
 * each entry is written to the store (and its changelog) and forwarded downstream once, so several updates
 * of a key within a commit interval come out as one.
 *
 * Invariants: `bytes` is the sum of the sizes of every namespace's entries; an entry is in a namespace's map
 * at most once, in least-recently-written order (a write moves it to the end); eviction writes out the
 * oldest entries of the namespace being written to until the cache fits; a cache of 0 bytes is never used
 * (stores write through instead).
 */

import { forEachStep } from "../../processor/internal/step.js"
import type { Step } from "../../processor/Processor.js"

/** A dirty entry: the stored bytes (timestamp + value) or null for a delete. */
export interface CacheEntry {
  readonly key: Uint8Array
  readonly value: Uint8Array | null
  readonly timestamp: number
}

const overhead = 64
const sizeOf = (e: CacheEntry) => e.key.length + (e.value?.length ?? 0) + overhead
let lastKey: Uint8Array | undefined
let lastId = ""
/** The map key of a key's bytes (the last one is remembered: a get and a put of one key follow each other). */
const idOf = (key: Uint8Array) => {
  if (key !== lastKey) {
    lastId = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("latin1")
    lastKey = key
  }
  return lastId
}

/** One store's part of the cache. */
export class NamedCache {
  private readonly entries = new Map<string, CacheEntry>()

  constructor(
    private readonly cache: RecordCache,
    private readonly writeOut: (entry: CacheEntry) => Step
  ) {}

  get(key: Uint8Array): CacheEntry | undefined {
    return this.entries.get(idOf(key))
  }

  /** Keeps the write; evicts (writes out) old entries when the cache is over its size. */
  put(entry: CacheEntry): Step {
    const id = idOf(entry.key)
    const old = this.entries.get(id)
    if (old !== undefined) {
      this.cache.bytes -= sizeOf(old)
      this.entries.delete(id)
    }
    this.entries.set(id, entry)
    this.cache.bytes += sizeOf(entry)
    if (this.cache.bytes <= this.cache.maxBytes) return undefined
    const evicted: Array<CacheEntry> = []
    for (const [k, e] of this.entries) {
      if (this.cache.bytes <= this.cache.maxBytes) break
      this.entries.delete(k)
      this.cache.bytes -= sizeOf(e)
      evicted.push(e)
    }
    return forEachStep(evicted, this.writeOut)
  }

  /** Writes out every entry, oldest first, and empties this namespace. */
  flush(): Step {
    if (this.entries.size === 0) return undefined
    const all = [...this.entries.values()]
    this.entries.clear()
    for (const e of all) this.cache.bytes -= sizeOf(e)
    return forEachStep(all, this.writeOut)
  }

  /** Drops every entry without writing it (a task closing dirty). */
  clear(): void {
    for (const e of this.entries.values()) this.cache.bytes -= sizeOf(e)
    this.entries.clear()
  }

  get size(): number {
    return this.entries.size
  }
}

/** A stream thread's cache, shared by the cached stores of its tasks. */
export class RecordCache {
  bytes = 0

  constructor(readonly maxBytes: number) {}

  /** A namespace whose entries are written out through `writeOut`. */
  namespace(writeOut: (entry: CacheEntry) => Step): NamedCache {
    return new NamedCache(this, writeOut)
  }
}
