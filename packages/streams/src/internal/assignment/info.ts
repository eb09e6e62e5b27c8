/**
 * The `stream` assignor's user data (Kafka Streams' `SubscriptionInfo` and `AssignmentInfo`, in Eddy's own
 * layout: versioned JSON validated by effect/Schema, not Kafka's binary one, so Eddy and Java instances
 * cannot share an application id). A subscription says who the member is (process id, `application.server`),
 * which tasks it ran and how far its local state got; an assignment names the member's active and standby
 * tasks, where every task of the application runs (by host), and an error code.
 */
import { Schema } from "effect"

/** The layout version this code writes and reads. */
export const VERSION = 1

/** Error codes in the assignment (Kafka Streams' `AssignorError`). */
export const ErrorCode = {
  NONE: 0,
  INCOMPLETE_SOURCE_TOPIC_METADATA: 1,
  SHUTDOWN_REQUESTED: 2
} as const

/** A task's offset sum for a task this client ran as active and still owns (Kafka's `Task.LATEST_OFFSET`). */
export const LATEST_OFFSET = -2

const TaskIds = Schema.Array(Schema.String)

const TopicPartitionSchema = Schema.Struct({ topic: Schema.String, partition: Schema.Number })

/** One member's subscription user data. */
export const SubscriptionInfo = Schema.Struct({
  version: Schema.Number,
  /** The instance (client) the member belongs to: the process id in `state.dir`. */
  processId: Schema.String,
  /** `application.server` (`host:port`), "" when not set. */
  endpoint: Schema.String,
  /** Tasks this member ran as active in the previous generation. */
  prevActive: TaskIds,
  /** Tasks this member kept as standby (or warm-up) in the previous generation. */
  prevStandby: TaskIds,
  /**
   * Task id -> sum of the task's changelog offsets held locally (standbys, checkpoints on disk; LATEST_OFFSET
   * for an active task the member owns): the leader subtracts it from the changelogs' end to get the lag.
   */
  offsetSums: Schema.Record({ key: Schema.String, value: Schema.Number }),
  /** Non-zero to ask the whole application to stop (SHUTDOWN_REQUESTED). */
  errorCode: Schema.Number
})

/** A decoded subscription. */
export type SubscriptionInfo = typeof SubscriptionInfo.Type

/** Where one instance's tasks are: its `application.server` and the partitions of its tasks. */
export const HostPartitions = Schema.Struct({
  endpoint: Schema.String,
  active: Schema.Array(TopicPartitionSchema),
  standby: Schema.Array(TopicPartitionSchema)
})

/** One member's assignment user data. */
export const AssignmentInfo = Schema.Struct({
  version: Schema.Number,
  active: TaskIds,
  standby: TaskIds,
  /** Every instance with an `application.server`: the partitions of its active and standby tasks. */
  hosts: Schema.Array(HostPartitions),
  /** Wall-clock time (ms) of the next probing rebalance, -1 for none (warm-ups are catching up when set). */
  probingRebalanceAt: Schema.Number,
  errorCode: Schema.Number
})

/** A decoded assignment. */
export type AssignmentInfo = typeof AssignmentInfo.Type

const subscriptionJson = Schema.parseJson(SubscriptionInfo)
const assignmentJson = Schema.parseJson(AssignmentInfo)
const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Subscription bytes. */
export const encodeSubscription = (info: SubscriptionInfo): Uint8Array =>
  encoder.encode(Schema.encodeSync(subscriptionJson)(info))

/** Reads subscription bytes; undefined for missing or unreadable bytes (a member of another version). */
export const decodeSubscription = (bytes: Uint8Array | null): SubscriptionInfo | undefined => {
  if (bytes === null) return undefined
  const decoded = Schema.decodeUnknownOption(subscriptionJson)(decoder.decode(bytes))
  return decoded._tag === "Some" && decoded.value.version === VERSION ? decoded.value : undefined
}

/** Assignment bytes. */
export const encodeAssignment = (info: AssignmentInfo): Uint8Array =>
  encoder.encode(Schema.encodeSync(assignmentJson)(info))

/** Reads assignment bytes; undefined for missing or unreadable bytes. */
export const decodeAssignment = (bytes: Uint8Array | null): AssignmentInfo | undefined => {
  if (bytes === null) return undefined
  const decoded = Schema.decodeUnknownOption(assignmentJson)(decoder.decode(bytes))
  return decoded._tag === "Some" ? decoded.value : undefined
}
