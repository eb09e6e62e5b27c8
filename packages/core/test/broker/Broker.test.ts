import * as fs from "node:fs"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Uuid from "../../src/broker/internal/uuid.js"
import * as CreateTopics from "../../src/protocol/generated/CreateTopics.js"
import * as DeleteTopics from "../../src/protocol/generated/DeleteTopics.js"
import * as DescribeLogDirs from "../../src/protocol/generated/DescribeLogDirs.js"
import * as Metadata from "../../src/protocol/generated/Metadata.js"
import { connect, startBroker, tempDir } from "./util.js"

describe("Broker", () => {
  it.scopedLive("creates partition logs on disk, keeps topics across a restart and deletes their logs", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const firstRun = yield* Effect.scoped(
        Effect.gen(function* () {
          const { broker } = yield* startBroker({ dir })
          const client = yield* connect(broker.address.port)
          const created = yield* client.send(
            19,
            7,
            CreateTopics.makeCreateTopicsRequest({
              topics: [
                CreateTopics.makeCreateTopicsRequestCreatableTopic({
                  name: "keep",
                  numPartitions: 2,
                  replicationFactor: 1
                }),
                CreateTopics.makeCreateTopicsRequestCreatableTopic({
                  name: "drop",
                  numPartitions: 1,
                  replicationFactor: 1
                })
              ]
            })
          )
          assert.deepStrictEqual(
            created.topics.map((t) => t.errorCode),
            [0, 0]
          )
          assert.isTrue(fs.statSync(path.join(dir, "keep-0")).isDirectory())
          assert.isTrue(fs.statSync(path.join(dir, "keep-1")).isDirectory())
          assert.isTrue(fs.statSync(path.join(dir, "drop-0")).isDirectory())
          const logDirs = yield* client.send(35, 4, DescribeLogDirs.makeDescribeLogDirsRequest({ topics: null }))
          assert.strictEqual(logDirs.results[0]!.logDir, dir)
          assert.isAbove(Number(logDirs.results[0]!.totalBytes), 0)
          const deleted = yield* client.send(20, 5, DeleteTopics.makeDeleteTopicsRequest({ topicNames: ["drop"] }))
          assert.strictEqual(deleted.responses[0]!.errorCode, 0)
          assert.isFalse(fs.existsSync(path.join(dir, "drop-0")))
          return { clusterId: broker.clusterId, topicId: created.topics[0]!.topicId }
        })
      )
      assert.isFalse(fs.existsSync(path.join(dir, ".lock.sock")), "the lock is released on shutdown")

      const { broker } = yield* startBroker({ dir })
      assert.strictEqual(broker.clusterId, firstRun.clusterId)
      const client = yield* connect(broker.address.port)
      const meta = yield* client.send(3, 12, Metadata.makeMetadataRequest({ topics: null }))
      assert.deepStrictEqual(
        meta.topics.map((t) => [t.name, t.partitions.length, Uuid.format(t.topicId)]),
        [["keep", 2, Uuid.format(firstRun.topicId)]]
      )
      assert.strictEqual(meta.clusterId, firstRun.clusterId)
    })
  )
})
