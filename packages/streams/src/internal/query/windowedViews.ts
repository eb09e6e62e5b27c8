/**
 * Local interactive queries over window, session and versioned stores (Kafka Streams'
 * `QueryableStoreTypes.windowStore()`, `timestampedWindowStore()`, `sessionStore()` and versioned key
 * queries): typed read-only views over the byte stores of this instance's running tasks, with the same rules
 * as the key-value views of `localStores.ts`.
 *
 * Invariants: a single-key read goes to the task owning the key's partition (else `InvalidStateStoreError`
 * naming the owner); scans go over every local task in partition order; every call checks the application
 * state first; views only read (never write, never forward).
 */
import type { KeyValue } from "../../state/KeyValueStore.js"
import type { ReadOnlySessionStore } from "../../state/SessionStore.js"
import { InvalidStateStoreError } from "../../state/StoreError.js"
import type { ReadOnlyVersionedKeyValueStore, VersionedRecord } from "../../state/VersionedKeyValueStore.js"
import type { ReadOnlyWindowStore, Windowed } from "../../state/WindowStore.js"
import * as VT from "../store/ValueAndTimestamp.js"
import { VersionedStore } from "../store/VersionedStore.js"
import { TimestampedWindowStore, TypedSessionStore } from "../store/WindowedStores.js"
import { localStores, type RunningTask, storeOfKey, type ViewParams } from "./localStores.js"

const wrongKind = (name: string, kind: string) =>
  new InvalidStateStoreError({ store: name, message: `Store ${name} is not a ${kind} store` })

/** The store `name` of a task, when it is a window store (throws when it is a store of another kind). */
const windowStoreOf =
  (name: string) =>
  (t: RunningTask): TimestampedWindowStore<unknown, unknown> | undefined => {
    const s = t.windowedStores.get(name)
    if (s === undefined) return undefined
    if (!(s instanceof TimestampedWindowStore)) throw wrongKind(name, "window")
    return s
  }

const sessionStoreOf =
  (name: string) =>
  (t: RunningTask): TypedSessionStore<unknown, unknown> | undefined => {
    const s = t.windowedStores.get(name)
    if (s === undefined) return undefined
    if (!(s instanceof TypedSessionStore)) throw wrongKind(name, "session")
    return s
  }

const versionedStoreOf =
  (name: string) =>
  (t: RunningTask): VersionedStore<unknown, unknown> | undefined => {
    const s = t.customStores.get(name)
    if (s === undefined) return undefined
    if (!(s instanceof VersionedStore)) throw wrongKind(name, "versioned")
    return s
  }

/** Materializes then reverses (backward reads over a merged view are small: query results, not state). */
function* reversed<A>(it: Iterable<A>): IterableIterator<A> {
  yield* [...it].reverse()
}

/** Window bounds as the byte stores take them (open bounds become the widest). */
const lower = (t: number) => Math.max(0, t)

/**
 * A read-only window store over the local tasks' store `name`: values with their timestamps when
 * `p.timestamped` (`timestampedWindowStore()`), plain otherwise (`windowStore()`).
 */
export const windowView = <K, V>(p: ViewParams<K>): ReadOnlyWindowStore<K, V> => {
  const pick = windowStoreOf(p.name)
  const value = (bytes: Uint8Array): V => {
    const v = p.valueSerde.decode(VT.valueBytes(bytes))
    return (p.timestamped ? { value: v, timestamp: VT.timestampOf(bytes) } : v) as V
  }
  const enc = (k: K | undefined) => (k === undefined ? undefined : (p.keySerde.encode(k) ?? undefined))
  function* windowsOf(store: TimestampedWindowStore<unknown, unknown>, key: Uint8Array, from: number, to: number) {
    for (const e of store.inner.fetch(key, lower(from), to)) yield { key: e.key, value: value(e.value) }
  }
  /** The windows of one key, from its partition's store (looked up now, so a remote key throws at once). */
  const perKey = (key: K, from: number, to: number): IterableIterator<KeyValue<number, V>> => {
    const bytes = p.keySerde.encode(key)
    const store = storeOfKey(p, key, pick)
    return store === undefined || bytes === null ? [][Symbol.iterator]() : windowsOf(store, bytes, from, to)
  }
  function* scan(
    each: (s: TimestampedWindowStore<unknown, unknown>) => Iterable<KeyValue<Windowed<Uint8Array>, Uint8Array>>
  ): IterableIterator<KeyValue<Windowed<K>, V>> {
    for (const s of localStores(p, pick)) {
      for (const e of each(s)) {
        yield { key: { key: p.keySerde.decode(e.key.key), window: e.key.window }, value: value(e.value) }
      }
    }
  }
  const fetchAll = (from: number, to: number) => scan((s) => s.inner.fetchAll(lower(from), to))
  const fetchRange = (keyFrom: K | undefined, keyTo: K | undefined, from: number, to: number) =>
    scan((s) => s.inner.fetch(enc(keyFrom), enc(keyTo), lower(from), to))
  function fetch(key: K, time: number): V | undefined
  function fetch(key: K, from: number, to: number): IterableIterator<KeyValue<number, V>>
  function fetch(
    keyFrom: K | undefined,
    keyTo: K | undefined,
    from: number,
    to: number
  ): IterableIterator<KeyValue<Windowed<K>, V>>
  function fetch(...args: Array<unknown>): unknown {
    if (args.length === 4) return fetchRange(args[0] as K, args[1] as K, args[2] as number, args[3] as number)
    if (args.length === 3) return perKey(args[0] as K, args[1] as number, args[2] as number)
    const key = args[0] as K
    const time = args[1] as number
    const bytes = p.keySerde.encode(key)
    const store = storeOfKey(p, key, pick)
    if (store === undefined || bytes === null) return undefined
    const found = store.inner.fetch(bytes, time)
    return found === undefined ? undefined : value(found)
  }
  function backwardFetch(key: K, from: number, to: number): IterableIterator<KeyValue<number, V>>
  function backwardFetch(
    keyFrom: K | undefined,
    keyTo: K | undefined,
    from: number,
    to: number
  ): IterableIterator<KeyValue<Windowed<K>, V>>
  function backwardFetch(...args: Array<unknown>): IterableIterator<unknown> {
    const forward: Iterable<unknown> =
      args.length === 4
        ? fetchRange(args[0] as K, args[1] as K, args[2] as number, args[3] as number)
        : perKey(args[0] as K, args[1] as number, args[2] as number)
    return reversed(forward)
  }
  return {
    name: p.name,
    fetch,
    backwardFetch,
    fetchAll,
    backwardFetchAll: (from, to) => reversed(fetchAll(from, to)),
    all: () => fetchAll(0, Number.MAX_SAFE_INTEGER),
    backwardAll: () => reversed(fetchAll(0, Number.MAX_SAFE_INTEGER))
  }
}

