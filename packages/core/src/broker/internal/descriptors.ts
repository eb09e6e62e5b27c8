/**
 * The process's file descriptor budget, read from Linux's `/proc/self/limits` (the soft "Max open files",
 * which Node raises to the hard limit at start) and `/proc/self/fd`. Elsewhere it is unknown and no check is
 * made. The broker keeps a reserve of descriptors out of reach of partition creation, so that running out
 * never makes the listener drop new connections (libuv accepts and closes them at once when `accept` fails
 * with EMFILE).
 */
import * as fs from "node:fs"

/** Descriptors kept for connections, segment rolls and checkpoint writes: 10% of the limit, at least 128. */
export const reserveOf = (limit: number): number => Math.max(128, Math.ceil(limit / 10))

/** The open files limit and the descriptors open now, or undefined where they cannot be read. */
export const usage = (): { readonly limit: number; readonly open: number } | undefined => {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync("/proc/self/limits", "utf8"))
    if (m === null || m[1] === "unlimited") return undefined
    return { limit: Number(m[1]), open: fs.readdirSync("/proc/self/fd").length }
  } catch {
    return undefined
  }
}
