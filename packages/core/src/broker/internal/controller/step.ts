/**
 * The controller as data: `step(state, event) -> { state, effects, results }`, pure and tested without fibers.
 * The state is the cluster as last seen in the metadata store (live brokers with racks, topics, partition records
 * with their versions); events are store changes and operator requests; effects are partition-record writes,
 * each a compare-and-swap on the version the controller saw.
 *
 * Invariants (Kafka's rules):
 * - A leader is always a live replica that is not shutting down and is in the ISR, except after an unclean election
 *   (the topic's `unclean.leader.election.enable`), where the first live replica leads with ISR = [itself], and a
 *   broker shutting down that is the only ISR member, which keeps leading until it is gone.
 * - Every leader change increments `leaderEpoch`; every change increments `partitionEpoch`.
 * - Lost (and shutting-down) brokers leave every ISR, except that an ISR never becomes empty: its last member stays
 *   (so the partition can come back when it returns) and the leader becomes -1 (offline).
 * - A reassignment keeps `replicas` = target followed by the replicas being removed until every added replica is in
 *   the ISR; then the removed ones are dropped, and leadership moves into the target if it was outside.
 * - The controller writes only leader, replica and (on broker loss) ISR changes; it takes records as they are.
 */
import { ErrorCode } from "../../../protocol/generated/ErrorCode.js"
import { PartitionState, type RegistrationGuard } from "../../MetadataRecords.js"

/** A live broker as the controller sees it. */
export interface LiveBroker {
  readonly id: number
  readonly rack: string | null
  /** A controlled shutdown is in progress: move its leaderships and drop it from ISRs. */
  readonly shuttingDown: boolean
  /**
   * The store version of its registration (the revision it registered at: its incarnation), when known. A record
   * last changed before it names this broker from an earlier incarnation (see {@link step}'s `PartitionChanged`),
   * and writes rely on it (see {@link WritePartition.registrations}).
   */
  readonly registration?: number
}

/** A topic as the controller needs it. */
export interface TopicView {
  readonly name: string
  readonly partitions: number
  readonly configs: Readonly<Record<string, string>>
}

/** A partition record with its store version. */
export interface PartitionView {
  readonly state: PartitionState
  readonly version: number
}

/** The controller's view of the cluster. */
export interface ControllerState {
  readonly brokers: ReadonlyMap<number, LiveBroker>
  readonly topics: ReadonlyMap<string, TopicView>
  /** By {@link partitionKey}. */
  readonly partitions: ReadonlyMap<string, PartitionView>
  /** The broker default of `unclean.leader.election.enable` (a topic's override wins). */
  readonly uncleanDefault: boolean
  /** `leader.imbalance.per.broker.percentage`. */
  readonly imbalancePercentage: number
}

/** A topic partition. */
export interface TopicPartition {
  readonly topic: string
  readonly partition: number
}

/** What the controller can be told. */
export type ControllerEvent =
  | { readonly _tag: "BrokerChanged"; readonly broker: LiveBroker }
  | { readonly _tag: "BrokerLost"; readonly brokerId: number }
  | { readonly _tag: "TopicChanged"; readonly topic: TopicView }
  | { readonly _tag: "TopicDeleted"; readonly name: string }
  | { readonly _tag: "PartitionChanged"; readonly record: PartitionView }
  | { readonly _tag: "PartitionDeleted"; readonly topic: string; readonly partition: number }
  | {
      readonly _tag: "ReassignmentRequested"
      readonly topic: string
      readonly partition: number
      /** The target replicas; null cancels the reassignment in progress. */
      readonly target: ReadonlyArray<number> | null
    }
  | {
      readonly _tag: "ElectionRequested"
      readonly partitions: ReadonlyArray<TopicPartition>
      readonly unclean: boolean
    }
  | { readonly _tag: "RebalanceTick" }
  | { readonly _tag: "ControlledShutdownRequested"; readonly brokerId: number }

/** A partition-record write, a compare-and-swap on `expectedVersion`. */
export interface WritePartition {
  readonly _tag: "WritePartition"
  readonly state: PartitionState
  readonly expectedVersion: number
  /**
   * The registrations of the brokers the record names (leader and ISR) as the step saw them (0: not registered),
   * compared in the same transaction: a write computed before the controller stepped a broker's loss must not land
   * after that broker registered again and hand the new incarnation the old one's place. Brokers whose
   * registration the step was not told are left out.
   */
  readonly registrations?: ReadonlyArray<RegistrationGuard>
}

