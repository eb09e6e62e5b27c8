/**
 * The admin client's group operations against a real broker, with group state made by kafkajs 2.2.4 consumers.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Kafka, logLevel } from "kafkajs"
import * as Admin from "../../src/client/Admin.js"
import type * as ClientError from "../../src/client/ClientError.js"
import { startEddy } from "./util.js"

const groupSettings = { "group.initial.rebalance.delay.ms": "0", "group.min.session.timeout.ms": "500" }

const waitUntil = <A, E>(what: string, effect: Effect.Effect<A, E>, done: (a: A) => boolean) =>
  Effect.gen(function* () {
    const deadline = Date.now() + 20_000
    while (true) {
      const a = yield* effect
      if (done(a)) return a
      if (Date.now() > deadline) return yield* Effect.die(new Error(`timed out waiting for ${what}`))
      yield* Effect.sleep("50 millis")
    }
  })

const errorName = (e: unknown) => (e as ClientError.KafkaError).errorName

describe("Admin groups", () => {
  it.scopedLive(
    "lists, describes (decoded assignments), reports lag, alters, deletes offsets and deletes groups",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddy({ extra: groupSettings })
        const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
        yield* admin.createTopics([{ name: "orders", numPartitions: 2 }])
        const kafka = new Kafka({ clientId: "groups-test", brokers: [bootstrap], logLevel: logLevel.NOTHING })
        const received: Array<string> = []
        const consumer = kafka.consumer({
          groupId: "billing",
          sessionTimeout: 3000,
          heartbeatInterval: 200,
          maxWaitTimeInMs: 100
        })
        yield* Effect.addFinalizer(() => Effect.promise(() => consumer.disconnect().catch(() => undefined)))
        yield* Effect.promise(async () => {
          const producer = kafka.producer()
          await producer.connect()
          await producer.send({
            topic: "orders",
            messages: Array.from({ length: 6 }, (_, i) => ({ partition: i % 2, value: `o${i}` }))
          })
          await producer.disconnect()
          await consumer.connect()
          await consumer.subscribe({ topic: "orders", fromBeginning: true })
          await consumer.run({
            eachMessage: async ({ message }) => {
              received.push(message.value!.toString())
            }
          })
        })
        // kafkajs commits after each batch
        const committed = yield* waitUntil(
          "commits",
          admin.listGroupOffsets("billing"),
          (o) => o.length === 2 && o.every((p) => p.offset === 3)
        )
        assert.deepStrictEqual(
          committed.map((o) => [o.topic, o.partition, o.offset]),
          [
            ["orders", 0, 3],
            ["orders", 1, 3]
          ]
        )
        assert.strictEqual(received.length, 6)

        const listed = yield* admin.listGroups()
        assert.deepInclude(listed, { groupId: "billing", protocolType: "consumer", groupState: "Stable" })
        const [group] = yield* admin.describeGroups(["billing"])
        assert.strictEqual(group!.groupState, "Stable")
        assert.strictEqual(group!.protocolType, "consumer")
        assert.strictEqual(group!.members.length, 1)
        assert.strictEqual(group!.members[0]!.clientId, "groups-test")
        assert.deepStrictEqual(group!.members[0]!.assignment, [
          { topic: "orders", partition: 0 },
          { topic: "orders", partition: 1 }
        ])

        const lag = yield* admin.groupLag("billing")
        assert.deepStrictEqual(
          lag.map((p) => [p.partition, p.committedOffset, p.logEndOffset, p.lag, p.memberId]),
          [
            [0, 3, 3, 0, group!.members[0]!.memberId],
            [1, 3, 3, 0, group!.members[0]!.memberId]
          ]
        )

        // an active group's offsets and the group itself stay
        const active = yield* Effect.flip(
          admin.alterGroupOffsets("billing", [{ topic: "orders", partition: 0, offset: 0 }])
        )
        assert.strictEqual(errorName(active), "NON_EMPTY_GROUP")
        assert.include(active.message, "Stable")
        assert.strictEqual(errorName(yield* Effect.flip(admin.deleteGroups(["billing"]))), "NON_EMPTY_GROUP")

        yield* Effect.promise(() => consumer.disconnect())
        yield* waitUntil("an empty group", admin.describeGroups(["billing"]), ([g]) => g!.members.length === 0)
        yield* admin.alterGroupOffsets("billing", [
          { topic: "orders", partition: 0, offset: 0 },
          { topic: "orders", partition: 1, offset: 1 }
        ])
        assert.deepStrictEqual(
          (yield* admin.groupLag("billing")).map((p) => [
            p.partition,
            p.committedOffset,
            p.logEndOffset,
            p.lag,
            p.memberId
          ]),
          [
            [0, 0, 3, 3, null],
            [1, 1, 3, 2, null]
          ]
        )
        assert.deepStrictEqual(
          (yield* admin.listGroupOffsets("billing", ["orders"])).map((o) => o.offset),
          [0, 1]
        )

        yield* admin.deleteGroupOffsets("billing", [{ topic: "orders", partition: 1 }])
        assert.deepStrictEqual(
          (yield* admin.listGroupOffsets("billing")).map((o) => o.partition),
          [0]
        )

        yield* admin.deleteGroups(["billing"])
        assert.notInclude(
          (yield* admin.listGroups()).map((g) => g.groupId),
          "billing"
        )
        const [gone] = yield* admin.describeGroups(["billing"])
        assert.strictEqual(gone!.groupState, "Dead")
        assert.deepStrictEqual(yield* admin.listGroupOffsets("billing"), [])
        assert.strictEqual(errorName(yield* Effect.flip(admin.deleteGroups(["billing"]))), "GROUP_ID_NOT_FOUND")
      }),
    30_000
  )

  it.scopedLive("commits offsets for a new group standalone, which groupLag reports", () =>
    Effect.gen(function* () {
      const { bootstrap } = yield* startEddy({ extra: groupSettings })
      const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
      yield* admin.createTopics([{ name: "events", numPartitions: 1 }])
      assert.deepStrictEqual(yield* admin.listGroupOffsets("fresh"), [])
      yield* admin.alterGroupOffsets("fresh", [{ topic: "events", partition: 0, offset: 0, metadata: "cli" }])
      const [o] = yield* admin.listGroupOffsets("fresh")
      assert.deepStrictEqual([o!.offset, o!.metadata], [0, "cli"])
      assert.include(
        (yield* admin.listGroups()).map((g) => g.groupId),
        "fresh"
      )
      assert.deepStrictEqual(
        (yield* admin.groupLag("fresh")).map((p) => [p.topic, p.partition, p.committedOffset, p.logEndOffset, p.lag]),
        [["events", 0, 0, 0, 0]]
      )
    })
  )
})
