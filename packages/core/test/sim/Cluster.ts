/**
 * One simulated run: a metadata store, brokers, producers and consumers on a simulated network, disks and
 * clock, a fault schedule, and both checkers. `run({ seed })` is a pure function of its options: one seed
 * reproduces a run exactly (the same trace hash), and the result says everything needed to replay it.
 *
 * Phases: start (brokers register, the controller creates the partitions), workload with faults, heal (links
 * restored, dead brokers restarted), settle, final reads of every partition to its end, final snapshot.
 *
 * Invariants of the fault executor: a fault that can lose data on a broker (machine crash, lost or failed disk)
 * hits a follower (a broker leading no partition), and runs only while every broker is up, unpaused, registered in
 * its current incarnation and in every ISR, no link is cut and no clock jumped lately, and nothing else fails
 * until that broker is back in every ISR; such a broker restarts only once it left every ISR it shared (Kafka's
 * guarantees assume no more: a lost disk combined with other failures loses data in Kafka too). Process kills,
 * pauses, partitions, stalls and clock jumps are unrestricted.
 */
import { execSync } from "node:child_process"
import * as HistoryChecker from "../../src/testing/HistoryChecker.js"
import * as ReplicationChecker from "../../src/testing/ReplicationChecker.js"
import { Consumer, History, Producer } from "./Clients.js"
import { Disk } from "./Disk.js"
import type { Fault, Timed } from "./Faults.js"
import * as Faults from "./Faults.js"
import type { Logic, PartitionRecord } from "./Logic.js"
import { partitionKey } from "./Logic.js"
import type { NetworkOptions } from "./Network.js"
import { Network } from "./Network.js"
import { Prng } from "./Prng.js"
import { realLogic } from "./RealLogic.js"
import { Scheduler } from "./Scheduler.js"
import type { BrokerOptions } from "./SimBroker.js"
import { SimBroker } from "./SimBroker.js"
import { Store } from "./Store.js"

/** A hand-written fault schedule with a name (Kafka's Raft simulation scenarios). */
export interface Scenario {
  readonly name: string
  readonly brokers?: number
  /** The schedule, given the options the seed derived (timeouts vary by seed). */
  readonly faults: (options: Derived) => ReadonlyArray<Timed>
}

/** What a run is asked to do. */
export interface RunOptions {
  readonly seed: number
  // biome-ignore lint/suspicious/noExplicitAny: the leader and controller state types are the logic's own
  readonly logic?: Logic<any, any>
  readonly scenario?: Scenario
  /** The deliberately broken variant (high watermark at the leader's log end). */
  readonly brokenHighWatermark?: boolean
  /** Keep every event's label (for debugging one seed). */
  readonly trace?: boolean
  /** Called with the snapshot at every new replication violation (for debugging one seed). */
  readonly onViolation?: (
    snapshot: ReplicationChecker.Snapshot,
    violation: ReplicationChecker.Violation,
    now: number
  ) => void
}

/** The options a seed derives. */
export interface Derived {
  readonly logic: string
  readonly scenario: string
  readonly broker: BrokerOptions
  readonly network: NetworkOptions
  readonly producers: number
  readonly consumers: number
  readonly workloadMs: number
  readonly faultGapMs: number
}

/** A run's outcome. */
export interface RunResult {
  readonly seed: number
  readonly commit: string
  readonly options: Derived
  readonly faults: ReadonlyArray<string>
  readonly traceHash: string
  readonly steps: number
  readonly virtualMs: number
  readonly history: HistoryChecker.Report
  readonly violations: ReadonlyArray<ReplicationChecker.Violation>
  readonly outOfRange: number
  readonly finalReadsCompleted: boolean
  readonly skippedFaults: number
  /** Faults that ran, by kind; records truncated by followers; the largest leader epoch reached. */
  readonly stats: {
    readonly executed: Readonly<Record<string, number>>
    readonly truncated: number
    readonly maxEpoch: number
  }
  readonly trace: ReadonlyArray<string> | undefined
  /** No anomaly, no violation, no consumer reset, and the final reads completed. */
  readonly ok: boolean
}

