import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Admin from "../../src/client/Admin.js"
import * as ClientConfig from "../../src/client/ClientConfig.js"
import * as ClientError from "../../src/client/ClientError.js"
import * as Cluster from "../../src/client/Cluster.js"
import { startEddy, stoppedPort } from "./util.js"

describe("Cluster", () => {
  it.scopedLive("bootstraps, finds leaders and refreshes metadata every metadata.max.age.ms", () =>
    Effect.gen(function* () {
      const { bootstrap, broker } = yield* startEddy()
      // the first bootstrap server is unreachable: the next one is used
      const cluster = yield* Cluster.make({
        "bootstrap.servers": `127.0.0.1:1,${bootstrap}`,
        "metadata.max.age.ms": 100
      })
      const admin = Admin.makeWith(cluster)
      yield* admin.createTopics([{ name: "m", numPartitions: 1 }])
      const before = yield* cluster.topic("m")
      assert.strictEqual(before.partitions.length, 1)
      assert.strictEqual(before.partitions[0]!.leader, broker.nodeId)
      assert.strictEqual(cluster.metadata().clusterId, broker.clusterId)
      yield* admin.createPartitions("m", 3)
      yield* Effect.sleep(400)
      assert.strictEqual(cluster.cachedTopic("m")!.partitions.length, 3)
      assert.strictEqual(yield* cluster.leaderFor("m", 2), broker.nodeId)
      const missing = yield* Effect.flip(cluster.leaderFor("m", 7).pipe(Effect.timeout(500)))
      assert.isDefined(missing)
      const conn = yield* cluster.connection(broker.nodeId)
      assert.strictEqual(conn.broker, `${broker.advertised.host}:${broker.advertised.port}`)
      // the pool keeps one connection per broker
      assert.strictEqual(yield* cluster.connection(broker.nodeId), conn)
    })
  )

  it.scopedLive("auto-creates a topic on lookup; fails fast on a non-retriable error", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy()
      const cluster = yield* Cluster.make({ "bootstrap.servers": bootstrap })
      const t = yield* cluster.topic("auto")
      assert.isAbove(t.partitions.length, 0)
      const error = yield* Effect.flip(cluster.topic("bad name!"))
      assert.instanceOf(error, ClientError.KafkaError)
      assert.isFalse((error as ClientError.KafkaError).retriable)
    })
  )

  it("maps error codes to KafkaError with the table's retriable flag", () => {
    const e = ClientError.fromCode(6, { topic: "t", partition: 2 })
    assert.strictEqual(e.errorName, "NOT_LEADER_OR_FOLLOWER")
    assert.isTrue(e.retriable)
    assert.isTrue(ClientError.needsMetadataRefresh(e))
    assert.isFalse(ClientError.fromCode(36).retriable)
    assert.deepStrictEqual(ClientConfig.parseHostPort("[::1]:9093"), { host: "::1", port: 9093 })
    assert.deepStrictEqual(ClientConfig.resolve({ "bootstrap.servers": "a:1, b:2" })["bootstrap.servers"], [
      "a:1",
      "b:2"
    ])
  })

  it.live("without a reachable broker, a call fails after bootstrap.timeout.ms with a BootstrapTimeoutError", () =>
    Effect.gen(function* () {
      const port = yield* stoppedPort
      // the call's own bound is a minute: the bootstrap budget ends it
      const cluster = yield* Cluster.make({
        "bootstrap.servers": `127.0.0.1:${port}`,
        "default.api.timeout.ms": 60000,
        "bootstrap.timeout.ms": 300
      })
      const e = yield* Effect.flip(cluster.retry(cluster.refresh()))
      assert.strictEqual(e._tag, "BootstrapTimeoutError")
      if (e._tag === "BootstrapTimeoutError") {
        assert.strictEqual(e.bootstrapServers, `127.0.0.1:${port}`)
        assert.strictEqual(e.timeoutMs, 300)
        assert.include(e.message, "ECONNREFUSED")
        assert.isFalse(ClientError.isRetriable(e))
      }
      // an admin call stops at the same error
      const admin = Admin.makeWith(cluster)
      const created = yield* Effect.flip(admin.createTopics([{ name: "t" }]))
      assert.strictEqual(created._tag, "BootstrapTimeoutError")
    }).pipe(Effect.scoped)
  )

  it.live("without bootstrap.timeout.ms an unreachable broker is retried for the call's whole timeout", () =>
    Effect.gen(function* () {
      const port = yield* stoppedPort
      const cluster = yield* Cluster.make({ "bootstrap.servers": `127.0.0.1:${port}`, "default.api.timeout.ms": 300 })
      const e = yield* Effect.flip(cluster.retry(cluster.refresh()))
      assert.strictEqual(e._tag, "ConnectionError")
    }).pipe(Effect.scoped)
  )
})
