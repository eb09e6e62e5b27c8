/**
 * The cluster simulation of issue 21: seeded runs of three brokers under random faults, checked by the history
 * and replication checkers. `SIM_SEEDS` and `SIM_FIRST_SEED` change the seeds (`scripts/sim.sh` runs 10,000).
 * A failing seed prints everything needed to replay it: `scripts/sim.sh 1 <seed>`.
 */
import { assert, describe, it } from "@effect/vitest"
import type { RunResult } from "./Cluster.js"
import * as Cluster from "./Cluster.js"

const seeds = Number(process.env.SIM_SEEDS ?? 1000)
const first = Number(process.env.SIM_FIRST_SEED ?? 1)

const runSeeds = (from: number, count: number, options: { brokenHighWatermark?: boolean } = {}) => {
  const results: Array<RunResult> = []
  for (let seed = from; seed < from + count; seed++) results.push(Cluster.run({ seed, ...options }))
  return results
}

describe("cluster simulation", () => {
  it("one seed reproduces a run exactly; different seeds make different runs", () => {
    const a = Cluster.run({ seed: 4242 })
    const b = Cluster.run({ seed: 4242 })
    console.log(Cluster.describe(a))
    assert.strictEqual(a.traceHash, b.traceHash)
    assert.deepStrictEqual(a.history, b.history)
    assert.deepStrictEqual(a.options, b.options)
    assert.deepStrictEqual(a.faults, b.faults)
    const hashes = new Set([1, 2, 3, 4, 5].map((seed) => Cluster.run({ seed }).traceHash))
    assert.strictEqual(hashes.size, 5)
  })

  it(`${seeds} seeds of random faults: no anomaly, no violated invariant`, { timeout: 600_000 }, () => {
    const started = performance.now()
    const results = runSeeds(first, seeds)
    const failed = results.filter((r) => !r.ok)
    const sum = (f: (r: RunResult) => number) => results.reduce((n, r) => n + f(r), 0)
    const executed: Record<string, number> = {}
    for (const r of results) for (const [k, v] of Object.entries(r.stats.executed)) executed[k] = (executed[k] ?? 0) + v
    console.log(
      `simulation: seeds ${first}..${first + seeds - 1}, commit ${Cluster.commit()}, ${failed.length} failed, ` +
        `${sum((r) => r.history.stats.acknowledged)} acknowledged sends, ${sum((r) => r.history.stats.reads)} reads, ` +
        `${sum((r) => r.stats.truncated)} records truncated, faults ${JSON.stringify(executed)}, ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s`
    )
    for (const r of failed.slice(0, 3)) console.log(Cluster.explain(r))
    assert.deepStrictEqual(
      failed.map((r) => r.seed),
      []
    )
    // the runs are not vacuous: elections, truncations and every kind of fault happened
    assert.isAbove(
      sum((r) => r.stats.maxEpoch),
      seeds
    )
    assert.isAbove(
      sum((r) => r.stats.truncated),
      0
    )
    if (seeds >= 200)
      for (const kind of ["Kill", "Crash", "DiskLoss", "DiskFail", "DiskStall", "Pause", "Partition", "ClockJump"])
        assert.isAbove(executed[kind] ?? 0, 0, kind)
  })

  it("the broken variant (the high watermark past the ISR) is caught within the CI seeds", { timeout: 120_000 }, () => {
    const results = runSeeds(first, Math.min(seeds, 150), { brokenHighWatermark: true })
    const replication = results.filter((r) => r.violations.some((v) => v.name === "committed-missing"))
    const history = results.filter((r) => !r.history.valid)
    console.log(
      `broken variant: ${replication.length}/${results.length} runs with committed-missing, ` +
        `${history.length} with history anomalies (e.g. ${history[0] === undefined ? "none" : Cluster.describe(history[0])})`
    )
    assert.isAbove(replication.length, results.length / 2)
    assert.isAbove(history.length, 0)
  })
})