/** The answer to a request for one partition (ElectLeaders, AlterPartitionReassignments). */
export interface PartitionResult extends TopicPartition {
  readonly errorCode: number
  readonly message: string | null
}

/** One step's output. */
export interface StepResult {
  readonly state: ControllerState
  readonly effects: ReadonlyArray<WritePartition>
  readonly results: ReadonlyArray<PartitionResult>
}

/** The key of a partition in {@link ControllerState.partitions}. */
export const partitionKey = (topic: string, partition: number): string => `${topic}/${partition}`

/** An empty view with the broker defaults. */
export const initial = (options: { readonly uncleanDefault: boolean; readonly imbalancePercentage: number }) =>
  ({
    brokers: new Map(),
    topics: new Map(),
    partitions: new Map(),
    uncleanDefault: options.uncleanDefault,
    imbalancePercentage: options.imbalancePercentage
  }) satisfies ControllerState as ControllerState

const uncleanEnabled = (state: ControllerState, topic: string): boolean => {
  const v = state.topics.get(topic)?.configs["unclean.leader.election.enable"]
  return v === undefined ? state.uncleanDefault : v === "true"
}

/** A broker that may lead and stay in ISRs: registered and not shutting down. */
const eligible = (state: ControllerState, id: number) => {
  const b = state.brokers.get(id)
  return b !== undefined && !b.shuttingDown
}

const sameList = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) =>
  a.length === b.length && a.every((x, i) => x === b[i])

/** The record with `changes`, epochs bumped (leader epoch only when the leader changed); undefined if unchanged. */
const change = (
  current: PartitionState,
  changes: Partial<Pick<PartitionState, "replicas" | "isr" | "leader" | "addingReplicas" | "removingReplicas">>
): PartitionState | undefined => {
  const next = {
    replicas: changes.replicas ?? current.replicas,
    isr: changes.isr ?? current.isr,
    leader: changes.leader ?? current.leader,
    addingReplicas: changes.addingReplicas ?? current.addingReplicas,
    removingReplicas: changes.removingReplicas ?? current.removingReplicas
  }
  const same =
    sameList(next.replicas, current.replicas) &&
    sameList(next.isr, current.isr) &&
    next.leader === current.leader &&
    sameList(next.addingReplicas, current.addingReplicas) &&
    sameList(next.removingReplicas, current.removingReplicas)
  if (same) return undefined
  return new PartitionState({
    topic: current.topic,
    partition: current.partition,
    ...next,
    leaderEpoch: next.leader === current.leader ? current.leaderEpoch : current.leaderEpoch + 1,
    partitionEpoch: current.partitionEpoch + 1
  })
}

/** Leader and ISR after broker changes: the current leader if still fit, else the first fit ISR member, etc. */
const electOnChange = (state: ControllerState, p: PartitionState): Pick<PartitionState, "leader" | "isr"> => {
  const fitIsr = p.isr.filter((b) => eligible(state, b))
  const keepLeader = p.leader >= 0 && fitIsr.includes(p.leader)
  let leader: number
  if (keepLeader) leader = p.leader
  else {
    const candidate = p.replicas.find((b) => fitIsr.includes(b))
    if (candidate !== undefined) leader = candidate
    else if (p.leader >= 0 && state.brokers.has(p.leader) && p.isr.includes(p.leader)) {
      // a broker shutting down that is the only ISR member keeps leading until it is gone
      return { leader: p.leader, isr: [p.leader] }
    } else if (uncleanEnabled(state, p.topic)) {
      const live = p.replicas.find((b) => eligible(state, b))
      if (live !== undefined) return { leader: live, isr: [live] }
      leader = -1
    } else leader = -1
  }
  // the ISR never becomes empty: its last member (the leader if it was one) stays, so the partition can return with it
  const last = p.isr.includes(p.leader) ? [p.leader] : p.isr.slice(0, 1)
  return { leader, isr: fitIsr.length > 0 ? fitIsr : last }
}

