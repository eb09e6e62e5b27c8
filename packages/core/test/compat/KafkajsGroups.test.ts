/**
 * kafkajs 2.2.4 consumer groups against Eddy: members joining and leaving share the partitions; a member
 * that crashes (SIGKILL, no LeaveGroup) loses its partitions after its session timeout; committed offsets
 * survive a broker restart; the admin group apis (list, describe, fetch/set/reset offsets, delete).
 */
import * as child from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { type Consumer, type EachMessagePayload, Kafka, logLevel } from "kafkajs"
import { startBroker, tempDir } from "../broker/util.js"

const groupSettings = {
  "group.initial.rebalance.delay.ms": "0",
  "group.min.session.timeout.ms": "500"
}

const kafkaFor = (port: number, clientId = "eddy-groups") =>
  new Kafka({
    clientId,
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 5, initialRetryTime: 50 }
  })

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const waitFor = async (what: string, check: () => boolean, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(25)
  }
}

/** A kafkajs consumer that records its assignment and the messages it receives. */
const member = async (kafka: Kafka, groupId: string, topic: string, sessionTimeout = 3000) => {
  // kafkajs heartbeats between fetches: the fetch wait must be well below the session timeout
  const consumer: Consumer = kafka.consumer({
    groupId,
    sessionTimeout,
    rebalanceTimeout: 5000,
    heartbeatInterval: 200,
    maxWaitTimeInMs: 100
  })
  const state = { assigned: [] as Array<number>, joins: 0, received: [] as Array<string> }
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    state.assigned = [...(e.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b)
    state.joins++
  })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ message }: EachMessagePayload) => {
      state.received.push(message.value!.toString())
    }
  })
  return { consumer, state }
}

const produce = async (kafka: Kafka, topic: string, partitions: number, prefix: string, count: number) => {
  const producer = kafka.producer()
  await producer.connect()
  await producer.send({
    topic,
    messages: Array.from({ length: count }, (_, i) => ({ partition: i % partitions, value: `${prefix}-${i}` }))
  })
  await producer.disconnect()
  return Array.from({ length: count }, (_, i) => `${prefix}-${i}`)
}

