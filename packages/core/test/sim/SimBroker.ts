/**
 * A broker of the simulation: registration on a lease, metadata read from the store, the controller role, and
 * one replica per hosted partition (leader or follower), with produce, fetch and OffsetForLeaderEpoch as network
 * messages. Every replication and controller decision is delegated to the `Logic` (see `Logic.ts`); this file
 * moves messages and bytes.
 *
 * Invariants: a broker leads a partition only for a record that changed after its current registration (a
 * restarted broker waits for the controller to elect again, in a new leader epoch; the rule is the replica
 * manager's `leadsRecord`, through the `Logic`, no longer this file's own); leaving an epoch's leadership
 * answers every waiting produce (NOT_LEADER_OR_FOLLOWER, outcome unknown); a follower appends only at its log end
 * and only after it truncated for the leader's current epoch; a leader answers a fetch only in the fetcher's leader
 * epoch (when it sends one); an ISR proposal the store did not answer stays pending until a read settles it; the
 * controller steps every store change in revision order (a gap-free watch) and re-reads a record until the store
 * answers; the epoch cache and the known epoch live on the disk.
 */
import type { KvEntry } from "../../src/broker/internal/metadataKv.js"
import type { Batch, Disk, PartitionFiles } from "./Disk.js"
import { crcOf } from "./Disk.js"
import type { ControllerInput, LeaderEffect, LeaderInput, Logic, PartitionRecord, PartitionWrite } from "./Logic.js"
import { partitionKey } from "./Logic.js"
import type { Message, NodeId, SimNode } from "./Network.js"
import type { StoreReply } from "./Store.js"

/** Broker options (Kafka's names where there is one). */
export interface BrokerOptions {
  readonly brokers: number
  readonly replicationFactor: number
  readonly topic: string
  readonly partitions: number
  readonly sessionTimeoutMs: number
  readonly metadataPollMs: number
  readonly replicaLagTimeMaxMs: number
  readonly minInsyncReplicas: number
  readonly requestTimeoutMs: number
  readonly flushIntervalMs: number
  readonly fetchMaxRecords: number
  readonly uncleanLeaderElection: boolean
  /** The deliberately broken variant: the leader announces its own log end as the high watermark. */
  readonly brokenHighWatermark: boolean
}

/** Client and replica requests a broker answers. */
export type BrokerRequest =
  | { readonly _tag: "Produce"; readonly key: string; readonly value: string }
  | {
      readonly _tag: "Fetch"
      readonly key: string
      readonly offset: number
      readonly epoch: number
      readonly replica: number
      readonly max: number
    }
  | { readonly _tag: "EpochEnd"; readonly key: string; readonly epoch: number; readonly leaderEpoch: number }
  | { readonly _tag: "Metadata" }

/** Error names on the wire (Kafka's). */
export type WireError =
  | "NOT_LEADER_OR_FOLLOWER"
  | "NOT_ENOUGH_REPLICAS"
  | "NOT_ENOUGH_REPLICAS_AFTER_APPEND"
  | "REQUEST_TIMED_OUT"
  | "FENCED_LEADER_EPOCH"
  | "UNKNOWN_LEADER_EPOCH"
  | "OFFSET_OUT_OF_RANGE"
  | "KAFKA_STORAGE_ERROR"

/** Broker replies. */
export type BrokerReply =
  | { readonly _tag: "ProduceResult"; readonly offset?: number; readonly error?: WireError; readonly appended: boolean }
  | {
      readonly _tag: "FetchResult"
      readonly error?: WireError
      readonly records: ReadonlyArray<Batch>
      readonly hw: number
    }
  | {
      readonly _tag: "EpochEndResult"
      readonly error?: WireError
      readonly leaderEpoch: number
      readonly endOffset: number
    }
  | {
      readonly _tag: "MetadataResult"
      /** Partition key, leader, leader epoch. */
      readonly leaders: ReadonlyArray<readonly [string, number, number]>
    }

interface Waiting {
  readonly offset: number
  readonly from: NodeId
  readonly correlation: number | undefined
  readonly deadline: number
}

