/**
 * Runs a topology in-process with no broker, one piped record at a time (Kafka Streams'
 * `TopologyTestDriver`): input topics encode what a test pipes, output topics decode what sinks wrote,
 * repartition topics feed their sub-topology right away, and after each piped record every task commits
 * (record caches flush), so each update is visible at once. Wall-clock time is the `Clock` (TestClock in
 * `@effect/vitest`'s `it.effect`). Stream-time punctuators fire after each record a task processes;
 * wall-clock punctuators fire only from `advanceWallClockTime`.
 *
 * Invariants: one task per sub-topology (partition 0) and per global store; a piped record, the records
 * it sends through repartition topics and the commit that follows all finish before `pipeInput` completes;
 * output topics keep every record produced (changelogs included) and each output topic object reads on
 * from where it stopped.
 */

import type * as Topic from "@eddy/core/client/Topic"
import { Cause, Clock, Duration, Effect, type Scope, TestClock } from "effect"
import type { Serde } from "./dsl/Options.js"
import type { Windowed } from "./dsl/Windows.js"
import { keyValueView } from "./internal/store/ReadOnlyView.js"
import { RecordCache } from "./internal/store/RecordCache.js"
import { VersionedStore } from "./internal/store/VersionedStore.js"
import { type OutputRecord, Task } from "./internal/task/Task.js"
import { andThen } from "./processor/internal/step.js"
import type { Step } from "./processor/Processor.js"
import type { Headers, KeyValue } from "./processor/Record.js"
import * as StreamsConfig from "./StreamsConfig.js"
import type { DeserializationError, ProcessingError } from "./StreamsError.js"
import type { ReadOnlyKeyValueStore } from "./state/KeyValueStore.js"
import type { VersionedRecord } from "./state/VersionedKeyValueStore.js"
import * as Topology from "./topology/Topology.js"

/** Driver settings: Kafka Streams' names where they apply. */
export interface DriverConfig {
  readonly "application.id"?: string
  readonly "statestore.cache.max.bytes"?: number
  readonly "deserialization.exception.handler"?: StreamsConfig.StreamsConfig["deserialization.exception.handler"]
  readonly "processing.exception.handler"?: StreamsConfig.StreamsConfig["processing.exception.handler"]
  /** The event time of piped records (default `failOnInvalidTimestamp`). */
  readonly "default.timestamp.extractor"?: StreamsConfig.StreamsConfig["default.timestamp.extractor"]
  /** Partition counts that custom partitioners see (default 1 for every topic). */
  readonly partitions?: Readonly<Record<string, number>>
}

/** A record read from an output topic. */
export interface TestRecord<K, V> {
  readonly key: K
  readonly value: V
  readonly timestamp: number
  readonly headers: Headers
  /** The partition a custom partitioner chose, if any. */
  readonly partition: number | undefined
}

/** Serdes of a test topic: an `@eddy/core` Topic, or a name with serdes. */
export type TestTopic<K, V> =
  | Topic.Topic<K, V>
  | { readonly name: string; readonly key: Serde<K>; readonly value: Serde<V> }

/** What piping can fail with (the exception handlers answered "fail"). */
export type PipeError = DeserializationError | ProcessingError

/** An input topic: encodes and pipes records, advancing its time by `autoAdvance` after each. */
export interface TestInputTopic<K, V> {
  readonly name: string
  /** Pipes one record (timestamp: the topic's current time, then time auto-advances). */
  pipeInput(key: K, value: V, timestamp?: number, headers?: Headers): Effect.Effect<void, PipeError>
  /** Pipes records in order, each at the topic's current time. */
  pipeKeyValueList(records: ReadonlyArray<KeyValue<K, V>>): Effect.Effect<void, PipeError>
  /** Pipes records with explicit timestamps. */
  pipeRecordList(
    records: ReadonlyArray<{
      readonly key: K
      readonly value: V
      readonly timestamp?: number
      readonly headers?: Headers
    }>
  ): Effect.Effect<void, PipeError>
  /** Moves the topic's time forward. */
  advanceTime(ms: number): void
}

