/**
 * Helpers of the HTTP connector tests: a node:http server on 127.0.0.1 (a fixture; the connectors use
 * @effect/platform), and reading or writing a topic of the test broker.
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as Broker from "@eddy/core/broker/Broker"
import * as BrokerConfig from "@eddy/core/broker/BrokerConfig"
import * as Consumer from "@eddy/core/client/Consumer"
import * as Producer from "@eddy/core/client/Producer"
import { Chunk, Effect, Layer, Logger, LogLevel, type Scope, Stream } from "effect"

/** A request the test server received, with its body. */
export interface Received {
  readonly method: string
  readonly url: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
}

/** What the test server answers. */
export interface Answer {
  readonly status: number
  readonly body?: string
  readonly headers?: Record<string, string>
}

/** Starts a test HTTP server on 127.0.0.1 for the scope; `handle` answers each request. */
export const testServer = (handle: (request: Received) => Answer | Promise<Answer>) =>
  Effect.acquireRelease(
    Effect.promise(
      () =>
        new Promise<http.Server>((resolve) => {
          const server = http.createServer((req, res) => {
            const chunks: Array<Buffer> = []
            req.on("data", (c: Buffer) => chunks.push(c))
            req.on("end", () => {
              const received = {
                method: req.method ?? "",
                url: req.url ?? "",
                headers: req.headers,
                body: Buffer.concat(chunks).toString("utf8")
              }
              Promise.resolve(handle(received)).then((a) => {
                res.writeHead(a.status, { "content-type": "application/json", ...a.headers })
                res.end(a.body ?? "")
              })
            })
          })
          server.listen(0, "127.0.0.1", () => resolve(server))
        })
    ),
    (server) =>
      Effect.promise(
        () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections()
            server.close(() => resolve())
          })
      )
  ).pipe(Effect.map((server) => ({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })))

/** Writes string records (key, value) to a topic. */
export const produce = (
  bootstrap: string,
  topic: string,
  records: ReadonlyArray<readonly [string | null, string | null]>
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const producer = yield* Producer.make({ "bootstrap.servers": bootstrap, "linger.ms": 1 })
      yield* producer.sendBatch(
        topic,
        records.map(([k, v]) => ({
          key: k === null ? null : Buffer.from(k),
          value: v === null ? null : Buffer.from(v)
        }))
      )
    })
  )

/** Reads `count` records of a topic from the start (keys, values and header names), failing after 20 s. */
export const readTopic = (bootstrap: string, topic: string, count: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const consumer = yield* Consumer.make({
        "bootstrap.servers": bootstrap,
        "group.id": `reader-${topic}-${Math.random()}`,
        "auto.offset.reset": "earliest",
        "fetch.max.wait.ms": 50
      })
      const records = yield* consumer.records(topic).pipe(Stream.take(count), Stream.runCollect)
      return Chunk.toReadonlyArray(records).map((r) => ({
        key: r.key === null ? null : Buffer.from(r.key).toString("utf8"),
        value: r.value === null ? null : Buffer.from(r.value).toString("utf8"),
        headers: Object.fromEntries(
          r.headers.map((h) => [h.key, h.value === null ? null : Buffer.from(h.value).toString("utf8")])
        )
      }))
    })
  ).pipe(Effect.timeout("20 seconds"), Effect.orDie)

/** Real-time pause for states reached over sockets. */
export const pause = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))

/** A free TCP port on 127.0.0.1 (listen on 0, read it, close). */
export const freePort = Effect.promise(
  () =>
    new Promise<number>((resolve) => {
      const s = http.createServer()
      s.listen(0, "127.0.0.1", () => {
        const port = (s.address() as AddressInfo).port
        s.close(() => resolve(port))
      })
    })
)

/** POSTs `body` and answers the status (0 when the connection failed). */
export const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  Effect.promise(() =>
    fetch(url, { method: "POST", body, headers, signal: AbortSignal.timeout(45_000) }).then(
      async (r) => {
        await r.arrayBuffer()
        return r.status
      },
      () => 0
    )
  )

/** A broker on a fixed port and log directory, living until `scope` closes (to stop and restart it). */
export const brokerAt = (port: number, dir: string, scope: Scope.Scope) =>
  Effect.gen(function* () {
    const config = yield* BrokerConfig.make({
      listeners: `PLAINTEXT://127.0.0.1:${port}`,
      "log.dirs": dir,
      "group.initial.rebalance.delay.ms": "0"
    })
    yield* Layer.buildWithScope(Broker.layer(config, { drainTimeoutMs: 500 }), scope).pipe(
      Logger.withMinimumLogLevel(LogLevel.Warning)
    )
  })
