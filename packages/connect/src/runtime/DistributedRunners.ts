/**
 * What runs one connector or one task on a distributed worker, as fibers the herder starts and interrupts
 * (each in its FiberMap): a connector runner starts the connector instance, reports its status, computes its
 * task configs and publishes them through the leader (again on `requestTaskReconfiguration`); a task runner
 * runs the task with its committed config. Statuses go to the status topic with this worker's id and the
 * group generation.
 *
 * Invariants: a runner never ends by itself (a failure is written as FAILED and the fiber waits to be
 * replaced), so the herder's record of what runs stays true until it stops the runner; interrupting a runner
 * stops the instance (a task flushes its offsets first).
 */
import { type Context, Effect, Queue } from "effect"
import { ConnectError, traceOf } from "../plugin/ConnectError.js"
import type { ConnectorPlugin, PluginEnv, Props } from "../plugin/Connector.js"
import type { PluginsShape } from "../plugin/Plugins.js"
import * as ConnectorActor from "./ConnectorActor.js"
import * as ConnectorConfig from "./ConnectorConfig.js"
import type * as CS from "./ConnectorState.js"
import type { OffsetStoreShape } from "./OffsetStore.js"
import type { StatusStore } from "./StatusStore.js"
import type { WorkerError } from "./WorkerError.js"

/** What the runners need of their worker. */
export interface RunnerDeps {
  readonly workerProps: Props
  readonly workerId: string
  readonly plugins: PluginsShape
  readonly offsets: OffsetStoreShape
  readonly statuses: StatusStore
  readonly platform: Context.Context<PluginEnv>
  /** The current group generation (-1 outside the group). */
  readonly generation: Effect.Effect<number>
  readonly pluginOf: (config: Props) => Effect.Effect<ConnectorPlugin, WorkerError>
  /** Makes the config topic's task configs of a connector these (through the leader). */
  readonly publishTaskConfigs: (name: string, configs: ReadonlyArray<Props>) => Effect.Effect<void, WorkerError>
  /** Set when source tasks run exactly-once (`exactly.once.source.support=enabled`). */
  readonly exactlyOnce?: ConnectorActor.ActorEnv["exactlyOnce"]
}

/** Whether two lists of task configs are equal. */
export const sameConfigs = (a: ReadonlyArray<Props>, b: ReadonlyArray<Props> | undefined) =>
  b !== undefined && a.length === b.length && a.every((c, i) => JSON.stringify(c) === JSON.stringify(b[i]))

const causeTrace = (cause: { readonly _tag: string; readonly error?: unknown }) =>
  traceOf(cause._tag === "Fail" ? cause.error : cause)

