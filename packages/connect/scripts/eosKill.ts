/**
 * kill -9 of an exactly-once file source, repeated: runs examples/connect-eos-file-source.ts (a worker process
 * with exactly-once sources enabled) against an in-process broker while lines are appended to its input file;
 * each round starts the next worker process, SIGKILLs the running one at a random moment (mostly inside an
 * open transaction; sometimes after the new one has fenced it) and waits for the new one to run, `rounds`
 * times; then lets the last worker catch up and checks that a read_committed consumer sees every line exactly
 * once, in order.
 *
 *   npm run build && node --conditions=@eddy/source --import tsx packages/connect/scripts/eosKill.ts 50
 *
 * (or scripts/connect-eos-kill.sh). The CI test (test/runtime/ExactlyOnceKill.test.ts) runs 20 rounds.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as Admin from "@eddy/core/client/Admin"
import { Deferred, Effect } from "effect"
import { valuesOf } from "../test/runtime/eosUtil.js"
import { startEddy } from "../test/util.js"

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..")
const TOPIC = "eos-kill-lines"

/** A started worker process and a Deferred completed when it prints RUNNING (or failed when it exits first). */
const spawnWorker = (env: Record<string, string>) =>
  Effect.gen(function* () {
    const running = yield* Deferred.make<void, Error>()
    const child = spawn(process.execPath, [path.join(root, "examples", "dist", "connect-eos-file-source.js")], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    const done = (e: Effect.Effect<void, Error>) => Effect.runFork(Deferred.complete(running, e))
    child.stderr!.on("data", (d) => {
      out += String(d)
    })
    child.stdout!.on("data", (d) => {
      out += String(d)
      if (out.includes("RUNNING")) done(Effect.void)
    })
    child.on("exit", (code, signal) => done(Effect.fail(new Error(`worker exited (${code ?? signal}): ${out}`))))
    return { child, running, output: () => out }
  })

const kill = (child: ChildProcess) =>
  Effect.async<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
    child.kill("SIGKILL")
  })

const awaitRunning = (w: { readonly running: Deferred.Deferred<void, Error>; readonly output: () => string }) =>
  Deferred.await(w.running).pipe(
    Effect.timeoutFail({
      duration: "60 seconds",
      onTimeout: () => new Error(`the worker did not reach RUNNING: ${w.output()}`)
    })
  )

/** Runs the loop against a fresh in-process broker; fails on any lost or duplicated line. */
export const killLoop = (rounds: number, linesPerRound = 100) =>
  Effect.scoped(
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy
      const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
      yield* admin.createTopics([{ name: TOPIC, numPartitions: 1 }])
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "connect-eos-kill-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })))
      const input = path.join(dir, "input.txt")
      fs.writeFileSync(input, "")
      const env = { EDDY_BOOTSTRAP: bootstrap, INPUT: input, TOPIC, GROUP_ID: "eos-kill" }
      let n = 0
      const appendRound = Effect.gen(function* () {
        for (let i = 0; i < linesPerRound; i += 10) {
          fs.appendFileSync(input, Array.from({ length: 10 }, () => `line-${n++}\n`).join(""))
          yield* Effect.sleep(Math.floor(Math.random() * 20))
        }
      })
      const workers: Array<ChildProcess> = []
      yield* Effect.addFinalizer(() => Effect.forEach(workers, kill, { discard: true }))
      let current = yield* spawnWorker(env)
      workers.push(current.child)
      yield* awaitRunning(current)
      for (let round = 0; round < rounds; round++) {
        // the next worker loads while the current one copies lines; the current one dies at a random moment
        const next = yield* spawnWorker(env)
        workers.push(next.child)
        yield* appendRound
        yield* Effect.sleep(Math.floor(Math.random() * 300))
        yield* kill(current.child)
        yield* awaitRunning(next)
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
