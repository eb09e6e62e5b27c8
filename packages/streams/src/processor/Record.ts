/**
 * The record every processor sees: key, value, timestamp and headers (Kafka Streams' `Record`), and the
 * `Change` a table processor forwards (the new value and the old one it replaces).
 */
import type * as Topic from "@eddy/core/client/Topic"

/** Record headers, as the client reads them. */
export type Headers = Topic.ConsumerRecord<unknown, unknown>["headers"]

/** A record flowing through a topology. */
export interface StreamRecord<K, V> {
  readonly key: K
  readonly value: V
  readonly timestamp: number
  readonly headers: Headers
}

/** An update of a table row: the new value (null = deleted) and the value it replaced (null = absent). */
export interface Change<V> {
  readonly newValue: V | null
  readonly oldValue: V | null
}

/** A key and a value, as the DSL's key-changing functions return them. */
export interface KeyValue<K, V> {
  readonly key: K
  readonly value: V
}

/** Makes a {@link KeyValue}. */
export const pair = <K, V>(key: K, value: V): KeyValue<K, V> => ({ key, value })

const noHeaders: Headers = []

/** Makes a record (no headers unless given). */
export const make = <K, V>(key: K, value: V, timestamp: number, headers: Headers = noHeaders): StreamRecord<K, V> => ({
  key,
  value,
  timestamp,
  headers
})

/** The record with another key and value, same timestamp and headers. */
export const withKeyValue = <K, V>(r: StreamRecord<unknown, unknown>, key: K, value: V): StreamRecord<K, V> => ({
  key,
  value,
  timestamp: r.timestamp,
  headers: r.headers
})
