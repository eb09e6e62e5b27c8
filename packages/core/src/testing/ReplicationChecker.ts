/**
 * The replication invariants of a Kafka-style cluster, checked on snapshots of every partition's replicas taken
 * after each step of a run (a simulation step, or a poll of real brokers). It is pure: feed it snapshots in order
 * with {@link observe}, then {@link finish} once every fault healed and the replicas caught up.
 *
 * Invariants:
 * - `two-leaders`: two live replicas of a partition lead it in the same leader epoch, or one epoch was led by two
 *   brokers over the run;
 * - `epoch-regressed`: a partition's leader epoch (as the metadata store says) or a live replica's epoch went
 *   back (a replica whose disk was lost starts over and is exempt until it catches up);
 * - `hw-regressed`: a leader's high watermark went back within one leader epoch;
 * - `committed-missing`: a record below the committed offset (the largest high watermark any leader announced)
 *   is missing from, or different on, a live member of the ISR;
 * - `diverged`: at the end, two live replicas of a partition hold different records below the final high
 *   watermark.
 */

/** One record batch of a replica's log, identified by its offsets, epoch and CRC. */
export interface BatchView {
  readonly baseOffset: number
  readonly lastOffset: number
  readonly leaderEpoch: number
  readonly crc: number
}

/** One replica of a partition as its broker holds it. */
export interface ReplicaView {
  readonly broker: number
  readonly alive: boolean
  /** This replica believes it leads the partition. */
  readonly isLeader: boolean
  /** The leader epoch this replica knows. */
  readonly leaderEpoch: number
  readonly logEndOffset: number
  readonly highWatermark: number
  /** Set on the first snapshot after the replica restarted with an empty disk. */
  readonly diskLost?: boolean
  readonly batches: ReadonlyArray<BatchView>
}

/** One partition: the metadata store's view (leader, epoch, ISR) and its replicas. */
export interface PartitionView {
  readonly key: string
  readonly leader: number | null
  readonly leaderEpoch: number
  readonly isr: ReadonlyArray<number>
  readonly replicas: ReadonlyArray<ReplicaView>
}

/** The cluster after one step. */
export interface Snapshot {
  readonly step: number
  readonly partitions: ReadonlyArray<PartitionView>
}

/** The invariant names. */
export type ViolationName = "two-leaders" | "epoch-regressed" | "hw-regressed" | "committed-missing" | "diverged"

/** One violated invariant. */
export interface Violation {
  readonly name: ViolationName
  readonly key: string
  readonly step: number
  readonly message: string
}

interface PartitionState {
  /** epoch -> the broker that led it */
  readonly leaders: Map<number, number>
  storeEpoch: number
  /** broker -> last known epoch */
  readonly replicaEpochs: Map<number, number>
  /** leader epoch -> last high watermark its leader announced */
  readonly leaderHw: Map<number, number>
  committed: number
  /** baseOffset -> the batch first seen below the committed offset */
  readonly committedBatches: Map<number, BatchView>
}

/** The checker's running state. */
export interface ReplicationChecker {
  readonly partitions: Map<string, PartitionState>
  readonly violations: Array<Violation>
}

/** A checker with no snapshots yet. */
export const make = (): ReplicationChecker => ({ partitions: new Map(), violations: [] })

const stateOf = (checker: ReplicationChecker, key: string): PartitionState => {
  let s = checker.partitions.get(key)
  if (s === undefined) {
    s = {
      leaders: new Map(),
      storeEpoch: -1,
      replicaEpochs: new Map(),
      leaderHw: new Map(),
      committed: 0,
      committedBatches: new Map()
    }
    checker.partitions.set(key, s)
  }
  return s
}

const sameBatch = (a: BatchView, b: BatchView): boolean =>
  a.baseOffset === b.baseOffset && a.lastOffset === b.lastOffset && a.leaderEpoch === b.leaderEpoch && a.crc === b.crc

const checkLeaders = (s: PartitionState, p: PartitionView, step: number, out: Array<Violation>): void => {
  const claims = new Map<number, number>()
  for (const r of p.replicas) {
    if (!r.alive || !r.isLeader) continue
    const other = claims.get(r.leaderEpoch)
    if (other !== undefined && other !== r.broker)
      out.push({
        name: "two-leaders",
        key: p.key,
        step,
        message: `brokers ${other} and ${r.broker} both lead ${p.key} in epoch ${r.leaderEpoch}`
      })
    claims.set(r.leaderEpoch, r.broker)
    const earlier = s.leaders.get(r.leaderEpoch)
    if (earlier !== undefined && earlier !== r.broker)
      out.push({
        name: "two-leaders",
        key: p.key,
        step,
        message: `epoch ${r.leaderEpoch} of ${p.key} was led by broker ${earlier} and now by ${r.broker}`
      })
    else s.leaders.set(r.leaderEpoch, r.broker)
  }
}

