/**
 * Errors of the produce/fetch path (PartitionReplica, ReplicaManager and the Produce, Fetch,
 * ListOffsets, DeleteRecords and OffsetForLeaderEpoch handlers). Each carries its Kafka `errorCode`;
 * handlers turn them into wire codes with `BrokerError.toWire`, like every broker error.
 */
import { Effect, Schema } from "effect"
import { ErrorCode } from "../protocol/generated/ErrorCode.js"

const fields = { message: Schema.String }

/** A record batch whose CRC or header does not check out (2). */
export class CorruptMessage extends Schema.TaggedError<CorruptMessage>()("CorruptMessage", fields) {
  readonly errorCode = ErrorCode.CORRUPT_MESSAGE
}

/** A record batch larger than `max.message.bytes` (10). */
export class MessageTooLarge extends Schema.TaggedError<MessageTooLarge>()("MessageTooLarge", fields) {
  readonly errorCode = ErrorCode.MESSAGE_TOO_LARGE
}

/** The request's records are larger than a whole segment (18). */
export class RecordListTooLarge extends Schema.TaggedError<RecordListTooLarge>()("RecordListTooLarge", fields) {
  readonly errorCode = ErrorCode.RECORD_LIST_TOO_LARGE
}

/** `acks` is not -1, 0 or 1 (21). */
export class InvalidRequiredAcks extends Schema.TaggedError<InvalidRequiredAcks>()("InvalidRequiredAcks", fields) {
  readonly errorCode = ErrorCode.INVALID_REQUIRED_ACKS
}

/** A record timestamp outside `message.timestamp.before/after.max.ms` (32). */
export class InvalidTimestamp extends Schema.TaggedError<InvalidTimestamp>()("InvalidTimestamp", fields) {
  readonly errorCode = ErrorCode.INVALID_TIMESTAMP
}

/** A malformed record, a wrong batch count, or a null key on a compacted topic (87). */
export class InvalidRecord extends Schema.TaggedError<InvalidRecord>()("InvalidRecord", fields) {
  readonly errorCode = ErrorCode.INVALID_RECORD
}

/** A codec the request version does not allow (zstd before Produce v7 / Fetch v10) (76). */
export class UnsupportedCompressionType extends Schema.TaggedError<UnsupportedCompressionType>()(
  "UnsupportedCompressionType",
  fields
) {
  readonly errorCode = ErrorCode.UNSUPPORTED_COMPRESSION_TYPE
}

/** An acks=-1 produce whose append was not durable within `timeout_ms`, or a replica too busy to take a command (7). */
export class RequestTimedOut extends Schema.TaggedError<RequestTimedOut>()("RequestTimedOut", fields) {
  readonly errorCode = ErrorCode.REQUEST_TIMED_OUT
}

/** The partition is not (or no longer) hosted here (3). */
export class UnknownTopicOrPartition extends Schema.TaggedError<UnknownTopicOrPartition>()(
  "UnknownTopicOrPartition",
  fields
) {
  readonly errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
}

/** The client's `current_leader_epoch` is older than the partition's (74). */
export class FencedLeaderEpoch extends Schema.TaggedError<FencedLeaderEpoch>()("FencedLeaderEpoch", fields) {
  readonly errorCode = ErrorCode.FENCED_LEADER_EPOCH
}

/** The client's `current_leader_epoch` is newer than the partition's (75). */
export class UnknownLeaderEpoch extends Schema.TaggedError<UnknownLeaderEpoch>()("UnknownLeaderEpoch", fields) {
  readonly errorCode = ErrorCode.UNKNOWN_LEADER_EPOCH
}

/** An incremental fetch names a session the broker does not have (70). */
export class FetchSessionIdNotFound extends Schema.TaggedError<FetchSessionIdNotFound>()(
  "FetchSessionIdNotFound",
  fields
) {
  readonly errorCode = ErrorCode.FETCH_SESSION_ID_NOT_FOUND
}

