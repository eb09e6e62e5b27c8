/**
 * Bounded memory per connection (`queued.max.response.bytes`): a broker in a child process
 * (`test/broker/fixtures/brokerProcess.js`) serves a polite client alone (the baseline), then while a hostile
 * connection pipelines Fetch requests with 8 MiB answers and never reads them. Printed: the broker's resident
 * memory and the polite client's request latency (p50, p99) during the flood as ratios to the baseline of the
 * same run. `EDDY_BENCH_HOLD_MS` sets the flood's duration (default 10 s). Linux only (`/proc`).
 */
import * as child from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { fill, flood, PoliteClient, percentile, rssOf } from "../test/broker/fixtures/fetchFlood.js"

const MiB = 1 << 20
const HOLD_MS = Number(process.env.EDDY_BENCH_HOLD_MS ?? 10_000)
const here = path.dirname(fileURLToPath(import.meta.url))
const fixture = path.join(here, "..", "test", "broker", "fixtures", "brokerProcess.js")

const spawnBroker = (dir: string, props: Record<string, string>) =>
  new Promise<{ readonly proc: child.ChildProcess; readonly port: number }>((resolve, reject) => {
    const proc = child.spawn(
      process.execPath,
      ["--conditions=@eddy/source", "--import", "tsx", fixture, dir, JSON.stringify(props)],
      {
        stdio: ["ignore", "pipe", "inherit"]
      }
    )
    let out = ""
    proc.stdout!.on("data", (c: Buffer) => {
      out += c.toString()
      const m = /LISTENING (\d+)/.exec(out)
      if (m) resolve({ proc, port: Number(m[1]) })
    })
    proc.once("exit", (code) => reject(new Error(`broker exited early (${code})`)))
  })

const case_ = async (budget: number) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "eddy-bench-flood-"))
  const { proc, port } = await spawnBroker(dir, {
    "queued.max.response.bytes": String(budget),
    "queued.max.request.bytes": String(MiB)
  })
  try {
    const admin = await PoliteClient.connect(port)
    await fill(admin, "big", 8 * MiB)
    await fill(admin, "small", 64 * 1024, 16 * 1024)
    admin.close()
    const r = await flood({
      port,
      pid: proc.pid!,
      bigTopic: "big",
      smallTopic: "small",
      fetchBytes: 8 * MiB,
      baselineMs: 2000,
      holdMs: HOLD_MS,
      abortGrowthBytes: 1024 * MiB
    })
    const row = (name: string, base: number, during: number, unit: string, digits: number) =>
      console.log(
        `| ${name} | ${base.toFixed(digits)} ${unit} | ${during.toFixed(digits)} ${unit} | ${(during / base).toFixed(2)}x |`
      )
    console.log(
      `\nqueued.max.response.bytes = ${budget / MiB} MiB, flood held ${HOLD_MS} ms, ${r.fetchesWritten} fetches written${r.aborted ? " (ABORTED: memory over 1 GiB)" : ""}\n`
    )
    console.log("| measure | baseline (no flood) | during the flood | ratio |")
    console.log("| --- | --- | --- | --- |")
    row("broker RSS", r.baselineRss / MiB, r.peakRss / MiB, "MiB", 0)
    row("polite Fetch p50", percentile(r.before, 50), percentile(r.during, 50), "ms", 2)
    row("polite Fetch p99", percentile(r.before, 99), percentile(r.during, 99), "ms", 2)
    console.log(
      `\n(${r.before.length} polite requests before, ${r.during.length} during; RSS after ${((rssOf(proc.pid!) ?? 0) / MiB).toFixed(0)} MiB)`
    )
  } finally {
    proc.kill("SIGKILL")
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** Runs the flood against the default budget (100 MiB) and a small one (16 MiB). */
export const run = async (): Promise<void> => {
  if (!fs.existsSync("/proc/self/status")) {
    console.log("skipped: needs /proc to sample the broker's memory")
    return
  }
  await case_(100 * MiB)
  await case_(16 * MiB)
}
