/**
 * Local interactive queries (Kafka Streams' `KafkaStreams.store`): the stores of this instance's running
 * active tasks, by name, as one read-only view over all of its partitions. Stream threads register how to
 * list their running tasks; a view looks them up at each call, so it follows rebalances.
 *
 * Invariants: a view answers only while the application is RUNNING (else `InvalidStateStoreError`, as
 * Kafka's "the state store may have migrated"); `get` reads the task that owns the key's partition and fails
 * with `InvalidStateStoreError` naming the owner when that task is not local; reads see what processing
 * wrote (processing and queries share one JavaScript thread, so a read never sees half a record).
 */
import { partitionForKey } from "@eddy/core/client/Partitioner"
import type { Serde } from "../../dsl/Options.js"
import type { KeyValue, ReadOnlyKeyValueStore } from "../../state/KeyValueStore.js"
import { InvalidStateStoreError } from "../../state/StoreError.js"
import type { CustomStore } from "../store/CustomStore.js"
import type { TimestampedStore } from "../store/TimestampedStore.js"
import * as VT from "../store/ValueAndTimestamp.js"
import type { WindowedTaskStore } from "../store/WindowedStores.js"

/** A running task's stores by name: key-value, window and session, and other kinds (versioned). */
export interface RunningTask {
  readonly id: string
  readonly stores: ReadonlyMap<string, TimestampedStore<unknown, unknown>>
  readonly windowedStores: ReadonlyMap<string, WindowedTaskStore>
  readonly customStores: ReadonlyMap<string, CustomStore>
}

/** The queryable stores of a task. */
export const localStoresOf = (task: Omit<RunningTask, "id">): Omit<RunningTask, "id"> => ({
  stores: task.stores,
  windowedStores: task.windowedStores,
  customStores: task.customStores
})

/** How far a standby's store partition is behind its changelog. */
export interface StoreLag {
  readonly store: string
  readonly partition: number
  /** Next changelog offset the standby applies. */
  readonly position: number
  /** The changelog's end as of the standby's last fetch. */
  readonly end: number
  readonly lag: number
}

/** The running tasks (and standbys) of each thread, listed on demand. */
export class LocalTasks {
  private readonly threads = new Map<number, () => Iterable<RunningTask>>()
  private readonly standbys = new Map<
    number,
    () => Iterable<{ readonly task: RunningTask; readonly lags: () => Iterable<StoreLag> }>
  >()

  /** Registers how thread `index` lists its standby tasks (their stores) and their lags. */
  registerStandbys(
    index: number,
    list: () => Iterable<{ readonly task: RunningTask; readonly lags: () => Iterable<StoreLag> }>
  ): void {
    this.standbys.set(index, list)
  }

  /** Every standby (and warm-up) task of this instance by id. */
  standbyStores(): Map<string, RunningTask> {
    const out = new Map<string, RunningTask>()
    for (const list of this.standbys.values()) for (const s of list()) out.set(s.task.id, s.task)
    return out
  }

  /** Standby task ids of this instance. */
  standbyTasks(): Array<string> {
    return [...this.standbyStores().keys()].sort()
  }

  /** The lag of every standby store partition of this instance. */
  standbyLags(): Array<StoreLag> {
    const out: Array<StoreLag> = []
    for (const list of this.standbys.values()) for (const s of list()) out.push(...s.lags())
    return out
  }

  /** Registers how thread `index` lists its running active tasks. */
  register(index: number, list: () => Iterable<RunningTask>): void {
    this.threads.set(index, list)
  }

  /** Every running active task of this instance by id. */
  running(): Map<string, RunningTask> {
    const out = new Map<string, RunningTask>()
    for (const list of this.threads.values()) for (const t of list()) out.set(t.id, t)
    return out
  }
}

/** What a store view needs to know. */
export interface ViewParams<K> {
  readonly name: string
  readonly subtopology: number
  readonly numPartitions: number
  readonly keySerde: Serde<K>
  readonly valueSerde: Serde<unknown>
  readonly tasks: LocalTasks
  /** Throws `InvalidStateStoreError` when the application is not RUNNING. */
  readonly check: () => void
  /** Where a partition's active task runs (for the error message), if known. */
  readonly ownerOf: (partition: number) => string | undefined
  readonly timestamped: boolean
  /** Also read standby (and warm-up) copies, which may lag behind (Kafka's `enableStaleStores`). */
  readonly stale: boolean
}

