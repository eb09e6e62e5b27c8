/**
 * Brokers register in the metadata store (node.id or broker.id, the advertised listener, on a lease) and
 * Metadata, DescribeCluster and FindCoordinator answer from the store's live broker list.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Scope } from "effect"
import * as MetadataStore from "../../src/broker/MetadataStore.js"
import * as DescribeCluster from "../../src/protocol/generated/DescribeCluster.js"
import * as FindCoordinator from "../../src/protocol/generated/FindCoordinator.js"
import * as Metadata from "../../src/protocol/generated/Metadata.js"
import { connect, startBroker } from "./util.js"

const metadataRequest = Metadata.makeMetadataRequest({ topics: [] })

/** Waits (without a clock) until `check` holds: the store's watch delivers changes asynchronously. */
const eventually = (check: () => Effect.Effect<boolean>) =>
  Effect.gen(function* () {
    for (let i = 0; i < 200; i++) {
      if (yield* check()) return
      yield* Effect.sleep(5)
    }
    assert.fail("the condition never held")
  })

describe("broker registration in the metadata store", () => {
  it.scopedLive("registers node.id and the advertised listener; the cluster APIs list the store's live brokers", () =>
    Effect.gen(function* () {
      const storeContext = yield* Layer.build(MetadataStore.layerMemory)
      const store = Layer.succeedContext(storeContext)
      const one = yield* startBroker({
        extra: { "node.id": "1", "advertised.listeners": "PLAINTEXT://one.example:19092" },
        metadataStore: store
      })
      const registered = yield* Effect.flatMap(MetadataStore.MetadataStore, (s) => s.brokers).pipe(
        Effect.provide(store)
      )
      assert.deepStrictEqual(
        registered.map((b) => [b.value.brokerId, b.value.host, b.value.port]),
        [[1, "one.example", 19092]]
      )

      // a second broker (broker.id, Kafka's older name) on the same store, in a scope of its own
      const twoScope = yield* Scope.make()
      const two = yield* startBroker({ extra: { "broker.id": "2" }, metadataStore: store }).pipe(Scope.extend(twoScope))
      const client = yield* connect(one.broker.address.port)
      const brokersInMetadata = Effect.map(client.send(3, 12, metadataRequest), (res) =>
        res.brokers.map((b) => [b.nodeId, b.host, b.port])
      )
      const both = [
        [1, "one.example", 19092],
        [2, "127.0.0.1", two.broker.address.port]
      ]
      yield* eventually(() => Effect.map(brokersInMetadata, (list) => list.length === 2))
      assert.deepStrictEqual(yield* brokersInMetadata, both)
      const cluster = yield* client.send(60, 0, DescribeCluster.makeDescribeClusterRequest())
      assert.deepStrictEqual(
        cluster.brokers.map((b) => [b.brokerId, b.host, b.port]),
        both
      )
      const coordinator = yield* client.send(
        10,
        4,
        FindCoordinator.makeFindCoordinatorRequest({ keyType: 0, coordinatorKeys: ["g"] })
      )
      assert.deepStrictEqual(
        coordinator.coordinators.map((c) => [c.errorCode, c.nodeId, c.host, c.port]),
        [[0, 1, "one.example", 19092]]
      )

      // a stopped broker's registration goes with its lease: the others stop listing it
      yield* Scope.close(twoScope, Exit.void)
      yield* eventually(() => Effect.map(brokersInMetadata, (list) => list.length === 1))
      assert.deepStrictEqual(yield* brokersInMetadata, [[1, "one.example", 19092]])
      assert.strictEqual(one.broker.nodeId, 1)
    })
  )

  it.scopedLive("a second live broker with the same node.id cannot start", () =>
    Effect.gen(function* () {
      const storeContext = yield* Layer.build(MetadataStore.layerMemory)
      const store = Layer.succeedContext(storeContext)
      yield* startBroker({ extra: { "node.id": "7" }, metadataStore: store })
      const second = yield* Effect.exit(startBroker({ extra: { "node.id": "7" }, metadataStore: store }))
      assert.isTrue(Exit.isFailure(second))
      if (Exit.isFailure(second)) assert.include(String(second.cause), "MetadataConflict")
    })
  )
})
