/**
 * `eddy broker --metrics-port` and `eddy perf --metrics`: a broker process serving its metrics endpoint,
 * and perf runs that print the broker's view of themselves (the counts checked exactly).
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { bin, type Result, runEddy } from "./runEddy.js"

const children: Array<ChildProcess> = []
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "eddy-cli-metrics-"))

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL")
  fs.rmSync(dir, { recursive: true, force: true })
})

/** Runs `eddy args...` to its end. */
const eddy = (args: ReadonlyArray<string>): Promise<Result> => runEddy(args)

/** Resolves with the first match of `re` in the output of `child`. */
const waitFor = (child: ChildProcess, re: RegExp, timeoutMs = 30_000) =>
  new Promise<RegExpMatchArray>((resolve, reject) => {
    let output = ""
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}; output:\n${output}`)), timeoutMs)
    const onData = (d: Buffer) => {
      output += d
      const m = output.match(re)
      if (m) {
        clearTimeout(timer)
        resolve(m)
      }
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", onData)
  })

describe("eddy metrics", () => {
  it("broker --metrics-port serves /health and /metrics; perf --metrics prints the broker's counts", async () => {
    const broker = spawn(process.execPath, [bin, "broker", "--port", "0", "--metrics-port", "0", "--data-dir", dir], {
      stdio: ["ignore", "pipe", "pipe"]
    })
    children.push(broker)
    const listening = waitFor(broker, /listening on 127\.0\.0\.1:(\d+)/)
    const metrics = waitFor(broker, /Metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/)
    const port = Number((await listening)[1])
    const metricsPort = Number((await metrics)[1])
    assert.isAbove(metricsPort, 0)
    const health = await fetch(`http://127.0.0.1:${metricsPort}/health`)
    assert.strictEqual(health.status, 200)
    assert.strictEqual(((await health.json()) as { status: string }).status, "ok")

    const bootstrap = ["--bootstrap-server", `127.0.0.1:${port}`]
    const created = await eddy(["topics", "create", "perf-metrics", "--partitions", "2", ...bootstrap])
    assert.strictEqual(created.code, 0, created.stderr)
    // the endpoint by port alone (host from --bootstrap-server), then by URL
    const produced = await eddy([
      "perf",
      "produce",
      "perf-metrics",
      "--num-records",
      "3000",
      "--record-size",
      "100",
      "--metrics",
      String(metricsPort),
      ...bootstrap
    ])
    assert.strictEqual(produced.code, 0, produced.stderr)
    const producedLines = produced.stdout.trim().split("\n")
    assert.match(producedLines[0]!, /^3000 records sent/)
    assert.match(
      producedLines[1]!,
      /^broker: 3000 records in \(0\.\d\d MB of batches\), \d+ Produce requests, [\d.]+ ms avg total time \([\d.]+ ms queue, [\d.]+ ms local, [\d.]+ ms response\), \d+ log flushes \([\d.]+ ms avg\)\.$/
    )
    const consumed = await eddy([
      "perf",
      "consume",
      "perf-metrics",
      "--messages",
      "3000",
      "--metrics",
      `http://127.0.0.1:${metricsPort}/metrics`,
      ...bootstrap
    ])
    assert.strictEqual(consumed.code, 0, consumed.stderr)
    assert.match(
      consumed.stdout.trim().split("\n")[2]!,
      /^broker: 3000 records out \(0\.\d\d MB of batches\), \d+ Fetch requests/
    )

    const unreachable = await eddy([
      "perf",
      "produce",
      "perf-metrics",
      "--num-records",
      "1",
      "--record-size",
      "1",
      "--metrics",
      "1",
      ...bootstrap
    ])
    assert.notStrictEqual(unreachable.code, 0)
    assert.match(unreachable.stderr, /Cannot read metrics from http:\/\/127\.0\.0\.1:1\/metrics/)

    broker.kill("SIGTERM")
    assert.strictEqual(await new Promise((resolve) => broker.on("exit", resolve)), 0)
  }, 120_000) // five `eddy` processes, each starting tsx
})
