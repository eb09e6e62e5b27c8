import * as child from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Logger, LogLevel, Scope } from "effect"
import type * as CP from "../../src/runtime/ConnectProtocol.js"
import * as Distributed from "../../src/runtime/Distributed.js"
import { eventually, startEddyWith, tempDir, workerProps } from "../util.js"

/** A port that was free a moment ago. */
const freePort = Effect.async<number>((resume) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as net.AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

const lines = (file: string) =>
  fs.existsSync(file)
    ? fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l !== "")
    : []

const rest = (url: string, method: string, p: string, body?: unknown) =>
  Effect.tryPromise(async () => {
    const res = await fetch(url.replace(/\/$/, "") + p, {
      method,
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await res.text()
    return { status: res.status, json: text === "" ? null : (JSON.parse(text) as unknown) }
  })

interface Running {
  readonly worker: Distributed.DistributedWorkerShape
  readonly url: string
  readonly scope: Scope.CloseableScope
}

const startWorker = (props: Record<string, string>) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const ctx = yield* Layer.buildWithScope(Distributed.layer(props), scope).pipe(
      Logger.withMinimumLogLevel(LogLevel.Warning)
    )
    const worker = Context.get(ctx, Distributed.DistributedWorker)
    return { worker, url: `http://${worker.workerId}`, scope } satisfies Running
  })

const stopWorker = (w: Running) => Scope.close(w.scope, Exit.void)

const loadOf = (w: Running) => w.worker.assignment
const keys = (l: CP.Load) => [...l.connectors.map((c) => `C:${c}`), ...l.tasks.map((t) => `T:${t.connector}/${t.task}`)]

/** Waits until the workers agree on one generation and together run `expected` connectors and tasks exactly once. */
const settled = (workers: ReadonlyArray<Running>, expected: number) =>
  eventually(
    Effect.gen(function* () {
      const ms = yield* Effect.forEach(workers, (w) => w.worker.membership)
      if (ms.some((m) => m === null) || new Set(ms.map((m) => m!.generation)).size !== 1) return false
      const all = (yield* Effect.forEach(workers, loadOf)).flatMap(keys)
      return all.length === expected && new Set(all).size === expected
    }),
    30_000
  )

const baseProps = (bootstrap: string, port: number, extra: Record<string, string> = {}) => ({
  ...workerProps(bootstrap),
  "group.id": "dist",
  "config.storage.topic": "dist-configs",
  "config.storage.replication.factor": "1",
  "offset.storage.topic": "dist-offsets",
  "offset.storage.replication.factor": "1",
  "offset.storage.partitions": "5",
  "status.storage.topic": "dist-status",
  "status.storage.replication.factor": "1",
  "session.timeout.ms": "2000",
  "heartbeat.interval.ms": "250",
  "scheduled.rebalance.max.delay.ms": "3000",
  listeners: `http://127.0.0.1:${port}`,
  ...extra
})

