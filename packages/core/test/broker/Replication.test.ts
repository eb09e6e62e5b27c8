/**
 * Leader-based replication between real brokers on real sockets, sharing one in-memory metadata store: the topic is
 * created once (the cluster's topic and partition records), the test writes its own partition records into the store
 * and applies them to each broker (as the metadata listener also does), then checks acks=all, followers' logs, ISR shrink, NOT_LEADER_OR_FOLLOWER, fenced epochs, truncation of a
 * divergent suffix and min.insync.replicas.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Option, Scope } from "effect"
import { PartitionState } from "../../src/broker/MetadataRecords.js"
import * as MetadataStore from "../../src/broker/MetadataStore.js"
import { ReplicaManager } from "../../src/broker/ReplicaManager.js"
import * as CreateTopics from "../../src/protocol/generated/CreateTopics.js"
import { ErrorCode } from "../../src/protocol/generated/ErrorCode.js"
import * as ListOffsets from "../../src/protocol/generated/ListOffsets.js"
import { batch, createTopic, fetchOne, fetchRequest, produce, values } from "./produceFetch.js"
import { connect, startBroker, tempDir } from "./util.js"

type Store = Layer.Layer<MetadataStore.MetadataStore>

/** Waits (live clock) until `check` holds. */
const eventually = <E>(what: string, check: () => Effect.Effect<boolean, E>) =>
  Effect.gen(function* () {
    for (let i = 0; i < 500; i++) {
      if (yield* check()) return
      yield* Effect.sleep(20)
    }
    assert.fail(`${what} never held`)
  })

/** Starts broker `id` in a scope of its own (closing it stops the broker) with a small lag time. */
const startNode = (id: number, store: Store, dir?: string, extra: Record<string, string> = {}) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const node = yield* startBroker({
      extra: {
        "node.id": String(id),
        "replica.lag.time.max.ms": "1000",
        "replica.fetch.wait.max.ms": "100",
        "replica.fetch.backoff.ms": "50",
        ...extra
      },
      metadataStore: store,
      ...(dir === undefined ? {} : { dir })
    }).pipe(Scope.extend(scope))
    const client = yield* connect(node.broker.address.port).pipe(Scope.extend(scope))
    return { id, scope, client, dir: node.dir, replicas: Context.get(node.context, ReplicaManager) }
  })

type Node = Effect.Effect.Success<ReturnType<typeof startNode>>

/** Writes `state` into the store (over whatever is there). */
const publish = (state: PartitionState) =>
  Effect.gen(function* () {
    const store = yield* MetadataStore.MetadataStore
    const current = yield* store.partition(state.topic, state.partition)
    yield* store.putPartition(state, Option.match(current, { onNone: () => 0, onSome: (c) => c.version }))
  })

/** Creates `topic` (one partition) on the first node with a replica on every node, and waits until each hosts it. */
const createReplicated = (nodes: ReadonlyArray<Node>, topic: string, configs: Record<string, string> = {}) =>
  Effect.gen(function* () {
    const res = yield* nodes[0]!.client.send(
      19,
      4,
      CreateTopics.makeCreateTopicsRequest({
        timeoutMs: 5000,
        topics: [
          CreateTopics.makeCreateTopicsRequestCreatableTopic({
            name: topic,
            numPartitions: 1,
            replicationFactor: nodes.length,
            configs: Object.entries(configs).map(([name, value]) => ({ name, value }))
          })
        ]
      })
    )
    assert.strictEqual(res.topics[0]!.errorCode, ErrorCode.NONE)
    yield* eventually(`every node hosts ${topic}`, () =>
      Effect.succeed(nodes.every((n) => n.replicas.get(topic, 0) !== undefined))
    )
  })

/**
 * Detaches a follower as if it had lost its leader while staying registered (a stalled follower): a local record
 * without a leader, with a partition epoch no later record of this test reaches, so it stops fetching for good.
 */
const detach = (node: Node, topic: string) =>
  node.replicas.applyPartitionState(
    state({ replicas: [1, 2, 3], isr: [1, 2, 3], leader: -1, leaderEpoch: 1, partitionEpoch: 1000 }, topic)
  )

