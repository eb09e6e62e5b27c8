/**
 * A Jepsen-style checker for queue histories recorded against a Kafka-protocol cluster: clients send unique
 * values to partitions ("keys", `topic-partition`), poll them back, optionally inside transactions, while faults
 * happen; the checker then looks for the anomalies a correct cluster never shows. It is pure: a history in, a
 * report out, so that the simulation tests, the real-process tests and users' own tests share it.
 *
 * Model (the workload's rules, which make the checks sound):
 * - every value is sent once by one client (no application retries), so a value read twice is a duplicate;
 * - a completed operation is `ok` (it happened), `fail` (it certainly did not happen; for a transaction: it
 *   aborted) or `info` (unknown: a timeout or a crash);
 * - consumers read their keys from the log start (assign + seek to beginning, or `auto.offset.reset=earliest`),
 *   so that a value below the highest offset read for its key is one a correct cluster returns.
 *
 * Anomalies:
 * - `duplicate`: one value at more than one offset of a key;
 * - `inconsistent-offsets`: one offset of a key holding different values in different observations;
 * - `lost-write`: an acknowledged send whose offset lies below the highest offset read for its key, never read;
 * - `unseen`: an acknowledged send never read (checked only when the history ends with final reads after healing);
 * - `G1a` (aborted read): a read of a value whose send failed (its transaction aborted);
 * - `precommitted-read`: a read completed before the transaction that wrote the value asked to commit;
 * - `poll-skip`: one consumer's consecutive polls of a key (no assign, subscribe or crash between) jump over
 *   offsets known to hold values;
 * - `nonmonotonic-poll`: offsets that do not increase within one consumer's polls of a key;
 * - `nonmonotonic-send`: offsets that do not increase across one producer's acknowledged sends to a key.
 */

/** A topic partition, written `topic-partition`. */
export type Key = string

/** A sent value: unique across the whole history. */
export type Value = string | number

/** One send inside an operation; `offset` is known once the send is acknowledged. */
export interface Send {
  readonly _tag: "Send"
  readonly key: Key
  readonly value: Value
  readonly offset?: number
}

/** One poll inside an operation; `records` per key in the order the consumer returned them. */
export interface Poll {
  readonly _tag: "Poll"
  readonly records?: { readonly [key: Key]: ReadonlyArray<readonly [offset: number, value: Value]> }
}

/** A micro-operation. */
export type Mop = Send | Poll

/** What a completion says about an operation. */
export type Completion = "ok" | "fail" | "info"

/** A completed operation of one client process (Jepsen's invoke/complete pair, folded into one record). */
export interface Operation {
  /** Position in the history. */
  readonly index: number
  /** The client process; a crash ends a process's consumer and producer state. */
  readonly process: number
  /** `send`/`poll`/`txn` carry mops; `assign`, `subscribe` and `crash` reset a consumer's position. */
  readonly f: "send" | "poll" | "txn" | "assign" | "subscribe" | "crash"
  readonly type: Completion
  /** When the operation was invoked and completed (any monotonic clock shared by the processes). */
  readonly invokedAt: number
  readonly completedAt: number
  /** For a transaction: when it asked to commit (EndTxn sent); defaults to `completedAt`. */
  readonly commitAt?: number
  readonly mops: ReadonlyArray<Mop>
}

/** The anomaly names. */
export type AnomalyName =
  | "duplicate"
  | "inconsistent-offsets"
  | "lost-write"
  | "unseen"
  | "G1a"
  | "precommitted-read"
  | "poll-skip"
  | "nonmonotonic-poll"
  | "nonmonotonic-send"

/** One anomaly with the evidence a reader needs. */
export interface Anomaly {
  readonly name: AnomalyName
  readonly key: Key
  readonly message: string
  /** Operation indexes involved. */
  readonly ops: ReadonlyArray<number>
}

/** The checker's verdict. */
export interface Report {
  readonly valid: boolean
  readonly anomalies: ReadonlyArray<Anomaly>
  /** Counts per anomaly name (0 for the names checked and not found). */
  readonly counts: { readonly [name in AnomalyName]: number }
  readonly stats: { readonly sends: number; readonly acknowledged: number; readonly reads: number }
}

/** Checker options. */
export interface CheckOptions {
  /** The history ends with reads of every key to its end after every fault healed: check `unseen`. */
  readonly finalReads?: boolean
  /** Report at most this many anomalies of each name (the counts stay exact). Default 20. */
  readonly maxPerName?: number
}

interface SendInfo {
  readonly op: Operation
  readonly send: Send
}

interface KeyFacts {
  /** offset -> value -> first op index that observed it */
  readonly byOffset: Map<number, Map<Value, number>>
  /** value -> offset -> first op index */
  readonly byValue: Map<Value, Map<number, number>>
  readonly readValues: Set<Value>
  maxReadOffset: number
}

