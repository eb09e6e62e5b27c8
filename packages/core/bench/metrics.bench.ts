/**
 * The cost of the broker's metrics: produce ingest of a broker serving metrics (`metrics.port`) beside
 * one without, in the same run. Both run in child processes (bench/brokerServer.ts) and are driven in
 * rounds of off, on, on, off (then on, off, off, on) so that a noisy machine weighs on both alike; the
 * on-broker is scraped once per round, as Prometheus would every few seconds. Half the rounds run on a
 * pair spawned off-then-on, half on a pair spawned on-then-off (an A/A run, `EDDY_BENCH_AA=1`, showed
 * the later-spawned broker measuring faster on this machine).
 *
 * - 1 MiB Produce v7 requests (4 partitions x 256 KiB batches of 1 KiB records), acks=1;
 * - one 16 KiB batch per request (the per-request cost: where request timers weigh most), acks=1.
 * Goal: ingest with metrics on >= 0.95x metrics off. The brokers' CPU time per MiB (from /proc) is shown
 * too: on a shared machine it moves far less than wall-clock throughput. Beside it, the recorder's own cost per request and
 * per produced batch, timed in this process (what metrics add to each request, free of the machine's noise).
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect } from "effect"
import * as Metrics from "../src/broker/Metrics.js"
import * as RecordBatch from "../src/protocol/RecordBatch.js"
import { Conn, createTopic, drive, produceFrame, spawnServer } from "./broker.bench.js"

const MiB = 1 << 20
const ROUNDS = Number(process.env.EDDY_BENCH_ROUNDS ?? 20)
const VOLUME = Number(process.env.EDDY_BENCH_MIB ?? 16) * MiB

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** Nanoseconds per call of the recorder's request timing and of its produce accounting (one 16 KiB batch). */
const recorderCost = () => {
  const recorder = Effect.runSync(Metrics.makeRecorder)
  // a 16 KiB batch of 1 KiB records
  const batches = [RecordBatch.encode(Array.from({ length: 15 }, () => ({ value: Buffer.alloc(1024, 0x61) })))]
  const time = (n: number, f: () => void) => {
    for (let i = 0; i < 10_000; i++) f()
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < n; i++) f()
    return Number(process.hrtime.bigint() - t0) / n
  }
  const request = time(200_000, () => {
    const t = recorder.now()
    recorder.request(0, t, recorder.now(), recorder.now(), recorder.now())
  })
  const produced = time(200_000, () => recorder.produced("t", batches))
  return { request, produced }
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux; 0 elsewhere). */
const cpuSeconds = (pid: number): number => {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return 0
  }
}

interface Tally {
  requests: number
  offSecs: number
  onSecs: number
  offCpu: number
  onCpu: number
  mb: number
  count: number
  readonly ratios: Array<number>
}

/**
 * One pair of broker processes, spawned off-then-on or on-then-off (the two sessions of a run cancel any
 * advantage of spawn order), driven in `rounds` rounds of each case; adds to `tallies` (large, small).
 */
const session = async (dir: string, onFirst: boolean, aa: boolean, rounds: number, tallies: Array<Tally>) => {
  const spawnOff = () => spawnServer("broker", path.join(dir, `off-${onFirst}`))
  const spawnOn = () => spawnServer("broker", path.join(dir, `on-${onFirst}`), aa ? {} : { "metrics.port": "0" })
  const on = onFirst ? await spawnOn() : undefined
  const off = await spawnOff()
  const on_ = on ?? (await spawnOn())
  try {
    const offConn = await Conn.open(off.port)
    const onConn = await Conn.open(on_.port)
    for (const small of [false, true]) {
      const tally = tallies[small ? 1 : 0]!
      const topic = small ? "small" : "large"
      await createTopic(offConn, topic)
      await createTopic(onConn, topic)
      const { frame } = produceFrame(topic, 1024, 1, small)
      const count = Math.max(1, Math.round((small ? VOLUME / 4 : VOLUME) / frame.length))
      await drive(offConn, frame, 16)
      await drive(onConn, frame, 16)
      for (let round = 0; round < rounds; round++) {
        // off, on, on, off (then on, off, off, on): drift in the machine's load weighs on both alike
        const order = round % 2 === 0 ? [offConn, onConn, onConn, offConn] : [onConn, offConn, offConn, onConn]
        let offRound = 0
        let onRound = 0
        for (const conn of order) {
          const pid = conn === offConn ? off.pid : on_.pid
          const cpu = cpuSeconds(pid)
          const secs = await drive(conn, frame, count)
          const used = cpuSeconds(pid) - cpu
          if (conn === offConn) {
            offRound += secs
            tally.offCpu += used
          } else {
            onRound += secs
            tally.onCpu += used
          }
        }
        if (!aa) {
          const scraped = await fetch(`http://127.0.0.1:${on_.metricsPort}/metrics`)
          if (scraped.status !== 200) throw new Error(`metrics endpoint answered ${scraped.status}`)
          await scraped.text()
        }
        tally.offSecs += offRound
        tally.onSecs += onRound
        tally.mb += (2 * count * frame.length) / MiB
        tally.requests += 2 * count
        tally.count = count
        tally.ratios.push(offRound / onRound)
      }
    }
    offConn.close()
    onConn.close()
  } finally {
    await on_.stop()
    await off.stop()
  }
}

export const run = async (): Promise<void> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "eddy-bench-metrics-"))
  // EDDY_BENCH_AA=1: both brokers without metrics (an A/A run: how far apart two equal brokers measure)
  const aa = process.env.EDDY_BENCH_AA === "1"
  const tallies: Array<Tally> = [0, 1].map(() => ({
    requests: 0,
    offSecs: 0,
    onSecs: 0,
    offCpu: 0,
    onCpu: 0,
    mb: 0,
    count: 0,
    ratios: []
  }))
  try {
    await session(dir, false, aa, Math.ceil(ROUNDS / 2), tallies)
    await session(dir, true, aa, Math.floor(ROUNDS / 2), tallies)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
  console.log(
    `| case${aa ? " (A/A: both brokers without metrics)" : ""} | metrics off MB/s | metrics on MB/s | on / off (median of rounds) | on / off (total) | broker CPU µs per request, off / on | CPU off / on |`
  )
  console.log("| --- | --- | --- | --- | --- | --- | --- |")
  for (const [i, t] of tallies.entries()) {
    console.log(
      `| Eddy produce 1024 B, acks=1, ${i === 1 ? "one 16 KiB batch per request" : "1 MiB requests"} (${ROUNDS} rounds x 2 x ${t.count} requests) | ` +
        `${fmt(t.mb / t.offSecs)} | ${fmt(t.mb / t.onSecs)} | ${fmt(median(t.ratios), 2)}x | ${fmt(t.offSecs / t.onSecs, 2)}x | ${fmt((t.offCpu * 1e6) / t.requests)} / ${fmt((t.onCpu * 1e6) / t.requests)} | ${fmt(t.offCpu / t.onCpu, 2)}x |`
    )
  }
  const cost = recorderCost()
  console.log("")
  console.log(
    `Recorder cost in this process: ${fmt(cost.request)} ns per request (4 clock reads, 1 counter, 4 histograms), ` +
      `${fmt(cost.produced)} ns per produced partition (2 counters, record count from the batch header).`
  )
}
