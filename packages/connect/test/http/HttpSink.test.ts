import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Scope, TestClock } from "effect"
import { sinkRecord } from "../../src/data/ConnectRecord.js"
import * as Auth from "../../src/http/Auth.js"
import * as Client from "../../src/http/Client.js"
import * as HttpSink from "../../src/http/HttpSink.js"
import { eventually, makeWorker, startEddy, workerProps } from "../util.js"
import { pause, produce, type Received, readTopic, testServer } from "./util.js"

const record = (value: unknown, key: unknown = null) =>
  sinkRecord({ topic: "orders", kafkaPartition: 2, kafkaOffset: 0, key, value })

describe("HttpSink (unit)", () => {
  it.effect("templates the URL with topic, key and partition; formats batches", () =>
    Effect.gen(function* () {
      assert.strictEqual(
        HttpSink.urlOf(`http://h/\${topic}/\${key}?p=\${partition}&x=\${other}`, record("v", "a b/c")),
        `http://h/orders/a%20b%2Fc?p=2&x=\${other}`
      )
      const settings = yield* HttpSink.parseSettings({ "http.url": "http://h", "batching.enabled": "true" })
      assert.strictEqual(HttpSink.bodyOf(settings.config, ['{"a":1}', "plain", 3, null]), '[{"a":1},"plain",3,null]')
      const text = yield* HttpSink.parseSettings({
        "http.url": "http://h",
        "batching.enabled": "true",
        "batch.format": "string",
        "batch.prefix": "<",
        "batch.separator": "|",
        "batch.suffix": ">"
      })
      assert.strictEqual(HttpSink.bodyOf(text.config, ["a", "b"]), "<a|b>")
      const single = yield* HttpSink.parseSettings({ "http.url": "http://h" })
      assert.strictEqual(HttpSink.bodyOf(single.config, ['{"a":1}']), '{"a":1}')
      const bad = yield* Effect.flip(HttpSink.parseSettings({ "http.url": "x", "http.authorization.type": "static" }))
      assert.include(bad.message, "http.headers.authorization")
      const codes = yield* Effect.flip(HttpSink.parseSettings({ "http.url": "x", "retry.on.status.codes": "5xx" }))
      assert.include(codes.message, "5xx")
    })
  )
})

describe("HttpSink tombstones", () => {
  it.scoped("behavior.on.null.values: ignore skips, send sends null, fail fails", () =>
    Effect.gen(function* () {
      const bodies: Array<string> = []
      const server = yield* testServer((r) => {
        bodies.push(r.body)
        return { status: 200 }
      })
      const run = (behavior: string) =>
        Effect.gen(function* () {
          const task = yield* HttpSink.plugin.task
          const context = { errantRecordReporter: null, requestCommit: Effect.void } as never
          yield* task.start({ "http.url": server.url, "behavior.on.null.values": behavior }, context)
          const result = yield* Effect.either(task.put([record("a"), record(null), record("b")]))
          yield* task.stop
          return result
        })
      assert.strictEqual((yield* run("ignore"))._tag, "Right")
      assert.deepStrictEqual(bodies.splice(0), ["a", "b"])
      assert.strictEqual((yield* run("send"))._tag, "Right")
      assert.deepStrictEqual(bodies.splice(0), ["a", "null", "b"])
      const failed = yield* run("fail")
      assert.strictEqual(failed._tag, "Left")
      assert.deepStrictEqual(bodies.splice(0), ["a"])
    }).pipe(Effect.provide(NodeContext.layer))
  )
})

describe("HttpSink retries (TestClock)", () => {
  it.scoped("backs off exponentially up to retry.backoff.max.ms on retriable codes", () =>
    Effect.gen(function* () {
      let calls = 0
      const server = yield* testServer(() => {
        calls++
        return { status: calls <= 3 ? (calls === 2 ? 429 : 503) : 200 }
      })
      const settings = yield* HttpSink.parseSettings({
        "http.url": server.url,
        "retry.backoff.ms": "1000",
        "retry.backoff.max.ms": "1500",
        "max.retries": "3"
      })
      const scope = yield* Scope.make()
      yield* Effect.addFinalizer(() => Scope.close(scope, Exit.void))
      const client = yield* Client.make(scope)
      const auth = yield* Auth.make({ type: "none" }, client)
      const fiber = yield* Effect.fork(HttpSink.send(settings, client, auth, server.url, "x"))
      const callsAfter = (n: number) =>
        Effect.gen(function* () {
          for (let i = 0; i < 100 && calls < n; i++) yield* pause(20)
          yield* pause(50)
          return calls
        })
      assert.strictEqual(yield* callsAfter(1), 1)
      // delays 1000, 2000 capped at 1500, then 1500
      for (const [delay, expected] of [
        [1000, 2],
        [1500, 3],
        [1500, 4]
      ] as const) {
        yield* TestClock.adjust(delay - 1)
        assert.strictEqual(yield* callsAfter(expected - 1), expected - 1)
        yield* TestClock.adjust(1)
        assert.strictEqual(yield* callsAfter(expected), expected)
      }
      assert.isTrue(Exit.isSuccess(yield* Fiber.await(fiber)))
    })
  )
})

