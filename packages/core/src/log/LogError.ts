/**
 * Errors of the log storage engine, each carrying the Kafka error code a broker answers with.
 */
import { Schema } from "effect"

/** An I/O failure (disk full, permission denied, fsync failure) or a log taken offline after one: KAFKA_STORAGE_ERROR (56). */
export class KafkaStorageError extends Schema.TaggedError<KafkaStorageError>()("KafkaStorageError", {
  message: Schema.String,
  /** The file or folder involved, "" when none. */
  path: Schema.String,
  /** The system error code (`ENOSPC`, `EACCES`, ...) or "" when none. */
  code: Schema.String
}) {
  /** Kafka error code KAFKA_STORAGE_ERROR. */
  readonly errorCode = 56 as const
}

/** A fetch or delete-records offset outside `[logStartOffset, logEndOffset]`: OFFSET_OUT_OF_RANGE (1). */
export class OffsetOutOfRangeError extends Schema.TaggedError<OffsetOutOfRangeError>()("OffsetOutOfRangeError", {
  message: Schema.String,
  offset: Schema.Number,
  logStartOffset: Schema.Number,
  logEndOffset: Schema.Number
}) {
  /** Kafka error code OFFSET_OUT_OF_RANGE. */
  readonly errorCode = 1 as const
}

/** An appended batch whose header does not parse or whose CRC does not match: CORRUPT_MESSAGE (2). */
export class CorruptMessageError extends Schema.TaggedError<CorruptMessageError>()("CorruptMessageError", {
  message: Schema.String
}) {
  /** Kafka error code CORRUPT_MESSAGE. */
  readonly errorCode = 2 as const
}

/** An append that cannot be placed: offsets going backwards (follower append) or an offset range too wide: INVALID_RECORD (87). */
export class InvalidRecordError extends Schema.TaggedError<InvalidRecordError>()("InvalidRecordError", {
  message: Schema.String
}) {
  /** Kafka error code INVALID_RECORD. */
  readonly errorCode = 87 as const
}

/** A batch larger than a whole segment (`segment.bytes`): RECORD_LIST_TOO_LARGE (18). */
export class RecordListTooLargeError extends Schema.TaggedError<RecordListTooLargeError>()("RecordListTooLargeError", {
  message: Schema.String,
  size: Schema.Number
}) {
  /** Kafka error code RECORD_LIST_TOO_LARGE. */
  readonly errorCode = 18 as const
}

/** Any error of the log. */
export type LogError =
  | KafkaStorageError
  | OffsetOutOfRangeError
  | CorruptMessageError
  | InvalidRecordError
  | RecordListTooLargeError

/**
 * A {@link KafkaStorageError} from a Node.js system error; its message names the file (Node's messages for
 * operations on open files, e.g. `ENOSPC: no space left on device, write`, do not).
 */
export const fromSystemError = (cause: unknown, operation: string, path: string): KafkaStorageError => {
  const err = cause as { code?: unknown; message?: unknown }
  const code = typeof err?.code === "string" ? err.code : ""
  const detail = typeof err?.message === "string" ? err.message : String(cause)
  const what = path === "" || detail.includes(path) ? operation : `${operation} of ${path}`
  return new KafkaStorageError({ message: `${what} failed: ${detail}`, path, code })
}
