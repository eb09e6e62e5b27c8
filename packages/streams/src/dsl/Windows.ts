/**
 * Window specifications of windowed aggregations (Kafka Streams' `TimeWindows`, `SlidingWindows`,
 * `SessionWindows`): plain data the DSL turns into a windowed store and processor.
 *
 * - Time windows are aligned to the epoch and half-open, `[start, start + size)`. Tumbling windows advance
 *   by their size (a record is in exactly one window); hopping windows advance by less and overlap (a record
 *   is in `size / advance` windows).
 * - Sliding windows are aligned to record timestamps and closed on both ends, `[start, start + timeDifference]`:
 *   every distinct set of records that lie within `timeDifference` of each other is one window.
 * - Session windows are per key and data-driven: a record within `inactivityGap` of a session joins it, and
 *   a late record can merge two sessions into one.
 *
 * Grace: a record is accepted while its window is open, that is while stream time is before window end +
 * grace; later records are dropped (and counted in the `dropped-records` metric).
 */
import { Duration } from "effect"

export type { Window, Windowed } from "../state/WindowStore.js"

const ms = (d: Duration.DurationInput): number => Duration.toMillis(Duration.decode(d))

/** One day: the default retention of windowed stores (Kafka's). */
export const DEFAULT_RETENTION_MS = 86_400_000

/** Epoch-aligned time windows (tumbling, or hopping with `advanceBy`). */
export interface TimeWindows {
  readonly _tag: "TimeWindows"
  readonly sizeMs: number
  readonly advanceMs: number
  readonly graceMs: number
  /** Hopping windows: a new window every `advance` (0 < advance <= size). */
  advanceBy(advance: Duration.DurationInput): TimeWindows
}

const timeWindows = (sizeMs: number, advanceMs: number, graceMs: number): TimeWindows => {
  if (!(sizeMs > 0)) throw new RangeError(`Window size must be positive (got ${sizeMs} ms)`)
  if (!(advanceMs > 0) || advanceMs > sizeMs)
    throw new RangeError(`Window advance must be in (0, size] (got ${advanceMs} ms for size ${sizeMs} ms)`)
  if (graceMs < 0) throw new RangeError(`Grace must not be negative (got ${graceMs} ms)`)
  return {
    _tag: "TimeWindows",
    sizeMs,
    advanceMs,
    graceMs,
    advanceBy: (advance) => timeWindows(sizeMs, ms(advance), graceMs)
  }
}

/** Kafka's `TimeWindows`: tumbling windows of `size`, then `advanceBy` for hopping ones. */
export const TimeWindows = {
  /** Tumbling windows of `size` that accept no late record. */
  ofSizeWithNoGrace: (size: Duration.DurationInput): TimeWindows => timeWindows(ms(size), ms(size), 0),
  /** Tumbling windows of `size` that accept records up to `grace` after the window end. */
  ofSizeAndGrace: (size: Duration.DurationInput, grace: Duration.DurationInput): TimeWindows =>
    timeWindows(ms(size), ms(size), ms(grace))
}

/** The windows `[start, start + size)` a timestamp falls in, earliest first. */
export const windowStartsFor = (w: TimeWindows, timestamp: number): Array<number> => {
  const out: Array<number> = []
  let start = Math.max(0, timestamp - w.sizeMs + w.advanceMs)
  start -= start % w.advanceMs
  for (; start <= timestamp; start += w.advanceMs) if (start + w.sizeMs > timestamp) out.push(start)
  return out
}

/** Record-aligned sliding windows with both bounds inclusive. */
export interface SlidingWindows {
  readonly _tag: "SlidingWindows"
  readonly timeDifferenceMs: number
  readonly graceMs: number
}

const slidingWindows = (timeDifferenceMs: number, graceMs: number): SlidingWindows => {
  if (!(timeDifferenceMs > 0)) throw new RangeError(`Time difference must be positive (got ${timeDifferenceMs} ms)`)
  if (graceMs < 0) throw new RangeError(`Grace must not be negative (got ${graceMs} ms)`)
  return { _tag: "SlidingWindows", timeDifferenceMs, graceMs }
}

/** Kafka's `SlidingWindows`. */
export const SlidingWindows = {
  /** Windows of records at most `timeDifference` apart, accepting no late record. */
  ofTimeDifferenceWithNoGrace: (timeDifference: Duration.DurationInput): SlidingWindows =>
    slidingWindows(ms(timeDifference), 0),
  /** Windows of records at most `timeDifference` apart, accepting records up to `grace` late. */
  ofTimeDifferenceAndGrace: (timeDifference: Duration.DurationInput, grace: Duration.DurationInput): SlidingWindows =>
    slidingWindows(ms(timeDifference), ms(grace))
}

/** Per-key session windows closed by a gap of inactivity. */
export interface SessionWindows {
  readonly _tag: "SessionWindows"
  readonly inactivityGapMs: number
  readonly graceMs: number
}

const sessionWindows = (inactivityGapMs: number, graceMs: number): SessionWindows => {
  if (!(inactivityGapMs > 0)) throw new RangeError(`Inactivity gap must be positive (got ${inactivityGapMs} ms)`)
  if (graceMs < 0) throw new RangeError(`Grace must not be negative (got ${graceMs} ms)`)
  return { _tag: "SessionWindows", inactivityGapMs, graceMs }
}

/** Kafka's `SessionWindows`. */
export const SessionWindows = {
  /** Sessions closed by `gap` of inactivity, accepting no late record. */
  ofInactivityGapWithNoGrace: (gap: Duration.DurationInput): SessionWindows => sessionWindows(ms(gap), 0),
  /** Sessions closed by `gap` of inactivity, accepting records up to `grace` late. */
  ofInactivityGapAndGrace: (gap: Duration.DurationInput, grace: Duration.DurationInput): SessionWindows =>
    sessionWindows(ms(gap), ms(grace))
}

/** Any window specification. */
export type WindowSpec = TimeWindows | SlidingWindows | SessionWindows

/** Kafka's `EmitStrategy`: emit on every window update (default) or only the final result when it closes. */
export interface EmitStrategy {
  readonly _tag: "OnWindowUpdate" | "OnWindowClose"
}

/** Kafka's `EmitStrategy`. */
export const EmitStrategy = {
  /** Every update of a window goes downstream (subject to the record cache). */
  onWindowUpdate: (): EmitStrategy => ({ _tag: "OnWindowUpdate" }),
  /** One final result per window and key, once stream time passes the window's end + grace. */
  onWindowClose: (): EmitStrategy => ({ _tag: "OnWindowClose" })
}