/** The local running tasks a view reads: active ones, then (stale) standbys of partitions not active here. */
const tasksOf = (p: ViewParams<unknown>): Map<string, RunningTask> => {
  const active = p.tasks.running()
  if (!p.stale) return active
  for (const [id, t] of p.tasks.standbyStores()) if (!active.has(id)) active.set(id, t)
  return active
}

/** The local stores of a view that `pick` finds in a task, in partition order (checks the state first). */
export const localStores = <K, S>(p: ViewParams<K>, pick: (t: RunningTask) => S | undefined): Array<S> => {
  p.check()
  const out: Array<[number, S]> = []
  for (const t of tasksOf(p as ViewParams<unknown>).values()) {
    const [sub, partition] = t.id.split("_").map(Number) as [number, number]
    const store = pick(t)
    if (sub === p.subtopology && store !== undefined) out.push([partition, store])
  }
  return out.sort((a, b) => a[0] - b[0]).map(([, s]) => s)
}

/**
 * The local store holding `key`'s partition (checks the state first); undefined for a key its serde turns
 * into null; throws `InvalidStateStoreError` naming the owner when that partition is not hosted here.
 */
export const storeOfKey = <K, S>(p: ViewParams<K>, key: K, pick: (t: RunningTask) => S | undefined): S | undefined => {
  p.check()
  const bytes = p.keySerde.encode(key)
  if (bytes === null) return undefined
  const partition = partitionForKey(bytes, p.numPartitions)
  const task = tasksOf(p as ViewParams<unknown>).get(`${p.subtopology}_${partition}`)
  const store = task === undefined ? undefined : pick(task)
  if (store === undefined) {
    const owner = p.ownerOf(partition)
    throw new InvalidStateStoreError({
      store: p.name,
      message: `The key's partition ${partition} of store ${p.name} is not hosted by this instance${
        owner === undefined ? "" : ` (its active task runs on ${owner})`
      }`
    })
  }
  return store
}

/** A read-only view over the store `name` of every local running task. */
export const localView = <K, V>(p: ViewParams<K>): ReadOnlyKeyValueStore<K, V> => {
  const decodeValue = (bytes: Uint8Array): V =>
    (p.timestamped
      ? { value: p.valueSerde.decode(VT.valueBytes(bytes)), timestamp: VT.timestampOf(bytes) }
      : p.valueSerde.decode(VT.valueBytes(bytes))) as V
  const pick = (t: RunningTask) => t.stores.get(p.name)
  const stores = () => localStores(p, pick)
  const enc = (k: K | undefined) => (k === undefined ? undefined : (p.keySerde.encode(k) ?? undefined))
  function* decode(
    each: (s: TimestampedStore<unknown, unknown>) => Iterable<KeyValue<Uint8Array, Uint8Array>>,
    reverse = false
  ): IterableIterator<KeyValue<K, V>> {
    const all = stores()
    for (const s of reverse ? all.reverse() : all) {
      for (const { key, value } of each(s)) yield { key: p.keySerde.decode(key), value: decodeValue(value) }
    }
  }
  return {
    name: p.name,
    get: (key) => {
      const store = storeOfKey(p, key, pick)
      if (store === undefined) return undefined
      const value = store.get(key as never)
      if (value === undefined) return undefined
      return (p.timestamped ? value : value.value) as V
    },
    range: (from, to) => decode((s) => s.inner.range(enc(from), enc(to))),
    reverseRange: (from, to) => decode((s) => s.inner.reverseRange(enc(from), enc(to)), true),
    all: () => decode((s) => s.inner.all()),
    reverseAll: () => decode((s) => s.inner.reverseAll(), true),
    prefixScan: (prefix) => decode((s) => s.inner.prefixScan(enc(prefix) ?? new Uint8Array(0))),
    approximateNumEntries: () => stores().reduce((n, s) => n + s.inner.approximateNumEntries(), 0)
  }
}
