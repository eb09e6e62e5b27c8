/**
 * kcat (librdkafka) against Eddy: metadata (-L), produce (-P, every codec, keys and headers) and a
 * groupless consume from the beginning (-C -o beginning -e). Skipped, with a note, where kcat is not
 * installed (`apt-get install -y kcat`; CI installs it).
 */
import * as child from "node:child_process"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { createTopic } from "../broker/produceFetch.js"
import { connect, startBroker } from "../broker/util.js"

const hasKcat = child.spawnSync("kcat", ["-V"], { stdio: "ignore" }).status === 0
if (!hasKcat) console.warn("Kcat.test.ts: kcat is not installed; skipping the kcat compatibility tests")

const kcat = (args: ReadonlyArray<string>, input?: string) =>
  Effect.async<string, Error>((resume) => {
    const proc = child.execFile("kcat", [...args], { timeout: 30_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) resume(Effect.fail(new Error(`kcat ${args.join(" ")} failed: ${err.message}\n${stderr}`)))
      else resume(Effect.succeed(stdout))
    })
    if (input !== undefined) proc.stdin!.end(input)
    return Effect.sync(() => proc.kill())
  })

describe("kcat against Eddy", () => {
  it.scopedLive.skipIf(!hasKcat)("lists metadata, produces with every codec and consumes from the beginning", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker()
      const bootstrap = `127.0.0.1:${broker.address.port}`
      const client = yield* connect(broker.address.port)
      yield* createTopic(client, "kc", 3)

      const meta = JSON.parse(yield* kcat(["-b", bootstrap, "-L", "-J"])) as {
        brokers: Array<{ id: number; name: string }>
        topics: Array<{ topic: string; partitions: Array<{ partition: number; leader: number }> }>
      }
      assert.deepStrictEqual(
        meta.brokers.map((b) => b.id),
        [1]
      )
      const kc = meta.topics.find((t) => t.topic === "kc")
      assert.deepStrictEqual(
        kc?.partitions.map((p) => [p.partition, p.leader]),
        [
          [0, 1],
          [1, 1],
          [2, 1]
        ]
      )

      const expected: Array<string> = []
      for (const codec of ["none", "gzip", "snappy", "lz4", "zstd"]) {
        const lines = Array.from({ length: 20 }, (_, i) => `${codec}-k${i}:${codec}-v${i}`)
        yield* kcat(
          ["-b", bootstrap, "-P", "-t", "kc", "-p", "1", "-K", ":", "-z", codec, "-H", `codec=${codec}`],
          `${lines.join("\n")}\n`
        )
        expected.push(...lines.map((l) => `${l.replace(":", "=")}|codec=${codec}`))
      }
      const out = yield* kcat([
        "-b",
        bootstrap,
        "-C",
        "-t",
        "kc",
        "-p",
        "1",
        "-o",
        "beginning",
        "-e",
        "-f",
        "%k=%s|%h\\n"
      ])
      assert.deepStrictEqual(out.trim().split("\n"), expected)

      // offsets: the last message of partition 1 is at offset 99
      const last = yield* kcat(["-b", bootstrap, "-C", "-t", "kc", "-p", "1", "-o", "-1", "-e", "-f", "%o\\n"])
      assert.strictEqual(last.trim(), "99")
    })
  )
})
