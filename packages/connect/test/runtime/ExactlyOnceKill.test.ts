/**
 * The headline exactly-once source test: distributed workers (`eddy connect distributed`, each its own process)
 * running an exactly-once file source are killed with SIGKILL 20 times while lines are appended; a
 * read_committed consumer sees every line exactly once, in order. Needs the built CLI (`npm run build`, which
 * `npm test` runs first).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { killLoop } from "../../scripts/eosKill.js"

describe("exactly-once file source under kill -9", () => {
  it.live(
    "20 kill -9 rounds of a distributed worker process: every line exactly once for read_committed",
    () =>
      Effect.gen(function* () {
        const result = yield* killLoop(20, 60)
        assert.strictEqual(result.rounds, 20)
        assert.isAbove(result.lines, 1000)
      }),
    400_000
  )
})