/** One hosted partition. */
export class Replica<L> {
  hw = 0
  role: "leader" | "follower" | "none" = "none"
  leaderId = -1
  leader: L | undefined
  waiting: Array<Waiting> = []
  /** Bumped on every role or epoch change; stale replies compare it. */
  generation = 0
  /** The partition epoch the leader state last learned. */
  partitionEpoch = -1
  phase: "truncating" | "fetching" | "idle" = "idle"

  constructor(
    readonly key: string,
    readonly files: PartitionFiles
  ) {}

  /** The epoch this replica knows (durable, as KRaft's local metadata log). */
  get epoch(): number {
    return this.files.knownEpoch
  }
}

const recordOf = (e: KvEntry): PartitionRecord => JSON.parse(e.value) as PartitionRecord

/** A simulated broker process; `start` runs one incarnation over the disk it keeps. */
export class SimBroker<L, C> {
  lease: string | undefined
  registration = 0
  controller: number | undefined
  controllerEpoch = 0
  brokers = new Map<number, number>()
  view = new Map<string, { record: PartitionRecord; version: number }>()
  viewRevision = 0
  replicas = new Map<string, Replica<L>>()
  /** Set by the harness when this incarnation started on a disk that lost data. */
  diskLost = false
  /** The controller's state while this broker is the controller: its view and the last revision it saw. */
  ctrl:
    | {
        state: C
        revision: number
        readonly queue: Array<ControllerInput>
        readonly writes: Array<PartitionWrite>
        busy: boolean
      }
    | undefined
  private ctrlStarting = false
  /** Records removed by follower truncation, over every incarnation. */
  truncated = 0
  /** Bumped whenever replica state changes (the harness snapshots then). */
  changes = 0

  constructor(
    readonly node: SimNode,
    readonly disk: Disk,
    readonly logic: Logic<L, C>,
    readonly options: BrokerOptions
  ) {}

  get id(): number {
    return this.node.id
  }

  /** Starts an incarnation: volatile state is rebuilt from the disk. */
  start(): void {
    this.lease = undefined
    this.registration = 0
    this.controller = undefined
    this.ctrl = undefined
    this.ctrlStarting = false
    this.brokers = new Map()
    this.view = new Map()
    this.viewRevision = 0
    this.replicas = new Map()
    for (let p = 0; p < this.options.partitions; p++) {
      const key = partitionKey(this.options.topic, p)
      const files = this.disk.partition(key)
      const r = new Replica<L>(key, files)
      r.hw = Math.min(files.checkpointedHw, files.logEndOffset)
      this.replicas.set(key, r)
    }
    this.changes++
    this.node.handler = (from, message, correlation) => this.handle(from, message as BrokerRequest, correlation)
    this.register()
    this.node.timer(this.options.metadataPollMs, "poll", () => this.pollLoop())
    this.node.timer(this.options.flushIntervalMs, "flush", () => this.flushLoop())
    this.node.timer(100, "tick", () => this.tickLoop())
  }

  // ---- membership and metadata ----

  private register() {
    const retry = () => this.node.timer(200, "register", () => this.register())
    const withLease = (lease: string) =>
      this.node.call(
        0,
        {
          _tag: "Txn",
          compares: [{ key: `brokers/${this.id}`, modRevision: 0 }],
          ops: [{ _tag: "Put", key: `brokers/${this.id}`, value: `${this.id}@${lease}`, lease }]
        },
        this.options.requestTimeoutMs,
        (reply) => {
          const r = reply as StoreReply | undefined
          if (r?._tag !== "TxnResult") return retry()
          if (r.leaseExpired) {
            this.lease = undefined
            return retry()
          }
          if (r.revision === undefined) return this.registeredAlready(lease, retry)
          this.registered(r.revision)
        }
      )
    if (this.lease !== undefined) return withLease(this.lease)
    this.node.call(
      0,
      { _tag: "Grant", ttlMs: this.options.sessionTimeoutMs },
      this.options.requestTimeoutMs,
      (reply) => {
        const r = reply as StoreReply | undefined
        if (r?._tag !== "Granted") return retry()
        this.lease = r.lease
        // the session is kept alive from its grant (a registration may wait for an old one to expire)
        this.node.timer(this.options.sessionTimeoutMs / 4, "keepalive", () => this.keepAlive(r.lease))
        withLease(r.lease)
      }
    )
  }

