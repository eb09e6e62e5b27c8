/**
 * The records of the cluster metadata store (brokers, topics, partitions, the controller), their
 * effect/Schema JSON forms, the change events watches deliver, and the store's tagged errors.
 */
import { Schema } from "effect"

/** A live broker as it registered itself: its node id, listeners and optional rack. */
export class BrokerRegistration extends Schema.Class<BrokerRegistration>("BrokerRegistration")({
  brokerId: Schema.Int,
  host: Schema.String,
  port: Schema.Int,
  rack: Schema.optionalWith(Schema.String, { nullable: true }),
  /** Set by a broker stopping gracefully: the controller moves its leaderships off (controlled shutdown). */
  shuttingDown: Schema.optionalWith(Schema.Boolean, { default: () => false })
}) {}

/** A topic: its stable id, name, partition count and topic-level config overrides. */
export class TopicMetadata extends Schema.Class<TopicMetadata>("TopicMetadata")({
  topicId: Schema.String,
  name: Schema.String,
  partitions: Schema.Int,
  configs: Schema.Record({ key: Schema.String, value: Schema.String })
}) {}

/**
 * One partition's assignment (replicas) and state (leader, epochs, ISR), changed together as in KRaft; while a
 * reassignment runs, `replicas` holds the target and the replicas being removed, `addingReplicas` the target
 * replicas not yet caught up and `removingReplicas` those to drop once they have.
 */
export class PartitionState extends Schema.Class<PartitionState>("PartitionState")({
  topic: Schema.String,
  partition: Schema.Int,
  replicas: Schema.Array(Schema.Int),
  isr: Schema.Array(Schema.Int),
  leader: Schema.Int,
  leaderEpoch: Schema.Int,
  partitionEpoch: Schema.Int,
  addingReplicas: Schema.optionalWith(Schema.Array(Schema.Int), { default: () => [] }),
  removingReplicas: Schema.optionalWith(Schema.Array(Schema.Int), { default: () => [] })
}) {}

/** The elected controller and its epoch (strictly increasing over elections). */
export class ControllerRecord extends Schema.Class<ControllerRecord>("ControllerRecord")({
  brokerId: Schema.Int,
  epoch: Schema.Int
}) {}

/** A record with the store revision of its last change (`version`), the token for compare-and-swap. */
export interface Versioned<A> {
  readonly value: A
  readonly version: number
}

/**
 * A broker registration a partition write relies on: the write fails with `MetadataConflict` unless broker
 * `brokerId`'s registration is at `version` (the store revision it was written at, which identifies that
 * incarnation; 0 = not registered).
 */
export interface RegistrationGuard {
  readonly brokerId: number
  readonly version: number
}

/** The kinds of metadata a watch can follow. */
export type MetadataKind = "broker" | "topic" | "partition" | "controller"

/** One change, delivered by watches in revision order; `value` is absent for a deletion. */
export type MetadataEvent =
  | { readonly kind: "broker"; readonly key: string; readonly revision: number; readonly value?: BrokerRegistration }
  | { readonly kind: "topic"; readonly key: string; readonly revision: number; readonly value?: TopicMetadata }
  | { readonly kind: "partition"; readonly key: string; readonly revision: number; readonly value?: PartitionState }
  | { readonly kind: "controller"; readonly key: string; readonly revision: number; readonly value?: ControllerRecord }

/** A compare-and-swap lost: the record's version was not the expected one (0 means "must not exist"). */
export class MetadataConflict extends Schema.TaggedError<MetadataConflict>()("MetadataConflict", {
  key: Schema.String,
  expectedVersion: Schema.Number
}) {}

/** The lease is unknown: it expired (no keepalive within its TTL) or was revoked. */
export class LeaseExpired extends Schema.TaggedError<LeaseExpired>()("LeaseExpired", {
  lease: Schema.String
}) {}

/** The store failed (connection, decode, compacted watch revision); the operation's outcome may be unknown. */
export class MetadataStoreError extends Schema.TaggedError<MetadataStoreError>()("MetadataStoreError", {
  message: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {}
