import { assert, describe, it } from "@effect/vitest"
import { Cause, Deferred, Effect, Exit, Fiber } from "effect"
import * as PartitionReplica from "../../src/broker/PartitionReplica.js"
import * as LogStorage from "../../src/log/LogStorage.js"
import { batch } from "./produceFetch.js"

const openLog = (partition = 0) => Effect.flatMap(LogStorage.LogStorage, (s) => s.open({ topic: "t", partition }))

describe("PartitionReplica", () => {
  it.scoped("refuses commands with ReplicaBusy when the mailbox is full instead of waiting", () =>
    Effect.gen(function* () {
      const log = yield* openLog()
      // the actor is not running: nothing drains the mailbox
      const { replica } = yield* PartitionReplica.make({ topic: "t", partition: 0 }, log, { mailboxCapacity: 2 })
      const waiter = yield* Deferred.make<void>()
      yield* replica.park(0, waiter)
      yield* replica.park(0, waiter)
      const third = yield* Effect.exit(replica.park(0, waiter))
      assert.isTrue(Exit.isFailure(third))
      if (Exit.isFailure(third)) {
        const e = Cause.failureOption(third.cause)
        assert.strictEqual(e._tag === "Some" ? e.value._tag : "none", "ReplicaBusy")
        assert.strictEqual(e._tag === "Some" ? e.value.errorCode : 0, 7)
      }
      const append = yield* Effect.exit(replica.append([batch(["x"])]))
      assert.isTrue(Exit.isFailure(append))
    }).pipe(Effect.provide(LogStorage.layerMemory()))
  )

  it.scoped("advances the high watermark on append and wakes parked waiters", () =>
    Effect.gen(function* () {
      const log = yield* openLog()
      const { replica, run } = yield* PartitionReplica.make({ topic: "t", partition: 0 }, log)
      yield* Effect.forkScoped(run)
      const waiter = yield* Deferred.make<void>()
      yield* replica.park(0, waiter)
      assert.isFalse(yield* Deferred.isDone(waiter))
      const r = yield* replica.append([batch(["a", "b"])])
      assert.strictEqual(r.baseOffset, 0)
      yield* Deferred.await(waiter)
      assert.strictEqual(replica.highWatermark(), 2)
      // a waiter parked below the high watermark completes at once
      const late = yield* Deferred.make<void>()
      yield* replica.park(1, late)
      yield* Deferred.await(late)
    }).pipe(Effect.provide(LogStorage.layerMemory()))
  )

  it.scoped("a command that dies fails only its caller; the actor and other partitions keep serving", () =>
    Effect.gen(function* () {
      const real = yield* openLog(0)
      let failures = 1
      const flaky = new Proxy(real, {
        get: (target, prop, receiver) => {
          if (prop === "append") {
            return (...args: Parameters<typeof real.append>) =>
              failures-- > 0 ? Effect.die(new Error("disk exploded")) : target.append(...args)
          }
          const v = Reflect.get(target, prop, receiver)
          return typeof v === "function" ? v.bind(target) : v
        }
      })
      const a = yield* PartitionReplica.make({ topic: "t", partition: 0 }, flaky)
      const b = yield* PartitionReplica.make({ topic: "t", partition: 1 }, yield* openLog(1))
      const fa = yield* Effect.forkScoped(a.run)
      yield* Effect.forkScoped(b.run)
      const first = yield* Effect.exit(a.replica.append([batch(["boom"])]))
      assert.isTrue(Exit.isFailure(first) && Cause.isDie(first.cause))
      assert.strictEqual((yield* b.replica.append([batch(["fine"])])).baseOffset, 0)
      assert.strictEqual((yield* a.replica.append([batch(["again"])])).baseOffset, 0)
      assert.isTrue((yield* Fiber.poll(fa))._tag === "None", "the actor is still running")
      // stop fails queued commands and refuses later ones with UNKNOWN_TOPIC_OR_PARTITION
      yield* a.replica.stop
      const after = yield* Effect.exit(a.replica.append([batch(["late"])]))
      assert.isTrue(Exit.isFailure(after))
    }).pipe(Effect.provide(LogStorage.layerMemory()))
  )

  it.scoped("appends queued together are written as one log append and answered each with its own offsets", () =>
    Effect.gen(function* () {
      const real = yield* openLog()
      let appends = 0
      const counted = new Proxy(real, {
        get: (target, prop, receiver) => {
          if (prop === "append") {
            return (...args: Parameters<typeof real.append>) => {
              appends++
              return target.append(...args)
            }
          }
          const v = Reflect.get(target, prop, receiver)
          return typeof v === "function" ? v.bind(target) : v
        }
      })
      const { replica, run } = yield* PartitionReplica.make({ topic: "t", partition: 0 }, counted)
      // queued before the actor starts: it takes all three at once
      const r1 = yield* replica.offerAppend([batch(["a", "b"])])
      const waiter = yield* Deferred.make<void>()
      yield* replica.park(2, waiter)
      const r2 = yield* replica.offerAppend([batch(["c"])])
      const r3 = yield* replica.offerAppend([batch(["d", "e", "f"])])
      yield* Effect.forkScoped(run)
      const [a, b, c] = [yield* Deferred.await(r1), yield* Deferred.await(r2), yield* Deferred.await(r3)]
      assert.deepStrictEqual(
        [a, b, c].map((r) => [r.baseOffset, r.lastOffset]),
        [
          [0, 1],
          [2, 2],
          [3, 5]
        ]
      )
      assert.strictEqual(appends, 2, "the first append alone (before the park), the other two together")
      yield* Deferred.await(waiter)
      assert.strictEqual(replica.highWatermark(), 6)
      const read = yield* replica.read(0, 1 << 20, true)
      assert.isTrue(read.records.length > 0)
    }).pipe(Effect.provide(LogStorage.layerMemory()))
  )

  it.scoped(
    "a checkpointed high watermark: clamped to the log, kept while leaderless and by a leader whose ISR lags",
    () =>
      Effect.gen(function* () {
        const log = yield* openLog()
        const seed = yield* PartitionReplica.make({ topic: "t", partition: 0 }, log, { brokerId: 1 })
        const seeding = yield* Effect.forkScoped(seed.run)
        yield* seed.replica.append([batch(["a", "b", "c", "d", "e"])])
        yield* seed.replica.stop
        yield* Fiber.interrupt(seeding)
        // above the log end: clamped to it; below: kept
        const high = yield* PartitionReplica.make({ topic: "t", partition: 0 }, log, { brokerId: 1, highWatermark: 9 })
        assert.strictEqual(high.replica.highWatermark(), 5)
        const { replica, run } = yield* PartitionReplica.make({ topic: "t", partition: 0 }, log, {
          brokerId: 1,
          highWatermark: 3
        })
        yield* Effect.forkScoped(run)
        assert.strictEqual(replica.highWatermark(), 3)
        assert.strictEqual(log.highWatermark, 3)
        // leaderless until told its role: client writes are refused
        assert.isFalse(replica.isLeader())
        assert.strictEqual(replica.leaderId(), -1)
        const refused = yield* Effect.exit(replica.append([batch(["x"])]))
        assert.isTrue(Exit.isFailure(refused))
        // a leader whose other ISR members have not fetched keeps it, then follows their log ends
        yield* replica.becomeLeader({ leaderEpoch: 1, partitionEpoch: 1, replicas: [1, 2], isr: [1, 2] })
        assert.isTrue(replica.isLeader())
        assert.strictEqual(replica.highWatermark(), 3)
        yield* replica.followerFetched(2, 2)
        yield* replica.followerFetched(2, 4)
        yield* replica.becomeLeader({ leaderEpoch: 1, partitionEpoch: 1, replicas: [1, 2], isr: [1, 2] })
        assert.strictEqual(replica.highWatermark(), 4)
        // the sole ISR member: its log end
        yield* replica.becomeLeader({ leaderEpoch: 2, partitionEpoch: 2, replicas: [1], isr: [1] })
        assert.strictEqual(replica.highWatermark(), 5)
      }).pipe(Effect.provide(LogStorage.layerMemory()))
  )
})