/** Completes a reassignment whose added replicas are all in the ISR; undefined when it must wait. */
const completeReassignment = (
  state: ControllerState,
  p: PartitionState
): Pick<PartitionState, "replicas" | "isr" | "leader" | "addingReplicas" | "removingReplicas"> | undefined => {
  if (p.addingReplicas.length === 0 && p.removingReplicas.length === 0) return undefined
  if (!p.addingReplicas.every((b) => p.isr.includes(b))) return undefined
  const target = p.replicas.filter((b) => !p.removingReplicas.includes(b))
  const isr = p.isr.filter((b) => target.includes(b))
  const fit = isr.filter((b) => eligible(state, b))
  if (fit.length === 0) return undefined
  const leader = fit.includes(p.leader) ? p.leader : target.find((b) => fit.includes(b))!
  return { replicas: target, isr, leader, addingReplicas: [], removingReplicas: [] }
}

/** The write (if any) that brings one partition in line with the rules, given the live brokers. */
export const reconcile = (state: ControllerState, view: PartitionView): WritePartition | undefined => {
  let p = view.state
  const completed = completeReassignment(state, p)
  if (completed !== undefined) p = change(p, completed) ?? p
  const next = change(p, electOnChange(state, p))
  const result = next ?? (p === view.state ? undefined : p)
  if (result === undefined) return undefined
  // several changes in one write still bump the partition epoch once
  const state2 = new PartitionState({
    ...result,
    leaderEpoch: result.leader === view.state.leader ? view.state.leaderEpoch : view.state.leaderEpoch + 1,
    partitionEpoch: view.state.partitionEpoch + 1
  })
  return { _tag: "WritePartition", state: state2, expectedVersion: view.version }
}

/** The state with a write applied as if the store had echoed it (version unknown until then: kept). */
const applyWrites = (state: ControllerState, effects: ReadonlyArray<WritePartition>): ControllerState => {
  if (effects.length === 0) return state
  const partitions = new Map(state.partitions)
  for (const e of effects) {
    partitions.set(partitionKey(e.state.topic, e.state.partition), { state: e.state, version: e.expectedVersion })
  }
  return { ...state, partitions }
}

const reconcileAll = (state: ControllerState, filter: (p: PartitionState) => boolean): Array<WritePartition> => {
  const effects: Array<WritePartition> = []
  for (const view of state.partitions.values()) {
    if (!filter(view.state)) continue
    const write = reconcile(state, view)
    if (write !== undefined) effects.push(write)
  }
  return effects
}

const result = (tp: TopicPartition, errorCode: number, message: string | null): PartitionResult => ({
  ...tp,
  errorCode,
  message
})

/** A preferred (or unclean) election for one partition: the write and the answer. */
const elect = (
  state: ControllerState,
  tp: TopicPartition,
  unclean: boolean
): { readonly write?: WritePartition; readonly result: PartitionResult } => {
  const view = state.partitions.get(partitionKey(tp.topic, tp.partition))
  if (view === undefined) {
    return { result: result(tp, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "The partition does not exist.") }
  }
  const p = view.state
  if (unclean) {
    if (p.leader >= 0 && eligible(state, p.leader)) {
      return { result: result(tp, ErrorCode.ELECTION_NOT_NEEDED, "The partition has a live leader.") }
    }
    const fromIsr = p.replicas.find((b) => p.isr.includes(b) && eligible(state, b))
    const live = fromIsr ?? p.replicas.find((b) => eligible(state, b))
    if (live === undefined) {
      return { result: result(tp, ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, "No replica of the partition is alive.") }
    }
    const next = change(p, {
      leader: live,
      isr: fromIsr === undefined ? [live] : p.isr.filter((b) => eligible(state, b))
    })
    return {
      ...(next === undefined ? {} : { write: { _tag: "WritePartition", state: next, expectedVersion: view.version } }),
      result: result(tp, ErrorCode.NONE, null)
    }
  }
  const preferred = p.replicas[0]
  if (preferred === p.leader) {
    return {
      result: result(tp, ErrorCode.ELECTION_NOT_NEEDED, "Leader election not needed: the preferred replica leads.")
    }
  }
  if (preferred === undefined || !eligible(state, preferred) || !p.isr.includes(preferred)) {
    return {
      result: result(
        tp,
        ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE,
        `The preferred leader ${preferred ?? -1} is not alive or not in the ISR.`
      )
    }
  }
  const next = change(p, { leader: preferred })!
  return {
    write: { _tag: "WritePartition", state: next, expectedVersion: view.version },
    result: result(tp, ErrorCode.NONE, null)
  }
}