const checkEpochs = (s: PartitionState, p: PartitionView, step: number, out: Array<Violation>): void => {
  if (p.leaderEpoch < s.storeEpoch)
    out.push({
      name: "epoch-regressed",
      key: p.key,
      step,
      message: `the store's leader epoch of ${p.key} went from ${s.storeEpoch} to ${p.leaderEpoch}`
    })
  s.storeEpoch = Math.max(s.storeEpoch, p.leaderEpoch)
  for (const r of p.replicas) {
    if (!r.alive) continue
    if (r.diskLost === true) s.replicaEpochs.delete(r.broker)
    const prev = s.replicaEpochs.get(r.broker)
    if (prev !== undefined && r.leaderEpoch < prev)
      out.push({
        name: "epoch-regressed",
        key: p.key,
        step,
        message: `broker ${r.broker}'s leader epoch of ${p.key} went from ${prev} to ${r.leaderEpoch}`
      })
    s.replicaEpochs.set(r.broker, Math.max(prev ?? -1, r.leaderEpoch))
  }
}

const checkHighWatermarks = (s: PartitionState, p: PartitionView, step: number, out: Array<Violation>): void => {
  for (const r of p.replicas) {
    if (!r.alive || !r.isLeader) continue
    const prev = s.leaderHw.get(r.leaderEpoch)
    if (prev !== undefined && r.highWatermark < prev)
      out.push({
        name: "hw-regressed",
        key: p.key,
        step,
        message: `the high watermark of ${p.key} in epoch ${r.leaderEpoch} went from ${prev} to ${r.highWatermark}`
      })
    s.leaderHw.set(r.leaderEpoch, Math.max(prev ?? 0, r.highWatermark))
    s.committed = Math.max(s.committed, r.highWatermark)
  }
}

/**
 * Records each committed batch the first time a leader announces a high watermark past it, as that leader holds
 * it (a deposed leader still believing it leads an older epoch may hold a different, uncommitted batch at an
 * offset another leader committed).
 */
const learnCommitted = (s: PartitionState, p: PartitionView): void => {
  for (const r of p.replicas) {
    if (!r.alive || !r.isLeader) continue
    for (const b of r.batches)
      if (b.lastOffset < r.highWatermark && !s.committedBatches.has(b.baseOffset))
        s.committedBatches.set(b.baseOffset, b)
  }
}

const checkCommitted = (s: PartitionState, p: PartitionView, step: number, out: Array<Violation>): void => {
  for (const r of p.replicas) {
    if (!r.alive || !p.isr.includes(r.broker)) continue
    const held = new Map(r.batches.map((b) => [b.baseOffset, b]))
    for (const [base, batch] of s.committedBatches) {
      const mine = held.get(base)
      if (mine === undefined || !sameBatch(mine, batch)) {
        out.push({
          name: "committed-missing",
          key: p.key,
          step,
          message:
            mine === undefined
              ? `ISR member ${r.broker} of ${p.key} lacks committed batch ${base}-${batch.lastOffset} (committed offset ${s.committed})`
              : `ISR member ${r.broker} of ${p.key} holds a different batch at committed offset ${base}`
        })
        break
      }
    }
  }
}

/** Checks one snapshot against everything seen before it. */
export const observe = (checker: ReplicationChecker, snapshot: Snapshot): void => {
  for (const p of snapshot.partitions) {
    const s = stateOf(checker, p.key)
    checkLeaders(s, p, snapshot.step, checker.violations)
    checkEpochs(s, p, snapshot.step, checker.violations)
    checkHighWatermarks(s, p, snapshot.step, checker.violations)
    learnCommitted(s, p)
    checkCommitted(s, p, snapshot.step, checker.violations)
  }
}

/** Checks the final snapshot (faults healed, replicas caught up): live replicas agree below the high watermark. */
export const finish = (checker: ReplicationChecker, snapshot: Snapshot): ReadonlyArray<Violation> => {
  observe(checker, snapshot)
  for (const p of snapshot.partitions) {
    const live = p.replicas.filter((r) => r.alive)
    const hw = Math.min(...live.map((r) => r.highWatermark))
    const below = (r: ReplicaView) => r.batches.filter((b) => b.lastOffset < hw)
    const [first, ...rest] = live
    if (first === undefined) continue
    const reference = below(first)
    for (const r of rest) {
      const mine = below(r)
      if (mine.length !== reference.length || mine.some((b, i) => !sameBatch(b, reference[i]!)))
        checker.violations.push({
          name: "diverged",
          key: p.key,
          step: snapshot.step,
          message: `brokers ${first.broker} and ${r.broker} hold different records of ${p.key} below offset ${hw}`
        })
    }
  }
  return checker.violations
}
