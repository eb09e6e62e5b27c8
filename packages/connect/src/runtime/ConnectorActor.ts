/**
 * The actor of one connector: a fiber that owns the connector instance, its task fibers (a FiberMap by
 * task id) and its `ConnectorState`, and reads a mailbox of commands. Each command goes through the pure
 * `ConnectorState.step`; the actor then runs the step's actions (start/stop the connector or a task,
 * persist the target state), which may feed further commands (a started connector reports its task count).
 *
 * Invariants: only this fiber changes the state and the instance; task fibers report to the mailbox and
 * never touch the state; closing the actor's scope stops every task (flushing offsets) and then the connector.
 */
import { Data, Deferred, Effect, Equal, FiberMap, Queue, Ref, type Scope, SubscriptionRef } from "effect"
import * as Converters from "../converters/Converters.js"
import type * as ConfigDef from "../plugin/ConfigDef.js"
import { ConnectError, traceOf } from "../plugin/ConnectError.js"
import type { Connector, ConnectorPlugin, PluginEnv, Props } from "../plugin/Connector.js"
import type { PluginsShape } from "../plugin/Plugins.js"
import { clientProps } from "./ClientProps.js"
import * as ConnectorConfig from "./ConnectorConfig.js"
import * as CS from "./ConnectorState.js"
import * as ExactlyOnce from "./ExactlyOnce.js"
import * as ExactlyOnceSourceTask from "./ExactlyOnceSourceTask.js"
import type { OffsetStoreShape } from "./OffsetStore.js"
import * as RecordErrors from "./RecordErrors.js"
import * as SinkTopics from "./SinkTopics.js"
import * as TransformChain from "./TransformChain.js"
import * as WorkerSinkTask from "./WorkerSinkTask.js"
import * as WorkerSourceTask from "./WorkerSourceTask.js"

/** Messages of a connector actor. */
export type Message = Data.TaggedEnum<{
  /** A state-machine command, with an optional reply once its actions ran. */
  Transition: { readonly command: CS.Command; readonly reply: Deferred.Deferred<void> | null }
  /** Recompute task configs (the connector's `requestTaskReconfiguration`). */
  Reconfigure: {}
}>
/** Message constructors. */
export const Message = Data.taggedEnum<Message>()

/** The worker-level settings an actor needs. */
export interface ActorEnv {
  readonly workerProps: Props
  readonly plugins: PluginsShape
  readonly offsets: OffsetStoreShape
  readonly persistTarget: (name: string, target: CS.TargetState) => Effect.Effect<void>
  /** Set when source tasks run exactly-once (a distributed worker with `exactly.once.source.support=enabled`). */
  readonly exactlyOnce?: {
    /** The worker's `group.id`, the prefix of the tasks' transactional ids. */
    readonly groupId: string
    /** Fences the previous generation of a connector's tasks before `taskCount` new ones start. */
    readonly fence: (connector: string, config: Props, taskCount: number) => Effect.Effect<void, unknown>
  }
}

/** A running connector actor, as the worker sees it. */
export interface ConnectorHandle {
  readonly name: string
  readonly config: Props
  readonly plugin: ConnectorPlugin
  readonly state: SubscriptionRef.SubscriptionRef<CS.ConnectorState>
  readonly taskConfigs: Ref.Ref<ReadonlyArray<Props>>
  readonly topics: Ref.Ref<ReadonlySet<string>>
  /** Sends a command and waits until its actions ran. */
  readonly send: (command: CS.Command) => Effect.Effect<void>
}

/** Validates a connector config against the common keys and the plugin's own. */
export const definitionOf = (plugin: ConnectorPlugin): ConfigDef.ConfigDef =>
  ({
    ...plugin.config,
    info: [...(plugin._tag === "sink" ? ConnectorConfig.sink : ConnectorConfig.source).info, ...plugin.config.info],
    validate: (props: Props) =>
      plugin._tag === "sink"
        ? SinkTopics.withCrossChecks(props, [...ConnectorConfig.sink.validate(props), ...plugin.config.validate(props)])
        : [...ConnectorConfig.source.validate(props), ...plugin.config.validate(props)]
  }) as ConfigDef.ConfigDef

