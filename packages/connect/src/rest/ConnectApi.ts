/**
 * Kafka Connect's REST API as an `HttpApi` definition: every path, its parameters, bodies and responses in
 * effect/Schema (so routing, validation and an OpenAPI description come from one place). Errors are
 * Connect's `{error_code, message}` bodies with the status Connect answers.
 */
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

const errorFields = { error_code: Schema.Number, message: Schema.String }

/** 400 Bad Request. */
export class BadRequest extends Schema.Class<BadRequest>("BadRequest")(
  errorFields,
  HttpApiSchema.annotations({ status: 400 })
) {}
/** 404 Not Found. */
export class NotFound extends Schema.Class<NotFound>("NotFound")(
  errorFields,
  HttpApiSchema.annotations({ status: 404 })
) {}
/** 409 Conflict. */
export class Conflict extends Schema.Class<Conflict>("Conflict")(
  errorFields,
  HttpApiSchema.annotations({ status: 409 })
) {}
/** 500 Internal Server Error. */
export class ServerError extends Schema.Class<ServerError>("ServerError")(
  errorFields,
  HttpApiSchema.annotations({ status: 500 })
) {}

/** A config value: Connect's are strings; numbers and booleans are accepted and kept as text. */
export const ConfigValue = Schema.Union(
  Schema.String,
  Schema.transform(Schema.Union(Schema.Number, Schema.Boolean), Schema.String, {
    strict: false,
    decode: (v) => String(v),
    encode: (s) => s
  })
)

/** A connector config. */
export const Config = Schema.Record({ key: Schema.String, value: ConfigValue })

/** A config patch: null removes a key (KIP-477). */
export const ConfigPatch = Schema.Record({ key: Schema.String, value: Schema.NullOr(ConfigValue) })

/** Connector states. */
export const State = Schema.Literal("UNASSIGNED", "RUNNING", "PAUSED", "STOPPED", "FAILED", "RESTARTING")

/** The connector kinds. */
export const ConnectorType = Schema.Literal("source", "sink")

/** A task id. */
export const TaskId = Schema.Struct({ connector: Schema.String, task: Schema.Number })

/** `GET /connectors/{name}`. */
export const ConnectorInfo = Schema.Struct({
  name: Schema.String,
  config: Schema.Record({ key: Schema.String, value: Schema.String }),
  tasks: Schema.Array(TaskId),
  type: ConnectorType
})

/** One task's status. */
export const TaskStatus = Schema.Struct({
  id: Schema.Number,
  state: State,
  worker_id: Schema.String,
  trace: Schema.optional(Schema.String)
})

/** `GET /connectors/{name}/status`. */
export const ConnectorStatus = Schema.Struct({
  name: Schema.String,
  connector: Schema.Struct({ state: State, worker_id: Schema.String, trace: Schema.optional(Schema.String) }),
  tasks: Schema.Array(TaskStatus),
  type: ConnectorType
})

/** `POST /connectors`. */
export const CreateConnector = Schema.Struct({
  name: Schema.String,
  config: Config,
  initial_state: Schema.optional(Schema.Literal("RUNNING", "PAUSED", "STOPPED"))
})

