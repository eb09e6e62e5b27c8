/**
 * The harness's own stand-in for the replication and controller decisions (Kafka's rules, written from the
 * documented behaviour), used where the broker's pure state machines are not available yet. See `Logic.ts`.
 *
 * Leader: the high watermark is the smallest log end offset over the maximal ISR (the committed ISR plus a
 * pending addition; a pending removal counts until committed), known only from fetches in this leader epoch;
 * a follower leaves the ISR after `replica.lag.time.max.ms` without catching up to the log end, and joins when
 * it reached the high watermark and the epoch's start offset; one ISR change in flight at a time.
 * Controller: a broker is fresh for a partition when it registered before the record's last change; a leader
 * that is not fresh (dead, or restarted since) is replaced by the first fresh ISR member, else by the last
 * live ISR member, else (unclean election only) by any live replica, else the partition has no leader; stale
 * brokers leave the ISR (never emptying it). Every change bumps the partition epoch, a leader change the
 * leader epoch.
 */
import { UNDEFINED_EPOCH } from "../../src/log/LeaderEpochCache.js"
import type { Logic, PartitionRecord, PartitionWrite, TruncationInput } from "./Logic.js"
import { partitionKey } from "./Logic.js"

interface Follower {
  readonly leo: number
  readonly caughtUpMs: number
}

/** The stand-in leader state. */
export interface AdapterLeader {
  readonly id: number
  readonly isr: ReadonlyArray<number>
  readonly partitionEpoch: number
  readonly pending: { readonly isr: ReadonlyArray<number>; readonly partitionEpoch: number } | undefined
  readonly leo: number
  readonly hw: number
  readonly epochStart: number
  readonly followers: ReadonlyMap<number, Follower>
  readonly minIsr: number
  readonly lagMs: number
}

const withHw = (s: AdapterLeader) => {
  const maximal = new Set([...s.isr, ...(s.pending?.isr ?? [])])
  let low = s.leo
  for (const r of maximal) if (r !== s.id) low = Math.min(low, s.followers.get(r)?.leo ?? -1)
  if (low <= s.hw) return { state: s, effects: [] }
  return { state: { ...s, hw: low }, effects: [{ _tag: "HighWatermark" as const, hw: low }] }
}

const propose = (s: AdapterLeader, isr: ReadonlyArray<number>) => {
  const pending = { isr, partitionEpoch: s.partitionEpoch + 1 }
  const next = withHw({ ...s, pending })
  return { state: next.state, effects: [...next.effects, { _tag: "ProposeIsr" as const, ...pending }] }
}

/** Truncation point of a returning follower (KIP-279). */
const truncationOffset = ({ cache, logEndOffset, highWatermark, requestedEpoch, answer }: TruncationInput): number => {
  if (answer.leaderEpoch === UNDEFINED_EPOCH) return Math.min(highWatermark, logEndOffset)
  if (answer.leaderEpoch === requestedEpoch) return Math.min(answer.endOffset, logEndOffset)
  const mine = cache.endOffsetFor(answer.leaderEpoch, logEndOffset)
  return Math.min(answer.endOffset, mine.endOffset < 0 ? highWatermark : mine.endOffset, logEndOffset)
}

