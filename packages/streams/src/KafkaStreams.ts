/**
 * A running streams application (Kafka Streams' `KafkaStreams`): `make` validates the configuration,
 * `start` creates the internal topics and starts `num.stream.threads` stream threads as supervised fibers
 * in the application's scope, `close` (or closing the scope) commits and stops them. Its state moves
 * through CREATED, REBALANCING, RUNNING, PENDING_SHUTDOWN, NOT_RUNNING, PENDING_ERROR and ERROR; watch
 * it with a listener or the `states` stream.
 *
 * Invariants: state changes go through the pure `appState.step`, one at a time (a semaphore), and each is
 * announced once, in order; a thread that fails with `TaskMigrated` is replaced; any other failure goes to
 * the uncaught-exception policy (REPLACE_THREAD; SHUTDOWN_CLIENT: every thread stops, state ERROR;
 * SHUTDOWN_APPLICATION: the same on every instance, told through the group's assignment).
 */

import * as Admin from "@eddy/core/client/Admin"
import { Cause, Context, Deferred, Effect, FiberSet, Layer, Scope, Stream, SubscriptionRef } from "effect"
import type { Serde } from "./dsl/Options.js"
import type * as Info from "./internal/assignment/info.js"
import * as QueryHttp from "./internal/query/httpServer.js"
import { LocalTasks, localView, type StoreLag, type ViewParams } from "./internal/query/localStores.js"
import { sessionView, versionedView, windowView } from "./internal/query/windowedViews.js"
import * as AppState from "./internal/runtime/appState.js"
import * as GlobalThread from "./internal/runtime/GlobalThread.js"
import { setUp } from "./internal/runtime/internalTopics.js"
import { resolve as resolvePatterns } from "./internal/runtime/patterns.js"
import { processId as readProcessId } from "./internal/runtime/processId.js"
import type { RestoreListener } from "./internal/runtime/restore.js"
import * as StreamThread from "./internal/runtime/StreamThread.js"
import { requestApplicationShutdown } from "./internal/runtime/shutdownRequest.js"
import { keyValueView } from "./internal/store/ReadOnlyView.js"
import type { TimestampedStore } from "./internal/store/TimestampedStore.js"
import * as Metadata from "./query/StreamsMetadata.js"
import * as StreamsConfig from "./StreamsConfig.js"
import { StreamsFatalError } from "./StreamsError.js"
import type { ReadOnlyKeyValueStore } from "./state/KeyValueStore.js"
import { InvalidStateStoreError } from "./state/StoreError.js"
import type { Topology } from "./topology/Topology.js"

/** The application's states. */
export type State = AppState.State

/** Optional hooks of an application. */
export interface Hooks {
  /** Called on every state change (Kafka's `setStateListener`). */
  readonly onStateChange?: (newState: State, oldState: State) => Effect.Effect<void>
  /** Called as stores are restored from their changelogs. */
  readonly restoreListener?: RestoreListener
  /** Turns a key in an interactive-query URL into the store's key type (default: the text, for string keys). */
  readonly parseQueryKey?: (store: string, text: string) => unknown
}

/** Options of `KafkaStreams.store` (Kafka's `StoreQueryParameters`). */
export interface StoreQueryOptions {
  /**
   * Also read this instance's standby (and warm-up) copies of partitions it does not run, which may lag
   * behind the active task (Kafka's `enableStaleStores`).
   */
  readonly enableStaleStores?: boolean
}

