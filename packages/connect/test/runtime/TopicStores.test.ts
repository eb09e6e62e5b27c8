import * as Admin from "@eddy/core/client/Admin"
import * as Fetcher from "@eddy/core/client/Fetcher"
import * as Producer from "@eddy/core/client/Producer"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import * as ConfigStore from "../../src/runtime/ConfigStore.js"
import * as KafkaBasedLog from "../../src/runtime/KafkaBasedLog.js"
import * as OffsetStore from "../../src/runtime/OffsetStore.js"
import * as StatusStore from "../../src/runtime/StatusStore.js"
import { startEddy } from "../util.js"

const utf8 = new TextDecoder()
const bytes = (s: string) => new TextEncoder().encode(s)

const props = (bootstrap: string) => ({
  "bootstrap.servers": bootstrap,
  "consumer.fetch.max.wait.ms": "50",
  "producer.linger.ms": "1",
  "offset.storage.topic": "my-offsets",
  "offset.storage.partitions": "3",
  "offset.storage.replication.factor": "1",
  "config.storage.topic": "my-configs",
  "config.storage.replication.factor": "1",
  "status.storage.topic": "my-status",
  "status.storage.partitions": "2",
  "status.storage.replication.factor": "1"
})

/** Every record of `topic` as text, in partition then offset order. */
const readAll = (bootstrap: string, topic: string, partitions: number) =>
  Effect.gen(function* () {
    const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
    const ends = yield* admin.listOffsets(
      Array.from({ length: partitions }, (_, partition) => ({ topic, partition, spec: "latest" as const }))
    )
    const total = ends.reduce((n, e) => n + e.offset, 0)
    const fetcher = yield* Fetcher.make({ "bootstrap.servers": bootstrap, "fetch.max.wait.ms": 50 })
    const records = yield* fetcher
      .fetch(
        topic,
        ends.map((e) => ({ partition: e.partition, offset: "earliest" as const }))
      )
      .pipe(Stream.take(total), Stream.runCollect)
    return [...records].map((r) => ({
      key: r.key === null ? null : utf8.decode(r.key),
      value: r.value === null ? null : utf8.decode(r.value)
    }))
  }).pipe(Effect.scoped)

describe("KafkaBasedLog", () => {
  it.scopedLive(
    "creates a compacted topic with the partitions asked for, reads what others wrote and catches up on readToEnd",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddy
        const client = { "bootstrap.servers": bootstrap }
        const producer = yield* Producer.make({ ...client, "linger.ms": 1 })
        const seen: Array<string> = []
        const log = yield* KafkaBasedLog.make(
          {
            topic: "kbl",
            partitions: 2,
            replicationFactor: 1,
            adminProps: client,
            producerProps: client,
            consumerProps: { ...client, "fetch.max.wait.ms": 50 }
          },
          (r) => Effect.sync(() => seen.push(`${r.partition}:${utf8.decode(r.key!)}`))
        )
        assert.strictEqual(log.partitions, 2)
        const admin = yield* Admin.make(client)
        const [config] = yield* admin.describeConfigs([{ type: "topic", name: "kbl", keys: ["cleanup.policy"] }])
        assert.strictEqual(config?.configs.find((c) => c.name === "cleanup.policy")?.value, "compact")
        yield* producer.send("kbl", { key: bytes("a"), value: bytes("1"), partition: 1 })
        yield* log.send(bytes("b"), bytes("2"), 0)
        yield* log.readToEnd
        assert.deepStrictEqual([...seen].sort(), ["0:b", "1:a"])

        // A second reader starts from the beginning.
        const again: Array<string> = []
        yield* KafkaBasedLog.make(
          {
            topic: "kbl",
            partitions: 5,
            replicationFactor: 1,
            adminProps: client,
            producerProps: client,
            consumerProps: { ...client, "fetch.max.wait.ms": 50 }
          },
          (r) => Effect.sync(() => again.push(utf8.decode(r.key!)))
        )
        assert.deepStrictEqual([...again].sort(), ["a", "b"])

        // an existing topic that is not compacted is refused
        yield* admin.createTopics([{ name: "not-compacted", numPartitions: 1, replicationFactor: 1 }])
        const refused = yield* Effect.flip(
          KafkaBasedLog.make(
            {
              topic: "not-compacted",
              partitions: 1,
              replicationFactor: 1,
              adminProps: client,
              producerProps: client,
              consumerProps: client
            },
            () => Effect.void
          )
        )
        assert.include(refused.message, "'cleanup.policy=compact'")
      }),
    60_000
  )
})

