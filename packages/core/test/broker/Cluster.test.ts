/**
 * Three real brokers on real sockets sharing one in-process metadata store: topics created on one broker are
 * answered alike by all (leaders, epochs, replicas, ISR from the store); the controller elects a new leader from
 * the ISR when a leader broker stops, another broker takes over when the controller stops (higher controller
 * epoch), a stopping broker's leaderships move before it is gone (controlled shutdown), ElectLeaders PREFERRED moves leadership back, and a reassignment shows in ListPartitionReassignments
 * until its new replica is in the ISR, and a deleted topic goes from every broker. Where the test needs a replica
 * that does not catch up, it records the catch-up itself as the partition leader would (a compare-and-swap on the
 * partition record).
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Option, Scope, Stream } from "effect"
import { PartitionState } from "../../src/broker/MetadataRecords.js"
import * as MetadataStore from "../../src/broker/MetadataStore.js"
import { ReplicaManager } from "../../src/broker/ReplicaManager.js"
import * as Admin from "../../src/client/Admin.js"
import * as CreateTopics from "../../src/protocol/generated/CreateTopics.js"
import { ErrorCode } from "../../src/protocol/generated/ErrorCode.js"
import * as Metadata from "../../src/protocol/generated/Metadata.js"
import { connect, startBroker } from "./util.js"

/** Waits (live) until `check` holds: watches deliver changes asynchronously. */
const eventually = (what: string, check: () => Effect.Effect<boolean>) =>
  Effect.gen(function* () {
    for (let i = 0; i < 400; i++) {
      if (yield* check()) return
      yield* Effect.sleep(10)
    }
    assert.fail(`never: ${what}`)
  })

interface Running {
  readonly id: number
  readonly port: number
  readonly scope: Scope.CloseableScope
  readonly replicas: ReplicaManager["Type"]
}

const describeTopic = (port: number, topic: string) =>
  Effect.scoped(
    Effect.flatMap(connect(port), (c) =>
      c.send(3, 12, Metadata.makeMetadataRequest({ topics: [Metadata.makeMetadataRequestTopic({ name: topic })] }))
    )
  )

const partitionsOf = (res: Metadata.MetadataResponse) =>
  res.topics[0]!.partitions.map((p) => ({
    partition: p.partitionIndex,
    errorCode: p.errorCode,
    leader: p.leaderId,
    epoch: p.leaderEpoch,
    replicas: p.replicaNodes,
    isr: p.isrNodes,
    offline: p.offlineReplicas
  }))

