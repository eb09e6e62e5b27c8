import { assert, describe, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import * as Admin from "../../src/client/Admin.js"
import * as Producer from "../../src/client/Producer.js"
import { startEddy } from "./util.js"

const bytes = (s: string) => new TextEncoder().encode(s)

describe("Producer and partitions added after its metadata was cached", () => {
  it.scopedLive("send and sendBatch to a new partition fetch the topic's metadata again instead of failing", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy()
      const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
      yield* admin.createTopics([{ name: "grows", numPartitions: 1, replicationFactor: 1 }])
      const producer = yield* Producer.make({ "bootstrap.servers": bootstrap })
      yield* producer.send("grows", { partition: 0, key: null, value: bytes("a") }) // caches one partition
      yield* admin.createPartitions("grows", 3)
      const one = yield* producer.send("grows", { partition: 1, key: null, value: bytes("b") })
      assert.strictEqual(one.partition, 1)
      const batch = yield* producer.sendBatch("grows", [
        { partition: 0, key: null, value: bytes("c") },
        { partition: 2, key: null, value: bytes("d") }
      ])
      assert.deepStrictEqual(
        batch.map((m) => m.partition),
        [0, 2]
      )
      // a partition that does not exist after the refresh still fails, with UNKNOWN_TOPIC_OR_PARTITION
      const missing = yield* Effect.either(producer.send("grows", { partition: 7, key: null, value: bytes("e") }))
      assert.isTrue(Either.isLeft(missing))
      if (Either.isLeft(missing)) assert.strictEqual((missing.left as { errorCode?: number }).errorCode, 3)
    })
  )
})
