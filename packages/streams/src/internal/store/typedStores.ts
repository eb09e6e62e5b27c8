/**
 * The typed stores Processor-API code gets from `getStateStore` (Kafka Streams' `KeyValueStore<K, V>` and
 * `TimestampedKeyValueStore<K, V>`), over the runtime's `TimestampedStore`: writes go through it, so they are
 * changelogged like the DSL's; reads and ranges decode with the store's serdes. A plain key-value store keeps
 * each value with the timestamp of the record (or punctuation) that wrote it, as Kafka's changelog does.
 *
 * Invariants: a facade never closes or flushes its store (the task owns it); ranges read the byte store
 * (Processor-API stores have no record cache, so every write is there).
 */
import type { Step } from "../../processor/Processor.js"
import type { KeyValue, KeyValueStore } from "../../state/KeyValueStore.js"
import type { TimestampedKeyValueStore, ValueAndTimestamp } from "../../state/TimestampedKeyValueStore.js"
import type { TimestampedStore } from "./TimestampedStore.js"
import * as VT from "./ValueAndTimestamp.js"

/** Which typed interface a store offers to processors. */
export type StoreApi = "keyValue" | "timestampedKeyValue"

const notByProcessors = (name: string, what: string) => () => {
  throw new Error(`State store ${name}: ${what} is done by the runtime, not by processors`)
}

/** Receives the work a write left (a cached DSL store's evictions forward downstream). */
export type OnStep = (step: Step) => void

const ignore: OnStep = () => {}

/**
 * A typed store of `api` over `store`; `timestamp` is the time a plain key-value write is stamped with,
 * `onStep` takes what a write left to do.
 */
export const facade = (
  api: StoreApi,
  store: TimestampedStore<unknown, unknown>,
  timestamp: () => number,
  onStep: OnStep = ignore
): KeyValueStore<unknown, unknown> =>
  api === "keyValue" ? keyValueStore(store, timestamp, onStep) : (timestampedKeyValueStore(store, onStep) as never)

const iterate = <K, V, A>(
  store: TimestampedStore<K, V>,
  it: Iterable<KeyValue<Uint8Array, Uint8Array>>,
  value: (v: V, timestamp: number) => A
): IterableIterator<KeyValue<K, A>> => {
  const { keySerde, valueSerde } = store
  return (function* () {
    for (const e of it) {
      yield {
        key: keySerde.decode(e.key),
        value: value(valueSerde.decode(VT.valueBytes(e.value)), VT.timestampOf(e.value))
      }
    }
  })()
}

const reads = <K, V, A>(store: TimestampedStore<K, V>, value: (v: V, timestamp: number) => A) => {
  const inner = store.inner
  const enc = (k: K | undefined) => (k === undefined ? undefined : (store.keySerde.encode(k) ?? undefined))
  return {
    name: store.name,
    get persistent() {
      return inner.persistent
    },
    range: (from: K | undefined, to: K | undefined) => iterate(store, inner.range(enc(from), enc(to)), value),
    reverseRange: (from: K | undefined, to: K | undefined) =>
      iterate(store, inner.reverseRange(enc(from), enc(to)), value),
    all: () => iterate(store, inner.all(), value),
    reverseAll: () => iterate(store, inner.reverseAll(), value),
    prefixScan: (prefix: K) => iterate(store, inner.prefixScan(enc(prefix) ?? new Uint8Array(0)), value),
    approximateNumEntries: () => inner.approximateNumEntries(),
    flush: () => {},
    close: notByProcessors(store.name, "closing")
  }
}

/** A typed key-value store over `store`. */
export const keyValueStore = <K, V>(
  store: TimestampedStore<K, V>,
  timestamp: () => number,
  onStep: OnStep = ignore
): KeyValueStore<K, V> => {
  const get = (key: K) => store.get(key)?.value
  const put = (key: K, value: V | null) => onStep(store.put(key, value, timestamp()))
  return {
    ...reads(store, (v) => v),
    get,
    put,
    putIfAbsent: (key, value) => {
      const old = get(key)
      if (old === undefined) put(key, value)
      return old
    },
    putAll: (entries) => {
      for (const e of entries) put(e.key, e.value)
    },
    delete: (key) => {
      const old = get(key)
      if (old !== undefined) put(key, null)
      return old
    }
  }
}

/** A typed key-value store whose values carry timestamps over `store`. */
export const timestampedKeyValueStore = <K, V>(
  store: TimestampedStore<K, V>,
  onStep: OnStep = ignore
): TimestampedKeyValueStore<K, V> => {
  const get = (key: K) => store.get(key)
  const put = (key: K, vt: ValueAndTimestamp<V> | null) => {
    if (vt === null) {
      const old = store.get(key)
      if (old !== undefined) onStep(store.put(key, null, old.timestamp))
    } else onStep(store.put(key, vt.value, vt.timestamp))
  }
  return {
    ...reads(store, (value, timestamp): ValueAndTimestamp<V> => ({ value, timestamp })),
    get,
    put,
    putIfAbsent: (key, vt) => {
      const old = get(key)
      if (old === undefined) put(key, vt)
      return old
    },
    putAll: (entries) => {
      for (const e of entries) put(e.key, e.value)
    },
    delete: (key) => {
      const old = get(key)
      if (old !== undefined) put(key, null)
      return old
    }
  }
}
