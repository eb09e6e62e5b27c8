/**
 * A Connect worker: the connectors it runs (one actor each, in a FiberMap keyed by connector name), their
 * configs, states, task configs and active topics, offsets, and the plugin listing and validation. The REST
 * API and the standalone command are thin layers over this service.
 *
 * Invariants: `entries` and the actors FiberMap hold the same names; a connector's config changes only by
 * replacing its actor (the target state carries over); offsets are changed only while the connector is STOPPED.
 */
import { Context, Deferred, Effect, FiberMap, Layer, Ref, type Scope, Stream, SubscriptionRef } from "effect"
import type * as ConfigDef from "../plugin/ConfigDef.js"
import type { ConnectorPlugin, PluginEnv, Props } from "../plugin/Connector.js"
import { type PluginInfo, Plugins } from "../plugin/Plugins.js"
import * as ConnectorActor from "./ConnectorActor.js"
import type { OffsetEntry } from "./ConnectorOffsets.js"
import * as ConnectorOffsets from "./ConnectorOffsets.js"
import type * as CS from "./ConnectorState.js"
import * as ExactlyOnce from "./ExactlyOnce.js"
import { OffsetStore } from "./OffsetStore.js"
import * as WorkerEndpoints from "./WorkerEndpoints.js"
import { badRequest, notFound, WorkerError } from "./WorkerError.js"
import * as ZombieFencing from "./ZombieFencing.js"

export type { OffsetEntry } from "./ConnectorOffsets.js"
export { invalidConfigMessage, validateWith } from "./WorkerEndpoints.js"
export { badRequest, notFound, WorkerError } from "./WorkerError.js"

/** `GET /connectors/{name}`'s shape. */
export interface ConnectorInfo {
  readonly name: string
  readonly config: Props
  readonly tasks: ReadonlyArray<{ readonly connector: string; readonly task: number }>
  readonly type: "source" | "sink"
}

/** One task's status. */
export interface TaskStatus {
  readonly id: number
  readonly state: CS.State
  readonly worker_id: string
  readonly trace?: string
}

/** `GET /connectors/{name}/status`'s shape. */
export interface ConnectorStatus {
  readonly name: string
  readonly connector: { readonly state: CS.State; readonly worker_id: string; readonly trace?: string }
  readonly tasks: ReadonlyArray<TaskStatus>
  readonly type: "source" | "sink"
}

/** `PUT /connector-plugins/{plugin}/config/validate`'s shape. */
export interface ConfigInfos {
  readonly name: string
  readonly error_count: number
  readonly groups: ReadonlyArray<string>
  readonly configs: ReadonlyArray<{
    readonly definition: ConfigDef.ConfigKeyInfo
    readonly value: ConfigDef.ConfigValueInfo
  }>
}

/** The worker service. */
export interface WorkerShape {
  readonly workerId: string
  readonly connectors: Effect.Effect<ReadonlyArray<string>>
  readonly info: (name: string) => Effect.Effect<ConnectorInfo, WorkerError>
  readonly status: (name: string) => Effect.Effect<ConnectorStatus, WorkerError>
  readonly taskStatus: (name: string, task: number) => Effect.Effect<TaskStatus, WorkerError>
  readonly taskConfigs: (
    name: string
  ) => Effect.Effect<
    ReadonlyArray<{ readonly id: { readonly connector: string; readonly task: number }; readonly config: Props }>,
    WorkerError
  >
  /** Creates a connector; fails with 409 if it exists. */
  readonly create: (
    name: string,
    config: Props,
    initialState?: CS.TargetState
  ) => Effect.Effect<ConnectorInfo, WorkerError>
  /** Creates or replaces a connector's config; `created` tells which. */
  readonly putConfig: (
    name: string,
    config: Props
  ) => Effect.Effect<{ readonly created: boolean; readonly info: ConnectorInfo }, WorkerError>
  readonly delete: (name: string) => Effect.Effect<void, WorkerError>
  readonly setTarget: (name: string, target: CS.TargetState) => Effect.Effect<void, WorkerError>
  readonly restart: (name: string, includeTasks: boolean, onlyFailed: boolean) => Effect.Effect<void, WorkerError>
  readonly restartTask: (name: string, task: number) => Effect.Effect<void, WorkerError>
  readonly topics: (name: string) => Effect.Effect<ReadonlyArray<string>, WorkerError>
  readonly resetTopics: (name: string) => Effect.Effect<void, WorkerError>
  readonly offsets: (name: string) => Effect.Effect<ReadonlyArray<OffsetEntry>, WorkerError>
  readonly alterOffsets: (name: string, offsets: ReadonlyArray<OffsetEntry>) => Effect.Effect<string, WorkerError>
  readonly resetOffsets: (name: string) => Effect.Effect<string, WorkerError>
  readonly plugins: (connectorsOnly: boolean) => ReadonlyArray<PluginInfo>
  readonly pluginConfig: (plugin: string) => Effect.Effect<ReadonlyArray<ConfigDef.ConfigKeyInfo>, WorkerError>
  readonly validate: (plugin: string, config: Props) => Effect.Effect<ConfigInfos, WorkerError>
  /** Distributed workers only: stores a connector's task configs (the internal `POST /connectors/{name}/tasks`). */
  readonly putTaskConfigs?: (name: string, configs: ReadonlyArray<Props>) => Effect.Effect<void, WorkerError>
  /** Waits until a connector's state satisfies `f` (for tests and the CLI). */
  readonly awaitState: (
    name: string,
    f: (s: CS.ConnectorState) => boolean
  ) => Effect.Effect<CS.ConnectorState, WorkerError>
}

