/**
 * The distributed worker (`connect-distributed worker.properties`): workers sharing a `group.id` form a group
 * (protocol type `connect`, protocols `sessioned` and `compatible`) whose leader assigns connectors and tasks
 * with the incremental cooperative assignor; connector configs, task configs and target states live in
 * `config.storage.topic`, statuses in `status.storage.topic`, source offsets in `offset.storage.topic`. The
 * leader is the only writer of configs: REST writes on a follower are forwarded over HTTP to the leader's URL,
 * as are task configs computed by a connector running on a follower (`POST /connectors/{name}/tasks`). The
 * worker implements the same `Worker` service as the standalone one, so the REST API is the same.
 *
 * Invariants: one herder fiber starts and stops this worker's connectors and tasks (FiberMaps keyed by
 * connector and task), reconciling what it runs with its assignment and the config topic's snapshot; the
 * group member's callbacks only record the assignment and post to the herder's mailbox; revoked work is
 * stopped before the worker rejoins for the follow-up rebalance; closing the worker stops every connector and
 * task (flushing offsets), then leaves the group.
 */
import * as GroupMember from "@eddy/core/client/GroupMember"
import { FetchHttpClient, HttpClient, HttpClientRequest, HttpServer } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import {
  Clock,
  Context,
  Data,
  Duration,
  Effect,
  FiberMap,
  Layer,
  Option,
  PubSub,
  Queue,
  Ref,
  Schedule,
  Schema,
  type Scope,
  Stream,
  SubscriptionRef
} from "effect"
import { traceOf } from "../plugin/ConnectError.js"
import type { PluginEnv, Props } from "../plugin/Connector.js"
import * as Plugins from "../plugin/Plugins.js"
import * as ConnectServer from "../rest/ConnectServer.js"
import * as Assignor from "./Assignor.js"
import * as ConfigStore from "./ConfigStore.js"
import * as ConnectorOffsets from "./ConnectorOffsets.js"
import type * as CS from "./ConnectorState.js"
import * as CP from "./ConnectProtocol.js"
import * as DistributedRunners from "./DistributedRunners.js"
import * as ExactlyOnce from "./ExactlyOnce.js"
import * as Herder from "./Herder.js"
import type { KafkaBasedLogError } from "./KafkaBasedLog.js"
import * as LoggerLevels from "./LoggerLevels.js"
import * as OffsetStore from "./OffsetStore.js"
import { intSetting } from "./OffsetStore.js"
import { clusterIdOf, readFiles } from "./Standalone.js"
import * as StatusStore from "./StatusStore.js"
import { type ConnectorStatus, Worker, type WorkerShape } from "./Worker.js"
import * as WorkerEndpoints from "./WorkerEndpoints.js"
import { badRequest, notFound, WorkerError } from "./WorkerError.js"
import * as ZombieFencing from "./ZombieFencing.js"

/** A distributed worker that cannot start. */
export class DistributedError extends Schema.TaggedError<DistributedError>()("DistributedError", {
  message: Schema.String
}) {}

/** The distributed worker's own settings and their defaults (Kafka's `DistributedConfig`). */
export const defaults = {
  "scheduled.rebalance.max.delay.ms": 300000,
  "session.timeout.ms": 10000,
  "heartbeat.interval.ms": 3000,
  "rebalance.timeout.ms": 60000
} as const

/** Settings a distributed worker must have (Kafka's `DistributedConfig` gives them no default). */
export const required = ["group.id", "config.storage.topic", "offset.storage.topic", "status.storage.topic"] as const

/** Fails with Kafka's message when a required setting is missing. */
export const checkRequired = (workerProps: Props): Effect.Effect<void, DistributedError> => {
  const missing = required.find((key) => !workerProps[key]?.trim())
  return missing === undefined
    ? Effect.void
    : Effect.fail(
        new DistributedError({ message: `Missing required configuration "${missing}" which has no default value.` })
      )
}

/** Where this worker is reached: its `worker_id` (`host:port`) and REST URL. */
export interface WorkerAddress {
  readonly workerId: string
  readonly url: string
}

/** This worker's place in the group (null while it has none). */
export interface Membership {
  readonly memberId: string
  readonly generation: number
  readonly leaderId: string
  readonly leaderUrl: string
}

