/**
 * Which partitions a broker of a cluster keeps, as the metadata store says (three real brokers on real sockets sharing
 * one in-process store, each on its own data directory): a broker opens only the partitions placed on it (never the
 * others "just in case"), answers NOT_LEADER_OR_FOLLOWER for a partition of a known topic it does not host, and a
 * broker restarted on its data directory after its topic was deleted (or deleted and created again) meanwhile does not
 * bring the old topic back: its stray logs are deleted and the store's topic wins.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Logger, LogLevel, Option, Scope } from "effect"
import * as Broker from "../../src/broker/Broker.js"
import * as MetadataStore from "../../src/broker/MetadataStore.js"
import { type LeadershipChange, ReplicaManager } from "../../src/broker/ReplicaManager.js"
import * as Admin from "../../src/client/Admin.js"
import * as DeleteRecords from "../../src/protocol/generated/DeleteRecords.js"
import { ErrorCode } from "../../src/protocol/generated/ErrorCode.js"
import * as ListOffsets from "../../src/protocol/generated/ListOffsets.js"
import * as Metadata from "../../src/protocol/generated/Metadata.js"
import * as OffsetForLeaderEpoch from "../../src/protocol/generated/OffsetForLeaderEpoch.js"
import { batch, fetchRequest, produceRequest } from "./produceFetch.js"
import { connect, tempDir, testConfig } from "./util.js"

type Store = Layer.Layer<MetadataStore.MetadataStore>

/** Waits (live clock) until `check` holds: watches deliver changes asynchronously. */
const eventually = <E>(what: string, check: () => Effect.Effect<boolean, E>) =>
  Effect.gen(function* () {
    for (let i = 0; i < 500; i++) {
      if (yield* check()) return
      yield* Effect.sleep(10)
    }
    assert.fail(`never: ${what}`)
  })

interface Node {
  readonly id: number
  readonly dir: string
  readonly port: number
  readonly scope: Scope.CloseableScope
  readonly replicas: ReplicaManager["Type"]
  /** The broker's log lines at INFO and up, from its start. */
  readonly logs: Array<string>
}

/** Starts broker `id` on `dir` in a scope of its own (closing it stops the broker), keeping its log lines. */
const startNode = (id: number, store: Store, dir: string) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const logs: Array<string> = []
    const logger = Logger.make(({ logLevel, message }) => {
      const text = Array.isArray(message) ? message.map(String).join(" ") : String(message)
      logs.push(`${logLevel.label} ${text}`)
    })
    const config = yield* testConfig(dir, { "node.id": String(id) })
    const context = yield* Layer.build(Broker.layer(config, { drainTimeoutMs: 2000, metadataStore: store })).pipe(
      Scope.extend(scope),
      Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
      Logger.withMinimumLogLevel(LogLevel.Info)
    )
    const node: Node = {
      id,
      dir,
      port: Context.get(context, Broker.Broker).address.port,
      scope,
      replicas: Context.get(context, ReplicaManager),
      logs
    }
    return node
  })

/** Three brokers on one store, each on its own data directory; stopped with the test's scope. */
const cluster = Effect.gen(function* () {
  const storeLayer = Layer.succeedContext(yield* Layer.build(MetadataStore.layerMemory))
  const store = yield* Effect.provide(MetadataStore.MetadataStore, storeLayer)
  const nodes = new Map<number, Node>()
  const dirs = new Map<number, string>()
  const start = (id: number) =>
    Effect.gen(function* () {
      const dir = dirs.get(id) ?? (yield* tempDir)
      dirs.set(id, dir)
      nodes.set(id, yield* startNode(id, storeLayer, dir))
    })
  const stop = (id: number) =>
    Effect.gen(function* () {
      const node = nodes.get(id)
      if (node === undefined) return
      nodes.delete(id)
      yield* Scope.close(node.scope, Exit.void)
    })
  yield* Effect.addFinalizer(() => Effect.forEach([...nodes.keys()], stop, { discard: true }))
  for (const id of [1, 2, 3]) yield* start(id)
  const node = (id: number) => nodes.get(id)!
  yield* eventually("three live brokers", () => Effect.map(Effect.orDie(store.brokers), (all) => all.length === 3))
  const admin = (id: number) => Admin.make({ "bootstrap.servers": `127.0.0.1:${node(id).port}` })
  return { store, nodes, node, start, stop, admin }
})

/** The partitions of `topic` with a folder in `dir`. */
const folders = (dir: string, topic: string): Array<number> =>
  fs
    .readdirSync(dir)
    .flatMap((name) => {
      const m = /^(.*)-(\d+)$/.exec(name)
      return m !== null && m[1] === topic && fs.statSync(path.join(dir, name)).isDirectory() ? [Number(m[2])] : []
    })
    .sort((a, b) => a - b)

/** The topics of a broker's `topics.json`, as `name:id`. */
const localTopics = (dir: string): Array<string> => {
  const file = path.join(dir, "topics.json")
  if (!fs.existsSync(file)) return []
  const stored = JSON.parse(fs.readFileSync(file, "utf8")) as { topics: Array<{ name: string; topicId: string }> }
  return stored.topics.map((t) => `${t.name}:${t.topicId}`)
}