  private registered(revision: number): void {
    this.registration = revision
  }

  /** The registration failed its compare: it may be this broker's own earlier attempt whose answer was lost. */
  private registeredAlready(lease: string, retry: () => void): void {
    this.node.call(0, { _tag: "Read" }, this.options.requestTimeoutMs, (reply) => {
      const r = reply as StoreReply | undefined
      const mine = r?._tag === "ReadResult" ? r.entries.find((e) => e.value === `${this.id}@${lease}`) : undefined
      if (mine !== undefined && this.lease === lease && this.registration === 0) this.registered(mine.modRevision)
      else retry()
    })
  }

  /** Renews the session every quarter of its TTL, and soon again when a renewal goes unanswered. */
  private keepAlive(lease: string) {
    if (this.lease !== lease) return
    const ttl = this.options.sessionTimeoutMs
    this.node.call(0, { _tag: "KeepAlive", lease }, Math.min(this.options.requestTimeoutMs, ttl / 4), (reply) => {
      const r = reply as StoreReply | undefined
      if (this.lease !== lease) return
      if (r?._tag === "KeptAlive" && !r.ok) {
        // the store expired the session: registered no more; every leadership ends until a new election
        this.lease = undefined
        this.registration = 0
        this.applyView()
        return this.register()
      }
      this.node.timer(r === undefined ? 100 : ttl / 4, "keepalive", () => this.keepAlive(lease))
    })
  }

  private pollLoop(): void {
    this.node.call(0, { _tag: "Read" }, this.options.requestTimeoutMs, (reply) => {
      const r = reply as StoreReply | undefined
      if (r?._tag === "ReadResult") this.learn(r.entries, r.revision)
    })
    this.node.timer(this.options.metadataPollMs, "poll", () => this.pollLoop())
  }

  private learn(entries: ReadonlyArray<KvEntry>, revision: number): void {
    // replies overtake each other on the network: never go back to an older read
    if (revision < this.viewRevision) return
    this.viewRevision = revision
    const brokers = new Map<number, number>()
    const view = new Map<string, { record: PartitionRecord; version: number }>()
    let controller: number | undefined
    for (const e of entries) {
      if (e.key.startsWith("brokers/")) brokers.set(Number(e.key.slice("brokers/".length)), e.modRevision)
      else if (e.key.startsWith("partitions/")) view.set(e.key, { record: recordOf(e), version: e.modRevision })
      else if (e.key === "controller") controller = Number(e.value)
      else if (e.key === "epochs/controller") this.controllerEpoch = Number(e.value)
    }
    this.brokers = brokers
    this.view = view
    this.controller = controller
    this.applyView()
    if (this.registration === 0 || this.lease === undefined) {
      this.ctrl = undefined
      return
    }
    if (controller === undefined) this.campaign(this.lease)
    if (controller !== this.id) this.ctrl = undefined
    else if (this.ctrl === undefined) this.takeOver(entries, revision)
    else this.follow()
    if (controller === this.id) this.createPartitions()
  }

  private campaign(lease: string): void {
    this.node.call(
      0,
      {
        _tag: "Txn",
        compares: [{ key: "controller", modRevision: 0 }],
        ops: [
          { _tag: "Put", key: "controller", value: String(this.id), lease },
          { _tag: "Put", key: "epochs/controller", value: String(this.controllerEpoch + 1) }
        ]
      },
      this.options.requestTimeoutMs,
      () => {}
    )
  }

  /** A new controller starts from the cluster at one revision, then follows every change after it. */
  private takeOver(entries: ReadonlyArray<KvEntry>, revision: number): void {
    const brokers = new Map<number, number>()
    const partitions = new Map<string, { record: PartitionRecord; version: number }>()
    for (const e of entries) {
      if (e.key.startsWith("brokers/")) brokers.set(Number(e.key.slice("brokers/".length)), e.modRevision)
      else if (e.key.startsWith("partitions/")) partitions.set(e.key, { record: recordOf(e), version: e.modRevision })
    }
    const { state, writes } = this.logic.controllerStart({
      brokers,
      partitions,
      uncleanLeaderElection: this.options.uncleanLeaderElection
    })
    const ctrl = { state, revision, queue: [], writes: [...writes], busy: false }
    this.ctrl = ctrl
    this.pump(ctrl)
  }

