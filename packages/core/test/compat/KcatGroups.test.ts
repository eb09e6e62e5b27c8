/**
 * librdkafka consumer groups (`kcat -G`) against Eddy with the range, roundrobin and cooperative-sticky
 * assignors: two members split a 4-partition topic, every message is consumed once, and the offsets they
 * commit are what OffsetFetch returns. Skipped, with a note, where kcat is not installed.
 */
import * as child from "node:child_process"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as OffsetFetch from "../../src/protocol/generated/OffsetFetch.js"
import { batch, createTopic, produceRequest } from "../broker/produceFetch.js"
import { connect, startBroker } from "../broker/util.js"

const hasKcat = child.spawnSync("kcat", ["-V"], { stdio: "ignore" }).status === 0
if (!hasKcat) console.warn("KcatGroups.test.ts: kcat is not installed; skipping the kcat group tests")

const kcat = (args: ReadonlyArray<string>) =>
  Effect.async<string, Error>((resume) => {
    const proc = child.execFile("kcat", [...args], { timeout: 45_000 }, (err, stdout, stderr) => {
      if (err) resume(Effect.fail(new Error(`kcat ${args.join(" ")} failed: ${err.message}\n${stderr}`)))
      else resume(Effect.succeed(stdout))
    })
    return Effect.sync(() => proc.kill())
  })

const PARTITIONS = 4
const PER_PARTITION = 10

describe("kcat consumer groups against Eddy", () => {
  for (const assignor of ["range", "roundrobin", "cooperative-sticky"]) {
    it.scopedLive.skipIf(!hasKcat)(
      `two kcat -G members with ${assignor} split the partitions and commit`,
      () =>
        Effect.gen(function* () {
          // both members join within the initial delay, so the first generation has both
          const { broker } = yield* startBroker({
            extra: { "group.initial.rebalance.delay.ms": "2000", "group.min.session.timeout.ms": "1000" }
          })
          const bootstrap = `127.0.0.1:${broker.address.port}`
          const client = yield* connect(broker.address.port)
          const topic = `kg-${assignor}`
          const group = `group-${assignor}`
          yield* createTopic(client, topic, PARTITIONS)
          for (let p = 0; p < PARTITIONS; p++) {
            const values = Array.from({ length: PER_PARTITION }, (_, i) => `p${p}-${i}`)
            const res = yield* client.send(0, 7, produceRequest(topic, p, batch(values)))
            assert.strictEqual(res.responses[0]!.partitionResponses[0]!.errorCode, 0)
          }
          const member = kcat([
            "-b",
            bootstrap,
            "-G",
            group,
            "-X",
            `partition.assignment.strategy=${assignor}`,
            "-X",
            "session.timeout.ms=6000",
            "-X",
            "auto.offset.reset=earliest",
            "-c",
            String((PARTITIONS * PER_PARTITION) / 2),
            "-f",
            "%p %o %s\\n",
            topic
          ])
          const [a, b] = yield* Effect.all([member, member], { concurrency: 2 })
          const lines = (out: string) =>
            out
              .trim()
              .split("\n")
              .filter((l) => l.length > 0)
          const partitionsOf = (out: string) => [...new Set(lines(out).map((l) => Number(l.split(" ")[0])))].sort()
          // each member owned two partitions, disjoint, and together read every message once
          assert.strictEqual(partitionsOf(a).length, 2)
          assert.strictEqual(partitionsOf(b).length, 2)
          assert.deepStrictEqual([...partitionsOf(a), ...partitionsOf(b)].sort(), [0, 1, 2, 3])
          const values = [...lines(a), ...lines(b)].map((l) => l.split(" ")[2]).sort()
          const expected = Array.from({ length: PARTITIONS }, (_, p) =>
            Array.from({ length: PER_PARTITION }, (_, i) => `p${p}-${i}`)
          )
            .flat()
            .sort()
          assert.deepStrictEqual(values, expected)

          // the members committed what they consumed (librdkafka commits on close)
          const fetched = yield* client.send(
            9,
            7,
            OffsetFetch.makeOffsetFetchRequest({
              groupId: group,
              topics: [{ name: topic, partitionIndexes: [0, 1, 2, 3] }]
            })
          )
          assert.strictEqual(fetched.errorCode, 0)
          assert.deepStrictEqual(
            fetched.topics[0]!.partitions.map((p) => [p.partitionIndex, Number(p.committedOffset), p.errorCode]),
            [0, 1, 2, 3].map((p) => [p, PER_PARTITION, 0])
          )
        }),
      90_000
    )
  }
})
