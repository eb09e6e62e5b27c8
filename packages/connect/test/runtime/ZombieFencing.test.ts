/**
 * Zombie fencing over the config topic's task-count record (`tasks-fencing-<name>`): the previous
 * generation's transactional ids are fenced before the new count is recorded, and the record survives a
 * restart of the store.
 */
import * as Producer from "@eddy/core/client/Producer"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import * as ConfigStore from "../../src/runtime/ConfigStore.js"
import * as ZombieFencing from "../../src/runtime/ZombieFencing.js"
import { startEddy } from "../util.js"
import { readAll, valuesOf } from "./eosUtil.js"

const props = (bootstrap: string) => ({
  "bootstrap.servers": bootstrap,
  "group.id": "fencing-cluster",
  "consumer.fetch.max.wait.ms": "50",
  "producer.linger.ms": "1",
  "config.storage.topic": "fencing-configs",
  "config.storage.replication.factor": "1"
})

describe("ZombieFencing", { timeout: 60_000 }, () => {
  it.scopedLive("fences the generation named by the task-count record, then records the new one", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy
      const worker = props(bootstrap)
      const store = yield* ConfigStore.make(worker)
      const fence = ZombieFencing.fromConfigStore(worker, store)
      // the first generation: nothing to fence yet
      yield* fence("src", {}, 2)
      assert.strictEqual((yield* store.snapshot).taskCounts.get("src"), 2)

      // task 1 of that generation is a zombie with an open transaction
      const zombie = yield* Producer.make({
        "bootstrap.servers": bootstrap,
        "transactional.id": "fencing-cluster-src-1"
      })
      const sent = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const late = yield* Effect.fork(
        Effect.flip(
          zombie.transaction(
            zombie
              .send("fenced-out", { value: Buffer.from("late") })
              .pipe(Effect.zipRight(Deferred.succeed(sent, undefined)), Effect.zipRight(Deferred.await(release)))
          )
        )
      )
      yield* Deferred.await(sent)
      yield* fence("src", {}, 1)
      yield* Deferred.succeed(release, undefined)
      const error = yield* Fiber.join(late)
      assert.include(["PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH"], (error as { errorName?: string }).errorName)
      assert.deepStrictEqual(yield* valuesOf(bootstrap, "fenced-out"), [])

      // Kafka's record, read again by a new store
      const records = yield* readAll(bootstrap, "fencing-configs", "read_uncommitted")
      assert.deepStrictEqual(
        records.filter((r) => r.key?.startsWith("tasks-fencing-")).map((r) => [r.key, JSON.parse(r.value ?? "null")]),
        [
          ["tasks-fencing-src", { "task-count": 2 }],
          ["tasks-fencing-src", { "task-count": 1 }]
        ]
      )
      const again = yield* ConfigStore.make(worker)
      assert.strictEqual((yield* again.snapshot).taskCounts.get("src"), 1)
    })
  )
})
