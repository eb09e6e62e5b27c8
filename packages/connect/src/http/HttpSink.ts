/**
 * HttpSink: sends records to an HTTP endpoint (in the style of the common open-source HTTP sink and
 * Confluent's). The method and URL are templated with `${topic}`, `${key}` and `${partition}`; records are
 * sent one per request, or batched per target (count, bytes and `batch.linger.ms`) as a JSON array or
 * with a prefix, separator and suffix. Answers in `success.status.codes` succeed, in `drop.status.codes`
 * drop the batch (logged), in `retry.on.status.codes` (and transport errors and timeouts) are retried with
 * exponential backoff up to `max.retries`; any other answer, or exhausted retries, reports each record of
 * the batch to the errant-record reporter (the DLQ) or, without one, fails the task.
 *
 * Invariants: records of one target are sent in the order `put` received them, one request at a time;
 * `flush` returns only when everything buffered before it was sent (or reported), so committed offsets
 * never pass an unsent record; a linger timer only asks for a commit, it never sends by itself.
 */
import { type HttpClient, HttpClientRequest } from "@effect/platform"
import { Clock, Duration, Effect, Exit, Schedule, Schema, Scope } from "effect"
import type { SinkRecord } from "../data/ConnectRecord.js"
import * as ConfigDef from "../plugin/ConfigDef.js"
import { ConnectError } from "../plugin/ConnectError.js"
import * as Plugin from "../plugin/Connector.js"
import * as Auth from "./Auth.js"
import * as Body from "./Body.js"
import * as Client from "./Client.js"
import * as StatusCodes from "./StatusCodes.js"
import * as Template from "./Template.js"

const AUTH = "Authentication"
const BATCH = "Batching"
const RETRY = "Retries"

/** The connector's config definition. */
export const config = ConfigDef.make({
  "http.url": ConfigDef.string({
    importance: "HIGH",
    documentation: `The URL to send records to; \${topic}, \${key} and \${partition} are replaced (URL-encoded)`
  }),
  "http.method": ConfigDef.oneOf(["POST", "PUT", "PATCH", "DELETE"] as const, {
    default: "POST",
    documentation: "The HTTP method"
  }),
  "http.headers.content.type": ConfigDef.string({
    default: null,
    documentation: "The Content-Type header (application/json for JSON batches, text/plain otherwise)"
  }),
  "http.headers.additional": ConfigDef.string({
    default: "",
    documentation: "Extra headers, comma-separated `Name: value` pairs"
  }),
  "http.timeout": ConfigDef.int({ default: 30, min: 1, documentation: "Seconds to wait for an answer" }),
  "http.authorization.type": ConfigDef.oneOf(["none", "static", "basic", "oauth2"] as const, {
    default: "none",
    group: AUTH,
    documentation: "How requests authenticate: none, a static Authorization header, HTTP Basic or OAuth2"
  }),
  "http.headers.authorization": ConfigDef.password({
    default: null,
    group: AUTH,
    documentation: "The Authorization header value with http.authorization.type=static"
  }),
  "http.auth.user": ConfigDef.string({ default: null, group: AUTH, documentation: "The Basic auth user" }),
  "http.auth.password": ConfigDef.password({ default: null, group: AUTH, documentation: "The Basic auth password" }),
  "oauth2.access.token.url": ConfigDef.string({
    default: null,
    group: AUTH,
    documentation: "The OAuth2 token endpoint (client credentials grant)"
  }),
  "oauth2.client.id": ConfigDef.string({ default: null, group: AUTH, documentation: "The OAuth2 client id" }),
  "oauth2.client.secret": ConfigDef.password({ default: null, group: AUTH, documentation: "The OAuth2 secret" }),
  "oauth2.client.authorization.mode": ConfigDef.oneOf(["header", "url"] as const, {
    default: "header",
    group: AUTH,
    documentation: "header: client id and secret as HTTP Basic; url: in the token request's form"
  }),
  "oauth2.client.scope": ConfigDef.string({ default: null, group: AUTH, documentation: "The OAuth2 scope" }),
  "oauth2.response.token.property": ConfigDef.string({
    default: "access_token",
    group: AUTH,
    documentation: "The token's property in the token endpoint's JSON answer"
  }),
  "batching.enabled": ConfigDef.boolean({
    default: false,
    group: BATCH,
    documentation: "Send records in batches (otherwise one request per record)"
  }),
  "batch.max.size": ConfigDef.int({ default: 500, min: 1, group: BATCH, documentation: "Records per batch" }),
  "batch.max.bytes": ConfigDef.int({
    default: 1_048_576,
    min: 1,
    group: BATCH,
    documentation: "Body bytes per batch (a single larger record is sent alone)"
  }),
  "batch.linger.ms": ConfigDef.long({
    default: 1000,
    min: 0,
    group: BATCH,
    documentation: "The longest a partial batch waits before a flush is requested"
  }),
  "batch.format": ConfigDef.oneOf(["json", "string"] as const, {
    default: "json",
    group: BATCH,
    documentation:
      "json: a JSON array of the values; string: batch.prefix, values joined by batch.separator, batch.suffix"
  }),
  "batch.prefix": ConfigDef.string({ default: "", group: BATCH, documentation: "Text before a string batch" }),
  "batch.separator": ConfigDef.string({ default: "\n", group: BATCH, documentation: "Text between values" }),
  "batch.suffix": ConfigDef.string({ default: "", group: BATCH, documentation: "Text after a string batch" }),
  "max.retries": ConfigDef.int({ default: 5, min: 0, group: RETRY, documentation: "Retries of a failed request" }),
  "retry.backoff.ms": ConfigDef.long({
    default: 3000,
    min: 0,
    group: RETRY,
    documentation: "The first retry's delay; each next one doubles"
  }),
  "retry.backoff.max.ms": ConfigDef.long({
    default: 30_000,
    min: 0,
    group: RETRY,
    documentation: "The longest delay between retries"
  }),
  "retry.on.status.codes": ConfigDef.string({
    default: "429,500-599",
    group: RETRY,
    documentation: "Status codes and ranges (500-599, 500-, 500..599) that are retried"
  }),
  "success.status.codes": ConfigDef.string({
    default: "200-299",
    documentation: "Status codes and ranges that mean the records were accepted"
  }),
  "drop.status.codes": ConfigDef.string({
    default: "",
    documentation: "Status codes and ranges that drop the records (logged, not retried, not reported)"
  }),
  "behavior.on.null.values": ConfigDef.oneOf(["ignore", "send", "fail"] as const, {
    default: "ignore",
    documentation: "Tombstones (null values): skip them, send them as `null`, or fail the task"
  })
})

