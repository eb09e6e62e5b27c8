/**
 * The scenarios of Kafka's Raft simulation tests (leader kill, leader partitioned away, 2|3 split, back-to-back
 * leader failures, all down then a majority back) on the simulated cluster, each over a handful of seeds: no
 * anomaly, no violated invariant, and the cluster recovers (writes are acknowledged after the fault).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Cluster from "./Cluster.js"
import * as Scenarios from "./Scenarios.js"

const seeds = Number(process.env.SIM_SCENARIO_SEEDS ?? 20)

describe("simulation scenarios", () => {
  for (const scenario of Scenarios.all)
    it(scenario.name, { timeout: 120_000 }, () => {
      for (let seed = 1; seed <= seeds; seed++) {
        const r = Cluster.run({ seed, scenario })
        if (seed === 1) console.log(`${scenario.name}: ${Cluster.describe(r)}`)
        assert.isTrue(r.ok, Cluster.explain(r))
        // the fault happened and the cluster moved on: a new leader epoch, and writes acknowledged after it
        assert.isAtLeast(r.stats.maxEpoch, 1, Cluster.describe(r))
        assert.isTrue(r.history.stats.acknowledged > 0, Cluster.describe(r))
      }
    })
})
