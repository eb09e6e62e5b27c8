/**
 * Replica assignment for new topics and partitions, as Kafka places them: the first replica of partition `p` goes
 * round-robin over the brokers from a start index, the followers at a shift that grows every `n` partitions (so
 * leaders and followers spread evenly); with racks, the brokers are first interleaved rack by rack and a partition's
 * replicas take one broker per rack before any rack gets a second.
 */

/** A broker replicas can be placed on. */
export interface Placeable {
  readonly id: number
  readonly rack: string | null
}

/** Why an assignment is impossible (INVALID_REPLICATION_FACTOR). */
export interface AssignmentProblem {
  readonly _tag: "AssignmentProblem"
  readonly message: string
}

/** Options of {@link assignReplicas}. */
export interface AssignOptions {
  /** The first partition to place (CreatePartitions places the new ones only). */
  readonly firstPartition?: number
  /** Where the round-robin starts (Kafka picks it at random); any integer, taken modulo the broker count. */
  readonly startIndex: number
  /** The initial follower shift (Kafka picks it at random too). */
  readonly shift: number
}

const mod = (a: number, n: number) => ((a % n) + n) % n

/** Brokers by id, interleaved by rack (rack A's first, rack B's first, ..., rack A's second, ...). */
export const rackAlternated = (brokers: ReadonlyArray<Placeable>): ReadonlyArray<Placeable> => {
  const byRack = new Map<string, Array<Placeable>>()
  for (const b of [...brokers].sort((a, b) => a.id - b.id)) {
    const rack = b.rack ?? ""
    const list = byRack.get(rack) ?? []
    list.push(b)
    byRack.set(rack, list)
  }
  const racks = [...byRack.keys()].sort()
  const out: Array<Placeable> = []
  for (let i = 0; out.length < brokers.length; i++) {
    for (const r of racks) {
      const b = byRack.get(r)![i]
      if (b !== undefined) out.push(b)
    }
  }
  return out
}

/**
 * Replica lists for `count` partitions with `replicationFactor` replicas each over `brokers`; rack-aware when every
 * broker has a rack. Fails when the factor is not positive or exceeds the brokers.
 */
export const assignReplicas = (
  brokers: ReadonlyArray<Placeable>,
  count: number,
  replicationFactor: number,
  options: AssignOptions
): ReadonlyArray<ReadonlyArray<number>> | AssignmentProblem => {
  if (replicationFactor <= 0) {
    return { _tag: "AssignmentProblem", message: "Replication factor must be larger than 0." }
  }
  if (replicationFactor > brokers.length) {
    return {
      _tag: "AssignmentProblem",
      message: `Unable to replicate the partition ${replicationFactor} time(s): The target replication factor of ${replicationFactor} cannot be reached because only ${brokers.length} broker(s) are registered.`
    }
  }
  const rackAware = brokers.length > 0 && brokers.every((b) => b.rack !== null)
  const ordered = rackAware ? rackAlternated(brokers) : [...brokers].sort((a, b) => a.id - b.id)
  const n = ordered.length
  const racks = new Set(ordered.map((b) => b.rack)).size
  const first = options.firstPartition ?? 0
  const out: Array<ReadonlyArray<number>> = []
  let shift = mod(options.shift, n)
  for (let p = first; p < first + count; p++) {
    if (p > 0 && p % n === 0) shift++
    const leaderIndex = mod(p + options.startIndex, n)
    const replicas = [ordered[leaderIndex]!]
    const followerStart = mod(leaderIndex + 1 + mod(shift, Math.max(n - 1, 1)), n)
    // with racks: first one broker per rack not yet used, then any broker not yet used
    for (let pass = rackAware ? 0 : 1; pass < 2 && replicas.length < replicationFactor; pass++) {
      for (let k = 0; k < n && replicas.length < replicationFactor; k++) {
        const b = ordered[mod(followerStart + k, n)]!
        if (replicas.includes(b)) continue
        if (pass === 0) {
          const used = new Set(replicas.map((r) => r.rack))
          if (used.has(b.rack) && used.size < racks) continue
        }
        replicas.push(b)
      }
    }
    out.push(replicas.map((b) => b.id))
  }
  return out
}

/** Checks a manual assignment against the live brokers; returns the problem (INVALID_REPLICA_ASSIGNMENT) or undefined. */
export const checkManual = (
  replicas: ReadonlyArray<number>,
  live: ReadonlySet<number>,
  what: string
): string | undefined => {
  if (replicas.length === 0) return `The replica list of ${what} is empty.`
  if (new Set(replicas).size !== replicas.length) return `The replica list of ${what} has duplicate brokers.`
  const unknown = replicas.find((b) => !live.has(b))
  if (unknown !== undefined) return `Broker ${unknown} in the replica list of ${what} is not a live broker.`
  return undefined
}
