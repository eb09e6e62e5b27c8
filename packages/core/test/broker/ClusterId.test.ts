/**
 * One cluster id per cluster, kept in the metadata store: three real brokers sharing one store without `cluster.id`
 * report the store's id (Metadata, DescribeCluster) and write it to their `meta.properties`; a broker restarted on its
 * data dir keeps it; a data dir of another cluster, or a configured `cluster.id` that is not the cluster's, refuses to
 * start with a message naming both ids and the file.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, ExecutionStrategy, Exit, Layer, Scope } from "effect"
import * as MetadataStore from "../../src/broker/MetadataStore.js"
import * as DescribeCluster from "../../src/protocol/generated/DescribeCluster.js"
import * as Metadata from "../../src/protocol/generated/Metadata.js"
import { connect, startBroker, tempDir } from "./util.js"

/** One in-process store shared by every broker started with the returned layer. */
const sharedStore = Effect.gen(function* () {
  const storeLayer = Layer.succeedContext(yield* Layer.build(MetadataStore.layerMemory))
  return { storeLayer, store: yield* Effect.provide(MetadataStore.MetadataStore, storeLayer) }
})

/** The cluster id Metadata and DescribeCluster answer on `port` (both must agree). */
const reportedClusterId = (port: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const client = yield* connect(port)
      const metadata = yield* client.send(3, 12, Metadata.makeMetadataRequest({ topics: [] }))
      const described = yield* client.send(60, 0, DescribeCluster.makeDescribeClusterRequest({}))
      assert.strictEqual(described.clusterId, metadata.clusterId)
      return metadata.clusterId
    })
  )

const storedClusterId = (dir: string) =>
  /^cluster\.id=(.*)$/m.exec(fs.readFileSync(path.join(dir, "meta.properties"), "utf8"))?.[1]

/** Starts a broker in its own scope (a child of the current one), closed early by the returned `stop`. */
const startInScope = (options: Parameters<typeof startBroker>[0]) =>
  Effect.gen(function* () {
    const scope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    const started = yield* startBroker(options).pipe(Scope.extend(scope))
    return { ...started, stop: Scope.close(scope, Exit.void) }
  })

/** The message a broker start fails with (the test fails if it starts). */
const startFailure = (options: Parameters<typeof startBroker>[0]) =>
  Effect.scoped(startBroker(options)).pipe(
    Effect.flip,
    Effect.map((e) => e.message)
  )

describe("the cluster id", () => {
  it.scopedLive("is the store's on every broker, kept across restarts; another cluster's data dir cannot join", () =>
    Effect.gen(function* () {
      const { storeLayer, store } = yield* sharedStore
      const brokers = yield* Effect.forEach([1, 2, 3], (id) =>
        startInScope({ extra: { "node.id": String(id) }, metadataStore: storeLayer })
      )
      const reported = yield* Effect.forEach(brokers, ({ broker }) => reportedClusterId(broker.address.port))
      assert.strictEqual(new Set(reported).size, 1, `one cluster id, not ${reported.join(", ")}`)
      const clusterId = yield* store.claimClusterId("not-this-one")
      for (const { broker, dir } of brokers) {
        assert.strictEqual(broker.clusterId, clusterId)
        assert.strictEqual(yield* reportedClusterId(broker.address.port), clusterId)
        assert.strictEqual(storedClusterId(dir), clusterId)
      }

      // broker 2 restarted on its data dir keeps the id
      const second = brokers[1]!
      yield* second.stop
      const restarted = yield* startInScope({
        dir: second.dir,
        extra: { "node.id": "2" },
        metadataStore: storeLayer
      })
      assert.strictEqual(yield* reportedClusterId(restarted.broker.address.port), clusterId)
      yield* restarted.stop

      // a broker formatted alone (its own store) is of another cluster: its data dir must not join this one
      const otherDir = yield* tempDir
      const alone = yield* startInScope({ dir: otherDir, extra: { "node.id": "4" } })
      const otherId = alone.broker.clusterId
      assert.notStrictEqual(otherId, clusterId)
      yield* alone.stop
      const message = yield* startFailure({ dir: otherDir, extra: { "node.id": "4" }, metadataStore: storeLayer })
      assert.include(message, otherId)
      assert.include(message, clusterId)
      assert.include(message, path.join(otherDir, "meta.properties"))
      assert.notInclude(message, "\n")
      assert.strictEqual(storedClusterId(otherDir), otherId)
      // the data dir of the cluster alone (a fresh in-process store) still starts, with its own id
      const againAlone = yield* startInScope({ dir: otherDir, extra: { "node.id": "4" } })
      assert.strictEqual(againAlone.broker.clusterId, otherId)
      yield* againAlone.stop
    })
  )

  it.scopedLive("a configured cluster.id that is not the cluster's refuses to start, writing nothing", () =>
    Effect.gen(function* () {
      const { storeLayer, store } = yield* sharedStore
      const first = yield* startBroker({
        extra: { "node.id": "1", "cluster.id": "cluster-a" },
        metadataStore: storeLayer
      })
      assert.strictEqual(first.broker.clusterId, "cluster-a")
      assert.strictEqual(yield* store.claimClusterId("x"), "cluster-a")
      // the same configured id joins
      const second = yield* startBroker({
        extra: { "node.id": "2", "cluster.id": "cluster-a" },
        metadataStore: storeLayer
      })
      assert.strictEqual(second.broker.clusterId, "cluster-a")
      const dir = yield* tempDir
      const message = yield* startFailure({
        dir,
        extra: { "node.id": "3", "cluster.id": "cluster-b" },
        metadataStore: storeLayer
      })
      assert.include(message, "cluster-b")
      assert.include(message, "cluster-a")
      assert.include(message, path.join(dir, "meta.properties"))
      assert.isFalse(fs.existsSync(path.join(dir, "meta.properties")))
    })
  )
})