  /** The controller's watch: every store change since the last one it saw, in revision order. */
  private follow(): void {
    const ctrl = this.ctrl
    if (ctrl === undefined || this.ctrlStarting) return
    this.ctrlStarting = true
    this.node.call(0, { _tag: "Watch", fromRevision: ctrl.revision + 1 }, this.options.requestTimeoutMs, (reply) => {
      this.ctrlStarting = false
      const w = reply as StoreReply | undefined
      if (w?._tag !== "WatchResult" || this.ctrl !== ctrl) return
      if (w.compacted) {
        this.ctrl = undefined
        return
      }
      for (const e of w.events) {
        if (e.revision <= ctrl.revision) continue
        ctrl.revision = e.revision
        if (e.key.startsWith("brokers/")) {
          const id = Number(e.key.slice("brokers/".length))
          this.controlStep(
            e.value === undefined ? { _tag: "BrokerLost", id } : { _tag: "BrokerRegistered", id, revision: e.revision }
          )
        } else if (e.key.startsWith("partitions/") && e.value !== undefined)
          this.controlStep({
            _tag: "PartitionChanged",
            key: e.key,
            record: JSON.parse(e.value) as PartitionRecord,
            version: e.revision
          })
      }
    })
  }

  /** Queues a store change for the controller; the controller handles one at a time (see {@link pump}). */
  private controlStep(input: ControllerInput): void {
    const ctrl = this.ctrl
    if (ctrl === undefined) return
    ctrl.queue.push(input)
    this.pump(ctrl)
  }

  /**
   * The controller actor's loop: step one input, then write its effects one after another, stepping each
   * write's outcome (the record written, or the one that won the compare) before the next write and before the
   * next input. A write the store does not answer is retried by re-reading the record later.
   */
  private pump(ctrl: NonNullable<SimBroker<L, C>["ctrl"]>): void {
    while (this.ctrl === ctrl && !ctrl.busy) {
      const w = ctrl.writes.shift()
      if (w !== undefined) {
        ctrl.busy = true
        this.writeOne(ctrl, w)
        return
      }
      const input = ctrl.queue.shift()
      if (input === undefined) return
      this.stepNow(ctrl, input)
    }
  }

  private stepNow(ctrl: NonNullable<SimBroker<L, C>["ctrl"]>, input: ControllerInput): void {
    const { state, writes } = this.logic.controllerStep(ctrl.state, input)
    ctrl.state = state
    if (this.node.net.sched.trace !== undefined)
      this.node.net.sched.record(`controller ${this.id} ${JSON.stringify(input)} -> ${JSON.stringify(writes)}`)
    ctrl.writes.push(...writes)
  }

  /** Writes one partition record with compare-and-swap and steps the outcome. */
  private writeOne(ctrl: NonNullable<SimBroker<L, C>["ctrl"]>, w: PartitionWrite): void {
    const done = (outcome: ControllerInput | undefined) => {
      if (this.ctrl !== ctrl) return
      ctrl.busy = false
      if (outcome !== undefined) this.stepNow(ctrl, outcome)
      this.pump(ctrl)
    }
    this.node.call(
      0,
      {
        _tag: "Txn",
        compares: [{ key: w.key, modRevision: w.expectedVersion }, ...(w.guards ?? [])],
        ops: [{ _tag: "Put", key: w.key, value: JSON.stringify(w.record) }]
      },
      this.options.requestTimeoutMs,
      (reply) => {
        const t = reply as StoreReply | undefined
        if (t?._tag === "TxnResult" && t.revision !== undefined)
          return done({ _tag: "PartitionChanged", key: w.key, record: w.record, version: t.revision })
        if (t === undefined) {
          // no answer: go on, and step the record the store holds a little later
          this.reread(ctrl, w.key, 1000)
          return done(undefined)
        }
        // lost the compare: step the record that won
        this.node.call(0, { _tag: "Read" }, this.options.requestTimeoutMs, (read) => {
          const r = read as StoreReply | undefined
          if (r?._tag !== "ReadResult") {
            this.reread(ctrl, w.key, 1000)
            return done(undefined)
          }
          const e = r.entries.find((x) => x.key === w.key)
          // the record unchanged: a guarded registration changed; the watch brings that change to step first (as the
          // controller actor does with a write whose registrations no longer hold)
          done(
            e === undefined || e.modRevision === w.expectedVersion
              ? undefined
              : { _tag: "PartitionChanged", key: w.key, record: recordOf(e), version: e.modRevision }
          )
        })
      }
    )
  }

