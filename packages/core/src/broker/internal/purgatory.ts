/**
 * Deadlines of waiting requests (Kafka's "purgatory"): a produce with acks=all awaiting its appends, a
 * fetch long poll awaiting data. A timer and a racing fiber per request (`Effect.timeout`) cost
 * about as much as the rest of a small produce request; here a request adds an entry to a list, and one
 * fiber, woken by `Clock` every `tickMs` while the list is not empty, expires the entries whose deadline
 * has passed. A deadline so fires up to `tickMs` late, never early.
 *
 * Invariants:
 * - The list is owned by its fiber and the synchronous `schedule`/cancel calls (no await in between).
 * - `expire` runs at most once, on the purgatory's fiber, and never after its entry was cancelled.
 * - Idle (no entry), the fiber waits on a latch: no wake-ups.
 */
import { Clock, Effect, type Scope } from "effect"

/** Schedules expirations. */
export interface Purgatory {
  /**
   * Calls `expire` once the `Clock` reaches `deadline` (epoch millis), unless the returned cancel function
   * is called first. Synchronous; safe to call from any fiber of the runtime.
   */
  readonly schedule: (deadline: number, expire: () => void) => () => void
}

interface Entry {
  readonly deadline: number
  readonly expire: () => void
  cancelled: boolean
}

/** Default tick: timeouts of waiting requests fire up to this late. */
export const DEFAULT_TICK_MS = 10

/** A purgatory whose fiber lives in the current scope. */
export const make = (tickMs: number = DEFAULT_TICK_MS): Effect.Effect<Purgatory, never, Scope.Scope> =>
  Effect.gen(function* () {
    let entries: Array<Entry> = []
    const nonEmpty = yield* Effect.makeLatch(false)

    const sweep = Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.sync(() => {
        const kept: Array<Entry> = []
        const due: Array<Entry> = []
        for (const e of entries) {
          if (e.cancelled) continue
          if (e.deadline <= now) due.push(e)
          else kept.push(e)
        }
        entries = kept
        if (kept.length === 0) nonEmpty.unsafeClose()
        for (const e of due) {
          e.cancelled = true
          e.expire()
        }
      })
    )

    // interruptible whatever region makes it, so that its scope can always end it
    yield* Effect.forkScoped(
      Effect.interruptible(
        Effect.forever(Effect.zipRight(nonEmpty.await, Effect.zipRight(Effect.sleep(tickMs), sweep)))
      )
    )

    return {
      schedule: (deadline, expire) => {
        const entry: Entry = { deadline, expire, cancelled: false }
        entries.push(entry)
        if (entries.length === 1) nonEmpty.unsafeOpen()
        return () => {
          entry.cancelled = true
        }
      }
    }
  })
