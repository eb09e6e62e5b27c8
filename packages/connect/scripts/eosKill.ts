/**
 * kill -9 of an exactly-once file source, repeated: distributed workers (`eddy connect distributed`, the built
 * CLI, each a process of its own) run a FileStreamSource with `exactly.once.source.support=enabled` while
 * lines are appended to its input file. Each round starts the next worker, SIGKILLs the running one at a
 * random moment (mostly inside an open transaction; sometimes after the group moved the task) and waits until
 * the new worker runs the task, `rounds` times; then lets the last worker catch up and checks that a
 * read_committed consumer sees every line exactly once, in order.
 *
 *   npm run build && node --conditions=@eddy/source --import tsx packages/connect/scripts/eosKill.ts 50
 *
 * (or scripts/connect-eos-kill.sh). The CI test (test/runtime/ExactlyOnceKill.test.ts) runs 20 rounds.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as Admin from "@eddy/core/client/Admin"
import { Deferred, Effect } from "effect"
import { valuesOf } from "../test/runtime/eosUtil.js"
import { startEddyWith } from "../test/util.js"

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..")
const TOPIC = "eos-kill-lines"
const CONNECTOR = "eos-kill-source"

const freePort = Effect.async<number>((resume) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as net.AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** The worker.properties of a worker listening on `port`. */
const workerProperties = (bootstrap: string, port: number) =>
  Object.entries({
    "bootstrap.servers": bootstrap,
    "group.id": "eos-kill",
    "exactly.once.source.support": "enabled",
    "config.storage.topic": "eos-kill-configs",
    "config.storage.replication.factor": "1",
    "offset.storage.topic": "eos-kill-offsets",
    "offset.storage.replication.factor": "1",
    "offset.storage.partitions": "3",
    "status.storage.topic": "eos-kill-status",
    "status.storage.replication.factor": "1",
    "session.timeout.ms": "1500",
    // a worker killed while the group rebalances is waited for at most this long
    "rebalance.timeout.ms": "3000",
    "heartbeat.interval.ms": "250",
    "scheduled.rebalance.max.delay.ms": "0",
    "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    "value.converter": "org.apache.kafka.connect.storage.StringConverter",
    "producer.linger.ms": "1",
    "consumer.fetch.max.wait.ms": "50",
    listeners: `http://127.0.0.1:${port}`
  })
    .map(([k, v]) => `${k}=${v}`)
    .join("\n")

/** `eddy connect distributed` in a process of its own, on a fresh port; `exited` fails when it dies by itself. */
const spawnWorker = (bootstrap: string, dir: string) =>
  Effect.gen(function* () {
    const port = yield* freePort
    const file = path.join(dir, `worker-${port}.properties`)
    fs.writeFileSync(file, workerProperties(bootstrap, port))
    const exited = yield* Deferred.make<never, Error>()
    const child = spawn(
      process.execPath,
      [path.join(root, "packages", "cli", "bin", "eddy.js"), "connect", "distributed", file],
      { cwd: root, stdio: ["ignore", "pipe", "pipe"] }
    )
    let out = ""
    child.stdout!.on("data", (d) => {
      out = (out + String(d)).slice(-4000)
    })
    child.stderr!.on("data", (d) => {
      out = (out + String(d)).slice(-4000)
    })
    child.on("exit", (code, signal) =>
      Effect.runFork(Deferred.fail(exited, new Error(`worker exited (${code ?? signal}): ${out}`)))
    )
    return { child, port, url: `http://127.0.0.1:${port}`, exited, output: () => out }
  })

type WorkerProcess = Effect.Effect.Success<ReturnType<typeof spawnWorker>>

const kill = (child: ChildProcess) =>
  Effect.async<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
    child.kill("SIGKILL")
  })