const controller = (view: Parameters<Logic<AdapterLeader>["controller"]>[0]): ReadonlyArray<PartitionWrite> => {
  const writes: Array<PartitionWrite> = []
  for (const w of view.wanted) {
    const key = partitionKey(w.topic, w.partition)
    const current = view.partitions.get(key)
    if (current === undefined) {
      const live = w.replicas.filter((b) => view.brokers.has(b))
      if (live.length === w.replicas.length)
        writes.push({
          key,
          expectedVersion: 0,
          record: { ...w, isr: live, leader: live[0]!, leaderEpoch: 0, partitionEpoch: 0 }
        })
      continue
    }
    const { record, version } = current
    const fresh = (b: number) => (view.brokers.get(b) ?? Number.MAX_SAFE_INTEGER) < version
    const live = (b: number) => view.brokers.has(b)
    const freshIsr = record.isr.filter(fresh)
    let next: PartitionRecord | undefined
    if (record.leader < 0 || !fresh(record.leader)) {
      const candidate =
        record.replicas.find((b) => record.isr.includes(b) && fresh(b)) ??
        (freshIsr.length === 0 ? record.replicas.find((b) => record.isr.includes(b) && live(b)) : undefined) ??
        (view.uncleanLeaderElection ? record.replicas.find(live) : undefined)
      if (candidate !== undefined) {
        const isr = record.isr.includes(candidate) ? record.isr.filter((b) => fresh(b) || b === candidate) : [candidate]
        next = { ...record, leader: candidate, isr, leaderEpoch: record.leaderEpoch + 1 }
      } else if (record.leader >= 0) next = { ...record, leader: -1, leaderEpoch: record.leaderEpoch + 1 }
    } else if (freshIsr.length !== record.isr.length && freshIsr.length > 0) next = { ...record, isr: freshIsr }
    if (next !== undefined)
      writes.push({ key, expectedVersion: version, record: { ...next, partitionEpoch: record.partitionEpoch + 1 } })
  }
  return writes
}

/** The harness's stand-in decisions. */
export const adapterLogic: Logic<AdapterLeader> = {
  name: "adapter",
  leaderInit: (start) => {
    const followers = new Map<number, Follower>()
    for (const r of start.record.replicas)
      if (r !== start.brokerId) followers.set(r, { leo: -1, caughtUpMs: start.nowMs })
    return {
      id: start.brokerId,
      isr: start.record.isr,
      partitionEpoch: start.record.partitionEpoch,
      pending: undefined,
      leo: start.leo,
      hw: start.hw,
      epochStart: start.leo,
      followers,
      minIsr: start.minInsyncReplicas,
      lagMs: start.replicaLagTimeMaxMs
    }
  },
  leaderStep: (s, input) => {
    switch (input._tag) {
      case "Appended":
        return withHw({ ...s, leo: input.leo })
      case "FollowerFetched": {
        const prev = s.followers.get(input.replica)
        if (prev === undefined) return { state: s, effects: [] }
        const caughtUpMs = input.fetchOffset >= s.leo ? input.nowMs : prev.caughtUpMs
        const followers = new Map(s.followers).set(input.replica, { leo: input.fetchOffset, caughtUpMs })
        const next = { ...s, followers }
        if (
          s.pending === undefined &&
          !s.isr.includes(input.replica) &&
          input.fetchOffset >= s.hw &&
          input.fetchOffset >= s.epochStart
        )
          return propose(next, [...s.isr, input.replica])
        return withHw(next)
      }
      case "Tick": {
        if (s.pending !== undefined) return { state: s, effects: [] }
        const lagging = s.isr.filter(
          (r) => r !== s.id && input.nowMs - (s.followers.get(r)?.caughtUpMs ?? input.nowMs) > s.lagMs
        )
        return lagging.length === 0
          ? { state: s, effects: [] }
          : propose(
              s,
              s.isr.filter((r) => !lagging.includes(r))
            )
      }
      case "IsrCommitted":
        if (input.partitionEpoch < s.partitionEpoch) return { state: s, effects: [] }
        return withHw({ ...s, isr: input.isr, partitionEpoch: input.partitionEpoch, pending: undefined })
      case "IsrRejected":
        return { state: { ...s, pending: undefined }, effects: [] }
    }
  },
  acksAll: (s, offset) => (s.hw < offset ? "waiting" : s.isr.length >= s.minIsr ? "ready" : "not-enough-replicas"),
  enoughReplicas: (s) => s.isr.length >= s.minIsr,
  truncationOffset,
  followerHighWatermark: (leaderHw, logEndOffset) => Math.min(leaderHw, logEndOffset),
  controller
}