let headCommit: string | undefined
/** The git commit of the code under test, read once per process. */
export const commit = (): string => {
  if (headCommit === undefined) {
    try {
      headCommit = execSync("git rev-parse HEAD", { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()
    } catch {
      headCommit = "unknown"
    }
  }
  return headCommit
}

// biome-ignore lint/suspicious/noExplicitAny: the leader state type is the logic's own
type AnyLogic = Logic<any, any>

const derive = (rng: Prng, o: RunOptions, logic: AnyLogic): Derived => {
  const brokers = o.scenario?.brokers ?? 3
  const minDelayMs = rng.int(0, 3)
  return {
    logic: logic.name,
    scenario: o.scenario?.name ?? "random",
    broker: {
      brokers,
      replicationFactor: Math.min(3, brokers),
      topic: "t",
      partitions: rng.int(1, 2),
      sessionTimeoutMs: rng.int(6, 20) * 150,
      metadataPollMs: rng.int(50, 200),
      replicaLagTimeMaxMs: rng.int(4, 20) * 100,
      minInsyncReplicas: 2,
      requestTimeoutMs: rng.int(500, 1500),
      flushIntervalMs: rng.int(20, 500),
      fetchMaxRecords: rng.int(1, 20),
      uncleanLeaderElection: false,
      brokenHighWatermark: o.brokenHighWatermark === true
    },
    network: {
      minDelayMs,
      maxDelayMs: minDelayMs + rng.int(1, 30),
      dropRate: rng.chance(0.5) ? 0 : rng.int(1, 30) / 1000
    },
    producers: rng.int(1, 3),
    consumers: rng.int(1, 2),
    workloadMs: rng.int(30, 60) * 100,
    faultGapMs: rng.int(3, 12) * 100
  }
}

/** One line describing a run: seed, commit, derived options, outcome. */
export const describe = (r: RunResult): string =>
  `seed=${r.seed} commit=${r.commit.slice(0, 12)} trace=${r.traceHash} ok=${r.ok} options=${JSON.stringify(r.options)} ` +
  `history=${JSON.stringify(r.history.stats)} violations=${r.violations.length} outOfRange=${r.outOfRange} ` +
  `finalReads=${r.finalReadsCompleted} steps=${r.steps} virtualMs=${r.virtualMs} faults=${JSON.stringify(r.stats.executed)} ` +
  `skipped=${r.skippedFaults} truncated=${r.stats.truncated} maxEpoch=${r.stats.maxEpoch}`

/** Everything about a failed run a reader needs to replay and understand it. */
export const explain = (r: RunResult): string =>
  [
    describe(r),
    HistoryChecker.summary(r.history),
    ...r.violations.slice(0, 10).map((v) => `${v.name} at step ${v.step}: ${v.message}`),
    "faults:",
    ...r.faults
  ].join("\n")

/** Runs one simulation. */
export const run = (o: RunOptions): RunResult => {
  const logic: AnyLogic = o.logic ?? realLogic
  const rng = new Prng(o.seed)
  const options = derive(rng.split("options"), o, logic)
  const bo = options.broker
  const sched = new Scheduler()
  if (o.trace === true) sched.trace = []
  const net = new Network(sched, rng.split("network"), options.network)
  const store = new Store(net.node(0))
  const brokerIds = Array.from({ length: bo.brokers }, (_, i) => i + 1)
  const brokers = brokerIds.map((id) => new SimBroker(net.node(id), new Disk(), logic, bo))
  const brokerOf = (id: number) => brokers[id - 1]!
  const keys = Array.from({ length: bo.partitions }, (_, p) => partitionKey(bo.topic, p))
  const keyName = (key: string) => key.slice("partitions/".length).replace("/", "-")
  const history = new History()
  const env = { brokers: brokerIds, keys, requestTimeoutMs: bo.requestTimeoutMs, history, keyName }
  const clientIds = [
    ...Array.from({ length: options.producers }, (_, i) => 100 + i),
    ...Array.from({ length: options.consumers }, (_, i) => 150 + i)
  ]

  // ---- the store's view, for faults and snapshots ----
  const parsed = new Map<string, { revision: number; record: PartitionRecord }>()
  const recordOf = (key: string): PartitionRecord | undefined => {
    const e = store.state.entries.get(key)
    if (e === undefined) return undefined
    const cached = parsed.get(key)
    if (cached?.revision === e.modRevision) return cached.record
    const record = JSON.parse(e.value) as PartitionRecord
    parsed.set(key, { revision: e.modRevision, record })
    return record
  }
  const leaderOf = (key: string) => recordOf(key)?.leader ?? -1

  // ---- fault executor ----
  const faultRng = rng.split("faults")
  const schedule: ReadonlyArray<Timed> =
    o.scenario?.faults(options) ??
    Faults.generate(faultRng, {
      brokers: bo.brokers,
      from: 1500,
      until: 1000 + options.workloadMs,
      meanGapMs: options.faultGapMs,
      clients: clientIds
    })
  let recovering: number | undefined
  let skippedFaults = 0
  const down = new Map<number, { lossy: boolean; generation: number }>()
  let downGeneration = 0

  const inEveryIsr = (b: number) => keys.every((k) => recordOf(k)?.isr.includes(b) ?? false)
  const outOfSharedIsrs = (b: number) =>
    keys.every((k) => {
      const isr = recordOf(k)?.isr ?? []
      return !isr.includes(b) || isr.length === 1
    })
  /** The broker's current incarnation is the registration the store holds, older than every partition change. */
  const registeredNow = (id: number) => {
    const b = brokerOf(id)
    const registration = store.state.entries.get(`brokers/${id}`)?.modRevision
    return (
      b.registration > 0 &&
      registration === b.registration &&
      keys.every((k) => (store.state.entries.get(k)?.modRevision ?? 0) > registration)
    )
  }
  let lastClockJump = Number.NEGATIVE_INFINITY
  const safeForDataLoss = () =>
    recovering === undefined &&
    // a clock jump's effect (followers looking lagging, an ISR shrinking to the leader) comes later
    sched.now - lastClockJump > bo.replicaLagTimeMaxMs + bo.sessionTimeoutMs &&
    down.size === 0 &&
    !net.partitioned &&
    brokers.every((b) => b.node.alive && b.node.pausedUntil <= sched.now && b.disk.stalledUntil <= sched.now) &&
    brokerIds.every((id) => inEveryIsr(id) && registeredNow(id))

  const restart = (id: number) => {
    const state = down.get(id)
    if (state === undefined) return
    const b = brokerOf(id)
    if (state.lossy && !outOfSharedIsrs(id)) {
      sched.after(200, `restart-wait ${id}`, () => down.get(id)?.generation === state.generation && restart(id))
      return
    }
    down.delete(id)
    b.node.start()
    b.diskLost = state.lossy
    b.start()
  }
  const stop = (id: number, downMs: number, lossy: boolean) => {
    const b = brokerOf(id)
    if (b.node.alive) b.node.kill()
    const generation = ++downGeneration
    down.set(id, { lossy, generation })
    sched.after(downMs, `restart ${id}`, () => down.get(id)?.generation === generation && restart(id))
  }
  const resolve = (target: number | "leader") => (target === "leader" ? leaderOf(keys[0]!) : target)

  const executed: Record<string, number> = {}
  const exec = (f: Fault) => {
    if (recovering === undefined) executed[f._tag] = (executed[f._tag] ?? 0) + 1
    const skip = () => {
      skippedFaults++
      sched.record("skipped")
    }
    if (recovering !== undefined) return skip()
    switch (f._tag) {
      case "Kill": {
        const id = resolve(f.broker)
        if (id < 1 || !brokerOf(id).node.alive) return skip()
        return stop(id, f.downMs, false)
      }
      case "Crash":
      case "DiskFail": {
        if (!brokerOf(f.broker).node.alive) return skip()
        if (!safeForDataLoss() || keys.some((k) => leaderOf(k) === f.broker)) {
          executed.Kill = (executed.Kill ?? 0) + 1
          executed[f._tag]!--
          return stop(f.broker, f.downMs, false)
        }
        recovering = f.broker
        if (f._tag === "DiskFail") {
          brokerOf(f.broker).disk.health = "failed"
          failedDown.set(f.broker, f.downMs)
          return
        }
        brokerOf(f.broker).disk.loseUnsynced()
        return stop(f.broker, f.downMs, true)
      }
      case "DiskLoss": {
        if (!safeForDataLoss()) return skip()
        const leaders = new Set(keys.map(leaderOf))
        const id = brokerIds.find((b) => !leaders.has(b))
        if (id === undefined) return skip()
        recovering = id
        brokerOf(id).node.kill()
        brokerOf(id).disk.wipe()
        return stop(id, f.downMs, true)
      }
      case "DiskStall": {
        const d = brokerOf(f.broker).disk
        d.stalledUntil = Math.max(d.stalledUntil, sched.now + f.ms)
        return
      }
      case "Pause": {
        const n = brokerOf(Math.max(1, resolve(f.broker))).node
        if (!n.alive) return skip()
        n.pausedUntil = Math.max(n.pausedUntil, sched.now + f.ms)
        return
      }
      case "Partition": {
        const a = f.sides[0].map(resolve).filter((x) => x >= 0)
        const b =
          f.sides[1] === "rest"
            ? [0, ...brokerIds, ...clientIds].filter((x) => !a.includes(x))
            : f.sides[1].map(resolve).filter((x) => x >= 0)
        net.partition(a, b, f.oneWay)
        sched.after(f.ms, "heal-partition", () => net.unpartition(a, b, f.oneWay))
        return
      }
      case "ClockJump":
        brokerOf(f.broker).node.clockOffset += f.ms
        lastClockJump = sched.now
        return
    }
  }
  const failedDown = new Map<number, number>()
  for (const t of schedule) sched.after(t.at, `fault ${t.fault._tag}`, () => exec(t.fault))

  // ---- snapshots ----
  const checker = ReplicationChecker.make()
  const snapshot = (): ReplicationChecker.Snapshot => {
    const partitions: Array<ReplicationChecker.PartitionView> = []
    for (const key of keys) {
      const record = recordOf(key)
      if (record === undefined) continue
      partitions.push({
        key: keyName(key),
        leader: record.leader < 0 ? null : record.leader,
        leaderEpoch: record.leaderEpoch,
        isr: record.isr,
        replicas: record.replicas.map((id) => {
          const b = brokerOf(id)
          const r = b.replicas.get(key)!
          return {
            broker: id,
            alive: b.node.alive,
            isLeader: r.role === "leader",
            leaderEpoch: r.epoch,
            logEndOffset: r.files.logEndOffset,
            highWatermark: r.hw,
            ...(b.diskLost ? { diskLost: true } : {}),
            batches: r.files.views
          }
        })
      })
    }
    for (const b of brokers) b.diskLost = false
    return { step: sched.steps, partitions }
  }
  let signature = -1
  const afterEach = () => {
    let sig = store.state.revision
    for (const b of brokers) sig = sig * 31 + b.changes * 2 + (b.node.alive ? 1 : 0)
    if (sig !== signature) {
      signature = sig
      const seen = checker.violations.length
      const snap = snapshot()
      ReplicationChecker.observe(checker, snap)
      if (o.onViolation !== undefined) for (const v of checker.violations.slice(seen)) o.onViolation(snap, v, sched.now)
    }
    if (recovering !== undefined) {
      const b = brokerOf(recovering)
      if (b.halted && !b.node.alive) {
        b.halted = false
        b.disk.wipe()
        stop(recovering, failedDown.get(recovering) ?? 1000, true)
      } else if (b.node.alive && !down.has(recovering) && b.disk.health === "ok" && inEveryIsr(recovering))
        recovering = undefined
    }
  }

  // ---- start, workload, heal, final reads ----
  for (const b of brokers) b.start()
  const workloadEnd = 1000 + options.workloadMs
  const clientRng = rng.split("clients")
  const producers = Array.from(
    { length: options.producers },
    (_, i) => new Producer(net.node(100 + i), env, clientRng.split(`p${i}`))
  )
  for (const p of producers) p.run(workloadEnd)
  for (let i = 0; i < options.consumers; i++)
    new Consumer(net.node(150 + i), env, clientRng.split(`c${i}`)).run(workloadEnd + 2000)

  sched.runUntil(workloadEnd, afterEach)
  // heal: every link back; failed disks replaced; dead brokers restart (a lossy one once out of the ISRs)
  net.heal()
  for (const id of brokerIds) {
    const b = brokerOf(id)
    if (b.disk.health === "failed" && b.node.alive) {
      b.node.kill()
      b.disk.wipe()
      down.set(id, { lossy: true, generation: ++downGeneration })
    }
    if (!b.node.alive) {
      if (!down.has(id)) down.set(id, { lossy: b.halted, generation: ++downGeneration })
      b.halted = false
      restart(id)
    }
  }
  // settle: until no send awaits its answer, every broker is up and every replica holds the leader's log to its end
  const caughtUp = () =>
    producers.every((p) => !p.inFlight) &&
    brokers.every((b) => b.node.alive && b.node.pausedUntil <= sched.now && b.disk.stalledUntil <= sched.now) &&
    keys.every((key) => {
      const record = recordOf(key)
      if (record === undefined || record.leader < 0 || record.isr.length !== record.replicas.length) return false
      const leader = brokerOf(record.leader).replicas.get(key)!
      return (
        leader.role === "leader" &&
        leader.hw === leader.files.logEndOffset &&
        record.replicas.every((id) => brokerOf(id).replicas.get(key)!.files.logEndOffset === leader.files.logEndOffset)
      )
    })
  const deadline = sched.now + 60_000
  let settled = false
  const waitSettled = () => {
    if (caughtUp()) settled = true
    else if (sched.now < deadline) sched.after(100, "settle", waitSettled)
  }
  waitSettled()
  while (!settled && sched.now < deadline && sched.step()) afterEach()
  let finished = false
  const reader = new Consumer(net.node(199), env, clientRng.split("final"))
  reader.run(deadline, 2, () => {
    finished = true
  })
  while (!finished && sched.now < deadline && sched.step()) afterEach()
  sched.runUntil(sched.now + 500, afterEach)

  const violations = ReplicationChecker.finish(checker, snapshot())
  const report = HistoryChecker.check(history.ops, { finalReads: finished })
  sched.record(`end ${report.stats.acknowledged} ${report.stats.reads} ${violations.length}`)
  return {
    seed: o.seed,
    commit: commit(),
    options,
    faults: schedule.map(Faults.show),
    traceHash: sched.traceHash,
    steps: sched.steps,
    virtualMs: sched.now,
    history: report,
    violations,
    outOfRange: history.outOfRange,
    finalReadsCompleted: finished,
    skippedFaults,
    stats: {
      executed,
      truncated: brokers.reduce((n, b) => n + b.truncated, 0),
      maxEpoch: Math.max(-1, ...keys.map((k) => recordOf(k)?.leaderEpoch ?? -1))
    },
    trace: sched.trace,
    ok: report.valid && violations.length === 0 && history.outOfRange === 0 && finished
  }
}