/** A streams application. */
export interface KafkaStreams {
  readonly applicationId: string
  /** The current state. */
  readonly state: Effect.Effect<State>
  /** The current state, then every change. */
  readonly states: Stream.Stream<State>
  /** The tasks (`<subtopology>_<partition>`) this instance's threads run, sorted. */
  readonly activeTasks: Effect.Effect<ReadonlyArray<string>>
  /** The standby (and warm-up) tasks this instance's threads keep, sorted. */
  readonly standbyTasks: Effect.Effect<ReadonlyArray<string>>
  /** How far each standby store partition is behind its changelog (`position`, `end`, `lag`). */
  readonly storeLags: Effect.Effect<ReadonlyArray<StoreLag>>
  /** A global table's store (loaded before the threads start, then kept up to date), typed by its serdes. */
  readonly globalKeyValueStore: <K, V>(
    name: string
  ) => Effect.Effect<ReadOnlyKeyValueStore<K, V>, Cause.NoSuchElementException>
  /**
   * A read-only view of the store `name` over this instance's running active tasks (Kafka's
   * `store(StoreQueryParameters)`): fails while the application is not RUNNING; its `get` throws
   * `InvalidStateStoreError` for a key whose partition another instance runs (see `queryMetadataForKey`).
   * `type` picks the view: key-value (default), window, session or versioned (`QueryableStoreTypes`).
   */
  readonly store: <K, V, Kind extends Metadata.QueryableStoreKind = "keyValue">(
    name: string,
    type?: Metadata.QueryableStoreType<K, V, Kind>,
    options?: StoreQueryOptions
  ) => Effect.Effect<Metadata.QueryableStore<K, V, Kind>, InvalidStateStoreError>
  /** Where `key` of store `name` lives (active host, standby hosts, partition); undefined when not known yet. */
  readonly queryMetadataForKey: <K>(
    name: string,
    key: K,
    keySerde: Serde<K>
  ) => Effect.Effect<Metadata.KeyQueryMetadata | undefined>
  /** Every instance with an `application.server` and what it hosts (Kafka's `metadataForAllStreamsClients`). */
  readonly streamsMetadata: Effect.Effect<ReadonlyArray<Metadata.StreamsMetadata>>
  /** The instances hosting store `name` as active (Kafka's `streamsMetadataForStore`). */
  readonly allMetadataForStore: (name: string) => Effect.Effect<ReadonlyArray<Metadata.StreamsMetadata>>
  /** Creates internal topics and starts the stream threads (fails if the topology cannot run). */
  readonly start: Effect.Effect<void, StreamsFatalError>
  /** Commits and stops every thread; the state ends NOT_RUNNING. */
  readonly close: Effect.Effect<void>
}

/** The application as a service. */
export class KafkaStreamsTag extends Context.Tag("@eddy/streams/KafkaStreams")<KafkaStreamsTag, KafkaStreams>() {}

