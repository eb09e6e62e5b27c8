/**
 * Timestamped key-value stores (Kafka Streams' `TimestampedKeyValueStore`): each value carries the
 * timestamp of the record that wrote it. In bytes a value is stored as Kafka stores it: an 8-byte
 * big-endian timestamp followed by the raw value. The changelog of such a store carries the raw value with
 * the timestamp as the record's timestamp (so restoring puts `{ value: record.value, timestamp:
 * record.timestamp }`).
 */
import { readInt64, writeInt64 } from "./internal/bytes.js"
import type { KeyValue, KeyValueBytesStore, KeyValueStore } from "./KeyValueStore.js"

/** A value and the timestamp of the record that wrote it. */
export interface ValueAndTimestamp<V> {
  readonly value: V
  readonly timestamp: number
}

/** A key-value store whose values carry timestamps. */
export type TimestampedKeyValueStore<K, V> = KeyValueStore<K, ValueAndTimestamp<V>>

/** The byte-level timestamped store the runtime wraps. */
export type TimestampedKeyValueBytesStore = TimestampedKeyValueStore<Uint8Array, Uint8Array>

/** Kafka's byte form of a value and timestamp: the 8-byte big-endian timestamp, then the value. */
export const encode = (vt: ValueAndTimestamp<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(8 + vt.value.length)
  writeInt64(out, 0, vt.timestamp)
  out.set(vt.value, 8)
  return out
}

/** Reads Kafka's byte form of a value and timestamp (the value is a view into `bytes`). */
export const decode = (bytes: Uint8Array): ValueAndTimestamp<Uint8Array> => ({
  value: bytes.subarray(8),
  timestamp: readInt64(bytes, 0)
})

const decodeEntry = (kv: KeyValue<Uint8Array, Uint8Array>): KeyValue<Uint8Array, ValueAndTimestamp<Uint8Array>> => ({
  key: kv.key,
  value: decode(kv.value)
})

function* mapEntries(
  it: IterableIterator<KeyValue<Uint8Array, Uint8Array>>
): IterableIterator<KeyValue<Uint8Array, ValueAndTimestamp<Uint8Array>>> {
  for (const kv of it) yield decodeEntry(kv)
}

/** A timestamped store over a byte-level store `inner`, whose values it keeps in Kafka's byte form. */
export const wrap = (inner: KeyValueBytesStore): TimestampedKeyValueBytesStore => new TimestampedBytesStore(inner)

class TimestampedBytesStore implements TimestampedKeyValueBytesStore {
  constructor(readonly inner: KeyValueBytesStore) {}
  get name() {
    return this.inner.name
  }
  get persistent() {
    return this.inner.persistent
  }
  get(key: Uint8Array) {
    const bytes = this.inner.get(key)
    return bytes === undefined ? undefined : decode(bytes)
  }
  put(key: Uint8Array, value: ValueAndTimestamp<Uint8Array> | null) {
    this.inner.put(key, value === null ? null : encode(value))
  }
  putIfAbsent(key: Uint8Array, value: ValueAndTimestamp<Uint8Array>) {
    const existing = this.inner.putIfAbsent(key, encode(value))
    return existing === undefined ? undefined : decode(existing)
  }
  putAll(entries: ReadonlyArray<KeyValue<Uint8Array, ValueAndTimestamp<Uint8Array> | null>>) {
    this.inner.putAll(entries.map((e) => ({ key: e.key, value: e.value === null ? null : encode(e.value) })))
  }
  delete(key: Uint8Array) {
    const existing = this.inner.delete(key)
    return existing === undefined ? undefined : decode(existing)
  }
  range(from: Uint8Array | undefined, to: Uint8Array | undefined) {
    return mapEntries(this.inner.range(from, to))
  }
  reverseRange(from: Uint8Array | undefined, to: Uint8Array | undefined) {
    return mapEntries(this.inner.reverseRange(from, to))
  }
  all() {
    return mapEntries(this.inner.all())
  }
  reverseAll() {
    return mapEntries(this.inner.reverseAll())
  }
  prefixScan(prefix: Uint8Array) {
    return mapEntries(this.inner.prefixScan(prefix))
  }
  approximateNumEntries() {
    return this.inner.approximateNumEntries()
  }
  flush() {
    this.inner.flush()
  }
  close() {
    this.inner.close()
  }
}
