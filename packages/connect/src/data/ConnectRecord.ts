/**
 * Connect's records: `SourceRecord` (what a source task produces, with its source partition and offset),
 * `SinkRecord` (what a sink task receives, with its Kafka coordinates) and their `Header`s.
 */
import type { ConnectSchema } from "./ConnectSchema.js"

/** One record header: a key and a schema'd value. */
export interface Header {
  readonly key: string
  readonly schema: ConnectSchema | null
  readonly value: unknown
}

/** Fields common to source and sink records (Kafka's ConnectRecord). */
export interface ConnectRecord {
  readonly topic: string
  /** Kafka partition, or null to let the producer choose. */
  readonly kafkaPartition: number | null
  readonly keySchema: ConnectSchema | null
  readonly key: unknown
  readonly valueSchema: ConnectSchema | null
  readonly value: unknown
  /** Milliseconds since the epoch, or null. */
  readonly timestamp: number | null
  readonly headers: ReadonlyArray<Header>
}

/** A record from a source task: where it came from in the source system and its position there. */
export interface SourceRecord extends ConnectRecord {
  readonly _tag: "SourceRecord"
  readonly sourcePartition: Readonly<Record<string, unknown>> | null
  readonly sourceOffset: Readonly<Record<string, unknown>> | null
}

/** The timestamp type of a consumed record. */
export type TimestampType = "NoTimestampType" | "CreateTime" | "LogAppendTime"

/** A record given to a sink task, with its Kafka offset. */
export interface SinkRecord extends ConnectRecord {
  readonly _tag: "SinkRecord"
  readonly kafkaOffset: number
  readonly timestampType: TimestampType
  /** The topic/partition/offset the record was consumed at, before transforms changed them. */
  readonly originalTopic: string
  readonly originalKafkaPartition: number
  readonly originalKafkaOffset: number
}

/** Any Connect record. */
export type AnyRecord = SourceRecord | SinkRecord

/** Builds a SourceRecord; absent fields are null. */
export const sourceRecord = (fields: {
  readonly topic: string
  readonly sourcePartition?: Readonly<Record<string, unknown>> | null
  readonly sourceOffset?: Readonly<Record<string, unknown>> | null
  readonly kafkaPartition?: number | null
  readonly keySchema?: ConnectSchema | null
  readonly key?: unknown
  readonly valueSchema?: ConnectSchema | null
  readonly value?: unknown
  readonly timestamp?: number | null
  readonly headers?: ReadonlyArray<Header>
}): SourceRecord => ({
  _tag: "SourceRecord",
  topic: fields.topic,
  sourcePartition: fields.sourcePartition ?? null,
  sourceOffset: fields.sourceOffset ?? null,
  kafkaPartition: fields.kafkaPartition ?? null,
  keySchema: fields.keySchema ?? null,
  key: fields.key ?? null,
  valueSchema: fields.valueSchema ?? null,
  value: fields.value ?? null,
  timestamp: fields.timestamp ?? null,
  headers: fields.headers ?? []
})

/** Builds a SinkRecord; the original coordinates default to the given ones. */
export const sinkRecord = (fields: {
  readonly topic: string
  readonly kafkaPartition: number
  readonly kafkaOffset: number
  readonly keySchema?: ConnectSchema | null
  readonly key?: unknown
  readonly valueSchema?: ConnectSchema | null
  readonly value?: unknown
  readonly timestamp?: number | null
  readonly timestampType?: TimestampType
  readonly headers?: ReadonlyArray<Header>
}): SinkRecord => ({
  _tag: "SinkRecord",
  topic: fields.topic,
  kafkaPartition: fields.kafkaPartition,
  kafkaOffset: fields.kafkaOffset,
  keySchema: fields.keySchema ?? null,
  key: fields.key ?? null,
  valueSchema: fields.valueSchema ?? null,
  value: fields.value ?? null,
  timestamp: fields.timestamp ?? null,
  timestampType: fields.timestampType ?? (fields.timestamp == null ? "NoTimestampType" : "CreateTime"),
  headers: fields.headers ?? [],
  originalTopic: fields.topic,
  originalKafkaPartition: fields.kafkaPartition,
  originalKafkaOffset: fields.kafkaOffset
})

/** A copy of a record with some fields replaced (Kafka's `newRecord`), keeping its kind and source data. */
export const withFields = <R extends AnyRecord>(
  record: R,
  changes: Partial<Pick<ConnectRecord, keyof ConnectRecord>>
): R => ({ ...record, ...changes })
