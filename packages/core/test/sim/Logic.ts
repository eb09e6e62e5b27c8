/**
 * The seam between the simulated brokers and the replication and controller decisions they make. The simulation
 * moves messages, bytes and time; every decision (the leader's high watermark and ISR changes, the follower's
 * truncation point, the controller's elections) goes through a `Logic`: `RealLogic.ts`, the broker's own pure
 * state machines.
 */
import type { EpochEndOffset, LeaderEpochCache } from "../../src/log/LeaderEpochCache.js"

/** A partition record as the metadata store holds it (Kafka's PartitionRecord fields). */
export interface PartitionRecord {
  readonly topic: string
  readonly partition: number
  readonly replicas: ReadonlyArray<number>
  readonly isr: ReadonlyArray<number>
  readonly leader: number
  readonly leaderEpoch: number
  readonly partitionEpoch: number
  readonly addingReplicas?: ReadonlyArray<number>
  readonly removingReplicas?: ReadonlyArray<number>
}

/** What the leader's state machine reacts to. */
export type LeaderInput =
  | { readonly _tag: "Appended"; readonly leo: number; readonly nowMs: number }
  | { readonly _tag: "FollowerFetched"; readonly replica: number; readonly fetchOffset: number; readonly nowMs: number }
  | { readonly _tag: "Tick"; readonly nowMs: number }
  | { readonly _tag: "IsrCommitted"; readonly isr: ReadonlyArray<number>; readonly partitionEpoch: number }
  | { readonly _tag: "IsrRejected" }

/** What the leader's state machine asks for. */
export type LeaderEffect =
  | { readonly _tag: "HighWatermark"; readonly hw: number }
  | { readonly _tag: "ProposeIsr"; readonly isr: ReadonlyArray<number>; readonly partitionEpoch: number }

/** Whether an acks=all produce whose last offset is `offset - 1` may be answered. */
export type AcksAll = "ready" | "waiting" | "not-enough-replicas"

/** The leader's start: its record, its log end and high watermark. */
export interface LeaderStart {
  readonly brokerId: number
  readonly record: PartitionRecord
  readonly leo: number
  readonly hw: number
  readonly nowMs: number
  readonly minInsyncReplicas: number
  readonly replicaLagTimeMaxMs: number
}

/** The follower's inputs for its truncation point. */
export interface TruncationInput {
  readonly cache: LeaderEpochCache
  readonly logEndOffset: number
  readonly highWatermark: number
  readonly answer: EpochEndOffset
}

/** The cluster as a new controller reads it from the store at one revision. */
export interface ControllerStart {
  /** Live brokers and the store revision of their current registration. */
  readonly brokers: ReadonlyMap<number, number>
  /** Partition records and their versions. */
  readonly partitions: ReadonlyMap<string, { readonly record: PartitionRecord; readonly version: number }>
  readonly uncleanLeaderElection: boolean
}

/** A store change (from the controller's watch, in revision order) or the outcome of its own write. */
export type ControllerInput =
  | { readonly _tag: "BrokerRegistered"; readonly id: number; readonly revision: number }
  | { readonly _tag: "BrokerLost"; readonly id: number }
  | {
      readonly _tag: "PartitionChanged"
      readonly key: string
      readonly record: PartitionRecord
      readonly version: number
    }

/** One partition write: compare-and-swap on the version (0: must not exist). */
export interface PartitionWrite {
  readonly key: string
  readonly record: PartitionRecord
  readonly expectedVersion: number
  /**
   * Registrations the write relies on (`brokers/<id>` and the revision the controller saw, 0: gone): the write
   * applies only if they did not change meanwhile.
   */
  readonly guards?: ReadonlyArray<{ readonly key: string; readonly modRevision: number }>
}

/** The decisions. */
export interface Logic<L, C> {
  readonly name: string
  readonly leaderInit: (start: LeaderStart) => L
  readonly leaderStep: (
    state: L,
    input: LeaderInput
  ) => { readonly state: L; readonly effects: ReadonlyArray<LeaderEffect> }
  readonly acksAll: (state: L, offset: number) => AcksAll
  readonly enoughReplicas: (state: L) => boolean
  /** The epoch to ask the leader about (undefined: the log is empty, nothing to truncate). */
  readonly epochToAsk: (cache: LeaderEpochCache) => number | undefined
  /** Where to truncate; `complete: false` asks the leader again with the new latest epoch. */
  readonly truncation: (input: TruncationInput) => { readonly offset: number; readonly complete: boolean }
  readonly followerHighWatermark: (leaderHw: number, logEndOffset: number) => number
  /** Whether broker `self`, registered at `registration` (undefined: not now), leads for a record at `version`. */
  readonly leadsRecord: (self: number, leader: number, version: number, registration: number | undefined) => boolean
  readonly controllerStart: (start: ControllerStart) => {
    readonly state: C
    readonly writes: ReadonlyArray<PartitionWrite>
  }
  readonly controllerStep: (
    state: C,
    input: ControllerInput
  ) => { readonly state: C; readonly writes: ReadonlyArray<PartitionWrite> }
}

/** The store key of a partition. */
export const partitionKey = (topic: string, partition: number): string => `partitions/${topic}/${partition}`
