import * as fs from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { Codes } from "../../src/broker/BrokerError.js"
import { encodeRequestFrame } from "../../src/protocol/Frame.js"
import * as ApiVersions from "../../src/protocol/generated/ApiVersions.js"
import * as CreatePartitions from "../../src/protocol/generated/CreatePartitions.js"
import * as CreateTopics from "../../src/protocol/generated/CreateTopics.js"
import * as DeleteRecords from "../../src/protocol/generated/DeleteRecords.js"
import * as ListOffsets from "../../src/protocol/generated/ListOffsets.js"
import * as Metadata from "../../src/protocol/generated/Metadata.js"
import * as OffsetForLeaderEpoch from "../../src/protocol/generated/OffsetForLeaderEpoch.js"
import { batch, createTopic, fetchOne, fetchRequest, produce, produceRequest, values } from "./produceFetch.js"
import { connect, startBroker } from "./util.js"

/** A small seeded PRNG (mulberry32) so a failing run can be replayed from its seed. */
const prng = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const SENTINEL = 0x7ffffff0

/** Partition counts at their extremes, around the limits (10,000 per request) and the int32 range. */
const PARTITION_COUNTS = [-2147483648, -2, -1, 0, 1, 3, 10_000, 10_001, 2147483647]
/** Replication factors at their extremes (int16). */
const REPLICATION_FACTORS = [-32768, -2, -1, 0, 1, 2, 32767]

/** Brokers under fuzz host at most this many partitions, so a mutated count never creates thousands. */
const MAX_BROKER_PARTITIONS = "64"

/**
 * Valid requests to mutate, CreateTopics and CreatePartitions with extreme counts among them (the broker bounds
 * the partitions one request may create, and `max.broker.partitions` bounds the total). The first three are
 * Produce requests: gentle connections corrupt only their record bytes.
 */
const corpus = (): Array<{ readonly frame: Buffer; readonly protect?: readonly [number, number] }> => [
  { frame: encodeRequestFrame(0, 3, 1, "fuzz", produceRequest("fuzz", 0, batch(["a", "b"]))) },
  { frame: encodeRequestFrame(0, 9, 1, "fuzz", produceRequest("fuzz", 0, batch(["c"], { compression: 1 }))) },
  { frame: encodeRequestFrame(0, 2, 1, "fuzz", produceRequest("fuzz", 0, batch(["d"]))) },
  // max_wait_ms and min_bytes stay 0 so a mutated fetch never parks for a long time
  {
    frame: encodeRequestFrame(1, 4, 1, "fuzz", fetchRequest([{ topic: "fuzz", partition: 0, offset: 0 }])),
    protect: [22, 30]
  },
  {
    frame: encodeRequestFrame(1, 11, 1, "fuzz", fetchRequest([{ topic: "fuzz", partition: 0, offset: 0 }])),
    protect: [22, 30]
  },
  {
    frame: encodeRequestFrame(
      2,
      5,
      1,
      "fuzz",
      ListOffsets.makeListOffsetsRequest({
        replicaId: -1,
        topics: [
          { name: "fuzz", partitions: [ListOffsets.makeListOffsetsRequestListOffsetsPartition({ timestamp: -1n })] }
        ]
      })
    )
  },
  {
    frame: encodeRequestFrame(
      3,
      9,
      1,
      "fuzz",
      Metadata.makeMetadataRequest({ topics: [{ name: "fuzz", topicId: new Uint8Array(16) }] })
    )
  },
  {
    frame: encodeRequestFrame(
      21,
      2,
      1,
      "fuzz",
      DeleteRecords.makeDeleteRecordsRequest({
        timeoutMs: 100,
        topics: [{ name: "fuzz", partitions: [{ partitionIndex: 0, offset: 0n }] }]
      })
    )
  },
  {
    frame: encodeRequestFrame(
      23,
      4,
      1,
      "fuzz",
      OffsetForLeaderEpoch.makeOffsetForLeaderEpochRequest({
        replicaId: -1,
        topics: [{ topic: "fuzz", partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] }]
      })
    )
  },
  {
    frame: encodeRequestFrame(
      19,
      7,
      1,
      "fuzz",
      CreateTopics.makeCreateTopicsRequest({
        timeoutMs: 1000,
        topics: [
          CreateTopics.makeCreateTopicsRequestCreatableTopic({ name: "fz", numPartitions: 2, replicationFactor: 1 })
        ]
      })
    )
  },
  {
    frame: encodeRequestFrame(
      19,
      4,
      1,
      "fuzz",
      CreateTopics.makeCreateTopicsRequest({
        timeoutMs: 1000,
        topics: [
          CreateTopics.makeCreateTopicsRequestCreatableTopic({
            name: "fa",
            numPartitions: -1,
            replicationFactor: -1,
            assignments: [{ partitionIndex: 0, brokerIds: [1] }]
          })
        ]
      })
    )
  },
  {
    frame: encodeRequestFrame(
      37,
      3,
      1,
      "fuzz",
      CreatePartitions.makeCreatePartitionsRequest({
        timeoutMs: 1000,
        topics: [{ name: "fuzz", count: 2147483647, assignments: null }]
      })
    )
  }
]

