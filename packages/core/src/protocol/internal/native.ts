/**
 * Loads optional native addons. `EDDY_NO_NATIVE=1` forces the pure-JS paths everywhere; a package that
 * fails to load (no prebuilt binary, Bun, Alpine without the musl build) yields `undefined`.
 */
import { createRequire } from "node:module"

const require = createRequire(import.meta.url)

/** True when `EDDY_NO_NATIVE=1` disables every native accelerator. */
export const nativeDisabled: boolean = typeof process !== "undefined" && process.env.EDDY_NO_NATIVE === "1"

/** `require(name)`, or `undefined` when native code is disabled or the package does not load. */
export const loadNative = <A>(name: string): A | undefined => {
  if (nativeDisabled) return undefined
  try {
    return require(name) as A
  } catch {
    return undefined
  }
}

/** `require(name)` regardless of `EDDY_NO_NATIVE`, or `undefined` when it does not load (tests, benches). */
export const loadOptional = <A>(name: string): A | undefined => {
  try {
    return require(name) as A
  } catch {
    return undefined
  }
}
