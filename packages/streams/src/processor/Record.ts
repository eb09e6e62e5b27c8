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

/** The record with another key (value, timestamp and headers kept). */
export const withKey = <K, V>(r: StreamRecord<unknown, V>, key: K): StreamRecord<K, V> => ({ ...r, key })

declare const FixedKeyId: unique symbol

/**
 * A record whose key a processor cannot change (what a `FixedKeyProcessor` gets and forwards, so
 * `processValues` never needs a repartition): only the runtime makes one; `withValue`, `withTimestamp` and
 * `withHeaders` keep it fixed-key.
 */
export interface FixedKeyRecord<K, V> extends StreamRecord<K, V> {
  readonly [FixedKeyId]: "FixedKeyRecord"
}

/** The record with another value (key, timestamp and headers kept); a fixed-key record stays fixed-key. */
export const withValue: {
  <K, V, V2>(r: FixedKeyRecord<K, V>, value: V2): FixedKeyRecord<K, V2>
  <K, V, V2>(r: StreamRecord<K, V>, value: V2): StreamRecord<K, V2>
} = (r: StreamRecord<unknown, unknown>, value: unknown) => ({ ...r, value }) as never

/** The record with another timestamp. */
export const withTimestamp: {
  <K, V>(r: FixedKeyRecord<K, V>, timestamp: number): FixedKeyRecord<K, V>
  <K, V>(r: StreamRecord<K, V>, timestamp: number): StreamRecord<K, V>
} = (r: StreamRecord<unknown, unknown>, timestamp: number) => ({ ...r, timestamp }) as never

/** The record with other headers. */
export const withHeaders: {
  <K, V>(r: FixedKeyRecord<K, V>, headers: Headers): FixedKeyRecord<K, V>
  <K, V>(r: StreamRecord<K, V>, headers: Headers): StreamRecord<K, V>
} = (r: StreamRecord<unknown, unknown>, headers: Headers) => ({ ...r, headers }) as never
