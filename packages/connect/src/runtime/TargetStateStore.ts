/**
 * Target states (STARTED, PAUSED, STOPPED) of a standalone worker's connectors, kept in a JSON file beside
 * the offsets file (`<offset.storage.file.filename>.targets`), so a paused or stopped connector stays so
 * after a worker restart (the distributed worker keeps them in its config topic).
 *
 * Invariant: the file is rewritten (atomically, via a temporary file) after every change, under one lock.
 */
import { FileSystem } from "@effect/platform"
import { Effect } from "effect"
import type { TargetState } from "./ConnectorState.js"

/** Loads and persists target states in `filename`. */
export const make = (filename: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const states = new Map<string, TargetState>()
    const text = yield* fs.readFileString(filename).pipe(Effect.orElseSucceed(() => ""))
    if (text.trim() !== "") {
      const parsed = yield* Effect.try(() => JSON.parse(text) as Record<string, TargetState>).pipe(
        Effect.orElseSucceed(() => ({}) as Record<string, TargetState>)
      )
      for (const [k, v] of Object.entries(parsed))
        if (v === "STARTED" || v === "PAUSED" || v === "STOPPED") states.set(k, v)
    }
    const lock = yield* Effect.makeSemaphore(1)
    const write = Effect.suspend(() =>
      fs.writeFileString(`${filename}.tmp`, JSON.stringify(Object.fromEntries(states)))
    ).pipe(
      Effect.zipRight(fs.rename(`${filename}.tmp`, filename)),
      Effect.catchAll((e) => Effect.logError(`Could not write target states to ${filename}`, e))
    )
    return {
      load: (name: string) => Effect.sync(() => states.get(name) ?? null),
      persist: (name: string, target: TargetState) =>
        lock.withPermits(1)(
          Effect.suspend(() => {
            states.set(name, target)
            return write
          })
        ),
      remove: (name: string) => lock.withPermits(1)(Effect.suspend(() => (states.delete(name) ? write : Effect.void)))
    }
  })