const names: ReadonlyArray<AnomalyName> = [
  "duplicate",
  "inconsistent-offsets",
  "lost-write",
  "unseen",
  "G1a",
  "precommitted-read",
  "poll-skip",
  "nonmonotonic-poll",
  "nonmonotonic-send"
]

const factsOf = (facts: Map<Key, KeyFacts>, key: Key): KeyFacts => {
  let f = facts.get(key)
  if (f === undefined) {
    f = { byOffset: new Map(), byValue: new Map(), readValues: new Set(), maxReadOffset: -1 }
    facts.set(key, f)
  }
  return f
}

const getOrPut = <K, V>(map: Map<K, V>, key: K, make: () => V): V => {
  const found = map.get(key)
  if (found !== undefined) return found
  const made = make()
  map.set(key, made)
  return made
}

const observe = (f: KeyFacts, offset: number, value: Value, index: number): void => {
  const values = getOrPut(f.byOffset, offset, () => new Map<Value, number>())
  if (!values.has(value)) values.set(value, index)
  const offsets = getOrPut(f.byValue, value, () => new Map<number, number>())
  if (!offsets.has(offset)) offsets.set(offset, index)
}

const pollsOf = (op: Operation): ReadonlyArray<Poll> =>
  op.type === "ok" ? (op.mops.filter((m) => m._tag === "Poll") as ReadonlyArray<Poll>) : []

const sendsOf = (op: Operation): ReadonlyArray<Send> => op.mops.filter((m) => m._tag === "Send") as ReadonlyArray<Send>

/** Collects every observation of (key, offset, value) from acknowledged sends and successful polls. */
const collectFacts = (history: ReadonlyArray<Operation>): Map<Key, KeyFacts> => {
  const facts = new Map<Key, KeyFacts>()
  for (const op of history) {
    if (op.type === "ok")
      for (const s of sendsOf(op))
        if (s.offset !== undefined) observe(factsOf(facts, s.key), s.offset, s.value, op.index)
    for (const poll of pollsOf(op))
      for (const [key, records] of Object.entries(poll.records ?? {})) {
        const f = factsOf(facts, key)
        for (const [offset, value] of records) {
          observe(f, offset, value, op.index)
          f.readValues.add(value)
          if (offset > f.maxReadOffset) f.maxReadOffset = offset
        }
      }
  }
  return facts
}

class Collector {
  readonly anomalies: Array<Anomaly> = []
  readonly counts = Object.fromEntries(names.map((n) => [n, 0])) as { [name in AnomalyName]: number }
  constructor(readonly maxPerName: number) {}
  add(anomaly: Anomaly): void {
    this.counts[anomaly.name]++
    if (this.counts[anomaly.name] <= this.maxPerName) this.anomalies.push(anomaly)
  }
}

const checkOffsets = (facts: Map<Key, KeyFacts>, out: Collector): void => {
  for (const [key, f] of facts) {
    for (const [offset, values] of f.byOffset)
      if (values.size > 1)
        out.add({
          name: "inconsistent-offsets",
          key,
          message: `offset ${offset} of ${key} holds ${[...values.keys()].join(", ")}`,
          ops: [...values.values()]
        })
    for (const [value, offsets] of f.byValue)
      if (offsets.size > 1)
        out.add({
          name: "duplicate",
          key,
          message: `value ${value} of ${key} is at offsets ${[...offsets.keys()].join(", ")}`,
          ops: [...offsets.values()]
        })
  }
}

const checkWrites = (
  history: ReadonlyArray<Operation>,
  facts: Map<Key, KeyFacts>,
  options: CheckOptions,
  out: Collector
): void => {
  const sends = new Map<Value, SendInfo>()
  for (const op of history) for (const s of sendsOf(op)) sends.set(s.value, { op, send: s })
  for (const { op, send } of sends.values()) {
    const f = facts.get(send.key)
    const read = f?.readValues.has(send.value) ?? false
    if (op.type === "ok" && !read) {
      const offset = send.offset
      if (offset !== undefined && f !== undefined && offset < f.maxReadOffset)
        out.add({
          name: "lost-write",
          key: send.key,
          message: `value ${send.value} acknowledged at offset ${offset} of ${send.key} was never read, though reads reached offset ${f.maxReadOffset}`,
          ops: [op.index]
        })
      else if (options.finalReads === true)
        out.add({
          name: "unseen",
          key: send.key,
          message: `value ${send.value} acknowledged${offset === undefined ? "" : ` at offset ${offset}`} of ${send.key} was never read`,
          ops: [op.index]
        })
    }
  }
  for (const op of history)
    for (const poll of pollsOf(op))
      for (const [key, records] of Object.entries(poll.records ?? {}))
        for (const [offset, value] of records) {
          const writer = sends.get(value)
          if (writer === undefined) continue
          if (writer.op.type === "fail")
            out.add({
              name: "G1a",
              key,
              message: `value ${value} at offset ${offset} of ${key} was read, but its send failed (aborted)`,
              ops: [writer.op.index, op.index]
            })
          else if (writer.op.f === "txn" && op.completedAt < (writer.op.commitAt ?? writer.op.invokedAt))
            out.add({
              name: "precommitted-read",
              key,
              message: `value ${value} of ${key} was read before its transaction asked to commit`,
              ops: [writer.op.index, op.index]
            })
        }
}

