/**
 * The window of a stream-stream join (Kafka Streams' `JoinWindows`): a record of this stream at `t` joins
 * records of the other stream with timestamps in `[t - before, t + after]` (both bounds inclusive; `before`
 * and `after` are the time difference unless set apart). A left or outer join emits a record without a
 * match only once its window closed: once stream time passed its timestamp + `after` (right side:
 * `before`) + `grace`. Plain data; durations in milliseconds or Effect `Duration` inputs.
 */
import { Duration } from "effect"

/** The join window: how far back and ahead a record looks for matches, and the grace for late records. */
export interface JoinWindows {
  readonly _tag: "JoinWindows"
  /** How far (ms) the other stream's records may lie before this stream's record. */
  readonly beforeMs: number
  /** How far (ms) the other stream's records may lie after this stream's record. */
  readonly afterMs: number
  /** How long (ms) after a window ends late records are still joined (and unmatched ones held back). */
  readonly graceMs: number
}

const ms = (what: string, d: Duration.DurationInput): number => {
  if (typeof d === "number" && d < 0) throw new RangeError(`JoinWindows: ${what} must not be negative`)
  return Math.floor(Duration.toMillis(Duration.decode(d)))
}

/** Records within `timeDifference` of each other join; no grace: a late record is dropped at once. */
export const ofTimeDifferenceWithNoGrace = (timeDifference: Duration.DurationInput): JoinWindows => {
  const d = ms("the time difference", timeDifference)
  return { _tag: "JoinWindows", beforeMs: d, afterMs: d, graceMs: 0 }
}

/** Records within `timeDifference` of each other join; records up to `grace` late still join. */
export const ofTimeDifferenceAndGrace = (
  timeDifference: Duration.DurationInput,
  grace: Duration.DurationInput
): JoinWindows => {
  const d = ms("the time difference", timeDifference)
  return { _tag: "JoinWindows", beforeMs: d, afterMs: d, graceMs: ms("the grace period", grace) }
}

const checkSize = (w: JoinWindows): JoinWindows => {
  if (w.beforeMs + w.afterMs < 0)
    throw new RangeError("JoinWindows: the window size (before + after) must not be negative")
  return w
}

/** The window with another look-back: other records up to `timeDifference` before this one join. */
export const before = (windows: JoinWindows, timeDifference: Duration.DurationInput): JoinWindows =>
  checkSize({ ...windows, beforeMs: Math.floor(Duration.toMillis(Duration.decode(timeDifference))) })

/** The window with another look-ahead: other records up to `timeDifference` after this one join. */
export const after = (windows: JoinWindows, timeDifference: Duration.DurationInput): JoinWindows =>
  checkSize({ ...windows, afterMs: Math.floor(Duration.toMillis(Duration.decode(timeDifference))) })

/** The window size: `before + after`. */
export const size = (w: JoinWindows): number => w.beforeMs + w.afterMs

/** How long each side's buffer keeps records: the window size plus the grace period. */
export const retention = (w: JoinWindows): number => size(w) + w.graceMs