/** The typed config. */
export type Config = ConfigDef.TypeOf<typeof config.keys>

/** The parsed settings a task runs with. */
export interface Settings {
  readonly config: Config
  readonly auth: Auth.AuthSettings
  readonly success: StatusCodes.StatusCodes
  readonly drop: StatusCodes.StatusCodes
  readonly retry: StatusCodes.StatusCodes
  readonly headers: ReadonlyArray<readonly [string, string]>
}

const required = (c: Config, key: keyof Config, when: string) => {
  const v = c[key]
  if (v === null || v === "") throw new Error(`${String(key)} is required with ${when}`)
  return v as string
}

const authOf = (c: Config): Auth.AuthSettings => {
  switch (c["http.authorization.type"]) {
    case "none":
      return { type: "none" }
    case "static":
      return { type: "static", header: required(c, "http.headers.authorization", "http.authorization.type=static") }
    case "basic":
      return {
        type: "basic",
        user: required(c, "http.auth.user", "basic auth"),
        password: c["http.auth.password"] ?? ""
      }
    case "oauth2":
      return {
        type: "oauth2",
        tokenUrl: required(c, "oauth2.access.token.url", "oauth2"),
        clientId: required(c, "oauth2.client.id", "oauth2"),
        clientSecret: required(c, "oauth2.client.secret", "oauth2"),
        scope: c["oauth2.client.scope"],
        mode: c["oauth2.client.authorization.mode"],
        tokenProperty: c["oauth2.response.token.property"]
      }
  }
}

/** Parses and checks a task's properties. */
export const parseSettings = (props: Plugin.Props): Effect.Effect<Settings, ConnectError> =>
  Effect.flatMap(ConfigDef.parseProps(config, props), (c) =>
    Effect.try({
      try: () => ({
        config: c,
        auth: authOf(c),
        success: StatusCodes.parse(c["success.status.codes"]),
        drop: StatusCodes.parse(c["drop.status.codes"]),
        retry: StatusCodes.parse(c["retry.on.status.codes"]),
        headers: Template.headers(c["http.headers.additional"])
      }),
      catch: (e) => new ConnectError({ message: e instanceof Error ? e.message : String(e) })
    })
  )

