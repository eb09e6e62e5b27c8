/**
 * The replication state of a partition's leader as data: the followers' log ends, the in-sync replica set
 * (ISR) and the high watermark, changed only by the pure {@link step}. The partition actor feeds it what
 * happened (appends, follower fetches, ticks of time, the store's answer to an ISR proposal) and carries out
 * the effects it returns (publish a high watermark, write a new ISR to the metadata store). No Effect, no
 * fibers: the simulation harness and the property tests drive it directly.
 *
 * Invariants (kept by {@link step} for every input sequence):
 * - The high watermark never decreases, and it is at most the log end of every member of the maximal ISR
 *   (the committed ISR plus a member a pending expansion adds; a member a pending shrink removes still
 *   counts), the leader's own log end included. A `HighWatermark` effect is returned only when it advances.
 * - At most one ISR proposal is in flight (`pendingIsr`): nothing else is proposed until the store answers
 *   (`IsrCommitted`, or `IsrRejected`, after which the caller re-reads the partition and calls {@link init}).
 * - A shrink proposes the ISR without the followers that were not caught up for more than `lagTimeMaxMs`
 *   (caught up: the follower's log end reached the leader's log end of that fetch, or of the previous fetch's
 *   answer); the leader itself is never removed. An expansion adds one assigned replica whose log end reached
 *   the high watermark and this leader epoch's start offset, and that is caught up.
 * - A proposal's `partitionEpoch` is the committed partition epoch plus one (the record the store must hold).
 */

/** What the leader knows of one follower (Kafka's replica state). */
export interface FollowerState {
  /** The follower's log end offset (its last fetch offset); -1 until it fetches in this leader epoch. */
  readonly leo: number
  /** When it was last caught up to the leader's log end (Clock ms); 0 when never. */
  readonly lastCaughtUpMs: number
  /** When it last fetched (Clock ms); 0 when never. */
  readonly lastFetchMs: number
  /** The leader's log end when it answered that last fetch. */
  readonly lastFetchLeaderLeo: number
}

/** The leader's replication state of one partition. */
export interface LeaderState {
  readonly self: number
  readonly topic: string
  readonly partition: number
  readonly leaderEpoch: number
  /** The partition epoch of the ISR as committed in the store. */
  readonly partitionEpoch: number
  /** The assigned replicas (the leader included). */
  readonly replicas: ReadonlyArray<number>
  /** The ISR as committed in the store. */
  readonly isr: ReadonlyArray<number>
  /** A proposed ISR awaiting the store, or undefined. */
  readonly pendingIsr: ReadonlyArray<number> | undefined
  /** The leader's log end offset. */
  readonly leo: number
  /** The high watermark. */
  readonly hw: number
  /** The log end offset where this leader epoch started (an expansion needs a follower at least there). */
  readonly epochStartOffset: number
  /** Per follower id (every assigned replica but the leader). */
  readonly followers: ReadonlyMap<number, FollowerState>
  /** `min.insync.replicas` of the topic. */
  readonly minInsync: number
  /** `replica.lag.time.max.ms`. */
  readonly lagTimeMaxMs: number
}

/** `replica.lag.time.max.ms`'s default. */
export const DEFAULT_LAG_TIME_MAX_MS = 30_000

/** What {@link step} is told. */
export type Input =
  | { readonly _tag: "Appended"; readonly leo: number; readonly nowMs: number }
  | { readonly _tag: "FollowerFetched"; readonly replica: number; readonly fetchOffset: number; readonly nowMs: number }
  | { readonly _tag: "Tick"; readonly nowMs: number }
  | { readonly _tag: "IsrCommitted"; readonly isr: ReadonlyArray<number>; readonly partitionEpoch: number }
  | { readonly _tag: "IsrRejected" }

/** What the caller must do after a {@link step}. */
export type Effect =
  | { readonly _tag: "HighWatermark"; readonly hw: number }
  | { readonly _tag: "ProposeIsr"; readonly isr: ReadonlyArray<number>; readonly partitionEpoch: number }

/** The result of a {@link step}. */
export interface Step {
  readonly state: LeaderState
  readonly effects: ReadonlyArray<Effect>
}

