/**
 * HttpSource: polls an HTTP endpoint (in the style of the common community HTTP source connector). Each
 * request's URL, params, headers and body are templated with the last offset (`${offset.<field>}`); the
 * answer's status is vetted (`http.response.policy.codes.process` / `.skip`, others retried with backoff
 * or failing the task); the records are the items of the JSON array at `http.response.list.pointer`, each
 * with a key, value, timestamp and offset read through JSON pointers; they are sorted by offset and only
 * those after the last offset are emitted, so overlapping pages are deduplicated. The next request waits
 * `http.timer.catchup.interval.millis` after a poll that found records, `http.timer.interval.millis`
 * otherwise. Source partition `{url}` (the URL template), offset = the last record's offset fields.
 *
 * Invariants: emitted offsets strictly increase (in the order of the offset fields); the offset used for
 * requests is the last emitted one, and a restarted task starts from the last one the worker committed
 * (records acknowledged by the broker), so a restart repeats nothing that was committed and skips nothing.
 */
import { type HttpClient, HttpClientRequest } from "@effect/platform"
import { Clock, Duration, Effect, Exit, Schedule, Schema, Scope } from "effect"
import { type SourceRecord, sourceRecord } from "../data/ConnectRecord.js"
import * as CS from "../data/ConnectSchema.js"
import * as ConfigDef from "../plugin/ConfigDef.js"
import { ConnectError } from "../plugin/ConnectError.js"
import * as Plugin from "../plugin/Connector.js"
import * as Auth from "./Auth.js"
import * as Client from "./Client.js"
import * as JsonPointer from "./JsonPointer.js"
import * as StatusCodes from "./StatusCodes.js"
import * as Template from "./Template.js"

const REQUEST = "Request"
const RESPONSE = "Response"
const AUTH = "Authentication"

/** The connector's config definition. */
export const config = ConfigDef.make({
  "http.request.url": ConfigDef.string({
    importance: "HIGH",
    group: REQUEST,
    documentation: `The URL to poll; \${offset.<field>} is replaced by the last offset's field (URL-encoded)`
  }),
  "http.request.method": ConfigDef.oneOf(["GET", "POST", "PUT", "PATCH"] as const, {
    default: "GET",
    group: REQUEST,
    documentation: "The HTTP method"
  }),
  "http.request.headers": ConfigDef.string({
    default: "",
    group: REQUEST,
    documentation: "Headers, comma-separated `Name: value` pairs (templated)"
  }),
  "http.request.params": ConfigDef.string({
    default: "",
    group: REQUEST,
    documentation: "Query parameters, `&`-separated `name=value` pairs (templated)"
  }),
  "http.request.body": ConfigDef.string({ default: "", group: REQUEST, documentation: "The body (templated)" }),
  "http.offset.initial": ConfigDef.string({
    default: "",
    documentation: "The offset before the first record, comma-separated `field=value` pairs"
  }),
  "http.timer.interval.millis": ConfigDef.long({
    default: 60_000,
    min: 0,
    documentation: "The wait before the next request after a poll that found no new records"
  }),
  "http.timer.catchup.interval.millis": ConfigDef.long({
    default: 30_000,
    min: 0,
    documentation: "The wait before the next request after a poll that found new records"
  }),
  "http.response.policy.codes.process": ConfigDef.string({
    default: "200..299",
    group: RESPONSE,
    documentation: "Status codes and ranges whose answers are parsed for records"
  }),
  "http.response.policy.codes.skip": ConfigDef.string({
    default: "300..399",
    group: RESPONSE,
    documentation: "Status codes and ranges whose answers are ignored (no records)"
  }),
  "http.response.list.pointer": ConfigDef.string({
    default: "/",
    group: RESPONSE,
    documentation: "JSON pointer to the array of records in the answer"
  }),
  "http.response.record.pointer": ConfigDef.string({
    default: "/",
    group: RESPONSE,
    documentation: "JSON pointer to a record's value within its item"
  }),
  "http.response.record.key.pointer": ConfigDef.string({
    default: null,
    group: RESPONSE,
    documentation: "JSON pointer to a record's key within its item (no key when absent)"
  }),
  "http.response.record.offset.pointer": ConfigDef.string({
    default: "",
    group: RESPONSE,
    documentation: "A record's offset: comma-separated `field=/pointer` pairs, compared in this order"
  }),
  "http.response.record.timestamp.pointer": ConfigDef.string({
    default: null,
    group: RESPONSE,
    documentation: "JSON pointer to a record's timestamp (epoch milliseconds or an ISO-8601 string)"
  }),
  "kafka.topic": ConfigDef.string({ importance: "HIGH", documentation: "The topic to write records to" }),
  "http.client.read.timeout.millis": ConfigDef.long({
    default: 2000,
    min: 1,
    documentation: "The longest wait for an answer"
  }),
  "http.client.max.retries": ConfigDef.int({
    default: 5,
    min: 0,
    documentation: "Retries of a request that failed to connect, timed out or answered 429 or 5xx"
  }),
  "http.client.retry.backoff.millis": ConfigDef.long({
    default: 500,
    min: 0,
    documentation: "The first retry's delay; each next one doubles"
  }),
  "http.client.retry.backoff.max.millis": ConfigDef.long({
    default: 30_000,
    min: 0,
    documentation: "The longest delay between retries"
  }),
  "http.auth.type": ConfigDef.oneOf(["None", "Basic", "Bearer", "OAuth2"] as const, {
    default: "None",
    group: AUTH,
    documentation: "None, Basic, Bearer or OAuth2 (client credentials)"
  }),
  "http.auth.user": ConfigDef.string({ default: null, group: AUTH, documentation: "The Basic auth user" }),
  "http.auth.password": ConfigDef.password({ default: null, group: AUTH, documentation: "The Basic auth password" }),
  "http.auth.bearer.token": ConfigDef.password({ default: null, group: AUTH, documentation: "The bearer token" }),
  "http.auth.oauth2.token.url": ConfigDef.string({
    default: null,
    group: AUTH,
    documentation: "The OAuth2 token endpoint"
  }),
  "http.auth.oauth2.client.id": ConfigDef.string({ default: null, group: AUTH, documentation: "OAuth2 client id" }),
  "http.auth.oauth2.client.secret": ConfigDef.password({
    default: null,
    group: AUTH,
    documentation: "OAuth2 client secret"
  }),
  "http.auth.oauth2.scope": ConfigDef.string({ default: null, group: AUTH, documentation: "OAuth2 scope" }),
  "http.auth.oauth2.client.authorization.mode": ConfigDef.oneOf(["header", "url"] as const, {
    default: "header",
    group: AUTH,
    documentation: "header: client id and secret as HTTP Basic; url: in the token request's form"
  }),
  "http.auth.oauth2.token.property": ConfigDef.string({
    default: "access_token",
    group: AUTH,
    documentation: "The token's property in the token endpoint's JSON answer"
  })
})

