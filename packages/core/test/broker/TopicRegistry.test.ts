import * as fs from "node:fs"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer } from "effect"
import * as Broker from "../../src/broker/Broker.js"
import * as PartitionManager from "../../src/broker/PartitionManager.js"
import * as TopicRegistry from "../../src/broker/TopicRegistry.js"
import { tempDir, testConfig } from "./util.js"

/** A registry over `dir` with a memory partition manager, in a scope of its own. */
const withRegistry = <A, E>(
  dir: string,
  f: (registry: TopicRegistry.TopicRegistry["Type"]) => Effect.Effect<A, E>,
  extra: Record<string, string> = {}
) =>
  Effect.gen(function* () {
    const config = yield* testConfig(dir, extra)
    return yield* Effect.flatMap(TopicRegistry.TopicRegistry, f).pipe(
      Effect.provide(Layer.provide(TopicRegistry.layer(config), PartitionManager.layerMemory))
    )
  })

const failureTag = <A, E extends { _tag: string }>(exit: Exit.Exit<A, E>): string | undefined =>
  Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error._tag : undefined

describe("TopicRegistry", () => {
  it.scopedLive("drops the stray topics its strays option names at start, before opening any partition", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const config = yield* testConfig(dir)
      yield* withRegistry(dir, (r) =>
        Effect.all([
          r.create({ name: "keep", numPartitions: 2, replicationFactor: 1 }),
          r.create({ name: "stray", numPartitions: 3, replicationFactor: 1 })
        ])
      )
      const asked: Array<string> = []
      const opened = yield* Effect.gen(function* () {
        const r = yield* TopicRegistry.TopicRegistry
        const partitions = yield* PartitionManager.PartitionManager
        const info = yield* partitions.logDirInfo
        return { topics: (yield* r.list).map((t) => t.name), opened: info[0]!.partitions.map((p) => p.topic) }
      }).pipe(
        Effect.provide(
          Layer.provideMerge(
            TopicRegistry.layer(config, {
              strays: (loaded) =>
                Effect.sync(() => {
                  asked.push(...loaded.map((t) => t.name))
                  return loaded.filter((t) => t.name === "stray").map((topic) => ({ topic, reason: "test" }))
                })
            }),
            PartitionManager.layerMemory
          )
        )
      )
      assert.deepStrictEqual(asked, ["keep", "stray"])
      assert.deepStrictEqual(opened, { topics: ["keep"], opened: ["keep", "keep"] })
      // topics.json no longer has it
      const again = yield* withRegistry(dir, (r) => r.list)
      assert.deepStrictEqual(
        again.map((t) => t.name),
        ["keep"]
      )
    })
  )

  it.scopedLive("keeps topics, ids, configs and the cluster id across restarts", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const first = yield* withRegistry(dir, (r) =>
        Effect.gen(function* () {
          const a = yield* r.create({
            name: "orders",
            numPartitions: 3,
            replicationFactor: 1,
            configs: [{ name: "retention.ms", value: " 1000 " }]
          })
          yield* r.create({ name: "gone", numPartitions: -1, replicationFactor: -1 })
          yield* r.createPartitions("orders", 5)
          yield* r.incrementalAlterConfigs("orders", [
            { name: "cleanup.policy", op: 2, value: "compact" },
            { name: "segment.bytes", op: 0, value: "1048576" }
          ])
          yield* r.delete("gone")
          return { clusterId: r.clusterId, topicId: a.topicId }
        })
      )
      assert.match(first.clusterId, /^[A-Za-z0-9_-]{22}$/)
      const meta = fs.readFileSync(path.join(dir, "meta.properties"), "utf8")
      assert.include(meta, `cluster.id=${first.clusterId}`)
      assert.include(meta, "node.id=1")

      const second = yield* withRegistry(dir, (r) =>
        Effect.gen(function* () {
          return { clusterId: r.clusterId, topics: yield* r.list }
        })
      )
      assert.strictEqual(second.clusterId, first.clusterId)
      assert.deepStrictEqual(second.topics, [
        {
          name: "orders",
          topicId: first.topicId,
          partitions: 5,
          replicationFactor: 1,
          configs: { "retention.ms": "1000", "cleanup.policy": "delete,compact", "segment.bytes": "1048576" },
          internal: false
        }
      ])
    })
  )

  it.scopedLive("refuses a data dir written by another node id", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* withRegistry(dir, () => Effect.void)
      const exit = yield* Effect.exit(withRegistry(dir, () => Effect.void, { "node.id": "2" }))
      assert.strictEqual(failureTag(exit), "KafkaStorageError")
    })
  )

  it.scopedLive("validates names, counts and configs", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* withRegistry(dir, (r) =>
        Effect.gen(function* () {
          const create = (
            name: string,
            numPartitions = 1,
            replicationFactor = 1,
            configs: Array<{ name: string; value: string | null }> = []
          ) => Effect.exit(r.create({ name, numPartitions, replicationFactor, configs }))
          yield* r.create({ name: "metrics.cpu", numPartitions: 1, replicationFactor: 1 })
          assert.strictEqual(failureTag(yield* create("")), "InvalidTopic")
          assert.strictEqual(failureTag(yield* create(".")), "InvalidTopic")
          assert.strictEqual(failureTag(yield* create("..")), "InvalidTopic")
          assert.strictEqual(failureTag(yield* create("a".repeat(250))), "InvalidTopic")
          assert.isTrue(Exit.isSuccess(yield* create("a".repeat(249))))
          assert.strictEqual(failureTag(yield* create("bad name")), "InvalidTopic")
          assert.strictEqual(failureTag(yield* create("metrics_cpu")), "InvalidTopic")
          assert.strictEqual(failureTag(yield* create("metrics.cpu")), "TopicAlreadyExists")
          assert.strictEqual(failureTag(yield* create("t", 0)), "InvalidPartitions")
          assert.strictEqual(failureTag(yield* create("t", 1, 3)), "InvalidReplicationFactor")
          assert.strictEqual(failureTag(yield* create("t", 1, 0)), "InvalidReplicationFactor")
          assert.strictEqual(
            failureTag(yield* create("t", 1, 1, [{ name: "retention.ms", value: "x" }])),
            "InvalidConfig"
          )
          assert.strictEqual(failureTag(yield* create("t", 1, 1, [{ name: "nope", value: "1" }])), "InvalidConfig")
          assert.strictEqual(
            failureTag(
              yield* Effect.exit(
                r.create({ name: "v", numPartitions: 1, replicationFactor: 1 }, { validateOnly: true })
              )
            ),
            undefined
          )
          assert.isUndefined(yield* r.get("v"))
          assert.strictEqual(failureTag(yield* Effect.exit(r.createPartitions("metrics.cpu", 1))), "InvalidPartitions")
          assert.strictEqual(failureTag(yield* Effect.exit(r.delete("missing"))), "UnknownTopicOrPartition")
          const internal = yield* r.autoCreate("__consumer_offsets")
          assert.isTrue(internal.internal)
          assert.strictEqual(internal.partitions, 50)
          assert.strictEqual(internal.configs["cleanup.policy"], "compact")
        })
      )
    })
  )

  it.scopedLive("serializes concurrent creates of one name", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* withRegistry(dir, (r) =>
        Effect.gen(function* () {
          const exits = yield* Effect.all(
            Array.from({ length: 20 }, () =>
              Effect.exit(r.create({ name: "race", numPartitions: 2, replicationFactor: 1 }))
            ),
            { concurrency: "unbounded" }
          )
          assert.strictEqual(exits.filter(Exit.isSuccess).length, 1)
          assert.strictEqual(exits.filter((e) => failureTag(e) === "TopicAlreadyExists").length, 19)
        })
      )
    })
  )

  it.scopedLive("locks the data dir against a second broker", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const config = yield* testConfig(dir)
      yield* Layer.build(Broker.layer(config))
      const second = yield* Effect.exit(Effect.scoped(Layer.build(Broker.layer(config))))
      assert.strictEqual(failureTag(second), "KafkaStorageError")
    })
  )
})