type HerderMessage = Data.TaggedEnum<{
  Reconcile: {}
  Assigned: { readonly rejoin: boolean; readonly delay: number }
  Restart: { readonly name: string; readonly includeTasks: boolean; readonly onlyFailed: boolean }
  RestartTask: { readonly name: string; readonly task: number }
}>
const HerderMessage = Data.taggedEnum<HerderMessage>()

const noLeader = new WorkerError({
  status: 409,
  message: "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway."
})

const storeError = (e: KafkaBasedLogError) => new WorkerError({ status: 500, message: e.message })

/** A distributed worker: the Worker service plus its group membership. */
export interface DistributedWorkerShape extends WorkerShape {
  readonly membership: Effect.Effect<Membership | null>
  /** The connectors and tasks this worker runs (its assignment). */
  readonly assignment: Effect.Effect<CP.Load>
}

/** The distributed worker's own tag (the same service is also the `Worker`). */
export class DistributedWorker extends Context.Tag("@eddy/connect/runtime/DistributedWorker")<
  DistributedWorker,
  DistributedWorkerShape
>() {}

/** Builds a distributed worker in the current scope. */
export const make = (
  workerProps: Props,
  address: WorkerAddress
): Effect.Effect<
  DistributedWorkerShape,
  DistributedError | KafkaBasedLogError,
  Scope.Scope | Plugins.Plugins | OffsetStore.OffsetStore | PluginEnv | HttpClient.HttpClient