  /** Reads one record for the controller's step, until the store answers or the term ends (as the actor retries). */
  private reread(ctrl: NonNullable<SimBroker<L, C>["ctrl"]>, key: string, delay: number): void {
    this.node.timer(delay, "reread", () =>
      this.node.call(0, { _tag: "Read" }, this.options.requestTimeoutMs, (read) => {
        if (this.ctrl !== ctrl) return
        const r = read as StoreReply | undefined
        if (r?._tag !== "ReadResult") return this.reread(ctrl, key, 1000)
        const e = r.entries.find((x) => x.key === key)
        if (e !== undefined)
          this.controlStep({ _tag: "PartitionChanged", key, record: recordOf(e), version: e.modRevision })
      })
    )
  }

  /** Creates the topic's partition records once every broker is registered (what the broker's topic publisher does). */
  private createPartitions(): void {
    if (this.brokers.size < this.options.brokers) return
    for (let p = 0; p < this.options.partitions; p++) {
      const key = partitionKey(this.options.topic, p)
      if (this.view.has(key)) continue
      const replicas = Array.from(
        { length: this.options.replicationFactor },
        (_, i) => ((p + i) % this.options.brokers) + 1
      )
      const record: PartitionRecord = {
        topic: this.options.topic,
        partition: p,
        replicas,
        isr: replicas,
        leader: replicas[0]!,
        leaderEpoch: 0,
        partitionEpoch: 0
      }
      this.node.call(
        0,
        {
          _tag: "Txn",
          compares: [{ key, modRevision: 0 }],
          ops: [{ _tag: "Put", key, value: JSON.stringify(record) }]
        },
        this.options.requestTimeoutMs,
        () => {}
      )
    }
  }

  /** Moves every replica to the role its record gives it. */
  private applyView(): void {
    for (const r of this.replicas.values()) {
      const entry = this.view.get(r.key)
      if (entry === undefined) continue
      const { record, version } = entry
      if (!record.replicas.includes(this.id)) continue
      const leads = this.logic.leadsRecord(
        this.id,
        record.leader,
        version,
        this.registration > 0 ? this.registration : undefined
      )
      const role = leads ? "leader" : record.leader >= 0 && record.leader !== this.id ? "follower" : "none"
      if (role === r.role && record.leaderEpoch === r.epoch && record.leader === r.leaderId) {
        if (role === "leader" && record.partitionEpoch > r.partitionEpoch) {
          r.partitionEpoch = record.partitionEpoch
          this.leaderStep(r, { _tag: "IsrCommitted", isr: record.isr, partitionEpoch: record.partitionEpoch })
        }
        continue
      }
      if (record.leaderEpoch < r.epoch) continue
      this.transition(r, role, record)
    }
  }

  private transition(r: Replica<L>, role: Replica<L>["role"], record: PartitionRecord): void {
    if (r.role === "leader") this.failWaiting(r, "NOT_LEADER_OR_FOLLOWER")
    r.generation++
    r.role = role
    r.leaderId = record.leader
    r.files.knownEpoch = Math.max(r.files.knownEpoch, record.leaderEpoch)
    r.leader = undefined
    r.phase = "idle"
    this.changes++
    r.partitionEpoch = record.partitionEpoch
    if (role === "leader") {
      r.files.epochs.assign(record.leaderEpoch, r.files.logEndOffset)
      r.leader = this.logic.leaderInit({
        brokerId: this.id,
        record,
        leo: r.files.logEndOffset,
        hw: r.hw,
        nowMs: this.node.nowMs,
        minInsyncReplicas: this.options.minInsyncReplicas,
        replicaLagTimeMaxMs: this.options.replicaLagTimeMaxMs
      })
    } else if (role === "follower") this.truncate(r)
  }