/** An output topic: decodes what sinks wrote, in order. */
export interface TestOutputTopic<K, V> {
  readonly name: string
  /** The next record (throws NoSuchElementException when none is left). */
  readRecord(): TestRecord<K, V>
  readKeyValue(): KeyValue<K, V>
  readValue(): V
  readRecordsToList(): Array<TestRecord<K, V>>
  readKeyValuesToList(): Array<KeyValue<K, V>>
  readValuesToList(): Array<V>
  /** The remaining records as a map: the last value per key (null values kept as null). */
  readKeyValuesToMap(): Map<K, V>
  isEmpty(): boolean
  getQueueSize(): number
}

/** A window store as the driver shows it (sliding windows are kept by their end: `start` is the end there). */
export interface DriverWindowStore<K, V> {
  /** The aggregate of `key` in the window starting at `start`. */
  fetch(key: K, start: number): V | undefined
  /** The windows of `key` starting in `[from, to]`, in start order. */
  fetch(
    key: K,
    from: number,
    to: number
  ): Array<{ readonly start: number; readonly value: V; readonly timestamp: number }>
  /** Every live window of every key. */
  all(): Array<{ readonly key: Windowed<K>; readonly value: V; readonly timestamp: number }>
}

/** A session store as the driver shows it. */
export interface DriverSessionStore<K, V> {
  /** Sessions of `key` ending at or after `earliestEnd` and starting at or before `latestStart`. */
  findSessions(
    key: K,
    earliestEnd: number,
    latestStart: number
  ): Array<{ readonly key: Windowed<K>; readonly value: V }>
  /** Every live session of every key. */
  all(): Array<{ readonly key: Windowed<K>; readonly value: V }>
}

/** A topology running in-process. */
export interface TopologyTestDriver {
  /** A window store of a time or sliding windowed aggregation (typed by its serdes): aggregates by key and window. */
  getWindowStore<K, V>(name: string): DriverWindowStore<K, V>
  /** A session store of a session-windowed aggregation (typed by its serdes). */
  getSessionStore<K, V>(name: string): DriverSessionStore<K, V>
  createInputTopic<K, V>(
    topic: TestTopic<K, V>,
    options?: { readonly startTimestamp?: number; readonly autoAdvance?: number }
  ): TestInputTopic<K, V>
  createOutputTopic<K, V>(topic: TestTopic<K, V>): TestOutputTopic<K, V>
  /** A materialized store (typed by its serdes), values without timestamps. */
  getKeyValueStore<K, V>(name: string): ReadOnlyKeyValueStore<K, V>
  /** A materialized store with each value's timestamp. */
  getTimestampedKeyValueStore<K, V>(
    name: string
  ): ReadOnlyKeyValueStore<K, { readonly value: V; readonly timestamp: number }>
  /** A versioned store (of a table materialized with a versioned supplier): latest, or as of a time. */
  getVersionedKeyValueStore<K, V>(
    name: string
  ): {
    get(key: K): VersionedRecord<V> | undefined
    get(key: K, asOfTimestamp: number): VersionedRecord<V> | undefined
  }
  /** Moves the TestClock forward (wall-clock time) and fires the wall-clock punctuators that came due. */
  advanceWallClockTime(ms: number): Effect.Effect<void, PipeError>
  /** Every topic written to (outputs, repartition topics and changelogs, full names). */
  producedTopicNames(): Set<string>
}

