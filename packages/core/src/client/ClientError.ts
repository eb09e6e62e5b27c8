/**
 * The errors of Eddy's client: a broker's error code ({@link KafkaError}), a dead or unreachable
 * connection ({@link ConnectionError}), a request that got no answer in time ({@link RequestTimeoutError}),
 * no broker reachable within `bootstrap.timeout.ms` ({@link BootstrapTimeoutError}), and misuse or version
 * mismatches ({@link UnsupportedVersionError}, {@link ClientClosedError}).
 *
 * Every error carries `retriable`, which the client's retry `Schedule`s read.
 */
import { Predicate, Schema } from "effect"
import { errorCodeInfo } from "../protocol/generated/ErrorCode.js"

/** A non-zero Kafka error code returned by a broker. `retriable` comes from the generated `ErrorCode` table. */
export class KafkaError extends Schema.TaggedError<KafkaError>()("KafkaError", {
  errorCode: Schema.Number,
  /** The code's name, e.g. `NOT_LEADER_OR_FOLLOWER`. */
  errorName: Schema.String,
  retriable: Schema.Boolean,
  message: Schema.String,
  topic: Schema.optional(Schema.String),
  partition: Schema.optional(Schema.Number)
}) {}

/** The connection to a broker failed, closed or could not be opened; always retriable. */
export class ConnectionError extends Schema.TaggedError<ConnectionError>()("ConnectionError", {
  /** `host:port` of the broker. */
  broker: Schema.String,
  message: Schema.String,
  retriable: Schema.Literal(true)
}) {}

/** A request got no response within `request.timeout.ms`; the connection is closed, the request may be retried. */
export class RequestTimeoutError extends Schema.TaggedError<RequestTimeoutError>()("RequestTimeoutError", {
  broker: Schema.String,
  apiKey: Schema.Number,
  timeoutMs: Schema.Number,
  retriable: Schema.Literal(true)
}) {}

/** Neither side supports a common version of an api the client needs. */
export class UnsupportedVersionError extends Schema.TaggedError<UnsupportedVersionError>()("UnsupportedVersionError", {
  broker: Schema.String,
  apiKey: Schema.Number,
  message: Schema.String,
  retriable: Schema.Literal(false)
}) {}

/** The producer, admin or fetcher was used after its scope closed. */
export class ClientClosedError extends Schema.TaggedError<ClientClosedError>()("ClientClosedError", {
  message: Schema.String,
  retriable: Schema.Literal(false)
}) {}

/**
 * No bootstrap server could be reached within `bootstrap.timeout.ms` while the client had never reached a
 * broker; not retriable, so that every retry loop stops.
 */
export class BootstrapTimeoutError extends Schema.TaggedError<BootstrapTimeoutError>()("BootstrapTimeoutError", {
  /** The `host:port` addresses tried, comma-separated. */
  bootstrapServers: Schema.String,
  timeoutMs: Schema.Number,
  /** The last connection error, e.g. `connect ECONNREFUSED 127.0.0.1:9092`. */
  message: Schema.String,
  retriable: Schema.Literal(false)
}) {}

/** Errors of one request to one broker. */
export type RequestError = ConnectionError | RequestTimeoutError | UnsupportedVersionError

/** Any client error. */
export type ClientError = KafkaError | RequestError | ClientClosedError | BootstrapTimeoutError

/** A {@link KafkaError} for `errorCode` (which must be non-zero), with the table's name and `retriable`. */
export const fromCode = (
  errorCode: number,
  context: { readonly topic?: string; readonly partition?: number; readonly message?: string | null } = {}
): KafkaError => {
  const info = errorCodeInfo(errorCode)
  const where =
    context.topic === undefined
      ? ""
      : context.partition === undefined
        ? ` (${context.topic})`
        : ` (${context.topic}-${context.partition})`
  return new KafkaError({
    errorCode,
    errorName: info.name,
    retriable: info.retriable,
    message: `${info.name}${where}${context.message ? `: ${context.message}` : ""}`,
    ...(context.topic === undefined ? {} : { topic: context.topic }),
    ...(context.partition === undefined ? {} : { partition: context.partition })
  })
}

/** Whether `u` is an error the client retries (a retriable Kafka code, a network error or a timeout). */
export const isRetriable = (u: unknown): boolean => Predicate.hasProperty(u, "retriable") && u.retriable === true

/** Whether `u` means cached metadata may be stale (leader moved, topic unknown, broker gone). */
export const needsMetadataRefresh = (u: unknown): boolean => {
  if (u instanceof ConnectionError || u instanceof RequestTimeoutError) return true
  if (u instanceof KafkaError) {
    switch (u.errorCode) {
      case 3: // UNKNOWN_TOPIC_OR_PARTITION
      case 5: // LEADER_NOT_AVAILABLE
      case 6: // NOT_LEADER_OR_FOLLOWER
      case 74: // FENCED_LEADER_EPOCH
      case 75: // UNKNOWN_LEADER_EPOCH
      case 8: // BROKER_NOT_AVAILABLE
      case 13: // NETWORK_EXCEPTION
      case 100: // UNKNOWN_TOPIC_ID
        return true
    }
  }
  return false
}
