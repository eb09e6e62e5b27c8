/**
 * The optional interactive-query HTTP endpoint (`eddy.interactive.queries.http.port`), on @effect/platform's
 * HTTP server: `GET /stores/<store>/keys/<key>` answers from the local store when this instance runs the
 * key's active task and redirects (307) to the owning instance's `application.server` otherwise;
 * `GET /stores/<store>/all` and `GET /stores/<store>/range?from=&to=` gather the entries of every instance
 * hosting the store (each asked with `local=true`, which answers from the local tasks only);
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
import type { KeyQueryMetadata, StreamsMetadata } from "../../query/StreamsMetadata.js"
import { hostString } from "../../query/StreamsMetadata.js"
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

  const getKey = Effect.gen(function* () {
    const { store, key } = yield* HttpRouter.params
    const name = store ?? ""
    const text = key ?? ""
    const parsed = target.parseKey(name, text)
    const meta = yield* target.metadataForKey(name, parsed)
    const local = yield* Effect.either(Effect.flatMap(target.store(name), (s) => Effect.try(() => s.get(parsed))))
    if (local._tag === "Right") {
      return local.right === undefined
        ? failure(404, `no value for key ${text} in ${name}`)
        : json({ key: parsed, value: local.right, host: target.self })
    }
    if (meta !== undefined && hostString(meta.activeHost) !== target.self) {
      const location = `http://${hostString(meta.activeHost)}/stores/${encodeURIComponent(name)}/keys/${encodeURIComponent(text)}`
      return HttpServerResponse.empty({ status: 307, headers: { location } })
    }
    return failure(503, messageOf(local.left))
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
