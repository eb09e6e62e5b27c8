import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { encodeRequestFrame } from "../../src/protocol/Frame.js"
import * as ApiVersions from "../../src/protocol/generated/ApiVersions.js"
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

/** Valid requests to mutate (admin APIs that create resources are left out: a mutated partition count could be huge). */
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

describe("Fuzz", () => {
  it.scopedLive(
    "random and mutated frames on several connections: each is answered or closed, a good client keeps working",
    () =>
      Effect.gen(function* () {
        const { broker } = yield* startBroker()
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
