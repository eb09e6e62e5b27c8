/**
 * kill -9 under exactly_once_v2, repeated: runs examples/order-totals.ts as a child process, sends orders
 * while it runs, SIGKILLs it at a random moment and restarts it, `rounds` times; then lets a last instance
 * catch up and checks, reading with read_committed, that every customer's count and total in
 * `order-totals` and in the store's changelog equal the reference (each order counted exactly once).
 *
 *   npm run build && node --conditions=@eddy/source --import tsx packages/streams/scripts/eosKill.ts 100
 *
 * The CI test (test/runtime/ExactlyOnce.test.ts) runs a few rounds of the same loop.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as Admin from "@eddy/core/client/Admin"
import * as Producer from "@eddy/core/client/Producer"
import * as Topic from "@eddy/core/client/Topic"
import { Effect, Schema } from "effect"
import { readAll, startEddy } from "../test/runtime/util.js"

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..")

const Totals = Schema.Struct({ count: Schema.Number, total: Schema.Number })
const Order = Schema.Struct({ id: Schema.String, customer: Schema.String, amount: Schema.Number })
const orders = Topic.make("orders", { key: Schema.String, value: Order })
const totals = Topic.make("order-totals", { key: Schema.String, value: Totals })
const changelog = Topic.make("order-totals-app-totals-changelog", { key: Schema.String, value: Totals })

/** Starts the example in `run` mode; resolves once it prints RUNNING. */
const startApp = (env: Record<string, string>) =>
  Effect.async<ChildProcess, Error>((resume) => {
    const child = spawn(process.execPath, [path.join(root, "examples", "dist", "order-totals.js"), "run"], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    child.stderr!.on("data", (d) => {
      out += String(d)
    })
    child.stdout!.on("data", (d) => {
      out += String(d)
      if (out.includes("RUNNING")) resume(Effect.succeed(child))
    })
    child.on("exit", (code) => resume(Effect.fail(new Error(`order-totals exited with ${code}: ${out}`))))
  }).pipe(
    Effect.timeoutFail({ duration: "60 seconds", onTimeout: () => new Error("order-totals did not reach RUNNING") })
  )

const kill = (child: ChildProcess) =>
  Effect.async<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
    child.kill("SIGKILL")
  })

/** Runs the loop against a fresh in-process broker; fails on any mismatch. */
export const killLoop = (rounds: number, ordersPerRound = 200) =>
  Effect.scoped(
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy
      const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
      yield* admin.createTopics([
        { name: "orders", numPartitions: 4 },
        { name: "order-totals", numPartitions: 4 }
      ])
      const producer = yield* Producer.make({ "bootstrap.servers": bootstrap, "linger.ms": 2 })
      const env = {
        EDDY_BOOTSTRAP: bootstrap,
        STATE_DIR: mkdtempSync(path.join(os.tmpdir(), "eos-kill-")),
        // the group drops a killed instance after its session: 1 s instead of the example's 3 s per round
        SESSION_TIMEOUT_MS: "1000"
      }
      const reference = new Map<string, { count: number; total: number }>()
      let n = 0
      const sendRound = Effect.gen(function* () {
        const batch = Array.from({ length: ordersPerRound }, () => {
          const customer = `c${n % 13}`
          const amount = (n % 7) + 1
          n++
          const r = reference.get(customer) ?? { count: 0, total: 0 }
          reference.set(customer, { count: r.count + 1, total: r.total + amount })
          return { key: customer, value: { id: `o${n}`, customer, amount } }
        })
        // in slices, so the instance is killed while processing, committing and rebalancing
        for (let i = 0; i < batch.length; i += 20) {
          yield* producer.sendBatch(orders, batch.slice(i, i + 20))
          yield* Effect.sleep(Math.floor(Math.random() * 30))
        }
      })
      for (let round = 0; round < rounds; round++) {
        const child = yield* startApp(env)
        yield* sendRound
        yield* Effect.sleep(Math.floor(Math.random() * 400))
        yield* kill(child)
        yield* Effect.log(`round ${round + 1}/${rounds}: killed after ${n} orders`)
      }
      const last = yield* startApp(env)
      yield* Effect.addFinalizer(() => kill(last))
      const latest = (records: ReadonlyArray<{ key: string | null; value: { count: number; total: number } }>) => {
        const m = new Map<string, { count: number; total: number }>()
        for (const r of records) m.set(r.key!, r.value)
        return m
      }
      const matches = (m: Map<string, { count: number; total: number }>) =>
        [...reference].every(([k, v]) => m.get(k)?.count === v.count && m.get(k)?.total === v.total)
      const started = Date.now()
      let output = latest(yield* readAll(bootstrap, totals, 4))
      while (!matches(output)) {
        for (const [k, v] of output) {
          const want = reference.get(k)!
          if (v.count > want.count)
            return yield* Effect.dieMessage(`${k} counted ${v.count} orders, sent ${want.count}`)
        }
        if (Date.now() - started > 90_000) {
          return yield* Effect.dieMessage(
            `output never matched the reference: ${JSON.stringify([...output])} vs ${JSON.stringify([...reference])}`
          )
        }
        yield* Effect.sleep(200)
        output = latest(yield* readAll(bootstrap, totals, 4))
      }
      const store = latest(yield* readAll(bootstrap, changelog, 4))
      if (!matches(store)) return yield* Effect.dieMessage(`the changelog differs from the reference`)
      // the app runs the default store type: persistent stores on disk, wiped and restored after each kill
      const appDir = path.join(env.STATE_DIR, "order-totals-app")
      const persistent = readdirSync(appDir).filter((t) => existsSync(path.join(appDir, t, "totals")))
      if (persistent.length === 0) return yield* Effect.dieMessage(`no persistent store under ${appDir}`)
      return { orders: n, customers: reference.size }
    })
  )

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rounds = Number(process.argv[2] ?? 100)
  Effect.runPromise(killLoop(rounds)).then(
    (r) => {
      console.log(`ok: ${rounds} kills, ${r.orders} orders to ${r.customers} customers, each counted exactly once`)
      process.exit(0)
    },
    (e) => {
      console.error(e)
      process.exit(1)
    }
  )
}
