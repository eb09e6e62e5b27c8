/**
 * Long simulation runs from the command line (`scripts/sim.sh [seeds] [first-seed]`): one line per run (seed,
 * commit, derived options, outcome), the full explanation of every failing run, and a summary; exit code 1 when
 * any run failed. `SIM_BROKEN=1` runs the deliberately broken variant, `SIM_SCENARIO=<name>` a named scenario,
 * `SIM_TRACE=1` prints every event of each run (for one seed).
 */
import * as Cluster from "./Cluster.js"
import * as Scenarios from "./Scenarios.js"

const seeds = Number(process.argv[2] ?? 10_000)
const first = Number(process.argv[3] ?? 1)
const scenario = Scenarios.all.find((s) => s.name === process.env.SIM_SCENARIO)
if (process.env.SIM_SCENARIO !== undefined && scenario === undefined) {
  console.error(`unknown scenario; one of: ${Scenarios.all.map((s) => s.name).join(", ")}`)
  process.exit(2)
}
const started = performance.now()
let failed = 0
let acknowledged = 0
for (let seed = first; seed < first + seeds; seed++) {
  const r = Cluster.run({
    seed,
    brokenHighWatermark: process.env.SIM_BROKEN === "1",
    trace: process.env.SIM_TRACE === "1",
    ...(scenario === undefined ? {} : { scenario })
  })
  acknowledged += r.history.stats.acknowledged
  if (r.trace !== undefined) for (const line of r.trace) console.log(line)
  if (r.ok) console.log(Cluster.describe(r))
  else {
    failed++
    console.log(Cluster.explain(r))
  }
}
const seconds = (performance.now() - started) / 1000
console.log(
  `${seeds - failed}/${seeds} runs passed (seeds ${first}..${first + seeds - 1}, commit ${Cluster.commit()}), ` +
    `${acknowledged} acknowledged sends checked, ${seconds.toFixed(1)} s`
)
process.exit(failed === 0 ? 0 : 1)
