/**
 * The coordinators follow the leadership of `__consumer_offsets` and `__transaction_state`: three real brokers on real
 * sockets share one in-memory metadata store; a non-leader answers NOT_COORDINATOR, offsets committed at the leader
 * (acknowledged by the ISR) are answered by the new leader after the old one stops, and a transaction committed before
 * its coordinator's broker stops stays committed while an open one is aborted by the new coordinator (its markers
 * go to data partitions led by other brokers). With EndTxn v5 (transaction version 2) the new coordinator keeps the
 * epoch the last end bumped to and answers a retry of that end as the old one did.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Layer, Scope } from "effect"
import * as MetadataStore from "../../src/broker/MetadataStore.js"
import * as Admin from "../../src/client/Admin.js"
import * as Fetcher from "../../src/client/Fetcher.js"
import * as Producer from "../../src/client/Producer.js"
import * as Topic from "../../src/client/Topic.js"
import * as CreateTopics from "../../src/protocol/generated/CreateTopics.js"
import * as EndTxn from "../../src/protocol/generated/EndTxn.js"
import { ErrorCode } from "../../src/protocol/generated/ErrorCode.js"
import * as FindCoordinator from "../../src/protocol/generated/FindCoordinator.js"
import * as InitProducerId from "../../src/protocol/generated/InitProducerId.js"
import * as JoinGroup from "../../src/protocol/generated/JoinGroup.js"
import * as Metadata from "../../src/protocol/generated/Metadata.js"
import * as OffsetCommit from "../../src/protocol/generated/OffsetCommit.js"
import * as OffsetFetch from "../../src/protocol/generated/OffsetFetch.js"
import { connect, startBroker } from "./util.js"

/** Waits (live clock) until `check` holds. */
const eventually = (what: string, check: () => Effect.Effect<boolean>) =>
  Effect.gen(function* () {
    for (let i = 0; i < 500; i++) {
      if (yield* check()) return
      yield* Effect.sleep(20)
    }
    assert.fail(`never: ${what}`)
  })

interface Running {
  readonly id: number
  readonly port: number
  readonly scope: Scope.CloseableScope
}

/** One request on a fresh connection to `port`. */
const ask = <A>(
  port: number,
  send: (c: Effect.Effect.Success<ReturnType<typeof connect>>) => Effect.Effect<A, unknown>
) => Effect.scoped(Effect.flatMap(connect(port), send))

const findCoordinator = (port: number, key: string, keyType = 0) =>
  ask(port, (c) => c.send(10, 3, FindCoordinator.makeFindCoordinatorRequest({ key, keyType })))

/** Three brokers sharing one in-memory store (one partition per internal topic), stopped with the test's scope. */
const startCluster = (extra: Record<string, string> = {}) =>
  Effect.gen(function* () {
    const storeLayer = Layer.succeedContext(yield* Layer.build(MetadataStore.layerMemory))
    const running = new Map<number, Running>()
    const start = (id: number) =>
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        const { broker } = yield* startBroker({
          extra: {
            "node.id": String(id),
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.num.partitions": "1",
            "replica.lag.time.max.ms": "1000",
            "replica.fetch.wait.max.ms": "100",
            "replica.fetch.backoff.ms": "50",
            ...extra
          },
          metadataStore: storeLayer
        }).pipe(Scope.extend(scope))
        running.set(id, { id, port: broker.address.port, scope })
      })
    const stop = (id: number) =>
      Effect.gen(function* () {
        const r = running.get(id)
        running.delete(id)
        if (r !== undefined) yield* Scope.close(r.scope, Exit.void)
      })
    yield* Effect.addFinalizer(() => Effect.forEach([...running.keys()], stop, { discard: true }))
    for (const id of [1, 2, 3]) yield* start(id)
    const portOf = (id: number) => running.get(id)!.port
    yield* eventually("three live brokers", () =>
      ask(portOf(3), (c) => c.send(3, 12, Metadata.makeMetadataRequest({ topics: [] }))).pipe(
        Effect.map((r) => r.brokers.length === 3),
        Effect.orElseSucceed(() => false)
      )
    )
    return { running, stop, portOf }
  })

