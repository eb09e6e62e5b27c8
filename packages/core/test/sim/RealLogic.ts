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
 * step saw them (`WritePartition.registrations`, which the controller actor passes to `putPartition`): a broker
 * that restarted after the controller last heard of it makes the write fail rather than hand the new incarnation
 * the old one's leadership. (This rule, and showing the step a broker that registered after a record's last
 * change as lost and back, were this file's own glue; they moved into the step and the controller actor.)
 */
const toWrites = (effects: ReadonlyArray<Controller.WritePartition>): ReadonlyArray<PartitionWrite> =>
  effects.map((e) => ({
    key: partitionKey(e.state.topic, e.state.partition),
    record: { ...e.state },
    expectedVersion: e.expectedVersion,
    guards: (e.registrations ?? []).map((g) => ({ key: `brokers/${g.brokerId}`, modRevision: g.version }))
  }))

/** A live broker with the store revision of its registration (its incarnation), as the controller actor sees it. */
const live = (id: number, registration: number): Controller.LiveBroker => ({
  id,
  rack: null,
  shuttingDown: false,
  registration
})

/** Runs one step and collects its writes. */
const run = (state: Controller.ControllerState, event: Controller.ControllerEvent) => {
  const out = Controller.step(state, event)
  return { state: out.state, writes: toWrites(out.effects) }
}

/** The controller's state: the step's own (brokers carry their registrations). */
export type RealController = Controller.ControllerState

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
  // the replica manager's rule (it was SimBroker's own): lead only for a record written after this registration
  leadsRecord: Leader.leadsRecord,
  controllerStart: (start) => {
    // as the controller actor takes over: brokers, then every partition record (each sees every broker)
    let c: RealController = Controller.initial({ uncleanDefault: start.uncleanLeaderElection, imbalancePercentage: 10 })
    for (const [id, revision] of start.brokers)
      c = Controller.step(c, { _tag: "BrokerChanged", broker: live(id, revision) }).state
    const writes: Array<PartitionWrite> = []
    for (const { record, version } of start.partitions.values()) {
      const out = run(c, { _tag: "PartitionChanged", record: { state: toState(record), version } })
      c = out.state
      writes.push(...out.writes)
    }
    return { state: c, writes }
  },
  controllerStep: (c, input) => {
    switch (input._tag) {
      case "BrokerRegistered":
        return run(c, { _tag: "BrokerChanged", broker: live(input.id, input.revision) })
      case "BrokerLost":
        return run(c, { _tag: "BrokerLost", brokerId: input.id })
      case "PartitionChanged":
        return run(c, { _tag: "PartitionChanged", record: { state: toState(input.record), version: input.version } })
    }
  }
}