const request = (url: string, method: string, body?: unknown) =>
  Effect.tryPromise(async () => {
    const res = await fetch(url, {
      method,
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await res.text()
    return { status: res.status, json: text === "" ? null : (JSON.parse(text) as unknown) }
  })

/** Polls `check` every 100 ms until it holds; fails after 60 s or when the worker exits. */
const until = (w: WorkerProcess, what: string, check: Effect.Effect<boolean>) =>
  Effect.gen(function* () {
    const deadline = Date.now() + 60_000
    while (!(yield* check)) {
      if (Date.now() > deadline) return yield* Effect.fail(new Error(`${what} not reached: ${w.output()}`))
      yield* Effect.raceFirst(Effect.sleep(100), Deferred.await(w.exited))
    }
  })

/** Whether worker `w` answers REST calls. */
const up = (w: WorkerProcess) =>
  request(`${w.url}/`, "GET").pipe(
    Effect.map((r) => r.status === 200),
    Effect.orElseSucceed(() => false)
  )

/** Whether `w` runs the connector's task (as its REST status says). */
const runsTask = (w: WorkerProcess) =>
  request(`${w.url}/connectors/${CONNECTOR}/status`, "GET").pipe(
    Effect.map((r) => {
      const task = (r.json as { tasks?: Array<{ state: string; worker_id: string }> } | null)?.tasks?.[0]
      return r.status === 200 && task?.state === "RUNNING" && task.worker_id.endsWith(`:${w.port}`)
    }),
    Effect.orElseSucceed(() => false)
  )

/** Runs the loop against a fresh in-process broker; fails on any lost or duplicated line. */
export const killLoop = (rounds: number, linesPerRound = 100) =>
  Effect.scoped(
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddyWith({ "group.min.session.timeout.ms": "1000" })
      const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
      yield* admin.createTopics([{ name: TOPIC, numPartitions: 1 }])
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "connect-eos-kill-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })))
      const input = path.join(dir, "input.txt")
      fs.writeFileSync(input, "")
      let n = 0
      const appendRound = Effect.gen(function* () {
        for (let i = 0; i < linesPerRound; i += 10) {
          fs.appendFileSync(input, Array.from({ length: 10 }, () => `line-${n++}\n`).join(""))
          yield* Effect.sleep(Math.floor(Math.random() * 20))
        }
      })
      const workers: Array<ChildProcess> = []
      yield* Effect.addFinalizer(() => Effect.forEach(workers, kill, { discard: true }))
      const start = Effect.tap(spawnWorker(bootstrap, dir), (w) => Effect.sync(() => workers.push(w.child)))
      let current = yield* start
      yield* until(current, "the first worker's REST API", up(current))
      const create = request(`${current.url}/connectors`, "POST", {
        name: CONNECTOR,
        config: { "connector.class": "FileStreamSource", file: input, topic: TOPIC, "exactly.once.support": "required" }
      })
      // the worker answers 409 until it has joined the group and knows its leader
      yield* until(
        current,
        "the connector created",
        create.pipe(
          Effect.map((r) => r.status === 201),
          Effect.orElseSucceed(() => false)
        )
      )
      yield* until(current, "the first worker running the task", runsTask(current))
      for (let round = 0; round < rounds; round++) {
        // the next worker starts while the current one copies lines; the current one dies at a random moment
        const next = yield* start
        yield* appendRound
        yield* Effect.sleep(Math.floor(Math.random() * 300))
        yield* kill(current.child)
        yield* until(next, `round ${round + 1}: the new worker running the task`, runsTask(next))
        current = next
        yield* Effect.log(`round ${round + 1}/${rounds}: killed a worker after ${n} lines`)
      }
      yield* appendRound
      const expected = Array.from({ length: n }, (_, i) => `line-${i}`)
      const started = Date.now()
      for (;;) {
        const seen = yield* valuesOf(bootstrap, TOPIC)
        if (seen.length > n || new Set(seen).size !== seen.length)
          return yield* Effect.dieMessage(`duplicated lines: ${seen.length} values for ${n} lines`)
        if (seen.length === n) {
          if (seen.some((v, i) => v !== expected[i])) return yield* Effect.dieMessage("lines out of order")
          return { lines: n, rounds }
        }
        if (Date.now() - started > 60_000)
          return yield* Effect.dieMessage(`only ${seen.length} of ${n} lines arrived: ${seen.slice(-3).join(", ")}`)
        yield* Effect.sleep(200)
      }
    })
  )

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rounds = Number(process.argv[2] ?? 50)
  Effect.runPromise(killLoop(rounds)).then(
    (r) => {
      console.log(`ok: ${r.rounds} kill -9 rounds, ${r.lines} lines, each seen exactly once by read_committed`)
      process.exit(0)
    },
    (e) => {
      console.error(e)
      process.exit(1)
    }
  )
}