const apply = (nodes: ReadonlyArray<Node>, state: PartitionState) =>
  Effect.forEach(nodes, (n) => n.replicas.applyPartitionState(state), { discard: true })

/** The values in a broker's log of `topic`-0 (read directly, up to its log end). */
const logValues = (node: Node, topic: string) =>
  Effect.gen(function* () {
    const replica = node.replicas.get(topic, 0)!
    const read = yield* replica.log.read(replica.log.logStartOffset, 1 << 20, {
      maxOffset: replica.log.logEndOffset
    })
    return values(read.records)
  })

const state = (fields: Omit<ConstructorParameters<typeof PartitionState>[0], "topic" | "partition">, topic = "r") =>
  new PartitionState({ topic, partition: 0, ...fields })

/** ListOffsets LATEST of `topic`-0 as a consumer sees it (the high watermark). */
const latest = (node: Node, topic: string) =>
  Effect.map(
    node.client.send(
      2,
      7,
      ListOffsets.makeListOffsetsRequest({
        replicaId: -1,
        topics: [
          { name: topic, partitions: [ListOffsets.makeListOffsetsRequestListOffsetsPartition({ timestamp: -1n })] }
        ]
      })
    ),
    (res) => res.topics[0]!.partitions[0]!
  )

/** A consumer fetch of `topic`-0 from offset 0 naming `currentLeaderEpoch`. */
const withEpoch = (topic: string, currentLeaderEpoch: number) =>
  fetchRequest([{ topic, partition: 0, offset: 0, currentLeaderEpoch }])

