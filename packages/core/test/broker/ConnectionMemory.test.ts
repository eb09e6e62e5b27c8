/**
 * Bounded memory per connection: a client that pipelines Fetch requests with 8 MiB answers and never reads
 * them keeps the broker (a child process) within its response budget while another client is answered.
 * `EDDY_HOLD_MS` sets how long the flood is held (default 3 s; `scripts/soak-fetch-flood.sh` holds 30 s).
 */
import * as fs from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { fill, flood, PoliteClient, percentile } from "./fixtures/fetchFlood.js"
import { spawnBrokerProcess, tempDir } from "./util.js"

const MiB = 1 << 20
const HOLD_MS = Number(process.env.EDDY_HOLD_MS ?? 3000)
const RESPONSE_BUDGET = 16 * MiB
const FETCH_BYTES = 8 * MiB
// the response budget, one answer over it, the read-buffer pool's free list (64 MiB) and allocator slack
const ALLOWED_GROWTH = RESPONSE_BUDGET + FETCH_BYTES + 64 * MiB + 48 * MiB

describe("memory per connection", () => {
  it.scopedLive.skipIf(!fs.existsSync("/proc/self/status"))(
    "a non-reading Fetch client keeps the broker under its budget while another client is answered",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const { proc, port } = yield* spawnBrokerProcess(dir, {
          "queued.max.response.bytes": String(RESPONSE_BUDGET),
          "queued.max.request.bytes": String(MiB)
        })
        const result = yield* Effect.promise(async () => {
          const admin = await PoliteClient.connect(port)
          await fill(admin, "big", FETCH_BYTES)
          await fill(admin, "small", 64 * 1024, 16 * 1024)
          admin.close()
          return flood({
            port,
            pid: proc.pid!,
            bigTopic: "big",
            smallTopic: "small",
            fetchBytes: FETCH_BYTES,
            baselineMs: 500,
            holdMs: HOLD_MS,
            abortGrowthBytes: 4 * ALLOWED_GROWTH
          })
        })
        const growth = result.peakRss - result.baselineRss
        console.log(
          `fetch flood ${HOLD_MS} ms: ${result.fetchesWritten} fetches written, broker RSS ${(result.baselineRss / MiB).toFixed(0)} -> ` +
            `${(result.peakRss / MiB).toFixed(0)} MiB; polite p50 ${percentile(result.before, 50).toFixed(2)} -> ` +
            `${percentile(result.during, 50).toFixed(2)} ms, max ${Math.max(...result.during).toFixed(1)} ms`
        )
        assert.isFalse(result.aborted, `broker memory grew by more than ${(4 * ALLOWED_GROWTH) / MiB} MiB`)
        assert.isBelow(growth, ALLOWED_GROWTH, `broker memory grew by ${(growth / MiB).toFixed(0)} MiB`)
        assert.isAbove(result.during.length, 10, "the polite client was answered during the flood")
        assert.isBelow(Math.max(...result.during), 2000, "no polite request waited for seconds")
      }),
    HOLD_MS + 60_000
  )
})