const mutate = (rand: () => number, frame: Buffer, protect?: readonly [number, number]): Buffer => {
  const out = Buffer.from(frame)
  const flips = 1 + Math.floor(rand() * 4)
  for (let i = 0; i < flips; i++) {
    const pos = 4 + Math.floor(rand() * (out.length - 4))
    if (protect && pos >= protect[0] && pos < protect[1]) continue
    out[pos] = Math.floor(rand() * 256)
  }
  // sometimes truncate the body (the size field stays consistent)
  if (rand() < 0.2) {
    const cut = out.subarray(0, 4 + Math.floor(rand() * (out.length - 4)))
    cut.writeInt32BE(cut.length - 4, 0)
    return cut
  }
  return out
}

const randomFrame = (rand: () => number): Buffer => {
  const bodyLength = Math.floor(rand() * 64)
  const out = Buffer.alloc(4 + 8 + bodyLength)
  out.writeInt32BE(out.length - 4, 0)
  const keys = [0, 1, 2, 3, 18, 21, 23, 999, -1]
  out.writeInt16BE(keys[Math.floor(rand() * keys.length)]!, 4)
  out.writeInt16BE(Math.floor(rand() * 20) - 2, 6)
  out.writeInt32BE(Math.floor(rand() * 1000), 8)
  for (let i = 12; i < out.length; i++) out[i] = Math.floor(rand() * 256)
  return out
}

/** Frames that close the connection, each after the answers to the requests before it. */
const MALFORMED: ReadonlyArray<Buffer> = [
  Buffer.from([0, 0, 0, 3, 1, 2, 3]), // size below the request header
  Buffer.from([0x7f, 0xff, 0xff, 0xff]), // size above socket.request.max.bytes
  Buffer.from([0, 0, 0, 10, 0x03, 0xe7, 0, 0, 0, 0, 0, 1, 0xff, 0xff]), // unknown api key 999
  Buffer.from([0, 0, 0, 10, 0, 3, 0, 1, 0, 0, 0, 1, 1, 0xf4]), // client id length past the frame
  Buffer.from([0, 0, 0, 12, 0, 3, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0x7f, 0xff]) // Metadata v1 claiming 2^31-1 topics
]

const sentinel = () => encodeRequestFrame(18, 0, SENTINEL, "fuzz", ApiVersions.makeApiVersionsRequest())

/** One fuzzing connection: writes frames, then a sentinel; the broker must answer it or close the connection. */
const fuzzConnection = (port: number, seed: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const rand = prng(seed)
      const client = yield* connect(port)
      const base = corpus()
      const frames: Array<Buffer> = []
      const count = 1 + Math.floor(rand() * 12)
      // half the connections only corrupt record bytes: the broker must answer those with error codes
      const gentle = seed % 2 === 0
      for (let i = 0; i < count && gentle; i++) {
        const pick = base[Math.floor(rand() * 3)]!.frame
        const out = Buffer.from(pick)
        out[pick.length - 1 - Math.floor(rand() * 30)] ^= 1 + Math.floor(rand() * 255)
        frames.push(out)
      }
      for (let i = 0; i < count && !gentle; i++) {
        const r = rand()
        if (r < 0.25) frames.push(base[Math.floor(rand() * base.length)]!.frame)
        else if (r < 0.8) {
          const pick = base[Math.floor(rand() * base.length)]!
          frames.push(mutate(rand, pick.frame, pick.protect))
        } else if (r < 0.97) frames.push(randomFrame(rand))
        else {
          // a size field outside the limits must close the connection
          const bad = Buffer.alloc(4)
          bad.writeInt32BE(rand() < 0.5 ? 3 : 0x7fffffff, 0)
          frames.push(bad)
          break
        }
      }
      yield* client.write(Buffer.concat([...frames, sentinel()]))
      const answered = Effect.gen(function* () {
        for (;;) {
          const f = yield* client.nextFrame
          if (f.length >= 4 && Buffer.from(f).readInt32BE(0) === SENTINEL) return "answered" as const
        }
      })
      const outcome = yield* Effect.raceFirst(answered, Effect.as(client.closed, "closed" as const)).pipe(
        Effect.timeout(10_000),
        Effect.catchAll(() => Effect.succeed(`seed ${seed}: neither answered nor closed` as const))
      )
      return outcome
    })
  )

