/**
 * Errors of the group coordinator (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, the offset apis and
 * the group admin apis). Each carries its Kafka `errorCode`; handlers turn them into wire codes with
 * `BrokerError.toWire`, like every broker error.
 */
import { Schema } from "effect";
declare const OffsetMetadataTooLarge_base: Schema.TaggedErrorClass<OffsetMetadataTooLarge, "OffsetMetadataTooLarge", {
    readonly _tag: Schema.tag<"OffsetMetadataTooLarge">;
} & {
    message: typeof Schema.String;
}>;
/** Committed metadata longer than `offset.metadata.max.bytes` (12). */
export declare class OffsetMetadataTooLarge extends OffsetMetadataTooLarge_base {
    readonly errorCode: 12;
}
declare const CoordinatorNotAvailable_base: Schema.TaggedErrorClass<CoordinatorNotAvailable, "CoordinatorNotAvailable", {
    readonly _tag: Schema.tag<"CoordinatorNotAvailable">;
} & {
    message: typeof Schema.String;
}>;
/** The group's coordinator is unavailable: the group is being deleted or its actor is overloaded (15, retriable). */
export declare class CoordinatorNotAvailable extends CoordinatorNotAvailable_base {
    readonly errorCode: 15;
}
declare const NotCoordinator_base: Schema.TaggedErrorClass<NotCoordinator, "NotCoordinator", {
    readonly _tag: Schema.tag<"NotCoordinator">;
} & {
    message: typeof Schema.String;
}>;
/** The coordinator lost the request's state (its actor restarted): rediscover and retry (16, retriable). */
export declare class NotCoordinator extends NotCoordinator_base {
    readonly errorCode: 16;
}
declare const IllegalGeneration_base: Schema.TaggedErrorClass<IllegalGeneration, "IllegalGeneration", {
    readonly _tag: Schema.tag<"IllegalGeneration">;
} & {
    message: typeof Schema.String;
}>;
/** The generation is not the group's current one (22). */
export declare class IllegalGeneration extends IllegalGeneration_base {
    readonly errorCode: 22;
}
declare const InconsistentGroupProtocol_base: Schema.TaggedErrorClass<InconsistentGroupProtocol, "InconsistentGroupProtocol", {
    readonly _tag: Schema.tag<"InconsistentGroupProtocol">;
} & {
    message: typeof Schema.String;
}>;
/** The member's protocol type or protocols do not match the group's (23). */
export declare class InconsistentGroupProtocol extends InconsistentGroupProtocol_base {
    readonly errorCode: 23;
}
declare const InvalidGroupId_base: Schema.TaggedErrorClass<InvalidGroupId, "InvalidGroupId", {
    readonly _tag: Schema.tag<"InvalidGroupId">;
} & {
    message: typeof Schema.String;
}>;
/** An empty or otherwise unusable group id (24). */
export declare class InvalidGroupId extends InvalidGroupId_base {
    readonly errorCode: 24;
}
declare const UnknownMemberId_base: Schema.TaggedErrorClass<UnknownMemberId, "UnknownMemberId", {
    readonly _tag: Schema.tag<"UnknownMemberId">;
} & {
    message: typeof Schema.String;
}>;
/** The member id is not a member of the group (25). */
export declare class UnknownMemberId extends UnknownMemberId_base {
    readonly errorCode: 25;
}
declare const InvalidSessionTimeout_base: Schema.TaggedErrorClass<InvalidSessionTimeout, "InvalidSessionTimeout", {
    readonly _tag: Schema.tag<"InvalidSessionTimeout">;
} & {
    message: typeof Schema.String;
}>;
/** The session timeout is outside `group.min/max.session.timeout.ms` (26). */
export declare class InvalidSessionTimeout extends InvalidSessionTimeout_base {
    readonly errorCode: 26;
}
declare const RebalanceInProgress_base: Schema.TaggedErrorClass<RebalanceInProgress, "RebalanceInProgress", {
    readonly _tag: Schema.tag<"RebalanceInProgress">;
} & {
    message: typeof Schema.String;
}>;
/** The group is rebalancing: the member must rejoin (27). */
export declare class RebalanceInProgress extends RebalanceInProgress_base {
    readonly errorCode: 27;
}
declare const NonEmptyGroup_base: Schema.TaggedErrorClass<NonEmptyGroup, "NonEmptyGroup", {
    readonly _tag: Schema.tag<"NonEmptyGroup">;
} & {
    message: typeof Schema.String;
}>;
/** The group still has members (68). */
export declare class NonEmptyGroup extends NonEmptyGroup_base {
    readonly errorCode: 68;
}
declare const GroupIdNotFound_base: Schema.TaggedErrorClass<GroupIdNotFound, "GroupIdNotFound", {
    readonly _tag: Schema.tag<"GroupIdNotFound">;
} & {
    message: typeof Schema.String;
}>;
/** The group does not exist (69). */
export declare class GroupIdNotFound extends GroupIdNotFound_base {
    readonly errorCode: 69;
}
declare const MemberIdRequired_base: Schema.TaggedErrorClass<MemberIdRequired, "MemberIdRequired", {
    readonly _tag: Schema.tag<"MemberIdRequired">;
} & {
    message: typeof Schema.String;
    memberId: typeof Schema.String;
}>;
/** A first JoinGroup (v4+) without a member id: the answer carries the id to join with (79). */
export declare class MemberIdRequired extends MemberIdRequired_base {
    readonly errorCode: 79;
}
declare const GroupMaxSizeReached_base: Schema.TaggedErrorClass<GroupMaxSizeReached, "GroupMaxSizeReached", {
    readonly _tag: Schema.tag<"GroupMaxSizeReached">;
} & {
    message: typeof Schema.String;
}>;
/** The group already has `group.max.size` members (81). */
export declare class GroupMaxSizeReached extends GroupMaxSizeReached_base {
    readonly errorCode: 81;
}
declare const FencedInstanceId_base: Schema.TaggedErrorClass<FencedInstanceId, "FencedInstanceId", {
    readonly _tag: Schema.tag<"FencedInstanceId">;
} & {
    message: typeof Schema.String;
}>;
/** A newer member with the same `group.instance.id` replaced this one (82). */
export declare class FencedInstanceId extends FencedInstanceId_base {
    readonly errorCode: 82;
}
declare const GroupSubscribedToTopic_base: Schema.TaggedErrorClass<GroupSubscribedToTopic, "GroupSubscribedToTopic", {
    readonly _tag: Schema.tag<"GroupSubscribedToTopic">;
} & {
    message: typeof Schema.String;
}>;
/** OffsetDelete of a partition whose topic the (non-empty) group subscribes to (86). */
export declare class GroupSubscribedToTopic extends GroupSubscribedToTopic_base {
    readonly errorCode: 86;
}
declare const TxnOffsetCommitFenced_base: Schema.TaggedErrorClass<TxnOffsetCommitFenced, "TxnOffsetCommitFenced", {
    readonly _tag: Schema.tag<"TxnOffsetCommitFenced">;
} & {
    message: typeof Schema.String;
}>;
/** Any error of the group coordinator. */
/**
 * A TxnOffsetCommit from an older epoch of its producer: the transaction coordinator has fenced it (the
 * group's partition refused the write) (47).
 */
export declare class TxnOffsetCommitFenced extends TxnOffsetCommitFenced_base {
    readonly errorCode: 47;
}
export type GroupError = TxnOffsetCommitFenced | OffsetMetadataTooLarge | CoordinatorNotAvailable | NotCoordinator | IllegalGeneration | InconsistentGroupProtocol | InvalidGroupId | UnknownMemberId | InvalidSessionTimeout | RebalanceInProgress | NonEmptyGroup | GroupIdNotFound | MemberIdRequired | GroupMaxSizeReached | FencedInstanceId | GroupSubscribedToTopic;
export {};