/** A broker's Metadata answer for every topic. */
const metadataOf = (port: number) =>
  Effect.scoped(Effect.flatMap(connect(port), (c) => c.send(3, 12, Metadata.makeMetadataRequest({ topics: null }))))

/** The partitions of `topic` whose store record names broker `id`. */
const placedOn = (store: MetadataStore.MetadataStoreService, topic: string, id: number) =>
  Effect.map(Effect.orDie(store.partitions(topic)), (records) =>
    records.filter((r) => r.value.replicas.includes(id)).map((r) => r.value.partition)
  )

describe("which partitions a broker of a cluster keeps", () => {
  it.scopedLive(
    "each broker opens only the partitions placed on it (replication factor 1 and 2), and answers NOT_LEADER_OR_FOLLOWER for the others",
    () =>
      Effect.gen(function* () {
        const { store, node, admin } = yield* cluster
        // every partition a broker ever opened announces a role: none may be one placed elsewhere
        const roles = new Map<number, Array<LeadershipChange>>()
        for (const id of [1, 2, 3]) {
          const seen: Array<LeadershipChange> = []
          roles.set(id, seen)
          yield* node(id).replicas.onLeadershipChange((change) => Effect.sync(() => seen.push(change)))
        }
        const client = yield* admin(1)
        yield* client.createTopics([
          { name: "one", numPartitions: 3, replicationFactor: 1 },
          { name: "two", numPartitions: 3, replicationFactor: 2 }
        ])
        // the topic another broker created is adopted everywhere
        for (const id of [2, 3]) {
          yield* eventually(`broker ${id} knows both topics`, () =>
            Effect.map(metadataOf(node(id).port), (m) => m.topics.filter((t) => t.errorCode === 0).length === 2)
          )
        }
        for (const topic of ["one", "two"]) {
          const all = new Set<number>()
          for (const id of [1, 2, 3]) {
            const placed = yield* placedOn(store, topic, id)
            for (const p of placed) all.add(p)
            yield* eventually(`broker ${id} holds exactly the folders of ${topic} placed on it`, () =>
              Effect.succeed(
                JSON.stringify(folders(node(id).dir, topic)) === JSON.stringify(placed) &&
                  [0, 1, 2].every((p) => (node(id).replicas.get(topic, p) !== undefined) === placed.includes(p))
              )
            )
            const opened = roles.get(id)!.filter((c) => c.topic === topic && !placed.includes(c.partition))
            assert.deepStrictEqual(opened, [], `broker ${id} opened ${topic} partitions placed elsewhere`)
          }
          assert.strictEqual(all.size, 3)
        }
        assert.deepStrictEqual((yield* placedOn(store, "one", 1)).length, 1)

        // a partition placed on another broker: NOT_LEADER_OR_FOLLOWER from every produce/fetch-path API
        const elsewhere = (yield* Effect.orDie(store.partitions("one"))).find((r) => !r.value.replicas.includes(1))!
        const p = elsewhere.value.partition
        const raw = yield* connect(node(1).port)
        const produced = yield* raw.send(0, 9, produceRequest("one", p, batch(["x"])))
        assert.strictEqual(produced.responses[0]!.partitionResponses[0]!.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER)
        const fetched = yield* raw.send(1, 11, fetchRequest([{ topic: "one", partition: p, offset: 0 }]))
        assert.strictEqual(fetched.responses[0]!.partitions[0]!.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER)
        const listed = yield* raw.send(
          2,
          5,
          ListOffsets.makeListOffsetsRequest({
            replicaId: -1,
            topics: [
              {
                name: "one",
                partitions: [
                  ListOffsets.makeListOffsetsRequestListOffsetsPartition({ partitionIndex: p, timestamp: -1n })
                ]
              }
            ]
          })
        )
        assert.strictEqual(listed.topics[0]!.partitions[0]!.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER)
        const epochs = yield* raw.send(
          23,
          4,
          OffsetForLeaderEpoch.makeOffsetForLeaderEpochRequest({
            replicaId: -1,
            topics: [{ topic: "one", partitions: [{ partition: p, currentLeaderEpoch: -1, leaderEpoch: 0 }] }]
          })
        )
        assert.strictEqual(epochs.topics[0]!.partitions[0]!.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER)
        const deleted = yield* raw.send(
          21,
          2,
          DeleteRecords.makeDeleteRecordsRequest({
            timeoutMs: 1000,
            topics: [{ name: "one", partitions: [{ partitionIndex: p, offset: 0n }] }]
          })
        )
        assert.strictEqual(deleted.topics[0]!.partitions[0]!.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER)
        // a partition the topic does not have, and a topic nobody has, stay unknown
        const beyond = yield* raw.send(0, 9, produceRequest("one", 3, batch(["x"])))
        assert.strictEqual(beyond.responses[0]!.partitionResponses[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
        const none = yield* raw.send(1, 11, fetchRequest([{ topic: "none", partition: 0, offset: 0 }]))
        assert.strictEqual(none.responses[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
      }),
    { timeout: 60_000 }
  )

  it.scopedLive(
    "a topic deleted while a broker was down stays deleted when the broker restarts on its data directory",
    () =>
      Effect.gen(function* () {
        const { store, node, nodes, start, stop, admin } = yield* cluster
        const client = yield* admin(1)
        yield* client.createTopics([{ name: "gone", numPartitions: 2, replicationFactor: 3 }])
        const id = Option.getOrThrow(yield* store.topic("gone")).value.topicId
        yield* eventually("broker 3 holds both partitions", () =>
          Effect.succeed(folders(node(3).dir, "gone").length === 2)
        )
        const dir = node(3).dir
        yield* stop(3)
        assert.deepStrictEqual(localTopics(dir), [`gone:${id}`])
        yield* client.deleteTopics(["gone"])
        assert.isTrue(Option.isNone(yield* store.topic("gone")))

        yield* start(3)
        assert.isTrue(Option.isNone(yield* store.topic("gone")), "the store does not have the topic back")
        assert.deepStrictEqual(folders(dir, "gone"), [])
        assert.deepStrictEqual(localTopics(dir), [])
        for (const n of nodes.values()) {
          const answer = yield* metadataOf(n.port)
          assert.isFalse(
            answer.topics.some((t) => t.name === "gone"),
            `broker ${n.id} answers Metadata without the deleted topic`
          )
        }
        assert.isTrue(
          node(3).logs.some((l) => l.startsWith("INFO") && l.includes("gone") && l.includes(id)),
          "the stray logs' deletion is logged at INFO with the topic and its id"
        )
      }),
    { timeout: 60_000 }
  )

  it.scopedLive(
    "a topic deleted and created again while a broker was down: the store's topic wins on the restarted broker",
    () =>
      Effect.gen(function* () {
        const { store, node, nodes, start, stop, admin } = yield* cluster
        const client = yield* admin(1)
        yield* client.createTopics([{ name: "again", numPartitions: 3, replicationFactor: 3 }])
        const oldId = Option.getOrThrow(yield* store.topic("again")).value.topicId
        yield* eventually("broker 3 holds every partition", () =>
          Effect.succeed(folders(node(3).dir, "again").length === 3)
        )
        const dir = node(3).dir
        yield* stop(3)
        yield* client.deleteTopics(["again"])
        // two live brokers: the new topic is placed on 1 and 2 only
        yield* client.createTopics([{ name: "again", numPartitions: 2, replicationFactor: 2 }])
        const current = Option.getOrThrow(yield* store.topic("again")).value
        assert.notStrictEqual(current.topicId, oldId)

        yield* start(3)
        assert.isTrue(
          node(3).logs.some((l) => l.startsWith("INFO") && l.includes("again") && l.includes(oldId)),
          "the stray logs' deletion is logged at INFO with the topic and its old id"
        )
        const stored = Option.getOrThrow(yield* store.topic("again")).value
        assert.deepStrictEqual([stored.topicId, stored.partitions], [current.topicId, 2])
        assert.deepStrictEqual(folders(dir, "again"), yield* placedOn(store, "again", 3))
        assert.deepStrictEqual(localTopics(dir), [`again:${current.topicId}`])
        for (const n of nodes.values()) {
          yield* eventually(`broker ${n.id} answers Metadata with the store's topic`, () =>
            Effect.map(metadataOf(n.port), (answer) => {
              const t = answer.topics.find((x) => x.name === "again")
              return t !== undefined && t.errorCode === 0 && t.partitions.length === 2
            })
          )
        }
      }),
    { timeout: 60_000 }
  )

  it.scopedLive(
    "a partition reassigned away while a broker was down: its log is deleted at restart, never opened",
    () =>
      Effect.gen(function* () {
        const { store, node, start, stop, admin } = yield* cluster
        const client = yield* admin(1)
        yield* client.createTopics([{ name: "moved", numPartitions: 2, replicationFactor: 3 }])
        yield* eventually("broker 3 holds both partitions", () =>
          Effect.succeed(folders(node(3).dir, "moved").length === 2)
        )
        const dir = node(3).dir
        yield* stop(3)
        const moved = yield* client.alterPartitionReassignments([{ topic: "moved", partition: 0, replicas: [1, 2] }])
        assert.deepStrictEqual(
          moved.map((r) => r.error),
          [null]
        )
        yield* eventually("the reassignment completes", () =>
          Effect.map(Effect.orDie(store.partition("moved", 0)), (r) =>
            Option.exists(r, (x) => x.value.replicas.join() === "1,2")
          )
        )

        yield* start(3)
        assert.deepStrictEqual(folders(dir, "moved"), [1])
        assert.isUndefined(node(3).replicas.get("moved", 0))
        assert.isDefined(node(3).replicas.get("moved", 1))
        assert.isTrue(
          node(3).logs.some((l) => l.startsWith("INFO") && l.includes("moved-0") && l.includes("no longer names")),
          "the log is deleted before it is opened (logged at INFO)"
        )
      }),
    { timeout: 60_000 }
  )
})