describe("distributed worker", () => {
  it.scopedLive(
    "three workers: connectors created through a follower's REST run, statuses agree, a pause survives a restart",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddyWith({ "group.min.session.timeout.ms": "1000" })
        const dir = yield* tempDir
        const input = path.join(dir, "in.txt")
        const output = path.join(dir, "out.txt")
        fs.writeFileSync(input, "one\ntwo\nthree\n")
        const ports = [yield* freePort, yield* freePort, yield* freePort]
        const workers: Array<Running> = []
        for (const port of ports) workers.push(yield* startWorker(baseProps(bootstrap, port)))
        yield* settled(workers, 0)
        const memberships = yield* Effect.forEach(workers, (w) => w.worker.membership)
        const followers = workers.filter((_, i) => memberships[i]!.leaderId !== memberships[i]!.memberId)
        assert.strictEqual(followers.length, 2)

        const created = yield* rest(followers[0]!.url, "POST", "/connectors", {
          name: "src",
          config: { "connector.class": "FileStreamSource", file: input, topic: "dist-copy" }
        })
        assert.strictEqual(created.status, 201, JSON.stringify(created.json))
        assert.deepStrictEqual((created.json as { name: string }).name, "src")
        const sink = yield* rest(followers[1]!.url, "PUT", "/connectors/snk/config", {
          "connector.class": "FileStreamSink",
          file: output,
          topics: "dist-copy"
        })
        assert.strictEqual(sink.status, 201, JSON.stringify(sink.json))
        const again = yield* rest(followers[1]!.url, "POST", "/connectors", {
          name: "src",
          config: { "connector.class": "FileStreamSource", file: input, topic: "dist-copy" }
        })
        assert.strictEqual(again.status, 409)

        yield* eventually(
          Effect.sync(() => lines(output).length === 3),
          30_000
        )
        assert.deepStrictEqual(lines(output), ["one", "two", "three"])
        yield* settled(workers, 4)

        // every worker answers the same statuses, naming the workers that run each part
        yield* eventually(
          Effect.gen(function* () {
            const answers = yield* Effect.forEach(workers, (w) => rest(w.url, "GET", "/connectors/src/status"))
            const first = JSON.stringify(answers[0]!.json)
            const s = answers[0]!.json as { connector: { state: string }; tasks: Array<{ state: string }> }
            return (
              answers.every((a) => JSON.stringify(a.json) === first) &&
              s.connector.state === "RUNNING" &&
              s.tasks.length === 1 &&
              s.tasks[0]!.state === "RUNNING"
            )
          }),
          30_000
        )
        const status = (yield* rest(workers[0]!.url, "GET", "/connectors/src/status")).json as {
          tasks: Array<{ worker_id: string }>
        }
        const owner = workers.find((w) => Effect.runSync(w.worker.assignment).tasks.some((t) => t.connector === "src"))!
        assert.strictEqual(status.tasks[0]!.worker_id, owner.worker.workerId)
        const listed = yield* rest(workers[2]!.url, "GET", "/connectors")
        assert.deepStrictEqual(listed.json, ["snk", "src"])
        const tasks = yield* rest(workers[1]!.url, "GET", "/connectors/src/tasks")
        assert.strictEqual((tasks.json as Array<unknown>).length, 1)

        // appended lines follow; pause through a follower stops the source task
        fs.appendFileSync(input, "four\n")
        yield* eventually(
          Effect.sync(() => lines(output).length === 4),
          30_000
        )
        const paused = yield* rest(followers[0]!.url, "PUT", "/connectors/src/pause")
        assert.strictEqual(paused.status, 202)
        yield* eventually(
          Effect.map(rest(workers[2]!.url, "GET", "/connectors/src/status"), (r) => {
            const s = r.json as { connector: { state: string }; tasks: Array<{ state: string }> }
            return s.connector.state === "PAUSED" && s.tasks[0]?.state === "PAUSED"
          }),
          30_000
        )

        // the whole cluster restarts: the connector stays paused, the sink runs again
        for (const w of workers) yield* stopWorker(w)
        const restarted: Array<Running> = []
        for (const port of ports) restarted.push(yield* startWorker(baseProps(bootstrap, port)))
        yield* settled(restarted, 4)
        yield* eventually(
          Effect.map(rest(restarted[0]!.url, "GET", "/connectors/snk/status"), (r) => {
            const s = r.json as { tasks: Array<{ state: string; worker_id: string }> }
            return s.tasks[0]?.state === "RUNNING"
          }),
          30_000
        )
        const s = (yield* rest(restarted[1]!.url, "GET", "/connectors/src/status")).json as {
          connector: { state: string }
          tasks: Array<{ state: string }>
        }
        assert.strictEqual(s.connector.state, "PAUSED")
        assert.strictEqual(s.tasks[0]!.state, "PAUSED")
        fs.appendFileSync(input, "five\n")
        const resumed = yield* rest(restarted[2]!.url, "PUT", "/connectors/src/resume")
        assert.strictEqual(resumed.status, 202)
        yield* eventually(
          Effect.sync(() => lines(output).length === 5),
          30_000
        )
        assert.deepStrictEqual(lines(output), ["one", "two", "three", "four", "five"])

        const deleted = yield* rest(restarted[0]!.url, "DELETE", "/connectors/src")
        assert.strictEqual(deleted.status, 204)
        yield* settled(restarted, 2)
        assert.strictEqual((yield* rest(restarted[1]!.url, "GET", "/connectors/src/status")).status, 404)
        for (const w of restarted) yield* stopWorker(w)
      }),
    180_000
  )

  it.scopedLive(
    "a joining worker takes only the excess; a leaving worker's work waits scheduled.rebalance.max.delay.ms and goes back to a worker that returns",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddyWith({ "group.min.session.timeout.ms": "1000" })
        const dir = yield* tempDir
        const props = (port: number) => baseProps(bootstrap, port, { "scheduled.rebalance.max.delay.ms": "8000" })
        const a = yield* startWorker(props(yield* freePort))
        const b = yield* startWorker(props(yield* freePort))
        yield* settled([a, b], 0)
        for (const n of ["s1", "s2"]) {
          const r = yield* rest(a.url, "PUT", `/connectors/${n}/config`, {
            "connector.class": "FileStreamSink",
            file: path.join(dir, `${n}.txt`),
            topics: `${n}-in`,
            "tasks.max": "3"
          })
          assert.strictEqual(r.status, 201, JSON.stringify(r.json))
        }
        yield* settled([a, b], 8)
        const before = new Map([
          ["a", new Set(keys(yield* loadOf(a)))],
          ["b", new Set(keys(yield* loadOf(b)))]
        ])
        assert.deepStrictEqual(
          [...before.values()].map((s) => s.size),
          [4, 4]
        )

        const c = yield* startWorker(props(yield* freePort))
        yield* settled([a, b, c], 8)
        const afterJoin = { a: keys(yield* loadOf(a)), b: keys(yield* loadOf(b)), c: keys(yield* loadOf(c)) }
        assert.isTrue(
          afterJoin.a.every((k) => before.get("a")!.has(k)),
          "a gained nothing"
        )
        assert.isTrue(
          afterJoin.b.every((k) => before.get("b")!.has(k)),
          "b gained nothing"
        )
        const tasksOf = (ks: ReadonlyArray<string>) => ks.filter((k) => k.startsWith("T:")).length
        assert.deepStrictEqual([tasksOf(afterJoin.a), tasksOf(afterJoin.b), tasksOf(afterJoin.c)], [2, 2, 2])
        assert.strictEqual(afterJoin.a.length + afterJoin.b.length, 8 - afterJoin.c.length)

        // c leaves: its work is held (a and b keep theirs, take nothing) until the delay ends or c is back
        yield* stopWorker(c)
        yield* settled([a, b], 8 - afterJoin.c.length)
        assert.deepStrictEqual(keys(yield* loadOf(a)).sort(), [...afterJoin.a].sort())
        assert.deepStrictEqual(keys(yield* loadOf(b)).sort(), [...afterJoin.b].sort())
        const back = yield* startWorker(props(yield* freePort))
        yield* settled([a, b, back], 8)
        assert.deepStrictEqual(keys(yield* loadOf(back)).sort(), [...afterJoin.c].sort())

        // it leaves again and stays away: after the delay a and b share its work, keeping their own
        yield* stopWorker(back)
        yield* settled([a, b], 8)
        const end = { a: keys(yield* loadOf(a)), b: keys(yield* loadOf(b)) }
        assert.isTrue(afterJoin.a.every((k) => end.a.includes(k)))
        assert.isTrue(afterJoin.b.every((k) => end.b.includes(k)))
        assert.deepStrictEqual([tasksOf(end.a), tasksOf(end.b)], [3, 3])
        // every task runs on its owner, as the status topic says
        yield* eventually(
          Effect.gen(function* () {
            for (const n of ["s1", "s2"]) {
              const s = (yield* rest(b.url, "GET", `/connectors/${n}/status`)).json as {
                tasks: Array<{ id: number; state: string; worker_id: string }>
              }
              for (const t of s.tasks) {
                const owner = end.a.includes(`T:${n}/${t.id}`) ? a : b
                if (t.state !== "RUNNING" || t.worker_id !== owner.worker.workerId) return false
              }
            }
            return true
          }),
          30_000
        )
        yield* stopWorker(a)
        yield* stopWorker(b)
      }),
    180_000
  )

  it.scopedLive(
    "a worker in its own process killed with SIGKILL: its tasks move to the others after its session and the delay",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddyWith({ "group.min.session.timeout.ms": "1000" })
        const dir = yield* tempDir
        const fixture = path.join(path.dirname(new URL(import.meta.url).pathname), "fixtures", "distributedWorker.ts")
        const props = (port: number) => baseProps(bootstrap, port, { "scheduled.rebalance.max.delay.ms": "1000" })
        const victimPort = yield* freePort
        const file = path.join(dir, "victim.properties")
        fs.writeFileSync(
          file,
          Object.entries(props(victimPort))
            .map(([k, v]) => `${k}=${v}`)
            .join("\n")
        )
        const victim = yield* Effect.acquireRelease(
          Effect.sync(() =>
            child.spawn(process.execPath, ["--conditions=@eddy/source", "--import", "tsx", fixture, file], {
              stdio: ["ignore", "ignore", "inherit"]
            })
          ),
          (p) => Effect.sync(() => p.exitCode === null && p.kill("SIGKILL"))
        )
        const a = yield* startWorker(props(yield* freePort))
        const b = yield* startWorker(props(yield* freePort))
        const victimId = `127.0.0.1:${victimPort}`
        const tasks = Effect.map(Effect.either(rest(a.url, "GET", "/connectors/k/status")), (r) =>
          r._tag === "Right" && r.right.status === 200
            ? (r.right.json as { tasks: Array<{ state: string; worker_id: string }> }).tasks
            : []
        )
        yield* eventually(
          Effect.map(
            Effect.either(
              rest(a.url, "PUT", "/connectors/k/config", {
                "connector.class": "FileStreamSink",
                file: path.join(dir, "k.txt"),
                topics: "k-in",
                "tasks.max": "3"
              })
            ),
            (r) => r._tag === "Right" && (r.right.status === 201 || r.right.status === 200)
          ),
          60_000
        )
        yield* eventually(
          Effect.map(
            tasks,
            (ts) =>
              ts.length === 3 && ts.every((t) => t.state === "RUNNING") && ts.some((t) => t.worker_id === victimId)
          ),
          60_000
        )
        victim.kill("SIGKILL")
        yield* eventually(
          Effect.map(
            tasks,
            (ts) => ts.length === 3 && ts.every((t) => t.state === "RUNNING" && t.worker_id !== victimId)
          ),
          60_000
        )
        yield* stopWorker(a)
        yield* stopWorker(b)
      }),
    180_000
  )

  it.scopedLive(
    "stop, offsets, restarts and task restarts through a follower; missing required settings are refused",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddyWith({ "group.min.session.timeout.ms": "1000" })
        const missing = yield* Effect.exit(Layer.build(Distributed.layer({ "bootstrap.servers": bootstrap })))
        assert.isTrue(Exit.isFailure(missing))
        assert.include(String(missing), 'Missing required configuration \\"group.id\\"')
        const dir = yield* tempDir
        const input = path.join(dir, "in.txt")
        fs.writeFileSync(input, "a\nbb\nccc\n")
        const a = yield* startWorker(baseProps(bootstrap, yield* freePort))
        const b = yield* startWorker(baseProps(bootstrap, yield* freePort))
        yield* settled([a, b], 0)
        const ma = yield* a.worker.membership
        const follower = ma!.leaderId === ma!.memberId ? b : a
        const other = follower === a ? b : a
        const created = yield* rest(follower.url, "POST", "/connectors", {
          name: "so",
          config: { "connector.class": "FileStreamSource", file: input, topic: "so-out" }
        })
        assert.strictEqual(created.status, 201)
        const offsetsOf = (w: Running) =>
          Effect.map(
            rest(w.url, "GET", "/connectors/so/offsets"),
            (r) => r.json as { offsets: Array<{ offset: { position: number } | null }> }
          )
        yield* eventually(
          Effect.map(offsetsOf(other), (o) => o.offsets[0]?.offset?.position === 9),
          30_000
        )

        // stop: the connector and its tasks stop, its task configs are emptied
        assert.strictEqual((yield* rest(follower.url, "PUT", "/connectors/so/stop")).status, 204)
        yield* eventually(
          Effect.gen(function* () {
            const s = (yield* rest(other.url, "GET", "/connectors/so/status")).json as {
              connector: { state: string }
              tasks: Array<unknown>
            }
            const t = (yield* rest(follower.url, "GET", "/connectors/so/tasks")).json as Array<unknown>
            return s.connector.state === "STOPPED" && s.tasks.length === 0 && t.length === 0
          }),
          30_000
        )
        yield* settled([a, b], 1)
        const altered = yield* rest(follower.url, "PATCH", "/connectors/so/offsets", {
          offsets: [{ partition: { filename: input }, offset: { position: 0 } }]
        })
        assert.strictEqual(altered.status, 200, JSON.stringify(altered.json))
        assert.strictEqual((yield* offsetsOf(other)).offsets[0]?.offset?.position, 0)

        // resume: the task reads the file again from the altered offset
        assert.strictEqual((yield* rest(other.url, "PUT", "/connectors/so/resume")).status, 202)
        yield* eventually(
          Effect.map(offsetsOf(follower), (o) => o.offsets[0]?.offset?.position === 9),
          30_000
        )
        yield* settled([a, b], 2)

        // a restart of connector and tasks through the follower, then of the task on the worker without it
        const restarted = yield* rest(follower.url, "POST", "/connectors/so/restart?includeTasks=true")
        assert.strictEqual(restarted.status, 202, JSON.stringify(restarted.json))
        const running = Effect.map(rest(other.url, "GET", "/connectors/so/status"), (r) => {
          const s = r.json as { connector: { state: string }; tasks: Array<{ state: string; worker_id: string }> }
          return s.connector.state === "RUNNING" && s.tasks[0]?.state === "RUNNING" ? s : null
        })
        yield* eventually(
          Effect.map(running, (s) => s !== null),
          30_000
        )
        const owner = (yield* running)!.tasks[0]!.worker_id
        const notOwner = a.worker.workerId === owner ? b : a
        assert.strictEqual((yield* rest(notOwner.url, "POST", "/connectors/so/tasks/0/restart")).status, 204)
        yield* eventually(
          Effect.map(running, (s) => s !== null),
          30_000
        )
        assert.strictEqual((yield* rest(notOwner.url, "POST", "/connectors/so/tasks/5/restart")).status, 404)
        yield* stopWorker(a)
        yield* stopWorker(b)
      }),
    120_000
  )
})
