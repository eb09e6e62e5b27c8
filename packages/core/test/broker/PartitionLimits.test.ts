/**
 * Bounded work per request: partitions per request (POLICY_VIOLATION, as Kafka 4), `max.broker.partitions`,
 * the file descriptor reserve (a broker under `ulimit -n` in a child process), the rollback of a creation that
 * fails part-way, and a large creation that does not hold other topics' changes.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { Codes } from "../../src/broker/BrokerError.js"
import * as ApiVersions from "../../src/protocol/generated/ApiVersions.js"
import * as CreatePartitions from "../../src/protocol/generated/CreatePartitions.js"
import * as CreateTopics from "../../src/protocol/generated/CreateTopics.js"
import * as FindCoordinator from "../../src/protocol/generated/FindCoordinator.js"
import * as Metadata from "../../src/protocol/generated/Metadata.js"
import { connect, type RawClient, spawnBrokerProcess, startBroker, tempDir } from "./util.js"

const createTopics = (client: RawClient, topics: ReadonlyArray<readonly [string, number]>, validateOnly = false) =>
  client.send(
    19,
    7,
    CreateTopics.makeCreateTopicsRequest({
      timeoutMs: 60_000,
      validateOnly,
      topics: topics.map(([name, numPartitions]) =>
        CreateTopics.makeCreateTopicsRequestCreatableTopic({ name, numPartitions, replicationFactor: 1 })
      )
    })
  )

const createPartitions = (client: RawClient, name: string, count: number) =>
  client.send(
    37,
    3,
    CreatePartitions.makeCreatePartitionsRequest({ topics: [{ name, count, assignments: null }], timeoutMs: 60_000 })
  )

const partitionCount = (client: RawClient, name: string) =>
  Effect.map(
    client.send(
      3,
      12,
      Metadata.makeMetadataRequest({ topics: [{ name, topicId: new Uint8Array(16) }], allowAutoTopicCreation: false })
    ),
    (res) => (res.topics[0]!.errorCode === 0 ? res.topics[0]!.partitions.length : -1)
  )

/** Partition folders of `topic` in the data directory. */
const folders = (dir: string, topic: string) =>
  fs.readdirSync(dir).filter((f) => f.startsWith(`${topic}-`) && fs.statSync(path.join(dir, f)).isDirectory())

const openDescriptors = (pid: number | "self") => fs.readdirSync(`/proc/${pid}/fd`).length
const hasProc = fs.existsSync("/proc/self/fd")

