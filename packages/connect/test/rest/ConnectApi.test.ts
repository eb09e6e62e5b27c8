import * as fs from "node:fs"
import * as path from "node:path"
import { HttpServer } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Plugins from "../../src/plugin/Plugins.js"
import * as ConnectServer from "../../src/rest/ConnectServer.js"
import * as LoggerLevels from "../../src/runtime/LoggerLevels.js"
import * as OffsetStore from "../../src/runtime/OffsetStore.js"
import * as Worker from "../../src/runtime/Worker.js"
import { eventually, startEddy, tempDir, workerProps } from "../util.js"

const serve = (props: Record<string, string>) =>
  Effect.gen(function* () {
    const worker = Worker.layer(props, { workerId: "127.0.0.1:8083" }).pipe(
      Layer.provide(Layer.mergeAll(Plugins.layer(), OffsetStore.layerMemory, NodeContext.layer)),
      Layer.provide(NodeContext.layer)
    )
    const server = ConnectServer.layer("http://127.0.0.1:0", {
      levels: LoggerLevels.make(),
      clusterId: Effect.succeed("test-cluster")
    }).pipe(Layer.provide(worker))
    const ctx = yield* Layer.build(server)
    const { address } = yield* Effect.provide(HttpServer.HttpServer, ctx)
    const port = (address as HttpServer.TcpAddress).port
    return `http://127.0.0.1:${port}`
  })

const call = (base: string, method: string, url: string, body?: unknown) =>
  Effect.promise(async () => {
    const res = await fetch(base + url, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } })
    })
    const text = await res.text()
    // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
    const parsed: any = text === "" ? null : JSON.parse(text)
    return { status: res.status, body: parsed }
  })