/** The typed config. */
export type Config = ConfigDef.TypeOf<typeof config.keys>

/** Parsed settings of a task. */
export interface Settings {
  readonly config: Config
  readonly auth: Auth.AuthSettings
  readonly process: StatusCodes.StatusCodes
  readonly skip: StatusCodes.StatusCodes
  readonly offsetPointers: ReadonlyArray<readonly [string, ReadonlyArray<string>]>
  readonly initialOffset: Plugin.SourceMap
}

const need = (c: Config, key: keyof Config) => {
  const v = c[key]
  if (v === null || v === "") throw new Error(`${String(key)} is required with http.auth.type=${c["http.auth.type"]}`)
  return v as string
}

const authOf = (c: Config): Auth.AuthSettings => {
  switch (c["http.auth.type"]) {
    case "None":
      return { type: "none" }
    case "Basic":
      return { type: "basic", user: need(c, "http.auth.user"), password: c["http.auth.password"] ?? "" }
    case "Bearer":
      return { type: "bearer", token: need(c, "http.auth.bearer.token") }
    case "OAuth2":
      return {
        type: "oauth2",
        tokenUrl: need(c, "http.auth.oauth2.token.url"),
        clientId: need(c, "http.auth.oauth2.client.id"),
        clientSecret: need(c, "http.auth.oauth2.client.secret"),
        scope: c["http.auth.oauth2.scope"],
        mode: c["http.auth.oauth2.client.authorization.mode"],
        tokenProperty: c["http.auth.oauth2.token.property"]
      }
  }
}

/** Parses and checks a task's properties. */
export const parseSettings = (props: Plugin.Props): Effect.Effect<Settings, ConnectError> =>
  Effect.flatMap(ConfigDef.parseProps(config, props), (c) =>
    Effect.try({
      try: (): Settings => {
        for (const k of ["http.response.list.pointer", "http.response.record.pointer"] as const) JsonPointer.parse(c[k])
        return {
          config: c,
          auth: authOf(c),
          process: StatusCodes.parse(c["http.response.policy.codes.process"]),
          skip: StatusCodes.parse(c["http.response.policy.codes.skip"]),
          offsetPointers: Template.pairs(c["http.response.record.offset.pointer"], ",").map(
            ([field, pointer]) => [field, JsonPointer.parse(pointer)] as const
          ),
          initialOffset: Object.fromEntries(Template.pairs(c["http.offset.initial"], ","))
        }
      },
      catch: (e) => new ConnectError({ message: e instanceof Error ? e.message : String(e) })
    })
  )

