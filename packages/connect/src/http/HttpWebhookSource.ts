/**
 * HttpWebhookSource: an embedded HTTP(S) server per task (one task per listen address in
 * `http.server.addresses`) turns each accepted request on `http.server.path` into one record whose value
 * is the body. The answer is 200 only once the record's `commitRecord` reports it acknowledged by the
 * broker; 429 when the bounded queue of waiting requests is full, 503 when no acknowledgement came within
 * `http.server.ack.timeout.ms` (the broker is unavailable or slow) or the task is stopping; 401 for a bad
 * HMAC signature, 404 for another path, 405 for a verb not allowed. Delivery is at least once: a client
 * retrying after a 503 may duplicate a record that was already being produced (a request still queued
 * when it times out is withdrawn, so only records already handed to the producer can repeat).
 *
 * Invariants: every accepted request is answered exactly once; a request is answered 200 only after its
 * record was acknowledged; a withdrawn request is never polled; stopping answers every waiting request 503.
 */
import { createServer as createHttpServer, type Server } from "node:http"
import { createServer as createHttpsServer } from "node:https"
import { FileSystem, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Deferred, Duration, Effect, Exit, Option, Queue, Scope } from "effect"
import { type SourceRecord, sourceRecord } from "../data/ConnectRecord.js"
import * as CS from "../data/ConnectSchema.js"
import * as ConfigDef from "../plugin/ConfigDef.js"
import { ConnectError } from "../plugin/ConnectError.js"
import * as Plugin from "../plugin/Connector.js"
import * as Hmac from "./Hmac.js"

const SERVER = "Server"
const SECURITY = "Security"

/** The property naming a task's own listen address (set by the connector). */
export const TASK_ADDRESS = "http.server.task.address"

/** The connector's config definition. */
export const config = ConfigDef.make({
  "http.server.addresses": ConfigDef.list({
    default: "0.0.0.0:8080",
    importance: "HIGH",
    group: SERVER,
    documentation: "Listen addresses, `host:port`, comma-separated; one task each"
  }),
  "http.server.path": ConfigDef.string({ default: "/post", group: SERVER, documentation: "The path accepted" }),
  "http.server.allowed.verbs": ConfigDef.list({
    default: "POST",
    group: SERVER,
    documentation: "The HTTP methods accepted"
  }),
  "http.server.queue.max.requests": ConfigDef.int({
    default: 1000,
    min: 1,
    group: SERVER,
    documentation: "Requests waiting to be polled; beyond, requests are answered 429"
  }),
  "http.server.ack.timeout.ms": ConfigDef.long({
    default: 10_000,
    min: 1,
    group: SERVER,
    documentation: "The longest a request waits for its record's acknowledgement before a 503"
  }),
  "http.server.poll.max.records": ConfigDef.int({
    default: 500,
    min: 1,
    group: SERVER,
    documentation: "Records per poll"
  }),
  "http.server.key.header": ConfigDef.string({
    default: null,
    group: SERVER,
    documentation: "A request header whose value becomes the record key (no key when absent)"
  }),
  "http.server.tls.cert.file": ConfigDef.string({
    default: null,
    group: SECURITY,
    documentation: "PEM certificate file; with the key file the server speaks HTTPS"
  }),
  "http.server.tls.key.file": ConfigDef.string({ default: null, group: SECURITY, documentation: "PEM key file" }),
  "http.server.hmac.secret": ConfigDef.password({
    default: null,
    group: SECURITY,
    documentation: "A shared secret; when set, requests must carry the HMAC of their body"
  }),
  "http.server.hmac.header": ConfigDef.string({
    default: "X-Signature-256",
    group: SECURITY,
    documentation: "The header carrying the hex HMAC (optionally prefixed `<algorithm>=`)"
  }),
  "http.server.hmac.algorithm": ConfigDef.oneOf(Hmac.algorithms, {
    default: "sha256",
    group: SECURITY,
    documentation: "The HMAC algorithm"
  }),
  "kafka.topic": ConfigDef.string({ importance: "HIGH", documentation: "The topic to write records to" })
})

