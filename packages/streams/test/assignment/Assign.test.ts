import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Effect, FastCheck as fc, Schema } from "effect"
import { materializedAs } from "../../src/dsl/Options.js"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import * as A from "../../src/internal/assignment/assign.js"
import * as Info from "../../src/internal/assignment/info.js"
import * as StreamAssignor from "../../src/internal/assignment/streamAssignor.js"

const noStandby: A.AssignConfig = { numStandbyReplicas: 0, acceptableRecoveryLag: 10_000, maxWarmupReplicas: 2 }

const tasksOf = (subtopologies: ReadonlyArray<number>, stateful = true): Array<A.TaskSpec> =>
  subtopologies.flatMap((n, s) => Array.from({ length: n }, (_, p) => ({ id: `${s}_${p}`, stateful })))

const client = (
  processId: string,
  threads: number,
  prev: ReadonlyArray<ReadonlyArray<string>> = [],
  lags: ReadonlyMap<string, number> = new Map()
): A.ClientSpec => ({
  processId,
  members: Array.from({ length: threads }, (_, i) => ({
    memberId: `${processId}-m${i}`,
    prevActive: prev[i] ?? [],
    prevStandby: []
  })),
  lags
})

/** Every task active on exactly one member; no client holds a task as active and standby. */
const assertValid = (tasks: ReadonlyArray<A.TaskSpec>, a: A.Assignment) => {
  const seen = new Map<string, number>()
  for (const m of a.members.values()) for (const t of m.active) seen.set(t, (seen.get(t) ?? 0) + 1)
  for (const t of tasks) assert.strictEqual(seen.get(t.id), 1, `task ${t.id} active ${seen.get(t.id) ?? 0} times`)
  for (const [p, c] of a.clients) {
    for (const t of c.standby) assert.isFalse(c.active.includes(t), `${p} has ${t} as active and standby`)
  }
}

const threadLoads = (a: A.Assignment) => [...a.members.values()].map((m) => m.active.length)

