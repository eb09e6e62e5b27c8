/**
 * The client's transactional producer and read_committed fetcher against a real Eddy broker: commit and
 * abort visibility, abort on failure and on interruption, offsets committed with the transaction, zombie
 * fencing, transaction version 2 (EndTxn v5: a new epoch per transaction), and interop with kafkajs's
 * transactional producer.
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Fiber, Stream } from "effect"
import { Kafka, logLevel } from "kafkajs"
import * as Admin from "../../src/client/Admin.js"
import * as Fetcher from "../../src/client/Fetcher.js"
import * as Producer from "../../src/client/Producer.js"
import * as OffsetFetch from "../../src/protocol/generated/OffsetFetch.js"
import * as TxnOffsetCommit from "../../src/protocol/generated/TxnOffsetCommit.js"
import { connect } from "../broker/util.js"
import { startEddy } from "./util.js"

const text = (b: Uint8Array | null) => (b === null ? "" : Buffer.from(b).toString())

/** The values of a partition (0 unless given) of `topic` with the given isolation, from the start up to the value `last`. */
const readUntil = (
  bootstrap: string,
  topic: string,
  isolation: "read_committed" | "read_uncommitted",
  last: string,
  partition = 0
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const fetcher = yield* Fetcher.make({
        "bootstrap.servers": bootstrap,
        "fetch.max.wait.ms": 50,
        "isolation.level": isolation
      })
      const records = yield* fetcher.fetch(topic, [{ partition, offset: "earliest" }]).pipe(
        Stream.takeUntil((r) => text(r.value) === last),
        Stream.runCollect,
        Effect.map(Chunk.toArray)
      )
      return records.map((r) => text(r.value))
    })
  )