  // ---- leader ----

  private leaderStep(r: Replica<L>, input: LeaderInput): void {
    if (r.leader === undefined) return
    const { state, effects } = this.logic.leaderStep(r.leader, input)
    r.leader = state
    if (
      this.node.net.sched.trace !== undefined &&
      (input._tag.startsWith("Isr") || effects.some((e) => e._tag === "ProposeIsr"))
    )
      this.node.net.sched.record(`leader ${this.id} ${r.key} ${JSON.stringify(input)} -> ${JSON.stringify(effects)}`)
    const out: Array<LeaderEffect> = [...effects]
    if (this.options.brokenHighWatermark && input._tag === "Appended")
      out.push({ _tag: "HighWatermark", hw: r.files.logEndOffset })
    for (const e of out) {
      if (e._tag === "HighWatermark") {
        if (e.hw > r.hw) {
          r.hw = e.hw
          this.changes++
        }
        this.answerWaiting(r)
      } else this.proposeIsr(r, e.isr, e.partitionEpoch)
    }
  }

  private proposeIsr(r: Replica<L>, isr: ReadonlyArray<number>, partitionEpoch: number) {
    const entry = this.view.get(r.key)
    const generation = r.generation
    if (entry === undefined) return this.leaderStep(r, { _tag: "IsrRejected" })
    const record: PartitionRecord = { ...entry.record, isr, partitionEpoch }
    this.node.call(
      0,
      {
        _tag: "Txn",
        compares: [{ key: r.key, modRevision: entry.version }],
        ops: [{ _tag: "Put", key: r.key, value: JSON.stringify(record) }]
      },
      this.options.requestTimeoutMs,
      (reply) => {
        if (r.generation !== generation) return
        const t = reply as StoreReply | undefined
        if (t?._tag === "TxnResult" && t.revision !== undefined) {
          this.view.set(r.key, { record, version: t.revision })
          this.isrCommitted(r, record)
        } else if (t?._tag === "TxnResult") this.leaderStep(r, { _tag: "IsrRejected" })
        else this.resolveProposal(r, record, generation)
      }
    )
  }

  private isrCommitted(r: Replica<L>, record: PartitionRecord): void {
    r.partitionEpoch = Math.max(r.partitionEpoch, record.partitionEpoch)
    this.leaderStep(r, { _tag: "IsrCommitted", isr: record.isr, partitionEpoch: record.partitionEpoch })
  }

  /**
   * The store did not answer a proposal: it may have applied it. Until a read says which, the proposal stays
   * pending (the leader keeps counting the maximal ISR), never taken for rejected.
   */
  private resolveProposal(r: Replica<L>, proposed: PartitionRecord, generation: number): void {
    this.node.call(0, { _tag: "Read" }, this.options.requestTimeoutMs, (reply) => {
      if (r.generation !== generation) return
      const read = reply as StoreReply | undefined
      if (read?._tag !== "ReadResult")
        return this.node.timer(100, "resolve", () => this.resolveProposal(r, proposed, generation))
      const entry = read.entries.find((e) => e.key === r.key)
      const current = entry === undefined ? undefined : recordOf(entry)
      const applied =
        current !== undefined &&
        current.partitionEpoch === proposed.partitionEpoch &&
        current.leaderEpoch === proposed.leaderEpoch &&
        current.isr.length === proposed.isr.length &&
        current.isr.every((b, i) => b === proposed.isr[i])
      if (applied) this.isrCommitted(r, current)
      else this.leaderStep(r, { _tag: "IsrRejected" })
      this.learn(read.entries, read.revision)
    })
  }

  private answerWaiting(r: Replica<L>): void {
    if (r.leader === undefined) return
    const still: Array<Waiting> = []
    for (const w of r.waiting) {
      const verdict = this.logic.acksAll(r.leader, w.offset + 1)
      if (verdict === "ready") this.answer(w, { offset: w.offset, appended: true })
      else if (verdict === "not-enough-replicas")
        this.answer(w, { error: "NOT_ENOUGH_REPLICAS_AFTER_APPEND", appended: true })
      else if (w.deadline <= this.node.net.sched.now) this.answer(w, { error: "REQUEST_TIMED_OUT", appended: true })
      else still.push(w)
    }
    r.waiting = still
  }

