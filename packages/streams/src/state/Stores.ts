/**
 * The store factory (Kafka Streams' `Stores`): suppliers of byte-level key-value, timestamped key-value,
 * window and session stores, in memory or persistent (on lmdb, falling back to memory where the native
 * module does not load). The runtime calls a supplier's `get` once per task, passing the task's state
 * directory `<state.dir>/<application.id>/<taskId>`; a persistent store lives in `<that dir>/<store name>`.
 */
import * as Path from "node:path"
import { FileSystem } from "@effect/platform"
import { Duration, Effect } from "effect"
import * as InMemoryKeyValueStore from "./InMemoryKeyValueStore.js"
import { openPersistent } from "./internal/persistence.js"
import * as SegmentedSessionStore from "./internal/sessionStore.js"
import * as SegmentedWindowStore from "./internal/windowStore.js"
import type { KeyValueBytesStore } from "./KeyValueStore.js"
import type { SessionBytesStore } from "./SessionStore.js"
import { ProcessorStateError, StoreConfigError } from "./StoreError.js"
import * as TimestampedKeyValueStore from "./TimestampedKeyValueStore.js"
import * as VersionedKeyValueStore from "./VersionedKeyValueStore.js"
import { defaultSegmentInterval, type WindowBytesStore } from "./WindowStore.js"

/** A task's state directory: `<state.dir>/<application.id>/<taskId>` (task ids as Kafka prints them, `0_1`). */
export const taskDirectory = (stateDir: string, applicationId: string, taskId: string): string =>
  Path.join(stateDir, applicationId, taskId)

/** Where a persistent store of a task keeps its files: `<task directory>/<store name>`. */
export const storeDirectory = (taskDir: string, storeName: string): string => Path.join(taskDir, storeName)

/**
 * Deletes a closed persistent store's files, so the next `get` starts empty (what a task does under
 * exactly-once to a store without a clean checkpoint, before restoring it from its changelog).
 */
export const wipe = (
  taskDir: string,
  storeName: string
): Effect.Effect<void, ProcessorStateError, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    yield* fs
      .remove(storeDirectory(taskDir, storeName), { recursive: true, force: true })
      .pipe(Effect.mapError((e) => new ProcessorStateError({ store: storeName, message: `Cannot wipe: ${e.message}` })))
  })

/** Makes a store per task: `get(stateDir)` opens one (persistent stores need `stateDir`). */
export interface StoreSupplier<S> {
  readonly name: string
  /**
   * True when the store asked for is persistent. The opened store's own `persistent` says what it is:
   * false for a persistent store that fell back to memory.
   */
  readonly persistent: boolean
  /** Opens the store; a persistent one in `<stateDir>/<name>`, keeping what an earlier open flushed there. */
  get(stateDir?: string): S
}

/** Supplies byte-level key-value stores. */
export type KeyValueBytesStoreSupplier = StoreSupplier<KeyValueBytesStore>
/** Supplies byte-level timestamped key-value stores. */
export type TimestampedKeyValueBytesStoreSupplier =
  StoreSupplier<TimestampedKeyValueStore.TimestampedKeyValueBytesStore>
/** Supplies byte-level window stores. */
export type WindowBytesStoreSupplier = StoreSupplier<WindowBytesStore> & {
  readonly retentionPeriod: number
  readonly windowSize: number
  readonly segmentInterval: number
  readonly retainDuplicates: boolean
}
/** Supplies byte-level versioned key-value stores (tell them apart by `versioned`). */
export type VersionedBytesStoreSupplier = StoreSupplier<VersionedKeyValueStore.VersionedBytesStore> & {
  readonly versioned: true
  readonly historyRetention: number
}
/** Supplies byte-level session stores. */
export type SessionBytesStoreSupplier = StoreSupplier<SessionBytesStore> & {
  readonly retentionPeriod: number
  readonly segmentInterval: number
}

const millis = (name: string, what: string, input: Duration.DurationInput): number => {
  // Duration clamps negative numbers to zero; a negative retention is a mistake worth reporting.
  if (typeof input === "number" && input < 0) {
    throw new StoreConfigError({ store: name, message: `${what} of store ${name} cannot be negative` })
  }
  const d = Duration.decodeUnknown(input)
  if (d._tag === "None" || !Duration.isFinite(d.value)) {
    throw new StoreConfigError({ store: name, message: `${what} of store ${name} must be a finite duration` })
  }
  return Math.floor(Duration.toMillis(d.value))
}

const checkName = (name: string): void => {
  if (name.length === 0 || name.includes("/") || name.includes("\\") || name === "." || name === "..") {
    throw new StoreConfigError({ store: name, message: `Invalid store name ${JSON.stringify(name)}` })
  }
}

/** An in-memory key-value store (lost on restart; restored from its changelog). */
export const inMemoryKeyValueStore = (name: string): KeyValueBytesStoreSupplier => {
  checkName(name)
  return { name, persistent: false, get: () => InMemoryKeyValueStore.make(name) }
}

/** A persistent key-value store on lmdb in `<stateDir>/<name>`. */
export const persistentKeyValueStore = (name: string): KeyValueBytesStoreSupplier => {
  checkName(name)
  return { name, persistent: true, get: (stateDir) => openPersistent(name, stateDir) }
}

/** An in-memory timestamped key-value store. */
export const inMemoryTimestampedKeyValueStore = (name: string): TimestampedKeyValueBytesStoreSupplier => {
  checkName(name)
  return { name, persistent: false, get: () => TimestampedKeyValueStore.wrap(InMemoryKeyValueStore.make(name)) }
}