describe("a cluster of brokers sharing a metadata store", () => {
  it.scopedLive(
    "same answers everywhere; leader and controller fail-over; preferred election; reassignment",
    () =>
      Effect.gen(function* () {
        const storeContext = yield* Layer.build(MetadataStore.layerMemory)
        const storeLayer = Layer.succeedContext(storeContext)
        const store = yield* Effect.provide(MetadataStore.MetadataStore, storeLayer)
        const start = (id: number) =>
          Effect.gen(function* () {
            const scope = yield* Scope.make()
            const { broker, context } = yield* startBroker({
              extra: { "node.id": String(id) },
              metadataStore: storeLayer
            }).pipe(Scope.extend(scope))
            return {
              id,
              port: broker.address.port,
              scope,
              replicas: Context.get(context, ReplicaManager)
            } satisfies Running
          })
        const running = new Map<number, Running>()
        for (const id of [1, 2, 3]) running.set(id, yield* start(id))
        const stop = (id: number) =>
          Effect.gen(function* () {
            yield* Scope.close(running.get(id)!.scope, Exit.void)
            running.delete(id)
          })
        const anyPort = () => [...running.values()][0]!.port
        yield* Effect.addFinalizer(() => Effect.forEach([...running.keys()], stop, { discard: true }))

        // every broker sees the other two
        yield* eventually("three live brokers", () =>
          Effect.map(describeTopic(running.get(3)!.port, "none"), (r) => r.brokers.length === 3)
        )

        // a topic with replication factor 3 created on broker 1
        const client = yield* connect(running.get(1)!.port)
        const created = yield* client.send(
          19,
          7,
          CreateTopics.makeCreateTopicsRequest({
            topics: [
              CreateTopics.makeCreateTopicsRequestCreatableTopic({ name: "t", numPartitions: 3, replicationFactor: 3 }),
              CreateTopics.makeCreateTopicsRequestCreatableTopic({
                name: "big",
                numPartitions: 1,
                replicationFactor: 4
              })
            ],
            timeoutMs: 5000
          })
        )
        assert.deepStrictEqual(
          created.topics.map((t) => [t.name, t.errorCode]),
          [
            ["t", ErrorCode.NONE],
            ["big", ErrorCode.INVALID_REPLICATION_FACTOR]
          ]
        )
        const onOne = partitionsOf(yield* describeTopic(running.get(1)!.port, "t"))
        assert.strictEqual(onOne.length, 3)
        for (const p of onOne) {
          assert.strictEqual(p.replicas.length, 3)
          assert.deepStrictEqual([...p.isr].sort(), [1, 2, 3])
          assert.strictEqual(p.leader, p.replicas[0])
        }
        // leaders spread over the brokers (round-robin)
        assert.deepStrictEqual(new Set(onOne.map((p) => p.leader)).size, 3)
        for (const id of [2, 3]) {
          yield* eventually(`broker ${id} answers like broker 1`, () =>
            Effect.map(describeTopic(running.get(id)!.port, "t"), (r) =>
              r.topics[0]!.errorCode === 0 ? JSON.stringify(partitionsOf(r)) === JSON.stringify(onOne) : false
            )
          )
        }

        // the controller is one of them; stop a broker that leads a partition but is not the controller
        const controllerOf = (port: number) => Effect.map(describeTopic(port, "t"), (r) => r.controllerId)
        const controller = yield* controllerOf(anyPort())
        assert.include([1, 2, 3], controller)
        const victim = onOne.find((p) => p.leader !== controller)!
        const beforeStop = yield* store.revision
        yield* stop(victim.leader)
        // controlled shutdown: leadership moved before the broker's registration was gone
        const gone = yield* store.watch("broker", beforeStop + 1).pipe(
          Stream.filter((e) => e.value === undefined && e.key.endsWith(`/${victim.leader}`)),
          Stream.runHead
        )
        // the first change of the partition after the stop began handed leadership over, before the broker was gone
        // (later changes, e.g. an ISR change by the new leader, may come after it)
        const handedOver = Option.getOrThrow(
          yield* store.watch("partition", beforeStop + 1).pipe(
            Stream.filter((e) => e.key.endsWith(`/t/${victim.partition}`) && e.value !== undefined),
            Stream.runHead
          )
        )
        const handedOverState = handedOver.value as PartitionState
        assert.notStrictEqual(handedOverState.leader, victim.leader)
        assert.notInclude(handedOverState.isr, victim.leader)
        assert.isBelow(handedOver.revision, Option.getOrThrow(gone).revision)
        const current = Option.getOrThrow(yield* store.partition("t", victim.partition))
        assert.notStrictEqual(current.value.leader, victim.leader)
        yield* eventually("a new leader from the ISR", () =>
          Effect.map(describeTopic(anyPort(), "t"), (r) => {
            const p = partitionsOf(r)[victim.partition]!
            return p.leader !== victim.leader && p.leader >= 0
          })
        )
        const after = partitionsOf(yield* describeTopic(anyPort(), "t"))[victim.partition]!
        assert.strictEqual(after.epoch, victim.epoch + 1)
        assert.notInclude(after.isr, victim.leader)
        assert.deepStrictEqual(after.offline, [victim.leader])
        assert.strictEqual(
          after.leader,
          victim.replicas.find((b) => b !== victim.leader)
        )

        // the controller stops: the remaining broker takes over with a higher epoch and carries on
        const epochBefore = Option.getOrThrow(yield* store.controller).value.epoch
        yield* stop(controller)
        const last = [...running.keys()][0]!
        yield* eventually("the last broker is the controller", () =>
          Effect.map(controllerOf(running.get(last)!.port), (id) => id === last)
        )
        assert.isAbove(Option.getOrThrow(yield* store.controller).value.epoch, epochBefore)
        yield* eventually("the last broker leads every partition", () =>
          Effect.map(describeTopic(running.get(last)!.port, "t"), (r) =>
            partitionsOf(r).every((p) => p.leader === last && p.isr.length === 1)
          )
        )

        // the stopped brokers come back (new data directories), catch up by replication and rejoin the ISRs, and a
        // preferred election moves leadership back to the first replicas
        for (const id of [1, 2, 3]) if (!running.has(id)) running.set(id, yield* start(id))
        yield* eventually("three live brokers again", () =>
          Effect.map(describeTopic(running.get(last)!.port, "t"), (r) => r.brokers.length === 3)
        )
        yield* eventually("the returned brokers caught up and back in every ISR", () =>
          Effect.map(Effect.orDie(store.partitions("t")), (ps) => ps.every((p) => p.value.isr.length === 3))
        )
        const admin = yield* Admin.make({
          "bootstrap.servers": [...running.values()].map((r) => `127.0.0.1:${r.port}`).join(",")
        })
        const elected = yield* admin.electLeaders("preferred")
        assert.strictEqual(elected.filter((r) => r.error === null).length, 2)
        yield* eventually("preferred leaders everywhere", () =>
          Effect.map(describeTopic(running.get(1)!.port, "t"), (r) =>
            partitionsOf(r).every((p) => p.leader === p.replicas[0])
          )
        )

        // a reassignment of a single-replica partition to another broker
        yield* admin.createTopics([{ name: "r", numPartitions: 1, replicationFactor: 1 }])
        const from = Option.getOrThrow(yield* store.partition("r", 0)).value.replicas[0]!
        const to = from === 3 ? 1 : from + 1
        // the new replica stalls (it never fetches: a local record no later one supersedes), so the move stays in
        // progress until the test records its catch-up as the leader would
        yield* running.get(to)!.replicas.applyPartitionState(
          new PartitionState({
            topic: "r",
            partition: 0,
            replicas: [to, from],
            isr: [from],
            leader: -1,
            leaderEpoch: 1000,
            partitionEpoch: 1000
          })
        )
        const moved = yield* admin.alterPartitionReassignments([{ topic: "r", partition: 0, replicas: [to] }])
        assert.deepStrictEqual(
          moved.map((r) => r.error),
          [null]
        )
        // the answering broker's view follows the store's watch
        yield* eventually("the reassignment is listed", () =>
          Effect.map(Effect.orDie(admin.listPartitionReassignments()), (list) => list.length > 0)
        )
        assert.deepStrictEqual(yield* admin.listPartitionReassignments(), [
          { topic: "r", partition: 0, replicas: [to, from], addingReplicas: [to], removingReplicas: [from] }
        ])
        const inFlight = Option.getOrThrow(yield* store.partition("r", 0))
        yield* store.putPartition(
          new PartitionState({
            ...inFlight.value,
            isr: [from, to],
            partitionEpoch: inFlight.value.partitionEpoch + 1
          }),
          inFlight.version
        )
        yield* eventually("the reassignment completes", () =>
          Effect.map(
            Effect.orDie(store.partition("r", 0)),
            (r) => Option.isSome(r) && r.value.value.leader === to && r.value.value.replicas.join() === String(to)
          )
        )
        yield* eventually("no reassignment listed", () =>
          Effect.map(Effect.orDie(admin.listPartitionReassignments()), (list) => list.length === 0)
        )

        // a deletion through the controller reaches every broker; the name is free again
        yield* admin.deleteTopics(["r"])
        assert.isTrue(Option.isNone(yield* store.topic("r")))
        for (const { id, port } of running.values()) {
          yield* eventually(`broker ${id} no longer has r`, () =>
            Effect.scoped(
              Effect.flatMap(connect(port), (c) =>
                Effect.map(c.send(3, 12, Metadata.makeMetadataRequest({ topics: null })), (res) =>
                  res.topics.every((t) => t.name !== "r")
                )
              )
            )
          )
        }
      }),
    { timeout: 60_000 }
  )
})
