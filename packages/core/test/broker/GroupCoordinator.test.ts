/**
 * The group coordinator driven directly (no socket), with TestClock for session timeouts, rebalance
 * timeouts, the initial rebalance delay and offset expiry; real partition replicas underneath (memory
 * logs, or files for the restart tests).
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, TestClock } from "effect"
import type * as GroupCoordinator from "../../src/broker/GroupCoordinator.js"
import { assignedPartitions, joinInput, makeCoordinator, rangeAssign, subscription } from "./groupUtil.js"
import { tempDir } from "./util.js"

type Groups = GroupCoordinator.GroupCoordinator.Service

/** The tag of the error an effect fails with ("ok" when it succeeds). */
const outcome = <A, E extends { readonly _tag: string }>(effect: Effect.Effect<A, E>) =>
  Effect.map(Effect.exit(effect), (exit) => {
    if (Exit.isSuccess(exit)) return "ok"
    const failure = Cause.failureOption(exit.cause)
    return failure._tag === "Some" ? failure.value._tag : `defect: ${Cause.pretty(exit.cause)}`
  })

/** Joins (answering MEMBER_ID_REQUIRED) in a fiber: the join completes when the rebalance does. */
const forkJoin = (groups: Groups, groupId: string, input: Partial<GroupCoordinator.JoinInput> = {}) =>
  Effect.gen(function* () {
    let memberId = input.memberId ?? ""
    if (memberId === "" && (input.groupInstanceId ?? null) === null) {
      const first = yield* Effect.flip(groups.joinGroup(groupId, joinInput(input)))
      assert.strictEqual(first._tag, "MemberIdRequired")
      memberId = (first as { memberId: string }).memberId
    }
    return yield* Effect.fork(groups.joinGroup(groupId, joinInput({ ...input, memberId })))
  })

/** Joins a group of one, syncs a range assignment, returns the member id and generation. */
const stableGroup = (
  groups: Groups,
  groupId: string,
  members: number,
  input: Partial<GroupCoordinator.JoinInput> = {}
) =>
  Effect.gen(function* () {
    const fibers: Array<Fiber.RuntimeFiber<GroupCoordinator.JoinResult, unknown>> = []
    for (let i = 0; i < members; i++) fibers.push(yield* forkJoin(groups, groupId, input))
    const joined = yield* Effect.forEach(fibers, Fiber.join)
    const leader = joined.find((j) => j.members.length > 0)!
    const assignments = rangeAssign(
      leader.members.map((m) => m.memberId),
      "t",
      12
    )
    const synced = yield* Effect.forEach(
      joined,
      (j) =>
        groups.syncGroup(groupId, {
          generationId: j.generationId,
          memberId: j.memberId,
          groupInstanceId: input.groupInstanceId ?? null,
          protocolType: "consumer",
          protocolName: "range",
          assignments: j.memberId === leader.memberId ? assignments : []
        }),
      { concurrency: "unbounded" }
    )
    return { joined, synced, generationId: leader.generationId, leaderId: leader.leader }
  })

const state = (groups: Groups, groupId: string) => Effect.map(groups.describeGroup(groupId), (d) => d.state)

