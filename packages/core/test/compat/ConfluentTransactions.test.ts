/**
 * librdkafka 2.0.2 (Debian's python3-confluent-kafka) transactions against Eddy: commit, abort, and
 * read_committed / read_uncommitted consumers; a consume-transform-produce loop of a group member with
 * send_offsets_to_transaction (AddOffsetsToTxn v0, TxnOffsetCommit v3 with the member's generation),
 * some transactions aborted and rewound. Skipped, with a note, where `/usr/bin/python3` cannot import
 * `confluent_kafka`.
 */
import * as child from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { createTopic } from "../broker/produceFetch.js"
import { connect, startBroker } from "../broker/util.js"

const PYTHON = "/usr/bin/python3"
const hasConfluent = child.spawnSync(PYTHON, ["-c", "import confluent_kafka"], { stdio: "ignore" }).status === 0
if (!hasConfluent) {
  console.warn("ConfluentTransactions.test.ts: python3-confluent-kafka is not installed; skipping its tests")
}

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures")
const script = path.join(fixtures, "confluentTransactions.py")

/** Runs a fixture script; its stdout. */
const runPython = (args: ReadonlyArray<string>) =>
  Effect.async<string, Error>((resume) => {
    const proc = child.execFile(PYTHON, args, { timeout: 90_000 }, (err, stdout, stderr) =>
      err ? resume(Effect.fail(new Error(`${err.message}\n${stderr}`))) : resume(Effect.succeed(stdout))
    )
    return Effect.sync(() => proc.kill())
  })

/** The value of the output line starting with `prefix`. */
const lineOf = (out: string, prefix: string) =>
  out
    .split("\n")
    .find((l) => l.startsWith(`${prefix} `))
    ?.slice(prefix.length + 1)

describe("librdkafka transactions against Eddy", () => {
  it.scopedLive.skipIf(!hasConfluent)(
    "commits and aborts; read_committed consumers never see aborted records",
    () =>
      Effect.gen(function* () {
        const { broker } = yield* startBroker()
        const client = yield* connect(broker.address.port)
        yield* createTopic(client, "lrk-tx", 1)
        const out = yield* Effect.async<string, Error>((resume) => {
          const proc = child.execFile(
            PYTHON,
            [script, `127.0.0.1:${broker.address.port}`, "lrk-tx"],
            { timeout: 90_000 },
            (err, stdout, stderr) =>
              err ? resume(Effect.fail(new Error(`${err.message}\n${stderr}`))) : resume(Effect.succeed(stdout))
          )
          return Effect.sync(() => proc.kill())
        })
        const line = (prefix: string) =>
          out
            .split("\n")
            .find((l) => l.startsWith(prefix))
            ?.slice(prefix.length + 1)
        assert.strictEqual(line("COMMITTED"), "c1,c2,c3")
        assert.strictEqual(line("UNCOMMITTED"), "c1,c2,a1,a2,c3")
      }),
    { timeout: 120_000 }
  )

  it.scopedLive.skipIf(!hasConfluent)(
    "consume-transform-produce with send_offsets_to_transaction: every input once in the output, offsets with it",
    () =>
      Effect.gen(function* () {
        const { broker } = yield* startBroker({ extra: { "group.initial.rebalance.delay.ms": "0" } })
        const client = yield* connect(broker.address.port)
        yield* createTopic(client, "eos-in", 1)
        yield* createTopic(client, "eos-out", 1)
        const count = 30
        const out = yield* runPython([
          path.join(fixtures, "confluentEos.py"),
          `127.0.0.1:${broker.address.port}`,
          "eos-in",
          "eos-out",
          String(count)
        ])
        const expected = Array.from({ length: count }, (_, i) => `out-${i}`)
        assert.strictEqual(lineOf(out, "COMMITTED_OFFSET"), String(count), out)
        assert.deepStrictEqual(lineOf(out, "OUTPUT_COMMITTED")?.split(","), expected, out)
        // the aborted transactions' records are in the log, seen only by read_uncommitted
        const uncommitted = lineOf(out, "OUTPUT_UNCOMMITTED")?.split(",") ?? []
        assert.isAbove(uncommitted.length, count, out)
        assert.sameMembers([...new Set(uncommitted)], expected)
      }),
    { timeout: 120_000 }
  )
})