/** What a task needs of its connector. */
export interface TaskOwner {
  readonly name: string
  readonly config: Props
  readonly plugin: ConnectorPlugin
  /** Records a topic the task used. */
  readonly onTopic: (topic: string) => Effect.Effect<void>
}

/** Runs one task until it fails or is interrupted; it reports TaskStarted and TaskFailed through `report`. */
export const runTask = (
  env: ActorEnv,
  h: TaskOwner,
  id: number,
  taskProps: Props,
  report: (c: CS.Command) => Effect.Effect<void>
) =>
  Effect.gen(function* () {
    const config = h.config
    const errors = RecordErrors.make(ConnectorConfig.errorSettings(config), h.name, id)
    const transforms = yield* TransformChain.make(config, env.plugins)
    const converters = yield* Effect.try({
      try: () => ({
        keyConverter: Converters.converterFor("key", env.workerProps, config),
        valueConverter: Converters.converterFor("value", env.workerProps, config),
        headerConverter: Converters.headerConverterFor(env.workerProps, config)
      }),
      catch: (e) => new ConnectError({ message: e instanceof Error ? e.message : String(e), cause: e })
    })
    const common = {
      connector: h.name,
      taskId: id,
      taskProps,
      ...converters,
      transforms,
      errors,
      flushIntervalMs: Number(env.workerProps["offset.flush.interval.ms"] ?? 60000),
      onStarted: report(CS.Command.TaskStarted({ id })),
      onTopic: h.onTopic
    }
    const producerProps = clientProps("producer", env.workerProps, config)
    if (h.plugin._tag === "source" && env.exactlyOnce)
      return yield* ExactlyOnceSourceTask.run({
        ...common,
        plugin: h.plugin,
        producerProps,
        workerProps: env.workerProps,
        connectorProps: config,
        transactionalId: ExactlyOnce.transactionalId(env.exactlyOnce.groupId, h.name, id),
        offsetsTopic: ExactlyOnce.offsetsTopicOf(config, env.workerProps),
        boundary: ExactlyOnce.boundaryOf(config),
        intervalMs: ExactlyOnce.intervalMsOf(config, env.workerProps)
      })
    if (h.plugin._tag === "source")
      return yield* WorkerSourceTask.run({ ...common, plugin: h.plugin, producerProps, offsets: env.offsets })
    const topics = yield* SinkTopics.resolve(env.workerProps, config)
    yield* SinkTopics.ensureTopics(env.workerProps, config, topics)
    yield* SinkTopics.ensureDlq(env.workerProps, config)
    return yield* WorkerSinkTask.run({
      ...common,
      plugin: h.plugin,
      topics,
      consumerProps: clientProps("consumer", env.workerProps, config),
      producerProps
    })
  }).pipe(
    Effect.scoped,
    Effect.catchAllCause((cause) =>
      report(CS.Command.TaskFailed({ id, trace: traceOf(cause._tag === "Fail" ? cause.error : cause) }))
    )
  )