/** Offsets of a connector (KIP-875). */
export const ConnectorOffsets = Schema.Struct({
  offsets: Schema.Array(
    Schema.Struct({
      partition: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
      offset: Schema.NullOr(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
    })
  )
})

/** A message body (offsets changes). */
export const Message = Schema.Struct({ message: Schema.String })

/** A plugin in `GET /connector-plugins`. */
export const PluginInfo = Schema.Struct({
  class: Schema.String,
  type: Schema.Literal("source", "sink", "converter", "header_converter", "transformation", "predicate"),
  version: Schema.String
})

/** A config key in `GET /connector-plugins/{plugin}/config`. */
export const ConfigKeyInfo = Schema.Struct({
  name: Schema.String,
  type: Schema.String,
  required: Schema.Boolean,
  default_value: Schema.NullOr(Schema.String),
  importance: Schema.String,
  documentation: Schema.String,
  group: Schema.NullOr(Schema.String),
  width: Schema.String,
  display_name: Schema.String,
  dependents: Schema.Array(Schema.String),
  order: Schema.Number
})

/** `PUT /connector-plugins/{plugin}/config/validate`. */
export const ConfigInfos = Schema.Struct({
  name: Schema.String,
  error_count: Schema.Number,
  groups: Schema.Array(Schema.String),
  configs: Schema.Array(
    Schema.Struct({
      definition: ConfigKeyInfo,
      value: Schema.Struct({
        name: Schema.String,
        value: Schema.NullOr(Schema.String),
        recommended_values: Schema.Array(Schema.String),
        errors: Schema.Array(Schema.String),
        visible: Schema.Boolean
      })
    })
  )
})

/** A logger's level. */
export const LoggerLevel = Schema.Struct({
  level: Schema.String,
  last_modified: Schema.optional(Schema.NullOr(Schema.Number))
})

const name = HttpApiSchema.param("name", Schema.String)
const task = HttpApiSchema.param("task", Schema.NumberFromString)
const plugin = HttpApiSchema.param("plugin", Schema.String)
const logger = HttpApiSchema.param("logger", Schema.String)
const BooleanParam = Schema.optional(Schema.BooleanFromString)

/** `/` and `/health`. */
export const root = HttpApiGroup.make("root")
  .add(
    HttpApiEndpoint.get("serverInfo", "/").addSuccess(
      Schema.Struct({ version: Schema.String, commit: Schema.String, kafka_cluster_id: Schema.NullOr(Schema.String) })
    )
  )
  .add(
    HttpApiEndpoint.get("health", "/health").addSuccess(
      Schema.Struct({ status: Schema.String, message: Schema.String })
    )
  )

/** `/connectors/...`. */
export const connectors = HttpApiGroup.make("connectors")
  .add(
    HttpApiEndpoint.get("list", "/connectors")
      .setUrlParams(
        Schema.Struct({ expand: Schema.optional(Schema.Union(Schema.String, Schema.Array(Schema.String))) })
      )
      .addSuccess(
        Schema.Union(Schema.Array(Schema.String), Schema.Record({ key: Schema.String, value: Schema.Unknown }))
      )
  )
  .add(
    HttpApiEndpoint.post("create", "/connectors").setPayload(CreateConnector).addSuccess(ConnectorInfo, { status: 201 })
  )
  .add(HttpApiEndpoint.get("info")`/connectors/${name}`.addSuccess(ConnectorInfo))
  .add(HttpApiEndpoint.del("delete")`/connectors/${name}`.addSuccess(HttpApiSchema.NoContent))
  .add(
    HttpApiEndpoint.get("getConfig")`/connectors/${name}/config`.addSuccess(
      Schema.Record({ key: Schema.String, value: Schema.String })
    )
  )
  .add(HttpApiEndpoint.put("putConfig")`/connectors/${name}/config`.setPayload(Config).addSuccess(ConnectorInfo))
  .add(
    HttpApiEndpoint.patch("patchConfig")`/connectors/${name}/config`.setPayload(ConfigPatch).addSuccess(ConnectorInfo)
  )
  .add(HttpApiEndpoint.get("status")`/connectors/${name}/status`.addSuccess(ConnectorStatus))
  .add(
    HttpApiEndpoint.get("tasks")`/connectors/${name}/tasks`.addSuccess(
      Schema.Array(Schema.Struct({ id: TaskId, config: Schema.Record({ key: Schema.String, value: Schema.String }) }))
    )
  )
  .add(
    HttpApiEndpoint.post("putTasks")`/connectors/${name}/tasks`
      .setPayload(Schema.Array(Schema.Record({ key: Schema.String, value: Schema.String })))
      .addSuccess(HttpApiSchema.NoContent)
  )
  .add(HttpApiEndpoint.get("taskStatus")`/connectors/${name}/tasks/${task}/status`.addSuccess(TaskStatus))
  .add(
    HttpApiEndpoint.post("restart")`/connectors/${name}/restart`
      .setUrlParams(Schema.Struct({ includeTasks: BooleanParam, onlyFailed: BooleanParam }))
      .addSuccess(ConnectorStatus, { status: 202 })
  )
  .add(
    HttpApiEndpoint.post("restartTask")`/connectors/${name}/tasks/${task}/restart`.addSuccess(HttpApiSchema.NoContent)
  )
  .add(HttpApiEndpoint.put("pause")`/connectors/${name}/pause`.addSuccess(HttpApiSchema.Empty(202)))
  .add(HttpApiEndpoint.put("resume")`/connectors/${name}/resume`.addSuccess(HttpApiSchema.Empty(202)))
  .add(HttpApiEndpoint.put("stop")`/connectors/${name}/stop`.addSuccess(HttpApiSchema.NoContent))
  .add(
    HttpApiEndpoint.get("topics")`/connectors/${name}/topics`.addSuccess(
      Schema.Record({ key: Schema.String, value: Schema.Struct({ topics: Schema.Array(Schema.String) }) })
    )
  )
  .add(HttpApiEndpoint.put("resetTopics")`/connectors/${name}/topics/reset`.addSuccess(HttpApiSchema.Empty(202)))
  .add(HttpApiEndpoint.get("offsets")`/connectors/${name}/offsets`.addSuccess(ConnectorOffsets))
  .add(
    HttpApiEndpoint.patch("alterOffsets")`/connectors/${name}/offsets`.setPayload(ConnectorOffsets).addSuccess(Message)
  )
  .add(HttpApiEndpoint.del("resetOffsets")`/connectors/${name}/offsets`.addSuccess(Message))
  .addError(BadRequest)
  .addError(NotFound)
  .addError(Conflict)
  .addError(ServerError)

/** `/connector-plugins/...`. */
export const plugins = HttpApiGroup.make("plugins")
  .add(
    HttpApiEndpoint.get("list", "/connector-plugins")
      .setUrlParams(Schema.Struct({ connectorsOnly: BooleanParam }))
      .addSuccess(Schema.Array(PluginInfo))
  )
  .add(HttpApiEndpoint.get("config")`/connector-plugins/${plugin}/config`.addSuccess(Schema.Array(ConfigKeyInfo)))
  .add(
    HttpApiEndpoint.put("validate")`/connector-plugins/${plugin}/config/validate`
      .setPayload(Config)
      .addSuccess(ConfigInfos)
  )
  .addError(BadRequest)
  .addError(NotFound)

/** `/admin/loggers/...`. */
export const loggers = HttpApiGroup.make("loggers")
  .add(
    HttpApiEndpoint.get("list", "/admin/loggers").addSuccess(Schema.Record({ key: Schema.String, value: LoggerLevel }))
  )
  .add(HttpApiEndpoint.get("get")`/admin/loggers/${logger}`.addSuccess(LoggerLevel))
  .add(
    HttpApiEndpoint.put("set")`/admin/loggers/${logger}`
      .setUrlParams(Schema.Struct({ scope: Schema.optional(Schema.Literal("worker", "cluster")) }))
      .setPayload(Schema.Struct({ level: Schema.String }))
      .addSuccess(Schema.Array(Schema.String))
  )
  .addError(BadRequest)
  .addError(NotFound)

/** The whole API. */
export class ConnectApi extends HttpApi.make("connect").add(root).add(connectors).add(plugins).add(loggers) {}