> =>
  Effect.gen(function* () {
    yield* checkRequired(workerProps)
    const eos = ExactlyOnce.workerSupport(workerProps)
    if ("error" in eos) return yield* new DistributedError({ message: eos.error })
    const exactlyOnce = ExactlyOnce.tasksUseTransactions(eos.support)
    const groupId = workerProps["group.id"]!
    const plugins = yield* Plugins.Plugins
    const offsets = yield* OffsetStore.OffsetStore
    const platform = yield* Effect.context<PluginEnv>()
    const http = yield* HttpClient.HttpClient
    const maxDelayMs = intSetting(
      workerProps,
      "scheduled.rebalance.max.delay.ms",
      defaults["scheduled.rebalance.max.delay.ms"]
    )
    const configs = yield* ConfigStore.make(workerProps)
    const statuses = yield* StatusStore.make(workerProps)
    const ops = ConnectorOffsets.make(workerProps, offsets)
    const membership = yield* SubscriptionRef.make<Membership | null>(null)
    const owned = yield* Ref.make<CP.Load>(CP.emptyLoad)
    const assignorState = yield* Ref.make(Assignor.initialState)
    const mailbox = yield* Queue.unbounded<HerderMessage>()
    const leaderWait = Duration.millis(
      intSetting(workerProps, "rebalance.timeout.ms", defaults["rebalance.timeout.ms"])
    )
    const post = (m: HerderMessage) => Effect.asVoid(Queue.offer(mailbox, m))

    // ------------------------------------------------------------------------------------------------
    // forwarding to the leader

    const forward = (base: string, method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown) =>
      Effect.gen(function* () {
        let request = HttpClientRequest.make(method)(base.replace(/\/$/, "") + path)
        if (body !== undefined) request = HttpClientRequest.bodyUnsafeJson(request, body)
        const response = yield* http.execute(request)
        const text = yield* response.text
        const json: unknown = text === "" ? null : yield* Effect.try(() => JSON.parse(text) as unknown)
        if (response.status >= 400)
          return yield* new WorkerError({
            status: response.status,
            message: (json as { message?: string } | null)?.message ?? `HTTP ${response.status}`
          })
        return json
      }).pipe(
        Effect.scoped,
        Effect.catchAll((e) =>
          e instanceof WorkerError
            ? Effect.fail(e)
            : Effect.fail(new WorkerError({ status: 500, message: `Forwarding to ${base} failed: ${String(e)}` }))
        )
      )

    /** The membership once a leader is known (as Kafka's herder, a request waits while the worker joins). */
    const knownLeader = membership.changes.pipe(
      Stream.filter((m) => m !== null && m.leaderUrl !== ""),
      Stream.runHead,
      Effect.map(Option.getOrNull),
      Effect.timeoutTo({ duration: leaderWait, onTimeout: () => null, onSuccess: (m) => m })
    )

    /** Runs `local` on the leader, else forwards the request to the leader's URL. */
    const onLeader = <A>(
      local: Effect.Effect<A, WorkerError>,
      remote: (leaderUrl: string) => Effect.Effect<unknown, WorkerError>
    ): Effect.Effect<A, WorkerError> =>
      Effect.flatMap(knownLeader, (m) => {
        if (m === null) return Effect.fail(noLeader)
        if (m.leaderId === m.memberId) return local
        return remote(m.leaderUrl) as Effect.Effect<A, WorkerError>
      })

    // ------------------------------------------------------------------------------------------------
    // reads

    const snapshot = Effect.mapError(configs.snapshot, storeError)
    const existing = (name: string) =>
      Effect.flatMap(snapshot, (s) => {
        const config = s.connectors.get(name)
        return config === undefined ? Effect.fail(notFound(name)) : Effect.succeed({ s, config })
      })
    const pluginOf = (config: Props) => WorkerEndpoints.pluginFor(plugins, config)
    const typeOf = (config: Props) =>
      Effect.map(Effect.option(pluginOf(config)), (p) => (Option.isSome(p) ? p.value._tag : ("source" as const)))
    const infoOf = (name: string, config: Props, taskCount: number) =>
      Effect.map(typeOf(config), (type) => WorkerEndpoints.connectorInfo(name, config, taskCount, type))

    const statusOf = (name: string): Effect.Effect<ConnectorStatus, WorkerError> =>
      Effect.gen(function* () {
        const { s, config } = yield* existing(name)
        const st = yield* Effect.mapError(statuses.get(name), storeError)
        const taskCount = s.tasks.get(name)?.length ?? 0
        const connector = st.connector ?? { state: "UNASSIGNED" as const, trace: null, worker_id: "" }
        const stopped = s.targets.get(name) === "STOPPED" && connector.state === "STOPPED"
        const tasks = stopped
          ? []
          : Array.from(
              { length: taskCount },
              (_, id) => st.tasks.get(id) ?? { state: "UNASSIGNED" as const, worker_id: "" }
            )
        return WorkerEndpoints.connectorStatus(name, yield* typeOf(config), connector, tasks)
      })

    // ------------------------------------------------------------------------------------------------
    // leader-side writes

    const checked = (name: string, config: Props) =>
      Effect.gen(function* () {
        if (!/^[^/]+$/.test(name) || name.trim() === "")
          return yield* badRequest(`Connector name must not be empty or contain '/'`)
        if (config.name !== undefined && config.name !== name)
          return yield* badRequest(
            `Connector name configuration (${config.name}) doesn't match connector name in the URL (${name})`
          )
        const full = { ...config, name }
        const plugin = yield* pluginOf(full)
        const infos = WorkerEndpoints.validateWith(plugin, full, eos.support)
        if (infos.error_count > 0) return yield* badRequest(WorkerEndpoints.invalidConfigMessage(infos))
        return full
      })

    const putConfigLocal = (name: string, config: Props, mustBeNew: boolean, initial?: CS.TargetState) =>
      Effect.gen(function* () {
        const full = yield* checked(name, config)
        const s = yield* snapshot
        const exists = s.connectors.has(name)
        if (exists && mustBeNew)
          return yield* new WorkerError({ status: 409, message: `Connector ${name} already exists` })
        yield* Effect.mapError(configs.putConnectorConfig(name, full, exists ? undefined : initial), storeError)
        return { created: !exists, info: yield* infoOf(name, full, s.tasks.get(name)?.length ?? 0) }
      })

    // exactly-once sources: the leader fences the generation named by the task-count record before new task configs
    const fenceZombies = ZombieFencing.fromConfigStore(workerProps, configs)
    const putTaskConfigsLocal = (name: string, taskConfigs: ReadonlyArray<Props>) =>
      Effect.flatMap(existing(name), ({ config }) =>
        Effect.gen(function* () {
          if (exactlyOnce && (yield* pluginOf(config))._tag === "source")
            yield* Effect.mapError(
              fenceZombies(name, config, taskConfigs.length),
              (e) =>
                new WorkerError({ status: 500, message: `Zombie fencing of ${name}'s tasks failed: ${traceOf(e)}` })
            )
          yield* Effect.mapError(configs.putTaskConfigs(name, taskConfigs), storeError)
        })
      )

    /** Task configs go through the leader, which alone writes configs. */
    const writeTaskConfigs = (name: string, taskConfigs: ReadonlyArray<Props>) =>
      onLeader(putTaskConfigsLocal(name, taskConfigs), (url) =>
        forward(url, "POST", `/connectors/${encodeURIComponent(name)}/tasks`, taskConfigs)
      )

    // ------------------------------------------------------------------------------------------------
    // running connectors and tasks

    /** Keeps the config topic's task configs equal to what the connector asks for (retrying through rebalances). */
    const publishTaskConfigs = (name: string, taskConfigs: ReadonlyArray<Props>) =>
      Effect.gen(function* () {
        const s = yield* SubscriptionRef.get(configs.current)
        if (DistributedRunners.sameConfigs(taskConfigs, s.tasks.get(name))) return
        yield* writeTaskConfigs(name, taskConfigs)
      }).pipe(Effect.retry(Schedule.spaced(Duration.millis(250)).pipe(Schedule.upTo(Duration.minutes(1)))))

    const runners = DistributedRunners.make({
      workerProps,
      workerId: address.workerId,
      plugins,
      offsets,
      statuses,
      platform,
      generation: Effect.map(Ref.get(membership), (m) => m?.generation ?? -1),
      pluginOf,
      publishTaskConfigs,
      // tasks fenced by the leader (putTaskConfigsLocal): a task of a new generation only needs its own producer
      ...(exactlyOnce ? { exactlyOnce: { groupId, fence: () => Effect.void } } : {})
    })
    const { putConnectorStatus, putTaskStatus } = runners

    // ------------------------------------------------------------------------------------------------
    // the group

    const member = yield* GroupMember.make(
      {
        "bootstrap.servers": workerProps["bootstrap.servers"] ?? "localhost:9092",
        "group.id": groupId,
        "session.timeout.ms": intSetting(workerProps, "session.timeout.ms", defaults["session.timeout.ms"]),
        "heartbeat.interval.ms": intSetting(workerProps, "heartbeat.interval.ms", defaults["heartbeat.interval.ms"]),
        "rebalance.timeout.ms": intSetting(workerProps, "rebalance.timeout.ms", defaults["rebalance.timeout.ms"])
      },
      {
        protocolType: "connect",
        protocols: Effect.gen(function* () {
          const offset = (yield* SubscriptionRef.get(configs.current)).offset
          const load = yield* Ref.get(owned)
          const m = yield* Ref.get(membership)
          return CP.protocols.map((p) => ({
            name: p.name,
            metadata: CP.encodeMetadata({
              version: p.version,
              url: address.url,
              configOffset: offset,
              allocation: Herder.allocationOf(load, p.version, m, offset)
            })
          }))
        }),
        assign: (join) => leaderAssign(join),
        onAssigned: (a) =>
          Effect.gen(function* () {
            const assignment = yield* Effect.try(() => CP.decodeAssignment(a.assignment)).pipe(Effect.option)
            if (Option.isNone(assignment)) {
              yield* Effect.logWarning(`Unreadable assignment in generation ${a.generationId}`)
              return
            }
            const x = assignment.value
            yield* Ref.update(owned, (load) => Herder.applyAssignment(load, x.assigned, x.revoked))
            yield* Ref.set(membership, {
              memberId: a.memberId,
              generation: a.generationId,
              leaderId: x.leader || a.leaderId,
              leaderUrl: x.leaderUrl
            })
            const revoked = x.revoked.connectors.length + x.revoked.tasks.length > 0
            yield* Effect.logDebug(
              `Worker ${address.workerId} generation ${a.generationId}: +${JSON.stringify(x.assigned)} -${JSON.stringify(x.revoked)} delay ${x.delay}`
            )
            yield* post(HerderMessage.Assigned({ rejoin: revoked, delay: x.delay }))
          }),
        onLost: () =>
          Effect.gen(function* () {
            yield* Ref.set(owned, CP.emptyLoad)
            yield* Ref.set(membership, null)
            yield* post(HerderMessage.Reconcile())
          })
      }
    ).pipe(Effect.mapError((e) => new DistributedError({ message: e.message })))

    function leaderAssign(join: GroupMember.LeaderJoin) {
      return Effect.gen(function* () {
        yield* configs.readToEnd.pipe(Effect.catchAll((e) => Effect.logWarning(e.message)))
        const { assignments, state } = Herder.leaderAssignment(
          {
            leaderId: join.memberId,
            leaderUrl: address.url,
            protocol: join.protocol,
            members: join.members,
            snapshot: yield* SubscriptionRef.get(configs.current),
            now: yield* Clock.currentTimeMillis,
            maxDelayMs
          },
          yield* Ref.get(assignorState)
        )
        yield* Ref.set(assignorState, state)
        return assignments
      })
    }

    // ------------------------------------------------------------------------------------------------
    // the herder: reconciles what runs here with the assignment and the configs

    const connectorFibers = yield* FiberMap.make<string>()
    const taskFibers = yield* FiberMap.make<string>()
    const timers = yield* FiberMap.make<string>()
    const running = new Map<string, string>()
    const runningTasks = new Map<string, string>()

    const reconcile = Effect.gen(function* () {
      const todo = Herder.plan(
        yield* SubscriptionRef.get(configs.current),
        yield* Ref.get(owned),
        running,
        runningTasks,
        // exactly-once: a new generation fenced every task of the connector, so every task restarts
        { restartWholeGeneration: exactlyOnce }
      )
      for (const name of todo.stopConnectors) {
        running.delete(name)
        yield* FiberMap.remove(connectorFibers, name)
      }
      for (const key of todo.stopTasks) {
        runningTasks.delete(key)
        yield* FiberMap.remove(taskFibers, key)
      }
      for (const c of todo.startConnectors) {
        running.set(c.name, c.fingerprint)
        yield* FiberMap.run(connectorFibers, c.name, runners.runConnector(c.name, c.config, c.target))
      }
      for (const t of todo.startTasks) {
        runningTasks.set(t.key, t.fingerprint)
        yield* FiberMap.run(taskFibers, t.key, runners.runTask(t.connector, t.task, t.config, t.props, t.target))
      }
    })

    const restartLocal = (name: string, includeTasks: boolean, onlyFailed: boolean) =>
      Effect.gen(function* () {
        const s = yield* SubscriptionRef.get(configs.current)
        const st = yield* statuses
          .get(name)
          .pipe(Effect.orElseSucceed(() => ({ connector: null, tasks: new Map() }) as StatusStore.ConnectorStatuses))
        const config = s.connectors.get(name)
        if (config === undefined) return
        const target = s.targets.get(name) ?? "STARTED"
        if (running.has(name) && (!onlyFailed || st.connector?.state === "FAILED")) {
          yield* putConnectorStatus(name, "RESTARTING")
          yield* FiberMap.run(connectorFibers, name, runners.runConnector(name, config, target))
        }
        if (!includeTasks) return
        for (const key of runningTasks.keys()) {
          const t = key.split("\u0000")
          if (t[0] !== name) continue
          const id = Number(t[1])
          if (onlyFailed && st.tasks.get(id)?.state !== "FAILED") continue
          const props = s.tasks.get(name)?.[id]
          if (props === undefined) continue
          yield* putTaskStatus(name, id, "RESTARTING")
          yield* FiberMap.run(taskFibers, key, runners.runTask(name, id, config, props, target))
        }
      })

    const handle = (m: HerderMessage) =>
      HerderMessage.$match(m, {
        Reconcile: () => reconcile,
        Assigned: ({ rejoin, delay }) =>
          Effect.gen(function* () {
            yield* configs.readToEnd.pipe(Effect.catchAll((e) => Effect.logWarning(e.message)))
            yield* reconcile
            if (rejoin) yield* member.rejoin
            if (delay > 0)
              yield* FiberMap.run(timers, "scheduled-rebalance", Effect.zipRight(Effect.sleep(delay), member.rejoin))
          }),
        Restart: ({ name, includeTasks, onlyFailed }) => restartLocal(name, includeTasks, onlyFailed),
        RestartTask: ({ name, task }) =>
          Effect.gen(function* () {
            const key = Assignor.taskKey({ connector: name, task })
            const s = yield* SubscriptionRef.get(configs.current)
            const config = s.connectors.get(name)
            const props = s.tasks.get(name)?.[task]
            if (!runningTasks.has(key) || config === undefined || props === undefined) return
            yield* putTaskStatus(name, task, "RESTARTING")
            yield* FiberMap.run(
              taskFibers,
              key,
              runners.runTask(name, task, config, props, s.targets.get(name) ?? "STARTED")
            )
          })
      })

    yield* Effect.forkScoped(
      Effect.forever(
        Effect.flatMap(Queue.take(mailbox), (m) =>
          handle(m).pipe(Effect.catchAllCause((c) => Effect.logError("Distributed herder step failed", c)))
        )
      )
    )

    // config changes: everyone reconciles; the leader rebalances when connectors or task counts change
    const updates = yield* PubSub.subscribe(configs.updates)
    yield* Effect.forkScoped(
      Effect.forever(
        Effect.gen(function* () {
          const u = yield* Queue.take(updates)
          if (u._tag === "Restart") return yield* post(HerderMessage.Restart(u))
          yield* post(HerderMessage.Reconcile())
          const m = yield* Ref.get(membership)
          if ((u._tag === "ConnectorConfig" || u._tag === "TaskConfigs") && m !== null && m.leaderId === m.memberId)
            yield* member.rejoin
        })
      )
    )

    // ------------------------------------------------------------------------------------------------
    // the Worker service

    const whenStopped = (name: string) =>
      Effect.gen(function* () {
        const { s, config } = yield* existing(name)
        const st = yield* Effect.mapError(statuses.get(name), storeError)
        if (s.targets.get(name) !== "STOPPED" || st.connector?.state !== "STOPPED")
          return yield* WorkerEndpoints.notStopped(name)
        return { name, config, plugin: yield* pluginOf(config) }
      })
    const offsetEndpoints = WorkerEndpoints.offsetEndpoints(ops, offsets, {
      connector: (name) =>
        Effect.flatMap(existing(name), ({ config }) => Effect.map(typeOf(config), (type) => ({ config, type }))),
      whenStopped
    })

    const path = (name: string, rest = "") => `/connectors/${encodeURIComponent(name)}${rest}`

    const shape: DistributedWorkerShape = {
      workerId: address.workerId,
      membership: Ref.get(membership),
      assignment: Ref.get(owned),
      connectors: Effect.map(
        Effect.orElseSucceed(configs.snapshot, () => ConfigStore.empty),
        (s) => [...s.connectors.keys()].sort()
      ),
      info: (name) =>
        Effect.flatMap(existing(name), ({ s, config }) => infoOf(name, config, s.tasks.get(name)?.length ?? 0)),
      status: statusOf,
      taskStatus: (name, task) => WorkerEndpoints.taskStatusOf(statusOf(name), name, task),
      taskConfigs: (name) =>
        Effect.map(existing(name), ({ s }) =>
          (s.tasks.get(name) ?? []).map((config, task) => ({ id: { connector: name, task }, config }))
        ),
      create: (name, config, initialState) =>
        onLeader(
          Effect.map(putConfigLocal(name, config, true, initialState), (r) => r.info),
          (url) =>
            forward(url, "POST", "/connectors", {
              name,
              config,
              ...(initialState ? { initial_state: initialState === "STARTED" ? "RUNNING" : initialState } : {})
            })
        ),
      putConfig: (name, config) =>
        onLeader(putConfigLocal(name, config, false), (url) =>
          Effect.gen(function* () {
            const existed = yield* Effect.map(Effect.either(existing(name)), (e) => e._tag === "Right")
            const info = yield* forward(url, "PUT", path(name, "/config"), config)
            return { created: !existed, info }
          })
        ),
      delete: (name) =>
        onLeader(
          Effect.gen(function* () {
            yield* existing(name)
            yield* Effect.mapError(configs.removeConnectorConfig(name), storeError)
            yield* Effect.mapError(statuses.removeConnector(name), storeError)
          }),
          (url) => forward(url, "DELETE", path(name))
        ),
      setTarget: (name, target) =>
        onLeader(
          Effect.gen(function* () {
            yield* existing(name)
            yield* Effect.mapError(configs.putTargetState(name, target), storeError)
          }),
          (url) =>
            forward(url, "PUT", path(name, target === "STARTED" ? "/resume" : target === "PAUSED" ? "/pause" : "/stop"))
        ),
      restart: (name, includeTasks, onlyFailed) =>
        onLeader(
          Effect.gen(function* () {
            yield* existing(name)
            yield* Effect.mapError(configs.putRestartRequest(name, includeTasks, onlyFailed), storeError)
          }),
          (url) => forward(url, "POST", path(name, `/restart?includeTasks=${includeTasks}&onlyFailed=${onlyFailed}`))
        ),
      restartTask: (name, task) =>
        Effect.gen(function* () {
          const status = yield* statusOf(name)
          const t = status.tasks.find((x) => x.id === task)
          if (!t) return yield* new WorkerError({ status: 404, message: `Task ${name}-${task} not found` })
          if (t.worker_id === address.workerId || t.worker_id === "") {
            yield* post(HerderMessage.RestartTask({ name, task }))
            return
          }
          yield* forward(`http://${t.worker_id}`, "POST", path(name, `/tasks/${task}/restart`))
        }),
      topics: (name) => Effect.flatMap(existing(name), () => Effect.mapError(statuses.topics(name), storeError)),
      resetTopics: (name) =>
        Effect.flatMap(existing(name), () => Effect.mapError(statuses.resetTopics(name), storeError)),
      ...offsetEndpoints,
      ...WorkerEndpoints.pluginEndpoints(plugins, eos.support),
      awaitState: (name, f) =>
        Effect.gen(function* () {
          for (;;) {
            const s = yield* existing(name)
            const st = yield* statusOf(name)
            const state: CS.ConnectorState = {
              target: s.s.targets.get(name) ?? "STARTED",
              connector: { state: st.connector.state, trace: st.connector.trace ?? null },
              tasks: st.tasks.map((t) => ({ state: t.state, trace: t.trace ?? null }))
            }
            if (f(state)) return state
            yield* Effect.sleep(Duration.millis(100))
          }
        }),
      putTaskConfigs: (name, taskConfigs) =>
        onLeader(putTaskConfigsLocal(name, taskConfigs), (url) =>
          forward(url, "POST", path(name, "/tasks"), taskConfigs)
        )
    }
    return shape
  })