/** Starts a connector actor in the current scope; its first command is the initial state's. */
export const make = (
  env: ActorEnv,
  name: string,
  config: Props,
  plugin: ConnectorPlugin,
  initialTarget: CS.TargetState
): Effect.Effect<ConnectorHandle, never, Scope.Scope | PluginEnv> =>
  Effect.gen(function* () {
    const mailbox = yield* Queue.unbounded<Message>()
    const init = CS.initial(initialTarget)
    const state = yield* SubscriptionRef.make(init.state)
    const handle: Omit<ConnectorHandle, "send"> = {
      name,
      config,
      plugin,
      state,
      taskConfigs: yield* Ref.make<ReadonlyArray<Props>>([]),
      topics: yield* Ref.make<ReadonlySet<string>>(new Set())
    }
    const tasks = yield* FiberMap.make<number>()
    const owner: TaskOwner = {
      name,
      config,
      plugin,
      onTopic: (topic) => Ref.update(handle.topics, (s) => new Set([...s, topic]))
    }
    const report = (command: CS.Command) =>
      Queue.offer(mailbox, Message.Transition({ command, reply: null })).pipe(Effect.asVoid)
    let instance: Connector | null = null

    const stopConnector = Effect.suspend(() => {
      const i = instance
      instance = null
      return i ? i.stop : Effect.void
    })
    yield* Effect.addFinalizer(() => FiberMap.clear(tasks).pipe(Effect.zipRight(stopConnector)))

    const taskConfigs = Effect.gen(function* () {
      const max = ConnectorConfig.tasksMax(config)
      const configs = yield* instance!.taskConfigs(max)
      if (configs.length > max && config["tasks.max.enforce"]?.trim().toLowerCase() !== "false")
        return yield* new ConnectError({
          message: `The connector ${name} has generated ${configs.length} tasks, which is greater than ${max}, the maximum number of tasks it is configured to create.`
        })
      const old = yield* Ref.get(handle.taskConfigs)
      const changed =
        configs.length !== old.length || configs.some((c, i) => !Equal.equals(Data.struct(c), Data.struct(old[i]!)))
      if (changed && plugin._tag === "source" && env.exactlyOnce) {
        // a new generation: the old tasks stop, then their transactional ids are fenced, then the new ones start
        yield* FiberMap.clear(tasks)
        yield* Effect.mapError(
          env.exactlyOnce.fence(name, config, configs.length),
          (e) => new ConnectError({ message: `Zombie fencing of ${name}'s tasks failed: ${traceOf(e)}`, cause: e })
        )
      }
      yield* Ref.set(handle.taskConfigs, configs)
      return CS.Command.ConnectorStarted({ taskCount: configs.length, configsChanged: changed })
    })

    const startConnector = Effect.gen(function* () {
      yield* stopConnector
      const def = definitionOf(plugin)
      const errors = def.validate(config).flatMap((v) => v.errors)
      if (errors.length > 0) return yield* new ConnectError({ message: errors.join("; ") })
      const created = yield* plugin.connector
      instance = created
      yield* created.start(config, {
        requestTaskReconfiguration: Queue.offer(mailbox, Message.Reconfigure()).pipe(Effect.asVoid),
        raiseError: (error) => report(CS.Command.ConnectorFailed({ trace: traceOf(error) }))
      })
      return yield* taskConfigs
    }).pipe(
      Effect.catchAllCause((cause) =>
        Effect.succeed(CS.Command.ConnectorFailed({ trace: traceOf(cause._tag === "Fail" ? cause.error : cause) }))
      )
    )

    const runAction = (action: CS.Action): Effect.Effect<CS.Command | null, never, PluginEnv> =>
      CS.Action.$match(action, {
        StartConnector: () => startConnector,
        StopConnector: () => Effect.as(stopConnector, null),
        StartTask: ({ id }) =>
          Effect.gen(function* () {
            const props = (yield* Ref.get(handle.taskConfigs))[id]
            if (props) yield* FiberMap.run(tasks, id, runTask(env, owner, id, props, report))
            return null
          }),
        StopTask: ({ id }) => Effect.as(FiberMap.remove(tasks, id), null),
        PersistTarget: ({ target }) => Effect.as(env.persistTarget(name, target), null)
      })

    const apply = (command: CS.Command): Effect.Effect<void, never, PluginEnv> =>
      Effect.gen(function* () {
        const { state: next, actions } = CS.step(yield* SubscriptionRef.get(state), command)
        yield* SubscriptionRef.set(state, next)
        for (const action of actions) {
          const follow = yield* runAction(action)
          if (follow) yield* apply(follow)
        }
      })

    const handleMessage = (message: Message) =>
      Message.$match(message, {
        Transition: ({ command, reply }) =>
          apply(command).pipe(Effect.zipRight(reply ? Deferred.succeed(reply, undefined) : Effect.void)),
        Reconfigure: () =>
          instance === null
            ? Effect.void
            : taskConfigs.pipe(
                Effect.flatMap(apply),
                Effect.catchAllCause((cause) => apply(CS.Command.ConnectorFailed({ trace: traceOf(cause) })))
              )
      })

    for (const action of init.actions) {
      const follow = yield* runAction(action)
      if (follow) yield* apply(follow)
    }
    yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.take(mailbox), handleMessage)))
    return {
      ...handle,
      send: (command) =>
        Effect.gen(function* () {
          const reply = yield* Deferred.make<void>()
          yield* Queue.offer(mailbox, Message.Transition({ command, reply }))
          yield* Deferred.await(reply)
        })
    }
  })