/** Runs `topology` in-process until the scope closes. */
export const make = <R>(
  topology: Topology.Topology<R>,
  config: DriverConfig = {}
): Effect.Effect<TopologyTestDriver, never, Scope.Scope | R> =>
  Effect.gen(function* () {
    const context = yield* Effect.context<R>()
    const clock = yield* Effect.clock
    const applicationId = config["application.id"] ?? "test"
    const cacheBytes = config["statestore.cache.max.bytes"] ?? StreamsConfig.defaults["statestore.cache.max.bytes"]
    const cache = cacheBytes > 0 ? new RecordCache(cacheBytes) : undefined
    const outputs = new Map<string, Array<OutputRecord>>()
    const pending: Array<OutputRecord> = []
    const offsets = new Map<string, number>()
    const internal = new Set<string>()
    for (const t of topology.internalTopics.values()) {
      if (t.kind === "repartition") internal.add(Topology.resolveTopic(topology, applicationId, t.name))
    }
    const warnings: Array<string> = []
    const collect = (r: OutputRecord) => {
      const list = outputs.get(r.topic)
      if (list === undefined) outputs.set(r.topic, [r])
      else list.push(r)
      if (internal.has(r.topic)) pending.push(r)
    }
    const params = {
      applicationId,
      topology: topology as Topology.Topology<unknown>,
      cache,
      collect,
      now: () => clock.unsafeCurrentTimeMillis(),
      partitionsOf: (t: string) => config.partitions?.[t] ?? 1,
      onDeserializationError: (e: DeserializationError) =>
        StreamsConfig.respond(config["deserialization.exception.handler"], e),
      onProcessingError: (e: ProcessingError) => StreamsConfig.respond(config["processing.exception.handler"], e),
      warn: (m: string) => void warnings.push(m),
      globalStore: (name: string) =>
        tasks.find((t) => globalIds.has(t.id.subtopology) && t.stores.has(name))?.stores.get(name),
      timestampExtractor: config["default.timestamp.extractor"]
    }
    const globalIds = new Set(topology.globalStores.map((g) => g.id))
    const tasks: Array<Task> = []
    for (const s of topology.subtopologies) {
      tasks.push(new Task({ subtopology: s.id, partition: 0 }, { ...params, nodes: s.nodes, stores: s.stores }))
    }
    for (const g of topology.globalStores) {
      tasks.push(
        new Task(
          { subtopology: g.id, partition: 0 },
          { ...params, nodes: [g.source, g.processor], stores: [g.store], global: true }
        )
      )
    }
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        for (const t of tasks) t.close()
      })
    )
    const taskByTopic = new Map<string, Task>()
    for (const t of tasks) for (const topic of t.sourceTopics) taskByTopic.set(topic, t)

    const run = (step: () => Step): Effect.Effect<void, PipeError> =>
      Effect.suspend(() => {
        const s = step()
        return s === undefined ? Effect.void : (Effect.provide(s, context) as Effect.Effect<void, PipeError>)
      }).pipe(Effect.catchAllDefect((d) => (isPipeError(d) ? Effect.fail(d) : Effect.die(d))))

    const deliver = (
      topic: string,
      key: Uint8Array | null,
      value: Uint8Array | null,
      timestamp: number,
      headers: Headers
    ) =>
      run(() => {
        const task = taskByTopic.get(topic) ?? tasks.find((t) => t.patternSourceOf(topic) !== undefined)
        if (task === undefined) return undefined
        const offset = offsets.get(topic) ?? 0
        offsets.set(topic, offset + 1)
        const step = task.process({ topic, partition: 0, offset, timestamp, key, value, headers })
        return andThen(step, () => task.punctuateStreamTime())
      })

    const drain: Effect.Effect<void, PipeError> = Effect.suspend(() => {
      const next = pending.shift()
      if (next === undefined) return Effect.void
      return Effect.zipRight(deliver(next.topic, next.key, next.value, next.timestamp, next.headers), drain)
    })

    // a commit's flush can send records through repartition topics into caches of later sub-topologies:
    // commit until nothing is pending
    const commitAll: Effect.Effect<void, PipeError> = Effect.forEach(tasks, (t) => run(() => t.commit()), {
      discard: true
    }).pipe(
      Effect.zipRight(Effect.suspend(() => (pending.length === 0 ? Effect.void : Effect.zipRight(drain, commitAll))))
    )

    const logWarnings = Effect.suspend(() =>
      Effect.forEach(warnings.splice(0), (w) => Effect.logWarning(w), { discard: true })
    )

    const pipe = (
      topic: string,
      key: Uint8Array | null,
      value: Uint8Array | null,
      timestamp: number,
      headers: Headers
    ) =>
      deliver(topic, key, value, timestamp, headers).pipe(
        Effect.zipRight(drain),
        Effect.zipRight(commitAll),
        Effect.ensuring(logWarnings)
      )

    const punctuateWallClock = Effect.suspend(() => {
      const now = clock.unsafeCurrentTimeMillis()
      return Effect.forEach(tasks, (t) => run(() => t.punctuateWallClock(now)), { discard: true })
    })

    const driver: TopologyTestDriver = {
      getWindowStore: <K, V>(name: string): DriverWindowStore<K, V> => {
        const store = findWindowed(tasks, name)
        if (!("fetchRange" in store)) throw new Error(`State store ${name} is not a window store`)
        const typed = store as unknown as WindowStoreOf<K, V>
        return {
          fetch: ((key: K, from: number, to?: number) =>
            to === undefined
              ? typed.fetch(key, from)?.value
              : [...typed.fetchRange(key, from, to)].map((e) => ({ start: e.start, ...e.value }))) as never,
          all: () => [...typed.fetchAll(0, Number.MAX_SAFE_INTEGER)].map((e) => ({ key: e.key, ...e.value }))
        }
      },
      getSessionStore: <K, V>(name: string): DriverSessionStore<K, V> => {
        const store = findWindowed(tasks, name)
        if (!("findSessions" in store)) throw new Error(`State store ${name} is not a session store`)
        const typed = store as unknown as SessionStoreOf<K, V>
        return {
          findSessions: (key, earliestEnd, latestStart) => [...typed.findSessions(key, earliestEnd, latestStart)],
          all: () => [...typed.all()]
        }
      },
      createInputTopic: <K, V>(
        topic: TestTopic<K, V>,
        options: { readonly startTimestamp?: number; readonly autoAdvance?: number } = {}
      ): TestInputTopic<K, V> => {
        let time = options.startTimestamp ?? clock.unsafeCurrentTimeMillis()
        const advance = options.autoAdvance ?? 0
        const nextTime = (explicit: number | undefined) => {
          if (explicit !== undefined) return explicit
          const t = time
          time += advance
          return t
        }
        const one = (key: K, value: V, timestamp?: number, headers: Headers = []) =>
          Effect.suspend(() =>
            pipe(
              topic.name,
              key === null ? null : topic.key.encode(key),
              value === null ? null : topic.value.encode(value),
              nextTime(timestamp),
              headers
            )
          )
        return {
          name: topic.name,
          pipeInput: one,
          pipeKeyValueList: (records) => Effect.forEach(records, (r) => one(r.key, r.value), { discard: true }),
          pipeRecordList: (records) =>
            Effect.forEach(records, (r) => one(r.key, r.value, r.timestamp, r.headers), { discard: true }),
          advanceTime: (ms) => {
            time += ms
          }
        }
      },
      createOutputTopic: <K, V>(topic: TestTopic<K, V>): TestOutputTopic<K, V> => {
        let position = 0
        const records = () => outputs.get(topic.name) ?? []
        const readRecord = (): TestRecord<K, V> => {
          const r = records()[position]
          if (r === undefined) throw new Cause.NoSuchElementException(`Empty topic: ${topic.name}`)
          position++
          return {
            key: (r.key === null ? null : topic.key.decode(r.key)) as K,
            value: (r.value === null ? null : topic.value.decode(r.value)) as V,
            timestamp: r.timestamp,
            headers: r.headers,
            partition: r.partition
          }
        }
        const readAll = () => {
          const out: Array<TestRecord<K, V>> = []
          while (position < records().length) out.push(readRecord())
          return out
        }
        return {
          name: topic.name,
          readRecord,
          readKeyValue: () => {
            const r = readRecord()
            return { key: r.key, value: r.value }
          },
          readValue: () => readRecord().value,
          readRecordsToList: readAll,
          readKeyValuesToList: () => readAll().map((r) => ({ key: r.key, value: r.value })),
          readValuesToList: () => readAll().map((r) => r.value),
          readKeyValuesToMap: () => {
            const map = new Map<K, V>()
            for (const r of readAll()) {
              if (r.key === null) throw new Error(`Null keys not allowed with readKeyValuesToMap (${topic.name})`)
              map.set(r.key, r.value)
            }
            return map
          },
          isEmpty: () => position >= records().length,
          getQueueSize: () => records().length - position
        }
      },
      getKeyValueStore: <K, V>(name: string) => {
        const { store, spec } = findStore(tasks, topology, name)
        return keyValueView<K, V>(store as never, spec.keySerde as never, spec.valueSerde as never)
      },
      getTimestampedKeyValueStore: <K, V>(name: string) => {
        const { store, spec } = findStore(tasks, topology, name)
        const view = keyValueView<K, V>(store as never, spec.keySerde as never, spec.valueSerde as never)
        return {
          ...view,
          get: (key: K) => store.get(key) as { value: V; timestamp: number } | undefined,
          all: function* () {
            for (const e of store.all()) yield e as KeyValue<K, { value: V; timestamp: number }>
          }
        } as ReadOnlyKeyValueStore<K, { readonly value: V; readonly timestamp: number }>
      },
      getVersionedKeyValueStore: <K, V>(name: string) => {
        const store = tasks.find((t) => t.customStores.get(name) instanceof VersionedStore)?.customStores.get(name)
        if (store === undefined) throw new Error(`No versioned state store ${name} in the topology`)
        const inner = (store as VersionedStore<K, V>).inner
        const spec = topology.stores.get(name)!
        const typed = (r: VersionedRecord<Uint8Array> | undefined): VersionedRecord<V> | undefined =>
          r === undefined ? undefined : { ...r, value: spec.valueSerde.decode(r.value) as V }
        return {
          get: (key: K, asOf?: number) =>
            typed(
              asOf === undefined ? inner.get(spec.keySerde.encode(key)!) : inner.get(spec.keySerde.encode(key)!, asOf)
            )
        }
      },
      advanceWallClockTime: (ms) =>
        TestClock.adjust(Duration.millis(ms)).pipe(
          Effect.zipRight(punctuateWallClock),
          Effect.zipRight(drain),
          Effect.zipRight(commitAll),
          Effect.ensuring(logWarnings)
        ),
      producedTopicNames: () => new Set(outputs.keys())
    }
    return driver
  })