/** A request that may succeed when tried again. */
export class RetriableHttpError extends Schema.TaggedError<RetriableHttpError>()("RetriableHttpError", {
  message: Schema.String,
  status: Schema.optional(Schema.Number),
  cause: Schema.optional(Schema.Unknown)
}) {}

/** A request the target refused for good. */
export class HttpError extends Schema.TaggedError<HttpError>()("HttpError", {
  message: Schema.String,
  status: Schema.optional(Schema.Number),
  cause: Schema.optional(Schema.Unknown)
}) {}

/** The target of a record: its rendered URL. */
export const urlOf = (template: string, record: SinkRecord): string =>
  Template.render(
    template,
    (name) =>
      name === "topic"
        ? record.topic
        : name === "key"
          ? record.key === null
            ? ""
            : Body.text(record.key)
          : name === "partition"
            ? String(record.kafkaPartition)
            : undefined,
    encodeURIComponent
  )

/** The body of a batch of record values. */
export const bodyOf = (c: Config, values: ReadonlyArray<unknown>): string => {
  if (!c["batching.enabled"]) return Body.text(values[0])
  return c["batch.format"] === "json"
    ? `[${values.map(Body.element).join(",")}]`
    : c["batch.prefix"] + values.map(Body.text).join(c["batch.separator"]) + c["batch.suffix"]
}

/** The retry schedule: exponential from `retry.backoff.ms`, capped at `retry.backoff.max.ms`, `max.retries` times. */
export const retrySchedule = (c: Config) =>
  Schedule.exponential(Duration.millis(c["retry.backoff.ms"])).pipe(
    Schedule.modifyDelay((d) => Duration.min(d, Duration.millis(c["retry.backoff.max.ms"]))),
    Schedule.intersect(Schedule.recurs(c["max.retries"]))
  )

/** Sends one batch (all records share a URL), retrying per the settings. */
export const send = (
  s: Settings,
  client: HttpClient.HttpClient,
  auth: Auth.Auth,
  url: string,
  body: string
): Effect.Effect<void, HttpError | RetriableHttpError> => {
  const c = s.config
  const contentType =
    c["http.headers.content.type"] ??
    (c["batching.enabled"] && c["batch.format"] === "json" ? "application/json" : "text/plain")
  let request = HttpClientRequest.make(c["http.method"])(url).pipe(HttpClientRequest.bodyText(body, contentType))
  for (const [name, value] of s.headers) request = HttpClientRequest.setHeader(request, name, value)
  const attempt = Auth.execute(client, auth, request).pipe(
    Effect.timeoutFail({
      duration: Duration.seconds(c["http.timeout"]),
      onTimeout: () => new RetriableHttpError({ message: `No answer from ${url} within ${c["http.timeout"]} s` })
    }),
    Effect.catchTags({
      RequestError: (e) => Effect.fail(new RetriableHttpError({ message: `Request to ${url} failed`, cause: e })),
      ResponseError: (e) => Effect.fail(new RetriableHttpError({ message: `Answer of ${url} failed`, cause: e })),
      AuthError: (e) => Effect.fail(new RetriableHttpError({ message: e.message, cause: e }))
    }),
    Effect.flatMap((response) =>
      Effect.gen(function* () {
        const status = response.status
        if (s.success.has(status)) return
        const text = yield* Effect.orElseSucceed(response.text, () => "")
        if (s.drop.has(status))
          return yield* Effect.logWarning(`HttpSink: ${url} answered ${status}; the records are dropped`)
        const message = `${c["http.method"]} ${url} answered ${status}: ${text.slice(0, 500)}`
        return yield* s.retry.has(status)
          ? Effect.fail(new RetriableHttpError({ message, status }))
          : Effect.fail(new HttpError({ message, status }))
      })
    )
  )
  return Effect.retry(attempt, {
    schedule: retrySchedule(c),
    while: (e) => e._tag === "RetriableHttpError"
  })
}

interface Batch {
  readonly url: string
  readonly records: Array<SinkRecord>
  readonly values: Array<unknown>
  bytes: number
  readonly since: number
}

const encoder = new TextEncoder()