/** The correlation id of a request frame (after its size, api key and version). */
const withCorrelation = (frame: Buffer, id: number): Buffer => {
  const out = Buffer.from(frame)
  out.writeInt32BE(id, 8)
  return out
}

describe("Fuzz", () => {
  it.scopedLive(
    "each request followed in the same write by a malformed frame: its answer arrives, then the close",
    () =>
      Effect.gen(function* () {
        const { broker } = yield* startBroker({ extra: { "max.broker.partitions": MAX_BROKER_PARTITIONS } })
        const port = broker.address.port
        const admin = yield* connect(port)
        yield* createTopic(admin, "fuzz", 1)
        const baseSeed = Number(process.env.EDDY_FUZZ_SEED ?? Date.now() % 100000)
        const rand = prng(baseSeed)
        const base = corpus()
        for (const [i, entry] of base.entries()) {
          for (const [j, bad] of MALFORMED.entries()) {
            // the entry, sometimes behind a few other valid requests, then the malformed frame, in one write
            const before = Array.from({ length: Math.floor(rand() * 3) }, () => base[Math.floor(rand() * base.length)]!)
            const valid = [...before, entry].map((e, k) => withCorrelation(e.frame, 1000 * i + 100 * j + k))
            const client = yield* connect(port)
            yield* client.write(Buffer.concat([...valid, bad]))
            for (const frame of valid) {
              const answer = yield* Effect.timeout(client.nextFrame, 5000).pipe(
                Effect.orElse(() => Effect.die(new Error(`seed ${baseSeed}: no answer to corpus ${i} before bad ${j}`)))
              )
              assert.strictEqual(Buffer.from(answer).readInt32BE(0), frame.readInt32BE(8), `seed ${baseSeed}`)
            }
            yield* Effect.timeout(client.closed, 5000)
          }
        }
        assert.isTrue((yield* fetchOne(admin, "fuzz", 0, 0)).errorCode === 0)
      })
  )

  it.scopedLive("CreateTopics and CreatePartitions with counts at their extremes are answered with error codes", () =>
    Effect.gen(function* () {
      const { broker, dir } = yield* startBroker({ extra: { "max.broker.partitions": MAX_BROKER_PARTITIONS } })
      const client = yield* connect(broker.address.port)
      const allowed = [
        Codes.NONE,
        Codes.INVALID_PARTITIONS,
        Codes.INVALID_REPLICATION_FACTOR,
        Codes.INVALID_REQUEST,
        Codes.POLICY_VIOLATION
      ]
      let n = 0
      const create = (version: number, topic: CreateTopics.CreateTopicsRequestCreatableTopic) =>
        Effect.map(
          client.send(19, version, CreateTopics.makeCreateTopicsRequest({ timeoutMs: 5000, topics: [topic] })),
          (res) => res.topics[0]!.errorCode
        )
      for (const version of [4, 7]) {
        for (const numPartitions of PARTITION_COUNTS) {
          for (const replicationFactor of REPLICATION_FACTORS) {
            const name = `x${n++}`
            const code = yield* create(
              version,
              CreateTopics.makeCreateTopicsRequestCreatableTopic({ name, numPartitions, replicationFactor })
            )
            assert.include(allowed, code, `${name}: ${numPartitions} x ${replicationFactor}`)
            const sane =
              (numPartitions === -1 || (numPartitions > 0 && numPartitions <= 3)) && Math.abs(replicationFactor) === 1
            if (code === Codes.NONE) assert.isTrue(sane, `${name} created with ${numPartitions} x ${replicationFactor}`)
            if (numPartitions > 10_000) assert.strictEqual(code, Codes.POLICY_VIOLATION)
          }
        }
      }
      // manual assignments at their extremes: indexes, broker ids, and more assignments than a request may add
      const assignments: ReadonlyArray<Array<{ partitionIndex: number; brokerIds: Array<number> }>> = [
        [{ partitionIndex: 2147483647, brokerIds: [1] }],
        [{ partitionIndex: -2147483648, brokerIds: [1] }],
        [{ partitionIndex: 0, brokerIds: [-1] }],
        [{ partitionIndex: 0, brokerIds: [2147483647, 1] }],
        [{ partitionIndex: 0, brokerIds: [] }],
        Array.from({ length: 10_001 }, (_, partitionIndex) => ({ partitionIndex, brokerIds: [1] }))
      ]
      for (const a of assignments) {
        const code = yield* create(
          7,
          CreateTopics.makeCreateTopicsRequestCreatableTopic({
            name: `a${n++}`,
            numPartitions: -1,
            replicationFactor: -1,
            assignments: a
          })
        )
        assert.include(allowed.slice(1), code)
      }
      yield* createTopic(client, "grow", 1)
      for (const count of PARTITION_COUNTS) {
        const res = yield* client.send(
          37,
          3,
          CreatePartitions.makeCreatePartitionsRequest({
            timeoutMs: 5000,
            topics: [{ name: "grow", count, assignments: null }]
          })
        )
        assert.include(allowed, res.results[0]!.errorCode, `grow to ${count}`)
      }
      // the broker hosts no more than max.broker.partitions and still serves
      const partitionFolders = fs.readdirSync(dir).filter((f) => /-\d+$/.test(f))
      assert.isAtMost(partitionFolders.length, Number(MAX_BROKER_PARTITIONS))
      assert.strictEqual((yield* produce(client, "grow", 0, batch(["ok"]))).errorCode, 0)
    })
  )

  it.scopedLive(
    "random and mutated frames on several connections: each is answered or closed, a good client keeps working",
    () =>
      Effect.gen(function* () {
        const { broker } = yield* startBroker({ extra: { "max.broker.partitions": MAX_BROKER_PARTITIONS } })
        const port = broker.address.port
        const admin = yield* connect(port)
        yield* createTopic(admin, "fuzz", 1)
        yield* createTopic(admin, "good", 1)

        let stop = false
        const good = yield* Effect.fork(
          Effect.scoped(
            Effect.gen(function* () {
              const client = yield* connect(port)
              let n = 0
              while (!stop) {
                const p = yield* produce(client, "good", 0, batch([`g${n}`]))
                assert.strictEqual(p.errorCode, 0)
                assert.strictEqual(p.baseOffset, BigInt(n))
                const f = yield* fetchOne(client, "good", 0, n)
                assert.deepStrictEqual(values(f.records), [`g${n}`])
                n++
              }
              return n
            })
          )
        )
        const baseSeed = Number(process.env.EDDY_FUZZ_SEED ?? Date.now() % 100000)
        const outcomes: Array<string> = []
        for (let round = 0; round < 5; round++) {
          const seeds = Array.from({ length: 6 }, (_, i) => baseSeed * 100 + round * 10 + i)
          outcomes.push(...(yield* Effect.forEach(seeds, (s) => fuzzConnection(port, s), { concurrency: "unbounded" })))
        }
        stop = true
        const rounds = yield* Fiber.join(good)
        const failures = outcomes.filter((o) => o !== "answered" && o !== "closed")
        assert.deepStrictEqual(failures, [], `base seed ${baseSeed}`)
        assert.isAbove(rounds, 0)
        console.log(
          `fuzz outcomes (base seed ${baseSeed}): ${outcomes.filter((o) => o === "answered").length} answered, ${outcomes.filter((o) => o === "closed").length} closed`
        )
        assert.include(outcomes, "closed")
        assert.include(outcomes, "answered")
        // the broker still serves new connections
        const after = yield* connect(port)
        assert.strictEqual((yield* produce(after, "good", 0, batch(["last"]))).errorCode, 0)
      })
  )
})
