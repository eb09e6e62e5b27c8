/**
 * The handlers of Connect's REST API over a `Worker`, and the server layer listening on the worker's
 * `listeners` (default `http://:8083`). Worker errors become Connect's `{error_code, message}` bodies;
 * request decoding errors and unknown paths too.
 */

import { createServer } from "node:http"
import { HttpApiBuilder, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import type * as LoggerLevels from "../runtime/LoggerLevels.js"
import { Worker, type WorkerError } from "../runtime/Worker.js"
import { ConnectApi } from "./ConnectApi.js"

/** The Eddy Connect version reported by `GET /`. */
export const VERSION = "0.1.0"

/**
 * An error as Connect's response. The error schemas (BadRequest, NotFound, ...) share one encoded shape, so
 * HttpApi cannot tell their statuses apart when encoding; handlers answer errors as responses instead.
 */
const errorResponse = (status: number, message: string) =>
  HttpServerResponse.unsafeJson({ error_code: status, message }, { status })

const toHttp = <A, R>(effect: Effect.Effect<A, { readonly status: number; readonly message: string }, R>) =>
  Effect.catchAll(effect, (e) => Effect.succeed(errorResponse(e.status, e.message)))

const expandOf = (expand: string | ReadonlyArray<string> | undefined) =>
  new Set((typeof expand === "string" ? [expand] : (expand ?? [])).flatMap((e) => e.split(",")).map((e) => e.trim()))

const connectorsGroup = HttpApiBuilder.group(ConnectApi, "connectors", (handlers) =>
  Effect.gen(function* () {
    const worker = yield* Worker
    const w = <A>(effect: Effect.Effect<A, WorkerError>) => toHttp(effect)
    return handlers
      .handle("list", ({ urlParams }) =>
        w(
          Effect.gen(function* () {
            const names = yield* worker.connectors
            const expand = expandOf(urlParams.expand)
            if (!expand.has("status") && !expand.has("info")) return names
            const out: Record<string, unknown> = {}
            for (const n of names) {
              const entry: Record<string, unknown> = {}
              if (expand.has("status")) entry.status = yield* worker.status(n)
              if (expand.has("info")) entry.info = yield* worker.info(n)
              out[n] = entry
            }
            return out
          })
        )
      )
      .handle("create", ({ payload }) =>
        w(
          worker.create(
            payload.name,
            payload.config,
            payload.initial_state === undefined
              ? undefined
              : payload.initial_state === "RUNNING"
                ? "STARTED"
                : payload.initial_state
          )
        )
      )
      .handle("info", ({ path }) => w(worker.info(path.name)))
      .handle("delete", ({ path }) => w(worker.delete(path.name)))
      .handle("getConfig", ({ path }) => w(Effect.map(worker.info(path.name), (i) => i.config)))
      .handle("putConfig", ({ path, payload }) =>
        w(
          Effect.flatMap(worker.putConfig(path.name, payload), ({ created, info }) =>
            HttpServerResponse.json(info, { status: created ? 201 : 200 }).pipe(Effect.orDie)
          )
        )
      )
      .handle("patchConfig", ({ path, payload }) =>
        w(
          Effect.gen(function* () {
            const current = (yield* worker.info(path.name)).config
            const next: Record<string, string> = { ...current }
            for (const [k, v] of Object.entries(payload)) {
              if (v === null) delete next[k]
              else next[k] = v
            }
            return (yield* worker.putConfig(path.name, next)).info
          })
        )
      )
      .handle("status", ({ path }) => w(worker.status(path.name)))
      .handle("tasks", ({ path }) => w(worker.taskConfigs(path.name)))
      .handle("putTasks", ({ path, payload }) =>
        worker.putTaskConfigs
          ? w(worker.putTaskConfigs(path.name, payload))
          : Effect.succeed(errorResponse(404, "HTTP 404 Not Found"))
      )
      .handle("taskStatus", ({ path }) => w(worker.taskStatus(path.name, path.task)))
      .handle("restart", ({ path, urlParams }) =>
        w(
          Effect.gen(function* () {
            const includeTasks = urlParams.includeTasks ?? false
            const onlyFailed = urlParams.onlyFailed ?? false
            yield* worker.restart(path.name, includeTasks, onlyFailed)
            if (!includeTasks && !onlyFailed) return HttpServerResponse.empty({ status: 204 })
            return yield* worker.status(path.name)
          })
        )
      )
      .handle("restartTask", ({ path }) => w(worker.restartTask(path.name, path.task)))
      .handle("pause", ({ path }) => w(worker.setTarget(path.name, "PAUSED")))
      .handle("resume", ({ path }) => w(worker.setTarget(path.name, "STARTED")))
      .handle("stop", ({ path }) => w(worker.setTarget(path.name, "STOPPED")))
      .handle("topics", ({ path }) =>
        w(Effect.map(worker.topics(path.name), (topics) => ({ [path.name]: { topics } })))
      )
      .handle("resetTopics", ({ path }) => w(worker.resetTopics(path.name)))
      .handle("offsets", ({ path }) => w(Effect.map(worker.offsets(path.name), (offsets) => ({ offsets }))))
      .handle("alterOffsets", ({ path, payload }) =>
        w(Effect.map(worker.alterOffsets(path.name, payload.offsets), (message) => ({ message })))
      )
      .handle("resetOffsets", ({ path }) => w(Effect.map(worker.resetOffsets(path.name), (message) => ({ message }))))
  })
)

const pluginsGroup = HttpApiBuilder.group(ConnectApi, "plugins", (handlers) =>
  Effect.gen(function* () {
    const worker = yield* Worker
    return handlers
      .handle("list", ({ urlParams }) => Effect.succeed(worker.plugins(urlParams.connectorsOnly ?? true)))
      .handle("config", ({ path }) => toHttp(worker.pluginConfig(path.plugin)))
      .handle("validate", ({ path, payload }) => toHttp(worker.validate(path.plugin, payload)))
  })
)

const rootGroup = (clusterId: Effect.Effect<string | null>) =>
  HttpApiBuilder.group(ConnectApi, "root", (handlers) =>
    handlers
      .handle("serverInfo", () =>
        Effect.map(clusterId, (kafka_cluster_id) => ({ version: VERSION, commit: "eddy", kafka_cluster_id }))
      )
      .handle("health", () =>
        Effect.succeed({ status: "healthy", message: "Worker has completed startup and is ready to handle requests." })
      )
  )

const loggersGroup = (levels: LoggerLevels.LoggerLevels) =>
  HttpApiBuilder.group(ConnectApi, "loggers", (handlers) =>
    handlers
      .handle("list", () => Effect.succeed(levels.all()))
      .handle("get", ({ path }) => {
        const level = levels.get(path.logger)
        return level ? Effect.succeed(level) : Effect.succeed(errorResponse(404, `Logger ${path.logger} not found.`))
      })
      .handle("set", ({ path, payload }) =>
        toHttp(Effect.mapError(levels.set(path.logger, payload.level), (e) => ({ status: 400, message: e.message })))
      )
  )

/**
 * Rewrites the framework's own errors (undecodable requests, unknown paths) into Connect's shape. It runs
 * as an HttpApi middleware, before responses are written.
 */
const connectErrors = HttpApiBuilder.middleware((app) =>
  Effect.catchAll(app, (e) => {
    const tag = (e as { _tag?: string })._tag
    if (tag === "RouteNotFound") return Effect.succeed(errorResponse(404, "HTTP 404 Not Found"))
    if (tag === "HttpApiDecodeError") return Effect.succeed(errorResponse(400, (e as { message: string }).message))
    return Effect.fail(e)
  })
)

/** The API's handlers over the `Worker` in context. */
export const handlers = (options: {
  readonly levels: LoggerLevels.LoggerLevels
  readonly clusterId: Effect.Effect<string | null>
}) =>
  HttpApiBuilder.api(ConnectApi).pipe(
    Layer.provide([
      connectorsGroup,
      pluginsGroup,
      rootGroup(options.clusterId),
      loggersGroup(options.levels),
      connectErrors
    ])
  )

/** Host and port of a `listeners` value (`http://:8083`, `http://host:port`; the first listener). */
export const parseListener = (listeners: string | undefined): { readonly host: string; readonly port: number } => {
  const first = (listeners ?? "http://:8083").split(",")[0]!.trim()
  const m = /^https?:\/\/([^:/]*)(?::(\d+))?\/?$/.exec(first)
  if (!m) return { host: "0.0.0.0", port: 8083 }
  return { host: m[1] === "" ? "0.0.0.0" : m[1]!, port: m[2] === undefined ? 8083 : Number(m[2]) }
}

/** Serves the API on `listeners`; the layer gives the bound `HttpServer` (its address). */
export const layer = (
  listeners: string | undefined,
  options: { readonly levels: LoggerLevels.LoggerLevels; readonly clusterId: Effect.Effect<string | null> }
) => {
  const { host, port } = parseListener(listeners)
  return HttpApiBuilder.serve().pipe(
    Layer.provide(handlers(options)),
    HttpServer.withLogAddress,
    Layer.provideMerge(NodeHttpServer.layer(createServer, { host, port }))
  )
}