describe("replication", () => {
  it.scopedLive("a broker restarted on its data leads its partition again only in a new leader epoch", () =>
    Effect.gen(function* () {
      const store = Layer.succeedContext(yield* Layer.build(MetadataStore.layerMemory))
      const dir = yield* tempDir
      const first = yield* startNode(1, store, dir)
      yield* createReplicated([first], "k")
      const before = Option.getOrThrow(
        yield* Effect.flatMap(MetadataStore.MetadataStore, (s) => s.partition("k", 0)).pipe(Effect.provide(store))
      ).value
      assert.strictEqual(before.leader, 1)
      assert.strictEqual((yield* produce(first.client, "k", 0, batch(["a"]), { acks: -1 })).errorCode, ErrorCode.NONE)
      yield* Scope.close(first.scope, Exit.void)
      // the record (leader 1) predates the new registration: the controller elects anew, and only then it leads
      const back = yield* startNode(1, store, dir)
      yield* eventually("broker 1 leads again", () => Effect.succeed(back.replicas.get("k", 0)?.isLeader() === true))
      const after = Option.getOrThrow(
        yield* Effect.flatMap(MetadataStore.MetadataStore, (s) => s.partition("k", 0)).pipe(Effect.provide(store))
      ).value
      assert.strictEqual(after.leader, 1)
      assert.isAbove(after.leaderEpoch, before.leaderEpoch)
      assert.strictEqual(back.replicas.leaderOf("k", 0)!.leaderEpoch, after.leaderEpoch)
      assert.strictEqual((yield* produce(back.client, "k", 0, batch(["b"]), { acks: -1 })).errorCode, ErrorCode.NONE)
    })
  )

  it.scopedLive(
    "a restarted leader of a replicated partition leads again with its checkpointed high watermark before followers fetch",
    () =>
      Effect.gen(function* () {
        const store = Layer.succeedContext(yield* Layer.build(MetadataStore.layerMemory))
        const dir = yield* tempDir
        // broker 1 stops at once (no controlled shutdown: the test moves the leadership itself)
        const nodes = [
          yield* startNode(1, store, dir, { "controlled.shutdown.enable": "false" }),
          yield* startNode(2, store),
          yield* startNode(3, store)
        ]
        const [one, two, three] = nodes as [Node, Node, Node]
        yield* createReplicated(nodes, "h")
        // local records in epochs far above what the controller writes meanwhile, which the replicas then ignore
        const led = (leader: number, leaderEpoch: number, partitionEpoch: number) =>
          state({ replicas: [1, 2, 3], isr: [1, 2, 3], leader, leaderEpoch, partitionEpoch }, "h")
        yield* apply(nodes, led(1, 1000, 1000))
        assert.strictEqual((yield* produce(one.client, "h", 0, batch(["a", "b", "c"]), { acks: -1 })).errorCode, 0)
        assert.strictEqual((yield* produce(one.client, "h", 0, batch(["d"]), { acks: -1 })).errorCode, 0)
        // the followers stop fetching; what the leader writes now stays above its high watermark
        yield* detach(two, "h")
        yield* detach(three, "h")
        assert.strictEqual((yield* produce(one.client, "h", 0, batch(["e"]), { acks: 1 })).errorCode, 0)
        const before = one.replicas.get("h", 0)!
        assert.deepStrictEqual([before.highWatermark(), before.log.logEndOffset], [4, 5])
        yield* Scope.close(one.scope, Exit.void)

        // back on its data, broker 1 leads a new epoch with the same ISR, whose followers have not fetched from it
        const back = yield* startNode(1, store, dir)
        yield* eventually("broker 1 hosts h-0", () => Effect.succeed(back.replicas.get("h", 0) !== undefined))
        yield* back.replicas.applyPartitionState(led(1, 1001, 1001))
        const replica = back.replicas.get("h", 0)!
        assert.isTrue(replica.isLeader())
        assert.strictEqual(replica.log.logEndOffset, 5)
        // its high watermark is the checkpointed one: not 0, and not its log end (offset 4 was never replicated)
        const listed = yield* latest(back, "h")
        assert.strictEqual(listed.errorCode, ErrorCode.NONE)
        assert.strictEqual(listed.offset, 4n)
        const fetched = yield* fetchOne(back.client, "h", 0, 0)
        assert.strictEqual(fetched.errorCode, ErrorCode.NONE)
        assert.strictEqual(fetched.highWatermark, 4n)
        assert.deepStrictEqual(values(fetched.records), ["a", "b", "c", "d"])
      }),
    60_000
  )

  it.scopedLive("a record naming this broker leader makes it lead only when written after its registration", () =>
    Effect.gen(function* () {
      const store = Layer.succeedContext(yield* Layer.build(MetadataStore.layerMemory))
      const one = yield* startNode(1, store)
      yield* createReplicated([one], "g")
      const registered = yield* Effect.flatMap(MetadataStore.MetadataStore, (s) => s.brokers).pipe(
        Effect.provide(store)
      )
      const registration = registered.find((b) => b.value.brokerId === 1)!.version
      const record = (leaderEpoch: number) =>
        state({ replicas: [1], isr: [1], leader: 1, leaderEpoch, partitionEpoch: leaderEpoch }, "g")
      // written before this registration (an earlier incarnation's epoch): no leader until a new election
      yield* one.replicas.applyPartitionState(record(5), undefined, registration - 1)
      const replica = one.replicas.get("g", 0)!
      assert.isFalse(replica.isLeader())
      assert.strictEqual(replica.leaderId(), -1)
      assert.strictEqual(
        (yield* produce(one.client, "g", 0, batch(["x"]), { acks: 1 })).errorCode,
        ErrorCode.NOT_LEADER_OR_FOLLOWER
      )
      // the new election, written after it: leads
      yield* one.replicas.applyPartitionState(record(6), undefined, registration + 1)
      assert.isTrue(replica.isLeader())
      assert.strictEqual((yield* produce(one.client, "g", 0, batch(["y"]), { acks: 1 })).errorCode, ErrorCode.NONE)
    })
  )

  it.scopedLive(
    "acks=all waits for the ISR; followers copy the leader; a stopped follower leaves the ISR after replica.lag.time.max.ms",
    () =>
      Effect.gen(function* () {
        const store = Layer.succeedContext(yield* Layer.build(MetadataStore.layerMemory))
        const nodes = yield* Effect.forEach([1, 2, 3], (id) => startNode(id, store))
        const [one, two, three] = nodes as [Node, Node, Node]
        yield* createReplicated(nodes, "r")
        const first = state({ replicas: [1, 2, 3], isr: [1, 2, 3], leader: 1, leaderEpoch: 1, partitionEpoch: 1 })
        yield* publish(first).pipe(Effect.provide(store))
        yield* apply(nodes, first)
        const acked = yield* produce(one.client, "r", 0, batch(["a", "b", "c"]), { acks: -1 })
        assert.strictEqual(acked.errorCode, ErrorCode.NONE)
        assert.strictEqual(acked.baseOffset, 0n)
        // acknowledged with acks=all: on every ISR member already, and below the leader's high watermark
        assert.strictEqual(one.replicas.get("r", 0)!.highWatermark(), 3)
        assert.deepStrictEqual(yield* logValues(two, "r"), ["a", "b", "c"])
        assert.deepStrictEqual(yield* logValues(three, "r"), ["a", "b", "c"])
        // followers learn the high watermark on their next fetch
        yield* eventually("followers' high watermark", () =>
          Effect.succeed(two.replicas.get("r", 0)!.highWatermark() === 3)
        )
        // the batches keep the leader's epoch on the followers
        assert.deepStrictEqual(two.replicas.get("r", 0)!.log.epochs, [{ epoch: 1, startOffset: 0 }])

        // followers refuse clients; the leader checks the client's leader epoch
        assert.strictEqual(
          (yield* produce(two.client, "r", 0, batch(["x"]), { acks: 1 })).errorCode,
          ErrorCode.NOT_LEADER_OR_FOLLOWER
        )
        assert.strictEqual((yield* fetchOne(two.client, "r", 0, 0)).errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER)
        assert.deepStrictEqual(values((yield* fetchOne(one.client, "r", 0, 0)).records), ["a", "b", "c"])
        const fenced = yield* one.client.send(1, 12, withEpoch("r", 0))
        assert.strictEqual(fenced.responses[0]!.partitions[0]!.errorCode, ErrorCode.FENCED_LEADER_EPOCH)
        const unknown = yield* one.client.send(1, 12, withEpoch("r", 5))
        assert.strictEqual(unknown.responses[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_LEADER_EPOCH)

        // broker 3 stalls (stops fetching): the next acks=all produce completes once the ISR shrank to [1, 2] in the
        // store, after replica.lag.time.max.ms (a broker that stops altogether leaves the ISR at once: the controller)
        yield* detach(three, "r")
        const started = Date.now()
        const second = yield* produce(one.client, "r", 0, batch(["d"]), { acks: -1 })
        assert.strictEqual(second.errorCode, ErrorCode.NONE)
        assert.isAtLeast(Date.now() - started, 500)
        assert.deepStrictEqual(one.replicas.get("r", 0)!.inSyncReplicas(), [1, 2])
        const stored = yield* Effect.flatMap(MetadataStore.MetadataStore, (s) => s.partition("r", 0)).pipe(
          Effect.provide(store)
        )
        assert.deepStrictEqual(
          Option.map(stored, (s) => [s.value.isr, s.value.partitionEpoch]),
          Option.some([[1, 2], 2])
        )
        assert.deepStrictEqual(yield* logValues(two, "r"), ["a", "b", "c", "d"])
      }),
    60_000
  )

  it.scopedLive(
    "a returning old leader truncates exactly its divergent suffix, then follows the new leader",
    () =>
      Effect.gen(function* () {
        const store = Layer.succeedContext(yield* Layer.build(MetadataStore.layerMemory))
        const nodes = yield* Effect.forEach([1, 2], (id) => startNode(id, store))
        const [one, two] = nodes as [Node, Node]
        yield* createReplicated(nodes, "r")
        const first = state({ replicas: [1, 2], isr: [1, 2], leader: 1, leaderEpoch: 1, partitionEpoch: 1 })
        yield* publish(first).pipe(Effect.provide(store))
        yield* apply(nodes, first)
        assert.strictEqual((yield* produce(one.client, "r", 0, batch(["a", "b"]), { acks: -1 })).errorCode, 0)

        // broker 2 loses the leader (it stops fetching); broker 1 appends what broker 2 never gets
        yield* two.replicas.applyPartitionState(
          state({ replicas: [1, 2], isr: [1, 2], leader: -1, leaderEpoch: 1, partitionEpoch: 2 })
        )
        assert.strictEqual((yield* produce(one.client, "r", 0, batch(["x"]), { acks: 1 })).errorCode, 0)
        assert.strictEqual((yield* produce(one.client, "r", 0, batch(["y"]), { acks: 1 })).errorCode, 0)
        assert.deepStrictEqual(yield* logValues(one, "r"), ["a", "b", "x", "y"])
        assert.deepStrictEqual(yield* logValues(two, "r"), ["a", "b"])

        // broker 2 leads epoch 2 and takes a write; broker 1 follows it
        const second = state({ replicas: [1, 2], isr: [2], leader: 2, leaderEpoch: 2, partitionEpoch: 3 })
        yield* publish(second).pipe(Effect.provide(store))
        yield* two.replicas.applyPartitionState(second)
        assert.strictEqual((yield* produce(two.client, "r", 0, batch(["p"]), { acks: 1 })).errorCode, 0)
        yield* one.replicas.applyPartitionState(second)
        yield* eventually("the old leader's log equals the new leader's", () =>
          Effect.map(logValues(one, "r"), (v) => v.join() === "a,b,p")
        )
        const log = one.replicas.get("r", 0)!.log
        assert.strictEqual(log.logEndOffset, 3)
        assert.deepStrictEqual(log.epochs, [
          { epoch: 1, startOffset: 0 },
          { epoch: 2, startOffset: 2 }
        ])
        // caught up, broker 1 joins the ISR again (written by the leader into the store)
        yield* eventually("broker 1 back in the ISR", () =>
          Effect.succeed(two.replicas.get("r", 0)!.inSyncReplicas().length === 2)
        )
        assert.strictEqual((yield* produce(two.client, "r", 0, batch(["q"]), { acks: -1 })).errorCode, 0)
        assert.deepStrictEqual(yield* logValues(one, "r"), ["a", "b", "p", "q"])
      }),
    60_000
  )

  it.scopedLive(
    "min.insync.replicas=2: a follower's loss fails the waiting acks=all produce after the append, then refuses the next",
    () =>
      Effect.gen(function* () {
        const store = Layer.succeedContext(yield* Layer.build(MetadataStore.layerMemory))
        const nodes = yield* Effect.forEach([1, 2], (id) => startNode(id, store))
        const [one, two] = nodes as [Node, Node]
        yield* createReplicated(nodes, "m", { "min.insync.replicas": "2" })
        const first = state({ replicas: [1, 2], isr: [1, 2], leader: 1, leaderEpoch: 1, partitionEpoch: 1 }, "m")
        yield* publish(first).pipe(Effect.provide(store))
        yield* apply(nodes, first)
        assert.strictEqual((yield* produce(one.client, "m", 0, batch(["a"]), { acks: -1 })).errorCode, ErrorCode.NONE)
        yield* detach(two, "m")
        // appended while the ISR was [1, 2]; acknowledged by the ISR [1] only once it shrank
        const after = yield* produce(one.client, "m", 0, batch(["b"]), { acks: -1 })
        assert.strictEqual(after.errorCode, ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND)
        assert.strictEqual(one.replicas.get("m", 0)!.log.logEndOffset, 2)
        const refused = yield* produce(one.client, "m", 0, batch(["c"]), { acks: -1 })
        assert.strictEqual(refused.errorCode, ErrorCode.NOT_ENOUGH_REPLICAS)
        assert.strictEqual(one.replicas.get("m", 0)!.log.logEndOffset, 2)
      }),
    60_000
  )

  it.scopedLive("acks=all below min.insync.replicas fails with NOT_ENOUGH_REPLICAS before appending", () =>
    Effect.gen(function* () {
      const store = Layer.succeedContext(yield* Layer.build(MetadataStore.layerMemory))
      const one = yield* startNode(1, store)
      yield* createTopic(one.client, "m", 1, { "min.insync.replicas": "2" })
      const refused = yield* produce(one.client, "m", 0, batch(["a"]), { acks: -1 })
      assert.strictEqual(refused.errorCode, ErrorCode.NOT_ENOUGH_REPLICAS)
      assert.strictEqual(one.replicas.get("m", 0)!.log.logEndOffset, 0)
      assert.strictEqual((yield* produce(one.client, "m", 0, batch(["a"]), { acks: 1 })).errorCode, ErrorCode.NONE)
    })
  )
})