/** The runners of a worker. */
export const make = (deps: RunnerDeps) => {
  const putConnectorStatus = (name: string, state: CS.State, trace: string | null = null) =>
    Effect.flatMap(deps.generation, (g) =>
      deps.statuses
        .putConnector(name, { state, trace, worker_id: deps.workerId, generation: g })
        .pipe(Effect.catchAll((e) => Effect.logWarning(`Cannot write the status of ${name}: ${e.message}`)))
    )
  const putTaskStatus = (name: string, id: number, state: CS.State, trace: string | null = null) =>
    Effect.flatMap(deps.generation, (g) =>
      deps.statuses
        .putTask(name, id, { state, trace, worker_id: deps.workerId, generation: g })
        .pipe(Effect.catchAll((e) => Effect.logWarning(`Cannot write the status of ${name}-${id}: ${e.message}`)))
    )

  /** Computes and publishes task configs until the connector fails or asks again; fails with its trace. */
  const taskConfigLoop = (
    name: string,
    config: Props,
    instance: { readonly taskConfigs: (max: number) => Effect.Effect<ReadonlyArray<Props>, unknown, PluginEnv> },
    reconfigure: Queue.Queue<void>,
    failed: Queue.Queue<string>
  ) =>
    Effect.gen(function* () {
      const max = ConnectorConfig.tasksMax(config)
      for (;;) {
        const taskConfigs = yield* instance.taskConfigs(max)
        if (taskConfigs.length > max && config["tasks.max.enforce"]?.trim().toLowerCase() !== "false")
          return yield* new ConnectError({
            message: `The connector ${name} has generated ${taskConfigs.length} tasks, which is greater than ${max}, the maximum number of tasks it is configured to create.`
          })
        yield* deps.publishTaskConfigs(name, taskConfigs)
        const next = yield* Effect.raceFirst(Effect.as(Queue.take(reconfigure), null), Queue.take(failed))
        if (next !== null) return yield* new ConnectError({ message: next })
      }
    })

  /** Runs a connector with the given target state until interrupted. */
  const runConnector = (name: string, config: Props, target: CS.TargetState) =>
    Effect.gen(function* () {
      if (target === "STOPPED") {
        // a stopped connector has no tasks: its task configs are emptied
        yield* putConnectorStatus(name, "STOPPED")
        yield* deps.publishTaskConfigs(name, [])
        return yield* Effect.never
      }
      const plugin = yield* deps.pluginOf(config)
      const errors = ConnectorActor.definitionOf(plugin)
        .validate(config)
        .flatMap((v) => v.errors)
      if (errors.length > 0) return yield* new ConnectError({ message: errors.join("; ") })
      const reconfigure = yield* Queue.sliding<void>(1)
      const failed = yield* Queue.sliding<string>(1)
      const instance = yield* plugin.connector
      yield* Effect.acquireRelease(
        instance.start(config, {
          requestTaskReconfiguration: Effect.asVoid(Queue.offer(reconfigure, undefined)),
          raiseError: (error) => Effect.asVoid(Queue.offer(failed, traceOf(error)))
        }),
        () => instance.stop
      )
      yield* putConnectorStatus(name, target === "PAUSED" ? "PAUSED" : "RUNNING")
      return yield* taskConfigLoop(name, config, instance, reconfigure, failed)
    }).pipe(
      Effect.scoped,
      Effect.catchAllCause((cause) => putConnectorStatus(name, "FAILED", causeTrace(cause))),
      Effect.zipRight(Effect.never),
      Effect.provide(deps.platform)
    )

  const actorEnv: ConnectorActor.ActorEnv = {
    workerProps: deps.workerProps,
    plugins: deps.plugins,
    offsets: deps.offsets,
    persistTarget: () => Effect.void,
    ...(deps.exactlyOnce ? { exactlyOnce: deps.exactlyOnce } : {})
  }

  /** Runs task `id` of a connector (paused unless the target is STARTED) until interrupted. */
  const runTask = (name: string, id: number, config: Props, taskProps: Props, target: CS.TargetState) =>
    Effect.gen(function* () {
      if (target !== "STARTED") {
        yield* putTaskStatus(name, id, "PAUSED")
        return yield* Effect.never
      }
      const plugin = yield* deps.pluginOf(config)
      const owner: ConnectorActor.TaskOwner = {
        name,
        config,
        plugin,
        onTopic: (topic) =>
          deps.statuses.putTopic(name, topic, id).pipe(Effect.catchAll((e) => Effect.logWarning(e.message)))
      }
      yield* ConnectorActor.runTask(actorEnv, owner, id, taskProps, (c) =>
        c._tag === "TaskStarted"
          ? putTaskStatus(name, id, "RUNNING")
          : c._tag === "TaskFailed"
            ? putTaskStatus(name, id, "FAILED", c.trace)
            : Effect.void
      )
    }).pipe(
      Effect.catchAllCause((cause) => putTaskStatus(name, id, "FAILED", causeTrace(cause))),
      Effect.zipRight(Effect.never),
      Effect.provide(deps.platform)
    )

  return { putConnectorStatus, putTaskStatus, runConnector, runTask }
}
