/**
 * Start-up and shutdown of `TestBroker` (a broker inside a test suite): `startTestBroker()` until its port
 * answers, then `close()`, for in-memory and temp-dir storage, 20 rounds each after one warm-up round.
 */
import * as net from "node:net"
import * as TestBroker from "../src/testing/TestBroker.js"

const ROUNDS = 20

const answers = (port: number) =>
  new Promise<void>((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => {
      s.destroy()
      resolve()
    })
    s.on("error", reject)
  })

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

/** Prints median and p95 of start-up and close per storage. */
export const run = async (): Promise<void> => {
  console.log("| storage | start median | start p95 | close median | close p95 |")
  console.log("| --- | --- | --- | --- | --- |")
  for (const storage of ["memory", "disk"] as const) {
    const starts: Array<number> = []
    const closes: Array<number> = []
    for (let i = 0; i <= ROUNDS; i++) {
      const t0 = performance.now()
      const broker = await TestBroker.startTestBroker({ storage })
      await answers(broker.port)
      const t1 = performance.now()
      await broker.close()
      const t2 = performance.now()
      if (i === 0) continue // warm-up: module loading and JIT
      starts.push(t1 - t0)
      closes.push(t2 - t1)
    }
    starts.sort((a, b) => a - b)
    closes.sort((a, b) => a - b)
    const ms = (n: number) => `${n.toFixed(1)} ms`
    console.log(
      `| ${storage} | ${ms(percentile(starts, 50))} | ${ms(percentile(starts, 95))} | ${ms(percentile(closes, 50))} | ${ms(percentile(closes, 95))} |`
    )
  }
}
