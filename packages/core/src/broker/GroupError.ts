/**
 * Errors of the group coordinator (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, the offset apis and
 * the group admin apis). Each carries its Kafka `errorCode`; handlers turn them into wire codes with
 * `BrokerError.toWire`, like every broker error.
 */
import { Schema } from "effect"
import { ErrorCode } from "../protocol/generated/ErrorCode.js"

const fields = { message: Schema.String }

/** Committed metadata longer than `offset.metadata.max.bytes` (12). */
export class OffsetMetadataTooLarge extends Schema.TaggedError<OffsetMetadataTooLarge>()(
  "OffsetMetadataTooLarge",
  fields
) {
  readonly errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE
}

/** The group's coordinator is unavailable: the group is being deleted or its actor is overloaded (15, retriable). */
export class CoordinatorNotAvailable extends Schema.TaggedError<CoordinatorNotAvailable>()(
  "CoordinatorNotAvailable",
  fields
) {
  readonly errorCode = ErrorCode.COORDINATOR_NOT_AVAILABLE
}

/** The coordinator lost the request's state (its actor restarted): rediscover and retry (16, retriable). */
export class NotCoordinator extends Schema.TaggedError<NotCoordinator>()("NotCoordinator", fields) {
  readonly errorCode = ErrorCode.NOT_COORDINATOR
}

/** The coordinator is still loading the group's `__consumer_offsets` partition: retry shortly (14, retriable). */
export class CoordinatorLoadInProgress extends Schema.TaggedError<CoordinatorLoadInProgress>()(
  "CoordinatorLoadInProgress",
  fields
) {
  readonly errorCode = ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
}

/** The generation is not the group's current one (22). */
export class IllegalGeneration extends Schema.TaggedError<IllegalGeneration>()("IllegalGeneration", fields) {
  readonly errorCode = ErrorCode.ILLEGAL_GENERATION
}

/** The member's protocol type or protocols do not match the group's (23). */
export class InconsistentGroupProtocol extends Schema.TaggedError<InconsistentGroupProtocol>()(
  "InconsistentGroupProtocol",
  fields
) {
  readonly errorCode = ErrorCode.INCONSISTENT_GROUP_PROTOCOL
}

/** An empty or otherwise unusable group id (24). */
export class InvalidGroupId extends Schema.TaggedError<InvalidGroupId>()("InvalidGroupId", fields) {
  readonly errorCode = ErrorCode.INVALID_GROUP_ID
}

/** The member id is not a member of the group (25). */
export class UnknownMemberId extends Schema.TaggedError<UnknownMemberId>()("UnknownMemberId", fields) {
  readonly errorCode = ErrorCode.UNKNOWN_MEMBER_ID
}

/** The session timeout is outside `group.min/max.session.timeout.ms` (26). */
export class InvalidSessionTimeout extends Schema.TaggedError<InvalidSessionTimeout>()(
  "InvalidSessionTimeout",
  fields
) {
  readonly errorCode = ErrorCode.INVALID_SESSION_TIMEOUT
}

/** The group is rebalancing: the member must rejoin (27). */
export class RebalanceInProgress extends Schema.TaggedError<RebalanceInProgress>()("RebalanceInProgress", fields) {
  readonly errorCode = ErrorCode.REBALANCE_IN_PROGRESS
}

/** The group still has members (68). */
export class NonEmptyGroup extends Schema.TaggedError<NonEmptyGroup>()("NonEmptyGroup", fields) {
  readonly errorCode = ErrorCode.NON_EMPTY_GROUP
}

/** The group does not exist (69). */
export class GroupIdNotFound extends Schema.TaggedError<GroupIdNotFound>()("GroupIdNotFound", fields) {
  readonly errorCode = ErrorCode.GROUP_ID_NOT_FOUND
}

/** A first JoinGroup (v4+) without a member id: the answer carries the id to join with (79). */
export class MemberIdRequired extends Schema.TaggedError<MemberIdRequired>()("MemberIdRequired", {
  message: Schema.String,
  memberId: Schema.String
}) {
  readonly errorCode = ErrorCode.MEMBER_ID_REQUIRED
}

/** The group already has `group.max.size` members (81). */
export class GroupMaxSizeReached extends Schema.TaggedError<GroupMaxSizeReached>()("GroupMaxSizeReached", fields) {
  readonly errorCode = ErrorCode.GROUP_MAX_SIZE_REACHED
}

/** A newer member with the same `group.instance.id` replaced this one (82). */
export class FencedInstanceId extends Schema.TaggedError<FencedInstanceId>()("FencedInstanceId", fields) {
  readonly errorCode = ErrorCode.FENCED_INSTANCE_ID
}

/** OffsetDelete of a partition whose topic the (non-empty) group subscribes to (86). */
export class GroupSubscribedToTopic extends Schema.TaggedError<GroupSubscribedToTopic>()(
  "GroupSubscribedToTopic",
  fields
) {
  readonly errorCode = ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC
}

/** Any error of the group coordinator. */
/**
 * A TxnOffsetCommit from an older epoch of its producer: the transaction coordinator has fenced it (the
 * group's partition refused the write) (47).
 */
export class TxnOffsetCommitFenced extends Schema.TaggedError<TxnOffsetCommitFenced>()(
  "TxnOffsetCommitFenced",
  fields
) {
  readonly errorCode = ErrorCode.INVALID_PRODUCER_EPOCH
}

export type GroupError =
  | TxnOffsetCommitFenced
  | OffsetMetadataTooLarge
  | CoordinatorNotAvailable
  | CoordinatorLoadInProgress
  | NotCoordinator
  | IllegalGeneration
  | InconsistentGroupProtocol
  | InvalidGroupId
  | UnknownMemberId
  | InvalidSessionTimeout
  | RebalanceInProgress
  | NonEmptyGroup
  | GroupIdNotFound
  | MemberIdRequired
  | GroupMaxSizeReached
  | FencedInstanceId
  | GroupSubscribedToTopic