describe("stream assignor: assignment function", () => {
  it("two instances on a 4-partition input split the tasks 2/2; the second one gets two of the first's", () => {
    const tasks = tasksOf([4])
    const first = A.assign(tasks, [client("a", 1)], noStandby)
    assert.deepStrictEqual(first.members.get("a-m0")!.active, ["0_0", "0_1", "0_2", "0_3"])
    // empty changelogs: every client is caught up (lag 0)
    const owned = new Map(tasks.map((t) => [t.id, 0]))
    const second = A.assign(
      tasks,
      [client("a", 1, [first.members.get("a-m0")!.active], owned), client("b", 1, [], owned)],
      noStandby
    )
    assert.deepStrictEqual(threadLoads(second), [2, 2])
    assertValid(tasks, second)
    // the leaving instance's tasks all go back
    const third = A.assign(tasks, [client("a", 1, [second.members.get("a-m0")!.active], owned)], noStandby)
    assert.deepStrictEqual(third.members.get("a-m0")!.active, ["0_0", "0_1", "0_2", "0_3"])
  })

  it("balances across threads: an instance with two threads gets twice the tasks of one with one", () => {
    const tasks = tasksOf([6])
    const a = A.assign(tasks, [client("a", 2), client("b", 1)], noStandby)
    assert.strictEqual(a.clients.get("a")!.active.length, 4)
    assert.strictEqual(a.clients.get("b")!.active.length, 2)
    assert.deepStrictEqual(threadLoads(a), [2, 2, 2])
  })

  it("a task with several partitions (co-partitioned inputs) is one unit: its id goes to one member", () => {
    // the runtime maps a task to every source partition of its sub-topology with that number
    const tasks = tasksOf([3, 3])
    const a = A.assign(tasks, [client("a", 1), client("b", 1)], noStandby)
    assertValid(tasks, a)
  })

  it("a task moves only to a caught-up client; otherwise it stays and a warm-up goes where the balance wants", () => {
    const tasks = tasksOf([2])
    const prev = [["0_0", "0_1"]]
    const lags = new Map([
      ["0_0", 0],
      ["0_1", 0]
    ])
    const config = { numStandbyReplicas: 0, acceptableRecoveryLag: 100, maxWarmupReplicas: 1 }
    // b has no state: both tasks stay on a, one warm-up goes to b
    const cold = A.assign(tasks, [client("a", 1, prev, lags), client("b", 1, [], new Map())], config)
    assert.deepStrictEqual(cold.clients.get("a")!.active, ["0_0", "0_1"])
    assert.strictEqual(cold.warmups, 1)
    assert.strictEqual(cold.clients.get("b")!.standby.length, 1)
    // once b is caught up on the warm task (lag within 100), it takes it
    const warm = cold.clients.get("b")!.standby[0]!
    const caughtUp = A.assign(tasks, [client("a", 1, prev, lags), client("b", 1, [], new Map([[warm, 50]]))], config)
    assert.deepStrictEqual(caughtUp.clients.get("b")!.active, [warm])
    assert.strictEqual(caughtUp.warmups, 0)
  })

  it("fail-over prefers the caught-up standby over a cold client", () => {
    const tasks = tasksOf([1])
    const config = { numStandbyReplicas: 1, acceptableRecoveryLag: 100, maxWarmupReplicas: 2 }
    const a = A.assign(
      tasks,
      [client("b", 1, [], new Map([["0_0", 5000]])), client("c", 1, [], new Map([["0_0", 3]]))],
      config
    )
    assert.deepStrictEqual(a.clients.get("c")!.active, ["0_0"])
    assert.deepStrictEqual(a.clients.get("b")!.standby, ["0_0"])
  })

  it.prop(
    "valid, balanced within one task per thread, sticky, and with the standbys asked for",
    [
      fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 3 }),
      fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 5 }),
      fc.integer({ min: 0, max: 2 }),
      fc.boolean()
    ],
    ([subtopologies, threads, standbys, stateful]) => {
      const tasks = tasksOf(subtopologies, stateful)
      const config = { numStandbyReplicas: standbys, acceptableRecoveryLag: 10_000, maxWarmupReplicas: 2 }
      const clients = threads.map((n, i) => client(`p${i}`, n))
      const first = A.assign(tasks, clients, config)
      assertValid(tasks, first)
      const loads = threadLoads(first)
      assert.isAtMost(Math.max(...loads) - Math.min(...loads), 1, `thread loads ${loads}`)
      if (stateful) {
        for (const t of tasks) {
          const holders = [...first.clients.values()].filter((c) => c.standby.includes(t.id)).length
          assert.strictEqual(holders, Math.min(standbys, clients.length - 1))
        }
      }
      // the same group again, each member reporting what it ran: nothing moves
      const owned = new Map(tasks.map((t) => [t.id, 0]))
      const again = A.assign(
        tasks,
        clients.map((c) =>
          client(
            c.processId,
            c.members.length,
            c.members.map((m) => first.members.get(m.memberId)!.active),
            new Map([...owned].filter(([t]) => first.clients.get(c.processId)!.active.includes(t)))
          )
        ),
        config
      )
      for (const [m, tasks] of first.members) assert.deepStrictEqual(again.members.get(m)!.active, tasks.active)
      // a client leaves: its tasks move, the others keep theirs
      if (clients.length > 1) {
        const rest = clients.slice(1).map((c) =>
          client(
            c.processId,
            c.members.length,
            c.members.map((m) => first.members.get(m.memberId)!.active)
          )
        )
        const after = A.assign(tasks, rest, config)
        assertValid(tasks, after)
        const kept = rest.every((c) =>
          c.members.every((m) => {
            const before = first.members.get(m.memberId)!.active
            const now = after.members.get(m.memberId)!.active
            return before.filter((t) => now.includes(t)).length >= Math.min(before.length, now.length) - 1
          })
        )
        assert.isTrue(kept, "survivors keep (nearly all of) their tasks")
      }
    }
  )

  it("subscription and assignment user data round-trip; other bytes read as none", () => {
    const s: Info.SubscriptionInfo = {
      version: Info.VERSION,
      processId: "p",
      endpoint: "localhost:7070",
      prevActive: ["0_1"],
      prevStandby: ["0_2"],
      offsetSums: { "0_1": Info.LATEST_OFFSET, "0_2": 17 },
      errorCode: 0
    }
    assert.deepStrictEqual(Info.decodeSubscription(Info.encodeSubscription(s)), s)
    assert.isUndefined(Info.decodeSubscription(new Uint8Array([0, 1, 2])))
    assert.isUndefined(Info.decodeSubscription(null))
    const a: Info.AssignmentInfo = {
      version: Info.VERSION,
      active: ["0_1"],
      standby: [],
      hosts: [{ endpoint: "localhost:7070", active: [{ topic: "t", partition: 1 }], standby: [] }],
      probingRebalanceAt: -1,
      errorCode: Info.ErrorCode.SHUTDOWN_REQUESTED
    }
    assert.deepStrictEqual(Info.decodeAssignment(Info.encodeAssignment(a)), a)
  })

  it.prop(
    "the leader's assignment: a task's partitions of every source topic go to one member; the host map is complete",
    [fc.integer({ min: 1, max: 8 }), fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 4 })],
    ([partitions, threads]) => {
      const left = Topic.make("left", { key: Schema.String, value: Schema.String })
      const right = Topic.make("right", { key: Schema.String, value: Schema.String })
      const builder = StreamsBuilder.make()
      builder.stream([left, right]).groupByKey().count(materializedAs("c"))
      const topology = Effect.runSync(builder.build) as never
      const config = { "application.id": "co" }
      const assignor = StreamAssignor.make({
        topology,
        config,
        processId: "leader",
        subscription: Effect.die("not used"),
        endOffsets: (_topic, ps) => Effect.succeed(new Map(ps.map((p) => [p, 0]))),
        onAssignment: () => Effect.void
      })
      const members = threads.flatMap((n, c) =>
        Array.from({ length: n }, (_, i) => ({
          memberId: `c${c}-t${i}`,
          groupInstanceId: null,
          topics: ["left", "right"],
          ownedPartitions: [],
          generationId: -1,
          userData: Info.encodeSubscription({
            version: Info.VERSION,
            processId: `c${c}`,
            endpoint: `host${c}:80`,
            prevActive: [],
            prevStandby: [],
            offsetSums: {},
            errorCode: 0
          })
        }))
      )
      const counts = new Map([
        ["left", partitions],
        ["right", partitions]
      ])
      const result = Effect.runSync(assignor.assign({ members, partitionCounts: counts }))
      const ownerOf = new Map<string, string>()
      for (const [member, share] of result) {
        for (const tp of share.partitions) {
          assert.isUndefined(ownerOf.get(`${tp.topic}-${tp.partition}`), "a partition assigned twice")
          ownerOf.set(`${tp.topic}-${tp.partition}`, member)
        }
      }
      for (let p = 0; p < partitions; p++) {
        assert.isDefined(ownerOf.get(`left-${p}`))
        assert.strictEqual(ownerOf.get(`left-${p}`), ownerOf.get(`right-${p}`), `left-${p} and right-${p} apart`)
      }
      const info = Info.decodeAssignment(result.get(members[0]!.memberId)!.userData)!
      const hosted = info.hosts.flatMap((h) => h.active.map((tp) => `${tp.topic}-${tp.partition}`)).sort()
      assert.deepStrictEqual(hosted, [...ownerOf.keys()].sort())
    }
  )
})