/** Validates `config` and makes the application (CREATED); it runs until `close` or the scope closes. */
export const make = <R>(
  topology: Topology<R>,
  config: StreamsConfig.StreamsConfig,
  hooks: Hooks = {}
): Effect.Effect<KafkaStreams, StreamsFatalError, Scope.Scope | R> =>
  Effect.gen(function* () {
    const applicationId = config["application.id"]
    if (typeof applicationId !== "string" || applicationId === "") {
      return yield* new StreamsFatalError({ message: "application.id is required", cause: undefined })
    }
    if (config["processing.guarantee"] === "exactly_once_v2") {
      const timeout = config["transaction.timeout.ms"] ?? StreamsConfig.defaults["transaction.timeout.ms"]
      if (StreamsConfig.commitIntervalMs(config) > timeout) {
        return yield* new StreamsFatalError({
          message: `commit.interval.ms (${StreamsConfig.commitIntervalMs(config)}) must not exceed transaction.timeout.ms (${timeout}) under exactly_once_v2`,
          cause: undefined
        })
      }
    }
    const context = (yield* Effect.context<R>()) as Context.Context<never>
    const scope = yield* Effect.scope
    const threads = config["num.stream.threads"] ?? StreamsConfig.defaults["num.stream.threads"]
    const ref = yield* SubscriptionRef.make<State>("CREATED")
    const lock = yield* Effect.makeSemaphore(1)
    let model = AppState.initial
    const fibers = yield* FiberSet.make()
    const threadTasks = new Map<number, ReadonlyArray<string>>()
    let latestAssignment: Info.AssignmentInfo | undefined
    let partitionCounts: ReadonlyMap<string, number> = new Map()
    const localTasks = new LocalTasks()
    let shutdownRequested = false
    let processId = ""
    const globalStores = new Map<string, TimestampedStore<unknown, unknown>>()

    const signal = (event: AppState.Event): Effect.Effect<void> =>
      lock.withPermits(1)(
        Effect.gen(function* () {
          const old = model.state
          const next = AppState.step(model, event)
          model = next.model
          if (next.changed === undefined) return
          yield* SubscriptionRef.set(ref, next.changed)
          yield* Effect.logDebug(`streams ${applicationId}: ${old} -> ${next.changed}`)
          if (hooks.onStateChange !== undefined) {
            yield* hooks
              .onStateChange(next.changed, old)
              .pipe(Effect.catchAllCause((c) => Effect.logWarning("state listener failed", c)))
          }
        })
      )

    const shutdownOnError = (cause: unknown, reason = "a stream thread failed") =>
      Effect.gen(function* () {
        yield* Effect.logError(`streams ${applicationId}: ${reason}; shutting the client down`, cause)
        yield* signal({ _tag: "Fail" })
        yield* FiberSet.clear(fibers)
        yield* signal({ _tag: "Failed" })
      })

    const superviseThread = (params: Omit<StreamThread.ThreadParams, "index">, index: number): Effect.Effect<void> =>
      Effect.scoped(StreamThread.run({ ...params, index })).pipe(
        Effect.catchAllCause((cause) =>
          Effect.gen(function* () {
            const failure = cause._tag === "Fail" ? cause.error : cause
            const migrated =
              typeof failure === "object" && failure !== null && (failure as { _tag?: string })._tag === "TaskMigrated"
            const response = migrated
              ? "REPLACE_THREAD"
              : (config["uncaught.exception.handler"]?.(failure) ?? "SHUTDOWN_CLIENT")
            if (response === "SHUTDOWN_APPLICATION") {
              yield* signal({ _tag: "ThreadDied", thread: index })
              shutdownRequested = true
              yield* Effect.logError(`streams ${applicationId}: a stream thread failed; shutting the application down`)
              const ask = requestApplicationShutdown(
                topology as Topology<unknown>,
                config,
                processId,
                Math.max(30_000, config["session.timeout.ms"] ?? 0)
              )
              return yield* Effect.forkIn(Effect.zipRight(ask, shutdownOnError(cause)), scope)
            }
            if (response === "REPLACE_THREAD") {
              yield* Effect.logWarning(`streams ${applicationId}: replacing stream thread ${index}`, cause)
              yield* signal({ _tag: "ThreadReplaced", thread: index })
              return yield* superviseThread(params, index)
            }
            yield* signal({ _tag: "ThreadDied", thread: index })
            yield* Effect.forkIn(shutdownOnError(cause), scope)
          })
        )
      )

    const start = Effect.gen(function* () {
      if (model.state !== "CREATED") {
        return yield* new StreamsFatalError({ message: `cannot start from state ${model.state}`, cause: undefined })
      }
      const admin = yield* Admin.make({ "bootstrap.servers": config["bootstrap.servers"] ?? "localhost:9092" }).pipe(
        Scope.extend(scope)
      )
      // pattern sources read the matching topics that exist now
      const running = yield* resolvePatterns(admin, topology as Topology<unknown>, applicationId)
      const partitions = yield* setUp(
        admin,
        running,
        applicationId,
        config["replication.factor"] ?? StreamsConfig.defaults["replication.factor"]
      )
      const pid = yield* readProcessId(StreamsConfig.stateDir(config), applicationId)
      processId = pid
      yield* signal({ _tag: "Start", threads })
      if (topology.globalStores.length > 0) {
        // global tables are loaded before any stream thread runs
        const ready = yield* Deferred.make<void, unknown>()
        yield* FiberSet.run(
          fibers,
          Effect.scoped(GlobalThread.run(running, config, partitions, ready, globalStores, context)).pipe(
            Effect.catchAllCause((cause) =>
              Effect.zipRight(Deferred.failCause(ready, cause), Effect.forkIn(shutdownOnError(cause), scope))
            )
          )
        )
        yield* Deferred.await(ready).pipe(
          Effect.mapError((cause) => new StreamsFatalError({ message: "Cannot load the global stores", cause }))
        )
      }
      const params = {
        threads,
        processId: pid,
        topology: running,
        config,
        context,
        partitions,
        admin,
        signal,
        reportTasks: (thread: number, tasks: ReadonlyArray<string>) => void threadTasks.set(thread, tasks),
        restoreListener: hooks.restoreListener,
        shutdownRequested: () => shutdownRequested,
        onShutdownRequested: Effect.asVoid(
          Effect.forkIn(
            shutdownOnError(undefined, "an instance of the application asked it to shut down (SHUTDOWN_APPLICATION)"),
            scope
          )
        ),
        reportAssignment: (_thread: number, info: Info.AssignmentInfo | undefined) => {
          latestAssignment = info
        },
        localTasks,
        globalStore: (name: string) => globalStores.get(name)
      }
      partitionCounts = partitions
      for (let i = 0; i < threads; i++) yield* FiberSet.run(fibers, superviseThread(params, i))
      const port = config["eddy.interactive.queries.http.port"]
      if (port !== undefined) {
        const host =
          config["eddy.interactive.queries.http.host"] ?? StreamsConfig.defaults["eddy.interactive.queries.http.host"]
        yield* QueryHttp.serve(queryTarget, host, port).pipe(Scope.extend(scope))
      }
    })

    const t = topology as Topology<unknown>
    const store = <K, V, Kind extends Metadata.QueryableStoreKind = "keyValue">(
      name: string,
      type?: Metadata.QueryableStoreType<K, V, Kind>,
      options: StoreQueryOptions = {}
    ): Effect.Effect<Metadata.QueryableStore<K, V, Kind>, InvalidStateStoreError> =>
      Effect.suspend(() => {
        const spec = t.stores.get(name)
        const owner = Metadata.storeSubtopology(t, applicationId, name)
        if (spec === undefined || spec.global || owner === undefined) {
          return Effect.fail(new InvalidStateStoreError({ store: name, message: `No queryable store named ${name}` }))
        }
        const kind: Metadata.QueryableStoreKind = type?.kind ?? "keyValue"
        const wanted = kind === "timestampedKeyValue" ? "keyValue" : kind === "timestampedWindow" ? "window" : kind
        const actual = Metadata.specKind(spec)
        if (wanted !== actual) {
          return Effect.fail(
            new InvalidStateStoreError({
              store: name,
              message: `Store ${name} is a ${actual} store, not a ${wanted} store`
            })
          )
        }
        const notRunning = () =>
          new InvalidStateStoreError({
            store: name,
            message: `Cannot query ${name}: the application is ${model.state}, not RUNNING (the store may be migrating)`
          })
        // stale reads (standbys) are allowed while rebalancing too, as in Kafka
        const queryable = () =>
          model.state === "RUNNING" || (options.enableStaleStores === true && model.state === "REBALANCING")
        if (!queryable()) return Effect.fail(notRunning())
        const params: ViewParams<K> = {
          name,
          subtopology: owner.sub.id,
          numPartitions: Math.max(0, ...owner.topics.map((x) => partitionCounts.get(x) ?? 0)),
          keySerde: spec.keySerde as Serde<K>,
          valueSerde: spec.valueSerde as Serde<unknown>,
          tasks: localTasks,
          check: () => {
            if (!queryable()) throw notRunning()
          },
          ownerOf: (partition) =>
            latestAssignment?.hosts.find((h) =>
              h.active.some((p) => p.partition === partition && owner.topics.includes(p.topic))
            )?.endpoint,
          timestamped: kind === "timestampedKeyValue" || kind === "timestampedWindow",
          stale: options.enableStaleStores === true
        }
        const view =
          wanted === "window"
            ? windowView<K, V>(params)
            : wanted === "session"
              ? sessionView<K, V>(params)
              : wanted === "versioned"
                ? versionedView<K, V>(params)
                : localView<K, V>(params)
        return Effect.succeed(view as Metadata.QueryableStore<K, V, Kind>)
      })
    const queryMetadataForKey = <K>(name: string, key: K, keySerde: Serde<K>) =>
      Effect.sync(() =>
        Metadata.metadataForKey(t, applicationId, latestAssignment, partitionCounts, name, key, keySerde)
      )
    const streamsMetadata = Effect.sync(() => Metadata.allMetadata(t, applicationId, latestAssignment))
    const allMetadataForStore = (name: string) =>
      Effect.map(streamsMetadata, (all) => all.filter((m) => m.stateStoreNames.includes(name)))
    const queryTarget: QueryHttp.QueryTarget = {
      running: Effect.sync(() => model.state === "RUNNING"),
      store: (name) => store<unknown, unknown>(name),
      metadataForKey: (name, key) => {
        const spec = t.stores.get(name)
        // a key the store's serde cannot encode has no owner
        return spec === undefined
          ? Effect.succeed(undefined)
          : queryMetadataForKey(name, key, spec.keySerde as Serde<unknown>).pipe(
              Effect.catchAllDefect(() => Effect.succeed(undefined))
            )
      },
      metadataForStore: allMetadataForStore,
      allMetadata: streamsMetadata,
      self: config["application.server"] ?? "",
      parseKey: hooks.parseQueryKey ?? ((_store, text) => text),
      storeInfo: (name) => {
        const spec = t.stores.get(name)
        return spec === undefined || spec.global
          ? undefined
          : { kind: Metadata.specKind(spec), windowSizeMs: spec.windowed?.windowSizeMs ?? 0 }
      },
      query: (name, type) => store(name, type)
    }

    const close = Effect.gen(function* () {
      if (model.state === "NOT_RUNNING") return
      yield* signal({ _tag: "Close" })
      yield* FiberSet.clear(fibers)
      yield* signal({ _tag: "Closed" })
    })
    yield* Effect.addFinalizer(() => close)

    return {
      applicationId,
      state: SubscriptionRef.get(ref),
      activeTasks: Effect.sync(() => [...threadTasks.values()].flat().sort()),
      standbyTasks: Effect.sync(() => localTasks.standbyTasks()),
      storeLags: Effect.sync(() => localTasks.standbyLags()),
      globalKeyValueStore: <K, V>(name: string) =>
        Effect.suspend(() => {
          const store = globalStores.get(name)
          const spec = topology.stores.get(name)
          if (store === undefined || spec === undefined) {
            return Effect.fail(new Cause.NoSuchElementException(`No loaded global store ${name}`))
          }
          return Effect.succeed(keyValueView<K, V>(store as never, spec.keySerde, spec.valueSerde))
        }),
      states: ref.changes,
      store,
      queryMetadataForKey,
      streamsMetadata,
      allMetadataForStore,
      start,
      close
    }
  })

/** The application as a layer: started when the layer is built, closed with it. */
export const layer = <R>(
  topology: Topology<R>,
  config: StreamsConfig.StreamsConfig,
  hooks: Hooks = {}
): Layer.Layer<KafkaStreamsTag, StreamsFatalError, R> =>
  Layer.scoped(
    KafkaStreamsTag,
    Effect.tap(make(topology, config, hooks), (app) => app.start)
  )

/** Waits until the application reaches `state` (or fails if it ends in ERROR or NOT_RUNNING first). */
export const awaitState = (app: KafkaStreams, state: State): Effect.Effect<void, StreamsFatalError> =>
  app.states.pipe(
    Stream.filter((s) => s === state || s === "ERROR" || s === "NOT_RUNNING"),
    Stream.take(1),
    Stream.runHead,
    Effect.flatMap((s) =>
      s._tag === "Some" && s.value !== state
        ? Effect.fail(new StreamsFatalError({ message: `application ended in ${s.value}`, cause: undefined }))
        : Effect.void
    )
  )
