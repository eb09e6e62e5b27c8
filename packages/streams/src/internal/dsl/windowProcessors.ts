/**
 * The processors of windowed aggregations: time windows (tumbling and hopping), sliding windows and session
 * windows, each with an aggregator (count, reduce, aggregate, or one input of a cogroup). They forward
 * `Change`s keyed by `Windowed<K>`; records with a null key or value are skipped.
 *
 * Invariants:
 * - A window is open while stream time (the task's) is before its end + grace, with end exclusive for time
 *   windows and inclusive for sliding and session windows. A record whose windows are all closed is dropped
 *   and counted in `droppedRecords`; closed windows are never forwarded again.
 * - An aggregate's timestamp is the largest timestamp of the records in it (time and sliding windows); a
 *   session's output timestamp is its end.
 * - Sliding windows are stored by their (inclusive) end; the store holds, per key, the window ending at
 *   each record (its left window) and the window starting just after each record (its right window) when
 *   that one holds records. Every window is a distinct set of records, so a new left window is the window
 *   with the latest end before the record plus the record (when that window's latest record is within the
 *   time difference, else the record alone), and a new right window is the latest-starting window that
 *   contains the record, before the record is added (see `slidingWindowAggregate`).
 * - A session merge removes the merged sessions (a tombstone each, timestamp its end) before it forwards
 *   the merged session.
 */
import { Effect, Metric, MetricLabel } from "effect"
import type { SessionWindows, SlidingWindows, TimeWindows, Windowed } from "../../dsl/Windows.js"
import { windowStartsFor } from "../../dsl/Windows.js"
import { forEachStep } from "../../processor/internal/step.js"
import type { ProcessorContext, ProcessorSupplier, Step } from "../../processor/Processor.js"
import { taskIdString } from "../../processor/Processor.js"
import type { Change, Headers, StreamRecord } from "../../processor/Record.js"
import type { ValueAndTimestamp } from "../store/ValueAndTimestamp.js"
import type { TimestampedWindowStore, TypedSessionStore } from "../store/WindowedStores.js"

// biome-ignore lint/suspicious/noExplicitAny: processors are untyped at runtime; the DSL types them
type Any = any

/** Records dropped because their window had closed (Kafka's `dropped-records-total`), by task and processor. */
export const droppedRecords = Metric.counter("kafka_streams_dropped_records_total", {
  description: "records dropped by windowed operations because they arrived after window end + grace"
})

const labelsOf = (applicationId: string, taskId: string, processor: string) => [
  MetricLabel.make("application_id", applicationId),
  MetricLabel.make("task_id", taskId),
  MetricLabel.make("processor", processor)
]

/** The dropped-records count of one processor of one task, as tests and tools read it. */
export const droppedRecordsOf = (applicationId: string, taskId: string, processor: string) =>
  Effect.sync(() => droppedRecords.unsafeValue(labelsOf(applicationId, taskId, processor)))

/** Counts one dropped record of `processor` in the context's task. */
export const recordDropOf = (ctx: ProcessorContext, processor: string): (() => void) => {
  const labels = labelsOf(ctx.applicationId, taskIdString(ctx.taskId), processor)
  return () => droppedRecords.unsafeUpdate(1, labels)
}

/** How a windowed aggregation folds a value in: `initializer` undefined means reduce (the first value starts it). */
export interface Folding {
  readonly initializer: (() => Any) | undefined
  readonly aggregator: (key: Any, value: Any, aggregate: Any) => Any
}

const fold = (f: Folding, key: Any, value: Any, previous: { value: Any } | undefined): Any =>
  previous !== undefined
    ? f.aggregator(key, value, previous.value)
    : f.initializer === undefined
      ? value
      : f.aggregator(key, value, f.initializer())

const skip = (r: StreamRecord<unknown, unknown>) =>
  r.key === null || r.key === undefined || r.value === null || r.value === undefined

const change = (newValue: Any, oldValue: Any): Change<Any> => ({ newValue, oldValue })

const emit = (
  ctx: ProcessorContext,
  key: Windowed<Any>,
  newValue: Any,
  oldValue: Any,
  timestamp: number,
  headers: Headers
): Step => ctx.forward({ key, value: change(newValue, oldValue), timestamp, headers })

/** Tumbling and hopping windows: the record goes into every open window `[start, start + size)` it falls in. */
export const timeWindowAggregate =
  (name: string, storeName: string, windows: TimeWindows, folding: Folding): ProcessorSupplier =>
  (ctx) => {
    const store = ctx.getStateStore<TimestampedWindowStore<Any, Any>>(storeName)
    const recordDrop = recordDropOf(ctx, name)
    if (store.caching) {
      store.setFlushListener((key, start, newValue, oldValue, timestamp) =>
        emit(ctx, { key, window: { start, end: start + windows.sizeMs } }, newValue, oldValue, timestamp, [])
      )
    }
    return {
      process: (r) => {
        if (skip(r)) return undefined
        const closeTime = ctx.currentStreamTimeMs() - windows.graceMs
        const steps: Array<() => Step> = []
        let dropped = false
        for (const start of windowStartsFor(windows, r.timestamp)) {
          const end = start + windows.sizeMs
          if (end <= closeTime) {
            dropped = true
            continue
          }
          const old = store.fetch(r.key, start)
          const next = fold(folding, r.key, r.value, old)
          const ts = old === undefined ? r.timestamp : Math.max(old.timestamp, r.timestamp)
          if (store.caching) steps.push(() => store.put(r.key, next, start, ts))
          else {
            store.put(r.key, next, start, ts)
            const key: Windowed<Any> = { key: r.key, window: { start, end } }
            steps.push(() => emit(ctx, key, next, old?.value ?? null, ts, r.headers))
          }
        }
        if (dropped) recordDrop()
        return forEachStep(steps, (s) => s())
      }
    }
  }

