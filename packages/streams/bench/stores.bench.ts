/**
 * `npm run bench -- stores`: put, get and range of the byte-level state stores (in memory, persistent on
 * lmdb) beside a plain `Map` baseline, in one run. Ratios within one run are what to compare.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as InMemoryKeyValueStore from "../src/state/InMemoryKeyValueStore.js"
import type { KeyValueBytesStore } from "../src/state/KeyValueStore.js"
import * as Stores from "../src/state/Stores.js"
import type { WindowBytesStore } from "../src/state/WindowStore.js"

const N = 50_000
const ROUNDS = 3
const RANGES = 2_000
const RANGE_SIZE = 100
/** Flush the persistent store every this many puts (a commit's worth of updates). */
const FLUSH_EVERY = 10_000

const rate = (ops: number, ms: number): number => ops / (ms / 1000)
const fmt = (opsPerSec: number): string => `${(opsPerSec / 1e6).toFixed(2)} M/s`

const time = (f: () => void): number => {
  const started = performance.now()
  f()
  return performance.now() - started
}

// Keys in a scattered order (like hashed record keys); 16-byte keys, 100-byte values.
const keys = Array.from({ length: N }, (_, i) => Buffer.from(`key-${String((i * 7919) % N).padStart(12, "0")}`))
const value = new Uint8Array(100).fill(7)
const rangeStarts = Array.from({ length: RANGES }, (_, i) => keys[(i * 31) % N]!)

interface Row {
  readonly name: string
  readonly put: number
  readonly update: number
  readonly get: number
  readonly range: number
}

const measureMap = (): Row => {
  const map = new Map<string, Uint8Array>()
  const id = (k: Uint8Array) => Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString("latin1")
  const put = time(() => {
    for (const k of keys) map.set(id(k), value.slice())
  })
  const update = time(() => {
    for (const k of keys) map.set(id(k), value.slice())
  })
  let sink = 0
  const get = time(() => {
    for (const k of keys) sink += map.get(id(k))!.length
  })
  // Range baseline: sorted ids scanned from a binary-searched start (what any ordered structure must do).
  const sorted = [...map.keys()].sort()
  const range = time(() => {
    for (const start of rangeStarts) {
      const s = id(start)
      let lo = 0
      let hi = sorted.length
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (sorted[mid]! < s) lo = mid + 1
        else hi = mid
      }
      for (let i = lo; i < Math.min(lo + RANGE_SIZE, sorted.length); i++) sink += map.get(sorted[i]!)!.length
    }
  })
  if (sink < 0) console.log(sink)
  return {
    name: "Map (baseline)",
    put: rate(N, put),
    update: rate(N, update),
    get: rate(N, get),
    range: rate(RANGES * RANGE_SIZE, range)
  }
}

const measureStore = (name: string, store: KeyValueBytesStore, flushEvery: number | undefined): Row => {
  const put = time(() => {
    for (let i = 0; i < N; i++) {
      store.put(keys[i]!, value)
      if (flushEvery !== undefined && (i + 1) % flushEvery === 0) store.flush()
    }
    store.flush()
  })
  const update = time(() => {
    for (let i = 0; i < N; i++) {
      store.put(keys[i]!, value)
      if (flushEvery !== undefined && (i + 1) % flushEvery === 0) store.flush()
    }
    store.flush()
  })
  let sink = 0
  const get = time(() => {
    for (const k of keys) sink += store.get(k)!.length
  })
  const range = time(() => {
    for (const start of rangeStarts) {
      let n = 0
      for (const kv of store.range(start, undefined)) {
        sink += kv.value.length
        if (++n === RANGE_SIZE) break
      }
    }
  })
  if (sink < 0) console.log(sink)
  store.close()
  return {
    name,
    put: rate(N, put),
    update: rate(N, update),
    get: rate(N, get),
    range: rate(RANGES * RANGE_SIZE, range)
  }
}

/** Window stores: tumbling 1 s windows of 1,000 keys over 50 s of stream time (a windowed count's pattern). */
const WINDOW_KEYS = 1_000
const WINDOWS = 50

interface WindowRow {
  readonly name: string
  readonly put: number
  readonly get: number
  readonly fetch: number
}

