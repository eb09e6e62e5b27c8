/**
 * The suppression processor (`KTable.suppress`, and `EmitStrategy.onWindowClose`): a buffer of each key's
 * latest change, kept in a logged in-memory key-value store (its changelog is
 * `<application.id>-<store>-changelog`) and indexed in memory by buffer time, the time at which the entry
 * is due: the window's close (exclusive end + grace) or the first buffering + the time limit.
 *
 * Invariants:
 * - Stream time here is the largest timestamp of the records this processor has seen; an entry is emitted
 *   (and deleted from the store, so its changelog gets a tombstone) as soon as its buffer time is at or
 *   before stream time, earliest buffer time first.
 * - Under `untilWindowCloses` an update for a window that has already closed is dropped and counted, and a
 *   delete is never emitted (nothing of that window was emitted before); under `untilTimeLimit` a delete is
 *   emitted when a value had been emitted or buffered before it.
 * - Each emission round first writes the stream time it has reached under a reserved store key, so after a
 *   restart (the store restored from its changelog) an update of a window already emitted is still
 *   dropped: a restart neither loses nor repeats a final result.
 * - The in-memory index is built from the store on the first record after the task starts (after restore).
 */
import type { AnySerde } from "../../dsl/Options.js"
import type { BufferConfig, Suppressed } from "../../dsl/Suppressed.js"
import type { Windowed } from "../../dsl/Windows.js"
import { forEachStep } from "../../processor/internal/step.js"
import type { ProcessorContext, ProcessorSupplier, Step } from "../../processor/Processor.js"
import type { Change } from "../../processor/Record.js"
import { readInt32, readInt64, toId, writeInt32, writeInt64 } from "../../state/internal/bytes.js"
import type { TimestampedStore } from "../store/TimestampedStore.js"
import type { Position, WindowClosing } from "./graph.js"
import { recordDropOf } from "./windowProcessors.js"

// biome-ignore lint/suspicious/noExplicitAny: processors are untyped at runtime; the DSL types them
type Any = any

/** The reserved buffer key under which the stream time of the last emission round is kept. */
const STREAM_TIME: unique symbol = Symbol("suppress-stream-time")

/** A buffered change: when it is due, the value before buffering began, and the latest value. */
interface Entry {
  readonly bufferTime: number
  readonly prior: Any
  readonly value: Any
}

/** Buffer keys: 0x00 for the stream-time marker, else 0x01 and the table key's bytes. */
const bufferKeySerde = (inner: AnySerde): AnySerde => ({
  encode: (k) => {
    if (k === STREAM_TIME) return new Uint8Array([0])
    const bytes = inner.encode(k)
    if (bytes === null) throw new Error("Suppression buffer: a key serialized to null")
    const out = new Uint8Array(bytes.length + 1)
    out[0] = 1
    out.set(bytes, 1)
    return out
  },
  decode: (b) => (b === null || b[0] === 0 ? STREAM_TIME : inner.decode(b.subarray(1)))
})

const writeSide = (out: Array<Uint8Array>, bytes: Uint8Array | null) => {
  const len = new Uint8Array(4)
  writeInt32(len, 0, bytes === null ? -1 : bytes.length)
  out.push(len)
  if (bytes !== null) out.push(bytes)
}

/** Entries: 8-byte buffer time, then prior and value each as a 4-byte length (-1: null) and bytes. */
const entrySerde = (inner: AnySerde): AnySerde => ({
  encode: (e: Entry) => {
    const parts: Array<Uint8Array> = [new Uint8Array(8)]
    writeInt64(parts[0]!, 0, e.bufferTime)
    writeSide(parts, e.prior === null ? null : inner.encode(e.prior))
    writeSide(parts, e.value === null ? null : inner.encode(e.value))
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
    let at = 0
    for (const p of parts) {
      out.set(p, at)
      at += p.length
    }
    return out
  },
  decode: (b): Entry => {
    const bytes = b!
    let at = 8
    const side = () => {
      const n = readInt32(bytes, at)
      at += 4
      if (n < 0) return null
      const v = inner.decode(bytes.subarray(at, at + n))
      at += n
      return v
    }
    const bufferTime = readInt64(bytes, 0)
    const prior = side()
    return { bufferTime, prior, value: side() }
  }
})

/** Adds a suppression node after `position` and returns the suppressed table's position. */
export const addSuppress = (position: Position, suppressed: Suppressed): Position => {
  const b = position.builder
  const name = suppressed.name ?? b.newName("KTABLE-SUPPRESS-")
  const storeName = suppressed.name !== undefined ? `${suppressed.name}-store` : b.newStoreName("KTABLE-SUPPRESS-")
  const windowed = position.windowed
  if (suppressed._tag === "UntilWindowCloses" && windowed === undefined)
    b.fail(`${name}: suppress(untilWindowCloses) needs the table of a windowed aggregation right before it`)
  const keySerde = position.keySerde ?? b.config["default.key.serde"]
  const valueSerde = position.valueSerde ?? b.config["default.value.serde"]
  const buffer = suppressed.buffer
  b.addStore({
    name: storeName,
    keySerde: keySerde === undefined ? undefined : bufferKeySerde(keySerde),
    valueSerde: valueSerde === undefined ? undefined : entrySerde(valueSerde),
    loggingEnabled: buffer?.loggingEnabled ?? true,
    cachingEnabled: false,
    logConfig: {},
    supplier: undefined,
    storeType: "in_memory",
    global: false,
    usedBy: `suppression ${name}`
  })
  const processor = suppressProcessor(name, storeName, suppressed, windowed, keySerde, valueSerde)
  b.addProcessor(name, processor, [position.node], [storeName])
  return { ...position, node: name }
}

