/**
 * The broker's own decisions behind the simulation's `Logic` seam: the leader's replication state machine
 * (`internal/replication/leader.ts`), the follower's truncation and high watermark (`internal/replication/
 * follower.ts`) and the controller's step (`internal/controller/step.ts`), called exactly as the broker's actors
 * call them. Only translation lives here (record shapes, store keys); no decision.
 */
import * as Controller from "../../src/broker/internal/controller/step.js"
import * as Follower from "../../src/broker/internal/replication/follower.js"
import * as Leader from "../../src/broker/internal/replication/leader.js"
import { PartitionState } from "../../src/broker/MetadataRecords.js"
import type { Logic, PartitionRecord, PartitionWrite } from "./Logic.js"
import { partitionKey } from "./Logic.js"

const toState = (r: PartitionRecord): PartitionState =>
  new PartitionState({
    topic: r.topic,
    partition: r.partition,
    replicas: r.replicas,
    isr: r.isr,
    leader: r.leader,
    leaderEpoch: r.leaderEpoch,
    partitionEpoch: r.partitionEpoch,
    addingReplicas: r.addingReplicas ?? [],
    removingReplicas: r.removingReplicas ?? []
  })

/**
 * The step's writes, each guarded by the registrations of the brokers its record names (leader and ISR) as the
 * controller knows them: a broker that restarted after the controller last heard of it makes the write fail
 * rather than hand the new incarnation the old one's leadership (the controller then steps the changes it had
 * not seen yet). The finding for the controller actor: compare the registrations it relied on.
 */
const toWrites = (
  effects: ReadonlyArray<Controller.WritePartition>,
  registrations: ReadonlyMap<number, number>
): ReadonlyArray<PartitionWrite> =>
  effects.map((e) => ({
    key: partitionKey(e.state.topic, e.state.partition),
    record: { ...e.state },
    expectedVersion: e.expectedVersion,
    guards: [...new Set([e.state.leader, ...e.state.isr])]
      .filter((id) => id >= 0)
      .map((id) => ({ key: `brokers/${id}`, modRevision: registrations.get(id) ?? 0 }))
  }))

const live = (id: number): Controller.LiveBroker => ({ id, rack: null, shuttingDown: false })

/** Runs every write-producing step and collects the writes. */
const run = (
  state: Controller.ControllerState,
  event: Controller.ControllerEvent,
  registrations: ReadonlyMap<number, number>
) => {
  const out = Controller.step(state, event)
  return { state: out.state, writes: toWrites(out.effects, registrations) }
}

/**
 * The controller's state: the step's own, plus the store revision of each live broker's registration, which the
 * glue uses to tell a restarted broker from one that never went away (see {@link bounced}).
 */
export interface RealController {
  readonly step: Controller.ControllerState
  readonly registrations: ReadonlyMap<number, number>
}

/**
 * The brokers a partition record names (leader or ISR) that registered after the record's last change: they
 * restarted (or lost their session) since it was written, so the record's leadership and ISR place predate their
 * current incarnation. The controller actor's takeover reads brokers and records at one revision, and a write of
 * the step can fail while the broker comes back: in both cases the step sees the broker alive and keeps it as
 * leader, in its old epoch, and that broker (waiting for a new epoch, or resuming the old one with a lower high
 * watermark) never serves again. The glue shows the step such a broker as lost and back, which the step
 * handles by its own rules. (The finding for the controller actor: carry registrations into the step.)
 */
const bounced = (registrations: ReadonlyMap<number, number>, record: PartitionRecord, version: number): Array<number> =>
  [...new Set([record.leader, ...record.isr])].filter((id) => (registrations.get(id) ?? -1) > version)

/** Steps a partition record, first showing the step its bounced brokers as lost, then as back. */
const partitionChanged = (c: RealController, record: PartitionRecord, version: number) => {
  const back = bounced(c.registrations, record, version)
  let state = c.step
  const writes: Array<PartitionWrite> = []
  const apply = (event: Controller.ControllerEvent) => {
    const out = run(state, event, c.registrations)
    state = out.state
    writes.push(...out.writes)
  }
  for (const id of back) apply({ _tag: "BrokerLost", brokerId: id })
  apply({ _tag: "PartitionChanged", record: { state: toState(record), version } })
  for (const id of back) apply({ _tag: "BrokerChanged", broker: live(id) })
  return { state: { ...c, step: state }, writes }
}

/** The broker's real replication and controller modules. */
export const realLogic: Logic<Leader.LeaderState, RealController> = {
  name: "broker",
  leaderInit: (s) =>
    Leader.init({
      self: s.brokerId,
      topic: s.record.topic,
      partition: s.record.partition,
      leaderEpoch: s.record.leaderEpoch,
      partitionEpoch: s.record.partitionEpoch,
      replicas: s.record.replicas,
      isr: s.record.isr,
      leo: s.leo,
      hw: s.hw,
      minInsync: s.minInsyncReplicas,
      lagTimeMaxMs: s.replicaLagTimeMaxMs,
      nowMs: s.nowMs
    }),
  leaderStep: Leader.step,
  acksAll: (state, offset) => {
    const status = Leader.acksAllStatus(state, offset)
    return status === "notEnoughReplicasAfterAppend" ? "not-enough-replicas" : status
  },
  enoughReplicas: Leader.enoughReplicas,
  epochToAsk: (cache) => Follower.epochToAsk(cache.entries),
  truncation: ({ cache, logEndOffset, highWatermark, answer }) =>
    Follower.truncationPoint(cache.entries, logEndOffset, highWatermark, answer),
  followerHighWatermark: Follower.followerHighWatermark,
  controllerStart: (start) => {
    // as the controller actor takes over: brokers, then every partition record (each sees every broker)
    let c: RealController = {
      step: Controller.initial({ uncleanDefault: start.uncleanLeaderElection, imbalancePercentage: 10 }),
      registrations: start.brokers
    }
    for (const id of start.brokers.keys())
      c = { ...c, step: Controller.step(c.step, { _tag: "BrokerChanged", broker: live(id) }).state }
    const writes: Array<PartitionWrite> = []
    for (const { record, version } of start.partitions.values()) {
      const out = partitionChanged(c, record, version)
      c = out.state
      writes.push(...out.writes)
    }
    return { state: c, writes }
  },
  controllerStep: (c, input) => {
    switch (input._tag) {
      case "BrokerRegistered": {
        const registrations = new Map(c.registrations).set(input.id, input.revision)
        const out = run(c.step, { _tag: "BrokerChanged", broker: live(input.id) }, registrations)
        return { state: { step: out.state, registrations }, writes: out.writes }
      }
      case "BrokerLost": {
        const registrations = new Map(c.registrations)
        registrations.delete(input.id)
        const out = run(c.step, { _tag: "BrokerLost", brokerId: input.id }, registrations)
        return { state: { step: out.state, registrations }, writes: out.writes }
      }
      case "PartitionChanged":
        return partitionChanged(c, input.record, input.version)
    }
  }
}
