/**
 * Errors of the produce/fetch path (PartitionReplica, ReplicaManager and the Produce, Fetch,
 * ListOffsets, DeleteRecords and OffsetForLeaderEpoch handlers). Each carries its Kafka `errorCode`;
 * handlers turn them into wire codes with `BrokerError.toWire`, like every broker error.
 */
import { Schema } from "effect";
declare const CorruptMessage_base: Schema.TaggedErrorClass<CorruptMessage, "CorruptMessage", {
    readonly _tag: Schema.tag<"CorruptMessage">;
} & {
    message: typeof Schema.String;
}>;
/** A record batch whose CRC or header does not check out (2). */
export declare class CorruptMessage extends CorruptMessage_base {
    readonly errorCode: 2;
}
declare const MessageTooLarge_base: Schema.TaggedErrorClass<MessageTooLarge, "MessageTooLarge", {
    readonly _tag: Schema.tag<"MessageTooLarge">;
} & {
    message: typeof Schema.String;
}>;
/** A record batch larger than `max.message.bytes` (10). */
export declare class MessageTooLarge extends MessageTooLarge_base {
    readonly errorCode: 10;
}
declare const RecordListTooLarge_base: Schema.TaggedErrorClass<RecordListTooLarge, "RecordListTooLarge", {
    readonly _tag: Schema.tag<"RecordListTooLarge">;
} & {
    message: typeof Schema.String;
}>;
/** The request's records are larger than a whole segment (18). */
export declare class RecordListTooLarge extends RecordListTooLarge_base {
    readonly errorCode: 18;
}
declare const InvalidRequiredAcks_base: Schema.TaggedErrorClass<InvalidRequiredAcks, "InvalidRequiredAcks", {
    readonly _tag: Schema.tag<"InvalidRequiredAcks">;
} & {
    message: typeof Schema.String;
}>;
/** `acks` is not -1, 0 or 1 (21). */
export declare class InvalidRequiredAcks extends InvalidRequiredAcks_base {
    readonly errorCode: 21;
}
declare const InvalidTimestamp_base: Schema.TaggedErrorClass<InvalidTimestamp, "InvalidTimestamp", {
    readonly _tag: Schema.tag<"InvalidTimestamp">;
} & {
    message: typeof Schema.String;
}>;
/** A record timestamp outside `message.timestamp.before/after.max.ms` (32). */
export declare class InvalidTimestamp extends InvalidTimestamp_base {
    readonly errorCode: 32;
}
declare const InvalidRecord_base: Schema.TaggedErrorClass<InvalidRecord, "InvalidRecord", {
    readonly _tag: Schema.tag<"InvalidRecord">;
} & {
    message: typeof Schema.String;
}>;
/** A malformed record, a wrong batch count, or a null key on a compacted topic (87). */
export declare class InvalidRecord extends InvalidRecord_base {
    readonly errorCode: 87;
}
declare const UnsupportedCompressionType_base: Schema.TaggedErrorClass<UnsupportedCompressionType, "UnsupportedCompressionType", {
    readonly _tag: Schema.tag<"UnsupportedCompressionType">;
} & {
    message: typeof Schema.String;
}>;
/** A codec the request version does not allow (zstd before Produce v7 / Fetch v10) (76). */
export declare class UnsupportedCompressionType extends UnsupportedCompressionType_base {
    readonly errorCode: 76;
}
declare const RequestTimedOut_base: Schema.TaggedErrorClass<RequestTimedOut, "RequestTimedOut", {
    readonly _tag: Schema.tag<"RequestTimedOut">;
} & {
    message: typeof Schema.String;
}>;
/** An acks=-1 produce whose append was not durable within `timeout_ms`, or a replica too busy to take a command (7). */
export declare class RequestTimedOut extends RequestTimedOut_base {
    readonly errorCode: 7;
}
declare const UnknownTopicOrPartition_base: Schema.TaggedErrorClass<UnknownTopicOrPartition, "UnknownTopicOrPartition", {
    readonly _tag: Schema.tag<"UnknownTopicOrPartition">;
} & {
    message: typeof Schema.String;
}>;
/** The partition is not (or no longer) hosted here (3). */
export declare class UnknownTopicOrPartition extends UnknownTopicOrPartition_base {
    readonly errorCode: 3;
}
declare const FencedLeaderEpoch_base: Schema.TaggedErrorClass<FencedLeaderEpoch, "FencedLeaderEpoch", {
    readonly _tag: Schema.tag<"FencedLeaderEpoch">;
} & {
    message: typeof Schema.String;
}>;
/** The client's `current_leader_epoch` is older than the partition's (74). */
export declare class FencedLeaderEpoch extends FencedLeaderEpoch_base {
    readonly errorCode: 74;
}
declare const UnknownLeaderEpoch_base: Schema.TaggedErrorClass<UnknownLeaderEpoch, "UnknownLeaderEpoch", {
    readonly _tag: Schema.tag<"UnknownLeaderEpoch">;
} & {
    message: typeof Schema.String;
}>;
/** The client's `current_leader_epoch` is newer than the partition's (75). */
export declare class UnknownLeaderEpoch extends UnknownLeaderEpoch_base {
    readonly errorCode: 75;
}
declare const FetchSessionIdNotFound_base: Schema.TaggedErrorClass<FetchSessionIdNotFound, "FetchSessionIdNotFound", {
    readonly _tag: Schema.tag<"FetchSessionIdNotFound">;
} & {
    message: typeof Schema.String;
}>;
/** An incremental fetch names a session the broker does not have (70). */
export declare class FetchSessionIdNotFound extends FetchSessionIdNotFound_base {
    readonly errorCode: 70;
}
declare const InvalidFetchSessionEpoch_base: Schema.TaggedErrorClass<InvalidFetchSessionEpoch, "InvalidFetchSessionEpoch", {
    readonly _tag: Schema.tag<"InvalidFetchSessionEpoch">;
} & {
    message: typeof Schema.String;
}>;
/** An incremental fetch with an epoch other than the session's next one (71). */
export declare class InvalidFetchSessionEpoch extends InvalidFetchSessionEpoch_base {
    readonly errorCode: 71;
}
declare const ReplicaBusy_base: Schema.TaggedErrorClass<ReplicaBusy, "ReplicaBusy", {
    readonly _tag: Schema.tag<"ReplicaBusy">;
} & {
    message: typeof Schema.String;
}>;
/** A partition's replica mailbox is full: the command is refused rather than queued without bound (7, retriable). */
export declare class ReplicaBusy extends ReplicaBusy_base {
    readonly errorCode: 7;
}
/** Checks a client's `current_leader_epoch` against the partition's; -1 (none) skips the check, as in Kafka. */
export declare const checkLeaderEpoch: (current: number, leaderEpoch: number) => FencedLeaderEpoch | UnknownLeaderEpoch | undefined;
declare const OutOfOrderSequenceNumber_base: Schema.TaggedErrorClass<OutOfOrderSequenceNumber, "OutOfOrderSequenceNumber", {
    readonly _tag: Schema.tag<"OutOfOrderSequenceNumber">;
} & {
    message: typeof Schema.String;
}>;
/** A batch whose sequence number does not follow the producer's last one on this partition (45). */
export declare class OutOfOrderSequenceNumber extends OutOfOrderSequenceNumber_base {
    readonly errorCode: 45;
}
declare const InvalidProducerEpoch_base: Schema.TaggedErrorClass<InvalidProducerEpoch, "InvalidProducerEpoch", {
    readonly _tag: Schema.tag<"InvalidProducerEpoch">;
} & {
    message: typeof Schema.String;
}>;
/** A batch or marker from an older epoch of its producer: a zombie (47). */
export declare class InvalidProducerEpoch extends InvalidProducerEpoch_base {
    readonly errorCode: 47;
}
declare const InvalidTxnState_base: Schema.TaggedErrorClass<InvalidTxnState, "InvalidTxnState", {
    readonly _tag: Schema.tag<"InvalidTxnState">;
} & {
    message: typeof Schema.String;
}>;
/** A non-transactional batch from a producer with an open transaction on this partition (48). */
export declare class InvalidTxnState extends InvalidTxnState_base {
    readonly errorCode: 48;
}
export {};
