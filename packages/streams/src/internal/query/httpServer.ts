/**
 * The optional interactive-query HTTP endpoint (`eddy.interactive.queries.http.port`), on @effect/platform's
 * HTTP server: `GET /stores/<store>/keys/<key>` answers from the local store when this instance runs the
 * key's active task and redirects (307) to the owning instance's `application.server` otherwise;
 * `GET /stores/<store>/all` and `GET /stores/<store>/range?from=&to=` gather the entries of every instance
 * hosting the store (each asked with `local=true`, which answers from the local tasks only);
 * `GET /stores/<store>/keys/<key>/windows?from=&to=` lists the key's windows starting in `[from, to]` (window
 * stores) or its sessions overlapping it (session stores), and `GET /stores/<store>/keys/<key>?asOf=<ms>`
 * reads a versioned store as of a time (both redirect to the owner as keys do);
 * `GET /metadata` lists the instances. Keys in paths are text, turned into the store's key type by
 * `parseKey` (identity by default: string keys); bodies are JSON.
 *
 * Invariants: a key is answered locally only from the task that owns its partition, never from a stale
 * copy; while the application is not RUNNING every route answers 503.
 */
import * as Http from "node:http"
import { FetchHttpClient, HttpClient, HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, type Scope } from "effect"
import type {
  KeyQueryMetadata,
  QueryableStore,
  QueryableStoreKind,
  QueryableStoreType,
  StreamsMetadata
} from "../../query/StreamsMetadata.js"
import { hostString, QueryableStoreTypes } from "../../query/StreamsMetadata.js"
import { StreamsFatalError } from "../../StreamsError.js"
import type { KeyValue, ReadOnlyKeyValueStore } from "../../state/KeyValueStore.js"

/** What the endpoint asks of the application. */
export interface QueryTarget {
  readonly running: Effect.Effect<boolean>
  readonly store: (name: string) => Effect.Effect<ReadOnlyKeyValueStore<unknown, unknown>, unknown>
  readonly metadataForKey: (store: string, key: unknown) => Effect.Effect<KeyQueryMetadata | undefined, unknown>
  readonly metadataForStore: (store: string) => Effect.Effect<ReadonlyArray<StreamsMetadata>>
  readonly allMetadata: Effect.Effect<ReadonlyArray<StreamsMetadata>>
  /** This instance's `application.server`. */
  readonly self: string
  readonly parseKey: (store: string, text: string) => unknown
  /** The kind of store `name` (and its window size, for window stores); undefined when there is none. */
  readonly storeInfo: (
    name: string
  ) => { readonly kind: "keyValue" | "window" | "session" | "versioned"; readonly windowSizeMs: number } | undefined
  /** A typed view of store `name` (as `KafkaStreams.store`). */
  readonly query: <Kind extends QueryableStoreKind>(
    name: string,
    type: QueryableStoreType<unknown, unknown, Kind>
  ) => Effect.Effect<QueryableStore<unknown, unknown, Kind>, unknown>
}

const json = (body: unknown, status = 200) => HttpServerResponse.unsafeJson(body, { status })
const failure = (status: number, error: string) => json({ error }, status)
const messageOf = (e: unknown) =>
  typeof e === "object" && e !== null && "message" in e ? String((e as { message: unknown }).message) : String(e)

const entries = (it: Iterable<KeyValue<unknown, unknown>>) => [...it].map(({ key, value }) => ({ key, value }))

