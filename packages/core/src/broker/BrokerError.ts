/**
 * Errors raised by broker services and handlers. Each carries its Kafka `errorCode`; a handler turns
 * one into wire fields with {@link toWire}, the single place where errors become codes.
 */
import { Cause, Schema } from "effect"
import { KafkaStorageError } from "../log/LogError.js"
import { ErrorCode } from "../protocol/generated/ErrorCode.js"

/** Kafka error codes by name (the generated table from `errors.tsv`). */
export const Codes = ErrorCode

const fields = { message: Schema.String }

/** The topic does not exist (3). */
export class UnknownTopicOrPartition extends Schema.TaggedError<UnknownTopicOrPartition>()(
  "UnknownTopicOrPartition",
  fields
) {
  readonly errorCode = Codes.UNKNOWN_TOPIC_OR_PARTITION
}

/** No topic has this id (100). */
export class UnknownTopicId extends Schema.TaggedError<UnknownTopicId>()("UnknownTopicId", fields) {
  readonly errorCode = Codes.UNKNOWN_TOPIC_ID
}

/** The topic name is not legal or collides with another (17). */
export class InvalidTopic extends Schema.TaggedError<InvalidTopic>()("InvalidTopic", fields) {
  readonly errorCode = Codes.INVALID_TOPIC_EXCEPTION
}

/** A topic with this name already exists (36). */
export class TopicAlreadyExists extends Schema.TaggedError<TopicAlreadyExists>()("TopicAlreadyExists", fields) {
  readonly errorCode = Codes.TOPIC_ALREADY_EXISTS
}

/** The partition count is not acceptable (37). */
export class InvalidPartitions extends Schema.TaggedError<InvalidPartitions>()("InvalidPartitions", fields) {
  readonly errorCode = Codes.INVALID_PARTITIONS
}

/** The replication factor is larger than the brokers available (38). */
export class InvalidReplicationFactor extends Schema.TaggedError<InvalidReplicationFactor>()(
  "InvalidReplicationFactor",
  fields
) {
  readonly errorCode = Codes.INVALID_REPLICATION_FACTOR
}

/** A config name or value is not acceptable (40). */
export class InvalidConfig extends Schema.TaggedError<InvalidConfig>()("InvalidConfig", fields) {
  readonly errorCode = Codes.INVALID_CONFIG
}

/** The request is malformed at the semantic level (42). */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", fields) {
  readonly errorCode = Codes.INVALID_REQUEST
}

/** The request breaks a limit the broker enforces (44): partitions per request or per broker, file descriptors. */
export class PolicyViolation extends Schema.TaggedError<PolicyViolation>()("PolicyViolation", fields) {
  readonly errorCode = Codes.POLICY_VIOLATION
}

/** A duplicate resource in one request (92). */
export class DuplicateResource extends Schema.TaggedError<DuplicateResource>()("DuplicateResource", fields) {
  readonly errorCode = Codes.DUPLICATE_RESOURCE
}

/** The request must go to the controller, and this broker is not it (41): the client looks the controller up again. */
export class NotController extends Schema.TaggedError<NotController>()("NotController", fields) {
  readonly errorCode = Codes.NOT_CONTROLLER
}

/** The cluster metadata store did not take a change in time (7, retriable): its outcome is unknown. */
export class MetadataTimeout extends Schema.TaggedError<MetadataTimeout>()("MetadataTimeout", fields) {
  readonly errorCode = Codes.REQUEST_TIMED_OUT
}

/** Reading or writing the data directory failed (56): the log engine's error, shared by the broker. */
export { KafkaStorageError }

/** Any broker error with a Kafka code. */
export type BrokerError =
  | UnknownTopicOrPartition
  | UnknownTopicId
  | InvalidTopic
  | TopicAlreadyExists
  | InvalidPartitions
  | InvalidReplicationFactor
  | InvalidConfig
  | InvalidRequest
  | DuplicateResource
  | PolicyViolation
  | NotController
  | MetadataTimeout
  | KafkaStorageError

/** Wire form of an outcome: a code and an optional message. */
export interface WireError {
  readonly errorCode: number
  readonly errorMessage: string | null
}

/** Longest error message sent: messages quote request fields (names, keys, values) that may be 32 KiB long. */
export const MAX_ERROR_MESSAGE = 1024

/**
 * An error message as sent: cut to {@link MAX_ERROR_MESSAGE} characters (at most 3 KiB of UTF-8), so that
 * quoting a long request field never makes a response too long for its string fields.
 */
export const wireMessage = (message: string | null): string | null =>
  message === null || message.length <= MAX_ERROR_MESSAGE
    ? message
    : `${message.slice(0, MAX_ERROR_MESSAGE - 3).replace(/[\uD800-\uDBFF]$/, "")}...`

/** No error. */
export const none: WireError = { errorCode: Codes.NONE, errorMessage: null }

const hasCode = (u: unknown): u is { readonly errorCode: number; readonly message: string } =>
  typeof u === "object" && u !== null && typeof (u as { errorCode?: unknown }).errorCode === "number"

/**
 * Turns a failure into wire fields: a broker error keeps its code and message (cut by {@link wireMessage}); anything else is
 * UNKNOWN_SERVER_ERROR (-1) without details (the caller logs the cause).
 */
export const toWire = (error: unknown): WireError =>
  hasCode(error)
    ? { errorCode: error.errorCode, errorMessage: wireMessage(error.message) }
    : { errorCode: Codes.UNKNOWN_SERVER_ERROR, errorMessage: "Unexpected server error" }

/** {@link toWire} over a Cause: the first typed failure, else UNKNOWN_SERVER_ERROR. */
export const causeToWire = (cause: Cause.Cause<unknown>): WireError => {
  const failure = Cause.failureOption(cause)
  return failure._tag === "Some" ? toWire(failure.value) : toWire(undefined)
}
