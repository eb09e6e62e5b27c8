/**
 * Named fault schedules after the scenarios of Kafka's Raft simulation tests, applied to the replicated
 * partitions of the simulated cluster (brokers keep their data across kills: a process kill keeps the page
 * cache). Times are virtual milliseconds; the workload runs from 1000 ms for 3 to 6 seconds.
 */
import type { Scenario } from "./Cluster.js"

/** The leader of partition 0 is killed and comes back later. */
export const leaderKill: Scenario = {
  name: "leader kill",
  faults: () => [{ at: 2000, fault: { _tag: "Kill", broker: "leader", downMs: 3000 } }]
}

/** The leader of partition 0 is cut off from everyone (store, brokers, clients), then the network heals. */
export const leaderPartitioned: Scenario = {
  name: "leader partitioned away",
  faults: () => [{ at: 2000, fault: { _tag: "Partition", sides: [["leader"], "rest"], oneWay: false, ms: 4000 } }]
}

/** Five brokers split 2|3, the metadata store on the larger side, then the network heals. */
export const split2v3: Scenario = {
  name: "2|3 split",
  brokers: 5,
  faults: () => [
    {
      at: 2000,
      fault: {
        _tag: "Partition",
        sides: [
          [1, 2],
          [3, 4, 5, 0]
        ],
        oneWay: false,
        ms: 4000
      }
    }
  ]
}

/** The leader is killed, and the leader elected after it is killed too, before the first comes back. */
export const backToBackLeaderFailures: Scenario = {
  name: "back-to-back leader failures",
  faults: (o) => [
    { at: 2000, fault: { _tag: "Kill", broker: "leader", downMs: o.broker.sessionTimeoutMs + 4000 } },
    { at: 2000 + o.broker.sessionTimeoutMs + 1000, fault: { _tag: "Kill", broker: "leader", downMs: 2000 } }
  ]
}

/** Every broker is killed; two come back (a majority: min.insync.replicas), the third much later. */
export const allDownMajorityBack: Scenario = {
  name: "all down then a majority back",
  faults: (o) => [
    { at: 2000, fault: { _tag: "Kill", broker: 1, downMs: 1000 } },
    { at: 2000, fault: { _tag: "Kill", broker: 2, downMs: 1500 } },
    { at: 2000, fault: { _tag: "Kill", broker: 3, downMs: o.workloadMs } }
  ]
}

/** Every named scenario. */
export const all: ReadonlyArray<Scenario> = [
  leaderKill,
  leaderPartitioned,
  split2v3,
  backToBackLeaderFailures,
  allDownMajorityBack
]