describe("OffsetStore.layerTopic", () => {
  it.scopedLive(
    "writes Connect's keys and JSON values, tombstones removed partitions, and a second worker reads them",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddy
        const store = yield* OffsetStore.makeTopic(props(bootstrap))
        yield* store.set("src", [
          { partition: { filename: "a.txt" }, offset: { position: 30 } },
          { partition: { filename: "b.txt" }, offset: { position: 7 } }
        ])
        assert.deepStrictEqual(yield* store.get("src", { filename: "a.txt" }), { position: 30 })
        yield* store.set("src", [{ partition: { filename: "b.txt" }, offset: null }])
        const other = yield* OffsetStore.makeTopic(props(bootstrap))
        assert.deepStrictEqual(yield* other.list("src"), [
          { partition: { filename: "a.txt" }, offset: { position: 30 } }
        ])
        assert.strictEqual(yield* other.get("src", { filename: "b.txt" }), null)
        const records = yield* readAll(bootstrap, "my-offsets", 3)
        assert.deepStrictEqual(records.map((r) => `${r.key} ${r.value}`).sort(), [
          '["src",{"filename":"a.txt"}] {"position":30}',
          '["src",{"filename":"b.txt"}] null',
          '["src",{"filename":"b.txt"}] {"position":7}'
        ])
      }),
    60_000
  )
})

