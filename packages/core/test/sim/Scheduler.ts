/**
 * The virtual clock and event queue of the simulation. Time is an integer number of milliseconds that moves only
 * when the next event runs; events at the same time run in the order they were scheduled. Every event that runs
 * is folded into the trace hash, so two runs with the same seed can be compared by one number.
 *
 * Invariants: `now` never decreases; an event never runs before its time; ties run in scheduling order.
 */
import { hashString } from "./Prng.js"

interface Event {
  readonly at: number
  readonly seq: number
  readonly label: string
  readonly run: () => void
}

const before = (x: Event, y: Event): boolean => x.at < y.at || (x.at === y.at && x.seq < y.seq)

/** A binary min-heap of events by (time, sequence). */
class EventHeap {
  private readonly items: Array<Event> = []

  get size(): number {
    return this.items.length
  }

  push(e: Event): void {
    const items = this.items
    items.push(e)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(items[i]!, items[parent]!)) break
      ;[items[i], items[parent]] = [items[parent]!, items[i]!]
      i = parent
    }
  }

  peek(): Event | undefined {
    return this.items[0]
  }

  pop(): Event | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (top === undefined || last === undefined || items.length === 0) return top
    items[0] = last
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < items.length && before(items[l]!, items[m]!)) m = l
      if (r < items.length && before(items[r]!, items[m]!)) m = r
      if (m === i) break
      ;[items[i], items[m]] = [items[m]!, items[i]!]
      i = m
    }
    return top
  }
}

/** The simulation's clock, queue and trace. */
export class Scheduler {
  private readonly heap = new EventHeap()
  private seq = 0
  private hash = 0x811c9dc5
  /** Virtual milliseconds since the start of the run. */
  now = 0
  /** Events run so far. */
  steps = 0
  /** When set, every event's time and label is appended here (for debugging a seed). */
  trace: Array<string> | undefined

  /** Runs `run` at `now + delay` (delay >= 0, rounded down to whole milliseconds). */
  after(delay: number, label: string, run: () => void): void {
    this.heap.push({ at: this.now + Math.max(0, Math.floor(delay)), seq: this.seq++, label, run })
  }

  /** Folds extra facts (an outcome, a state digest) into the trace hash. */
  record(fact: string): void {
    this.hash = hashString(fact, this.hash)
    this.trace?.push(`${this.now} = ${fact}`)
  }

  /** The trace hash so far. */
  get traceHash(): string {
    return this.hash.toString(16).padStart(8, "0")
  }

  /** Runs the next event; false when the queue is empty. */
  step(): boolean {
    const e = this.heap.pop()
    if (e === undefined) return false
    this.now = e.at
    this.steps++
    this.hash = hashString(e.label, Math.imul(this.hash ^ e.at, 0x01000193) >>> 0)
    this.trace?.push(`${e.at} ${e.label}`)
    e.run()
    return true
  }

  /** Runs events until the next one is later than `time` (then sets `now` to `time`), calling `after` per event. */
  runUntil(time: number, afterEach?: () => void): void {
    for (;;) {
      const next = this.heap.peek()
      if (next === undefined || next.at > time) break
      this.step()
      afterEach?.()
    }
    this.now = Math.max(this.now, time)
  }
}