const measureWindow = (name: string, store: WindowBytesStore): WindowRow => {
  const ops = WINDOW_KEYS * WINDOWS
  const put = time(() => {
    for (let w = 0; w < WINDOWS; w++) {
      for (let k = 0; k < WINDOW_KEYS; k++) store.put(keys[k]!, value, w * 1000)
      if (store.persistent && (w + 1) % 10 === 0) store.flush()
    }
    store.flush()
  })
  let sink = 0
  const get = time(() => {
    for (let w = 0; w < WINDOWS; w++)
      for (let k = 0; k < WINDOW_KEYS; k++) sink += store.fetch(keys[k]!, w * 1000)!.length
  })
  const fetch = time(() => {
    for (let k = 0; k < WINDOW_KEYS; k++)
      for (const kv of store.fetch(keys[k]!, 0, WINDOWS * 1000)) sink += kv.value.length
  })
  if (sink < 0) console.log(sink)
  store.close()
  return { name, put: rate(ops, put), get: rate(ops, get), fetch: rate(ops, fetch) }
}

const best = (rounds: ReadonlyArray<Row>): Row => ({
  name: rounds[0]!.name,
  put: Math.max(...rounds.map((r) => r.put)),
  update: Math.max(...rounds.map((r) => r.update)),
  get: Math.max(...rounds.map((r) => r.get)),
  range: Math.max(...rounds.map((r) => r.range))
})

/** Runs the store benchmark (the best of `ROUNDS` interleaved rounds per cell) and prints one table. */
export const run = async (): Promise<void> => {
  const dir = mkdtempSync(join(tmpdir(), "eddy-bench-stores-"))
  try {
    const rounds: Array<Array<Row>> = [[], [], []]
    for (let round = 0; round < ROUNDS; round++) {
      rounds[0]!.push(measureMap())
      rounds[1]!.push(measureStore("in-memory store", InMemoryKeyValueStore.make("bench"), undefined))
      const persistent = Stores.persistentKeyValueStore(`bench-${round}`).get(dir)
      const label = persistent.persistent ? "lmdb" : "fell back to memory"
      rounds[2]!.push(measureStore(`persistent store (${label}, flush per ${FLUSH_EVERY})`, persistent, FLUSH_EVERY))
    }
    const rows = rounds.map(best)
    const windowRows: Array<WindowRow> = []
    for (const [label, supplier] of [
      ["in-memory window store", Stores.inMemoryWindowStore("bench-w", "1 hour", "1 second", false)],
      ["persistent window store", Stores.persistentWindowStore("bench-w", "1 hour", "1 second", false)]
    ] as const) {
      windowRows.push(measureWindow(label, supplier.get(dir)))
    }
    const base = rows[0]!
    console.log(
      `${N.toLocaleString("en-US")} keys of 16 B, values of 100 B; ranges of ${RANGE_SIZE} entries from ${RANGES} starts; best of ${ROUNDS} rounds`
    )
    console.log("| store | put (new keys) | put (updates) | get | range (entries) |")
    console.log("| --- | --- | --- | --- | --- |")
    for (const r of rows) {
      const cell = (v: number, b: number) => `${fmt(v)} (${(v / b).toFixed(2)}x)`
      console.log(
        `| ${r.name} | ${cell(r.put, base.put)} | ${cell(r.update, base.update)} | ${cell(r.get, base.get)} | ${cell(r.range, base.range)} |`
      )
    }
    console.log(
      `\nWindow stores: ${WINDOW_KEYS.toLocaleString("en-US")} keys x ${WINDOWS} tumbling windows; fetch = each key's windows`
    )
    console.log("| store | put | fetch(key, time) | fetch(key, from, to) (windows) |")
    console.log("| --- | --- | --- | --- |")
    const wBase = windowRows[0]!
    for (const r of windowRows) {
      const cell = (v: number, b: number) => `${fmt(v)} (${(v / b).toFixed(2)}x)`
      console.log(
        `| ${r.name} | ${cell(r.put, wBase.put)} | ${cell(r.get, wBase.get)} | ${cell(r.fetch, wBase.fetch)} |`
      )
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