/** The known offsets of each key, sorted: what a consumer reading the key in order must pass through. */
const knownOffsets = (facts: Map<Key, KeyFacts>): Map<Key, ReadonlyArray<number>> => {
  const out = new Map<Key, ReadonlyArray<number>>()
  for (const [key, f] of facts)
    out.set(
      key,
      [...f.byOffset.keys()].sort((a, b) => a - b)
    )
  return out
}

/** The index of the first element greater than `offset` in a sorted array. */
const firstAbove = (sorted: ReadonlyArray<number>, offset: number): number => {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! <= offset) lo = mid + 1
    else hi = mid
  }
  return lo
}

const checkOrder = (history: ReadonlyArray<Operation>, facts: Map<Key, KeyFacts>, out: Collector): void => {
  const known = knownOffsets(facts)
  /** process -> key -> [last offset polled, op index] */
  const polled = new Map<number, Map<Key, readonly [number, number]>>()
  /** process -> key -> [last offset sent, op index] */
  const sent = new Map<number, Map<Key, readonly [number, number]>>()
  for (const op of history) {
    if (op.f === "assign" || op.f === "subscribe" || op.f === "crash" || op.type === "info") {
      // a new position (or an unknown outcome): the next poll may legitimately start anywhere
      polled.delete(op.process)
      if (op.f === "crash" || op.type === "info") sent.delete(op.process)
      continue
    }
    const p = getOrPut(polled, op.process, () => new Map<Key, readonly [number, number]>())
    for (const poll of pollsOf(op))
      for (const [key, records] of Object.entries(poll.records ?? {}))
        for (const [offset] of records) {
          const prev = p.get(key)
          if (prev !== undefined) {
            if (offset <= prev[0])
              out.add({
                name: "nonmonotonic-poll",
                key,
                message: `process ${op.process} polled offset ${offset} of ${key} after offset ${prev[0]}`,
                ops: [prev[1], op.index]
              })
            else {
              const offsets = known.get(key) ?? []
              const expected = offsets[firstAbove(offsets, prev[0])]
              if (expected !== undefined && expected < offset)
                out.add({
                  name: "poll-skip",
                  key,
                  message: `process ${op.process} polled offset ${offset} of ${key} right after ${prev[0]}, skipping ${expected}`,
                  ops: [prev[1], op.index]
                })
            }
          }
          p.set(key, [offset, op.index])
        }
    if (op.type !== "ok") continue
    const s = getOrPut(sent, op.process, () => new Map<Key, readonly [number, number]>())
    for (const send of sendsOf(op)) {
      if (send.offset === undefined) continue
      const prev = s.get(send.key)
      if (prev !== undefined && send.offset <= prev[0])
        out.add({
          name: "nonmonotonic-send",
          key: send.key,
          message: `process ${op.process} sent to offset ${send.offset} of ${send.key} after offset ${prev[0]}`,
          ops: [prev[1], op.index]
        })
      s.set(send.key, [send.offset, op.index])
    }
  }
}

/** Checks a history; see the module comment for the anomalies. */
export const check = (history: ReadonlyArray<Operation>, options: CheckOptions = {}): Report => {
  const out = new Collector(options.maxPerName ?? 20)
  const facts = collectFacts(history)
  checkOffsets(facts, out)
  checkWrites(history, facts, options, out)
  checkOrder(history, facts, out)
  let sends = 0
  let acknowledged = 0
  let reads = 0
  for (const op of history) {
    for (const s of sendsOf(op)) {
      sends++
      if (op.type === "ok") acknowledged += s.offset === undefined ? 0 : 1
    }
    for (const poll of pollsOf(op)) for (const records of Object.values(poll.records ?? {})) reads += records.length
  }
  return {
    valid: out.anomalies.length === 0,
    anomalies: out.anomalies,
    counts: out.counts,
    stats: { sends, acknowledged, reads }
  }
}

/** One line per anomaly name found, for a test's failure message or a soak script's output. */
export const summary = (report: Report): string =>
  report.valid
    ? `valid: ${report.stats.acknowledged}/${report.stats.sends} sends acknowledged, ${report.stats.reads} reads`
    : names
        .filter((n) => report.counts[n] > 0)
        .map((n) => `${n}: ${report.counts[n]} (e.g. ${report.anomalies.find((a) => a.name === n)?.message ?? ""})`)
        .join("\n")