describe("ConfigStore", () => {
  it("applies task configs only at their commit record, and marks a short commit inconsistent", () => {
    const pending: ConfigStore.Pending = new Map()
    const v = (o: unknown) => bytes(JSON.stringify(o))
    let s = ConfigStore.empty
    const step = (key: string, value: Uint8Array | null) => {
      const r = ConfigStore.apply(s, pending, key, value, s.offset + 1)
      s = r.snapshot
      return r.update
    }
    assert.strictEqual(step("connector-a-b", v({ properties: { "connector.class": "X" } }))?._tag, "ConnectorConfig")
    assert.strictEqual(s.targets.get("a-b"), "STARTED")
    assert.strictEqual(step("task-a-b-0", v({ properties: { t: "0" } })), null)
    assert.strictEqual(s.tasks.get("a-b"), undefined)
    step("task-a-b-1", v({ properties: { t: "1" } }))
    assert.strictEqual(step("commit-a-b", v({ tasks: 2 }))?._tag, "TaskConfigs")
    assert.deepStrictEqual(s.tasks.get("a-b"), [{ t: "0" }, { t: "1" }])
    step("task-a-b-0", v({ properties: { t: "x" } }))
    assert.strictEqual(step("commit-a-b", v({ tasks: 2 })), null)
    assert.isTrue(s.inconsistent.has("a-b"))
    assert.deepStrictEqual(s.tasks.get("a-b"), [{ t: "0" }, { t: "1" }])
    step("target-state-a-b", v({ state: "PAUSED", "state.v2": "STOPPED" }))
    assert.strictEqual(s.targets.get("a-b"), "STOPPED")
    step("target-state-a-b", v({ state: "PAUSED" }))
    assert.strictEqual(s.targets.get("a-b"), "PAUSED")
    const restart = step("restart-connector-a-b", v({ "include-tasks": true, "only-failed": false }))
    assert.deepStrictEqual(
      restart,
      ConfigStore.ConfigUpdate.Restart({ name: "a-b", includeTasks: true, onlyFailed: false })
    )
    step("connector-a-b", null)
    assert.isFalse(s.connectors.has("a-b"))
    assert.isFalse(s.tasks.has("a-b"))
    assert.strictEqual(s.offset, 10)
  })

  it.scopedLive(
    "writes Kafka Connect's records to a one-partition topic; another worker reads the same snapshot",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddy
        const store = yield* ConfigStore.make(props(bootstrap))
        yield* store.putConnectorConfig("c", { "connector.class": "FileStreamSource", topic: "t" }, "PAUSED")
        yield* store.putTaskConfigs("c", [{ topic: "t", task: "0" }])
        yield* store.putTargetState("c", "STOPPED")
        yield* store.putRestartRequest("c", false, true)
        const other = yield* ConfigStore.make(props(bootstrap))
        const snap = yield* other.snapshot
        assert.deepStrictEqual(snap.connectors.get("c"), { "connector.class": "FileStreamSource", topic: "t" })
        assert.deepStrictEqual(snap.tasks.get("c"), [{ topic: "t", task: "0" }])
        assert.strictEqual(snap.targets.get("c"), "STOPPED")
        assert.strictEqual(snap.offset, 6)
        const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
        const [described] = yield* admin.describeTopics(["my-configs"])
        assert.strictEqual(described?.partitions.length, 1)
        const records = yield* readAll(bootstrap, "my-configs", 1)
        assert.deepStrictEqual(records, [
          { key: "target-state-c", value: '{"state":"PAUSED","state.v2":"PAUSED"}' },
          { key: "connector-c", value: '{"properties":{"connector.class":"FileStreamSource","topic":"t"}}' },
          { key: "task-c-0", value: '{"properties":{"topic":"t","task":"0"}}' },
          { key: "commit-c", value: '{"tasks":1}' },
          { key: "target-state-c", value: '{"state":"PAUSED","state.v2":"STOPPED"}' },
          { key: "restart-connector-c", value: '{"include-tasks":false,"only-failed":true}' }
        ])
        yield* store.removeConnectorConfig("c")
        const after = yield* other.snapshot
        assert.isFalse(after.connectors.has("c"))
        assert.isFalse(after.targets.has("c"))
      }),
    60_000
  )
})

describe("StatusStore", () => {
  it.scopedLive(
    "keeps statuses as Kafka writes them; a stale generation from another worker does not overwrite",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddy
        const a = yield* StatusStore.make(props(bootstrap))
        const b = yield* StatusStore.make(props(bootstrap))
        yield* a.putConnector("c", { state: "RUNNING", trace: null, worker_id: "a:1", generation: 3 })
        yield* a.putTask("c", 0, { state: "RUNNING", trace: null, worker_id: "a:1", generation: 3 })
        yield* b.readToEnd
        yield* b.putTask("c", 0, { state: "FAILED", trace: "boom", worker_id: "b:1", generation: 2 })
        yield* a.putTopic("c", "t1", 0)
        const got = yield* b.get("c")
        assert.deepStrictEqual(got.connector, { state: "RUNNING", trace: null, worker_id: "a:1", generation: 3 })
        assert.deepStrictEqual(got.tasks.get(0), { state: "RUNNING", trace: null, worker_id: "a:1", generation: 3 })
        assert.deepStrictEqual(yield* b.topics("c"), ["t1"])
        const records = yield* readAll(bootstrap, "my-status", 2)
        assert.include(
          records.map((r) => `${r.key} ${r.value}`),
          'status-connector-c {"state":"RUNNING","trace":null,"worker_id":"a:1","generation":3}'
        )
        yield* a.removeConnector("c")
        const gone = yield* b.get("c")
        assert.strictEqual(gone.connector, null)
        assert.strictEqual(gone.tasks.size, 0)
        assert.deepStrictEqual(yield* b.topics("c"), [])
      }),
    60_000
  )
})
