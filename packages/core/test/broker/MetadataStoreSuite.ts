/**
 * The one conformance suite of `MetadataStore`, run against the in-memory store (`TestClock`) and a
 * real etcd (real time, 2 s leases): compare-and-swap, leases, watches, controller election, round trips.
 */
import { assert } from "@effect/vitest"
import { Effect, Either, Fiber, Option, Stream } from "effect"
import {
  BrokerRegistration,
  type MetadataEvent,
  PartitionState,
  TopicMetadata
} from "../../src/broker/MetadataRecords.js"
import { MetadataStore, session } from "../../src/broker/MetadataStore.js"

/** How one implementation runs the suite. */
export interface SuiteTarget {
  /** Registers a test whose body runs with a fresh store. */
  readonly test: (name: string, body: () => Effect.Effect<void, unknown, MetadataStore>) => void
  /** Lets `millis` pass (TestClock.adjust or a real sleep). */
  readonly advance: (millis: number) => Effect.Effect<void>
}

const ttl = 2_000

const topic = (name: string, partitions = 3, configs: Record<string, string> = {}) =>
  new TopicMetadata({ topicId: `id-${name}`, name, partitions, configs })

const partitionState = (topicName: string, partition: number, leader: number, leaderEpoch = 0) =>
  new PartitionState({
    topic: topicName,
    partition,
    replicas: [1, 2, 3],
    isr: [1, 2, 3],
    leader,
    leaderEpoch,
    partitionEpoch: leaderEpoch
  })

const broker = (brokerId: number) => new BrokerRegistration({ brokerId, host: "127.0.0.1", port: 9092 + brokerId })

/** Repeats `check` after `step` ms of (test or real) time until it holds; fails after `tries`. */
const eventually = (
  target: SuiteTarget,
  check: Effect.Effect<boolean, unknown, MetadataStore>,
  tries = 40,
  step = 250
) =>
  Effect.gen(function* () {
    for (let i = 0; i < tries; i++) {
      if (yield* check) return
      yield* target.advance(step)
    }
    assert.fail("condition did not hold in time")
  })

const brokerIds = Effect.flatMap(MetadataStore, (s) => s.brokers).pipe(
  Effect.map((all) => all.map((b) => b.value.brokerId))
)