const makeTask = Effect.sync(() => {
  let settings: Settings | null = null
  let client: HttpClient.HttpClient | null = null
  let auth: Auth.Auth | null = null
  let context: Plugin.SinkTaskContext | null = null
  let scope: Scope.CloseableScope | null = null
  // batches per target URL, in arrival order of their first record
  const buffered = new Map<string, Batch>()
  // a delivery that failed without an errant-record reporter: the next put fails the task with it
  let fatal: ConnectError | null = null

  const deliver = (batch: Batch) =>
    Effect.gen(function* () {
      if (batch.records.length === 0) return buffered.delete(batch.url)
      const result = yield* Effect.either(
        send(settings!, client!, auth!, batch.url, bodyOf(settings!.config, batch.values))
      )
      const reporter = context!.errantRecordReporter
      if (result._tag === "Left" && reporter === null) {
        fatal = new ConnectError({
          message: `HttpSink could not deliver records: ${result.left.message}`,
          cause: result.left
        })
        return yield* fatal
      }
      buffered.delete(batch.url)
      if (result._tag === "Right" || reporter === null) return
      const error = result.left
      yield* Effect.logWarning(`HttpSink: reporting ${batch.records.length} records: ${error.message}`)
      for (const r of batch.records) yield* reporter(r, error)
    })

  const add = (record: SinkRecord, now: number) =>
    Effect.gen(function* () {
      const c = settings!.config
      if (record.value === null || record.value === undefined) {
        const behavior = c["behavior.on.null.values"]
        if (behavior === "ignore") return
        if (behavior === "fail")
          return yield* new ConnectError({
            message: `HttpSink got a null value at ${record.topic}-${record.kafkaPartition}@${record.kafkaOffset} and behavior.on.null.values=fail`
          })
      }
      const url = urlOf(c["http.url"], record)
      const size = encoder.encode(Body.text(record.value)).length + 1
      const current = buffered.get(url)
      if (current && current.records.length > 0 && current.bytes + size > c["batch.max.bytes"]) yield* deliver(current)
      const batch = buffered.get(url) ?? { url, records: [], values: [], bytes: 0, since: now }
      buffered.set(url, batch)
      batch.records.push(record)
      batch.values.push(record.value)
      batch.bytes += size
      if (!c["batching.enabled"] || batch.records.length >= c["batch.max.size"] || batch.bytes >= c["batch.max.bytes"])
        yield* deliver(batch)
    })

  const flushAll = Effect.suspend(() => Effect.forEach([...buffered.values()], deliver, { discard: true }))

  const lingerTimer = (c: Config, ctx: Plugin.SinkTaskContext) => {
    const linger = Math.max(c["batch.linger.ms"], 10)
    return Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      for (const b of buffered.values()) if (now - b.since >= c["batch.linger.ms"]) return yield* ctx.requestCommit
    }).pipe(Effect.repeat(Schedule.spaced(Duration.millis(Math.min(linger, 1000)))))
  }

  const task: Plugin.SinkTask = {
    start: (props, ctx) =>
      Effect.gen(function* () {
        settings = yield* parseSettings(props)
        context = ctx
        scope = yield* Scope.make()
        client = yield* Client.make(scope)
        auth = yield* Auth.make(settings.auth, client)
        if (settings.config["batching.enabled"]) yield* Effect.forkIn(lingerTimer(settings.config, ctx), scope)
      }),
    put: (records) =>
      Effect.gen(function* () {
        if (fatal !== null) return yield* fatal
        const now = yield* Clock.currentTimeMillis
        for (const r of records) yield* add(r, now)
      }),
    flush: () => flushAll,
    stop: Effect.suspend(() => {
      const s = scope
      scope = null
      buffered.clear()
      return s ? Scope.close(s, Exit.void) : Effect.void
    })
  }
  return task
})

const makeConnector = Effect.sync((): Plugin.Connector => {
  let props: Plugin.Props = {}
  return {
    start: (p) =>
      Effect.map(parseSettings(p), () => {
        props = p
      }),
    taskConfigs: (maxTasks) => Effect.succeed(Array.from({ length: Math.max(1, maxTasks) }, () => props)),
    stop: Effect.void
  }
})

/** The HttpSink plugin. */
export const plugin: Plugin.SinkPlugin = Plugin.sink({
  className: "io.eddy.connect.http.HttpSinkConnector",
  aliases: ["HttpSink"],
  version: "0.1.0",
  config,
  connector: makeConnector,
  task: makeTask
})
