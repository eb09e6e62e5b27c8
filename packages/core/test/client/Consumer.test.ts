import { assert, describe, it } from "@effect/vitest"
import { Cause, Chunk, Deferred, Effect, Exit, Fiber, Queue, Schema, Scope, Stream } from "effect"
import * as Admin from "../../src/client/Admin.js"
import * as Consumer from "../../src/client/Consumer.js"
import * as Producer from "../../src/client/Producer.js"
import * as Topic from "../../src/client/Topic.js"
import { startEddy } from "./util.js"

const groupBroker = {
  extra: { "group.initial.rebalance.delay.ms": "0", "group.min.session.timeout.ms": "500" }
}

/** Fast group settings for tests. */
const fast = (bootstrap: string, groupId: string): Consumer.ConsumerConfig => ({
  "bootstrap.servers": bootstrap,
  "group.id": groupId,
  "session.timeout.ms": 3000,
  "heartbeat.interval.ms": 100,
  "max.poll.interval.ms": 5000,
  "fetch.max.wait.ms": 100,
  "auto.offset.reset": "earliest",
  "retry.backoff.ms": 50
})

const text = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString())

/** Polls `check` every 25 ms until it holds (fails after `timeoutMs`). */
const waitUntil = (what: string, check: () => boolean, timeoutMs = 20_000) =>
  Effect.gen(function* () {
    const start = Date.now()
    while (!check()) {
      if (Date.now() - start > timeoutMs) return yield* Effect.dieMessage(`timed out waiting for ${what}`)
      yield* Effect.sleep(25)
    }
  })

const setup = (topic: string, partitions: number, count: number) =>
  Effect.gen(function* () {
    const { bootstrap } = yield* startEddy(groupBroker)
    const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
    yield* admin.createTopics([{ name: topic, numPartitions: partitions }])
    const producer = yield* Producer.make({ "bootstrap.servers": bootstrap, "linger.ms": 5 })
    const produce = (prefix: string, n: number) =>
      producer.sendBatch(
        topic,
        Array.from({ length: n }, (_, i) => ({ value: Buffer.from(`${prefix}-${i}`), partition: i % partitions }))
      )
    if (count > 0) yield* produce("r", count)
    return { bootstrap, producer, produce }
  })

/** A member in its own scope, reading `topic` into `received` until its scope closes. */
const startMember = (config: Consumer.ConsumerConfig, topic: string) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const consumer = yield* Consumer.make(config).pipe(Scope.extend(scope))
    const received: Array<string> = []
    yield* consumer.records(topic).pipe(
      Stream.runForEach((r) => Effect.sync(() => received.push(text(r.value)!))),
      Effect.forkIn(scope)
    )
    return { consumer, received, close: Scope.close(scope, Exit.void) }
  })

const partitionsOf = (c: Consumer.Consumer) => c.assignment().map((tp) => tp.partition)