/** The distributed worker as a `Worker` layer. */
export const layerWorker = (workerProps: Props, address: WorkerAddress) =>
  Layer.scopedContext(
    Effect.map(make(workerProps, address), (w) =>
      Context.make(Worker, w as WorkerShape).pipe(Context.add(DistributedWorker, w))
    )
  )

/** This worker's `worker_id` and URL from `listeners` and `rest.advertised.host.name`/`rest.advertised.port`. */
export const addressOf = (workerProps: Props): Effect.Effect<WorkerAddress, DistributedError> => {
  const { host, port } = ConnectServer.parseListener(workerProps.listeners)
  const advertisedHost = workerProps["rest.advertised.host.name"] ?? (host === "0.0.0.0" ? "localhost" : host)
  const advertisedPort = Number(workerProps["rest.advertised.port"] ?? port)
  if (!Number.isInteger(advertisedPort) || advertisedPort <= 0)
    return Effect.fail(
      new DistributedError({
        message:
          "A distributed worker needs a fixed REST port (listeners or rest.advertised.port) that others can reach"
      })
    )
  const workerId = `${advertisedHost}:${advertisedPort}`
  return Effect.succeed({ workerId, url: `http://${workerId}/` })
}

/** The layer of a distributed worker with its REST server; it gives the Worker and the bound HttpServer. */
export const layer = (workerProps: Props) => {
  const levels = LoggerLevels.make()
  const worker = Layer.unwrapEffect(
    Effect.map(Effect.zipRight(checkRequired(workerProps), addressOf(workerProps)), (address) =>
      layerWorker(workerProps, address).pipe(
        Layer.provide(
          Layer.mergeAll(Plugins.layer(), OffsetStore.layerTopic(workerProps), NodeContext.layer, FetchHttpClient.layer)
        )
      )
    )
  )
  const server = ConnectServer.layer(workerProps.listeners, { levels, clusterId: clusterIdOf(workerProps) })
  return Layer.provideMerge(server, worker).pipe(Layer.provide(levels.logger))
}

/** Runs a distributed worker from its properties file until interrupted. */
export const run = (workerFile: string) =>
  Effect.gen(function* () {
    const { worker: workerProps } = yield* readFiles(workerFile, [])
    yield* Effect.scoped(
      Effect.gen(function* () {
        const ctx = yield* Layer.build(layer(workerProps))
        const worker = Context.get(ctx, Worker)
        const server = Context.get(ctx, HttpServer.HttpServer)
        yield* Effect.logInfo(
          `Eddy Connect distributed worker ${worker.workerId} of group ${workerProps["group.id"]} listening on ${HttpServer.formatAddress(server.address)}`
        )
        return yield* Effect.never
      })
    )
  })
