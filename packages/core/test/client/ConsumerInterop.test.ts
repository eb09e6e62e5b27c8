/**
 * An Eddy consumer and a kafkajs 2.2.4 consumer in the same group: the partitions are split between them
 * whichever member leads (kafkajs's round-robin assigner, registered under Kafka's name `roundrobin`), and
 * every record is read once.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Scope, Stream } from "effect"
import { Kafka, type Consumer as KafkajsConsumer, logLevel, PartitionAssigners } from "kafkajs"
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
  "auto.offset.reset": "earliest"
})

const waitUntil = (what: string, check: () => boolean, timeoutMs = 20_000) =>
  Effect.gen(function* () {
    const start = Date.now()
    while (!check()) {
      if (Date.now() - start > timeoutMs) return yield* Effect.dieMessage(`timed out waiting for ${what}`)
      yield* Effect.sleep(25)
    }
  })

/** kafkajs's round-robin assigner under the protocol name the Java client and librdkafka use. */
const roundrobin: typeof PartitionAssigners.roundRobin = (config) => ({
  ...PartitionAssigners.roundRobin(config),
  name: "roundrobin"
})

const topic = "interop"
const partitions = 6

describe("Consumer interop", () => {
  for (const eddyFirst of [true, false]) {
    it.scopedLive(
      `an Eddy and a kafkajs member share a group (${eddyFirst ? "Eddy" : "kafkajs"} joins first)`,
      () =>
        Effect.gen(function* () {
          const { bootstrap } = yield* startEddy(groupBroker)
          const groupId = `interop-${eddyFirst}`
          const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
          yield* admin.createTopics([{ name: topic, numPartitions: partitions }])
          const kafka = new Kafka({
            clientId: "kafkajs-interop",
            brokers: [bootstrap],
            logLevel: logLevel.NOTHING,
            retry: { retries: 5, initialRetryTime: 50 }
          })
          const kjs = { assigned: [] as Array<number>, received: [] as Array<string> }
          const kconsumer: KafkajsConsumer = kafka.consumer({
            groupId,
            partitionAssigners: [roundrobin],
            sessionTimeout: 3000,
            rebalanceTimeout: 5000,
            heartbeatInterval: 100,
            maxWaitTimeInMs: 100
          })
          kconsumer.on(kconsumer.events.GROUP_JOIN, (e) => {
            kjs.assigned = [...(e.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b)
          })
          const startKafkajs = Effect.acquireRelease(
            Effect.promise(async () => {
              await kconsumer.connect()
              await kconsumer.subscribe({ topic, fromBeginning: true })
              await kconsumer.run({
                eachMessage: async ({ message }) => {
                  kjs.received.push(message.value!.toString())
                }
              })
            }),
            () => Effect.promise(() => kconsumer.disconnect())
          )
          const eddyScope = yield* Scope.make()
          yield* Effect.addFinalizer(() => Scope.close(eddyScope, Exit.void))
          const eddyReceived: Array<string> = []
          const startEddyMember = Effect.gen(function* () {
            const c = yield* Consumer.make({
              ...fast(bootstrap, groupId),
              "partition.assignment.strategy": "roundrobin"
            })
            yield* c.records(topic).pipe(
              Stream.runForEach((r) => Effect.sync(() => eddyReceived.push(Buffer.from(r.value!).toString()))),
              Effect.forkScoped
            )
            return c
          }).pipe(Scope.extend(eddyScope))

          let eddy: Consumer.Consumer
          if (eddyFirst) {
            eddy = yield* startEddyMember
            yield* waitUntil("eddy owns all", () => eddy.assignment().length === partitions)
            yield* startKafkajs
          } else {
            yield* startKafkajs
            yield* waitUntil("kafkajs owns all", () => kjs.assigned.length === partitions)
            eddy = yield* startEddyMember
          }
          const eddyPartitions = () => eddy.assignment().map((tp) => tp.partition)
          yield* waitUntil(
            "split",
            () => eddyPartitions().length === partitions / 2 && kjs.assigned.length === partitions / 2,
            30_000
          )
          assert.deepStrictEqual([...eddyPartitions(), ...kjs.assigned].sort(), [0, 1, 2, 3, 4, 5])
          // both agree on round robin over the sorted member ids
          assert.includeDeepMembers(
            [
              [0, 2, 4],
              [1, 3, 5]
            ],
            [eddyPartitions()]
          )

          const producer = yield* Producer.make({ "bootstrap.servers": bootstrap })
          yield* producer.sendBatch(
            topic,
            Array.from({ length: 60 }, (_, i) => ({ value: Buffer.from(`m-${i}`), partition: i % partitions }))
          )
          yield* waitUntil("all read", () => eddyReceived.length + kjs.received.length >= 60, 30_000)
          yield* Effect.sleep(300)
          assert.strictEqual(eddyReceived.length + kjs.received.length, 60, "no record read twice")
          assert.strictEqual(new Set([...eddyReceived, ...kjs.received]).size, 60)
          const mine = new Set(eddyPartitions())
          assert.isTrue(eddyReceived.every((v) => mine.has(Number(v.slice(2)) % partitions)))
          assert.isTrue(kjs.received.every((v) => !mine.has(Number(v.slice(2)) % partitions)))
        }),
      60_000
    )
  }
})