const casTests = (target: SuiteTarget) => {
  target.test("cluster id: the first claim wins, racing claims included, and it never changes", () =>
    Effect.gen(function* () {
      const store = yield* MetadataStore
      const raced = yield* Effect.all(
        ["a", "b", "c", "d"].map((id) => store.claimClusterId(`cluster-${id}`)),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(new Set(raced).size, 1)
      assert.include(["cluster-a", "cluster-b", "cluster-c", "cluster-d"], raced[0])
      assert.strictEqual(yield* store.claimClusterId("another"), raced[0])
    })
  )
  target.test("producer id blocks: disjoint for every caller, concurrent ones too, and never below the floor", () =>
    Effect.gen(function* () {
      const store = yield* MetadataStore
      const first = yield* store.allocateProducerIds(1000, 0)
      const second = yield* store.allocateProducerIds(1000, 0)
      assert.deepStrictEqual([first, second], [0, 1000])
      // a caller whose own disk says it used ids up to 5000 (the store forgot them) starts there
      assert.strictEqual(yield* store.allocateProducerIds(1000, 5000), 5000)
      assert.strictEqual(yield* store.allocateProducerIds(10, 0), 6000)
      // racing callers (brokers) each get their own block
      const raced = yield* Effect.all(
        Array.from({ length: 8 }, () => store.allocateProducerIds(100, 0)),
        { concurrency: "unbounded" }
      )
      const sorted = [...raced].sort((a, b) => a - b)
      assert.deepStrictEqual(
        sorted,
        Array.from({ length: 8 }, (_, i) => 6010 + 100 * i)
      )
    })
  )

  target.test("compare-and-swap: a stale or repeated write conflicts, the right version wins", () =>
    Effect.gen(function* () {
      const store = yield* MetadataStore
      const created = yield* store.putTopic(topic("a"), 0)
      const again = yield* Effect.either(store.putTopic(topic("a"), 0))
      assert.isTrue(Either.isLeft(again) && again.left._tag === "MetadataConflict")
      const updated = yield* store.putTopic(topic("a", 6), created.version)
      assert.isAbove(updated.version, created.version)
      const stale = yield* Effect.either(store.putTopic(topic("a", 9), created.version))
      assert.isTrue(Either.isLeft(stale) && stale.left._tag === "MetadataConflict")
      assert.strictEqual(Option.getOrThrow(yield* store.topic("a")).value.partitions, 6)
      const staleDelete = yield* Effect.either(store.deleteTopic("a", created.version))
      assert.isTrue(Either.isLeft(staleDelete))
      const p0 = yield* store.putPartition(partitionState("a", 0, 1), 0)
      const p0again = yield* Effect.either(store.putPartition(partitionState("a", 0, 2), 0))
      assert.isTrue(Either.isLeft(p0again))
      yield* store.putPartition(partitionState("a", 0, 2, 1), p0.version)
      yield* store.deleteTopic("a", updated.version)
      assert.isTrue(Option.isNone(yield* store.topic("a")))
      assert.deepStrictEqual(yield* store.partitions("a"), [])
    })
  )

  target.test(
    "a deleted topic leaves a tombstone of its id, written with the deletion; a stale delete leaves none",
    () =>
      Effect.gen(function* () {
        const store = yield* MetadataStore
        const first = yield* store.putTopic(
          new TopicMetadata({ topicId: "id-1", name: "d", partitions: 1, configs: {} }),
          0
        )
        assert.isFalse(yield* store.isTopicDeleted("id-1"))
        const stale = yield* Effect.either(store.deleteTopic("d", first.version + 1000))
        assert.isTrue(Either.isLeft(stale) && stale.left._tag === "MetadataConflict")
        assert.isFalse(yield* store.isTopicDeleted("id-1"))
        const missing = yield* Effect.either(store.deleteTopic("none", 5))
        assert.isTrue(Either.isLeft(missing) && missing.left._tag === "MetadataConflict")
        const before = yield* store.revision
        yield* store.deleteTopic("d", first.version)
        // one change: the topic record, its partitions and the tombstone at one revision
        assert.strictEqual(yield* store.revision, before + 1)
        assert.isTrue(yield* store.isTopicDeleted("id-1"))
        // the name created again gets a new id, which is not deleted; the old id stays tombstoned
        yield* store.putTopic(new TopicMetadata({ topicId: "id-2", name: "d", partitions: 2, configs: {} }), 0)
        assert.isFalse(yield* store.isTopicDeleted("id-2"))
        assert.isTrue(yield* store.isTopicDeleted("id-1"))
        // tombstones are not topics
        const topics = yield* store.topics
        assert.deepStrictEqual(
          topics.map((t) => t.value.topicId),
          ["id-2"]
        )
      })
  )

  target.test("a guarded partition write fails once a broker it names registered again (a new incarnation)", () =>
    Effect.gen(function* () {
      const store = yield* MetadataStore
      const first = yield* store.grantLease(ttl)
      const one = yield* store.registerBroker(broker(1), first)
      const p0 = yield* store.putPartition(partitionState("g", 0, 1), 0, [
        { brokerId: 1, version: one.version },
        { brokerId: 2, version: 0 }
      ])
      // broker 1 restarts: the old registration goes with its lease, a new one has a new version
      yield* store.revokeLease(first)
      const second = yield* store.grantLease(ttl)
      const again = yield* store.registerBroker(broker(1), second)
      const stale = yield* Effect.either(
        store.putPartition(partitionState("g", 0, 1, 1), p0.version, [{ brokerId: 1, version: one.version }])
      )
      assert.isTrue(Either.isLeft(stale) && stale.left._tag === "MetadataConflict")
      // a broker assumed absent that registered makes the write fail too
      yield* store.registerBroker(broker(2), second)
      const absent = yield* Effect.either(
        store.putPartition(partitionState("g", 0, 1, 1), p0.version, [{ brokerId: 2, version: 0 }])
      )
      assert.isTrue(Either.isLeft(absent) && absent.left._tag === "MetadataConflict")
      assert.strictEqual(Option.getOrThrow(yield* store.partition("g", 0)).version, p0.version)
      yield* store.putPartition(partitionState("g", 0, 1, 1), p0.version, [{ brokerId: 1, version: again.version }])
      assert.strictEqual(Option.getOrThrow(yield* store.partition("g", 0)).value.leaderEpoch, 1)
    })
  )

  target.test("many concurrent compare-and-swap increments never lose an update", () =>
    Effect.gen(function* () {
      const store = yield* MetadataStore
      yield* store.putTopic(topic("counter", 1, { n: "0" }), 0)
      const increment: Effect.Effect<void, unknown> = Effect.gen(function* () {
        const current = Option.getOrThrow(yield* store.topic("counter"))
        yield* Effect.yieldNow() // let the other workers read the same version
        const n = Number(current.value.configs.n) + 1
        const next = topic("counter", 1, { n: String(n) })
        const result = yield* Effect.either(store.putTopic(next, current.version))
        if (Either.isLeft(result)) {
          assert.strictEqual(result.left._tag, "MetadataConflict")
          return yield* increment
        }
      })
      const workers = 8
      const each = 5
      yield* Effect.all(
        Array.from({ length: workers }, () => Effect.repeatN(increment, each - 1)),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(Option.getOrThrow(yield* store.topic("counter")).value.configs.n, String(workers * each))
    })
  )
}

const roundTripTests = (target: SuiteTarget) => {
  target.test("topics and partition states round-trip, listed in order", () =>
    Effect.gen(function* () {
      const store = yield* MetadataStore
      const t = topic("orders", 2, { "cleanup.policy": "compact", "retention.ms": "1000" })
      yield* store.putTopic(topic("billing"), 0)
      yield* store.putTopic(t, 0)
      const read = Option.getOrThrow(yield* store.topic("orders"))
      assert.deepStrictEqual({ ...read.value }, { ...t })
      assert.deepStrictEqual(
        (yield* store.topics).map((x) => x.value.name),
        ["billing", "orders"]
      )
      for (const p of [10, 2, 1]) yield* store.putPartition(partitionState("orders", p, p % 3, p), 0)
      yield* store.putPartition(partitionState("orders-x", 0, 1), 0)
      const parts = yield* store.partitions("orders")
      assert.deepStrictEqual(
        parts.map((p) => p.value.partition),
        [1, 2, 10]
      )
      assert.deepStrictEqual({ ...parts[1]!.value }, { ...partitionState("orders", 2, 2, 2) })
      assert.isTrue(Option.isNone(yield* store.partition("orders", 3)))
    })
  )
}

const eventKeys = (events: ReadonlyArray<MetadataEvent>) =>
  events.map((e) => `${e.key.slice(e.key.lastIndexOf("/") + 1)}:${e.value === undefined ? "del" : "put"}`)

const leaseTests = (target: SuiteTarget) => {
  target.test("a broker whose lease is not kept alive disappears; a kept one stays", () =>
    Effect.gen(function* () {
      const store = yield* MetadataStore
      const start = (yield* store.revision) + 1
      const kept = yield* session(ttl)
      yield* store.registerBroker(broker(1), kept.lease)
      const lease = yield* store.grantLease(ttl)
      yield* store.registerBroker(broker(2), lease)
      const duplicate = yield* Effect.either(store.registerBroker(broker(2), kept.lease))
      assert.isTrue(Either.isLeft(duplicate) && duplicate.left._tag === "MetadataConflict")
      assert.deepStrictEqual(yield* brokerIds, [1, 2])
      yield* eventually(
        target,
        Effect.map(brokerIds, (ids) => ids.length === 1)
      )
      assert.deepStrictEqual(yield* brokerIds, [1])
      const seen = yield* store.watch("broker", start).pipe(Stream.take(3), Stream.runCollect)
      assert.deepStrictEqual(eventKeys(Array.from(seen)), ["1:put", "2:put", "2:del"])
      yield* store.revokeLease(lease) // revoking an expired lease is a no-op
      const renewed = yield* Effect.either(store.keepAlive(lease))
      assert.isTrue(Either.isLeft(renewed) && renewed.left._tag === "LeaseExpired")
      const late = yield* Effect.either(store.registerBroker(broker(3), lease))
      assert.isTrue(Either.isLeft(late) && late.left._tag === "LeaseExpired")
      const lost = yield* Effect.fork(kept.lost)
      assert.isTrue(Option.isNone(yield* Fiber.poll(lost)))
      yield* store.revokeLease(kept.lease)
      assert.deepStrictEqual(yield* brokerIds, [])
      yield* eventually(target, Effect.map(Fiber.poll(lost), Option.isSome))
    }).pipe(Effect.scoped)
  )
}

const watchTests = (target: SuiteTarget) => {
  target.test("watches see every change in revision order, from a past revision and live", () =>
    Effect.gen(function* () {
      const store = yield* MetadataStore
      const start = (yield* store.revision) + 1
      const live = yield* store.watch("topic", start).pipe(Stream.take(5), Stream.runCollect, Effect.fork)
      yield* Effect.yieldNow()
      const a = yield* store.putTopic(topic("a"), 0)
      yield* store.putPartition(partitionState("b", 0, 1), 0)
      yield* store.putTopic(topic("b"), 0)
      yield* store.putTopic(topic("a", 4), a.version)
      yield* store.deleteTopic("b", Option.getOrThrow(yield* store.topic("b")).version)
      yield* store.putTopic(topic("c"), 0)
      const past = Array.from(yield* store.watch("topic", start).pipe(Stream.take(5), Stream.runCollect))
      const expected = ["a:put", "b:put", "a:put", "b:del", "c:put"]
      assert.deepStrictEqual(eventKeys(past), expected)
      for (let i = 1; i < past.length; i++) assert.isAbove(past[i]!.revision, past[i - 1]!.revision)
      assert.strictEqual(past[2]!.kind === "topic" ? past[2]!.value?.partitions : -1, 4)
      assert.deepStrictEqual(eventKeys(Array.from(yield* Fiber.join(live))), expected)
      const partitions = yield* store.watch("partition", start).pipe(Stream.take(2), Stream.runCollect)
      assert.deepStrictEqual(eventKeys(Array.from(partitions)), ["0:put", "0:del"])
    })
  )
}

const electionTests = (target: SuiteTarget) => {
  target.test("two concurrent campaigners: exactly one controller, then the other after a resign", () =>
    Effect.gen(function* () {
      const store = yield* MetadataStore
      const l1 = (yield* session(ttl)).lease
      const l2 = (yield* session(ttl)).lease
      const tries = yield* Effect.all([store.tryCampaign(1, l1), store.tryCampaign(2, l2)], { concurrency: 2 })
      assert.strictEqual(tries.filter(Option.isSome).length, 1)
      const [first, otherId, otherLease] = Option.isSome(tries[0])
        ? [tries[0].value, 2, l2]
        : [Option.getOrThrow(tries[1]), 1, l1]
      assert.deepStrictEqual(Option.getOrThrow(yield* store.controller).value.brokerId, first.value.brokerId)
      const waiting = yield* Effect.fork(store.campaign(otherId, otherLease))
      yield* target.advance(100)
      assert.isTrue(Option.isNone(yield* Fiber.poll(waiting)))
      yield* store.resign(first)
      const second = yield* Fiber.join(waiting)
      assert.strictEqual(second.value.brokerId, otherId)
      assert.strictEqual(second.value.epoch, first.value.epoch + 1)
      const staleResign = yield* Effect.either(store.resign(first))
      assert.isTrue(Either.isLeft(staleResign) && staleResign.left._tag === "MetadataConflict")
    }).pipe(Effect.scoped)
  )

  target.test("a controller whose lease expires is replaced with a higher epoch", () =>
    Effect.gen(function* () {
      const store = yield* MetadataStore
      const dying = yield* store.grantLease(ttl)
      const first = Option.getOrThrow(yield* store.tryCampaign(1, dying))
      const kept = (yield* session(ttl)).lease
      const next = yield* Effect.fork(store.campaign(2, kept))
      yield* eventually(target, Effect.map(Fiber.poll(next), Option.isSome))
      const second = yield* Fiber.join(next)
      assert.strictEqual(second.value.brokerId, 2)
      assert.strictEqual(second.value.epoch, first.value.epoch + 1)
      assert.strictEqual(Option.getOrThrow(yield* store.controller).value.epoch, second.value.epoch)
    }).pipe(Effect.scoped)
  )
}

/** Registers the whole suite on `target`. */
export const metadataStoreSuite = (target: SuiteTarget): void => {
  casTests(target)
  roundTripTests(target)
  leaseTests(target)
  watchTests(target)
  electionTests(target)
}