/** Compares two offset values: numbers (and numeric strings) by value, other values as strings. */
const compareValues = (a: unknown, b: unknown): number => {
  const na = typeof a === "number" ? a : typeof a === "string" && /^-?\d+(\.\d+)?$/.test(a) ? Number(a) : Number.NaN
  const nb = typeof b === "number" ? b : typeof b === "string" && /^-?\d+(\.\d+)?$/.test(b) ? Number(b) : Number.NaN
  if (!Number.isNaN(na) && !Number.isNaN(nb)) return na - nb
  const sa = String(a)
  const sb = String(b)
  return sa < sb ? -1 : sa > sb ? 1 : 0
}

/** Compares two offsets field by field, in the order of `fields`; fields absent from either are skipped. */
export const compareOffsets = (fields: ReadonlyArray<string>, a: Plugin.SourceMap, b: Plugin.SourceMap): number => {
  for (const f of fields) {
    if (a[f] === undefined || a[f] === null || b[f] === undefined || b[f] === null) continue
    const c = compareValues(a[f], b[f])
    if (c !== 0) return c
  }
  return 0
}

/** An item of an answer, read through the pointers. */
export interface Item {
  readonly key: string | null
  readonly value: string
  readonly timestamp: number | null
  readonly offset: Plugin.SourceMap
}

const asText = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v))

const timestampOf = (v: unknown): number | null => {
  if (typeof v === "number" && Number.isFinite(v)) return v
  if (typeof v === "string") {
    const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v)
    return Number.isNaN(t) ? null : t
  }
  return null
}

/** The items of an answer's JSON document. */
export const itemsOf = (s: Settings, document: unknown): ReadonlyArray<Item> => {
  const c = s.config
  const list = JsonPointer.get(document, c["http.response.list.pointer"])
  const items = Array.isArray(list) ? list : list === undefined || list === null ? [] : [list]
  const keyPointer = c["http.response.record.key.pointer"]
  const tsPointer = c["http.response.record.timestamp.pointer"]
  return items.map((item): Item => {
    const key = keyPointer === null ? undefined : JsonPointer.get(item, keyPointer)
    const offset: Record<string, unknown> = { ...s.initialOffset }
    for (const [field, pointer] of s.offsetPointers) {
      const v = JsonPointer.get(item, pointer)
      if (v !== undefined) offset[field] = v
    }
    return {
      key: key === undefined || key === null ? null : asText(key),
      value: asText(JsonPointer.get(item, c["http.response.record.pointer"]) ?? null),
      timestamp: tsPointer === null ? null : timestampOf(JsonPointer.get(item, tsPointer)),
      offset
    }
  })
}

/** The items after `last`, sorted by offset, each offset once (the first item with it wins). */
export const freshItems = (
  s: Settings,
  items: ReadonlyArray<Item>,
  last: Plugin.SourceMap | null
): ReadonlyArray<Item> => {
  const fields = s.offsetPointers.map(([f]) => f)
  if (fields.length === 0) return items
  const sorted = items
    .map((item, i) => ({ item, i }))
    .sort((a, b) => compareOffsets(fields, a.item.offset, b.item.offset) || a.i - b.i)
    .map(({ item }) => item)
  const out: Array<Item> = []
  let prev = last
  for (const item of sorted) {
    if (prev !== null && compareOffsets(fields, item.offset, prev) <= 0) continue
    out.push(item)
    prev = item.offset
  }
  return out
}

/** A request that may succeed when tried again. */
export class RetriableHttpError extends Schema.TaggedError<RetriableHttpError>()("RetriableHttpError", {
  message: Schema.String,
  cause: Schema.optional(Schema.Unknown)
}) {}

/** The request of the current offset. */
export const requestOf = (c: Config, offset: Plugin.SourceMap): HttpClientRequest.HttpClientRequest => {
  const lookup = Template.offsetLookup(offset)
  const method = c["http.request.method"]
  let request = HttpClientRequest.make(method)(Template.render(c["http.request.url"], lookup, encodeURIComponent))
  const params = Template.pairs(Template.render(c["http.request.params"], lookup), "&")
  if (params.length > 0) request = HttpClientRequest.appendUrlParams(request, params)
  for (const [name, value] of Template.headers(c["http.request.headers"]))
    request = HttpClientRequest.setHeader(request, name, Template.render(value, lookup))
  if (c["http.request.body"] !== "" && method !== "GET")
    request = HttpClientRequest.bodyText(request, Template.render(c["http.request.body"], lookup), "application/json")
  return request
}