/** Starts or cancels a reassignment of one partition. */
const reassign = (
  state: ControllerState,
  tp: TopicPartition,
  target: ReadonlyArray<number> | null
): { readonly write?: WritePartition; readonly result: PartitionResult } => {
  const view = state.partitions.get(partitionKey(tp.topic, tp.partition))
  if (view === undefined) {
    return { result: result(tp, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "The partition does not exist.") }
  }
  const p = view.state
  const inProgress = p.addingReplicas.length > 0 || p.removingReplicas.length > 0
  const original = p.replicas.filter((b) => !p.addingReplicas.includes(b))
  const write = (changes: Parameters<typeof change>[1]) => {
    const next = change(p, changes)
    return next === undefined
      ? {}
      : { write: { _tag: "WritePartition" as const, state: next, expectedVersion: view.version } }
  }
  if (target === null) {
    if (!inProgress) {
      return {
        result: result(tp, ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, "No reassignment is in progress for the partition.")
      }
    }
    const isr = p.isr.filter((b) => original.includes(b))
    const fit = isr.filter((b) => eligible(state, b))
    const leader = fit.includes(p.leader) ? p.leader : (original.find((b) => fit.includes(b)) ?? -1)
    return {
      ...write({
        replicas: original,
        isr: isr.length > 0 ? isr : p.isr,
        leader,
        addingReplicas: [],
        removingReplicas: []
      }),
      result: result(tp, ErrorCode.NONE, null)
    }
  }
  if (target.length === 0) {
    return { result: result(tp, ErrorCode.INVALID_REPLICA_ASSIGNMENT, "The replica list is empty.") }
  }
  if (new Set(target).size !== target.length) {
    return { result: result(tp, ErrorCode.INVALID_REPLICA_ASSIGNMENT, "The replica list has duplicate brokers.") }
  }
  const unknown = target.find((b) => !state.brokers.has(b))
  if (unknown !== undefined) {
    return {
      result: result(
        tp,
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `Broker ${unknown} cannot hold a replica: it is not a live broker.`
      )
    }
  }
  // a new target replaces one in progress: it starts again from the original replicas
  const adding = target.filter((b) => !original.includes(b))
  const removing = original.filter((b) => !target.includes(b))
  const replicas = [...target, ...removing]
  const isr = p.isr.filter((b) => replicas.includes(b))
  return {
    ...write({ replicas, isr: isr.length > 0 ? isr : p.isr, addingReplicas: adding, removingReplicas: removing }),
    result: result(tp, ErrorCode.NONE, null)
  }
}

/** Preferred elections for brokers leading fewer of their preferred partitions than the imbalance allows. */
const rebalance = (state: ControllerState): Array<WritePartition> => {
  const preferredOf = new Map<number, Array<PartitionView>>()
  for (const view of state.partitions.values()) {
    const preferred = view.state.replicas[0]
    if (preferred === undefined) continue
    const list = preferredOf.get(preferred) ?? []
    list.push(view)
    preferredOf.set(preferred, list)
  }
  const effects: Array<WritePartition> = []
  for (const [broker, views] of preferredOf) {
    if (!eligible(state, broker)) continue
    const notLed = views.filter((v) => v.state.leader !== broker)
    if ((notLed.length * 100) / views.length <= state.imbalancePercentage) continue
    for (const v of notLed) {
      const { write } = elect(state, v.state, false)
      if (write !== undefined) effects.push(write)
    }
  }
  return effects
}

/** The registrations a write of `record` relies on: its leader's and ISR members', as `state` knows them. */
export const registrationGuards = (state: ControllerState, record: PartitionState): Array<RegistrationGuard> => {
  const guards: Array<RegistrationGuard> = []
  for (const id of new Set([record.leader, ...record.isr])) {
    if (id < 0) continue
    const b = state.brokers.get(id)
    if (b === undefined) guards.push({ brokerId: id, version: 0 })
    else if (b.registration !== undefined) guards.push({ brokerId: id, version: b.registration })
  }
  return guards
}

const done = (
  state: ControllerState,
  effects: ReadonlyArray<WritePartition>,
  results: ReadonlyArray<PartitionResult> = []
): StepResult => ({
  state: applyWrites(state, effects),
  effects: effects.map((e) => ({ ...e, registrations: registrationGuards(state, e.state) })),
  results
})