/** A persistent timestamped key-value store (values stored as 8-byte timestamp + value). */
export const persistentTimestampedKeyValueStore = (name: string): TimestampedKeyValueBytesStoreSupplier => {
  checkName(name)
  return { name, persistent: true, get: (stateDir) => TimestampedKeyValueStore.wrap(openPersistent(name, stateDir)) }
}

const windowOptions = (
  name: string,
  retentionPeriod: Duration.DurationInput,
  windowSize: Duration.DurationInput,
  retainDuplicates: boolean,
  segmentInterval: Duration.DurationInput | undefined
): SegmentedWindowStore.WindowStoreOptions => {
  checkName(name)
  const retention = millis(name, "The retention period", retentionPeriod)
  const size = millis(name, "The window size", windowSize)
  if (retention < size) {
    throw new StoreConfigError({
      store: name,
      message: `The retention period of window store ${name} must be no smaller than its window size (${retention} < ${size} ms)`
    })
  }
  const interval =
    segmentInterval === undefined
      ? defaultSegmentInterval(retention)
      : millis(name, "The segment interval", segmentInterval)
  if (interval < 1)
    throw new StoreConfigError({ store: name, message: `The segment interval of ${name} must be at least 1 ms` })
  return { retentionPeriod: retention, windowSize: size, segmentInterval: interval, retainDuplicates }
}

/** An in-memory window store keeping windows for `retentionPeriod` of stream time. */
export const inMemoryWindowStore = (
  name: string,
  retentionPeriod: Duration.DurationInput,
  windowSize: Duration.DurationInput,
  retainDuplicates: boolean,
  segmentInterval?: Duration.DurationInput
): WindowBytesStoreSupplier => {
  const options = windowOptions(name, retentionPeriod, windowSize, retainDuplicates, segmentInterval)
  return {
    name,
    persistent: false,
    ...options,
    get: () => SegmentedWindowStore.make(InMemoryKeyValueStore.make(name), options)
  }
}

/** A persistent window store on lmdb; segments default to half the retention (at least a minute), as Kafka's. */
export const persistentWindowStore = (
  name: string,
  retentionPeriod: Duration.DurationInput,
  windowSize: Duration.DurationInput,
  retainDuplicates: boolean,
  segmentInterval?: Duration.DurationInput
): WindowBytesStoreSupplier => {
  const options = windowOptions(name, retentionPeriod, windowSize, retainDuplicates, segmentInterval)
  return {
    name,
    persistent: true,
    ...options,
    get: (stateDir) => SegmentedWindowStore.make(openPersistent(name, stateDir), options)
  }
}

const sessionOptions = (
  name: string,
  retentionPeriod: Duration.DurationInput,
  segmentInterval: Duration.DurationInput | undefined
): SegmentedSessionStore.SessionStoreOptions => {
  checkName(name)
  const retention = millis(name, "The retention period", retentionPeriod)
  const interval =
    segmentInterval === undefined
      ? defaultSegmentInterval(retention)
      : millis(name, "The segment interval", segmentInterval)
  if (interval < 1)
    throw new StoreConfigError({ store: name, message: `The segment interval of ${name} must be at least 1 ms` })
  return { retentionPeriod: retention, segmentInterval: interval }
}

/** An in-memory session store keeping sessions for `retentionPeriod` of stream time. */
export const inMemorySessionStore = (
  name: string,
  retentionPeriod: Duration.DurationInput,
  segmentInterval?: Duration.DurationInput
): SessionBytesStoreSupplier => {
  const options = sessionOptions(name, retentionPeriod, segmentInterval)
  return {
    name,
    persistent: false,
    ...options,
    get: () => SegmentedSessionStore.make(InMemoryKeyValueStore.make(name), options)
  }
}

/** A persistent session store on lmdb. */
export const persistentSessionStore = (
  name: string,
  retentionPeriod: Duration.DurationInput,
  segmentInterval?: Duration.DurationInput
): SessionBytesStoreSupplier => {
  const options = sessionOptions(name, retentionPeriod, segmentInterval)
  return {
    name,
    persistent: true,
    ...options,
    get: (stateDir) => SegmentedSessionStore.make(openPersistent(name, stateDir), options)
  }
}

/** Processor-API store builders (Kafka's `Stores.keyValueStoreBuilder`, `Stores.timestampedKeyValueStoreBuilder`). */
export { keyValueStoreBuilder, timestampedKeyValueStoreBuilder } from "./StoreBuilder.js"
/** An in-memory versioned key-value store answering reads as of up to `historyRetention` of stream time back. */
export const inMemoryVersionedKeyValueStore = (
  name: string,
  historyRetention: Duration.DurationInput
): VersionedBytesStoreSupplier => {
  checkName(name)
  const retention = millis(name, "The history retention", historyRetention)
  return {
    name,
    persistent: false,
    versioned: true,
    historyRetention: retention,
    get: () => VersionedKeyValueStore.make(InMemoryKeyValueStore.make(name), retention)
  }
}

/** A persistent versioned key-value store on lmdb (Kafka's `persistentVersionedKeyValueStore`). */
export const persistentVersionedKeyValueStore = (
  name: string,
  historyRetention: Duration.DurationInput
): VersionedBytesStoreSupplier => {
  checkName(name)
  const retention = millis(name, "The history retention", historyRetention)
  return {
    name,
    persistent: true,
    versioned: true,
    historyRetention: retention,
    get: (stateDir) => VersionedKeyValueStore.make(openPersistent(name, stateDir), retention)
  }
}