interface Stored {
  readonly end: number
  readonly value: ValueAndTimestamp<Any>
}

/**
 * Sliding windows of `d` = timeDifference, stored by end: a record at `t` updates every window containing it
 * (ends in `[t, t + d]`), creates its left window `[t - d, t]` and, when later records exist within `d`, its
 * right window `[t + 1, t + 1 + d]`, and creates the right window of the previous record if that window did
 * not exist yet (it then holds only this record). Windows before time 0 are cut at 0.
 */
export const slidingWindowAggregate =
  (name: string, storeName: string, windows: SlidingWindows, folding: Folding): ProcessorSupplier =>
  (ctx) => {
    const store = ctx.getStateStore<TimestampedWindowStore<Any, Any>>(storeName)
    const d = windows.timeDifferenceMs
    const recordDrop = recordDropOf(ctx, name)
    return {
      process: (r) => {
        if (skip(r)) return undefined
        const t = r.timestamp
        const closeTime = ctx.currentStreamTimeMs() - windows.graceMs
        if (t + d < closeTime) {
          recordDrop()
          return undefined
        }
        const existing: Array<Stored> = []
        for (const e of store.fetchRange(r.key, t - d - 1, t + d + 1)) existing.push({ end: e.start, value: e.value })
        let before: Stored | undefined // the window with the latest end before t
        let latestContaining: Stored | undefined // the latest-ending window that contains t and ends after it
        let leftExists = false
        let rightExists = false
        const containing: Array<Stored> = []
        for (const w of existing) {
          if (w.end < t) before = w
          else if (w.end <= t + d) {
            containing.push(w)
            if (w.end === t) leftExists = true
            else latestContaining = w
          } else rightExists = true
        }
        const steps: Array<() => Step> = []
        const write = (end: number, value: Any, oldValue: Any, ts: number) => {
          store.put(r.key, value, end, ts)
          if (end < closeTime) return
          const key: Windowed<Any> = { key: r.key, window: { start: Math.max(0, end - d), end } }
          steps.push(() => emit(ctx, key, value, oldValue, ts, r.headers))
        }
        for (const w of containing) {
          write(w.end, folding.aggregator(r.key, r.value, w.value.value), w.value.value, Math.max(w.value.timestamp, t))
        }
        if (!leftExists) {
          // the window before holds exactly the records in [t - d, t) when its latest record is in that range
          const base = before !== undefined && before.value.timestamp >= t - d ? before.value : undefined
          write(t, fold(folding, r.key, r.value, base), null, t)
        }
        if (!rightExists && latestContaining !== undefined && latestContaining.value.timestamp > t) {
          write(t + 1 + d, latestContaining.value.value, null, latestContaining.value.timestamp)
        }
        if (before !== undefined) {
          const previous = before.value.timestamp
          const end = previous + 1 + d
          if (previous < t && end >= t && !existing.some((w) => w.end === end)) {
            write(end, fold(folding, r.key, r.value, undefined), null, t)
          }
        }
        return forEachStep(steps, (s) => s())
      }
    }
  }

/** How sessions merge: their aggregates combined by `merger` (for reduce, the reducer). */
export type SessionMerger = (key: Any, aggregate1: Any, aggregate2: Any) => Any

/** Session windows: a record joins (and may merge) every session within the inactivity gap of it. */
export const sessionWindowAggregate =
  (
    name: string,
    storeName: string,
    windows: SessionWindows,
    folding: Folding,
    merger: SessionMerger
  ): ProcessorSupplier =>
  (ctx) => {
    const store = ctx.getStateStore<TypedSessionStore<Any, Any>>(storeName)
    const gap = windows.inactivityGapMs
    const recordDrop = recordDropOf(ctx, name)
    return {
      process: (r) => {
        if (skip(r)) return undefined
        const t = r.timestamp
        const closeTime = ctx.currentStreamTimeMs() - windows.graceMs
        const overlapping = [...store.findSessions(r.key, t - gap, t + gap)]
        let start = t
        let end = t
        for (const s of overlapping) {
          start = Math.min(start, s.key.window.start)
          end = Math.max(end, s.key.window.end)
        }
        if (end < closeTime) {
          recordDrop()
          return undefined
        }
        let aggregate: { value: Any } | undefined =
          folding.initializer === undefined ? undefined : { value: folding.initializer() }
        let sameWindowValue: Any = null
        const steps: Array<() => Step> = []
        for (const s of overlapping) {
          aggregate = { value: aggregate === undefined ? s.value : merger(r.key, aggregate.value, s.value) }
          if (s.key.window.start === start && s.key.window.end === end) {
            sameWindowValue = s.value
            continue
          }
          store.put(s.key, null, s.key.window.end)
          steps.push(() => emit(ctx, s.key, null, s.value, s.key.window.end, r.headers))
        }
        const next = aggregate === undefined ? r.value : folding.aggregator(r.key, r.value, aggregate.value)
        const key: Windowed<Any> = { key: r.key, window: { start, end } }
        store.put(key, next, end)
        steps.push(() => emit(ctx, key, next, sameWindowValue, end, r.headers))
        return forEachStep(steps, (s) => s())
      }
    }
  }