describe("HttpSink on a broker", () => {
  it.scopedLive(
    "a flaky target (first calls 503) receives every record once and in order; OAuth2 token refreshed after 401",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddy
        const accepted: Array<string> = []
        let calls = 0
        let tokens = 0
        const server = yield* testServer((r: Received) => {
          if (r.url === "/token") {
            tokens++
            assert.strictEqual(r.headers.authorization, `Basic ${Buffer.from("id:secret").toString("base64")}`)
            assert.include(r.body, "grant_type=client_credentials")
            return { status: 200, body: JSON.stringify({ access_token: `t${tokens}`, expires_in: 3600 }) }
          }
          calls++
          if (calls <= 3) return { status: 503 }
          // the first token is "revoked" after the outage: the sink must fetch a new one
          if (r.headers.authorization !== `Bearer t${tokens}` || tokens < 2) return { status: 401 }
          assert.strictEqual(r.url, "/in/events")
          assert.strictEqual(r.headers["x-tenant"], "acme")
          accepted.push(...(JSON.parse(r.body) as Array<{ n: number }>).map((v) => String(v.n)))
          return { status: 200 }
        })
        const values = Array.from({ length: 60 }, (_, i) => [null, JSON.stringify({ n: i })] as const)
        yield* produce(bootstrap, "events", values)
        const worker = yield* makeWorker(workerProps(bootstrap))
        yield* worker.create("http-out", {
          "connector.class": "HttpSink",
          topics: "events",
          "http.url": `${server.url}/in/\${topic}`,
          "http.headers.additional": "X-Tenant: acme",
          "http.authorization.type": "oauth2",
          "oauth2.access.token.url": `${server.url}/token`,
          "oauth2.client.id": "id",
          "oauth2.client.secret": "secret",
          "batching.enabled": "true",
          "batch.max.size": "7",
          "batch.linger.ms": "50",
          "retry.backoff.ms": "10",
          "retry.backoff.max.ms": "40",
          "max.retries": "6"
        })
        yield* eventually(Effect.sync(() => accepted.length >= 60))
        assert.deepStrictEqual(
          accepted,
          values.map((_, i) => String(i))
        )
        assert.strictEqual((yield* worker.status("http-out")).tasks[0]?.state, "RUNNING")
      }),
    60_000
  )

  it.scopedLive(
    "a 400 sends the record to the DLQ with the error context; the others go through",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddy
        const accepted: Array<string> = []
        const server = yield* testServer((r) => {
          if (r.body.includes("bad")) return { status: 400, body: "rejected" }
          accepted.push(r.body)
          return { status: 204 }
        })
        yield* produce(bootstrap, "items", [
          ["k1", "good-1"],
          ["k2", "bad-2"],
          ["k3", "good-3"],
          ["k4", null]
        ])
        const worker = yield* makeWorker(workerProps(bootstrap))
        yield* worker.create("http-dlq", {
          "connector.class": "io.eddy.connect.http.HttpSinkConnector",
          topics: "items",
          "http.url": `${server.url}/items/\${key}`,
          "retry.backoff.ms": "10",
          "errors.tolerance": "all",
          "errors.deadletterqueue.topic.name": "items-dlq",
          "errors.deadletterqueue.topic.replication.factor": "1",
          "errors.deadletterqueue.context.headers.enable": "true"
        })
        yield* eventually(Effect.sync(() => accepted.length >= 2))
        const dlq = yield* readTopic(bootstrap, "items-dlq", 1)
        assert.strictEqual(dlq[0]?.key, "k2")
        assert.strictEqual(dlq[0]?.value, "bad-2")
        assert.strictEqual(dlq[0]?.headers["__connect.errors.stage"], "TASK_PUT")
        assert.include(dlq[0]?.headers["__connect.errors.exception.message"] ?? "", "answered 400: rejected")
        assert.deepStrictEqual(accepted, ["good-1", "good-3"])
      }),
    60_000
  )
})