describe("kafkajs consumer groups against Eddy", () => {
  it.scopedLive(
    "members join and leave; partitions are shared and every message is consumed once",
    () =>
      Effect.gen(function* () {
        const { broker } = yield* startBroker({ extra: groupSettings })
        yield* Effect.promise(async () => {
          const kafka = kafkaFor(broker.address.port)
          const admin = kafka.admin()
          await admin.connect()
          await admin.createTopics({ topics: [{ topic: "shared", numPartitions: 4 }] })
          const a = await member(kafka, "g-shared", "shared")
          await waitFor("a owns 4 partitions", () => a.state.assigned.length === 4)
          const b = await member(kafka, "g-shared", "shared")
          await waitFor(
            "a and b own 2 partitions each",
            () => a.state.assigned.length === 2 && b.state.assigned.length === 2
          )
          assert.deepStrictEqual([...a.state.assigned, ...b.state.assigned].sort(), [0, 1, 2, 3])
          const sent = await produce(kafka, "shared", 4, "m", 40)
          await waitFor("every message", () => a.state.received.length + b.state.received.length === 40)
          assert.deepStrictEqual([...a.state.received, ...b.state.received].sort(), [...sent].sort())
          assert.isAbove(a.state.received.length, 0)
          assert.isAbove(b.state.received.length, 0)

          const described = await admin.describeGroups(["g-shared"])
          assert.strictEqual(described.groups[0]!.state, "Stable")
          assert.strictEqual(described.groups[0]!.protocolType, "consumer")
          assert.strictEqual(described.groups[0]!.members.length, 2)

          await b.consumer.disconnect() // LeaveGroup: a takes everything at once
          await waitFor("a owns 4 partitions again", () => a.state.assigned.length === 4, 5000)
          const more = await produce(kafka, "shared", 4, "n", 20)
          await waitFor("a reads the new messages", () => more.every((m) => a.state.received.includes(m)))
          await a.consumer.disconnect()
          const listed = await admin.listGroups()
          assert.deepStrictEqual(
            listed.groups.filter((g) => g.groupId === "g-shared"),
            [{ groupId: "g-shared", protocolType: "consumer" }]
          )
          assert.strictEqual((await admin.describeGroups(["g-shared"])).groups[0]!.state, "Empty")
          await admin.disconnect()
        })
      }),
    60_000
  )

  it.scopedLive(
    "a crashed member's partitions move to the survivor after its session timeout",
    () =>
      Effect.gen(function* () {
        const { broker } = yield* startBroker({ extra: groupSettings })
        const port = broker.address.port
        const kafka = kafkaFor(port)
        yield* Effect.promise(async () => {
          const admin = kafka.admin()
          await admin.connect()
          await admin.createTopics({ topics: [{ topic: "crash", numPartitions: 4 }] })
          await admin.disconnect()
        })
        const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "kafkajsMember.js")
        const proc = yield* Effect.acquireRelease(
          Effect.sync(() =>
            child.spawn(process.execPath, [fixture, String(port), "g-crash", "crash", "2000"], {
              stdio: ["ignore", "pipe", "inherit"],
              cwd: process.cwd()
            })
          ),
          (p) => Effect.sync(() => p.kill("SIGKILL"))
        )
        const childAssigned: Array<Array<number>> = []
        let buffered = ""
        proc.stdout.on("data", (chunk: Buffer) => {
          buffered += chunk.toString()
          const lines = buffered.split("\n")
          buffered = lines.pop()!
          for (const l of lines) if (l.startsWith("ASSIGNED ")) childAssigned.push(JSON.parse(l.slice(9)))
        })
        yield* Effect.promise(async () => {
          await waitFor("the child owns 4 partitions", () => childAssigned.at(-1)?.length === 4, 30_000)
          const survivor = await member(kafka, "g-crash", "crash", 2000)
          await waitFor(
            "2 partitions each",
            () => survivor.state.assigned.length === 2 && childAssigned.at(-1)?.length === 2
          )
          proc.kill("SIGKILL")
          const killedAt = Date.now()
          await waitFor("the survivor owns 4 partitions", () => survivor.state.assigned.length === 4, 15_000)
          // the crashed member sent no LeaveGroup: only its session timeout (2 s) frees its partitions
          assert.isAtLeast(Date.now() - killedAt, 1500)
          const sent = await produce(kafka, "crash", 4, "c", 20)
          await waitFor("the survivor reads every partition", () =>
            sent.every((m) => survivor.state.received.includes(m))
          )
          await survivor.consumer.disconnect()
        })
      }),
    90_000
  )

  it.scopedLive(
    "committed offsets survive a broker restart; consumers resume after them",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        yield* Effect.scoped(
          Effect.gen(function* () {
            const { broker } = yield* startBroker({ dir, extra: groupSettings })
            yield* Effect.promise(async () => {
              const kafka = kafkaFor(broker.address.port)
              const admin = kafka.admin()
              await admin.connect()
              await admin.createTopics({ topics: [{ topic: "resume", numPartitions: 2 }] })
              await admin.disconnect()
              const sent = await produce(kafka, "resume", 2, "before", 10)
              const c = await member(kafka, "g-resume", "resume")
              await waitFor("every message", () => c.state.received.length === 10)
              assert.deepStrictEqual([...c.state.received].sort(), [...sent].sort())
              await c.consumer.disconnect() // commits on the way out
            })
          })
        )
        yield* Effect.scoped(
          Effect.gen(function* () {
            const { broker } = yield* startBroker({ dir, extra: groupSettings })
            yield* Effect.promise(async () => {
              const kafka = kafkaFor(broker.address.port)
              const admin = kafka.admin()
              await admin.connect()
              const offsets = await admin.fetchOffsets({ groupId: "g-resume", topics: ["resume"] })
              assert.deepStrictEqual(offsets[0]!.partitions.map((p) => [p.partition, p.offset]).sort(), [
                [0, "5"],
                [1, "5"]
              ])
              assert.deepStrictEqual((await admin.describeGroups(["g-resume"])).groups[0]!.state, "Empty")
              const after = await produce(kafka, "resume", 2, "after", 6)
              const c = await member(kafka, "g-resume", "resume")
              await waitFor("the new messages", () => c.state.received.length >= 6)
              await sleep(300)
              assert.deepStrictEqual([...c.state.received].sort(), [...after].sort())
              await c.consumer.disconnect()
              await admin.disconnect()
            })
          })
        )
      }),
    60_000
  )

  it.scopedLive(
    "admin: set and fetch offsets of an empty group, delete it",
    () =>
      Effect.gen(function* () {
        const { broker } = yield* startBroker({ extra: groupSettings })
        yield* Effect.promise(async () => {
          const kafka = kafkaFor(broker.address.port)
          const admin = kafka.admin()
          await admin.connect()
          await admin.createTopics({ topics: [{ topic: "adm", numPartitions: 3 }] })
          await produce(kafka, "adm", 3, "x", 9)
          // standalone commits (generation -1): the group exists only through its offsets
          await admin.setOffsets({ groupId: "g-adm", topic: "adm", partitions: [{ partition: 1, offset: "2" }] })
          let offsets = await admin.fetchOffsets({ groupId: "g-adm", topics: ["adm"] })
          assert.deepStrictEqual(offsets[0]!.partitions.map((p) => [p.partition, p.offset]).sort(), [
            [0, "-1"],
            [1, "2"],
            [2, "-1"]
          ])
          await admin.setOffsets({
            groupId: "g-adm",
            topic: "adm",
            partitions: [0, 1, 2].map((partition) => ({ partition, offset: "3" }))
          })
          offsets = await admin.fetchOffsets({ groupId: "g-adm", topics: ["adm"] })
          assert.deepStrictEqual(offsets[0]!.partitions.map((p) => [p.partition, p.offset]).sort(), [
            [0, "3"],
            [1, "3"],
            [2, "3"]
          ])
          assert.deepStrictEqual(
            (await admin.listGroups()).groups.map((g) => g.groupId),
            ["g-adm"]
          )
          await admin.deleteGroups(["g-adm"])
          assert.deepStrictEqual((await admin.listGroups()).groups, [])
          offsets = await admin.fetchOffsets({ groupId: "g-adm", topics: ["adm"] })
          assert.deepStrictEqual(
            offsets[0]!.partitions.map((p) => p.offset),
            ["-1", "-1", "-1"]
          )
          const missing = await admin.deleteGroups(["nope"]).catch((e: { groups?: Array<{ errorCode: number }> }) => e)
          assert.strictEqual((missing as { groups: Array<{ errorCode: number }> }).groups[0]!.errorCode, 69)
          await admin.disconnect()
        })
      }),
    60_000
  )
})