interface Buffered {
  readonly key: Any
  readonly entry: Entry
  readonly timestamp: number
  readonly bytes: number
  readonly version: number
}

/** A min-heap of (bufferTime, id, version); stale items (a newer version, or emitted) are skipped when popped. */
class DueHeap {
  private readonly items: Array<{ time: number; id: string; version: number }> = []
  get size() {
    return this.items.length
  }
  peek() {
    return this.items[0]
  }
  push(item: { time: number; id: string; version: number }) {
    const a = this.items
    a.push(item)
    let i = a.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (a[parent]!.time <= a[i]!.time) break
      ;[a[parent], a[i]] = [a[i]!, a[parent]!]
      i = parent
    }
  }
  pop() {
    const a = this.items
    const top = a[0]
    const last = a.pop()!
    if (a.length > 0) {
      a[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < a.length && a[l]!.time < a[m]!.time) m = l
        if (r < a.length && a[r]!.time < a[m]!.time) m = r
        if (m === i) break
        ;[a[m], a[i]] = [a[i]!, a[m]!]
        i = m
      }
    }
    return top
  }
}

const suppressProcessor =
  (
    name: string,
    storeName: string,
    suppressed: Suppressed,
    windowed: WindowClosing | undefined,
    keySerde: AnySerde | undefined,
    valueSerde: AnySerde | undefined
  ): ProcessorSupplier =>
  (ctx: ProcessorContext) => {
    const store = ctx.getStateStore<TimestampedStore<Any, Entry>>(storeName)
    const untilClose = suppressed._tag === "UntilWindowCloses"
    const limits: BufferConfig | undefined = suppressed.buffer
    const entries = new Map<string, Buffered>()
    const heap = new DueHeap()
    const recordDrop = recordDropOf(ctx, name)
    const countBytes = limits !== undefined && Number.isFinite(limits.maxBytes)
    const entryBytes = valueSerde === undefined ? undefined : entrySerde(valueSerde)
    let streamTime = -1
    let started = false
    let version = 0
    let bytes = 0

    const idOf = (key: Any) => toId(keySerde!.encode(key)!)
    const keep = (id: string, b: Buffered) => {
      const old = entries.get(id)
      if (old !== undefined) bytes -= old.bytes
      entries.set(id, b)
      bytes += b.bytes
      heap.push({ time: b.entry.bufferTime, id, version: b.version })
    }
    const start = () => {
      started = true
      for (const { key, value } of store.all()) {
        if (key === STREAM_TIME) streamTime = Math.max(streamTime, value.value.bufferTime)
        else keep(idOf(key), { key, entry: value.value, timestamp: value.timestamp, bytes: 0, version: version++ })
      }
    }
    const closeOf = (key: Windowed<Any>): number =>
      key.window.end + (windowed!.endInclusive ? 1 : 0) + windowed!.graceMs

    /** Emits the entry at the top of the heap, if it is still current. */
    const emitOne = (steps: Array<() => Step>): void => {
      const top = heap.pop()!
      const b = entries.get(top.id)
      if (b === undefined || b.version !== top.version) return
      entries.delete(top.id)
      bytes -= b.bytes
      store.put(b.key, null, b.timestamp)
      const { value, prior } = b.entry
      if (value === null && (untilClose || prior === null)) return
      const change: Change<Any> = { newValue: value, oldValue: prior }
      steps.push(() => ctx.forward({ key: b.key, value: change, timestamp: b.timestamp, headers: [] }))
    }

    const overLimit = () => limits !== undefined && (entries.size > limits.maxRecords || bytes > limits.maxBytes)

    return {
      process: (r) => {
        if (!started) start()
        if (r.timestamp > streamTime) streamTime = r.timestamp
        const c = r.value as Change<Any>
        const id = idOf(r.key)
        const existing = entries.get(id)
        let bufferTime: number
        if (untilClose) {
          bufferTime = closeOf(r.key as Windowed<Any>)
          if (bufferTime <= streamTime) {
            recordDrop()
            return undefined
          }
        } else bufferTime = existing?.entry.bufferTime ?? r.timestamp + suppressed.timeLimitMs
        const entry: Entry = {
          bufferTime,
          prior: existing === undefined ? c.oldValue : existing.entry.prior,
          value: c.newValue
        }
        store.put(r.key, entry, r.timestamp)
        const size = countBytes ? keySerde!.encode(r.key)!.length + entryBytes!.encode(entry)!.length : 0
        keep(id, { key: r.key, entry, timestamp: r.timestamp, bytes: size, version: version++ })
        const steps: Array<() => Step> = []
        let marked = false
        const mark = () => {
          if (!marked) store.put(STREAM_TIME, { bufferTime: streamTime, prior: null, value: null }, streamTime)
          marked = true
        }
        while (heap.size > 0 && heap.peek()!.time <= streamTime) {
          mark()
          emitOne(steps)
        }
        while (overLimit()) {
          if (limits!.onFull === "shutDown")
            throw new Error(
              `Suppression buffer ${storeName} exceeded its bounds (${entries.size} records, ${bytes} bytes) and is set to shut down when full`
            )
          mark()
          emitOne(steps)
        }
        return forEachStep(steps, (s) => s())
      }
    }
  }
