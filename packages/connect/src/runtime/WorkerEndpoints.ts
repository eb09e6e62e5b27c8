/**
 * What the standalone worker (`Worker.ts`) and the distributed one (`Distributed.ts`) answer alike on the REST
 * API: the connector info and status shapes, a task's status, the offsets endpoints (list; alter and reset of a
 * STOPPED connector, KIP-875) and the plugin endpoints. Each worker supplies only where its connectors live.
 */
import { Effect } from "effect"
import type { ConnectorPlugin, Props } from "../plugin/Connector.js"
import type { PluginsShape } from "../plugin/Plugins.js"
import * as ConnectorActor from "./ConnectorActor.js"
import type * as ConnectorOffsets from "./ConnectorOffsets.js"
import type { OffsetEntry, OffsetOwner } from "./ConnectorOffsets.js"
import type * as CS from "./ConnectorState.js"
import * as ExactlyOnce from "./ExactlyOnce.js"
import type { OffsetStoreShape } from "./OffsetStore.js"
import type { ConfigInfos, ConnectorInfo, ConnectorStatus, TaskStatus, WorkerShape } from "./Worker.js"
import { badRequest, WorkerError } from "./WorkerError.js"

/** `GET /connectors/{name}`'s body for a connector with `taskCount` tasks. */
export const connectorInfo = (
  name: string,
  config: Props,
  taskCount: number,
  type: "source" | "sink"
): ConnectorInfo => ({
  name,
  config,
  tasks: Array.from({ length: taskCount }, (_, task) => ({ connector: name, task })),
  type
})

/** A connector's or task's state as the status endpoints show it (no `trace` unless it failed with one). */
export interface StateOf {
  readonly state: CS.State
  readonly worker_id: string
  readonly trace?: string | null | undefined
}

const shown = (s: StateOf) => ({ state: s.state, worker_id: s.worker_id, ...(s.trace ? { trace: s.trace } : {}) })

/** `GET /connectors/{name}/status`'s body: the connector's state and its tasks' (numbered from 0). */
export const connectorStatus = (
  name: string,
  type: "source" | "sink",
  connector: StateOf,
  tasks: ReadonlyArray<StateOf>
): ConnectorStatus => ({
  name,
  connector: shown(connector),
  tasks: tasks.map((t, id): TaskStatus => ({ id, ...shown(t) })),
  type
})

/** `GET /connectors/{name}/tasks/{task}/status`: one task of the connector's status, or 404. */
export const taskStatusOf = (status: Effect.Effect<ConnectorStatus, WorkerError>, name: string, task: number) =>
  Effect.flatMap(status, (s) => {
    const t = s.tasks.find((x) => x.id === task)
    return t
      ? Effect.succeed(t)
      : Effect.fail(new WorkerError({ status: 404, message: `No status found for task ${name}-${task}` }))
  })

/** The connector plugin a config's `connector.class` names; 400 when it is missing or unknown. */
export const pluginFor = (plugins: PluginsShape, config: Props): Effect.Effect<ConnectorPlugin, WorkerError> => {
  const className = config["connector.class"]
  if (!className) return Effect.fail(badRequest('Connector config is missing the "connector.class" property'))
  return Effect.mapError(plugins.connector(className), (e) => badRequest(e.message))
}

/** The 400 of an offsets change while the connector is not STOPPED. */
export const notStopped = (name: string) =>
  badRequest(
    "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/" +
      name +
      "/stop' endpoint"
  )

/** How a worker finds a connector for the offsets endpoints. */
export interface OffsetsAccess {
  /** The connector's config and type; 404 when it does not exist. */
  readonly connector: (
    name: string
  ) => Effect.Effect<{ readonly config: Props; readonly type: "source" | "sink" }, WorkerError>
  /** The connector when it is STOPPED (target and state); else {@link notStopped}. */
  readonly whenStopped: (name: string) => Effect.Effect<OffsetOwner, WorkerError>
}

