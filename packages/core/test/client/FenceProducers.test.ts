/**
 * `Admin.fenceProducers` (KIP-618) against a real Eddy broker: a fenced producer's open transaction is
 * aborted and its commit fails; the fenced ids get a bumped epoch; a new producer of the same id works.
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Deferred, Effect, Fiber, Stream } from "effect"
import * as Admin from "../../src/client/Admin.js"
import * as Fetcher from "../../src/client/Fetcher.js"
import * as Producer from "../../src/client/Producer.js"
import { startEddy } from "./util.js"

const text = (b: Uint8Array | null) => (b === null ? "" : Buffer.from(b).toString())

const readCommittedUntil = (bootstrap: string, topic: string, last: string) =>
  Effect.scoped(
    Effect.gen(function* () {
      const fetcher = yield* Fetcher.make({
        "bootstrap.servers": bootstrap,
        "fetch.max.wait.ms": 50,
        "isolation.level": "read_committed"
      })
      const records = yield* fetcher.fetch(topic, [{ partition: 0, offset: "earliest" }]).pipe(
        Stream.takeUntil((r) => text(r.value) === last),
        Stream.runCollect,
        Effect.map(Chunk.toArray)
      )
      return records.map((r) => text(r.value))
    })
  )

describe("Admin.fenceProducers", { timeout: 60_000 }, () => {
  it.scopedLive("fences an open transaction: its commit fails and its records stay invisible to read_committed", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy()
      const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
      yield* admin.createTopics([{ name: "fz", numPartitions: 1 }])
      const zombie = yield* Producer.make({ "bootstrap.servers": bootstrap, "transactional.id": "conn-src-0" })
      const send = (p: Producer.Producer, v: string) => p.send("fz", { value: Buffer.from(v), partition: 0 })
      yield* zombie.transaction(send(zombie, "z1"))
      const before = zombie.idempotence()!

      // the zombie has sent into an open transaction when the fence happens
      const sent = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const open = yield* Effect.fork(
        Effect.flip(
          zombie.transaction(
            send(zombie, "z2").pipe(
              Effect.zipRight(Deferred.succeed(sent, undefined)),
              Effect.zipRight(Deferred.await(release))
            )
          )
        )
      )
      yield* Deferred.await(sent)
      const fenced = yield* admin.fenceProducers(["conn-src-0", "conn-src-1"])
      assert.deepStrictEqual(
        fenced.map((f) => f.transactionalId),
        ["conn-src-0", "conn-src-1"]
      )
      assert.strictEqual(fenced[0]!.producerId, before.producerId)
      assert.isAbove(fenced[0]!.producerEpoch, before.producerEpoch)
      yield* Deferred.succeed(release, undefined)
      const error = yield* Fiber.join(open)
      assert.include(["PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH"], (error as { errorName?: string }).errorName)

      const fresh = yield* Producer.make({ "bootstrap.servers": bootstrap, "transactional.id": "conn-src-0" })
      yield* fresh.transaction(send(fresh, "f1"))
      assert.deepStrictEqual(yield* readCommittedUntil(bootstrap, "fz", "f1"), ["z1", "f1"])
    })
  )
})
