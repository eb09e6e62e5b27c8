/**
 * A running streams application (Kafka Streams' `KafkaStreams`): `make` validates the configuration,
 * `start` creates the internal topics and starts `num.stream.threads` stream threads as supervised fibers
 * in the application's scope, `close` (or closing the scope) commits and stops them. Its state moves
 * through CREATED, REBALANCING, RUNNING, PENDING_SHUTDOWN, NOT_RUNNING, PENDING_ERROR and ERROR; watch
 * it with a listener or the `states` stream.
 *
 * Invariants: state changes go through the pure `appState.step`, one at a time (a semaphore), and each is
 * announced once, in order; a thread that fails with `TaskMigrated` is replaced; any other failure goes to
 * the uncaught-exception policy (REPLACE_THREAD, or SHUTDOWN_CLIENT: every thread stops, state ERROR).
 */

import * as Admin from "@eddy/core/client/Admin"
import { Cause, Context, Deferred, Effect, FiberSet, Layer, Scope, Stream, SubscriptionRef } from "effect"
import * as AppState from "./internal/runtime/appState.js"
import * as GlobalThread from "./internal/runtime/GlobalThread.js"
import { setUp } from "./internal/runtime/internalTopics.js"
import { resolve as resolvePatterns } from "./internal/runtime/patterns.js"
import { processId as readProcessId } from "./internal/runtime/processId.js"
import type { RestoreListener } from "./internal/runtime/restore.js"
import * as StreamThread from "./internal/runtime/StreamThread.js"
import { keyValueView } from "./internal/store/ReadOnlyView.js"
import type { TimestampedStore } from "./internal/store/TimestampedStore.js"
import * as StreamsConfig from "./StreamsConfig.js"
import { StreamsFatalError } from "./StreamsError.js"
import type { ReadOnlyKeyValueStore } from "./state/KeyValueStore.js"
import type { Topology } from "./topology/Topology.js"

/** The application's states. */
export type State = AppState.State

/** Optional hooks of an application. */
export interface Hooks {
  /** Called on every state change (Kafka's `setStateListener`). */
  readonly onStateChange?: (newState: State, oldState: State) => Effect.Effect<void>
  /** Called as stores are restored from their changelogs. */
  readonly restoreListener?: RestoreListener
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
  /** A global table's store (loaded before the threads start, then kept up to date), typed by its serdes. */
  readonly globalKeyValueStore: <K, V>(
    name: string
  ) => Effect.Effect<ReadOnlyKeyValueStore<K, V>, Cause.NoSuchElementException>
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

    const shutdownOnError = (cause: unknown) =>
      Effect.gen(function* () {
        yield* Effect.logError(`streams ${applicationId}: a stream thread failed; shutting the client down`, cause)
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
        restoreListener: hooks.restoreListener
      }
      for (let i = 0; i < threads; i++) yield* FiberSet.run(fibers, superviseThread(params, i))
    })

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