/** The live broker FindCoordinator names for `key` (asked of `port`), once it names one. */
const coordinatorOf = (cluster: { readonly running: Map<number, Running> }, key: string, keyType: number) =>
  Effect.gen(function* () {
    let id = -1
    yield* eventually(`a coordinator for ${key}`, () =>
      findCoordinator([...cluster.running.values()][0]!.port, key, keyType).pipe(
        Effect.map((r) => {
          id = r.errorCode === ErrorCode.NONE && cluster.running.has(r.nodeId) ? r.nodeId : -1
          return id > 0
        }),
        Effect.orElseSucceed(() => false)
      )
    )
    return id
  })

const initProducerId = (port: number, transactionalId: string) =>
  ask(port, (c) =>
    c.send(
      22,
      4,
      InitProducerId.makeInitProducerIdRequest({
        transactionalId,
        transactionTimeoutMs: 10_000,
        producerId: -1n,
        producerEpoch: -1
      })
    )
  )

/** Every committed value of `topic` (read_committed, partitions 0-2, read up to each high watermark). */
const committedValues = (bootstrap: string, topic: string) =>
  Effect.scoped(
    Effect.gen(function* () {
      const committed = yield* Fetcher.make({ "bootstrap.servers": bootstrap, "isolation.level": "read_committed" })
      const uncommitted = yield* Fetcher.make({ "bootstrap.servers": bootstrap })
      const partitions = [0, 1, 2].map((partition) => ({ partition, offset: "latest" as const }))
      const ends = yield* uncommitted.resolveOffsets(topic, partitions)
      const stable = yield* committed.resolveOffsets(topic, partitions)
      // an open transaction holds the last stable offset below the high watermark
      if ([0, 1, 2].some((p) => stable.get(p) !== ends.get(p))) return undefined
      let positions = new Map([0, 1, 2].map((p) => [p, 0]))
      const values: Array<string> = []
      while ([0, 1, 2].some((p) => positions.get(p)! < ends.get(p)!)) {
        const round = yield* committed.fetchOnce(Topic.stringTopic(topic), positions)
        for (const r of round.records) values.push(r.value ?? "")
        positions = new Map(round.positions)
      }
      return values.sort()
    })
  )

const commit = (port: number, group: string, offset: number) =>
  ask(port, (c) =>
    c.send(
      8,
      8,
      OffsetCommit.makeOffsetCommitRequest({
        groupId: group,
        generationIdOrMemberEpoch: -1,
        memberId: "",
        topics: [
          OffsetCommit.makeOffsetCommitRequestTopic({
            name: "t",
            partitions: [
              OffsetCommit.makeOffsetCommitRequestPartition({
                partitionIndex: 0,
                committedOffset: BigInt(offset),
                committedLeaderEpoch: -1,
                committedMetadata: "m"
              })
            ]
          })
        ]
      })
    )
  ).pipe(Effect.map((r) => r.topics[0]!.partitions[0]!.errorCode))

const fetchOffset = (port: number, group: string) =>
  ask(port, (c) =>
    c.send(
      9,
      7,
      OffsetFetch.makeOffsetFetchRequest({
        groupId: group,
        topics: [OffsetFetch.makeOffsetFetchRequestTopic({ name: "t", partitionIndexes: [0] })]
      })
    )
  ).pipe(Effect.map((r) => ({ error: r.errorCode, offset: Number(r.topics[0]?.partitions[0]?.committedOffset ?? -2) })))