/** The typed config. */
export type Config = ConfigDef.TypeOf<typeof config.keys>

const parseConfig = (props: Plugin.Props) => ConfigDef.parseProps(config, props)

/** A listen address `host:port` split; fails on a malformed one. */
export const parseAddress = (address: string): Effect.Effect<{ host: string; port: number }, ConnectError> => {
  const i = address.lastIndexOf(":")
  const port = Number(address.slice(i + 1))
  return i < 0 || !Number.isInteger(port) || port < 0 || port > 65535
    ? Effect.fail(new ConnectError({ message: `Invalid listen address ${address}: expected host:port` }))
    : Effect.succeed({ host: address.slice(0, i).replace(/^\[|\]$/g, "") || "0.0.0.0", port })
}

/** A request waiting for its record to be acknowledged. */
interface Waiting {
  readonly key: string | null
  readonly value: string
  readonly acked: Deferred.Deferred<boolean>
  /** Taken by a poll: it can no longer be withdrawn. */
  taken: boolean
  withdrawn: boolean
}

const decoder = new TextDecoder()

const answer = (status: number, message: string, headers: Record<string, string> = {}) =>
  HttpServerResponse.unsafeJson({ status, message }, { status, headers })

const makeHandler = (c: Config, queue: Queue.Queue<Waiting>, waiting: Set<Waiting>, stopping: () => boolean) => {
  const verbs = new Set(c["http.server.allowed.verbs"].map((v) => v.toUpperCase()))
  const keyHeader = c["http.server.key.header"]?.toLowerCase() ?? null
  const hmacHeader = c["http.server.hmac.header"].toLowerCase()
  const timeout = Duration.millis(c["http.server.ack.timeout.ms"])
  return Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (new URL(request.url, "http://localhost").pathname !== c["http.server.path"]) return answer(404, "Not found")
    if (!verbs.has(request.method))
      return answer(405, `Method ${request.method} not allowed`, { allow: [...verbs].join(", ") })
    const body = new Uint8Array(yield* request.arrayBuffer)
    const secret = c["http.server.hmac.secret"]
    if (secret !== null) {
      const signature = request.headers[hmacHeader]
      if (signature === undefined || !Hmac.verify(c["http.server.hmac.algorithm"], secret, body, signature))
        return answer(401, "Invalid signature")
    }
    if (stopping()) return answer(503, "Stopping", { "retry-after": "1" })
    const entry: Waiting = {
      key: keyHeader === null ? null : (request.headers[keyHeader] ?? null),
      value: decoder.decode(body),
      acked: yield* Deferred.make<boolean>(),
      taken: false,
      withdrawn: false
    }
    waiting.add(entry)
    if (!(yield* Queue.offer(queue, entry))) {
      waiting.delete(entry)
      return answer(429, "Too many requests waiting", { "retry-after": "1" })
    }
    // the server runs handlers uninterruptibly: the wait must be interruptible for the timeout to win
    const acked = yield* Effect.interruptible(Deferred.await(entry.acked)).pipe(Effect.timeout(timeout), Effect.option)
    waiting.delete(entry)
    if (Option.isSome(acked) && acked.value) return answer(200, "Acknowledged")
    if (!entry.taken) entry.withdrawn = true
    return answer(503, "The record was not acknowledged in time", { "retry-after": "1" })
  }).pipe(Effect.catchAll(() => Effect.succeed(answer(400, "Could not read the request"))))
}

const makeServer = (c: Config, address: string, scope: Scope.Scope) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const { host, port } = yield* parseAddress(address)
    const certFile = c["http.server.tls.cert.file"]
    const keyFile = c["http.server.tls.key.file"]
    if ((certFile === null) !== (keyFile === null))
      return yield* new ConnectError({
        message: "TLS needs both http.server.tls.cert.file and http.server.tls.key.file"
      })
    const tls =
      certFile !== null && keyFile !== null
        ? { cert: yield* fs.readFileString(certFile), key: yield* fs.readFileString(keyFile) }
        : null
    const evaluate = (): Server => (tls ? (createHttpsServer(tls) as unknown as Server) : createHttpServer())
    return yield* Scope.extend(NodeHttpServer.make(evaluate, { host, port }), scope)
  }).pipe(
    Effect.mapError((e) =>
      e instanceof ConnectError ? e : new ConnectError({ message: `Could not listen on ${address}`, cause: e })
    )
  )