/** The worker service tag. */
export class Worker extends Context.Tag("@eddy/connect/runtime/Worker")<Worker, WorkerShape>() {}

/** Worker settings beyond the properties. */
export interface WorkerOptions {
  readonly workerId: string
  /** The persisted target state of a connector (standalone: none). */
  readonly loadTarget?: (name: string) => Effect.Effect<CS.TargetState | null>
  readonly persistTarget?: (name: string, target: CS.TargetState) => Effect.Effect<void>
  /** Forgets a deleted connector's target state. */
  readonly removeTarget?: (name: string) => Effect.Effect<void>
  /**
   * A distributed worker's `exactly.once.source.support` (see {@link ExactlyOnce.workerSupport}): connectors
   * are preflight-checked and, when `enabled`, source tasks run transactions. Absent in standalone mode.
   */
  readonly exactlyOnceSource?: ExactlyOnce.WorkerSupport
  /**
   * Fences the transactional producers of a connector's previous task generation before `taskCount` new tasks
   * start (with `exactlyOnceSource: "enabled"`); the default is {@link ZombieFencing.make}.
   */
  readonly fenceZombies?: (connector: string, config: Props, taskCount: number) => Effect.Effect<void, unknown>
}

interface Entry {
  readonly handle: ConnectorActor.ConnectorHandle
}

