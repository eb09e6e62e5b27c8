/**
 * Errors of the log storage engine, each carrying the Kafka error code a broker answers with.
 */
import { Schema } from "effect";
declare const KafkaStorageError_base: Schema.TaggedErrorClass<KafkaStorageError, "KafkaStorageError", {
    readonly _tag: Schema.tag<"KafkaStorageError">;
} & {
    message: typeof Schema.String;
    /** The file or folder involved, "" when none. */
    path: typeof Schema.String;
    /** The system error code (`ENOSPC`, `EACCES`, ...) or "" when none. */
    code: typeof Schema.String;
}>;
/** An I/O failure (disk full, permission denied, fsync failure) or a log taken offline after one: KAFKA_STORAGE_ERROR (56). */
export declare class KafkaStorageError extends KafkaStorageError_base {
    /** Kafka error code KAFKA_STORAGE_ERROR. */
    readonly errorCode: 56;
}
declare const OffsetOutOfRangeError_base: Schema.TaggedErrorClass<OffsetOutOfRangeError, "OffsetOutOfRangeError", {
    readonly _tag: Schema.tag<"OffsetOutOfRangeError">;
} & {
    message: typeof Schema.String;
    offset: typeof Schema.Number;
    logStartOffset: typeof Schema.Number;
    logEndOffset: typeof Schema.Number;
}>;
/** A fetch or delete-records offset outside `[logStartOffset, logEndOffset]`: OFFSET_OUT_OF_RANGE (1). */
export declare class OffsetOutOfRangeError extends OffsetOutOfRangeError_base {
    /** Kafka error code OFFSET_OUT_OF_RANGE. */
    readonly errorCode: 1;
}
declare const CorruptMessageError_base: Schema.TaggedErrorClass<CorruptMessageError, "CorruptMessageError", {
    readonly _tag: Schema.tag<"CorruptMessageError">;
} & {
    message: typeof Schema.String;
}>;
/** An appended batch whose header does not parse or whose CRC does not match: CORRUPT_MESSAGE (2). */
export declare class CorruptMessageError extends CorruptMessageError_base {
    /** Kafka error code CORRUPT_MESSAGE. */
    readonly errorCode: 2;
}
declare const InvalidRecordError_base: Schema.TaggedErrorClass<InvalidRecordError, "InvalidRecordError", {
    readonly _tag: Schema.tag<"InvalidRecordError">;
} & {
    message: typeof Schema.String;
}>;
/** An append that cannot be placed: offsets going backwards (follower append) or an offset range too wide: INVALID_RECORD (87). */
export declare class InvalidRecordError extends InvalidRecordError_base {
    /** Kafka error code INVALID_RECORD. */
    readonly errorCode: 87;
}
declare const RecordListTooLargeError_base: Schema.TaggedErrorClass<RecordListTooLargeError, "RecordListTooLargeError", {
    readonly _tag: Schema.tag<"RecordListTooLargeError">;
} & {
    message: typeof Schema.String;
    size: typeof Schema.Number;
}>;
/** A batch larger than a whole segment (`segment.bytes`): RECORD_LIST_TOO_LARGE (18). */
export declare class RecordListTooLargeError extends RecordListTooLargeError_base {
    /** Kafka error code RECORD_LIST_TOO_LARGE. */
    readonly errorCode: 18;
}
/** Any error of the log. */
export type LogError = KafkaStorageError | OffsetOutOfRangeError | CorruptMessageError | InvalidRecordError | RecordListTooLargeError;
/** A {@link KafkaStorageError} from a Node.js system error. */
export declare const fromSystemError: (cause: unknown, operation: string, path: string) => KafkaStorageError;
export {};