/** The routes over `target`. */
export const router = (target: QueryTarget) => {
  const whenRunning = <E, R>(handler: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
    Effect.flatMap(target.running, (running) =>
      running ? handler : Effect.succeed(failure(503, "the application is not RUNNING (rebalancing?)"))
    )

  /** The `from`/`to`/`asOf`/`local` query parameters. */
  const searchParam = Effect.map(HttpServerRequest.ParsedSearchParams, (query) => (k: string) => {
    const v = query[k]
    return typeof v === "string" ? v : undefined
  })
  /** A millisecond time parameter: undefined when absent, null when not an integer. */
  const timeParam = (text: string | undefined): number | undefined | null =>
    text === undefined ? undefined : /^-?\d+$/.test(text) ? Number(text) : null

  /**
   * Answers a single-key read from the local store when it holds the key; else redirects (307) to the key's
   * owner (same path and query), or fails 503 when no other instance is known to own it.
   */
  const keyRead = (
    name: string,
    text: string,
    suffix: string,
    read: (key: unknown) => Effect.Effect<unknown, unknown>
  ) =>
    Effect.gen(function* () {
      const parsed = target.parseKey(name, text)
      const local = yield* Effect.either(read(parsed))
      if (local._tag === "Right") return { parsed, value: local.right } as const
      const meta = yield* target.metadataForKey(name, parsed)
      if (meta !== undefined && hostString(meta.activeHost) !== target.self) {
        const location = `http://${hostString(meta.activeHost)}/stores/${encodeURIComponent(name)}/keys/${encodeURIComponent(text)}${suffix}`
        return HttpServerResponse.empty({ status: 307, headers: { location } })
      }
      return failure(503, messageOf(local.left))
    })

  const getKey = Effect.gen(function* () {
    const { store, key } = yield* HttpRouter.params
    const name = store ?? ""
    const text = key ?? ""
    const param = yield* searchParam
    const asOf = timeParam(param("asOf"))
    const kind = target.storeInfo(name)?.kind
    const versioned = kind === "versioned"
    if (kind === "window" || kind === "session") {
      return failure(400, `${name} is a ${kind} store: read /stores/${name}/keys/<key>/windows`)
    }
    if (asOf === null) return failure(400, "asOf must be a time in milliseconds")
    if (asOf !== undefined && !versioned) return failure(400, `${name} is not a versioned store: asOf does not apply`)
    if (versioned) {
      const read = yield* keyRead(name, text, asOf === undefined ? "" : `?asOf=${asOf}`, (k) =>
        Effect.flatMap(target.query(name, QueryableStoreTypes.versionedKeyValueStore()), (s) =>
          Effect.try(() => (asOf === undefined ? s.get(k) : s.get(k, asOf)))
        )
      )
      if (!("parsed" in read)) return read
      const record = read.value as { value: unknown; timestamp: number; validTo?: number } | undefined
      return record === undefined
        ? failure(404, `no value for key ${text} in ${name}${asOf === undefined ? "" : ` as of ${asOf}`}`)
        : json({ key: read.parsed, ...record, host: target.self })
    }
    const read = yield* keyRead(name, text, "", (k) =>
      Effect.flatMap(target.store(name), (s) => Effect.try(() => s.get(k)))
    )
    if (!("parsed" in read)) return read
    return read.value === undefined
      ? failure(404, `no value for key ${text} in ${name}`)
      : json({ key: read.parsed, value: read.value, host: target.self })
  })

  /** A key's windows (window store) or sessions (session store) in `[from, to]`, as `{ start, end, value }`. */
  const getWindows = Effect.gen(function* () {
    const { store, key } = yield* HttpRouter.params
    const name = store ?? ""
    const text = key ?? ""
    const param = yield* searchParam
    const from = timeParam(param("from"))
    const to = timeParam(param("to"))
    if (from === null || to === null) return failure(400, "from and to must be times in milliseconds")
    const info = target.storeInfo(name)
    if (info === undefined || (info.kind !== "window" && info.kind !== "session")) {
      return failure(400, `${name} is not a window or session store`)
    }
    const lo = from ?? 0
    const hi = to ?? Number.MAX_SAFE_INTEGER
    const search = new URLSearchParams()
    if (from !== undefined) search.set("from", String(from))
    if (to !== undefined) search.set("to", String(to))
    const suffix = `/windows${search.size > 0 ? `?${search}` : ""}`
    const read = yield* keyRead(name, text, suffix, (k) =>
      info.kind === "window"
        ? Effect.flatMap(target.query(name, QueryableStoreTypes.windowStore()), (s) =>
            Effect.try(() =>
              [...s.fetch(k, lo, hi)].map((e) => ({ start: e.key, end: e.key + info.windowSizeMs, value: e.value }))
            )
          )
        : Effect.flatMap(target.query(name, QueryableStoreTypes.sessionStore()), (s) =>
            Effect.try(() => [...s.findSessions(k, lo, hi)].map((e) => ({ ...e.key.window, value: e.value })))
          )
    )
    if (!("parsed" in read)) return read
    return json({ key: read.parsed, windows: read.value, host: target.self })
  })

  /** Local entries of `store` (from..to), plus, unless `local=true`, every other host's. */
  const scan = (bounds: boolean) =>
    Effect.gen(function* () {
      const { store } = yield* HttpRouter.params
      const name = store ?? ""
      const query = yield* HttpServerRequest.ParsedSearchParams
      const one = (k: string) => {
        const v = query[k]
        return typeof v === "string" ? v : undefined
      }
      const from = bounds && one("from") !== undefined ? target.parseKey(name, one("from")!) : undefined
      const to = bounds && one("to") !== undefined ? target.parseKey(name, one("to")!) : undefined
      const local = yield* Effect.either(
        Effect.flatMap(target.store(name), (s) => Effect.try(() => entries(bounds ? s.range(from, to) : s.all())))
      )
      if (local._tag === "Left") return failure(503, messageOf(local.left))
      if (one("local") === "true") return json(local.right)
      const client = yield* HttpClient.HttpClient
      const others = (yield* target.metadataForStore(name))
        .map((m) => hostString(m.hostInfo))
        .filter((h) => h !== target.self)
      const search = new URLSearchParams({ local: "true" })
      if (bounds && one("from") !== undefined) search.set("from", one("from")!)
      if (bounds && one("to") !== undefined) search.set("to", one("to")!)
      const path = `/stores/${encodeURIComponent(name)}/${bounds ? "range" : "all"}?${search}`
      const remote = yield* Effect.forEach(
        others,
        (host) =>
          client.get(`http://${host}${path}`).pipe(
            Effect.flatMap((r) => (r.status === 200 ? r.json : Effect.fail(new Error(`${host} answered ${r.status}`)))),
            Effect.map((body) => body as Array<{ key: unknown; value: unknown }>)
          ),
        { concurrency: "unbounded" }
      ).pipe(Effect.either)
      if (remote._tag === "Left") return failure(503, messageOf(remote.left))
      return json([...local.right, ...remote.right.flat()])
    }).pipe(Effect.provide(FetchHttpClient.layer))

  return HttpRouter.empty.pipe(
    HttpRouter.get("/stores/:store/keys/:key", whenRunning(getKey)),
    HttpRouter.get("/stores/:store/keys/:key/windows", whenRunning(getWindows)),
    HttpRouter.get("/stores/:store/all", whenRunning(scan(false))),
    HttpRouter.get("/stores/:store/range", whenRunning(scan(true))),
    HttpRouter.get(
      "/metadata",
      Effect.map(target.allMetadata, (all) => json(all))
    )
  )
}

/** Serves the endpoint on `host:port` until the scope closes. */
export const serve = (
  target: QueryTarget,
  host: string,
  port: number
): Effect.Effect<void, StreamsFatalError, Scope.Scope> =>
  Effect.gen(function* () {
    const server = yield* NodeHttpServer.make(() => Http.createServer(), { host, port })
    yield* server.serve(router(target))
    yield* Effect.logInfo(`interactive queries on http://${host}:${port}/stores/<store>/keys/<key>`)
  }).pipe(
    Effect.mapError(
      (cause) => new StreamsFatalError({ message: `Cannot serve interactive queries on ${host}:${port}`, cause })
    )
  )