describe("transactions (client)", { timeout: 60_000 }, () => {
  it.scopedLive("commits on success, aborts on failure and on interruption; read_committed sees only commits", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy()
      const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
      yield* admin.createTopics([{ name: "tx", numPartitions: 1 }])
      const producer = yield* Producer.make({ "bootstrap.servers": bootstrap, "transactional.id": "client-tx" })
      const send = (v: string) => producer.send("tx", { value: Buffer.from(v), partition: 0 })
      yield* producer.transaction(Effect.all([send("c1"), send("c2")]))
      const failed = yield* Effect.exit(producer.transaction(Effect.zipRight(send("f1"), Effect.fail("boom" as const))))
      assert.isTrue(Exit.isFailure(failed))
      const interrupted = yield* Effect.fork(producer.transaction(Effect.zipRight(send("i1"), Effect.never)))
      yield* Effect.sleep(200)
      yield* Fiber.interrupt(interrupted)
      yield* producer.transaction(send("c3"))
      // outside a transaction a transactional producer refuses to send
      const outside = yield* Effect.exit(send("x"))
      assert.isTrue(Exit.isFailure(outside))

      assert.deepStrictEqual(yield* readUntil(bootstrap, "tx", "read_committed", "c3"), ["c1", "c2", "c3"])
      assert.deepStrictEqual(yield* readUntil(bootstrap, "tx", "read_uncommitted", "c3"), [
        "c1",
        "c2",
        "f1",
        "i1",
        "c3"
      ])
    })
  )

  it.scopedLive(
    "sendOffsetsToTransaction commits the group's offsets only with a committed transaction; require_stable sees them pending",
    () =>
      Effect.gen(function* () {
        const { bootstrap, port } = yield* startEddy()
        const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
        yield* admin.createTopics([
          { name: "in", numPartitions: 1 },
          { name: "out", numPartitions: 1 }
        ])
        const producer = yield* Producer.make({ "bootstrap.servers": bootstrap, "transactional.id": "ctp" })
        yield* producer.transaction(
          Effect.zipRight(
            producer.send("out", { value: Buffer.from("o1"), partition: 0 }),
            producer.sendOffsetsToTransaction([{ topic: "in", partition: 0, offset: 4 }], "g")
          )
        )
        const committed = yield* admin.listGroupOffsets("g")
        assert.deepStrictEqual(
          committed.map((o) => [o.topic, o.partition, o.offset]),
          [["in", 0, 4]]
        )
        // while a transactional commit is pending, OffsetFetch with require_stable answers UNSTABLE_OFFSET_COMMIT
        const raw = yield* connect(port)
        const offsetFetch = (requireStable: boolean) =>
          Effect.map(
            raw.send(
              9,
              7,
              OffsetFetch.makeOffsetFetchRequest({
                groupId: "g",
                topics: [{ name: "in", partitionIndexes: [0] }],
                requireStable
              })
            ),
            (r) => r.topics[0]!.partitions[0]!
          )
        const during = { stable: -1, unstableCode: -1 }
        yield* Effect.exit(
          producer.transaction(
            Effect.gen(function* () {
              yield* producer.sendOffsetsToTransaction([{ topic: "in", partition: 0, offset: 9 }], "g")
              during.unstableCode = (yield* offsetFetch(true)).errorCode
              during.stable = Number((yield* offsetFetch(false)).committedOffset)
              return yield* Effect.fail("abort")
            })
          )
        )
        assert.deepStrictEqual(during, { stable: 4, unstableCode: 88 })
        assert.strictEqual((yield* offsetFetch(true)).errorCode, 0)
        const after = yield* admin.listGroupOffsets("g")
        assert.strictEqual(after[0]!.offset, 4)
      })
  )

  it.scopedLive("with EndTxn v5 served, each transaction ends with a new epoch and the records read back exactly", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy({ extra: { "unstable.api.versions.enable": "true" } })
      const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
      yield* admin.createTopics([{ name: "tv2", numPartitions: 2 }])
      const producer = yield* Producer.make({ "bootstrap.servers": bootstrap, "transactional.id": "client-tv2" })
      const send = (v: string, partition: number) => producer.send("tv2", { value: Buffer.from(v), partition })
      const committed: Array<Array<string>> = [[], []]
      const epochs: Array<number> = []
      for (let t = 0; t < 5; t++) {
        const commit = t % 2 === 0
        const vs = [`t${t}-a`, `t${t}-b`, `t${t}-c`]
        const run = Effect.gen(function* () {
          // one send at a time: several batches per partition, so sequences run on within each epoch
          for (const v of vs) {
            yield* send(v, 0)
            yield* send(v, 1)
          }
          if (t === 2) yield* producer.sendOffsetsToTransaction([{ topic: "tv2", partition: 0, offset: t }], "tv2-g")
          if (!commit) return yield* Effect.fail("abort" as const)
        })
        const exit = yield* Effect.exit(producer.transaction(run))
        assert.strictEqual(Exit.isSuccess(exit), commit)
        if (commit) for (const c of committed) c.push(...vs)
        epochs.push(producer.idempotence()!.producerEpoch)
      }
      // every end (commit or abort) bumped the epoch by one
      assert.deepStrictEqual(
        epochs,
        epochs.map((_, i) => epochs[0]! + i)
      )
      yield* producer.transaction(Effect.all([send("end", 0), send("end", 1)]))
      for (const partition of [0, 1]) {
        assert.deepStrictEqual(yield* readUntil(bootstrap, "tv2", "read_committed", "end", partition), [
          ...committed[partition]!,
          "end"
        ])
      }
      assert.strictEqual((yield* admin.listGroupOffsets("tv2-g"))[0]?.offset, 2)

      // a broker without the setting: EndTxn v4, the epoch stays
      const plain = yield* startEddy()
      const admin1 = yield* Admin.make({ "bootstrap.servers": plain.bootstrap })
      yield* admin1.createTopics([{ name: "tv1", numPartitions: 1 }])
      const v1 = yield* Producer.make({ "bootstrap.servers": plain.bootstrap, "transactional.id": "client-tv1" })
      yield* v1.transaction(v1.send("tv1", { value: Buffer.from("x"), partition: 0 }))
      const before = v1.idempotence()
      yield* v1.transaction(v1.send("tv1", { value: Buffer.from("y"), partition: 0 }))
      assert.deepStrictEqual(v1.idempotence(), before)
      assert.deepStrictEqual(yield* readUntil(plain.bootstrap, "tv1", "read_committed", "y"), ["x", "y"])
    })
  )

  it.scopedLive("a second producer with the same transactional.id fences the first", () =>
    Effect.gen(function* () {
      const { bootstrap, port } = yield* startEddy()
      const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
      yield* admin.createTopics([{ name: "z", numPartitions: 1 }])
      const zombie = yield* Producer.make({ "bootstrap.servers": bootstrap, "transactional.id": "same" })
      yield* zombie.transaction(zombie.send("z", { value: Buffer.from("z1"), partition: 0 }))
      const zombieId = zombie.idempotence()!
      const fresh = yield* Producer.make({ "bootstrap.servers": bootstrap, "transactional.id": "same" })
      yield* fresh.transaction(
        Effect.zipRight(
          fresh.send("z", { value: Buffer.from("f1"), partition: 0 }),
          fresh.sendOffsetsToTransaction([{ topic: "z", partition: 0, offset: 1 }], "zg")
        )
      )
      // the group's partition now has the new epoch's marker: the zombie's offset commit is refused there
      const raw = yield* connect(port)
      const zombieCommit = yield* raw.send(
        28,
        3,
        TxnOffsetCommit.makeTxnOffsetCommitRequest({
          transactionalId: "same",
          groupId: "zg",
          producerId: BigInt(zombieId.producerId),
          producerEpoch: zombieId.producerEpoch,
          topics: [
            {
              name: "z",
              partitions: [{ partitionIndex: 0, committedOffset: 99n, committedLeaderEpoch: -1, committedMetadata: "" }]
            }
          ]
        })
      )
      assert.strictEqual(zombieCommit.topics[0]!.partitions[0]!.errorCode, 47)
      const fenced = yield* Effect.flip(
        zombie.transaction(zombie.send("z", { value: Buffer.from("z2"), partition: 0 }))
      )
      assert.include(["PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH"], (fenced as { errorName?: string }).errorName)
      assert.deepStrictEqual(yield* readUntil(bootstrap, "z", "read_committed", "f1"), ["z1", "f1"])
    })
  )

  it.scopedLive("kafkajs's transactional producer -> Eddy's read_committed fetcher", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy()
      yield* Effect.promise(async () => {
        const kafka = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING, clientId: "interop" })
        const admin = kafka.admin()
        await admin.connect()
        await admin.createTopics({ topics: [{ topic: "kjs", numPartitions: 1 }] })
        await admin.disconnect()
        const producer = kafka.producer({ transactionalId: "kjs-tx", maxInFlightRequests: 1, idempotent: true })
        await producer.connect()
        for (const [values, commit] of [
          [["k1", "k2"], true],
          [["a1"], false],
          [["k3"], true]
        ] as const) {
          const txn = await producer.transaction()
          await txn.send({ topic: "kjs", messages: values.map((value) => ({ value, partition: 0 })) })
          await (commit ? txn.commit() : txn.abort())
        }
        await producer.disconnect()
      })
      assert.deepStrictEqual(yield* readUntil(bootstrap, "kjs", "read_committed", "k3"), ["k1", "k2", "k3"])
    })
  )
})
