import { execFileSync } from "node:child_process"
import * as https from "node:https"
import * as path from "node:path"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Scope } from "effect"
import * as Hmac from "../../src/http/Hmac.js"
import * as HttpWebhookSource from "../../src/http/HttpWebhookSource.js"
import { eventually, makeWorker, startEddy, tempDir, workerProps } from "../util.js"
import { brokerAt, freePort, pause, post, produce, readTopic } from "./util.js"

const webhook = (port: number, extra: Record<string, string> = {}) => ({
  "connector.class": "HttpWebhookSource",
  "kafka.topic": "hooks",
  "http.server.addresses": `127.0.0.1:${port}`,
  "http.server.path": "/hook",
  ...extra
})

describe("HttpWebhookSource task", () => {
  it.scopedLive("answers 200 only after commitRecord, 429 when its queue is full", () =>
    Effect.gen(function* () {
      const port = yield* freePort
      const task = yield* HttpWebhookSource.plugin.task
      yield* task.start(
        {
          "kafka.topic": "t",
          "http.server.addresses": `127.0.0.1:${port}`,
          "http.server.queue.max.requests": "1",
          "http.server.ack.timeout.ms": "20000"
        },
        { configs: {}, transactionContext: null, offsetStorageReader: { offset: () => Effect.succeed(null) } }
      )
      yield* Effect.addFinalizer(() => task.stop)
      const url = `http://127.0.0.1:${port}/post`
      const first = yield* Effect.fork(post(url, "one"))
      yield* pause(300)
      assert.strictEqual(yield* post(url, "two"), 429)
      const records = (yield* task.poll)!
      assert.deepStrictEqual(
        records.map((r) => r.value),
        ["one"]
      )
      yield* pause(200)
      assert.isNull(first.unsafePoll())
      yield* task.commitRecord!(records[0]!, { topic: "t", partition: 0, offset: 0 })
      assert.strictEqual(yield* Fiber.join(first), 200)
    }).pipe(Effect.provide(NodeContext.layer))
  )
})