/** Builds a worker in the current scope. */
export const make = (
  workerProps: Props,
  options: WorkerOptions
): Effect.Effect<WorkerShape, never, Scope.Scope | Plugins | OffsetStore | PluginEnv> =>
  Effect.gen(function* () {
    const plugins = yield* Plugins
    const offsets = yield* OffsetStore
    const platform = yield* Effect.context<PluginEnv>()
    const actors = yield* FiberMap.make<string>()
    const entries = yield* Ref.make(new Map<string, Entry>())
    const lock = yield* Effect.makeSemaphore(1)
    const workerId = options.workerId
    const env: ConnectorActor.ActorEnv = {
      workerProps,
      plugins,
      offsets,
      persistTarget: options.persistTarget ?? (() => Effect.void),
      ...(options.exactlyOnceSource !== undefined && ExactlyOnce.tasksUseTransactions(options.exactlyOnceSource)
        ? {
            exactlyOnce: {
              groupId: ExactlyOnce.groupIdOf(workerProps),
              fence: options.fenceZombies ?? ZombieFencing.make(workerProps)
            }
          }
        : {})
    }

    const entry = (name: string) =>
      Effect.flatMap(Ref.get(entries), (m) => {
        const e = m.get(name)
        return e ? Effect.succeed(e) : Effect.fail(notFound(name))
      })

    const resolvePlugin = (config: Props) => WorkerEndpoints.pluginFor(plugins, config)

    const startActor = (name: string, config: Props, plugin: ConnectorPlugin, target: CS.TargetState) =>
      Effect.gen(function* () {
        const ready = yield* Deferred.make<ConnectorActor.ConnectorHandle>()
        yield* FiberMap.run(
          actors,
          name,
          Effect.scoped(
            Effect.flatMap(ConnectorActor.make(env, name, config, plugin, target), (h) =>
              Effect.zipRight(Deferred.succeed(ready, h), Effect.never)
            )
          ).pipe(Effect.provide(platform))
        )
        const handle = yield* Deferred.await(ready)
        yield* Ref.update(entries, (m) => new Map(m).set(name, { handle }))
        return handle
      })

    const infoOf = (e: Entry) =>
      Effect.map(Ref.get(e.handle.taskConfigs), (configs) =>
        WorkerEndpoints.connectorInfo(e.handle.name, e.handle.config, configs.length, e.handle.plugin._tag)
      )

    const checkedConfig = (name: string, config: Props) =>
      Effect.gen(function* () {
        if (config.name !== undefined && config.name !== name)
          return yield* badRequest(
            `Connector name configuration (${config.name}) doesn't match connector name in the URL (${name})`
          )
        const full = { ...config, name }
        const plugin = yield* resolvePlugin(full)
        const infos = WorkerEndpoints.validateWith(plugin, full, options.exactlyOnceSource)
        if (infos.error_count > 0) return yield* badRequest(WorkerEndpoints.invalidConfigMessage(infos))
        return { full, plugin }
      })

    const upsert = (name: string, config: Props, mustBeNew: boolean, initialState?: CS.TargetState) =>
      lock.withPermits(1)(
        Effect.gen(function* () {
          if (!/^[^/]+$/.test(name) || name.trim() === "")
            return yield* badRequest(`Connector name must not be empty or contain '/'`)
          const { full, plugin } = yield* checkedConfig(name, config)
          const existing = (yield* Ref.get(entries)).get(name)
          if (existing && mustBeNew)
            return yield* new WorkerError({ status: 409, message: `Connector ${name} already exists` })
          const stored = options.loadTarget ? yield* options.loadTarget(name) : null
          const target = existing
            ? (yield* SubscriptionRef.get(existing.handle.state)).target
            : (initialState ?? stored ?? "STARTED")
          if (existing) yield* FiberMap.remove(actors, name)
          else if (initialState && options.persistTarget) yield* options.persistTarget(name, initialState)
          const handle = yield* startActor(name, full, plugin, target)
          return { created: !existing, info: yield* infoOf({ handle }) }
        })
      )

    const whenStopped = (name: string) =>
      Effect.gen(function* () {
        const e = yield* entry(name)
        const s = yield* SubscriptionRef.get(e.handle.state)
        if (s.connector.state !== "STOPPED" || s.target !== "STOPPED") return yield* WorkerEndpoints.notStopped(name)
        return e.handle
      })

    const offsetEndpoints = WorkerEndpoints.offsetEndpoints(ConnectorOffsets.make(workerProps, offsets), offsets, {
      connector: (name) => Effect.map(entry(name), (e) => ({ config: e.handle.config, type: e.handle.plugin._tag })),
      whenStopped
    })

    const shape: WorkerShape = {
      workerId,
      connectors: Effect.map(Ref.get(entries), (m) => [...m.keys()].sort()),
      info: (name) => Effect.flatMap(entry(name), infoOf),
      status: (name) =>
        Effect.gen(function* () {
          const e = yield* entry(name)
          const s = yield* SubscriptionRef.get(e.handle.state)
          return WorkerEndpoints.connectorStatus(
            name,
            e.handle.plugin._tag,
            { ...s.connector, worker_id: workerId },
            s.tasks.map((t) => ({ ...t, worker_id: workerId }))
          )
        }),
      taskStatus: (name, task) => WorkerEndpoints.taskStatusOf(shape.status(name), name, task),
      taskConfigs: (name) =>
        Effect.flatMap(entry(name), (e) =>
          Effect.map(Ref.get(e.handle.taskConfigs), (configs) =>
            configs.map((config, task) => ({ id: { connector: name, task }, config }))
          )
        ),
      create: (name, config, initialState) => Effect.map(upsert(name, config, true, initialState), (r) => r.info),
      putConfig: (name, config) => upsert(name, config, false),
      delete: (name) =>
        lock.withPermits(1)(
          Effect.gen(function* () {
            yield* entry(name)
            yield* FiberMap.remove(actors, name)
            if (options.removeTarget) yield* options.removeTarget(name)
            yield* Ref.update(entries, (m) => {
              const next = new Map(m)
              next.delete(name)
              return next
            })
          })
        ),
      setTarget: (name, target) => Effect.flatMap(entry(name), (e) => e.handle.send({ _tag: "SetTarget", target })),
      restart: (name, includeTasks, onlyFailed) =>
        Effect.flatMap(entry(name), (e) => e.handle.send({ _tag: "Restart", includeTasks, onlyFailed })),
      restartTask: (name, task) =>
        Effect.gen(function* () {
          const e = yield* entry(name)
          const s = yield* SubscriptionRef.get(e.handle.state)
          if (task < 0 || task >= s.tasks.length)
            return yield* new WorkerError({ status: 404, message: `Task ${name}-${task} not found` })
          yield* e.handle.send({ _tag: "RestartTask", id: task })
        }),
      topics: (name) => Effect.flatMap(entry(name), (e) => Effect.map(Ref.get(e.handle.topics), (s) => [...s].sort())),
      resetTopics: (name) => Effect.flatMap(entry(name), (e) => Ref.set(e.handle.topics, new Set())),
      ...offsetEndpoints,
      ...WorkerEndpoints.pluginEndpoints(plugins, options.exactlyOnceSource),
      awaitState: (name, f) =>
        Effect.flatMap(entry(name), (e) =>
          e.handle.state.changes.pipe(
            Stream.filter(f),
            Stream.runHead,
            Effect.flatMap(Effect.orElse(() => Effect.die("connector state stream ended")))
          )
        )
    }
    return shape
  })

/** The worker as a layer. */
export const layer = (workerProps: Props, options: WorkerOptions) => Layer.scoped(Worker, make(workerProps, options))