/** What {@link init} needs: the partition record as committed, the log, the topic's settings and the time. */
export interface InitOptions {
  readonly self: number
  readonly topic: string
  readonly partition: number
  readonly leaderEpoch: number
  readonly partitionEpoch: number
  readonly replicas: ReadonlyArray<number>
  readonly isr: ReadonlyArray<number>
  /** The log end offset now. */
  readonly leo: number
  /** The high watermark the log had (kept: it never goes back). */
  readonly hw: number
  /** Where this leader epoch started in the log (default `leo`). */
  readonly epochStartOffset?: number
  readonly minInsync?: number
  readonly lagTimeMaxMs?: number
  readonly nowMs: number
}

/**
 * The state of a leader that just took over (or re-read its partition): followers' log ends unknown, ISR
 * members counted as caught up now (they get `lagTimeMaxMs` to fetch), the others never caught up.
 */
export const init = (o: InitOptions): LeaderState => {
  const followers = new Map<number, FollowerState>()
  for (const id of o.replicas) {
    if (id === o.self) continue
    const inSync = o.isr.includes(id)
    followers.set(id, { leo: -1, lastCaughtUpMs: inSync ? o.nowMs : 0, lastFetchMs: 0, lastFetchLeaderLeo: -1 })
  }
  const state: LeaderState = {
    self: o.self,
    topic: o.topic,
    partition: o.partition,
    leaderEpoch: o.leaderEpoch,
    partitionEpoch: o.partitionEpoch,
    replicas: o.replicas,
    isr: o.isr,
    pendingIsr: undefined,
    leo: o.leo,
    hw: Math.min(o.hw, o.leo),
    epochStartOffset: o.epochStartOffset ?? o.leo,
    followers,
    minInsync: o.minInsync ?? 1,
    lagTimeMaxMs: o.lagTimeMaxMs ?? DEFAULT_LAG_TIME_MAX_MS
  }
  return state
}

/** The ISR the high watermark follows: the committed one plus what a pending change adds (Kafka's maximal ISR). */
export const maximalIsr = (state: LeaderState): ReadonlyArray<number> => {
  if (state.pendingIsr === undefined) return state.isr
  const all = [...state.isr]
  for (const id of state.pendingIsr) if (!all.includes(id)) all.push(id)
  return all
}

/** The log end of a replica as the leader knows it (-1 unknown). */
const leoOf = (state: LeaderState, id: number): number =>
  id === state.self ? state.leo : (state.followers.get(id)?.leo ?? -1)

/** The smallest log end over the maximal ISR (the leader's own included). */
export const hwCandidate = (state: LeaderState): number => {
  let min = state.leo
  for (const id of maximalIsr(state)) {
    const leo = leoOf(state, id)
    if (leo < min) min = leo
  }
  return min
}

/** True when `follower` is caught up at `nowMs`: at the leader's log end, or caught up within `lagTimeMaxMs`. */
export const isCaughtUp = (state: LeaderState, follower: FollowerState, nowMs: number): boolean =>
  follower.leo === state.leo || nowMs - follower.lastCaughtUpMs <= state.lagTimeMaxMs

/** Whether the committed ISR is large enough to accept an acks=all produce (`min.insync.replicas`). */
export const enoughReplicas = (state: LeaderState): boolean => state.isr.length >= state.minInsync

/** Whether an acks=all produce needing the high watermark at `requiredOffset` (its last offset + 1) can be answered. */
export const acksAllReady = (state: LeaderState, requiredOffset: number): boolean => state.hw >= requiredOffset

/**
 * The answer of an acks=all produce needing `requiredOffset`: still waiting, done, or done with
 * NOT_ENOUGH_REPLICAS_AFTER_APPEND (the high watermark passed it while the ISR was below `min.insync.replicas`).
 */
export const acksAllStatus = (
  state: LeaderState,
  requiredOffset: number
): "waiting" | "ready" | "notEnoughReplicasAfterAppend" =>
  !acksAllReady(state, requiredOffset) ? "waiting" : enoughReplicas(state) ? "ready" : "notEnoughReplicasAfterAppend"

const sameSet = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): boolean =>
  a.length === b.length && a.every((x) => b.includes(x))