  private answer(w: Waiting, result: { offset?: number; error?: WireError; appended: boolean }): void {
    this.node.reply(w.from, w.correlation, { _tag: "ProduceResult", ...result })
  }

  private failWaiting(r: Replica<L>, error: WireError): void {
    for (const w of r.waiting) this.answer(w, { error, appended: true })
    r.waiting = []
  }

  private tickLoop(): void {
    for (const r of this.replicas.values())
      if (r.role === "leader") {
        this.leaderStep(r, { _tag: "Tick", nowMs: this.node.nowMs })
        this.answerWaiting(r)
      }
    this.node.timer(100, "tick", () => this.tickLoop())
  }

  private flushLoop(): void {
    this.disk.sync(this.node.net.sched.now)
    for (const r of this.replicas.values()) r.files.checkpointedHw = r.hw
    this.node.timer(this.options.flushIntervalMs, "flush", () => this.flushLoop())
  }

  // ---- requests ----

  private handle(from: NodeId, req: BrokerRequest, correlation: number | undefined) {
    const reply = (m: BrokerReply & Message) => this.node.reply(from, correlation, m)
    if (req._tag === "Metadata") {
      const leaders: Array<readonly [string, number, number]> = []
      for (const [key, { record }] of this.view) leaders.push([key, record.leader, record.leaderEpoch])
      return reply({ _tag: "MetadataResult", leaders })
    }
    const r = this.replicas.get(req.key)
    if (this.disk.stalledUntil > this.node.net.sched.now && req._tag === "Produce") {
      // a stalled disk holds the request handler on its write
      this.node.timer(this.disk.stalledUntil - this.node.net.sched.now, "stalled", () =>
        this.handle(from, req, correlation)
      )
      return
    }
    if (r === undefined || r.role !== "leader" || r.leader === undefined) {
      if (req._tag === "Produce")
        return reply({ _tag: "ProduceResult", error: "NOT_LEADER_OR_FOLLOWER", appended: false })
      if (req._tag === "Fetch")
        return reply({ _tag: "FetchResult", error: "NOT_LEADER_OR_FOLLOWER", records: [], hw: 0 })
      return reply({ _tag: "EpochEndResult", error: "NOT_LEADER_OR_FOLLOWER", leaderEpoch: -1, endOffset: -1 })
    }
    switch (req._tag) {
      case "Produce":
        return this.produce(r, from, req.value, correlation)
      case "Fetch":
        return reply(this.fetch(r, req))
      case "EpochEnd": {
        if (req.leaderEpoch !== r.epoch) {
          const error = req.leaderEpoch < r.epoch ? "FENCED_LEADER_EPOCH" : "UNKNOWN_LEADER_EPOCH"
          return reply({ _tag: "EpochEndResult", error, leaderEpoch: -1, endOffset: -1 })
        }
        const answer = r.files.epochs.endOffsetFor(req.epoch, r.files.logEndOffset)
        return reply({ _tag: "EpochEndResult", ...answer })
      }
    }
  }

  private produce(r: Replica<L>, from: NodeId, value: string, correlation: number | undefined): void {
    const leader = r.leader!
    if (this.disk.health === "failed") {
      // the only log directory failed: the broker halts (Kafka shuts down when no log directory is left)
      this.node.net.sched.record(`halt ${this.id}`)
      this.halted = true
      this.node.kill()
      return
    }
    if (!this.logic.enoughReplicas(leader)) {
      this.node.reply(from, correlation, { _tag: "ProduceResult", error: "NOT_ENOUGH_REPLICAS", appended: false })
      return
    }
    const offset = r.files.logEndOffset
    r.files.append({ offset, epoch: r.epoch, value, crc: crcOf(offset, r.epoch, value) })
    this.changes++
    r.waiting.push({ offset, from, correlation, deadline: this.node.net.sched.now + this.options.requestTimeoutMs })
    this.leaderStep(r, { _tag: "Appended", leo: r.files.logEndOffset, nowMs: this.node.nowMs })
    this.answerWaiting(r)
  }

  /** Set when the broker halted itself (a failed disk); the harness restarts it with a new disk. */
  halted = false

