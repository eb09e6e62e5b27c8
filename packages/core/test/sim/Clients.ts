/**
 * The simulation's clients and the history they record for `HistoryChecker`: producers with acks=all sending
 * unique values once each (no application retries), consumers in assign mode polling every partition from
 * offset 0 up to the high watermark, and the final reader that reads everything after the faults healed.
 *
 * Outcomes: an acknowledged produce is `ok` with its offset; an error the leader gave before appending is `fail`
 * (nothing was written); an error after the append or no answer is `info` (it may be committed).
 *
 * Invariants: one request in flight per client; a late reply to a request that timed out is ignored (the call's
 * correlation is gone); every value is sent at most once.
 */
import type { Operation } from "../../src/testing/HistoryChecker.js"
import type { NodeId, SimNode } from "./Network.js"
import type { Prng } from "./Prng.js"
import type { BrokerReply } from "./SimBroker.js"

/** The history being recorded. */
export class History {
  readonly ops: Array<Operation> = []
  /** Consumer resets after OFFSET_OUT_OF_RANGE (a correct cluster never sends one to these consumers). */
  outOfRange = 0

  add(op: Omit<Operation, "index">): void {
    this.ops.push({ ...op, index: this.ops.length })
  }
}

/** What clients share: brokers to ask, partitions, timeouts, and when to stop. */
export interface ClientEnv {
  readonly brokers: ReadonlyArray<NodeId>
  readonly keys: ReadonlyArray<string>
  readonly requestTimeoutMs: number
  readonly history: History
  /** The checker's key of a store partition key (`partitions/t/0` -> `t-0`). */
  readonly keyName: (key: string) => string
}

abstract class Client {
  protected leaders = new Map<string, number>()
  /** The leader epoch per partition from the same metadata (consumers send it with every fetch, KIP-320). */
  protected epochs = new Map<string, number>()

  constructor(
    readonly node: SimNode,
    readonly env: ClientEnv,
    readonly rng: Prng
  ) {}

  /** Asks a random broker for the partition leaders, then continues. */
  protected refresh(then: () => void): void {
    const broker = this.rng.pick(this.env.brokers)
    this.node.call(broker, { _tag: "Metadata" }, this.env.requestTimeoutMs, (reply) => {
      const m = reply as BrokerReply | undefined
      if (m?._tag === "MetadataResult")
        for (const [key, leader, epoch] of m.leaders)
          if (leader >= 0 && epoch >= (this.epochs.get(key) ?? -1)) {
            this.leaders.set(key, leader)
            this.epochs.set(key, epoch)
          }
      then()
    })
  }
}

/** A producer: sends values until `until`, one at a time. */
export class Producer extends Client {
  private sent = 0
  /** A send is awaiting its answer (the final reads wait until no producer has one). */
  inFlight = false

  /** Starts sending. */
  run(until: number): void {
    const next = () => {
      if (this.node.net.sched.now >= until) return
      this.node.timer(this.rng.int(5, 40), "produce", () => this.sendOne(next))
    }
    this.refresh(next)
  }

  private sendOne(next: () => void) {
    const key = this.rng.pick(this.env.keys)
    const leader = this.leaders.get(key)
    if (leader === undefined) return this.refresh(next)
    const value = `${this.node.id}-${this.sent++}`
    const invokedAt = this.node.net.sched.now
    this.inFlight = true
    this.node.call(leader, { _tag: "Produce", key, value }, this.env.requestTimeoutMs + 500, (reply) => {
      this.inFlight = false
      const r = reply as BrokerReply | undefined
      const result = r?._tag === "ProduceResult" ? r : undefined
      const type = result?.offset !== undefined ? "ok" : result !== undefined && !result.appended ? "fail" : "info"
      this.env.history.add({
        process: this.node.id,
        f: "send",
        type,
        invokedAt,
        completedAt: this.node.net.sched.now,
        mops: [
          {
            _tag: "Send",
            key: this.env.keyName(key),
            value,
            ...(result?.offset !== undefined ? { offset: result.offset } : {})
          }
        ]
      })
      this.node.net.sched.record(`send ${value} ${type} ${result?.offset ?? ""}`)
      if (type !== "ok") this.refresh(next)
      else next()
    })
  }
}

/** A consumer in assign mode: every partition from offset 0, round robin, up to the high watermark. */
export class Consumer extends Client {
  readonly positions = new Map<string, number>()
  /** Consecutive empty successful polls per partition (the final reader stops after a few everywhere). */
  readonly emptyPolls = new Map<string, number>()
  private turn = 0

  /** Polls until `until` (or, with `final`, until every partition answered empty `final` times in a row). */
  run(until: number, final?: number, done?: () => void): void {
    this.env.history.add({
      process: this.node.id,
      f: "assign",
      type: "ok",
      invokedAt: this.node.net.sched.now,
      completedAt: this.node.net.sched.now,
      mops: []
    })
    for (const key of this.env.keys) this.positions.set(key, 0)
    const next = () => {
      const finished = final !== undefined && this.env.keys.every((k) => (this.emptyPolls.get(k) ?? 0) >= final)
      if (finished) return done?.()
      if (this.node.net.sched.now >= until) return final === undefined ? undefined : done?.()
      this.node.timer(this.rng.int(10, 60), "poll", () => this.pollOne(next))
    }
    this.refresh(next)
  }

  private pollOne(next: () => void) {
    const key = this.env.keys[this.turn++ % this.env.keys.length]!
    const leader = this.leaders.get(key)
    if (leader === undefined) return this.refresh(next)
    const offset = this.positions.get(key)!
    const invokedAt = this.node.net.sched.now
    this.node.call(
      leader,
      { _tag: "Fetch", key, offset, epoch: this.epochs.get(key) ?? -1, replica: -1, max: 50 },
      this.env.requestTimeoutMs,
      (reply) => {
        const r = reply as BrokerReply | undefined
        if (r?._tag !== "FetchResult" || r.error !== undefined) {
          if (r?._tag === "FetchResult" && r.error === "OFFSET_OUT_OF_RANGE") {
            this.env.history.outOfRange++
            this.node.net.sched.record(`out of range: ${this.node.id} fetched ${key} at ${offset} from ${leader}`)
            this.positions.set(key, 0)
            this.env.history.add({
              process: this.node.id,
              f: "assign",
              type: "ok",
              invokedAt,
              completedAt: this.node.net.sched.now,
              mops: []
            })
          }
          this.emptyPolls.set(key, 0)
          return this.refresh(next)
        }
        if (r.records.length === 0) this.emptyPolls.set(key, (this.emptyPolls.get(key) ?? 0) + 1)
        else {
          this.emptyPolls.set(key, 0)
          this.positions.set(key, offset + r.records.length)
          this.env.history.add({
            process: this.node.id,
            f: "poll",
            type: "ok",
            invokedAt,
            completedAt: this.node.net.sched.now,
            mops: [
              { _tag: "Poll", records: { [this.env.keyName(key)]: r.records.map((b) => [b.offset, b.value] as const) } }
            ]
          })
          this.node.net.sched.record(`poll ${key} ${offset}+${r.records.length}`)
        }
        next()
      }
    )
  }
}