const isPipeError = (u: unknown): u is PipeError =>
  typeof u === "object" &&
  u !== null &&
  "_tag" in u &&
  (u._tag === "DeserializationError" || u._tag === "ProcessingError")

const findStore = (tasks: ReadonlyArray<Task>, topology: Topology.Topology<unknown>, name: string) => {
  const spec = topology.stores.get(name)
  const task = tasks.find((t) => t.stores.has(name))
  if (spec === undefined || task === undefined) throw new Error(`No state store ${name} in the topology`)
  return { store: task.stores.get(name)!, spec }
}

// what the driver reads of a task's window and session stores, typed by the caller's K and V
interface WindowStoreOf<K, V> {
  fetch(key: K, start: number): { value: V; timestamp: number } | undefined
  fetchRange(
    key: K,
    from: number,
    to: number
  ): IterableIterator<{ start: number; value: { value: V; timestamp: number } }>
  fetchAll(from: number, to: number): IterableIterator<{ key: Windowed<K>; value: { value: V; timestamp: number } }>
}

interface SessionStoreOf<K, V> {
  findSessions(key: K, earliestEnd: number, latestStart: number): IterableIterator<{ key: Windowed<K>; value: V }>
  all(): IterableIterator<{ key: Windowed<K>; value: V }>
}

const findWindowed = (tasks: ReadonlyArray<Task>, name: string) => {
  const task = tasks.find((t) => t.windowedStores.has(name))
  if (task === undefined) throw new Error(`No window or session store ${name} in the topology`)
  return task.windowedStores.get(name)!
}

/** Reads the clock the driver uses (for tests that compare wall-clock time). */
export const currentTimeMillis = Clock.currentTimeMillis