/** The offsets endpoints over a worker's offset operations and store. */
export const offsetEndpoints = (
  ops: ReturnType<typeof ConnectorOffsets.make>,
  offsets: OffsetStoreShape,
  access: OffsetsAccess
): Pick<WorkerShape, "offsets" | "alterOffsets" | "resetOffsets"> => {
  const list = (name: string): Effect.Effect<ReadonlyArray<OffsetEntry>, WorkerError> =>
    Effect.flatMap(access.connector(name), ({ config, type }) =>
      type === "sink" ? ops.sinkOffsets(name, config) : offsets.list(name)
    )
  return {
    offsets: list,
    alterOffsets: (name, entries) =>
      Effect.gen(function* () {
        const c = yield* access.whenStopped(name)
        if (c.plugin._tag === "sink") {
          yield* ops.alterSink(c, entries)
          return "The offsets for this connector have been altered successfully"
        }
        yield* ops.alterSource(c, entries)
        return "The Connect framework-managed offsets for this connector have been altered successfully. However, if this connector manages offsets externally, they will need to be manually altered in the system that the connector uses."
      }),
    resetOffsets: (name) =>
      Effect.gen(function* () {
        const c = yield* access.whenStopped(name)
        const current = yield* list(name)
        const cleared = current.map((o) => ({ partition: o.partition, offset: null }))
        if (c.plugin._tag === "sink") {
          yield* ops.alterSink(c, cleared)
          return "The offsets for this connector have been reset successfully"
        }
        yield* ops.alterSource(c, cleared)
        return "The Connect framework-managed offsets for this connector have been reset successfully. However, if this connector manages offsets externally, they will need to be manually reset in the system that the connector uses."
      })
  }
}

/**
 * Validates a connector config as `PUT /connector-plugins/{plugin}/config/validate` answers; with a distributed
 * worker's `exactlyOnceSource`, source connectors also get the exactly-once preflight checks.
 */
export const validateWith = (
  plugin: ConnectorPlugin,
  config: Props,
  exactlyOnceSource?: ExactlyOnce.WorkerSupport
): ConfigInfos => {
  const def = ConnectorActor.definitionOf(plugin)
  const checked = def.validate(config)
  const values =
    plugin._tag === "source" && exactlyOnceSource !== undefined
      ? ExactlyOnce.preflight(plugin, config, exactlyOnceSource, checked)
      : checked
  const byName = new Map(values.map((v) => [v.name, v]))
  const configs = def.info.map((definition) => ({ definition, value: byName.get(definition.name)! }))
  const groups = [...new Set(def.info.map((i) => i.group).filter((g): g is string => g !== null))]
  return { name: plugin.className, error_count: values.filter((v) => v.errors.length > 0).length, groups, configs }
}

/** Connect's message for an invalid connector config. */
export const invalidConfigMessage = (infos: ConfigInfos) => {
  const errors = infos.configs.flatMap((c) => c.value.errors.map((e) => `${e}`))
  return `Connector configuration is invalid and contains the following ${errors.length} error(s):\n${errors.join("\n")}\nYou can also find the above list of errors at the endpoint \`/connector-plugins/{connectorType}/config/validate\``
}

/** The plugin endpoints: the listing, a connector plugin's config definition, and validation. */
export const pluginEndpoints = (
  plugins: PluginsShape,
  exactlyOnceSource?: ExactlyOnce.WorkerSupport
): Pick<WorkerShape, "plugins" | "pluginConfig" | "validate"> => ({
  plugins: (connectorsOnly) => plugins.list(connectorsOnly),
  pluginConfig: (name) =>
    Effect.map(
      Effect.mapError(plugins.connector(name), (e) => new WorkerError({ status: 404, message: e.message })),
      (p) => p.config.info
    ),
  validate: (name, config) =>
    Effect.map(
      Effect.mapError(plugins.connector(name), (e) => badRequest(e.message)),
      (p) => validateWith(p, config, exactlyOnceSource)
    )
})