/**
 * The live brokers a record names (leader or ISR) that registered after its last change: the record's place for
 * them is their earlier incarnation's (they restarted or lost their session since), e.g. seen by a controller that
 * took over, or after its write failed while the broker restarted.
 */
export const bounced = (state: ControllerState, record: PartitionView): Array<LiveBroker> => {
  const out: Array<LiveBroker> = []
  for (const id of new Set([record.state.leader, ...record.state.isr])) {
    const b = state.brokers.get(id)
    if (b?.registration !== undefined && b.registration > record.version) out.push(b)
  }
  return out
}

/** Steps `events` in order, collecting every step's writes and answers. */
const steps = (state: ControllerState, events: ReadonlyArray<ControllerEvent>): StepResult => {
  let current = state
  const effects: Array<WritePartition> = []
  const results: Array<PartitionResult> = []
  for (const event of events) {
    const out = step(current, event)
    current = out.state
    effects.push(...out.effects)
    results.push(...out.results)
  }
  return { state: current, effects, results }
}

/** Applies one event: the new view, the writes to make and the answers to a request. */
export const step = (state: ControllerState, event: ControllerEvent): StepResult => {
  switch (event._tag) {
    case "BrokerChanged": {
      const brokers = new Map(state.brokers).set(event.broker.id, event.broker)
      const next = { ...state, brokers }
      return done(
        next,
        reconcileAll(next, (p) => p.replicas.includes(event.broker.id))
      )
    }
    case "BrokerLost":
    case "ControlledShutdownRequested": {
      const brokers = new Map(state.brokers)
      const id = event.brokerId
      if (event._tag === "BrokerLost") brokers.delete(id)
      else {
        const b = brokers.get(id)
        if (b !== undefined) brokers.set(id, { ...b, shuttingDown: true })
      }
      const next = { ...state, brokers }
      return done(
        next,
        reconcileAll(next, (p) => p.replicas.includes(id) || p.isr.includes(id))
      )
    }
    case "TopicChanged":
      return done({ ...state, topics: new Map(state.topics).set(event.topic.name, event.topic) }, [])
    case "TopicDeleted": {
      const topics = new Map(state.topics)
      topics.delete(event.name)
      const partitions = new Map(state.partitions)
      for (const [k, v] of partitions) if (v.state.topic === event.name) partitions.delete(k)
      return done({ ...state, topics, partitions }, [])
    }
    case "PartitionChanged": {
      const key = partitionKey(event.record.state.topic, event.record.state.partition)
      const known = state.partitions.get(key)
      if (known !== undefined && known.version > event.record.version) return done(state, [])
      // a broker the record names from an earlier incarnation: shown as lost, then the record, then back
      const back = bounced(state, event.record)
      if (back.length > 0) {
        return steps(state, [
          ...back.map((b): ControllerEvent => ({ _tag: "BrokerLost", brokerId: b.id })),
          event,
          ...back.map((b): ControllerEvent => ({ _tag: "BrokerChanged", broker: b }))
        ])
      }
      const next = { ...state, partitions: new Map(state.partitions).set(key, event.record) }
      const write = reconcile(next, event.record)
      return done(next, write === undefined ? [] : [write])
    }
    case "PartitionDeleted": {
      const partitions = new Map(state.partitions)
      partitions.delete(partitionKey(event.topic, event.partition))
      return done({ ...state, partitions }, [])
    }
    case "ReassignmentRequested": {
      const { write, result } = reassign(state, event, event.target)
      if (write === undefined) return done(state, [], [result])
      // the reassignment may complete at once (a pure shrink, or targets already in the ISR)
      const followUp = reconcile(state, { state: write.state, version: write.expectedVersion })
      return done(
        state,
        [followUp === undefined ? write : { ...followUp, expectedVersion: write.expectedVersion }],
        [result]
      )
    }
    case "ElectionRequested": {
      const effects: Array<WritePartition> = []
      const results: Array<PartitionResult> = []
      for (const tp of event.partitions) {
        const { write, result } = elect(state, tp, event.unclean)
        if (write !== undefined) effects.push(write)
        results.push(result)
      }
      return done(state, effects, results)
    }
    case "RebalanceTick":
      return done(state, rebalance(state))
  }
}
