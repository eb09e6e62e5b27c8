/**
 * Brokers register in the metadata store (node.id or broker.id, the advertised listener, on a lease) and
 * Metadata, DescribeCluster and FindCoordinator answer from the store's live broker list.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Option, Scope, TestClock } from "effect"
import { partitionFor } from "../../src/broker/CoordinatorKey.js"
import * as Membership from "../../src/broker/internal/membership.js"
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
      // the coordinator is the leader of the group's __consumer_offsets partition, as the store has it
      const offsetsPartition = partitionFor("g", 50)
      const record = yield* Effect.flatMap(MetadataStore.MetadataStore, (s) =>
        s.partition("__consumer_offsets", offsetsPartition)
      ).pipe(Effect.provide(store))
      const leader = Option.getOrThrow(record).value.leader
      const endpoint = both.find(([id]) => id === leader)!
      assert.deepStrictEqual(
        coordinator.coordinators.map((c) => [c.errorCode, c.nodeId, c.host, c.port]),
        [[0, ...endpoint]]
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

describe("broker membership lease", () => {
  it.scoped("a broker whose lease is lost registers again on a new one", () =>
    Effect.gen(function* () {
      // built in the test's scope, so the registration's finalizers run while the store is still up
      const real = Context.get(yield* Layer.build(MetadataStore.layerMemory), MetadataStore.MetadataStore)
      // the store loses the broker's first lease at its first renewal (as if it had expired)
      let lost = 0
      const store = MetadataStore.MetadataStore.of({
        ...real,
        keepAlive: (lease) =>
          lost === 0
            ? Effect.zipRight(
                Effect.sync(() => lost++),
                Effect.zipRight(Effect.ignore(real.revokeLease(lease)), real.keepAlive(lease))
              )
            : real.keepAlive(lease)
      })
      const self = { nodeId: 3, host: "h", port: 1, rack: null }
      const membership = yield* Membership.register(self, 3000).pipe(
        Effect.provideService(MetadataStore.MetadataStore, store)
      )
      const first = (yield* real.brokers).map((b) => [b.value.brokerId, b.version])
      assert.strictEqual(first.length, 1)
      // the first renewal (after a third of the TTL) finds the lease gone; the broker registers again
      yield* TestClock.adjust(1000)
      for (let i = 0; i < 20 && (yield* real.brokers).length === 0; i++) yield* Effect.yieldNow()
      const again = (yield* real.brokers).map((b) => [b.value.brokerId, b.version])
      assert.strictEqual(lost, 1)
      assert.strictEqual(again.length, 1)
      assert.strictEqual(again[0]![0], 3)
      assert.isAbove(again[0]![1]!, first[0]![1]!, "a new registration")
      assert.deepStrictEqual(
        membership.brokers().map((b) => b.nodeId),
        [3]
      )
    })
  )
})