/** Raises the high watermark to the maximal ISR's smallest log end when that is higher. */
const advanceHw = (state: LeaderState, effects: Array<Effect>): LeaderState => {
  const candidate = hwCandidate(state)
  if (candidate <= state.hw) return state
  effects.push({ _tag: "HighWatermark", hw: candidate })
  return { ...state, hw: candidate }
}

/** Proposes `isr` (when nothing is pending and it differs from the committed one). */
const propose = (state: LeaderState, isr: ReadonlyArray<number>, effects: Array<Effect>): LeaderState => {
  if (state.pendingIsr !== undefined || sameSet(isr, state.isr)) return state
  const partitionEpoch = state.partitionEpoch + 1
  effects.push({ _tag: "ProposeIsr", isr, partitionEpoch })
  return { ...state, pendingIsr: isr }
}

/** The ISR without the followers that are not caught up, or undefined when all are. */
const shrunk = (state: LeaderState, nowMs: number): ReadonlyArray<number> | undefined => {
  const out = state.isr.filter((id) => {
    if (id === state.self) return true
    const f = state.followers.get(id)
    return f !== undefined && isCaughtUp(state, f, nowMs)
  })
  return out.length === state.isr.length ? undefined : out
}

/** Whether follower `id` may join the ISR now (Kafka's rule). */
const canJoin = (state: LeaderState, id: number, nowMs: number): boolean => {
  const f = state.followers.get(id)
  return (
    f !== undefined &&
    !state.isr.includes(id) &&
    f.leo >= state.hw &&
    f.leo >= state.epochStartOffset &&
    isCaughtUp(state, f, nowMs)
  )
}

/** One transition: the new state and what the caller must do. */
export const step = (state: LeaderState, input: Input): Step => {
  const effects: Array<Effect> = []
  switch (input._tag) {
    case "Appended": {
      if (input.leo <= state.leo) return { state, effects }
      const next = advanceHw({ ...state, leo: input.leo }, effects)
      return { state: next, effects }
    }
    case "FollowerFetched": {
      const f = state.followers.get(input.replica)
      if (f === undefined) return { state, effects }
      const leo = Math.min(Math.max(input.fetchOffset, 0), state.leo)
      const lastCaughtUpMs =
        leo >= state.leo
          ? input.nowMs
          : leo >= f.lastFetchLeaderLeo && f.lastFetchLeaderLeo >= 0
            ? Math.max(f.lastCaughtUpMs, f.lastFetchMs)
            : f.lastCaughtUpMs
      const followers = new Map(state.followers)
      followers.set(input.replica, { leo, lastCaughtUpMs, lastFetchMs: input.nowMs, lastFetchLeaderLeo: state.leo })
      let next: LeaderState = { ...state, followers }
      next = advanceHw(next, effects)
      if (next.pendingIsr === undefined && canJoin(next, input.replica, input.nowMs)) {
        next = propose(next, [...next.isr, input.replica], effects)
        // the joining member counts at once (maximal ISR); it is at least at the high watermark already
      }
      return { state: next, effects }
    }
    case "Tick": {
      if (state.pendingIsr !== undefined) return { state, effects }
      const smaller = shrunk(state, input.nowMs)
      if (smaller === undefined) return { state, effects }
      // the removed members still count until the store commits (maximal ISR): the hw waits for them
      return { state: propose(state, smaller, effects), effects }
    }
    case "IsrCommitted": {
      if (input.partitionEpoch < state.partitionEpoch) return { state, effects }
      const next = advanceHw(
        { ...state, isr: input.isr, partitionEpoch: input.partitionEpoch, pendingIsr: undefined },
        effects
      )
      return { state: next, effects }
    }
    case "IsrRejected":
      return { state: { ...state, pendingIsr: undefined }, effects }
  }
}

/**
 * Whether broker `self` leads for a partition record naming `leader`, written at store `version`, while its current
 * registration is at `registration` (undefined: not registered now): only for a record written after it, so a
 * restarted broker never resumes an earlier incarnation's leader epoch (whose high watermark and ISR it may have
 * lost) and waits for the controller's new election.
 */
export const leadsRecord = (self: number, leader: number, version: number, registration: number | undefined): boolean =>
  leader === self && registration !== undefined && version > registration
