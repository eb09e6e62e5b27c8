/**
 * Locks by key: effects holding the same key run one at a time, different keys do not wait for each other.
 * An entry exists only while someone holds or waits for its key, so many distinct keys cost nothing afterwards.
 */
import { Effect } from "effect"

/** Runs effects under a per-key lock. */
export interface KeyedLock {
  readonly withLock: (key: string) => <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/** A new set of locks. */
export const make = (): KeyedLock => {
  const entries = new Map<string, { readonly semaphore: Effect.Semaphore; users: number }>()
  return {
    withLock: (key) => (effect) =>
      Effect.acquireUseRelease(
        Effect.sync(() => {
          let entry = entries.get(key)
          if (entry === undefined) {
            entry = { semaphore: Effect.unsafeMakeSemaphore(1), users: 0 }
            entries.set(key, entry)
          }
          entry.users++
          return entry
        }),
        (entry) => entry.semaphore.withPermits(1)(effect),
        (entry) =>
          Effect.sync(() => {
            if (--entry.users === 0) entries.delete(key)
          })
      )
  }
}
