/**
 * kafka-python 2.0.2 (Debian's python3-kafka) consumer groups against Eddy: two members with the range
 * and roundrobin assignors split a topic, read every message once and commit; a third run of the group
 * resumes after the commits. Skipped, with a note, where `/usr/bin/python3` cannot import `kafka`.
 */
import * as child from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { batch, createTopic, produceRequest } from "../broker/produceFetch.js"
import { connect, startBroker } from "../broker/util.js"

const PYTHON = "/usr/bin/python3"
const hasKafkaPython = child.spawnSync(PYTHON, ["-c", "import kafka"], { stdio: "ignore" }).status === 0
if (!hasKafkaPython) {
  console.warn("KafkaPythonGroups.test.ts: python3-kafka is not installed; skipping the kafka-python group tests")
}

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "kafkaPythonGroup.py")

const consume = (bootstrap: string, group: string, topic: string, count: number, assignor: string) =>
  Effect.async<{ partitions: Array<number>; values: Array<string> }, Error>((resume) => {
    const proc = child.execFile(
      PYTHON,
      [script, bootstrap, group, topic, String(count), assignor],
      { timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) return resume(Effect.fail(new Error(`kafka-python failed: ${err.message}\n${stderr}`)))
        const lines = stdout.trim().split("\n")
        const assigned = lines.find((l) => l.startsWith("ASSIGNED"))?.slice(9) ?? ""
        resume(
          Effect.succeed({
            partitions: assigned === "" ? [] : assigned.split(",").map(Number),
            values: lines.filter((l) => l.startsWith("MSG ")).map((l) => l.split(" ")[3]!)
          })
        )
      }
    )
    return Effect.sync(() => proc.kill())
  })

describe("kafka-python consumer groups against Eddy", () => {
  for (const assignor of ["range", "roundrobin"]) {
    it.scopedLive.skipIf(!hasKafkaPython)(
      `two members with ${assignor} split the topic, commit, and the group resumes after the commits`,
      () =>
        Effect.gen(function* () {
          const { broker } = yield* startBroker({
            extra: { "group.initial.rebalance.delay.ms": "2000", "group.min.session.timeout.ms": "1000" }
          })
          const bootstrap = `127.0.0.1:${broker.address.port}`
          const client = yield* connect(broker.address.port)
          const topic = `kp-${assignor}`
          const group = `kp-group-${assignor}`
          yield* createTopic(client, topic, 4)
          const produce = (prefix: string, perPartition: number) =>
            Effect.gen(function* () {
              const all: Array<string> = []
              for (let p = 0; p < 4; p++) {
                const values = Array.from({ length: perPartition }, (_, i) => `${prefix}${p}-${i}`)
                yield* client.send(0, 7, produceRequest(topic, p, batch(values)))
                all.push(...values)
              }
              return all.sort()
            })
          const first = yield* produce("a", 5)
          const [m1, m2] = yield* Effect.all(
            [consume(bootstrap, group, topic, 10, assignor), consume(bootstrap, group, topic, 10, assignor)],
            { concurrency: 2 }
          )
          assert.strictEqual(m1.partitions.length, 2)
          assert.strictEqual(m2.partitions.length, 2)
          assert.deepStrictEqual([...m1.partitions, ...m2.partitions].sort(), [0, 1, 2, 3])
          assert.deepStrictEqual([...m1.values, ...m2.values].sort(), first)
          // a later member of the group starts after the committed offsets
          const second = yield* produce("b", 2)
          const m3 = yield* consume(bootstrap, group, topic, 8, assignor)
          assert.deepStrictEqual(m3.partitions, [0, 1, 2, 3])
          assert.deepStrictEqual([...m3.values].sort(), second)
        }),
      120_000
    )
  }
})