  private fetch(r: Replica<L>, req: Extract<BrokerRequest, { _tag: "Fetch" }>): BrokerReply & Message {
    const empty = (error: WireError) => ({ _tag: "FetchResult" as const, error, records: [], hw: r.hw })
    // the fetcher's current leader epoch (KIP-320; -1 skips the check): a deposed leader fences a newer one
    if (req.epoch >= 0 && req.epoch !== r.epoch)
      return empty(req.epoch < r.epoch ? "FENCED_LEADER_EPOCH" : "UNKNOWN_LEADER_EPOCH")
    if (req.offset > r.files.logEndOffset || req.offset < 0) return empty("OFFSET_OUT_OF_RANGE")
    if (req.replica >= 0)
      this.leaderStep(r, {
        _tag: "FollowerFetched",
        replica: req.replica,
        fetchOffset: req.offset,
        nowMs: this.node.nowMs
      })
    const end = Math.min(req.replica >= 0 ? r.files.logEndOffset : r.hw, req.offset + req.max)
    return { _tag: "FetchResult", records: r.files.batches.slice(req.offset, Math.max(req.offset, end)), hw: r.hw }
  }

  // ---- follower ----

  private truncate(r: Replica<L>) {
    const generation = r.generation
    r.phase = "truncating"
    const requestedEpoch = this.logic.epochToAsk(r.files.epochs)
    if (requestedEpoch === undefined) {
      // an empty log has nothing to truncate
      r.phase = "fetching"
      return this.fetchFromLeader(r)
    }
    this.node.call(
      r.leaderId,
      { _tag: "EpochEnd", key: r.key, epoch: requestedEpoch, leaderEpoch: r.epoch },
      this.options.requestTimeoutMs,
      (reply) => {
        if (r.generation !== generation || r.role !== "follower") return
        const e = reply as BrokerReply | undefined
        if (e?._tag !== "EpochEndResult" || e.error !== undefined)
          return this.node.timer(100, "retry-truncate", () => r.generation === generation && this.truncate(r))
        const { offset, complete } = this.logic.truncation({
          cache: r.files.epochs,
          logEndOffset: r.files.logEndOffset,
          highWatermark: r.hw,
          answer: { leaderEpoch: e.leaderEpoch, endOffset: e.endOffset }
        })
        if (offset < r.files.logEndOffset) {
          this.truncated += r.files.logEndOffset - offset
          r.files.truncateTo(offset)
          this.changes++
        }
        r.hw = Math.min(r.hw, r.files.logEndOffset)
        if (!complete) return this.truncate(r)
        r.phase = "fetching"
        this.fetchFromLeader(r)
      }
    )
  }

  private fetchFromLeader(r: Replica<L>): void {
    const generation = r.generation
    this.node.call(
      r.leaderId,
      {
        _tag: "Fetch",
        key: r.key,
        offset: r.files.logEndOffset,
        epoch: r.epoch,
        replica: this.id,
        max: this.options.fetchMaxRecords
      },
      this.options.requestTimeoutMs,
      (reply) => {
        if (r.generation !== generation || r.role !== "follower") return
        const f = reply as BrokerReply | undefined
        const again = (delay: number) =>
          this.node.timer(delay, "fetch", () => r.generation === generation && this.fetchFromLeader(r))
        if (f?._tag !== "FetchResult") return again(50)
        if (f.error === "OFFSET_OUT_OF_RANGE") return this.truncate(r)
        if (f.error !== undefined) return again(100)
        if (this.disk.stalledUntil > this.node.net.sched.now)
          return again(this.disk.stalledUntil - this.node.net.sched.now)
        if (this.disk.health === "failed" && f.records.length > 0) {
          this.halted = true
          this.node.kill()
          return
        }
        for (const b of f.records) {
          if (b.offset !== r.files.logEndOffset) return this.truncate(r)
          r.files.append(b)
        }
        const hw = Math.max(r.hw, this.logic.followerHighWatermark(f.hw, r.files.logEndOffset))
        if (f.records.length > 0 || hw !== r.hw) this.changes++
        r.hw = hw
        again(f.records.length > 0 ? 0 : 50)
      }
    )
  }
}
