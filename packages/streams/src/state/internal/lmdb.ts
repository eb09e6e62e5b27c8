/**
 * Loads the optional native `lmdb` module synchronously (stores are opened inside synchronous supplier
 * calls), once per process. When it does not load (no prebuilt binary for the platform, or the optional
 * dependency was not installed), persistent stores fall back to in-memory ones and one warning is logged.
 */
import { createRequire } from "node:module"
import { Effect } from "effect"

/** The part of the `lmdb` module the persistent stores use. */
export type LmdbModule = typeof import("lmdb")

type Loaded =
  | { readonly _tag: "Loaded"; readonly lmdb: LmdbModule }
  | { readonly _tag: "Failed"; readonly reason: string }

let loaded: Loaded | undefined
let warned = false

/** The `lmdb` module, or why it did not load. */
export const load = (): Loaded => {
  if (loaded === undefined) {
    try {
      loaded = { _tag: "Loaded", lmdb: createRequire(import.meta.url)("lmdb") as LmdbModule }
    } catch (error) {
      loaded = { _tag: "Failed", reason: error instanceof Error ? error.message : String(error) }
    }
  }
  return loaded
}

/** Logs, once per process, that persistent stores run in memory because `reason`. */
export const warnFallback = (reason: string): void => {
  if (warned) return
  warned = true
  Effect.runSync(
    Effect.logWarning(
      `The native lmdb module did not load (${reason}); persistent state stores run in memory and are restored ` +
        "from their changelogs on every start"
    )
  )
}
