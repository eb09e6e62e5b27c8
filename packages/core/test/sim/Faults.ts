/**
 * Fault schedules: what goes wrong and when, generated from the seed before the run starts (so the schedule is
 * part of the run's description), or written by hand for the named scenarios.
 */
import type { Prng } from "./Prng.js"

/** One fault. Targets are broker ids; "leader"/"follower" targets are resolved when the fault fires. */
export type Fault =
  /** SIGKILL of the process; it restarts after `downMs` with everything it wrote (the page cache survives). */
  | { readonly _tag: "Kill"; readonly broker: number | "leader"; readonly downMs: number }
  /** A machine crash: the unsynced tail of every log is lost; back after `downMs`. */
  | { readonly _tag: "Crash"; readonly broker: number; readonly downMs: number }
  /** The disk of a follower is lost: it restarts empty after `downMs`. */
  | { readonly _tag: "DiskLoss"; readonly downMs: number }
  /** The disk fails: the broker halts at its next write and comes back on a new disk. */
  | { readonly _tag: "DiskFail"; readonly broker: number; readonly downMs: number }
  /** Writes and syncs wait for `ms`. */
  | { readonly _tag: "DiskStall"; readonly broker: number; readonly ms: number }
  /** The process stops (GC pause, stopped VM) for `ms`. */
  | { readonly _tag: "Pause"; readonly broker: number | "leader"; readonly ms: number }
  /** A network partition between two sides (node ids, 0 = metadata store), healed after `ms`. */
  | {
      readonly _tag: "Partition"
      readonly sides: readonly [ReadonlyArray<number | "leader">, ReadonlyArray<number | "leader"> | "rest"]
      readonly oneWay: boolean
      readonly ms: number
    }
  /** A broker's clock jumps forward. */
  | { readonly _tag: "ClockJump"; readonly broker: number; readonly ms: number }

/** A fault at a virtual time. */
export interface Timed {
  readonly at: number
  readonly fault: Fault
}

/** Fault generation options. */
export interface FaultOptions {
  readonly brokers: number
  readonly from: number
  readonly until: number
  /** Mean milliseconds between faults. */
  readonly meanGapMs: number
  readonly clients: ReadonlyArray<number>
}

/** A random schedule. */
export const generate = (rng: Prng, o: FaultOptions): Array<Timed> => {
  const out: Array<Timed> = []
  const broker = () => rng.int(1, o.brokers)
  for (let at = o.from + rng.int(0, o.meanGapMs); at < o.until; at += rng.int(o.meanGapMs / 2, (o.meanGapMs * 3) / 2)) {
    const roll = rng.int(0, 99)
    const downMs = rng.int(100, 3000)
    const fault: Fault =
      roll < 18
        ? { _tag: "Kill", broker: rng.chance(0.5) ? "leader" : broker(), downMs }
        : roll < 26
          ? { _tag: "Crash", broker: broker(), downMs }
          : roll < 32
            ? { _tag: "DiskLoss", downMs }
            : roll < 36
              ? { _tag: "DiskFail", broker: broker(), downMs }
              : roll < 44
                ? { _tag: "DiskStall", broker: broker(), ms: rng.int(50, 2000) }
                : roll < 56
                  ? { _tag: "Pause", broker: rng.chance(0.5) ? "leader" : broker(), ms: rng.int(50, 4000) }
                  : roll < 90
                    ? randomPartition(rng, o)
                    : { _tag: "ClockJump", broker: broker(), ms: rng.int(100, 5000) }
    out.push({ at, fault })
  }
  return out
}

const randomPartition = (rng: Prng, o: FaultOptions): Fault => {
  const ms = rng.int(200, 4000)
  const oneWay = rng.chance(0.3)
  if (rng.chance(0.3)) return { _tag: "Partition", sides: [["leader"], "rest"], oneWay, ms }
  const nodes = [0, ...Array.from({ length: o.brokers }, (_, i) => i + 1)]
  const shuffled = rng.shuffle(nodes)
  const cut = rng.int(1, nodes.length - 1)
  const a: Array<number> = shuffled.slice(0, cut)
  const b: Array<number> = shuffled.slice(cut)
  for (const c of o.clients) (rng.chance(0.5) ? a : b).push(c)
  return { _tag: "Partition", sides: [a, b], oneWay, ms }
}

/** A fault as one line of a run's description. */
export const show = (t: Timed): string => `${t.at} ${JSON.stringify(t.fault)}`
