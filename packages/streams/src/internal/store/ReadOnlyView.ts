/**
 * A typed, read-only view of a timestamped store with plain values (what `getKeyValueStore` and interactive
 * queries hand out): keys and bounds go through the key serde, values come without their timestamps.
 */
import type { KeyValue, ReadOnlyKeyValueStore } from "../../state/KeyValueStore.js"
import type { TimestampedStore } from "./TimestampedStore.js"
import * as VT from "./ValueAndTimestamp.js"

/** A typed read-only store over `store`'s byte store (flushed writes only). */
export const keyValueView = <K, V>(
  store: TimestampedStore<K, V>,
  keySerde: { encode(k: K): Uint8Array | null; decode(b: Uint8Array | null): K },
  valueSerde: { decode(b: Uint8Array | null): V }
): ReadOnlyKeyValueStore<K, V> => {
  const inner = store.inner
  const enc = (k: K | undefined) => (k === undefined ? undefined : (keySerde.encode(k) ?? undefined))
  function* decode(it: Iterable<KeyValue<Uint8Array, Uint8Array>>): IterableIterator<KeyValue<K, V>> {
    for (const { key, value } of it) yield { key: keySerde.decode(key), value: valueSerde.decode(VT.valueBytes(value)) }
  }
  return {
    name: store.name,
    get: (key) => store.get(key)?.value,
    range: (from, to) => decode(inner.range(enc(from), enc(to))),
    reverseRange: (from, to) => decode(inner.reverseRange(enc(from), enc(to))),
    all: () => decode(inner.all()),
    reverseAll: () => decode(inner.reverseAll()),
    prefixScan: (prefix) => decode(inner.prefixScan(enc(prefix) ?? new Uint8Array(0))),
    approximateNumEntries: () => inner.approximateNumEntries()
  }
}
