import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Scope, Stream } from "effect"
import * as Admin from "../../src/client/Admin.js"
import * as Consumer from "../../src/client/Consumer.js"
import * as Producer from "../../src/client/Producer.js"
import { startEddy } from "./util.js"

const groupBroker = {
  extra: { "group.initial.rebalance.delay.ms": "0", "group.min.session.timeout.ms": "500" }
}

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

const waitUntil = (what: string, check: () => boolean, timeoutMs = 20_000) =>
  Effect.gen(function* () {
    const start = Date.now()
    while (!check()) {
      if (Date.now() - start > timeoutMs) return yield* Effect.dieMessage(`timed out waiting for ${what}`)
      yield* Effect.sleep(25)
    }
  })

const bytes = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b))

/**
 * A test assignor: each member announces a name in its user data; the leader gives every partition to the
 * member named "greedy" and tells each member, in its assignment user data, who got what.
 */
const greedy = (label: string, seen: Array<{ partitions: number; userData: string | null }>) =>
  ({
    name: "greedy",
    subscriptionUserData: () => Effect.succeed(bytes(label)),
    assign: ({ members, partitionCounts }) =>
      Effect.sync(() => {
        const winner = members.find((m) => text(m.userData) === "greedy") ?? members[0]!
        const all = [...partitionCounts].flatMap(([topic, n]) =>
          Array.from({ length: n }, (_, partition) => ({ topic, partition }))
        )
        return new Map(
          members.map((m) => [
            m.memberId,
            {
              partitions: m === winner ? all : [],
              userData: bytes(`${text(m.userData)}:${m === winner ? all.length : 0}`)
            }
          ])
        )
      }),
    onAssignment: (a) =>
      Effect.sync(() => void seen.push({ partitions: a.partitions.length, userData: text(a.userData) }))
  }) satisfies Consumer.PartitionAssignor

describe("Consumer: custom assignors and topic changes", () => {
  it.scoped("a custom assignor must be named in the strategy or given as an object", () =>
    Effect.gen(function* () {
      const e = yield* Effect.flip(Consumer.make({ "group.id": "g", "partition.assignment.strategy": "greedy" }))
      assert.match(e.message, /greedy/)
    })
  )

  it.scopedLive("the leader runs the custom assignor over every member's user data; members get their bytes", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy(groupBroker)
      const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
      yield* admin.createTopics([{ name: "custom", numPartitions: 3 }])
      const seenA: Array<{ partitions: number; userData: string | null }> = []
      const seenB: Array<{ partitions: number; userData: string | null }> = []
      const start = (label: string, seen: typeof seenA) =>
        Effect.gen(function* () {
          const scope = yield* Scope.make()
          const consumer = yield* Consumer.make({
            ...fast(bootstrap, "g-custom"),
            "partition.assignment.strategy": [greedy(label, seen)]
          }).pipe(Scope.extend(scope))
          yield* consumer.records("custom").pipe(Stream.runDrain, Effect.forkIn(scope))
          return { consumer, close: Scope.close(scope, Exit.void) }
        })
      const a = yield* start("modest", seenA)
      yield* waitUntil("a assigned", () => a.consumer.assignment().length === 3)
      assert.deepStrictEqual(seenA.at(-1), { partitions: 3, userData: "modest:3" })
      const b = yield* start("greedy", seenB)
      yield* waitUntil("b takes everything", () => b.consumer.assignment().length === 3)
      yield* waitUntil("a assigned nothing", () => seenA.at(-1)?.userData === "modest:0")
      assert.deepStrictEqual(a.consumer.assignment(), [])
      assert.deepStrictEqual(seenB.at(-1), { partitions: 3, userData: "greedy:3" })
      // enforceRebalance makes a new generation
      const generation = b.consumer.generationId()
      yield* a.consumer.enforceRebalance
      yield* waitUntil("a new generation", () => b.consumer.generationId() > generation)
      yield* b.close
      yield* waitUntil("a takes everything back", () => a.consumer.assignment().length === 3)
      yield* a.close
    })
  )

  it.scopedLive(
    "a member subscribed before its topic exists reads it once it is created; new partitions are assigned too",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddy(groupBroker)
        const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
        yield* admin.createTopics([{ name: "early", numPartitions: 1 }])
        const consumer = yield* Consumer.make({ ...fast(bootstrap, "g-late"), "metadata.max.age.ms": 300 })
        const received: Array<string> = []
        yield* consumer.stream(["early", "late"]).pipe(
          Stream.runForEach((r) => Effect.sync(() => received.push(`${r.topic}:${text(r.value)}`))),
          Effect.forkScoped
        )
        yield* waitUntil("early assigned", () => consumer.assignment().length === 1)
        yield* admin.createTopics([{ name: "late", numPartitions: 2 }])
        yield* waitUntil("late assigned", () => consumer.assignment().length === 3)
        const producer = yield* Producer.make({ "bootstrap.servers": bootstrap })
        yield* producer.send("late", { value: bytes("x"), partition: 1 })
        yield* waitUntil("record of the late topic", () => received.includes("late:x"))
        // the leader also notices a partition count change (at metadata.max.age.ms once every topic exists)
        yield* admin.createPartitions("late", 3)
        yield* waitUntil("the new partition assigned", () => consumer.assignment().length === 4)
        const fresh = yield* Producer.make({ "bootstrap.servers": bootstrap })
        yield* fresh.send("late", { value: bytes("y"), partition: 2 })
        yield* waitUntil("record of the new partition", () => received.includes("late:y"))
      })
  )
})