const makeTask = Effect.sync(() => {
  let c: Config | null = null
  let scope: Scope.CloseableScope | null = null
  let queue: Queue.Queue<Waiting> | null = null
  const waiting = new Set<Waiting>()
  const polled = new Map<SourceRecord, Waiting>()
  let stopping = false

  const task: Plugin.SourceTask = {
    start: (props) =>
      Effect.gen(function* () {
        c = yield* parseConfig(props)
        stopping = false
        const address = props[TASK_ADDRESS] ?? c["http.server.addresses"][0]
        if (address === undefined) return yield* new ConnectError({ message: "No http.server.addresses" })
        queue = yield* Queue.dropping<Waiting>(c["http.server.queue.max.requests"])
        scope = yield* Scope.make()
        const server = yield* makeServer(c, address, scope)
        yield* Scope.extend(server.serve(makeHandler(c, queue, waiting, () => stopping)), scope)
        yield* Effect.logInfo(`HttpWebhookSource listening on ${address}${c["http.server.path"]}`)
      }),
    poll: Effect.gen(function* () {
      const taken = yield* Queue.takeBetween(queue!, 1, c!["http.server.poll.max.records"]).pipe(
        Effect.timeout(Duration.seconds(1)),
        Effect.option
      )
      if (Option.isNone(taken)) return null
      const topic = c!["kafka.topic"]
      const records: Array<SourceRecord> = []
      for (const entry of taken.value) {
        if (entry.withdrawn) continue
        entry.taken = true
        const record = sourceRecord({
          topic,
          keySchema: entry.key === null ? null : CS.OPTIONAL_STRING,
          key: entry.key,
          valueSchema: CS.STRING,
          value: entry.value
        })
        polled.set(record, entry)
        records.push(record)
      }
      return records
    }),
    commitRecord: (record) =>
      Effect.suspend(() => {
        const entry = polled.get(record)
        polled.delete(record)
        return entry ? Deferred.succeed(entry.acked, true) : Effect.void
      }),
    stop: Effect.suspend(() => {
      stopping = true
      const s = scope
      scope = null
      const pending = [...waiting]
      waiting.clear()
      polled.clear()
      return Effect.forEach(pending, (w) => Deferred.succeed(w.acked, false), { discard: true }).pipe(
        Effect.zipRight(s ? Scope.close(s, Exit.void) : Effect.void),
        Effect.zipRight(queue ? Queue.shutdown(queue) : Effect.void)
      )
    })
  }
  return task
})

const makeConnector = Effect.sync((): Plugin.Connector => {
  let props: Plugin.Props = {}
  let addresses: ReadonlyArray<string> = []
  return {
    start: (p) =>
      Effect.gen(function* () {
        const c = yield* parseConfig(p)
        yield* Effect.forEach(c["http.server.addresses"], parseAddress)
        props = p
        addresses = c["http.server.addresses"]
      }),
    taskConfigs: (maxTasks) =>
      addresses.length > maxTasks
        ? Effect.fail(
            new ConnectError({
              message: `HttpWebhookSource needs one task per address: ${addresses.length} addresses, tasks.max=${maxTasks}`
            })
          )
        : Effect.succeed(addresses.map((a) => ({ ...props, [TASK_ADDRESS]: a }))),
    stop: Effect.void
  }
})

/** The HttpWebhookSource plugin. */
export const plugin: Plugin.SourcePlugin = Plugin.source({
  className: "io.eddy.connect.http.HttpWebhookSourceConnector",
  aliases: ["HttpWebhookSource"],
  version: "0.1.0",
  config,
  connector: makeConnector,
  task: makeTask,
  exactlyOnceSupport: () => "UNSUPPORTED"
})