describe("HttpWebhookSource on a broker", () => {
  it.scopedLive(
    "1,000 concurrent POSTs are answered 200 and land exactly once",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddy
        const port = yield* freePort
        const worker = yield* makeWorker(workerProps(bootstrap))
        // generous ack timeout: on a loaded CI machine 1,000 requests can take a while
        yield* worker.create(
          "hook",
          webhook(port, { "http.server.key.header": "X-Id", "http.server.ack.timeout.ms": "45000" })
        )
        const url = `http://127.0.0.1:${port}/hook`
        yield* eventually(Effect.map(post(url, "probe", { "x-id": "probe" }), (s) => s === 200))
        const statuses = yield* Effect.forEach(
          Array.from({ length: 1000 }, (_, i) => i),
          (i) => post(url, JSON.stringify({ n: i }), { "x-id": `id-${i}` }),
          { concurrency: "unbounded" }
        )
        assert.deepStrictEqual(
          statuses.filter((s) => s !== 200),
          []
        )
        yield* produce(bootstrap, "hooks", [["end", "end"]])
        const records = yield* readTopic(bootstrap, "hooks", 1002)
        assert.strictEqual(records[0]!.key, "probe")
        assert.strictEqual(records[1001]!.key, "end")
        const ids = new Set(records.slice(1, 1001).map((r) => r.key))
        assert.strictEqual(ids.size, 1000)
        for (const r of records.slice(1, 1001)) assert.strictEqual(`id-${JSON.parse(r.value!).n}`, r.key)
      }),
    60_000
  )

  it.scopedLive(
    "checks path, verb and HMAC signature",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddy
        const port = yield* freePort
        const worker = yield* makeWorker(workerProps(bootstrap))
        yield* worker.create(
          "signed",
          webhook(port, { "http.server.hmac.secret": "s3cret", "http.server.allowed.verbs": "POST,PUT" })
        )
        const url = `http://127.0.0.1:${port}/hook`
        const body = '{"event":"push"}'
        const signature = `sha256=${Hmac.sign("sha256", "s3cret", new TextEncoder().encode(body))}`
        yield* eventually(Effect.map(post(url, body), (s) => s === 401))
        assert.strictEqual(yield* post(url, body, { "x-signature-256": "sha256=00" }), 401)
        assert.strictEqual(yield* post(url, `${body} `, { "x-signature-256": signature }), 401)
        assert.strictEqual(yield* post(`http://127.0.0.1:${port}/other`, body, { "x-signature-256": signature }), 404)
        const get = yield* Effect.promise(() => fetch(url).then((r) => r.status))
        assert.strictEqual(get, 405)
        assert.strictEqual(yield* post(url, body, { "x-signature-256": signature }), 200)
        const [record] = yield* readTopic(bootstrap, "hooks", 1)
        assert.strictEqual(record!.value, body)
      }),
    60_000
  )

  it.scopedLive(
    "with the broker down the webhook answers 503; a client retry after it is back succeeds",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const brokerPort = yield* freePort
        const bootstrap = `127.0.0.1:${brokerPort}`
        let broker = yield* Scope.make()
        yield* brokerAt(brokerPort, dir, broker)
        const port = yield* freePort
        const worker = yield* makeWorker(workerProps(bootstrap))
        yield* worker.create("outage", webhook(port, { "http.server.ack.timeout.ms": "300" }))
        const url = `http://127.0.0.1:${port}/hook`
        yield* eventually(Effect.map(post(url, "before"), (s) => s === 200))
        yield* Scope.close(broker, Exit.void)
        assert.strictEqual(yield* post(url, "during"), 503)
        assert.strictEqual(yield* post(url, "during"), 503)
        broker = yield* Scope.make()
        yield* brokerAt(brokerPort, dir, broker)
        yield* Effect.addFinalizer(() => Scope.close(broker, Exit.void))
        // the client retries until it gets a 2xx
        let status = 0
        for (let attempt = 0; attempt < 100 && status !== 200; attempt++) {
          status = yield* post(url, "during")
          if (status !== 200) yield* pause(100)
        }
        assert.strictEqual(status, 200)
        yield* produce(bootstrap, "hooks", [[null, "end"]])
        const values = (yield* readTopic(bootstrap, "hooks", 3)).map((r) => r.value)
        assert.strictEqual(values[0], "before")
        // at least once: the request taken before the outage may land besides the retried one
        assert.include(values.slice(1), "during")
      }),
    60_000
  )

  it.scopedLive(
    "serves HTTPS with a certificate and key from files",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddy
        const dir = yield* tempDir
        const cert = path.join(dir, "cert.pem")
        const key = path.join(dir, "key.pem")
        execFileSync(
          "openssl",
          ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert].concat([
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1"
          ]),
          { stdio: "ignore" }
        )
        const port = yield* freePort
        const worker = yield* makeWorker(workerProps(bootstrap))
        yield* worker.create(
          "tls",
          webhook(port, { "http.server.tls.cert.file": cert, "http.server.tls.key.file": key })
        )
        const postTls = (body: string) =>
          Effect.promise(
            () =>
              new Promise<number>((resolve) => {
                const req = https.request(
                  { host: "127.0.0.1", port, path: "/hook", method: "POST", rejectUnauthorized: false },
                  (res) => {
                    res.resume()
                    res.on("end", () => resolve(res.statusCode ?? 0))
                  }
                )
                req.on("error", () => resolve(0))
                req.end(body)
              })
          )
        yield* eventually(Effect.map(postTls("secure"), (s) => s === 200))
        assert.strictEqual(yield* post(`http://127.0.0.1:${port}/hook`, "plain"), 0)
        const [record] = yield* readTopic(bootstrap, "hooks", 1)
        assert.strictEqual(record!.value, "secure")
      }),
    60_000
  )
})
