import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { killLoop } from "../../scripts/eosKill.js"

describe("exactly_once_v2", () => {
  it.live(
    "kill -9 of the instance mid-run, repeated: every order counted exactly once in the output and the store",
    () =>
      Effect.gen(function* () {
        const result = yield* killLoop(20, 150)
        assert.strictEqual(result.orders, 3000)
      }),
    600_000
  )
})