describe("partition limits", () => {
  it.scopedLive("a request adding more than 10,000 partitions is refused whole with POLICY_VIOLATION", () =>
    Effect.gen(function* () {
      const { broker, dir } = yield* startBroker()
      const client = yield* connect(broker.address.port)
      const huge = yield* createTopics(client, [["huge", 2_147_483_647]])
      assert.strictEqual(huge.topics[0]!.errorCode, Codes.POLICY_VIOLATION)
      assert.match(huge.topics[0]!.errorMessage ?? "", /Excessively large number of partitions per request/)
      // the limit is over the whole request: no topic of it is created
      const split = yield* createTopics(client, [
        ["half-a", 6000],
        ["half-b", 6000]
      ])
      assert.deepStrictEqual(
        split.topics.map((t) => t.errorCode),
        [Codes.POLICY_VIOLATION, Codes.POLICY_VIOLATION]
      )
      const dry = yield* createTopics(client, [["dry", 10_001]], true)
      assert.strictEqual(dry.topics[0]!.errorCode, Codes.POLICY_VIOLATION)
      assert.strictEqual(yield* partitionCount(client, "half-a"), -1)
      assert.strictEqual((yield* createTopics(client, [["small", 2]])).topics[0]!.errorCode, 0)
      const grow = yield* createPartitions(client, "small", 2_147_483_647)
      assert.strictEqual(grow.results[0]!.errorCode, Codes.POLICY_VIOLATION)
      assert.strictEqual(yield* partitionCount(client, "small"), 2)
      assert.deepStrictEqual(folders(dir, "huge"), [])
      assert.deepStrictEqual(folders(dir, "half-a"), [])
      assert.strictEqual(folders(dir, "small").length, 2)
    })
  )

  it.scopedLive("max.broker.partitions refuses creations beyond it, internal topics exempt", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker({
        extra: { "max.broker.partitions": "10", "offsets.topic.num.partitions": "3" }
      })
      const client = yield* connect(broker.address.port)
      assert.strictEqual((yield* createTopics(client, [["a", 8]])).topics[0]!.errorCode, 0)
      const over = yield* createTopics(client, [["b", 3]])
      assert.strictEqual(over.topics[0]!.errorCode, Codes.POLICY_VIOLATION)
      assert.match(over.topics[0]!.errorMessage ?? "", /max\.broker\.partitions \(10\)/)
      assert.strictEqual((yield* createPartitions(client, "a", 11)).results[0]!.errorCode, Codes.POLICY_VIOLATION)
      assert.strictEqual((yield* createPartitions(client, "a", 10)).results[0]!.errorCode, 0)
      // __consumer_offsets (3 partitions here) is still created, beyond the limit, for a group coordinator
      const coordinator = yield* client.send(10, 3, FindCoordinator.makeFindCoordinatorRequest({ key: "g" }))
      assert.strictEqual(coordinator.errorCode, 0)
    })
  )

  it.scopedLive.skipIf(!hasProc)("a creation failing part-way leaves no partition folder and no open descriptor", () =>
    Effect.gen(function* () {
      const { broker, dir } = yield* startBroker()
      const client = yield* connect(broker.address.port)
      assert.strictEqual((yield* createTopics(client, [["warm", 1]])).topics[0]!.errorCode, 0)
      // partition 5's folder cannot be made: a file has its name
      fs.writeFileSync(path.join(dir, "t-5"), "not a folder")
      const before = openDescriptors("self")
      const res = yield* createTopics(client, [["t", 10]])
      assert.strictEqual(res.topics[0]!.errorCode, Codes.KAFKA_STORAGE_ERROR)
      assert.deepStrictEqual(folders(dir, "t"), [])
      assert.strictEqual(openDescriptors("self"), before)
      assert.strictEqual(yield* partitionCount(client, "t"), -1)
      // the same failure while growing a topic removes only the new partitions
      assert.strictEqual((yield* createTopics(client, [["u", 2]])).topics[0]!.errorCode, 0)
      fs.writeFileSync(path.join(dir, "u-4"), "not a folder")
      const grown = yield* createPartitions(client, "u", 6)
      assert.strictEqual(grown.results[0]!.errorCode, Codes.KAFKA_STORAGE_ERROR)
      assert.deepStrictEqual(folders(dir, "u").sort(), ["u-0", "u-1"])
      assert.strictEqual(yield* partitionCount(client, "u"), 2)
      fs.rmSync(path.join(dir, "t-5"), { force: true })
      assert.strictEqual((yield* createTopics(client, [["t", 10]])).topics[0]!.errorCode, 0)
      assert.strictEqual(folders(dir, "t").length, 10)
    })
  )

  it.scopedLive("a large creation does not hold other topics' changes", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker()
      const big = yield* connect(broker.address.port)
      const other = yield* connect(broker.address.port)
      let bigDone = false
      const creating = yield* Effect.fork(
        Effect.tap(createTopics(big, [["big", 100]]), () => Effect.sync(() => (bigDone = true)))
      )
      yield* Effect.sleep(100)
      const t0 = Date.now()
      assert.strictEqual((yield* createTopics(other, [["small", 1]])).topics[0]!.errorCode, 0)
      assert.strictEqual((yield* createPartitions(other, "small", 2)).results[0]!.errorCode, 0)
      const took = Date.now() - t0
      assert.isFalse(bigDone, `the small topic waited for the large one (${took} ms)`)
      const res = yield* Fiber.join(creating)
      assert.strictEqual(res.topics[0]!.errorCode, 0)
      assert.strictEqual(yield* partitionCount(other, "big"), 100)
    })
  )

  it.scopedLive.skipIf(!hasProc)(
    "out of descriptors: a large creation is refused with POLICY_VIOLATION and new connections keep working",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const { proc, port } = yield* spawnBrokerProcess(dir, {}, { openFilesLimit: 256 })
        const client = yield* connect(port)
        assert.strictEqual((yield* createTopics(client, [["ok", 4]])).topics[0]!.errorCode, 0)
        const before = openDescriptors(proc.pid!)
        const res = yield* createTopics(client, [["many", 5000]])
        assert.strictEqual(res.topics[0]!.errorCode, Codes.POLICY_VIOLATION)
        assert.match(res.topics[0]!.errorMessage ?? "", /file descriptors/)
        assert.deepStrictEqual(folders(dir, "many"), [])
        assert.strictEqual(openDescriptors(proc.pid!), before)
        // new connections are served (the reserve was kept)
        for (let i = 0; i < 40; i++) {
          const c = yield* connect(port)
          assert.strictEqual((yield* c.send(18, 3, ApiVersions.makeApiVersionsRequest())).errorCode, 0)
        }
        assert.strictEqual((yield* createTopics(client, [["after", 2]])).topics[0]!.errorCode, 0)
      })
  )
})
