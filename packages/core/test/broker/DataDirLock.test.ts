/**
 * The data directory lock (`broker/internal/lock.ts`) with brokers in child processes: a lock left by a
 * SIGKILLed broker is taken over whatever pid its old pid file names, two brokers started at the same
 * moment on a directory with a stale lock never both start, and a live broker's directory is refused
 * with one line.
 */
import * as child from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit } from "effect"
import * as Lock from "../../src/broker/internal/lock.js"
import { brokerProcessFixture, childNodeArgs, processExited, spawnBrokerProcess, startBroker, tempDir } from "./util.js"

/** Starts a broker process; resolves with "started" once it listens, or "exited" if it ends first. */
const race = (dir: string) =>
  Effect.acquireRelease(
    Effect.sync(() =>
      child.spawn(process.execPath, [...childNodeArgs, brokerProcessFixture, dir, "{}"], { stdio: "pipe" })
    ),
    (proc) => Effect.sync(() => proc.exitCode === null && proc.signalCode === null && proc.kill("SIGKILL"))
  ).pipe(
    Effect.flatMap((proc) =>
      Effect.async<{ readonly proc: child.ChildProcess; readonly outcome: "started" | "exited" }>((resume) => {
        let out = ""
        proc.stdout!.on("data", (chunk: Buffer) => {
          out += chunk.toString()
          if (out.includes("LISTENING")) resume(Effect.succeed({ proc, outcome: "started" }))
        })
        proc.stderr!.resume()
        proc.on("exit", () => resume(Effect.succeed({ proc, outcome: "exited" })))
      })
    )
  )

const kill = (proc: child.ChildProcess) =>
  Effect.gen(function* () {
    proc.kill("SIGKILL")
    yield* processExited(proc)
  })

/** Leaves a stale `.lock.sock` in `dir`: a process binds it and is SIGKILLed (no tsx: fast). */
const staleSocket = (dir: string) =>
  Effect.async<void>((resume) => {
    const script = 'require("net").createServer().listen(process.argv[1], () => process.kill(process.pid, "SIGKILL"))'
    const proc = child.spawn(process.execPath, ["-e", script, path.join(dir, ".lock.sock")], { stdio: "ignore" })
    proc.on("exit", () => resume(Effect.void))
  })

describe("data directory lock", () => {
  it.scopedLive("a live broker's directory is refused in one line; once SIGKILLed its lock is taken over", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const { proc } = yield* spawnBrokerProcess(dir)
      const exit = yield* Effect.exit(Effect.scoped(startBroker({ dir })))
      assert.isTrue(Exit.isFailure(exit))
      const message = Exit.isFailure(exit) ? String(Cause.squash(exit.cause)) : ""
      assert.notInclude(message, "\n")
      assert.match(
        message,
        new RegExp(
          `Cannot use data directory ${dir}: it is in use by another broker \\(a live process holds .*\\.lock\\.sock\\)$`
        )
      )
      yield* kill(proc)
      const leftSocket = fs.existsSync(path.join(dir, ".lock.sock"))
      // what a reused pid looks like to a pid-based lock: the old pid file names a live process (our parent)
      fs.writeFileSync(path.join(dir, ".lock"), `${process.ppid}\n`)
      const { broker } = yield* startBroker({ dir })
      assert.strictEqual(broker.dataDir, dir)
      assert.isTrue(leftSocket, "the killed broker left its socket file, taken over")
      assert.isFalse(fs.existsSync(path.join(dir, ".lock")), "the old pid file is removed")
    })
  )

  it.scopedLive(
    "of two brokers started at the same moment on one directory with a stale lock, exactly one starts",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        yield* staleSocket(dir)
        assert.isTrue(fs.existsSync(path.join(dir, ".lock.sock")))
        const outcomes = yield* Effect.all([race(dir), race(dir)], { concurrency: "unbounded" })
        assert.deepStrictEqual(outcomes.map((o) => o.outcome).sort(), ["exited", "started"])
        // the loser found the winner's lock, not a stale one
        const loser = outcomes.find((o) => o.outcome === "exited")!
        assert.notStrictEqual(loser.proc.exitCode, null)
      })
  )

  it.scopedLive("a directory whose path is too long for a socket address is locked through its descriptor", () =>
    Effect.gen(function* () {
      const dir = path.join(yield* tempDir, "d".repeat(120))
      fs.mkdirSync(dir)
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* Lock.acquire(dir)
          assert.isTrue(fs.existsSync(path.join(dir, ".lock.sock")))
          const second = yield* Effect.flip(Effect.scoped(Lock.acquire(dir)))
          assert.include(second.message, "in use by another broker")
        })
      )
      assert.isFalse(fs.existsSync(path.join(dir, ".lock.sock")), "released with the scope")
      yield* Effect.scoped(Lock.acquire(dir))
    })
  )
})