describe("GroupCoordinator", () => {
  it.scoped("join (MEMBER_ID_REQUIRED first), sync, heartbeat; wrong generation and unknown members are refused", () =>
    Effect.gen(function* () {
      const { groups } = yield* makeCoordinator(yield* tempDir)
      const { joined, synced, generationId } = yield* stableGroup(groups, "g", 2)
      assert.strictEqual(generationId, 1)
      assert.deepStrictEqual(
        joined.map((j) => j.protocolName),
        ["range", "range"]
      )
      // only the leader receives the members and their metadata
      assert.deepStrictEqual(joined.map((j) => j.members.length).sort(), [0, 2])
      const owned = synced.flatMap((s) => assignedPartitions(s.assignment, "t")).sort((a, b) => a - b)
      assert.deepStrictEqual(
        owned,
        Array.from({ length: 12 }, (_, i) => i)
      )
      assert.strictEqual(yield* state(groups, "g"), "Stable")
      const a = joined[0]!.memberId
      const hb = (generationId: number, memberId: string) =>
        outcome(groups.heartbeat("g", { generationId, memberId, groupInstanceId: null }))
      assert.strictEqual(yield* hb(1, a), "ok")
      assert.strictEqual(yield* hb(0, a), "IllegalGeneration")
      assert.strictEqual(yield* hb(1, "nobody"), "UnknownMemberId")
      assert.strictEqual(
        yield* outcome(groups.heartbeat("no-such-group", { generationId: 1, memberId: a, groupInstanceId: null })),
        "UnknownMemberId"
      )
      assert.strictEqual(
        yield* outcome(
          groups.syncGroup("g", {
            generationId: 7,
            memberId: a,
            groupInstanceId: null,
            protocolType: null,
            protocolName: null,
            assignments: []
          })
        ),
        "IllegalGeneration"
      )
      // a member with protocols the group does not share, an empty group id, a session timeout out of bounds
      assert.strictEqual(
        yield* outcome(
          groups.joinGroup("g", joinInput({ protocols: [{ name: "other", metadata: new Uint8Array() }] }))
        ),
        "InconsistentGroupProtocol"
      )
      assert.strictEqual(yield* outcome(groups.joinGroup("", joinInput())), "InvalidGroupId")
      assert.strictEqual(
        yield* outcome(groups.joinGroup("g", joinInput({ sessionTimeoutMs: 100 }))),
        "InvalidSessionTimeout"
      )
      // none of that disturbed the group
      assert.strictEqual(yield* state(groups, "g"), "Stable")
      assert.strictEqual(yield* hb(1, a), "ok")
    })
  )

  it.scoped("a member silent for its session timeout is removed; the others rebalance without it", () =>
    Effect.gen(function* () {
      const { groups } = yield* makeCoordinator(yield* tempDir)
      const { joined } = yield* stableGroup(groups, "g", 2, { sessionTimeoutMs: 6000 })
      const [alive, silent] = [joined[0]!, joined[1]!]
      const hb = (generationId: number) =>
        outcome(groups.heartbeat("g", { generationId, memberId: alive.memberId, groupInstanceId: null }))
      // the live member heartbeats every 2 s; after 6 s the silent one is gone
      for (let i = 0; i < 2; i++) {
        yield* TestClock.adjust("2 seconds")
        assert.strictEqual(yield* hb(1), "ok")
      }
      assert.strictEqual(yield* state(groups, "g"), "Stable")
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual(yield* state(groups, "g"), "PreparingRebalance")
      assert.strictEqual(yield* hb(1), "RebalanceInProgress")
      const rejoin = yield* Effect.fork(groups.joinGroup("g", joinInput({ memberId: alive.memberId })))
      const result = yield* Fiber.join(rejoin)
      assert.strictEqual(result.generationId, 2)
      assert.deepStrictEqual(
        result.members.map((m) => m.memberId),
        [alive.memberId]
      )
      assert.strictEqual(
        yield* outcome(groups.heartbeat("g", { generationId: 2, memberId: silent.memberId, groupInstanceId: null })),
        "UnknownMemberId"
      )
    })
  )

  it.scoped("a rebalance completes after rebalance_timeout_ms without the members that did not rejoin", () =>
    Effect.gen(function* () {
      const { groups } = yield* makeCoordinator(yield* tempDir)
      const input = { sessionTimeoutMs: 60_000, rebalanceTimeoutMs: 5000 }
      const { joined } = yield* stableGroup(groups, "g", 2, input)
      const [a, b] = [joined[0]!, joined[1]!]
      const newcomer = yield* forkJoin(groups, "g", input)
      yield* Effect.yieldNow()
      assert.strictEqual(yield* state(groups, "g"), "PreparingRebalance")
      const rejoinA = yield* Effect.fork(groups.joinGroup("g", joinInput({ ...input, memberId: a.memberId })))
      yield* TestClock.adjust("4 seconds")
      assert.isNull(yield* Fiber.poll(rejoinA).pipe(Effect.map((o) => (o._tag === "Some" ? "done" : null))))
      yield* TestClock.adjust("1 second")
      const [ra, rc] = [yield* Fiber.join(rejoinA), yield* Fiber.join(newcomer)]
      assert.strictEqual(ra.generationId, 2)
      assert.strictEqual(rc.generationId, 2)
      const leader = ra.members.length > 0 ? ra : rc
      assert.deepStrictEqual(leader.members.map((m) => m.memberId).sort(), [a.memberId, rc.memberId].sort())
      assert.strictEqual(yield* state(groups, "g"), "CompletingRebalance")
      assert.strictEqual(
        yield* outcome(groups.heartbeat("g", { generationId: 1, memberId: b.memberId, groupInstanceId: null })),
        "UnknownMemberId"
      )
    })
  )

  it.scoped(
    "a static member rejoining with unchanged metadata takes a new id without a rebalance; the old id is fenced",
    () =>
      Effect.gen(function* () {
        const { groups } = yield* makeCoordinator(yield* tempDir)
        const staticJoin = yield* forkJoin(groups, "g", { groupInstanceId: "instance-1" })
        const dynamicJoin = yield* forkJoin(groups, "g")
        const [s, d] = [yield* Fiber.join(staticJoin), yield* Fiber.join(dynamicJoin)]
        assert.isTrue(s.memberId.startsWith("instance-1-"))
        const leader = s.members.length > 0 ? s : d
        const assignments = rangeAssign(
          leader.members.map((m) => m.memberId),
          "t",
          12
        )
        yield* Effect.forEach(
          [s, d],
          (j) =>
            groups.syncGroup("g", {
              generationId: 1,
              memberId: j.memberId,
              groupInstanceId: j === s ? "instance-1" : null,
              protocolType: "consumer",
              protocolName: "range",
              assignments: j === leader ? assignments : []
            }),
          { concurrency: "unbounded" }
        )
        const before = yield* groups.describeGroup("g")
        const sAssignment = before.members.find((m) => m.memberId === s.memberId)!.assignment
        // the static member restarts (within its session timeout) and joins without its member id
        yield* TestClock.adjust("3 seconds")
        const again = yield* groups.joinGroup("g", joinInput({ groupInstanceId: "instance-1" }))
        assert.notStrictEqual(again.memberId, s.memberId)
        assert.strictEqual(again.generationId, 1)
        assert.strictEqual(yield* state(groups, "g"), "Stable")
        const synced = yield* groups.syncGroup("g", {
          generationId: 1,
          memberId: again.memberId,
          groupInstanceId: "instance-1",
          protocolType: "consumer",
          protocolName: "range",
          assignments: []
        })
        assert.deepStrictEqual(synced.assignment, sAssignment)
        assert.strictEqual(
          yield* outcome(
            groups.heartbeat("g", { generationId: 1, memberId: s.memberId, groupInstanceId: "instance-1" })
          ),
          "FencedInstanceId"
        )
        assert.strictEqual(
          yield* outcome(groups.heartbeat("g", { generationId: 1, memberId: d.memberId, groupInstanceId: null })),
          "ok"
        )
        // LeaveGroup with the old member id for the instance is fenced too
        const left = yield* groups.leaveGroup("g", [{ memberId: s.memberId, groupInstanceId: "instance-1" }])
        assert.strictEqual(left[0]!.error?._tag, "FencedInstanceId")
      })
  )

  it.scoped("the first rebalance of an empty group waits group.initial.rebalance.delay.ms for more members", () =>
    Effect.gen(function* () {
      const { groups } = yield* makeCoordinator(yield* tempDir, {
        extra: { "group.initial.rebalance.delay.ms": "3000" }
      })
      const first = yield* forkJoin(groups, "g")
      yield* TestClock.adjust("2 seconds")
      const second = yield* forkJoin(groups, "g")
      yield* TestClock.adjust("2 seconds")
      // a new member during the delay extends it by another delay
      assert.strictEqual((yield* Fiber.poll(first))._tag, "None")
      yield* TestClock.adjust("2 seconds")
      const [a, b] = [yield* Fiber.join(first), yield* Fiber.join(second)]
      assert.strictEqual(a.generationId, 1)
      assert.strictEqual(b.generationId, 1)
      assert.strictEqual(Math.max(a.members.length, b.members.length), 2)
    })
  )

  it.scoped("offset commits: standalone, by members, and the errors of bad commits", () =>
    Effect.gen(function* () {
      const { groups } = yield* makeCoordinator(yield* tempDir)
      const commit = (
        groupId: string,
        ref: GroupCoordinator.MemberRef,
        offsets: GroupCoordinator.CommitRequest["offsets"]
      ) => groups.commitOffsets(groupId, { ...ref, retentionTimeMs: -1, offsets })
      const standalone = { generationId: -1, memberId: "", groupInstanceId: null }
      const results = yield* commit("solo", standalone, [
        { topic: "t", partition: 0, offset: 42, leaderEpoch: 3, metadata: "m" },
        { topic: "t", partition: 1, offset: 7, leaderEpoch: -1, metadata: "x".repeat(4097) },
        { topic: "missing", partition: 0, offset: 1, leaderEpoch: -1, metadata: null },
        { topic: "t", partition: 12, offset: 1, leaderEpoch: -1, metadata: null }
      ])
      assert.deepStrictEqual(
        results.map((r) => r.error?.errorCode ?? 0),
        [0, 12, 3, 3]
      )
      const fetched = yield* groups.fetchOffsets("solo", [{ topic: "t", partitions: [0, 1] }])
      assert.deepStrictEqual(
        fetched.map((f) => [f.partition, f.offset, f.leaderEpoch, f.metadata]),
        [
          [0, 42, 3, "m"],
          [1, -1, -1, ""]
        ]
      )
      assert.deepStrictEqual(
        (yield* groups.fetchOffsets("solo", null)).map((f) => [f.topic, f.partition, f.offset]),
        [["t", 0, 42]]
      )
      assert.deepStrictEqual(
        (yield* groups.fetchOffsets("nobody", [{ topic: "t", partitions: [3] }])).map((f) => f.offset),
        [-1]
      )
      // a commit with a generation for a group that does not exist
      assert.strictEqual(
        yield* outcome(
          commit("nobody", { generationId: 3, memberId: "m", groupInstanceId: null }, [
            { topic: "t", partition: 0, offset: 1, leaderEpoch: -1, metadata: null }
          ])
        ),
        "IllegalGeneration"
      )
      // a group with members: stale generations, unknown members and standalone commits are refused
      const { joined } = yield* stableGroup(groups, "g", 1)
      const member = { generationId: 1, memberId: joined[0]!.memberId, groupInstanceId: null }
      const one = [{ topic: "t", partition: 5, offset: 9, leaderEpoch: -1, metadata: null }]
      assert.strictEqual(yield* outcome(commit("g", member, one)), "ok")
      assert.strictEqual(yield* outcome(commit("g", { ...member, generationId: 0 }, one)), "IllegalGeneration")
      assert.strictEqual(yield* outcome(commit("g", { ...member, memberId: "who" }, one)), "UnknownMemberId")
      assert.strictEqual(yield* outcome(commit("g", standalone, one)), "UnknownMemberId")
      assert.deepStrictEqual(
        (yield* groups.fetchOffsets("g", [{ topic: "t", partitions: [5] }])).map((f) => f.offset),
        [9]
      )
    })
  )

  it.scoped("offsets expire after offsets.retention.minutes; a group left with nothing disappears", () =>
    Effect.gen(function* () {
      const { groups } = yield* makeCoordinator(yield* tempDir, {
        extra: { "offsets.retention.minutes": "10", "offsets.retention.check.interval.ms": "60000" }
      })
      yield* groups.commitOffsets("solo", {
        generationId: -1,
        memberId: "",
        groupInstanceId: null,
        retentionTimeMs: -1,
        offsets: [{ topic: "t", partition: 0, offset: 42, leaderEpoch: -1, metadata: null }]
      })
      yield* TestClock.adjust("9 minutes")
      assert.deepStrictEqual(
        (yield* groups.fetchOffsets("solo", [{ topic: "t", partitions: [0] }])).map((f) => f.offset),
        [42]
      )
      assert.deepStrictEqual(
        (yield* groups.listGroups).map((g) => g.groupId),
        ["solo"]
      )
      yield* TestClock.adjust("2 minutes")
      assert.deepStrictEqual(
        (yield* groups.fetchOffsets("solo", [{ topic: "t", partitions: [0] }])).map((f) => f.offset),
        [-1]
      )
      assert.deepStrictEqual(yield* groups.listGroups, [])
    })
  )

  it.scoped("DeleteGroups and OffsetDelete: only empty groups, only unsubscribed topics", () =>
    Effect.gen(function* () {
      const { groups } = yield* makeCoordinator(yield* tempDir)
      const { joined } = yield* stableGroup(groups, "g", 1)
      const member = { generationId: 1, memberId: joined[0]!.memberId, groupInstanceId: null }
      yield* groups.commitOffsets("g", {
        ...member,
        retentionTimeMs: -1,
        offsets: [
          { topic: "t", partition: 0, offset: 1, leaderEpoch: -1, metadata: null },
          { topic: "u", partition: 0, offset: 2, leaderEpoch: -1, metadata: null }
        ]
      })
      assert.strictEqual(yield* outcome(groups.deleteGroup("g")), "NonEmptyGroup")
      assert.strictEqual(yield* outcome(groups.deleteGroup("nope")), "GroupIdNotFound")
      assert.strictEqual(yield* outcome(groups.deleteOffsets("nope", [])), "GroupIdNotFound")
      const deleted = yield* groups.deleteOffsets("g", [
        { topic: "t", partitions: [0] },
        { topic: "u", partitions: [0] }
      ])
      assert.deepStrictEqual(
        deleted.map((d) => [d.topic, d.error?._tag ?? "ok"]),
        [
          ["t", "GroupSubscribedToTopic"],
          ["u", "ok"]
        ]
      )
      assert.deepStrictEqual(
        (yield* groups.fetchOffsets("g", null)).map((f) => [f.topic, f.offset]),
        [["t", 1]]
      )
      const left = yield* groups.leaveGroup("g", [{ memberId: member.memberId, groupInstanceId: null }])
      assert.isUndefined(left[0]!.error)
      assert.strictEqual(yield* state(groups, "g"), "Empty")
      yield* groups.deleteGroup("g")
      assert.strictEqual(yield* state(groups, "g"), "Dead")
      assert.deepStrictEqual(yield* groups.listGroups, [])
      assert.deepStrictEqual(
        (yield* groups.fetchOffsets("g", [{ topic: "t", partitions: [0] }])).map((f) => f.offset),
        [-1]
      )
    })
  )

  it.scoped("group state and offsets survive a restart (replayed from __consumer_offsets on files)", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const first = yield* Effect.scoped(
        Effect.gen(function* () {
          const { groups } = yield* makeCoordinator(dir, { files: true })
          const { joined, synced } = yield* stableGroup(groups, "g", 2)
          yield* groups.commitOffsets("g", {
            generationId: 1,
            memberId: joined[0]!.memberId,
            groupInstanceId: null,
            retentionTimeMs: -1,
            offsets: [{ topic: "t", partition: 3, offset: 33, leaderEpoch: 0, metadata: "meta" }]
          })
          yield* groups.commitOffsets("solo", {
            generationId: -1,
            memberId: "",
            groupInstanceId: null,
            retentionTimeMs: -1,
            offsets: [{ topic: "u", partition: 1, offset: 5, leaderEpoch: -1, metadata: null }]
          })
          return { joined, synced }
        })
      )
      const second = yield* Effect.scoped(
        Effect.gen(function* () {
          const { groups } = yield* makeCoordinator(dir, { files: true })
          const d = yield* groups.describeGroup("g")
          assert.strictEqual(d.state, "Stable")
          assert.deepStrictEqual(d.members.map((m) => m.memberId).sort(), first.joined.map((j) => j.memberId).sort())
          // members carry on with the same generation; their assignments were persisted
          for (const j of first.joined) {
            assert.strictEqual(
              yield* outcome(groups.heartbeat("g", { generationId: 1, memberId: j.memberId, groupInstanceId: null })),
              "ok"
            )
          }
          const synced = yield* groups.syncGroup("g", {
            generationId: 1,
            memberId: first.joined[0]!.memberId,
            groupInstanceId: null,
            protocolType: "consumer",
            protocolName: "range",
            assignments: []
          })
          assert.deepStrictEqual(synced.assignment, first.synced[0]!.assignment)
          assert.deepStrictEqual(
            (yield* groups.fetchOffsets("g", null)).map((f) => [
              f.topic,
              f.partition,
              f.offset,
              f.leaderEpoch,
              f.metadata
            ]),
            [["t", 3, 33, 0, "meta"]]
          )
          assert.deepStrictEqual(
            (yield* groups.fetchOffsets("solo", null)).map((f) => [f.topic, f.partition, f.offset]),
            [["u", 1, 5]]
          )
          yield* groups.leaveGroup(
            "g",
            first.joined.map((j) => ({ memberId: j.memberId, groupInstanceId: null }))
          )
          assert.strictEqual(yield* state(groups, "g"), "Empty")
          yield* groups.deleteGroup("solo")
          return (yield* groups.listGroups).map((g) => [g.groupId, g.state, g.generationId])
        })
      )
      assert.deepStrictEqual(second, [["g", "Empty", 2]])
      yield* Effect.scoped(
        Effect.gen(function* () {
          const { groups } = yield* makeCoordinator(dir, { files: true })
          assert.deepStrictEqual(
            (yield* groups.listGroups).map((g) => [g.groupId, g.state, g.generationId]),
            [["g", "Empty", 2]]
          )
          assert.deepStrictEqual(
            (yield* groups.fetchOffsets("g", null)).map((f) => f.offset),
            [33]
          )
          assert.strictEqual(yield* state(groups, "solo"), "Dead")
        })
      )
    })
  )

  it.scoped("a group emptied by a session timeout (a timer, not a request) is persisted as Empty", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* Effect.scoped(
        Effect.gen(function* () {
          const { groups } = yield* makeCoordinator(dir, { files: true })
          yield* stableGroup(groups, "g", 1, { sessionTimeoutMs: 6000 })
          yield* TestClock.adjust("7 seconds")
          assert.strictEqual(yield* state(groups, "g"), "Empty")
        })
      )
      const { groups } = yield* makeCoordinator(dir, { files: true })
      assert.deepStrictEqual(
        (yield* groups.listGroups).map((g) => [g.groupId, g.state, g.generationId, g.members]),
        [["g", "Empty", 2, 0]]
      )
    })
  )

  it.scoped("an actor that fails restarts from its log; parked requests are answered, not stuck", () =>
    Effect.gen(function* () {
      let crashNext = false
      const { groups } = yield* makeCoordinator(yield* tempDir, {
        coordinator: {
          beforeCommand: (_groupId, command) =>
            Effect.suspend(() => {
              if (!crashNext || command._tag !== "Heartbeat") return Effect.void
              crashNext = false
              return Effect.die(new Error("injected failure"))
            })
        }
      })
      const { joined } = yield* stableGroup(groups, "g", 2)
      const ref = { generationId: 1, memberId: joined[0]!.memberId, groupInstanceId: null }
      // a third member's join is parked while the group rebalances
      const parked = yield* forkJoin(groups, "g")
      yield* Effect.yieldNow()
      assert.strictEqual(yield* state(groups, "g"), "PreparingRebalance")
      crashNext = true
      assert.strictEqual(yield* outcome(groups.heartbeat("g", ref)), "NotCoordinator")
      // the parked join got an answer (clients retry NOT_COORDINATOR), and the group is back as persisted
      assert.strictEqual(yield* outcome(Fiber.join(parked)), "NotCoordinator")
      assert.strictEqual(yield* state(groups, "g"), "Stable")
      assert.strictEqual(yield* outcome(groups.heartbeat("g", ref)), "ok")
      const again = yield* forkJoin(groups, "g")
      yield* Effect.yieldNow()
      yield* Effect.forEach(joined, (j) => Effect.fork(groups.joinGroup("g", joinInput({ memberId: j.memberId }))))
      assert.strictEqual((yield* Fiber.join(again)).generationId, 2)
    })
  )

  it.scoped("protocol vote: the protocol every member supports with the most first preferences", () =>
    Effect.gen(function* () {
      const { groups } = yield* makeCoordinator(yield* tempDir)
      const p = (...names: Array<string>) => names.map((name) => ({ name, metadata: subscription(["t"]) }))
      const a = yield* forkJoin(groups, "g", { protocols: p("roundrobin", "range", "sticky") })
      const b = yield* forkJoin(groups, "g", { protocols: p("range", "roundrobin") })
      const c = yield* forkJoin(groups, "g", { protocols: p("range", "roundrobin", "sticky") })
      const results = yield* Effect.forEach([a, b, c], Fiber.join)
      assert.deepStrictEqual(
        results.map((r) => r.protocolName),
        ["range", "range", "range"]
      )
      // a member without a common protocol cannot join
      assert.strictEqual(
        yield* outcome(groups.joinGroup("g", joinInput({ protocols: p("sticky") }))),
        "InconsistentGroupProtocol"
      )
    })
  )
})