/** A read-only session store over the local tasks' store `name`. */
export const sessionView = <K, V>(p: ViewParams<K>): ReadOnlySessionStore<K, V> => {
  const pick = sessionStoreOf(p.name)
  const enc = (k: K | undefined) => (k === undefined ? undefined : (p.keySerde.encode(k) ?? undefined))
  function* decode(
    it: Iterable<KeyValue<Windowed<Uint8Array>, Uint8Array>>
  ): IterableIterator<KeyValue<Windowed<K>, V>> {
    for (const e of it) {
      yield {
        key: { key: p.keySerde.decode(e.key.key), window: e.key.window },
        value: p.valueSerde.decode(e.value) as V
      }
    }
  }
  /** The sessions of one key (its partition's store) or of a key range (every local store). */
  const sessions = (
    args: ReadonlyArray<unknown>,
    each: (
      s: TypedSessionStore<unknown, unknown>,
      from: Uint8Array | undefined,
      to: Uint8Array | undefined
    ) => Iterable<KeyValue<Windowed<Uint8Array>, Uint8Array>>,
    single: boolean
  ): IterableIterator<KeyValue<Windowed<K>, V>> => {
    if (!single) return scan(args, each)
    const key = args[0] as K
    const bytes = p.keySerde.encode(key)
    const store = storeOfKey(p, key, pick)
    return store === undefined || bytes === null ? [][Symbol.iterator]() : decode(each(store, bytes, bytes))
  }
  function* scan(
    args: ReadonlyArray<unknown>,
    each: (
      s: TypedSessionStore<unknown, unknown>,
      from: Uint8Array | undefined,
      to: Uint8Array | undefined
    ) => Iterable<KeyValue<Windowed<Uint8Array>, Uint8Array>>
  ): IterableIterator<KeyValue<Windowed<K>, V>> {
    for (const s of localStores(p, pick)) yield* decode(each(s, enc(args[0] as K), enc(args[1] as K)))
  }
  const findSessions = (args: ReadonlyArray<unknown>) => {
    const single = args.length === 3
    const [earliestEnd, latestStart] = (single ? args.slice(1) : args.slice(2)) as [number, number]
    return sessions(args, (s, from, to) => s.inner.findSessions(from, to, lower(earliestEnd), latestStart), single)
  }
  const fetch = (args: ReadonlyArray<unknown>) =>
    sessions(args, (s, from, to) => s.inner.fetch(from, to), args.length === 1)
  return {
    name: p.name,
    findSessions: (...args: Array<unknown>) => findSessions(args),
    backwardFindSessions: (...args: Array<unknown>) => reversed(findSessions(args)),
    fetchSession: (key, start, end) => {
      const bytes = p.keySerde.encode(key)
      const store = storeOfKey(p, key, pick)
      if (store === undefined || bytes === null) return undefined
      const found = store.inner.fetchSession(bytes, start, end)
      return found === undefined ? undefined : (p.valueSerde.decode(found) as V)
    },
    fetch: (...args: Array<unknown>) => fetch(args),
    backwardFetch: (...args: Array<unknown>) => reversed(fetch(args))
  } as ReadOnlySessionStore<K, V>
}

/** A read-only versioned store over the local tasks' store `name`: a key's latest version or the one as of a time. */
export const versionedView = <K, V>(p: ViewParams<K>): ReadOnlyVersionedKeyValueStore<K, V> => {
  const pick = versionedStoreOf(p.name)
  const typed = (r: VersionedRecord<Uint8Array> | undefined): VersionedRecord<V> | undefined =>
    r === undefined
      ? undefined
      : { value: p.valueSerde.decode(r.value) as V, timestamp: r.timestamp, validTo: r.validTo }
  return {
    name: p.name,
    get: (key: K, asOf?: number) => {
      const bytes = p.keySerde.encode(key)
      const store = storeOfKey(p, key, pick)
      if (store === undefined || bytes === null) return undefined
      return typed(asOf === undefined ? store.inner.get(bytes) : store.inner.get(bytes, asOf))
    }
  }
}
