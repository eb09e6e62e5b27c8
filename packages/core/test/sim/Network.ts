/**
 * The simulated network and the process model of the simulation's nodes (brokers, the metadata store, clients).
 *
 * A message takes a random delay (so messages overtake each other: reordering without duplication), may be
 * dropped at random, and is lost when its link is cut (a partition, symmetric or one-way) when it is sent or
 * when it arrives. A message lives on a connection: it is lost when either end was killed or restarted after it
 * was sent (TCP connections die with their process). A paused node (a GC pause, a stopped VM) delivers
 * nothing and runs no timer until it resumes; what arrived meanwhile is handled then, in arrival order.
 *
 * Invariants: every choice comes from the network's `Prng`; a node's timers and handlers never run while it is
 * dead or paused, and never run for an incarnation other than the one that scheduled them.
 */
import type { Prng } from "./Prng.js"
import type { Scheduler } from "./Scheduler.js"

/** A node id: 0 is the metadata store, 1..n brokers, 100+ clients. */
export type NodeId = number

/** Network options, derived from the seed. */
export interface NetworkOptions {
  readonly minDelayMs: number
  readonly maxDelayMs: number
  /** Probability that a message is dropped. */
  readonly dropRate: number
}

/** Any message: a tag for the trace and a payload the receiver understands. */
export interface Message {
  readonly _tag: string
  readonly [field: string]: unknown
}

/** One node: liveness, incarnation, pause, local clock offset, timers and request/response calls. */
export class SimNode {
  alive = true
  incarnation = 0
  pausedUntil = 0
  /** Added to the virtual time to give this node's clock (clock jumps move it forward). */
  clockOffset = 0
  private nextCorrelation = 0
  private readonly pending = new Map<number, (reply: Message | undefined) => void>()
  handler: (from: NodeId, message: Message, correlation: number | undefined) => void = () => {}

  constructor(
    readonly id: NodeId,
    readonly net: Network
  ) {}

  /** This node's clock. */
  get nowMs(): number {
    return this.net.sched.now + this.clockOffset
  }

  /** Runs `f` after `delay` ms unless this incarnation dies first; a pause defers it. */
  timer(delay: number, label: string, f: () => void): void {
    const incarnation = this.incarnation
    const fire = (): void => {
      if (!this.alive || this.incarnation !== incarnation) return
      if (this.pausedUntil > this.net.sched.now) {
        this.net.sched.after(this.pausedUntil - this.net.sched.now, label, fire)
        return
      }
      f()
    }
    this.net.sched.after(delay, label, fire)
  }

  /** Sends a one-way message. */
  send(to: NodeId, message: Message): void {
    this.net.transmit(this, to, message, undefined)
  }

  /** Sends a request; `onReply` gets the reply, or undefined after `timeoutMs`. */
  call(to: NodeId, message: Message, timeoutMs: number, onReply: (reply: Message | undefined) => void): void {
    const correlation = ++this.nextCorrelation
    this.pending.set(correlation, onReply)
    this.net.transmit(this, to, message, correlation)
    this.timer(timeoutMs, `timeout ${this.id} ${message._tag}`, () => {
      const waiting = this.pending.get(correlation)
      if (waiting === undefined) return
      this.pending.delete(correlation)
      waiting(undefined)
    })
  }

  /** Answers a request received with `correlation`. */
  reply(to: NodeId, correlation: number | undefined, message: Message): void {
    if (correlation !== undefined) this.net.transmit(this, to, message, -correlation)
  }

  /** Delivery from the network (a negative correlation is a reply). */
  receive(from: NodeId, message: Message, correlation: number | undefined): void {
    if (correlation !== undefined && correlation < 0) {
      const waiting = this.pending.get(-correlation)
      if (waiting === undefined) return
      this.pending.delete(-correlation)
      waiting(message)
      return
    }
    this.handler(from, message, correlation)
  }

  /** Stops the process: timers, calls and connections of this incarnation die. */
  kill(): void {
    this.alive = false
    this.incarnation++
    this.pending.clear()
    this.pausedUntil = 0
  }

  /** Starts a new incarnation. */
  start(): void {
    this.alive = true
    this.incarnation++
    this.pending.clear()
  }
}

/** The network between the nodes. */
export class Network {
  private readonly nodes = new Map<NodeId, SimNode>()
  /** Cut links, `from>to`, with how many partitions cut each (overlapping partitions heal independently). */
  private readonly cut = new Map<string, number>()
  /** Messages sent and dropped, for the run's summary. */
  sent = 0
  dropped = 0

  constructor(
    readonly sched: Scheduler,
    private readonly rng: Prng,
    readonly options: NetworkOptions
  ) {}

  /** Adds a node. */
  node(id: NodeId): SimNode {
    const n = new SimNode(id, this)
    this.nodes.set(id, n)
    return n
  }

  /** A node by id. */
  get(id: NodeId): SimNode {
    const n = this.nodes.get(id)
    if (n === undefined) throw new Error(`no node ${id}`)
    return n
  }

  /** Whether messages from `from` reach `to` now. */
  linked(from: NodeId, to: NodeId): boolean {
    return !this.cut.has(`${from}>${to}`)
  }

  /** Cuts every link from a node of `a` to a node of `b` (and back, unless one-way). */
  partition(a: ReadonlyArray<NodeId>, b: ReadonlyArray<NodeId>, oneWay = false): void {
    this.links(a, b, oneWay, 1)
  }

  /** Undoes one `partition` with the same arguments. */
  unpartition(a: ReadonlyArray<NodeId>, b: ReadonlyArray<NodeId>, oneWay = false): void {
    this.links(a, b, oneWay, -1)
  }

  private links(a: ReadonlyArray<NodeId>, b: ReadonlyArray<NodeId>, oneWay: boolean, by: number): void {
    const change = (link: string) => {
      const n = (this.cut.get(link) ?? 0) + by
      if (n <= 0) this.cut.delete(link)
      else this.cut.set(link, n)
    }
    for (const x of a)
      for (const y of b) {
        if (x === y) continue
        change(`${x}>${y}`)
        if (!oneWay) change(`${y}>${x}`)
      }
  }

  /** Restores every link. */
  heal(): void {
    this.cut.clear()
  }

  /** Whether any link is cut. */
  get partitioned(): boolean {
    return this.cut.size > 0
  }

  /** Puts a message on the wire. */
  transmit(sender: SimNode, to: NodeId, message: Message, correlation: number | undefined): void {
    this.sent++
    const target = this.nodes.get(to)
    if (target === undefined || !this.linked(sender.id, to) || this.rng.chance(this.options.dropRate)) {
      this.dropped++
      return
    }
    const senderIncarnation = sender.incarnation
    const targetIncarnation = target.incarnation
    const delay = this.rng.int(this.options.minDelayMs, this.options.maxDelayMs)
    const label = `${sender.id}>${to} ${message._tag}`
    const deliver = (): void => {
      if (
        !sender.alive ||
        sender.incarnation !== senderIncarnation ||
        !target.alive ||
        target.incarnation !== targetIncarnation ||
        !this.linked(sender.id, to)
      ) {
        this.dropped++
        return
      }
      if (target.pausedUntil > this.sched.now) {
        this.sched.after(target.pausedUntil - this.sched.now, label, deliver)
        return
      }
      target.receive(sender.id, message, correlation)
    }
    this.sched.after(delay, label, deliver)
  }
}
