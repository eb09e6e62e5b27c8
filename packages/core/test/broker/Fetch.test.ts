import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Fiber, TestClock } from "effect"
import { ReplicaManager } from "../../src/broker/ReplicaManager.js"
import { decodeResponseFrame, encodeRequestFrame } from "../../src/protocol/Frame.js"
import * as DeleteRecords from "../../src/protocol/generated/DeleteRecords.js"
import * as MessageSet from "../../src/protocol/MessageSet.js"
import * as RecordBatch from "../../src/protocol/RecordBatch.js"
import { batch, createTopic, fetchOne, fetchRequest, offsets, produce, topicId, values } from "./produceFetch.js"
import { connect, startBroker } from "./util.js"

const setup = (partitions = 1) =>
  Effect.gen(function* () {
    const { broker } = yield* startBroker()
    const client = yield* connect(broker.address.port)
    yield* createTopic(client, "t", partitions)
    return { broker, client }
  })

/** Lets real socket I/O happen (the broker's timers run on the test's TestClock, not on this). */
const realPause = (ms: number) => Effect.promise(() => new Promise<void>((r) => setTimeout(r, ms)))

describe("Fetch", () => {
  it.scopedLive("serves every version: legacy message sets for v0-3, batches from v4, topic ids from v13", () =>
    Effect.gen(function* () {
      const { client } = yield* setup()
      yield* produce(client, "t", 0, batch(["a", "b"]))
      yield* produce(client, "t", 0, batch(["c"], { compression: 1 }))
      const id = yield* topicId(client, "t")
      for (let v = 0; v <= 17; v++) {
        const res = yield* client.send(1, v, fetchRequest([{ topic: "t", topicId: id, partition: 0, offset: 1 }]))
        const p = res.responses[0]!.partitions[0]!
        assert.strictEqual(p.errorCode, 0, `v${v}`)
        assert.strictEqual(p.highWatermark, 3n, `v${v}`)
        if (v >= 13) assert.deepStrictEqual(res.responses[0]!.topicId, id)
        if (v >= 4) {
          assert.strictEqual(p.lastStableOffset, 3n)
          assert.isNull(p.abortedTransactions)
        }
        if (v >= 5) assert.strictEqual(p.logStartOffset, 0n)
        if (v >= 11) assert.strictEqual(p.preferredReadReplica, -1)
        if (v <= 3) {
          const messages = MessageSet.decode(p.records!)
          assert.deepStrictEqual(
            messages.map((m) => [m.offset, Buffer.from(m.value!).toString(), m.magic]),
            [
              [0, "a", v <= 1 ? 0 : 1],
              [1, "b", v <= 1 ? 0 : 1],
              [2, "c", v <= 1 ? 0 : 1]
            ],
            `v${v}`
          )
        } else {
          // the whole batch holding offset 1 comes back: clients skip records below their offset
          assert.deepStrictEqual(offsets(p.records), [0, 1, 2], `v${v}`)
        }
      }
    })
  )

  it.scopedLive("answers OFFSET_OUT_OF_RANGE above the high watermark and below the log start", () =>
    Effect.gen(function* () {
      const { client } = yield* setup()
      yield* produce(client, "t", 0, batch(["a"]))
      yield* produce(client, "t", 0, batch(["b"]))
      assert.strictEqual((yield* fetchOne(client, "t", 0, 3)).errorCode, 1)
      const atEnd = yield* fetchOne(client, "t", 0, 2)
      assert.strictEqual(atEnd.errorCode, 0)
      assert.strictEqual(atEnd.records?.length ?? 0, 0)
      const del = yield* client.send(
        21,
        2,
        DeleteRecords.makeDeleteRecordsRequest({
          timeoutMs: 1000,
          topics: [{ name: "t", partitions: [{ partitionIndex: 0, offset: 1n }] }]
        })
      )
      assert.strictEqual(del.topics[0]!.partitions[0]!.lowWatermark, 1n)
      assert.strictEqual((yield* fetchOne(client, "t", 0, 0)).errorCode, 1)
      const from1 = yield* fetchOne(client, "t", 0, 1)
      assert.strictEqual(from1.logStartOffset, 1n)
      assert.deepStrictEqual(values(from1.records), ["b"])
      assert.strictEqual((yield* fetchOne(client, "nope", 0, 0)).errorCode, 3)
    })
  )

  it.scopedLive("returns the first whole batch even past max_bytes (KIP-74) and respects the limits after it", () =>
    Effect.gen(function* () {
      const { client } = yield* setup(2)
      const big = "x".repeat(2000)
      yield* produce(client, "t", 0, batch([big]))
      yield* produce(client, "t", 0, batch([big]))
      yield* produce(client, "t", 1, batch(["small"]))
      const res = yield* client.send(
        1,
        11,
        fetchRequest(
          [
            { topic: "t", partition: 0, offset: 0, partitionMaxBytes: 100 },
            { topic: "t", partition: 1, offset: 0 }
          ],
          { maxBytes: 100 }
        )
      )
      const [p0, p1] = res.responses[0]!.partitions
      assert.deepStrictEqual(offsets(p0!.records), [0], "one whole batch despite partition_max_bytes")
      assert.strictEqual(p1!.records?.length ?? 0, 0, "max_bytes used up by the first partition")
      assert.strictEqual(p1!.highWatermark, 1n)
      const both = yield* client.send(
        1,
        11,
        fetchRequest([
          { topic: "t", partition: 0, offset: 0, partitionMaxBytes: 3000 },
          { topic: "t", partition: 1, offset: 0 }
        ])
      )
      assert.deepStrictEqual(offsets(both.responses[0]!.partitions[0]!.records), [0])
      assert.deepStrictEqual(values(both.responses[0]!.partitions[1]!.records), ["small"])
    })
  )

  it.scopedLive(
    "only the first partition with records may return a batch over its limit, within what max_bytes leaves",
    () =>
      Effect.gen(function* () {
        const { client } = yield* setup(3)
        const big = "x".repeat(2000)
        yield* produce(client, "t", 1, batch([big]))
        yield* produce(client, "t", 2, batch([big]))
        yield* produce(client, "t", 2, batch(["small"]))
        const fetch = (maxBytes: number, from2 = 0) =>
          Effect.map(
            client.send(
              1,
              11,
              fetchRequest(
                [0, 1, 2].map((partition) => ({
                  topic: "t",
                  partition,
                  offset: partition === 2 ? from2 : 0,
                  partitionMaxBytes: 100
                })),
                { maxBytes }
              )
            ),
            (res) => res.responses[0]!.partitions.map((p) => offsets(p.records))
          )
        // partition 0 is empty, so partition 1 is the first with records: its whole batch comes back;
        // partition 2's first batch is over its limit and no longer first
        assert.deepStrictEqual(yield* fetch(1000), [[], [0], []])
        // the batch of partition 1 uses up max_bytes: partition 2 gets nothing, even a batch within its limit
        assert.deepStrictEqual(yield* fetch(300, 1), [[], [0], []])
        // with room left, partition 2's small batch comes too
        assert.deepStrictEqual(yield* fetch(1 << 20, 1), [[], [0], [1]])
      })
  )

  it.scopedLive("checks current_leader_epoch from v9: FENCED_LEADER_EPOCH below, UNKNOWN_LEADER_EPOCH above", () =>
    Effect.gen(function* () {
      const { client } = yield* setup()
      const at = (currentLeaderEpoch: number) =>
        Effect.map(
          client.send(1, 11, fetchRequest([{ topic: "t", partition: 0, offset: 0, currentLeaderEpoch }])),
          (r) => r.responses[0]!.partitions[0]!.errorCode
        )
      assert.strictEqual(yield* at(-1), 0)
      assert.strictEqual(yield* at(0), 0)
      assert.strictEqual(yield* at(1), 75)
      assert.strictEqual(yield* at(-2), 74)
    })
  )

  it.scopedLive("serves zstd batches from v4; v0-3 cannot down-convert them (UNSUPPORTED_COMPRESSION_TYPE)", () =>
    Effect.gen(function* () {
      const { client } = yield* setup()
      yield* produce(client, "t", 0, batch(["z"], { compression: 4 }))
      assert.strictEqual((yield* fetchOne(client, "t", 0, 0, 3)).errorCode, 76)
      for (const v of [4, 9, 10]) {
        const p = yield* fetchOne(client, "t", 0, 0, v)
        assert.strictEqual(p.errorCode, 0, `v${v}`)
        assert.deepStrictEqual(values(p.records), ["z"], `v${v}`)
      }
    })
  )

  it.scoped("long poll: waits max_wait_ms on the broker's Clock when nothing arrives", () =>
    Effect.gen(function* () {
      const { client } = yield* setup()
      const fiber = yield* Effect.fork(fetchOne(client, "t", 0, 0, 11, { maxWaitMs: 10_000, minBytes: 1 }))
      yield* realPause(50)
      assert.isTrue((yield* Fiber.poll(fiber))._tag === "None", "answered before max_wait_ms")
      yield* TestClock.adjust(10_000)
      const p = yield* Fiber.join(fiber)
      assert.strictEqual(p.errorCode, 0)
      assert.strictEqual(p.records?.length ?? 0, 0)
    })
  )

  it.scoped("long poll: a produce wakes a parked fetch", () =>
    Effect.gen(function* () {
      const { broker, client } = yield* setup()
      const fiber = yield* Effect.fork(fetchOne(client, "t", 0, 0, 11, { maxWaitMs: 60_000, minBytes: 1 }))
      yield* realPause(50)
      assert.isTrue((yield* Fiber.poll(fiber))._tag === "None")
      const producer = yield* connect(broker.address.port)
      yield* produce(producer, "t", 0, batch(["wake"]))
      const p = yield* Fiber.join(fiber)
      assert.deepStrictEqual(values(p.records), ["wake"])
    })
  )

  it.scoped("long poll: min_bytes keeps waiting until enough bytes arrived", () =>
    Effect.gen(function* () {
      const { broker, client } = yield* setup()
      const producer = yield* connect(broker.address.port)
      const first = batch(["a"])
      const fiber = yield* Effect.fork(
        fetchOne(client, "t", 0, 0, 11, { maxWaitMs: 60_000, minBytes: first.length + 1 })
      )
      yield* realPause(30)
      yield* produce(producer, "t", 0, first)
      yield* realPause(30)
      assert.isTrue((yield* Fiber.poll(fiber))._tag === "None", "answered below min_bytes")
      yield* produce(producer, "t", 0, batch(["b"]))
      const p = yield* Fiber.join(fiber)
      assert.deepStrictEqual(values(p.records), ["a", "b"])
    })
  )

  it.scopedLive("read_committed stops at the last stable offset and returns the aborted transactions", () =>
    Effect.gen(function* () {
      const { broker, context } = yield* startBroker()
      const client = yield* connect(broker.address.port)
      yield* createTopic(client, "t", 1)
      const replica = Context.get(context, ReplicaManager).get("t", 0)!
      const txn = (v: string, producerId: number, baseSequence: number) =>
        batch([v], { producerId, producerEpoch: 0, baseSequence, transactional: true })
      yield* produce(client, "t", 0, batch(["p0"]))
      yield* produce(client, "t", 0, txn("a1", 100, 0))
      yield* produce(client, "t", 0, txn("c1", 200, 0))
      yield* produce(client, "t", 0, batch(["p1"]))
      const committed = (offset: number, options: Parameters<typeof fetchOne>[5] = {}) =>
        fetchOne(client, "t", 0, offset, 11, { isolationLevel: 1, ...options })

      // both transactions open: read_committed sees offset 0 only, read_uncommitted all four
      let p = yield* committed(0)
      assert.deepStrictEqual([p.highWatermark, p.lastStableOffset], [4n, 1n])
      assert.deepStrictEqual(values(p.records), ["p0"])
      assert.deepStrictEqual(p.abortedTransactions, [])
      assert.strictEqual((yield* committed(2)).records?.length ?? 0, 0, "between LSO and HW: nothing")
      const uncommitted = yield* fetchOne(client, "t", 0, 0)
      assert.deepStrictEqual(values(uncommitted.records), ["p0", "a1", "c1", "p1"])
      assert.strictEqual(uncommitted.lastStableOffset, 1n)
      assert.isNull(uncommitted.abortedTransactions)

      // producer 100 aborts (marker at 4): the LSO moves to producer 200's open transaction
      yield* replica.writeTxnMarker({ producerId: 100, producerEpoch: 0, commit: false, coordinatorEpoch: 0 })
      p = yield* committed(0)
      assert.deepStrictEqual([p.highWatermark, p.lastStableOffset], [5n, 2n])
      assert.deepStrictEqual(offsets(p.records), [0, 1])
      assert.deepStrictEqual(
        p.abortedTransactions?.map((a) => [a.producerId, a.firstOffset]),
        [[100n, 1n]]
      )

      // a read_committed long poll at the LSO is woken by producer 200's commit (marker at 5)
      const parked = yield* Effect.fork(committed(2, { maxWaitMs: 60_000, minBytes: 1 }))
      yield* realPause(50)
      assert.isTrue((yield* Fiber.poll(parked))._tag === "None")
      yield* replica.writeTxnMarker({ producerId: 200, producerEpoch: 0, commit: true, coordinatorEpoch: 0 })
      p = yield* Fiber.join(parked)
      assert.deepStrictEqual([p.highWatermark, p.lastStableOffset], [6n, 6n])
      assert.deepStrictEqual(offsets(p.records), [2, 3, 4, 5])
      // the aborted transaction ends at offset 4, inside the records returned
      assert.deepStrictEqual(
        p.abortedTransactions?.map((a) => [a.producerId, a.firstOffset]),
        [[100n, 1n]]
      )
      assert.deepStrictEqual((yield* committed(5)).abortedTransactions, [])
      // a read_committed consumer drops producer 100's records and the control batches
      const all = yield* committed(0)
      const buf = all.records!
      const visible: Array<string> = []
      for (let pos = 0; pos < buf.length; pos += RecordBatch.sizeAt(buf, pos)) {
        const h = RecordBatch.readHeader(buf, pos)
        if (RecordBatch.isControl(h.attributes) || h.producerId === 100) continue
        visible.push(...values(buf.subarray(pos, pos + RecordBatch.sizeAt(buf, pos))))
      }
      assert.deepStrictEqual(visible, ["p0", "c1", "p1"])
    })
  )

  // Fetch responses are read into pooled buffers that go back to the pool once the response is on the
  // socket. A reader that stops reading holds its response in the broker's socket queue: its buffers must
  // not be handed to other fetches meanwhile, or what it finally reads would be their bytes.
  it.scopedLive("a response held back by a slow reader keeps its bytes while other fetches reuse buffers", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker()
      const admin = yield* connect(broker.address.port)
      const partitions = 8
      const perPartition = 32 // batches of 64 records of 1 KiB: 2 MiB per partition, 16 MiB per topic
      for (const topic of ["a", "b"]) {
        yield* createTopic(admin, topic, partitions)
        const value = topic.toUpperCase().repeat(1024)
        for (let p = 0; p < partitions; p++) {
          for (let i = 0; i < perPartition; i++) {
            const r = yield* produce(admin, topic, p, batch(Array.from({ length: 64 }, () => value)))
            assert.strictEqual(r.errorCode, 0)
          }
        }
      }
      const all = (topic: string) =>
        fetchRequest(
          Array.from({ length: partitions }, (_, partition) => ({
            topic,
            partition,
            offset: 0,
            partitionMaxBytes: 4 << 20
          })),
          { maxBytes: 64 << 20 }
        )
      // the slow reader asks for all of "a" and stops reading: 16 MiB do not fit in loopback socket buffers
      const slow = yield* connect(broker.address.port)
      slow.socket.pause()
      yield* slow.write(encodeRequestFrame(1, 12, 1, "slow", all("a")))
      yield* realPause(300)
      // meanwhile another client reads all of "b" again and again
      const other = yield* connect(broker.address.port)
      for (let i = 0; i < 6; i++) {
        const res = yield* other.send(1, 12, all("b"))
        for (const p of res.responses[0]!.partitions) assert.strictEqual(p.errorCode, 0)
      }
      slow.socket.resume()
      const res = decodeResponseFrame(1, 12, yield* slow.nextFrame).body
      let records = 0
      for (const p of res.responses[0]!.partitions) {
        assert.strictEqual(p.errorCode, 0)
        const data = p.records!
        for (const { position } of RecordBatch.headers(data)) {
          assert.isTrue(RecordBatch.isCrcValid(data, position), `partition ${p.partitionIndex}: a batch changed`)
          for (const r of RecordBatch.decode(data, position).records) {
            assert.strictEqual(Buffer.from(r.value!).toString()[0], "A")
            records++
          }
        }
      }
      assert.strictEqual(records, partitions * perPartition * 64)
    })
  )
})
