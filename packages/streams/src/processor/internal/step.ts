/**
 * Running several processing steps in order without an Effect on the synchronous path: steps run one after
 * another until one returns an Effect; the rest then run after that Effect, still in order.
 */
import { Effect } from "effect"
import type { Step } from "../Processor.js"

/** Runs `f` on each item in order; an Effect if any step was asynchronous. */
export const forEachStep = <A>(items: ReadonlyArray<A>, f: (a: A) => Step, from = 0): Step => {
  for (let i = from; i < items.length; i++) {
    const step = f(items[i]!)
    if (step !== undefined) return Effect.flatMap(step, () => forEachStep(items, f, i + 1) ?? Effect.void)
  }
  return undefined
}

/** Runs `next` after `step`. */
export const andThen = (step: Step, next: () => Step): Step =>
  step === undefined ? next() : Effect.flatMap(step, () => next() ?? Effect.void)

/** The step as an Effect. */
export const toEffect = (step: Step): Effect.Effect<void, unknown, unknown> => step ?? Effect.void