describe("coordinators follow the leadership of their internal topics", () => {
  it.scopedLive(
    "a non-leader answers NOT_COORDINATOR; committed offsets survive the stop of their coordinator",
    () =>
      Effect.gen(function* () {
        const { running, stop, portOf } = yield* startCluster({ "group.initial.rebalance.delay.ms": "0" })
        const created = yield* ask(portOf(1), (c) =>
          c.send(
            19,
            7,
            CreateTopics.makeCreateTopicsRequest({
              topics: [
                CreateTopics.makeCreateTopicsRequestCreatableTopic({
                  name: "t",
                  numPartitions: 1,
                  replicationFactor: 3
                })
              ],
              timeoutMs: 5000
            })
          )
        )
        assert.strictEqual(created.topics[0]!.errorCode, ErrorCode.NONE)

        // FindCoordinator creates __consumer_offsets (replicated on the three brokers) and names its leader
        let leader = -1
        yield* eventually("a coordinator for g", () =>
          findCoordinator(portOf(2), "g").pipe(
            Effect.map((r) => {
              leader = r.errorCode === ErrorCode.NONE ? r.nodeId : -1
              return leader > 0
            }),
            Effect.orElseSucceed(() => false)
          )
        )
        yield* eventually("the leader loaded __consumer_offsets-0", () =>
          commit(portOf(leader), "g", 42).pipe(
            Effect.map((code) => code === ErrorCode.NONE),
            Effect.orElseSucceed(() => false)
          )
        )
        assert.deepStrictEqual(yield* fetchOffset(portOf(leader), "g"), { error: ErrorCode.NONE, offset: 42 })
        // the other brokers are not the coordinator of g
        for (const id of [1, 2, 3].filter((i) => i !== leader)) {
          assert.strictEqual(yield* commit(portOf(id), "g", 7), ErrorCode.NOT_COORDINATOR)
          assert.strictEqual((yield* fetchOffset(portOf(id), "g")).error, ErrorCode.NOT_COORDINATOR)
        }

        // the coordinator's broker stops: the new leader of __consumer_offsets-0 answers with what was committed
        yield* stop(leader)
        const survivor = [...running.keys()][0]!
        let next = -1
        yield* eventually("a new coordinator for g", () =>
          findCoordinator(portOf(survivor), "g").pipe(
            Effect.map((r) => {
              next = r.errorCode === ErrorCode.NONE && running.has(r.nodeId) ? r.nodeId : -1
              return next > 0
            }),
            Effect.orElseSucceed(() => false)
          )
        )
        yield* eventually("the new coordinator loaded g", () =>
          fetchOffset(portOf(next), "g").pipe(
            Effect.map((r) => r.error === ErrorCode.NONE && r.offset === 42),
            Effect.orElseSucceed(() => false)
          )
        )
        // and takes new commits for it, and members: the group goes on
        assert.strictEqual(yield* commit(portOf(next), "g", 43), ErrorCode.NONE)
        assert.deepStrictEqual(yield* fetchOffset(portOf(next), "g"), { error: ErrorCode.NONE, offset: 43 })
        const joined = yield* ask(portOf(next), (c) =>
          c.send(
            11,
            3,
            JoinGroup.makeJoinGroupRequest({
              groupId: "g",
              sessionTimeoutMs: 10_000,
              rebalanceTimeoutMs: 10_000,
              memberId: "",
              protocolType: "consumer",
              protocols: [JoinGroup.makeJoinGroupRequestProtocol({ name: "range", metadata: new Uint8Array(0) })]
            })
          )
        )
        assert.strictEqual(joined.errorCode, ErrorCode.NONE)
        assert.strictEqual(joined.generationId, 1)
      }),
    120_000
  )

  it.scopedLive(
    "a committed transaction stays committed and an open one is aborted when its coordinator's broker stops",
    () =>
      Effect.gen(function* () {
        const cluster = yield* startCluster({ "transaction.abort.timed.out.transaction.cleanup.interval.ms": "200" })
        const { running, stop, portOf } = cluster
        const bootstrap = [...running.values()].map((r) => `127.0.0.1:${r.port}`).join(",")
        const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
        // three partitions led by the three brokers: markers cross brokers
        yield* admin.createTopics([{ name: "d", numPartitions: 3, replicationFactor: 3 }])
        const producer = yield* Producer.make({
          "bootstrap.servers": bootstrap,
          "transactional.id": "tx",
          "transaction.timeout.ms": 3000
        })
        const sendAll = (prefix: string) =>
          Effect.forEach(
            [0, 1, 2],
            (partition) => producer.send("d", { value: Buffer.from(`${prefix}${partition}`), partition }),
            {
              discard: true
            }
          )
        yield* producer.transaction(sendAll("a"))
        const coordinator = yield* coordinatorOf(cluster, "tx", 1)
        // the other brokers are not the coordinator of transactional ids of __transaction_state-0
        for (const id of [1, 2, 3].filter((i) => i !== coordinator)) {
          assert.strictEqual((yield* initProducerId(portOf(id), "probe")).errorCode, ErrorCode.NOT_COORDINATOR)
        }
        // a transaction left open, then the coordinator's broker stops
        const sent = yield* Deferred.make<void>()
        yield* Effect.forkScoped(
          producer
            .transaction(
              Effect.zipRight(sendAll("b"), Effect.zipRight(Deferred.succeed(sent, undefined), Effect.never))
            )
            .pipe(Effect.ignore)
        )
        yield* Deferred.await(sent)
        yield* stop(coordinator)
        const next = yield* coordinatorOf(cluster, "tx", 1)
        assert.notStrictEqual(next, coordinator)
        // the new coordinator replayed the id and aborts the open transaction at its timeout: only "a" is committed
        let values: ReadonlyArray<string> | undefined
        yield* eventually("the open transaction ended", () =>
          committedValues([...running.values()].map((r) => `127.0.0.1:${r.port}`).join(","), "d").pipe(
            Effect.map((v) => {
              values = v
              return v !== undefined
            }),
            Effect.orElseSucceed(() => false)
          )
        )
        assert.deepStrictEqual(values, ["a0", "a1", "a2"])
      }),
    40_000
  )

  it.scopedLive(
    "with EndTxn v5 the new coordinator keeps the bumped epoch and recognises the retry of the last end",
    () =>
      Effect.gen(function* () {
        const cluster = yield* startCluster({ "unstable.api.versions.enable": "true" })
        const { running, stop, portOf } = cluster
        const bootstrap = [...running.values()].map((r) => `127.0.0.1:${r.port}`).join(",")
        const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
        yield* admin.createTopics([{ name: "d", numPartitions: 3, replicationFactor: 3 }])
        const producer = yield* Producer.make({ "bootstrap.servers": bootstrap, "transactional.id": "tv2" })
        const sendAll = (prefix: string) =>
          Effect.forEach(
            [0, 1, 2],
            (partition) => producer.send("d", { value: Buffer.from(`${prefix}${partition}`), partition }),
            { discard: true }
          )
        yield* producer.transaction(sendAll("a"))
        // the producer's epoch after the end of "a" (bumped by it)
        const bumped = producer.idempotence()!
        const coordinator = yield* coordinatorOf(cluster, "tv2", 1)
        yield* stop(coordinator)
        const next = yield* coordinatorOf(cluster, "tv2", 1)
        assert.notStrictEqual(next, coordinator)
        // the retry of the end of "a" (its answer lost) gets the same answer from the new coordinator
        let retried: { errorCode: number; producerId: bigint; producerEpoch: number } | undefined
        yield* eventually("the new coordinator answers the retried EndTxn", () =>
          ask(portOf(next), (c) =>
            c.send(
              26,
              5,
              EndTxn.makeEndTxnRequest({
                transactionalId: "tv2",
                producerId: BigInt(bumped.producerId),
                producerEpoch: bumped.producerEpoch - 1,
                committed: true
              })
            )
          ).pipe(
            Effect.map((r) => {
              retried = r
              return r.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
            }),
            Effect.orElseSucceed(() => false)
          )
        )
        assert.deepStrictEqual(
          { errorCode: retried!.errorCode, producerId: retried!.producerId, producerEpoch: retried!.producerEpoch },
          { errorCode: ErrorCode.NONE, producerId: BigInt(bumped.producerId), producerEpoch: bumped.producerEpoch }
        )
        // the producer goes on with the bumped epoch at the new coordinator
        yield* producer.transaction(sendAll("b"))
        assert.deepStrictEqual(producer.idempotence(), { ...bumped, producerEpoch: bumped.producerEpoch + 1 })
        let values: ReadonlyArray<string> | undefined
        yield* eventually("both transactions readable", () =>
          committedValues([...running.values()].map((r) => `127.0.0.1:${r.port}`).join(","), "d").pipe(
            Effect.map((v) => {
              values = v
              return v !== undefined && v.length === 6
            }),
            Effect.orElseSucceed(() => false)
          )
        )
        assert.deepStrictEqual(values, ["a0", "a1", "a2", "b0", "b1", "b2"])
      }),
    40_000
  )
})