describe("Connect REST API", () => {
  it.scopedLive(
    "answers every path with Connect's status codes and shapes",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddy
        const dir = yield* tempDir
        const input = path.join(dir, "in.txt")
        fs.writeFileSync(input, "a\nb\n")
        const base = yield* serve(workerProps(bootstrap))
        const api = (method: string, url: string, body?: unknown) => call(base, method, url, body)

        const root = yield* api("GET", "/")
        assert.deepStrictEqual(root, {
          status: 200,
          body: { version: "0.1.0", commit: "eddy", kafka_cluster_id: "test-cluster" }
        })
        assert.strictEqual((yield* api("GET", "/health")).body.status, "healthy")
        assert.deepStrictEqual(yield* api("GET", "/connectors"), { status: 200, body: [] })

        const config = { "connector.class": "FileStreamSource", file: input, topic: "rest-t", "tasks.max": 1 }
        const created = yield* api("POST", "/connectors", { name: "src", config })
        assert.strictEqual(created.status, 201)
        assert.deepStrictEqual(created.body, {
          name: "src",
          config: {
            "connector.class": "FileStreamSource",
            file: input,
            topic: "rest-t",
            "tasks.max": "1",
            name: "src"
          },
          tasks: [{ connector: "src", task: 0 }],
          type: "source"
        })
        const conflict = yield* api("POST", "/connectors", { name: "src", config })
        assert.deepStrictEqual(conflict, {
          status: 409,
          body: { error_code: 409, message: "Connector src already exists" }
        })
        const invalid = yield* api("POST", "/connectors", {
          name: "bad",
          config: { "connector.class": "FileStreamSource" }
        })
        assert.strictEqual(invalid.status, 400)
        assert.include(invalid.body.message, 'Missing required configuration "topic"')
        const unknown = yield* api("POST", "/connectors", {
          name: "x",
          config: { "connector.class": "com.example.Nope" }
        })
        assert.strictEqual(unknown.status, 400)
        const undecodable = yield* api("POST", "/connectors", { nope: 1 })
        assert.strictEqual(undecodable.body.error_code, 400)

        assert.deepStrictEqual((yield* api("GET", "/connectors")).body, ["src"])
        const expanded = yield* api("GET", "/connectors?expand=status&expand=info")
        assert.deepStrictEqual(Object.keys(expanded.body.src), ["status", "info"])
        assert.strictEqual((yield* api("GET", "/connectors/src")).body.type, "source")
        assert.deepStrictEqual(yield* api("GET", "/connectors/none"), {
          status: 404,
          body: { error_code: 404, message: "Connector none not found" }
        })
        assert.strictEqual((yield* api("GET", "/connectors/src/config")).body.topic, "rest-t")
        yield* eventually(Effect.map(api("GET", "/connectors/src/status"), (r) => r.body.tasks[0]?.state === "RUNNING"))
        const status = (yield* api("GET", "/connectors/src/status")).body
        assert.deepStrictEqual(status, {
          name: "src",
          connector: { state: "RUNNING", worker_id: "127.0.0.1:8083" },
          tasks: [{ id: 0, state: "RUNNING", worker_id: "127.0.0.1:8083" }],
          type: "source"
        })
        assert.deepStrictEqual((yield* api("GET", "/connectors/src/tasks/0/status")).body.state, "RUNNING")
        assert.strictEqual((yield* api("GET", "/connectors/src/tasks/7/status")).status, 404)
        assert.deepStrictEqual((yield* api("GET", "/connectors/src/tasks")).body[0].id, { connector: "src", task: 0 })
        yield* eventually(Effect.map(api("GET", "/connectors/src/topics"), (r) => r.body.src.topics.length === 1))
        assert.deepStrictEqual((yield* api("GET", "/connectors/src/topics")).body, { src: { topics: ["rest-t"] } })
        assert.strictEqual((yield* api("PUT", "/connectors/src/topics/reset")).status, 202)
        assert.deepStrictEqual((yield* api("GET", "/connectors/src/topics")).body, { src: { topics: [] } })

        // pause / resume / restart
        assert.strictEqual((yield* api("PUT", "/connectors/src/pause")).status, 202)
        assert.deepStrictEqual((yield* api("GET", "/connectors/src/status")).body.tasks[0].state, "PAUSED")
        assert.strictEqual((yield* api("PUT", "/connectors/src/resume")).status, 202)
        yield* eventually(Effect.map(api("GET", "/connectors/src/status"), (r) => r.body.tasks[0]?.state === "RUNNING"))
        assert.strictEqual((yield* api("POST", "/connectors/src/restart")).status, 204)
        const restarted = yield* api("POST", "/connectors/src/restart?includeTasks=true&onlyFailed=false")
        assert.strictEqual(restarted.status, 202)
        assert.strictEqual(restarted.body.name, "src")
        assert.strictEqual((yield* api("POST", "/connectors/src/tasks/0/restart")).status, 204)
        assert.strictEqual((yield* api("POST", "/connectors/src/tasks/9/restart")).status, 404)

        // offsets: only when STOPPED
        yield* eventually(Effect.map(api("GET", "/connectors/src/offsets"), (r) => r.body.offsets.length === 1))
        assert.deepStrictEqual((yield* api("GET", "/connectors/src/offsets")).body, {
          offsets: [{ partition: { filename: input }, offset: { position: 4 } }]
        })
        const patchRunning = yield* api("PATCH", "/connectors/src/offsets", {
          offsets: [{ partition: { filename: input }, offset: { position: 0 } }]
        })
        assert.strictEqual(patchRunning.status, 400)
        assert.include(patchRunning.body.message, "STOPPED")
        assert.strictEqual((yield* api("DELETE", "/connectors/src/offsets")).status, 400)
        assert.strictEqual((yield* api("PUT", "/connectors/src/stop")).status, 204)
        assert.deepStrictEqual((yield* api("GET", "/connectors/src/status")).body.connector.state, "STOPPED")
        const patched = yield* api("PATCH", "/connectors/src/offsets", {
          offsets: [{ partition: { filename: input }, offset: { position: 2 } }]
        })
        assert.strictEqual(patched.status, 200)
        assert.include(patched.body.message, "altered successfully")
        assert.deepStrictEqual((yield* api("GET", "/connectors/src/offsets")).body.offsets[0].offset, { position: 2 })
        const badShape = yield* api("PATCH", "/connectors/src/offsets", {
          offsets: [{ partition: { nope: 1 }, offset: { position: 2 } }]
        })
        assert.strictEqual(badShape.status, 400)
        const reset = yield* api("DELETE", "/connectors/src/offsets")
        assert.strictEqual(reset.status, 200)
        assert.include(reset.body.message, "reset successfully")
        assert.deepStrictEqual((yield* api("GET", "/connectors/src/offsets")).body, { offsets: [] })

        // config PUT (update 200, create 201) and PATCH with a null removing a key
        const put = yield* api("PUT", "/connectors/src/config", { ...config, "batch.size": "10" })
        assert.strictEqual(put.status, 200)
        assert.strictEqual(put.body.config["batch.size"], "10")
        assert.strictEqual((yield* api("GET", "/connectors/src/status")).body.connector.state, "STOPPED")
        const patchedConfig = yield* api("PATCH", "/connectors/src/config", { "batch.size": null, "tasks.max": "1" })
        assert.strictEqual(patchedConfig.status, 200)
        assert.isUndefined(patchedConfig.body.config["batch.size"])
        const createdByPut = yield* api("PUT", "/connectors/other/config", { ...config, file: input })
        assert.strictEqual(createdByPut.status, 201)
        const mismatch = yield* api("PUT", "/connectors/other/config", { ...config, name: "different" })
        assert.strictEqual(mismatch.status, 400)
        assert.strictEqual((yield* api("DELETE", "/connectors/other")).status, 204)
        assert.strictEqual((yield* api("DELETE", "/connectors/other")).status, 404)

        // plugins
        const plugins = (yield* api("GET", "/connector-plugins")).body
        assert.deepStrictEqual(plugins, [
          { class: "org.apache.kafka.connect.file.FileStreamSourceConnector", type: "source", version: "0.1.0" },
          { class: "org.apache.kafka.connect.file.FileStreamSinkConnector", type: "sink", version: "0.1.0" },
          { class: "io.eddy.connect.http.HttpSourceConnector", type: "source", version: "0.1.0" },
          { class: "io.eddy.connect.http.HttpWebhookSourceConnector", type: "source", version: "0.1.0" },
          { class: "io.eddy.connect.http.HttpSinkConnector", type: "sink", version: "0.1.0" },
          { class: "io.eddy.connect.postgres.PostgresSourceConnector", type: "source", version: "0.1.0" },
          { class: "io.eddy.connect.postgres.PostgresSinkConnector", type: "sink", version: "0.1.0" },
          { class: "io.debezium.connector.postgresql.PostgresConnector", type: "source", version: "0.1.0-eddy" }
        ])
        const all = (yield* api("GET", "/connector-plugins?connectorsOnly=false")).body as Array<{ type: string }>
        assert.isTrue(all.some((p) => p.type === "converter"))
        const defs = (yield* api("GET", "/connector-plugins/FileStreamSource/config")).body
        assert.deepStrictEqual(
          defs.map((d: { name: string }) => d.name),
          ["file", "topic", "batch.size"]
        )
        assert.strictEqual((yield* api("GET", "/connector-plugins/Nope/config")).status, 404)
        const validated = yield* api("PUT", "/connector-plugins/FileStreamSourceConnector/config/validate", {
          "connector.class": "FileStreamSource",
          "batch.size": "x"
        })
        assert.strictEqual(validated.status, 200)
        assert.strictEqual(validated.body.name, "org.apache.kafka.connect.file.FileStreamSourceConnector")
        assert.strictEqual(validated.body.error_count, 3) // name, topic, batch.size
        assert.includeMembers(validated.body.groups, ["Common", "Error Handling"])

        // loggers
        assert.deepStrictEqual((yield* api("GET", "/admin/loggers")).body, {
          root: { level: "INFO", last_modified: null }
        })
        assert.deepStrictEqual((yield* api("PUT", "/admin/loggers/root", { level: "DEBUG" })).body, ["root"])
        assert.strictEqual((yield* api("GET", "/admin/loggers/root")).body.level, "DEBUG")
        assert.strictEqual((yield* api("PUT", "/admin/loggers/root", { level: "LOUD" })).status, 400)
        assert.strictEqual((yield* api("GET", "/admin/loggers/nope")).status, 404)

        assert.deepStrictEqual(yield* api("GET", "/no/such/path"), {
          status: 404,
          body: { error_code: 404, message: "HTTP 404 Not Found" }
        })
        assert.strictEqual((yield* api("DELETE", "/connectors/src")).status, 204)
        assert.deepStrictEqual((yield* api("GET", "/connectors")).body, [])
      }),
    60_000
  )
})
