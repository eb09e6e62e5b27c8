/**
 * `eddy connect`: runs a standalone Connect worker (`standalone worker.properties conn.properties|conn.json
 * ...`, as `connect-standalone.sh`) or a distributed one (`distributed worker.properties`, as
 * `connect-distributed.sh`) and manages connectors of a running worker through its REST API
 * (`list`, `status`, `create`, `pause`, `resume`, `stop`, `restart`, `delete`, `plugins`).
 */
import * as Properties from "@eddy/connect/runtime/Properties"
import { Args, Command, Options } from "@effect/cli"
import { FetchHttpClient, FileSystem, HttpClient, HttpClientRequest } from "@effect/platform"
import { Console, Effect, Logger, LogLevel, Schedule } from "effect"
import { UsageError } from "./common.js"

const url = Options.text("url").pipe(
  Options.withDescription("The worker's REST address"),
  Options.withDefault("http://localhost:8083")
)
const connectorName = Args.text({ name: "connector" }).pipe(Args.withDescription("The connector name"))

/** Calls the worker's REST API; prints the JSON answer, fails with Connect's error message. */
const rest = (base: string, method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown) =>
  Effect.gen(function* () {
    const client = (yield* HttpClient.HttpClient).pipe(
      HttpClient.retryTransient({ schedule: Schedule.exponential("200 millis"), times: 3 })
    )
    let request = HttpClientRequest.make(method)(base.replace(/\/$/, "") + path)
    if (body !== undefined) request = HttpClientRequest.bodyUnsafeJson(request, body)
    const response = yield* client.execute(request)
    const text = yield* response.text
    const json = text === "" ? null : (JSON.parse(text) as { message?: string })
    if (response.status >= 400) return yield* new UsageError({ message: json?.message ?? `HTTP ${response.status}` })
    return json
  }).pipe(
    Effect.scoped,
    Effect.catchTags({
      RequestError: (e) => new UsageError({ message: `Cannot reach the Connect worker at ${base}: ${e.message}` }),
      ResponseError: (e) => new UsageError({ message: e.message })
    }),
    Effect.provide(FetchHttpClient.layer)
  )

const print = (json: unknown) => (json === null ? Effect.void : Console.log(JSON.stringify(json, null, 2)))

const standalone = Command.make(
  "standalone",
  {
    worker: Args.file({ name: "worker.properties", exists: "yes" }),
    connectors: Args.file({ name: "connector-file", exists: "yes" }).pipe(Args.repeated)
  },
  ({ worker, connectors }) =>
    // loaded on demand: the worker runtime is large and the REST commands do not need it
    Effect.promise(() => import("@eddy/connect/runtime/Standalone")).pipe(
      Effect.flatMap((Standalone) => Standalone.run(worker, connectors)),
      Logger.withMinimumLogLevel(LogLevel.Info)
    )
).pipe(Command.withDescription("Run a standalone worker with the connectors of the given .properties or .json files"))

const distributed = Command.make(
  "distributed",
  { worker: Args.file({ name: "worker.properties", exists: "yes" }) },
  ({ worker }) =>
    Effect.promise(() => import("@eddy/connect/runtime/Distributed")).pipe(
      Effect.flatMap((Distributed) => Distributed.run(worker)),
      Logger.withMinimumLogLevel(LogLevel.Info)
    )
).pipe(
  Command.withDescription(
    "Run a distributed worker: it joins group.id, keeps configs, offsets and statuses in topics; connectors come through REST"
  )
)

const list = Command.make("list", { url }, ({ url }) => Effect.flatMap(rest(url, "GET", "/connectors"), print)).pipe(
  Command.withDescription("List connectors")
)

const status = Command.make("status", { url, connector: connectorName }, ({ url, connector }) =>
  Effect.flatMap(rest(url, "GET", `/connectors/${encodeURIComponent(connector)}/status`), print)
).pipe(Command.withDescription("Show a connector's and its tasks' states"))

const create = Command.make(
  "create",
  { url, file: Args.file({ name: "connector-file", exists: "yes" }) },
  ({ url, file }) =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const text = yield* Effect.mapError(fs.readFileString(file), (e) => new UsageError({ message: e.message }))
      const { name, config } = yield* Effect.try({
        try: () => Properties.parseConnectorFile(text, file.endsWith(".json")),
        catch: (e) => new UsageError({ message: e instanceof Error ? e.message : String(e) })
      })
      yield* print(yield* rest(url, "POST", "/connectors", { name, config }))
    })
).pipe(Command.withDescription("Create a connector from a .properties or .json file"))

const simple = (name: string, method: "PUT" | "POST" | "DELETE", suffix: string, description: string) =>
  Command.make(name, { url, connector: connectorName }, ({ url, connector }) =>
    Effect.flatMap(rest(url, method, `/connectors/${encodeURIComponent(connector)}${suffix}`), print)
  ).pipe(Command.withDescription(description))

const restart = Command.make(
  "restart",
  {
    url,
    connector: connectorName,
    includeTasks: Options.boolean("include-tasks").pipe(Options.withDescription("Restart the tasks too")),
    onlyFailed: Options.boolean("only-failed").pipe(Options.withDescription("Restart only failed instances"))
  },
  ({ url, connector, includeTasks, onlyFailed }) =>
    Effect.flatMap(
      rest(
        url,
        "POST",
        `/connectors/${encodeURIComponent(connector)}/restart?includeTasks=${includeTasks}&onlyFailed=${onlyFailed}`
      ),
      print
    )
).pipe(Command.withDescription("Restart a connector (and optionally its tasks)"))

const plugins = Command.make("plugins", { url }, ({ url }) =>
  Effect.flatMap(rest(url, "GET", "/connector-plugins?connectorsOnly=false"), print)
).pipe(Command.withDescription("List installed plugins"))

/** The subcommands of `connect`, by name (the help lists them). */
export const connectSubcommands = {
  standalone,
  distributed,
  list,
  status,
  create,
  pause: simple("pause", "PUT", "/pause", "Pause a connector and its tasks"),
  resume: simple("resume", "PUT", "/resume", "Resume a paused or stopped connector"),
  stop: simple("stop", "PUT", "/stop", "Stop a connector (its tasks shut down; needed before offset changes)"),
  restart,
  delete: simple("delete", "DELETE", "", "Delete a connector"),
  plugins
} as const

/** `eddy connect`. */
export const connect = Command.make("connect").pipe(
  Command.withDescription("Kafka Connect: run a standalone or distributed worker, manage connectors over REST"),
  Command.withSubcommands([
    connectSubcommands.standalone,
    connectSubcommands.distributed,
    connectSubcommands.list,
    connectSubcommands.status,
    connectSubcommands.create,
    connectSubcommands.pause,
    connectSubcommands.resume,
    connectSubcommands.stop,
    connectSubcommands.restart,
    connectSubcommands.delete,
    connectSubcommands.plugins
  ])
)
