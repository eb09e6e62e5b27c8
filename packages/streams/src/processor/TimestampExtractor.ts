/**
 * Timestamp extractors (Kafka Streams' `TimestampExtractor`): the event time of each input record, which
 * drives stream time, windows, grace and suppression. Set one for all sources with
 * `default.timestamp.extractor`, or per source with `Consumed.timestampExtractor`.
 *
 * An extractor gets the decoded record and the partition time (the largest timestamp extracted from the
 * record's partition so far, -1 before any). A negative result makes the task skip the record with a
 * warning; an extractor that throws fails the task (whatever the exception handlers say).
 */
import type { Headers } from "./Record.js"

/** The input record an extractor sees: decoded key and value, the timestamp the record carries. */
export interface ExtractorRecord {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly key: unknown
  readonly value: unknown
  readonly timestamp: number
  readonly headers: Headers
}

/** Where an extractor runs: wall-clock time from the runtime's `Clock`. */
export interface ExtractorContext {
  readonly currentSystemTimeMs: () => number
}

/** Chooses a record's event time (negative: skip the record). */
export type TimestampExtractor = (record: ExtractorRecord, partitionTime: number, context: ExtractorContext) => number

const describe = (r: ExtractorRecord) => `${r.topic}-${r.partition}@${r.offset}`

/** The record's own timestamp; a negative one fails the task (Kafka's default `FailOnInvalidTimestamp`). */
export const failOnInvalidTimestamp: TimestampExtractor = (record) => {
  if (record.timestamp < 0)
    throw new Error(
      `Input record ${describe(record)} has invalid (negative) timestamp ${record.timestamp}: use a different default.timestamp.extractor (e.g. logAndSkipOnInvalidTimestamp) to skip such records`
    )
  return record.timestamp
}

/** The record's own timestamp; a record with a negative one is skipped with a warning (`LogAndSkipOnInvalidTimestamp`). */
export const logAndSkipOnInvalidTimestamp: TimestampExtractor = (record) => record.timestamp

/**
 * The record's own timestamp, or the partition time when it is negative (`UsePartitionTimeOnInvalidTimestamp`);
 * fails when the partition time is not known yet either.
 */
export const usePartitionTimeOnInvalidTimestamp: TimestampExtractor = (record, partitionTime) => {
  if (record.timestamp >= 0) return record.timestamp
  if (partitionTime < 0)
    throw new Error(
      `Could not infer a timestamp for ${describe(record)} (timestamp ${record.timestamp}): the partition time is not known yet`
    )
  return partitionTime
}

/** Processing time: the wall-clock time when the record is processed (`WallclockTimestampExtractor`). */
export const wallclockTimestampExtractor: TimestampExtractor = (_record, _partitionTime, context) =>
  context.currentSystemTimeMs()
