/**
 * A task's punctuation schedule as data (Kafka Streams' punctuation queues): `step(state, event)` returns the
 * new schedule and the punctuations due, and the task runs them. No fiber, no clock: the task feeds it its
 * stream time after each record and the runtime feeds it wall-clock time.
 *
 * Kafka's rules, kept here:
 * - A stream-time schedule's first point is 0 (it fires as soon as the task has stream time); a wall-clock
 *   schedule's first point is `now + interval`.
 * - On each event every live schedule of that type whose point is `<= time` fires once, with `time` (the
 *   stream time or the wall-clock time), never more, however many intervals time jumped.
 * - After firing, the next point is `point + interval` when that is still ahead of `time`; else (one or more
 *   points were missed) `time + interval`, so a schedule never fires twice in a row for one advance.
 * - A cancelled schedule never fires again, even when it was due in the same round (the task checks
 *   `isLive` before each punctuation, since a punctuator may cancel another).
 *
 * Invariants: ids are unique and increasing; `schedules` holds live schedules only; intervals are >= 1 ms.
 */
import { Data } from "effect"
import type { PunctuationType } from "../../processor/Processor.js"

/** One schedule of a processor node. */
export interface Schedule {
  readonly id: number
  readonly node: string
  readonly type: PunctuationType
  readonly interval: number
  /** The next time it fires at or after. */
  readonly next: number
}

/** The task's schedules. */
export interface State {
  readonly nextId: number
  readonly schedules: ReadonlyArray<Schedule>
}

/** What the schedule reacts to. */
export type Event = Data.TaggedEnum<{
  /** A processor schedules a punctuation (`now`: the wall-clock time, for wall-clock schedules). */
  Schedule: { readonly node: string; readonly type: PunctuationType; readonly interval: number; readonly now: number }
  Cancel: { readonly id: number }
  /** The task's stream time after a record. */
  StreamTime: { readonly time: number }
  /** The wall-clock time now. */
  WallClock: { readonly time: number }
}>

/** Constructors of {@link Event}. */
export const Event = Data.taggedEnum<Event>()

/** A punctuation to run: the schedule's id and node, and the timestamp the punctuator gets. */
export interface Due {
  readonly id: number
  readonly node: string
  readonly timestamp: number
}

/** The result of a step: the new state, the punctuations due (in order) and the id a `Schedule` made. */
export interface Result {
  readonly state: State
  readonly due: ReadonlyArray<Due>
  readonly scheduled: number | undefined
}

/** No schedules. */
export const initial: State = { nextId: 0, schedules: [] }

/** The next point after `s` fired at `time`. */
const nextPoint = (s: Schedule, time: number): number =>
  s.next + s.interval > time ? s.next + s.interval : time + s.interval

const advance = (state: State, type: PunctuationType, time: number): Result => {
  const due: Array<Due> = []
  const fired = state.schedules
    .filter((s) => s.type === type && s.next <= time)
    .sort((a, b) => a.next - b.next || a.id - b.id)
  if (fired.length === 0) return { state, due, scheduled: undefined }
  const schedules = state.schedules.map((s) => {
    if (s.type !== type || s.next > time) return s
    return { ...s, next: nextPoint(s, time) }
  })
  for (const s of fired) due.push({ id: s.id, node: s.node, timestamp: time })
  return { state: { ...state, schedules }, due, scheduled: undefined }
}

/** Applies one event. */
export const step = (state: State, event: Event): Result =>
  Event.$match(event, {
    Schedule: ({ node, type, interval, now }) => {
      const schedule: Schedule = {
        id: state.nextId,
        node,
        type,
        interval,
        next: type === "STREAM_TIME" ? 0 : now + interval
      }
      return {
        state: { nextId: state.nextId + 1, schedules: [...state.schedules, schedule] },
        due: [],
        scheduled: schedule.id
      }
    },
    Cancel: ({ id }) => ({
      state: { ...state, schedules: state.schedules.filter((s) => s.id !== id) },
      due: [],
      scheduled: undefined
    }),
    // stream time is unknown (-1) until the task processed a record
    StreamTime: ({ time }) =>
      time < 0 ? { state, due: [], scheduled: undefined } : advance(state, "STREAM_TIME", time),
    WallClock: ({ time }) => advance(state, "WALL_CLOCK_TIME", time)
  })

/** True while schedule `id` has not been cancelled. */
export const isLive = (state: State, id: number): boolean => state.schedules.some((s) => s.id === id)

/** True when some schedule of `type` exists (the runtime skips work otherwise). */
export const has = (state: State, type: PunctuationType): boolean => state.schedules.some((s) => s.type === type)