/** An incremental fetch with an epoch other than the session's next one (71). */
export class InvalidFetchSessionEpoch extends Schema.TaggedError<InvalidFetchSessionEpoch>()(
  "InvalidFetchSessionEpoch",
  fields
) {
  readonly errorCode = ErrorCode.INVALID_FETCH_SESSION_EPOCH
}

/** A partition's replica mailbox is full: the command is refused rather than queued without bound (7, retriable). */
export class ReplicaBusy extends Schema.TaggedError<ReplicaBusy>()("ReplicaBusy", fields) {
  readonly errorCode = ErrorCode.REQUEST_TIMED_OUT
}

/** Checks a client's `current_leader_epoch` against the partition's; -1 (none) skips the check, as in Kafka. */
export const checkLeaderEpoch = (
  current: number,
  leaderEpoch: number
): FencedLeaderEpoch | UnknownLeaderEpoch | undefined =>
  current === -1 || current === leaderEpoch
    ? undefined
    : current < leaderEpoch
      ? new FencedLeaderEpoch({ message: `Leader epoch ${current} is older than the current ${leaderEpoch}` })
      : new UnknownLeaderEpoch({ message: `Leader epoch ${current} is newer than the current ${leaderEpoch}` })

/** A batch whose sequence number does not follow the producer's last one on this partition (45). */
export class OutOfOrderSequenceNumber extends Schema.TaggedError<OutOfOrderSequenceNumber>()(
  "OutOfOrderSequenceNumber",
  fields
) {
  readonly errorCode = ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
}

/** A batch or marker from an older epoch of its producer: a zombie (47). */
export class InvalidProducerEpoch extends Schema.TaggedError<InvalidProducerEpoch>()("InvalidProducerEpoch", fields) {
  readonly errorCode = ErrorCode.INVALID_PRODUCER_EPOCH
}

/** A non-transactional batch from a producer with an open transaction on this partition (48). */
export class InvalidTxnState extends Schema.TaggedError<InvalidTxnState>()("InvalidTxnState", fields) {
  readonly errorCode = ErrorCode.INVALID_TXN_STATE
}

/** This broker is not the partition's leader (a follower, or no longer the leader) (6, retriable). */
export class NotLeaderOrFollower extends Schema.TaggedError<NotLeaderOrFollower>()("NotLeaderOrFollower", fields) {
  readonly errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER
}

/** An acks=all produce refused before the append: the ISR is smaller than `min.insync.replicas` (19). */
export class NotEnoughReplicas extends Schema.TaggedError<NotEnoughReplicas>()("NotEnoughReplicas", fields) {
  readonly errorCode = ErrorCode.NOT_ENOUGH_REPLICAS
}

/** An acks=all produce appended, but the ISR fell below `min.insync.replicas` before it was acknowledged (20). */
export class NotEnoughReplicasAfterAppend extends Schema.TaggedError<NotEnoughReplicasAfterAppend>()(
  "NotEnoughReplicasAfterAppend",
  fields
) {
  readonly errorCode = ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND
}

/**
 * The error for a partition this broker does not host: NOT_LEADER_OR_FOLLOWER when its topic (of `partitions`
 * partitions, undefined when unknown here) has it, so another broker hosts it (as Kafka answers), else
 * UNKNOWN_TOPIC_OR_PARTITION.
 */
export const notHosted = (
  topic: string,
  partition: number,
  partitions: number | undefined
): NotLeaderOrFollower | UnknownTopicOrPartition =>
  partitions !== undefined && partition >= 0 && partition < partitions
    ? new NotLeaderOrFollower({ message: `This broker does not host ${topic}-${partition}.` })
    : new UnknownTopicOrPartition({ message: "This server does not host this topic-partition." })

/** {@link notHosted} for a partition of `topic` as this broker's topic registry knows it (the handlers' one lookup). */
export const notHostedHere = (
  registry: { readonly get: (name: string) => Effect.Effect<{ readonly partitions: number } | undefined> },
  topic: string,
  partition: number
): Effect.Effect<NotLeaderOrFollower | UnknownTopicOrPartition> =>
  Effect.map(registry.get(topic), (known) => notHosted(topic, partition, known?.partitions))
