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
import { Effect, type Scope } from "effect";
/** Schedules expirations. */
export interface Purgatory {
    /**
     * Calls `expire` once the `Clock` reaches `deadline` (epoch millis), unless the returned cancel function
     * is called first. Synchronous; safe to call from any fiber of the runtime.
     */
    readonly schedule: (deadline: number, expire: () => void) => () => void;
}
/** Default tick: timeouts of waiting requests fire up to this late. */
export declare const DEFAULT_TICK_MS = 10;
/** A purgatory whose fiber lives in the current scope. */
export declare const make: (tickMs?: number) => Effect.Effect<Purgatory, never, Scope.Scope>;