describe("Consumer", () => {
  it.scoped("requires group.id and known assignors", () =>
    Effect.gen(function* () {
      const e1 = yield* Effect.flip(Consumer.make({ "bootstrap.servers": "127.0.0.1:1" }))
      assert.strictEqual(e1._tag, "ConsumerConfigError")
      assert.match(e1.message, /group\.id/)
      const e2 = yield* Effect.flip(
        Consumer.make({ "group.id": "g", "partition.assignment.strategy": "range,sticky-ish" })
      )
      assert.match(e2.message, /sticky-ish/)
    })
  )

  it.scopedLive("a single member gets every partition and reads every record", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* setup("single", 3, 30)
      const consumer = yield* Consumer.make(fast(bootstrap, "g-single"))
      const records = yield* consumer.records("single").pipe(Stream.take(30), Stream.runCollect)
      assert.deepStrictEqual(
        Chunk.toArray(records)
          .map((r) => text(r.value))
          .sort(),
        Array.from({ length: 30 }, (_, i) => `r-${i}`).sort()
      )
      assert.deepStrictEqual(partitionsOf(consumer), [0, 1, 2])
      assert.isAtLeast(consumer.generationId(), 1)
      assert.notStrictEqual(consumer.memberId(), "")
    })
  )

  it.scopedLive("offsets committed on close (and by commit()) are where a restarted member resumes", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* setup("resume", 3, 30)
      const config = { ...fast(bootstrap, "g-resume"), "enable.auto.commit": false }
      const first = yield* Effect.scoped(
        Effect.gen(function* () {
          const consumer = yield* Consumer.make(config)
          const got = yield* consumer.records("resume").pipe(Stream.take(8), Stream.runCollect)
          yield* consumer.commit
          const committed = yield* consumer.committed([0, 1, 2].map((partition) => ({ topic: "resume", partition })))
          // the stream ended normally after its 8th record, so all 8 count as consumed
          assert.strictEqual(
            committed.reduce((n, c) => n + Math.max(c.offset, 0), 0),
            8
          )
          const more = yield* consumer.records("resume").pipe(Stream.take(4), Stream.runCollect)
          return [...Chunk.toArray(got), ...Chunk.toArray(more)].map((r) => text(r.value)!)
        })
      )
      const second = yield* Effect.scoped(
        Effect.gen(function* () {
          const consumer = yield* Consumer.make(config)
          return yield* consumer.records("resume").pipe(Stream.take(18), Stream.runCollect)
        })
      )
      const all = [...first, ...Chunk.toArray(second).map((r) => text(r.value)!)]
      assert.strictEqual(new Set(all).size, 30, "no record twice")
    })
  )

  it.scopedLive("commitConsumedOnRevoke false: closing commits nothing the application did not commit", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* setup("norevoke", 2, 10)
      const config = { ...fast(bootstrap, "g-norevoke"), "enable.auto.commit": false, commitConsumedOnRevoke: false }
      const tps = [0, 1].map((partition) => ({ topic: "norevoke", partition }))
      const committed = yield* Effect.scoped(
        Effect.gen(function* () {
          const consumer = yield* Consumer.make(config)
          yield* consumer.records("norevoke").pipe(Stream.take(10), Stream.runDrain)
          yield* consumer.commitOffsets([{ topic: "norevoke", partition: 0, offset: 2 }])
          return consumer
        })
      ).pipe(Effect.flatMap(() => Effect.scoped(Effect.flatMap(Consumer.make(config), (c) => c.committed(tps)))))
      assert.deepStrictEqual(
        committed.map((c) => c.offset),
        [2, -1]
      )
    })
  )

  for (const strategy of ["range", "roundrobin", "cooperative-sticky"] as const) {
    it.scopedLive(
      `two members split the partitions (${strategy}) and one takes over when the other leaves`,
      () =>
        Effect.gen(function* () {
          const { bootstrap, produce } = yield* setup(`split-${strategy}`, 4, 0)
          const topic = `split-${strategy}`
          const config = { ...fast(bootstrap, `g-${strategy}`), "partition.assignment.strategy": [strategy] }
          const revoked: Array<number> = []
          const a = yield* startMember(
            {
              ...config,
              onPartitionsRevoked: (tps) => Effect.sync(() => revoked.push(...tps.map((tp) => tp.partition)))
            },
            topic
          )
          yield* waitUntil("a owns all", () => a.consumer.assignment().length === 4)
          const b = yield* startMember(config, topic)
          yield* waitUntil(
            "a split",
            () =>
              partitionsOf(a.consumer).length === 2 &&
              partitionsOf(b.consumer).length === 2 &&
              a.consumer.generationId() === b.consumer.generationId()
          )
          const pa = partitionsOf(a.consumer)
          const pb = partitionsOf(b.consumer)
          assert.deepStrictEqual([...pa, ...pb].sort(), [0, 1, 2, 3])
          if (strategy === "range")
            assert.includeDeepMembers(
              [
                [0, 1],
                [2, 3]
              ],
              [pa, pb]
            )
          if (strategy === "roundrobin")
            assert.includeDeepMembers(
              [
                [0, 2],
                [1, 3]
              ],
              [pa, pb]
            )
          if (strategy === "cooperative-sticky") {
            // cooperative: a gave up only the two partitions that moved
            assert.deepStrictEqual([...revoked].sort(), pb)
          }
          yield* produce("x", 40)
          yield* waitUntil("all read", () => a.received.length + b.received.length >= 40)
          assert.strictEqual(new Set([...a.received, ...b.received]).size, 40)
          assert.strictEqual(a.received.length + b.received.length, 40, "no record twice")
          assert.isTrue(a.received.every((v) => pa.includes(Number(v.split("-")[1]) % 4)))
          yield* b.close
          yield* waitUntil("a owns all again", () => a.consumer.assignment().length === 4)
          yield* produce("y", 8)
          yield* waitUntil("a reads the rest", () => a.received.filter((v) => v.startsWith("y-")).length === 8)
          yield* a.close
        }),
      60_000
    )
  }

  it.scopedLive("auto-commit commits the offsets of emitted records every auto.commit.interval.ms", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* setup("auto", 2, 10)
      const consumer = yield* Consumer.make({ ...fast(bootstrap, "g-auto"), "auto.commit.interval.ms": 100 })
      const seen: Array<string> = []
      yield* consumer.records("auto").pipe(
        Stream.runForEach((r) => Effect.sync(() => seen.push(text(r.value)!))),
        Effect.forkScoped
      )
      yield* waitUntil("all read", () => seen.length === 10)
      const tps = [0, 1].map((partition) => ({ topic: "auto", partition }))
      // the stream is waiting for an 11th record: the 10th counts as consumed once it was pulled past
      let offsets: ReadonlyArray<Consumer.TopicPartitionOffset> = []
      yield* waitUntil("committed", () => offsets.reduce((n, o) => n + o.offset, 0) === 10).pipe(
        Effect.raceFirst(
          Effect.forever(
            Effect.flatMap(consumer.committed(tps), (o) => Effect.sync(() => (offsets = o))).pipe(Effect.delay(50))
          )
        )
      )
      assert.deepStrictEqual(
        offsets.map((o) => o.offset),
        [5, 5]
      )
    })
  )

  it.scopedLive("a static member (group.instance.id) restarts without a rebalance and keeps its partitions", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* setup("static", 4, 0)
      const config = (id: string) => ({ ...fast(bootstrap, "g-static"), "group.instance.id": id })
      const a = yield* startMember(config("a"), "static")
      const b1 = yield* startMember(config("b"), "static")
      yield* waitUntil("split", () => partitionsOf(a.consumer).length === 2 && partitionsOf(b1.consumer).length === 2)
      const generation = a.consumer.generationId()
      const before = partitionsOf(b1.consumer)
      yield* b1.close // static members do not leave the group on close
      const b2 = yield* startMember(config("b"), "static")
      yield* waitUntil("b back", () => partitionsOf(b2.consumer).length === 2)
      assert.deepStrictEqual(partitionsOf(b2.consumer), before)
      assert.strictEqual(b2.consumer.generationId(), generation)
      assert.strictEqual(a.consumer.generationId(), generation)
      yield* b2.close
      yield* a.close
    })
  )

  it.scopedLive("a static member fenced by a newer one with its group.instance.id fails its stream", () =>
    Effect.gen(function* () {
      const { bootstrap, produce } = yield* setup("fenced", 2, 4)
      const config = { ...fast(bootstrap, "g-fenced"), "group.instance.id": "same" }
      const old = yield* Consumer.make(config)
      const received: Array<string> = []
      const stream = yield* old.records("fenced").pipe(
        Stream.runForEach((r) => Effect.sync(() => received.push(text(r.value)!))),
        Effect.exit,
        Effect.fork
      )
      yield* waitUntil("the old member reads", () => received.length === 4)
      // a second process with the same instance id takes the member's place; the old one is fenced on its
      // next heartbeat, and its stream (waiting in a fetch round) ends with FENCED_INSTANCE_ID
      const newer = yield* startMember(config, "fenced")
      yield* produce("later", 2)
      const exit = yield* stream.await.pipe(Effect.flatten, Effect.timeout(15_000))
      assert.isTrue(Exit.isFailure(exit), "the fenced member's stream ends with a failure")
      if (Exit.isFailure(exit)) assert.match(String(Cause.squash(exit.cause)), /FENCED_INSTANCE_ID|fenced/i)
      yield* newer.close
    })
  )

  it.scopedLive(
    "a member whose stream is not pulled within max.poll.interval.ms leaves; it rejoins on the next pull",
    () =>
      Effect.gen(function* () {
        const { bootstrap, produce } = yield* setup("slow", 2, 0)
        const config = {
          ...fast(bootstrap, "g-slow"),
          "max.poll.interval.ms": 800,
          "partition.assignment.strategy": "range"
        }
        const fastMember = yield* startMember(config, "slow")
        const scope = yield* Scope.make()
        const slow = yield* Consumer.make(config).pipe(Scope.extend(scope))
        let slowRead = 0
        yield* slow.records("slow").pipe(
          Stream.runForEach(() =>
            Effect.sync(() => slowRead++).pipe(Effect.zipRight(slowRead === 1 ? Effect.sleep(4000) : Effect.void))
          ),
          Effect.forkIn(scope)
        )
        yield* waitUntil(
          "split",
          () => partitionsOf(fastMember.consumer).length === 1 && partitionsOf(slow).length === 1
        )
        yield* produce("s", 10)
        // the slow member is stuck in its first record: it leaves, the other member takes both partitions
        yield* waitUntil("taken over", () => partitionsOf(fastMember.consumer).length === 2)
        assert.deepStrictEqual(partitionsOf(slow), [])
        // after its sleep, the slow member pulls again and rejoins
        yield* waitUntil("rejoined", () => partitionsOf(slow).length === 1)
        yield* Scope.close(scope, Exit.void)
        yield* fastMember.close
      }),
    30_000
  )

  it.scopedLive("heartbeats continue while a rebalance callback runs longer than the session timeout", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* setup("slowcb", 1, 3)
      let calls = 0
      const consumer = yield* Consumer.make({
        ...fast(bootstrap, "g-slowcb"),
        "session.timeout.ms": 1000,
        onPartitionsAssigned: () => Effect.sleep(1800).pipe(Effect.zipRight(Effect.sync(() => calls++)))
      })
      const q = yield* Queue.unbounded<unknown>()
      yield* consumer.records("slowcb").pipe(
        Stream.runForEach((r) => Queue.offer(q, r)),
        Effect.forkScoped
      )
      assert.strictEqual(Chunk.size(yield* Queue.takeN(q, 3)), 3)
      const generation = consumer.generationId()
      assert.strictEqual(generation, 1)
      yield* Effect.sleep(1200)
      assert.strictEqual(consumer.generationId(), generation, "no rebalance: the member never expired")
      assert.strictEqual(calls, 1)
    })
  )

  it.scopedLive("seek, pause and resume", () =>
    Effect.gen(function* () {
      const { bootstrap, produce } = yield* setup("sp", 2, 20)
      const consumer = yield* Consumer.make(fast(bootstrap, "g-sp"))
      const q = yield* Queue.unbounded<{ partition: number; value: string; offset: number }>()
      yield* consumer.records("sp").pipe(
        Stream.runForEach((r) => Queue.offer(q, { partition: r.partition, value: text(r.value)!, offset: r.offset })),
        Effect.forkScoped
      )
      const first = yield* Queue.takeN(q, 20)
      assert.strictEqual(Chunk.size(first), 20)
      yield* consumer.pause([{ topic: "sp", partition: 0 }])
      yield* produce("p", 10)
      const five = Chunk.toArray(yield* Queue.takeN(q, 5))
      assert.isTrue(five.every((r) => r.partition === 1))
      yield* Effect.sleep(400)
      assert.strictEqual(yield* Queue.size(q), 0, "nothing from the paused partition")
      yield* consumer.resume([{ topic: "sp", partition: 0 }])
      const resumed = Chunk.toArray(yield* Queue.takeN(q, 5))
      assert.deepStrictEqual(
        resumed.map((r) => r.value),
        [0, 2, 4, 6, 8].map((i) => `p-${i}`)
      )
      yield* consumer.seek({ topic: "sp", partition: 1 }, 3)
      const again = Chunk.toArray(yield* Queue.takeN(q, 12))
      assert.deepStrictEqual(
        again.map((r) => [r.partition, r.offset]),
        Array.from({ length: 12 }, (_, i) => [1, i + 3])
      )
      yield* consumer.seek({ topic: "sp", partition: 0 }, "earliest")
      const fromStart = yield* Queue.take(q)
      assert.deepStrictEqual([fromStart.partition, fromStart.offset], [0, 0])
    })
  )

  it.scopedLive("typed topics decode keys and values; undecodable records fail the stream", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* setup("orders", 1, 0)
      class Order extends Schema.Class<Order>("Order")({ id: Schema.String, amount: Schema.Number }) {}
      const orders = Topic.make("orders", { key: Schema.String, value: Order })
      const producer = yield* Producer.make({ "bootstrap.servers": bootstrap })
      yield* producer.sendBatch(orders, [
        { key: "c-1", value: new Order({ id: "o-1", amount: 3 }) },
        { key: "c-2", value: new Order({ id: "o-2", amount: 5 }) }
      ])
      yield* producer.send("orders", { value: Buffer.from("not json") })
      const consumer = yield* Consumer.make(fast(bootstrap, "g-typed"))
      const got = yield* consumer.records(orders).pipe(Stream.take(2), Stream.runCollect)
      const [first, second] = Chunk.toArray(got)
      assert.instanceOf(first!.value, Order)
      assert.strictEqual(first!.key, "c-1")
      assert.strictEqual(second!.value.amount, 5)
      const error = yield* consumer.records(orders).pipe(Stream.runDrain, Effect.flip)
      assert.strictEqual(error._tag, "RecordDecodeError")
    })
  )

  it.scopedLive("stream reads several topics with one subscription", () =>
    Effect.gen(function* () {
      const { bootstrap, producer } = yield* setup("multi-a", 2, 4)
      yield* producer.sendBatch("multi-b", [{ value: Buffer.from("b-0") }, { value: Buffer.from("b-1") }])
      const consumer = yield* Consumer.make({
        ...fast(bootstrap, "g-multi"),
        "partition.assignment.strategy": "roundrobin"
      })
      const got = yield* consumer
        .stream(["multi-a", Topic.stringTopic("multi-b")])
        .pipe(Stream.take(6), Stream.runCollect)
      const values = Chunk.toArray(got).map((r) => (typeof r.value === "string" ? r.value : text(r.value)))
      assert.deepStrictEqual(values.sort(), ["b-0", "b-1", "r-0", "r-1", "r-2", "r-3"])
    })
  )

  it.scopedLive(
    "batches: one element per partition run; consumed batch by batch, no record twice after a restart",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* setup("bat", 3, 30)
        const config = { ...fast(bootstrap, "g-bat"), "enable.auto.commit": false }
        const tps = [0, 1, 2].map((partition) => ({ topic: "bat", partition }))
        const first = yield* Effect.scoped(
          Effect.gen(function* () {
            const consumer = yield* Consumer.make(config)
            const got = Chunk.toArray(yield* consumer.batches(["bat"]).pipe(Stream.take(2), Stream.runCollect))
            for (const b of got) {
              assert.isAbove(b.records.length, 0)
              for (const r of b.records) assert.deepStrictEqual([r.topic, r.partition], [b.topic, b.partition])
              // offsets of a run are consecutive
              assert.deepStrictEqual(
                b.records.map((r) => r.offset),
                b.records.map((_, i) => b.records[0]!.offset + i)
              )
            }
            yield* consumer.commit
            const committed = yield* consumer.committed(tps)
            // the stream ended normally after its second batch: both count as consumed, nothing else
            assert.strictEqual(
              committed.reduce((n, c) => n + Math.max(c.offset, 0), 0),
              got.reduce((n, b) => n + b.records.length, 0)
            )
            return got.flatMap((b) => b.records.map((r) => text(r.value)!))
          })
        )
        const second = yield* Effect.scoped(
          Effect.gen(function* () {
            const consumer = yield* Consumer.make(config)
            const out: Array<string> = []
            yield* consumer.batches(["bat"]).pipe(
              Stream.tap((b) => Effect.sync(() => out.push(...b.records.map((r) => text(r.value)!)))),
              Stream.takeUntil(() => first.length + out.length >= 30),
              Stream.runDrain
            )
            return out
          })
        )
        const all = [...first, ...second]
        assert.strictEqual(all.length, 30)
        assert.strictEqual(new Set(all).size, 30, "no record twice")
      })
  )

  it.scopedLive("batches: the records before an undecodable one come as a batch, then the stream fails", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* setup("bat-typed", 1, 0)
      const numbers = Topic.make("bat-typed", { key: Schema.String, value: Schema.Number })
      const producer = yield* Producer.make({ "bootstrap.servers": bootstrap })
      yield* producer.sendBatch(numbers, [
        { key: "a", value: 1 },
        { key: "b", value: 2 }
      ])
      yield* producer.send("bat-typed", { value: Buffer.from("not json") })
      yield* producer.send(numbers, { key: "c", value: 3 })
      const consumer = yield* Consumer.make(fast(bootstrap, "g-bat-typed"))
      const seen: Array<number> = []
      const error = yield* consumer.batches([numbers]).pipe(
        Stream.runForEach((b) => Effect.sync(() => seen.push(...b.records.map((r) => r.value)))),
        Effect.flip
      )
      assert.strictEqual(error._tag, "RecordDecodeError")
      if (error._tag === "RecordDecodeError") assert.strictEqual(error.offset, 2)
      assert.deepStrictEqual(seen, [1, 2])
      // the bad record is where the group resumes: the batch before it was consumed
      yield* consumer.commit
      const [committed] = yield* consumer.committed([{ topic: "bat-typed", partition: 0 }])
      assert.strictEqual(committed!.offset, 2)
    })
  )

  it.scopedLive("forEach: a record counts as consumed once f succeeded on it; a failure of f ends forEach there", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* setup("each", 2, 20)
      const config = { ...fast(bootstrap, "g-each"), "enable.auto.commit": false }
      const tps = [0, 1].map((partition) => ({ topic: "each", partition }))
      const seen: Array<string> = []
      // f fails on the 5th record of partition 1 (r-9): four records there and every one of partition 0 before
      // it that f finished count as consumed, r-9 does not
      const failure = yield* Effect.scoped(
        Effect.gen(function* () {
          const consumer = yield* Consumer.make(config)
          const error = yield* consumer
            .forEach(["each"], (r) =>
              text(r.value) === "r-9"
                ? Effect.fail("boom" as const)
                : Effect.sync(() => void seen.push(`${r.partition}:${text(r.value)}`))
            )
            .pipe(Effect.flip)
          const committed = yield* Effect.zipRight(consumer.commit, consumer.committed(tps))
          return { error, committed }
        })
      )
      assert.strictEqual(failure.error, "boom")
      const p1 = seen.filter((s) => s.startsWith("1:"))
      assert.deepStrictEqual(p1, ["1:r-1", "1:r-3", "1:r-5", "1:r-7"])
      assert.strictEqual(failure.committed[1]!.offset, 4)
      assert.strictEqual(failure.committed[0]!.offset, seen.length - 4)
      // a restarted member resumes at r-9 and reads each record exactly once more, until interrupted
      const rest: Array<string> = []
      yield* Effect.scoped(
        Effect.gen(function* () {
          const consumer = yield* Consumer.make(config)
          const fiber = yield* Effect.fork(
            consumer.forEach(["each"], (r) => Effect.sync(() => void rest.push(text(r.value)!)))
          )
          yield* waitUntil("the other records", () => seen.length + rest.length >= 20)
          yield* Effect.sleep(200)
          yield* Fiber.interrupt(fiber)
          yield* consumer.commit
        })
      )
      assert.include(rest, "r-9")
      assert.strictEqual(new Set([...seen.map((s) => s.slice(2)), ...rest]).size, 20)
      assert.strictEqual(seen.length + rest.length, 20, "no record twice")
    })
  )

  it.scopedLive("forEach decodes typed records and fails with RecordDecodeError at an undecodable one", () =>
    Effect.gen(function* () {
      const { bootstrap, producer } = yield* setup("each-typed", 1, 0)
      const nums = Topic.make("each-typed", { key: Schema.String, value: Schema.Struct({ n: Schema.Number }) })
      yield* producer.sendBatch(nums, [
        { key: "a", value: { n: 1 } },
        { key: "b", value: { n: 2 } }
      ])
      yield* producer.send("each-typed", { value: Buffer.from("not json") })
      const consumer = yield* Consumer.make(fast(bootstrap, "g-each-typed"))
      const got: Array<number> = []
      const error = yield* consumer
        .forEach([nums], (r) => Effect.sync(() => void got.push(r.value.n)))
        .pipe(Effect.flip)
      assert.deepStrictEqual(got, [1, 2])
      assert.strictEqual(error._tag, "RecordDecodeError")
      yield* consumer.commit
      const [committed] = yield* consumer.committed([{ topic: "each-typed", partition: 0 }])
      assert.strictEqual(committed!.offset, 2)
    })
  )

  it.scopedLive("the element a stream or forEach failed on is read again by the member's next stream", () =>
    Effect.gen(function* () {
      const { bootstrap, produce } = yield* setup("again", 1, 1)
      const consumer = yield* Consumer.make({ ...fast(bootstrap, "g-again"), "enable.auto.commit": false })
      // a stream that takes r-0 and holds on to it keeps the topic subscribed, so closing the streams below
      // does not rejoin the group (a rejoin would start again from the committed offset anyway)
      const held = yield* Deferred.make<void>()
      yield* consumer.records("again").pipe(
        Stream.runForEach(() => Effect.zipRight(Deferred.succeed(held, undefined), Effect.never)),
        Effect.forkScoped
      )
      yield* Deferred.await(held)
      yield* produce("s", 10)
      const failOn = (value: string) => (r: { readonly value: Uint8Array | null }) =>
        text(r.value) === value ? Effect.fail("boom" as const) : Effect.void
      yield* consumer.records("again").pipe(Stream.runForEach(failOn("s-3")), Effect.flip)
      const first = yield* consumer.records("again").pipe(Stream.take(1), Stream.runCollect)
      assert.deepStrictEqual(
        Chunk.toArray(first).map((r) => text(r.value)),
        ["s-3"]
      )
      // the stream above ended normally after s-3: forEach goes on from s-4, fails on s-6 and leaves it
      yield* consumer.forEach(["again"], failOn("s-6")).pipe(Effect.flip)
      const second = yield* consumer.records("again").pipe(Stream.take(1), Stream.runCollect)
      assert.deepStrictEqual(
        Chunk.toArray(second).map((r) => text(r.value)),
        ["s-6"]
      )
      // a failed batch comes again whole
      const batch = yield* consumer.batches(["again"]).pipe(
        Stream.runForEach(() => Effect.fail("boom" as const)),
        Effect.flip,
        Effect.zipRight(consumer.batches(["again"]).pipe(Stream.take(1), Stream.runCollect))
      )
      assert.deepStrictEqual(
        Chunk.toArray(batch).flatMap((b) => b.records.map((r) => text(r.value))),
        ["s-7", "s-8", "s-9"]
      )
      yield* consumer.commit
      const [committed] = yield* consumer.committed([{ topic: "again", partition: 0 }])
      assert.strictEqual(committed!.offset, 11)
    })
  )
})