const fetch = (s: Settings, client: HttpClient.HttpClient, auth: Auth.Auth, offset: Plugin.SourceMap) => {
  const c = s.config
  const request = requestOf(c, offset)
  const attempt = Auth.execute(client, auth, request).pipe(
    Effect.timeoutFail({
      duration: Duration.millis(c["http.client.read.timeout.millis"]),
      onTimeout: () => new RetriableHttpError({ message: `No answer from ${request.url}` })
    }),
    Effect.catchTags({
      RequestError: (e) =>
        Effect.fail(new RetriableHttpError({ message: `Request to ${request.url} failed`, cause: e })),
      ResponseError: (e) =>
        Effect.fail(new RetriableHttpError({ message: `Answer of ${request.url} failed`, cause: e })),
      AuthError: (e) => Effect.fail(new RetriableHttpError({ message: e.message, cause: e }))
    }),
    Effect.flatMap((response) =>
      Effect.gen(function* () {
        const status = response.status
        if (s.skip.has(status)) return null
        const text = yield* Effect.mapError(
          response.text,
          (e) => new RetriableHttpError({ message: `Reading the answer of ${request.url} failed`, cause: e })
        )
        if (s.process.has(status))
          return yield* Effect.try({
            try: () => (text.trim() === "" ? null : (JSON.parse(text) as unknown)),
            catch: (e) => new ConnectError({ message: `The answer of ${request.url} is not JSON`, cause: e })
          })
        const message = `${request.method} ${request.url} answered ${status}: ${text.slice(0, 500)}`
        return yield* status === 429 || status >= 500
          ? Effect.fail(new RetriableHttpError({ message }))
          : Effect.fail(new ConnectError({ message }))
      })
    )
  )
  const schedule = Schedule.exponential(Duration.millis(c["http.client.retry.backoff.millis"])).pipe(
    Schedule.modifyDelay((d) => Duration.min(d, Duration.millis(c["http.client.retry.backoff.max.millis"]))),
    Schedule.intersect(Schedule.recurs(c["http.client.max.retries"]))
  )
  return Effect.retry(attempt, { schedule, while: (e) => e._tag === "RetriableHttpError" }).pipe(
    Effect.mapError((e) =>
      e._tag === "RetriableHttpError" ? new ConnectError({ message: `${e.message} (retries exhausted)`, cause: e }) : e
    )
  )
}

const makeTask = Effect.sync(() => {
  let settings: Settings | null = null
  let client: HttpClient.HttpClient | null = null
  let auth: Auth.Auth | null = null
  let scope: Scope.CloseableScope | null = null
  let partition: Plugin.SourceMap = {}
  // the offset of the last emitted record, or the stored or initial one (null: no offset yet)
  let last: Plugin.SourceMap | null = null
  let nextAt = 0

  const poll = Effect.gen(function* () {
    const s = settings!
    const now = yield* Clock.currentTimeMillis
    if (now < nextAt) yield* Effect.sleep(Duration.millis(nextAt - now))
    const document = yield* fetch(s, client!, auth!, last ?? s.initialOffset)
    const fresh = document === null ? [] : freshItems(s, itemsOf(s, document), last)
    const after = yield* Clock.currentTimeMillis
    nextAt =
      after +
      (fresh.length > 0 ? s.config["http.timer.catchup.interval.millis"] : s.config["http.timer.interval.millis"])
    if (fresh.length === 0) return null
    last = fresh[fresh.length - 1]!.offset
    const topic = s.config["kafka.topic"]
    return fresh.map(
      (item): SourceRecord =>
        sourceRecord({
          topic,
          sourcePartition: partition,
          sourceOffset: item.offset,
          keySchema: item.key === null ? null : CS.OPTIONAL_STRING,
          key: item.key,
          valueSchema: CS.STRING,
          value: item.value,
          timestamp: item.timestamp
        })
    )
  })

  const task: Plugin.SourceTask = {
    start: (props, context) =>
      Effect.gen(function* () {
        settings = yield* parseSettings(props)
        partition = { url: settings.config["http.request.url"] }
        last = (yield* context.offsetStorageReader.offset(partition)) ?? null
        if (last === null && Object.keys(settings.initialOffset).length > 0) last = settings.initialOffset
        scope = yield* Scope.make()
        client = yield* Client.make(scope)
        auth = yield* Auth.make(settings.auth, client)
        nextAt = 0
      }),
    poll,
    stop: Effect.suspend(() => {
      const s = scope
      scope = null
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
    taskConfigs: () => Effect.succeed([props]),
    stop: Effect.void
  }
})

/** The HttpSource plugin (one task). */
export const plugin: Plugin.SourcePlugin = Plugin.source({
  className: "io.eddy.connect.http.HttpSourceConnector",
  aliases: ["HttpSource"],
  version: "0.1.0",
  config,
  connector: makeConnector,
  task: makeTask,
  exactlyOnceSupport: () => "SUPPORTED"
})
