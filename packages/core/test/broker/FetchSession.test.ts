import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fetch from "../../src/protocol/generated/Fetch.js"
import { batch, createTopic, fetchRequest, produce, values } from "./produceFetch.js"
import { connect, startBroker } from "./util.js"

const partitionsOf = (res: Fetch.FetchResponse) =>
  res.responses.flatMap((t) => t.partitions.map((p) => `${t.topic}-${p.partitionIndex}`))

describe("Fetch sessions (KIP-227)", () => {
  it.scopedLive("creates a session on epoch 0 and answers incremental fetches with changed partitions only", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker()
      const client = yield* connect(broker.address.port)
      yield* createTopic(client, "t", 2)
      yield* produce(client, "t", 0, batch(["a"]))
      const wanted = [
        { topic: "t", partition: 0, offset: 0 },
        { topic: "t", partition: 1, offset: 0 }
      ]
      const full = yield* client.send(1, 11, fetchRequest(wanted, { sessionId: 0, sessionEpoch: 0 }))
      assert.strictEqual(full.errorCode, 0)
      assert.notStrictEqual(full.sessionId, 0)
      assert.deepStrictEqual(partitionsOf(full), ["t-0", "t-1"])
      const id = full.sessionId

      // nothing changed: the consumer moved partition 0 to offset 1, partition 1 unchanged and unlisted
      const inc1 = yield* client.send(
        1,
        11,
        fetchRequest([{ topic: "t", partition: 0, offset: 1 }], { sessionId: id, sessionEpoch: 1 })
      )
      assert.strictEqual(inc1.errorCode, 0)
      assert.strictEqual(inc1.sessionId, id)
      assert.deepStrictEqual(partitionsOf(inc1), [])

      // new data on partition 1 only: the empty incremental request still reads it from the session
      yield* produce(client, "t", 1, batch(["b"]))
      const inc2 = yield* client.send(1, 11, fetchRequest([], { sessionId: id, sessionEpoch: 2 }))
      assert.deepStrictEqual(partitionsOf(inc2), ["t-1"])
      assert.deepStrictEqual(values(inc2.responses[0]!.partitions[0]!.records), ["b"])

      // forgetting partition 1 drops it from the session
      const forget = fetchRequest([], { sessionId: id, sessionEpoch: 3 })
      forget.forgottenTopicsData = [Fetch.makeFetchRequestForgottenTopic({ topic: "t", partitions: [1] })]
      yield* client.send(1, 11, forget)
      yield* produce(client, "t", 1, batch(["c"]))
      yield* produce(client, "t", 0, batch(["d"]))
      const inc4 = yield* client.send(1, 11, fetchRequest([], { sessionId: id, sessionEpoch: 4 }))
      assert.deepStrictEqual(partitionsOf(inc4), ["t-0"])
      assert.deepStrictEqual(values(inc4.responses[0]!.partitions[0]!.records), ["d"])
    })
  )

  it.scopedLive("answers FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH, and closes on epoch -1", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker()
      const client = yield* connect(broker.address.port)
      yield* createTopic(client, "t", 1)
      const wanted = [{ topic: "t", partition: 0, offset: 0 }]
      const unknown = yield* client.send(1, 11, fetchRequest(wanted, { sessionId: 12345, sessionEpoch: 1 }))
      assert.strictEqual(unknown.errorCode, 70)
      assert.strictEqual(unknown.sessionId, 0)
      const full = yield* client.send(1, 7, fetchRequest(wanted, { sessionId: 0, sessionEpoch: 0 }))
      const id = full.sessionId
      assert.notStrictEqual(id, 0)
      const wrong = yield* client.send(1, 7, fetchRequest([], { sessionId: id, sessionEpoch: 5 }))
      assert.strictEqual(wrong.errorCode, 71)
      const ok = yield* client.send(1, 7, fetchRequest([], { sessionId: id, sessionEpoch: 1 }))
      assert.strictEqual(ok.errorCode, 0)
      const closed = yield* client.send(1, 7, fetchRequest(wanted, { sessionId: id, sessionEpoch: -1 }))
      assert.strictEqual(closed.errorCode, 0)
      assert.strictEqual(closed.sessionId, 0)
      assert.deepStrictEqual(partitionsOf(closed), ["t-0"])
      const gone = yield* client.send(1, 7, fetchRequest([], { sessionId: id, sessionEpoch: 2 }))
      assert.strictEqual(gone.errorCode, 70)
      // sessionless full fetches answer session id 0
      const sessionless = yield* client.send(1, 11, fetchRequest(wanted))
      assert.strictEqual(sessionless.sessionId, 0)
    })
  )
})
