/**
 * The group apis over a real socket, version by version: FindCoordinator (batched keys, key types),
 * JoinGroup (v0 without MEMBER_ID_REQUIRED, v4+ with it, v7+ protocol fields), SyncGroup, Heartbeat,
 * LeaveGroup (single v0-2, batched v3+), OffsetCommit/OffsetFetch (multi-group v8+), OffsetDelete,
 * DescribeGroups, ListGroups (states filter v4+), DeleteGroups; and the coordinator key hashing.
 */
import * as fs from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { javaStringHashCode, partitionFor } from "../../src/broker/CoordinatorKey.js"
import * as DeleteGroups from "../../src/protocol/generated/DeleteGroups.js"
import * as DescribeGroups from "../../src/protocol/generated/DescribeGroups.js"
import * as FindCoordinator from "../../src/protocol/generated/FindCoordinator.js"
import * as Heartbeat from "../../src/protocol/generated/Heartbeat.js"
import * as JoinGroup from "../../src/protocol/generated/JoinGroup.js"
import * as LeaveGroup from "../../src/protocol/generated/LeaveGroup.js"
import * as ListGroups from "../../src/protocol/generated/ListGroups.js"
import * as OffsetCommit from "../../src/protocol/generated/OffsetCommit.js"
import * as OffsetDelete from "../../src/protocol/generated/OffsetDelete.js"
import * as OffsetFetch from "../../src/protocol/generated/OffsetFetch.js"
import * as SyncGroup from "../../src/protocol/generated/SyncGroup.js"
import { assignment, subscription } from "./groupUtil.js"
import { createTopic } from "./produceFetch.js"
import { connect, type RawClient, startBroker } from "./util.js"

const extra = { "group.initial.rebalance.delay.ms": "0", "offsets.topic.num.partitions": "5" }

const joinRequest = (groupId: string, memberId = "", protocolName = "range") =>
  JoinGroup.makeJoinGroupRequest({
    groupId,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    memberId,
    protocolType: "consumer",
    protocols: [{ name: protocolName, metadata: subscription(["t"]) }]
  })

/** Joins a group of one (v5: MEMBER_ID_REQUIRED first) and syncs; returns member id and generation. */
const joinAlone = (client: RawClient, groupId: string) =>
  Effect.gen(function* () {
    const first = yield* client.send(11, 5, joinRequest(groupId))
    assert.strictEqual(first.errorCode, 79)
    const joined = yield* client.send(11, 5, joinRequest(groupId, first.memberId))
    assert.strictEqual(joined.errorCode, 0)
    const synced = yield* client.send(
      14,
      3,
      SyncGroup.makeSyncGroupRequest({
        groupId,
        generationId: joined.generationId,
        memberId: joined.memberId,
        assignments: [{ memberId: joined.memberId, assignment: assignment("t", [0, 1]) }]
      })
    )
    assert.strictEqual(synced.errorCode, 0)
    return { memberId: joined.memberId, generationId: joined.generationId }
  })

describe("group apis over the wire", () => {
  it("coordinator keys hash like Java's String.hashCode", () => {
    assert.strictEqual(javaStringHashCode(""), 0)
    assert.strictEqual(javaStringHashCode("hello"), 99162322)
    assert.strictEqual(javaStringHashCode("console-consumer-12345"), 158455506)
    // UTF-16 code units, including both halves of a surrogate pair, overflowing to a negative int
    assert.strictEqual(javaStringHashCode("grüppe-😀"), -1039948164)
    // "polygenelubricants".hashCode() is Integer.MIN_VALUE, whose abs Kafka takes as 0
    assert.strictEqual(javaStringHashCode("polygenelubricants"), -2147483648)
    assert.strictEqual(partitionFor("polygenelubricants", 50), 0)
    assert.strictEqual(partitionFor("hello", 50), 22)
    assert.strictEqual(partitionFor("console-consumer-12345", 50), 6)
    assert.strictEqual(partitionFor("grüppe-😀", 50), 14)
  })

  it.scopedLive("FindCoordinator v0-v4: this node for groups and transactions; batched keys; bad key types", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker({ extra })
      const client = yield* connect(broker.address.port)
      const v0 = yield* client.send(10, 0, FindCoordinator.makeFindCoordinatorRequest({ key: "g" }))
      assert.deepStrictEqual([v0.errorCode, v0.nodeId, v0.port], [0, 1, broker.address.port])
      const v1 = yield* client.send(10, 1, FindCoordinator.makeFindCoordinatorRequest({ key: "tx", keyType: 1 }))
      assert.deepStrictEqual([v1.errorCode, v1.nodeId], [0, 1])
      const bad = yield* client.send(10, 2, FindCoordinator.makeFindCoordinatorRequest({ key: "g", keyType: 7 }))
      assert.deepStrictEqual([bad.errorCode, bad.nodeId], [42, -1])
      const v4 = yield* client.send(
        10,
        4,
        FindCoordinator.makeFindCoordinatorRequest({ keyType: 0, coordinatorKeys: ["a", "b", "c"] })
      )
      assert.deepStrictEqual(
        v4.coordinators.map((c) => [c.key, c.nodeId, c.host, c.port, c.errorCode]),
        ["a", "b", "c"].map((k) => [k, 1, "127.0.0.1", broker.address.port, 0])
      )
      // the first group lookup created __consumer_offsets with offsets.topic.num.partitions
      const offsetsDirs = fs.readdirSync(broker.dataDir).filter((d) => d.startsWith("__consumer_offsets-"))
      assert.strictEqual(offsetsDirs.length, 5)
    })
  )

  it.scopedLive("JoinGroup v0 (no member id round trip), v4+ MEMBER_ID_REQUIRED, v7+ protocol type and name", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker({ extra })
      const client = yield* connect(broker.address.port)
      const v0 = yield* client.send(11, 0, joinRequest("g0"))
      assert.strictEqual(v0.errorCode, 0)
      assert.strictEqual(v0.generationId, 1)
      assert.strictEqual(v0.protocolName, "range")
      assert.strictEqual(v0.leader, v0.memberId)
      assert.isTrue(v0.memberId.startsWith("test-"))
      const required = yield* client.send(11, 9, joinRequest("g9"))
      assert.strictEqual(required.errorCode, 79)
      assert.isTrue(required.memberId.startsWith("test-"))
      const v9 = yield* client.send(11, 9, joinRequest("g9", required.memberId))
      assert.deepStrictEqual(
        [v9.errorCode, v9.generationId, v9.protocolType, v9.protocolName, v9.skipAssignment],
        [0, 1, "consumer", "range", false]
      )
      assert.deepStrictEqual(
        v9.members.map((m) => m.memberId),
        [required.memberId]
      )
      // unknown member id, bad session timeout, inconsistent protocol
      const unknown = yield* client.send(11, 5, joinRequest("g9", "ghost"))
      assert.strictEqual(unknown.errorCode, 25)
      const tooShort = yield* client.send(11, 5, { ...joinRequest("g9"), sessionTimeoutMs: 10 })
      assert.strictEqual(tooShort.errorCode, 26)
      const other = yield* client.send(11, 5, joinRequest("g9", "", "sticky"))
      assert.strictEqual(other.errorCode, 23)
      // SyncGroup v5 answers with the protocol type and name
      const synced = yield* client.send(
        14,
        5,
        SyncGroup.makeSyncGroupRequest({
          groupId: "g9",
          generationId: 1,
          memberId: v9.memberId,
          protocolType: "consumer",
          protocolName: "range",
          assignments: [{ memberId: v9.memberId, assignment: assignment("t", [3]) }]
        })
      )
      assert.deepStrictEqual([synced.errorCode, synced.protocolType, synced.protocolName], [0, "consumer", "range"])
      assert.deepStrictEqual(synced.assignment, assignment("t", [3]))
      const hb = (generationId: number, memberId: string) =>
        Effect.map(
          client.send(12, 4, Heartbeat.makeHeartbeatRequest({ groupId: "g9", generationId, memberId })),
          (r) => r.errorCode
        )
      assert.deepStrictEqual([yield* hb(1, v9.memberId), yield* hb(2, v9.memberId), yield* hb(1, "x")], [0, 22, 25])
    })
  )

  it.scopedLive("LeaveGroup v0 answers top-level, v3+ per member; the group empties", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker({ extra })
      const client = yield* connect(broker.address.port)
      const a = yield* joinAlone(client, "ga")
      const v0 = yield* client.send(13, 0, LeaveGroup.makeLeaveGroupRequest({ groupId: "ga", memberId: "ghost" }))
      assert.strictEqual(v0.errorCode, 25)
      const v3 = yield* client.send(
        13,
        5,
        LeaveGroup.makeLeaveGroupRequest({
          groupId: "ga",
          members: [
            { memberId: a.memberId, groupInstanceId: null, reason: "bye" },
            { memberId: "ghost", groupInstanceId: null, reason: null }
          ]
        })
      )
      assert.strictEqual(v3.errorCode, 0)
      assert.deepStrictEqual(
        v3.members.map((m) => [m.memberId, m.errorCode]),
        [
          [a.memberId, 0],
          ["ghost", 25]
        ]
      )
      const d = yield* client.send(15, 5, DescribeGroups.makeDescribeGroupsRequest({ groups: ["ga"] }))
      assert.deepStrictEqual([d.groups[0]!.groupState, d.groups[0]!.members.length], ["Empty", 0])
    })
  )

  it.scopedLive("OffsetCommit and OffsetFetch across versions; OffsetDelete; multi-group OffsetFetch v8", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker({ extra })
      const client = yield* connect(broker.address.port)
      yield* createTopic(client, "t", 3)
      const a = yield* joinAlone(client, "gc")
      const commit = (version: number, groupId: string, generationId: number, memberId: string, metadata: string) =>
        client.send(
          8,
          version,
          OffsetCommit.makeOffsetCommitRequest({
            groupId,
            generationIdOrMemberEpoch: generationId,
            memberId,
            topics: [
              {
                name: "t",
                partitions: [
                  {
                    partitionIndex: 0,
                    committedOffset: 10n,
                    committedLeaderEpoch: 0,
                    commitTimestamp: -1n,
                    committedMetadata: metadata
                  },
                  {
                    partitionIndex: 9,
                    committedOffset: 1n,
                    committedLeaderEpoch: -1,
                    commitTimestamp: -1n,
                    committedMetadata: null
                  }
                ]
              },
              {
                name: "nope",
                partitions: [
                  {
                    partitionIndex: 0,
                    committedOffset: 1n,
                    committedLeaderEpoch: -1,
                    commitTimestamp: -1n,
                    committedMetadata: null
                  }
                ]
              }
            ]
          })
        )
      const codes = (r: OffsetCommit.OffsetCommitResponse) =>
        r.topics.flatMap((t) => t.partitions.map((p) => p.errorCode))
      assert.deepStrictEqual(codes(yield* commit(8, "gc", a.generationId, a.memberId, "ok")), [0, 3, 3])
      assert.deepStrictEqual(codes(yield* commit(8, "gc", a.generationId, a.memberId, "m".repeat(5000))), [12, 3, 3])
      assert.deepStrictEqual(codes(yield* commit(8, "gc", a.generationId + 1, a.memberId, "")), [22, 22, 22])
      assert.deepStrictEqual(codes(yield* commit(2, "solo", -1, "", "s")), [0, 3, 3])
      assert.deepStrictEqual(codes(yield* commit(0, "solo0", -1, "", "z")), [0, 3, 3])

      const v1 = yield* client.send(
        9,
        1,
        OffsetFetch.makeOffsetFetchRequest({ groupId: "gc", topics: [{ name: "t", partitionIndexes: [0, 1] }] })
      )
      assert.deepStrictEqual(
        v1.topics[0]!.partitions.map((p) => [p.partitionIndex, Number(p.committedOffset), p.metadata]),
        [
          [0, 10, "ok"],
          [1, -1, ""]
        ]
      )
      const all = yield* client.send(9, 7, OffsetFetch.makeOffsetFetchRequest({ groupId: "gc", topics: null }))
      assert.deepStrictEqual(
        all.topics.map((t) =>
          t.partitions.map((p) => [t.name, p.partitionIndex, Number(p.committedOffset), p.committedLeaderEpoch])
        ),
        [[["t", 0, 10, 0]]]
      )
      const v8 = yield* client.send(
        9,
        8,
        OffsetFetch.makeOffsetFetchRequest({
          groups: [
            { groupId: "gc", memberId: null, memberEpoch: -1, topics: null },
            { groupId: "solo", memberId: null, memberEpoch: -1, topics: [{ name: "t", partitionIndexes: [0, 2] }] },
            { groupId: "none", memberId: null, memberEpoch: -1, topics: [{ name: "t", partitionIndexes: [1] }] }
          ]
        })
      )
      assert.deepStrictEqual(
        v8.groups.map((g) => [
          g.groupId,
          g.errorCode,
          g.topics.flatMap((t) => t.partitions.map((p) => Number(p.committedOffset)))
        ]),
        [
          ["gc", 0, [10]],
          ["solo", 0, [10, -1]],
          ["none", 0, [-1]]
        ]
      )
      // OffsetDelete: the member's group subscribes to t; solo has no members
      const del = (groupId: string) =>
        client.send(
          47,
          0,
          OffsetDelete.makeOffsetDeleteRequest({
            groupId,
            topics: [
              { name: "t", partitions: [{ partitionIndex: 0 }] },
              { name: "nope", partitions: [{ partitionIndex: 0 }] }
            ]
          })
        )
      const subscribed = yield* del("gc")
      assert.deepStrictEqual(
        subscribed.topics.map((t) => t.partitions[0]!.errorCode),
        [86, 3]
      )
      const solo = yield* del("solo")
      assert.deepStrictEqual([solo.errorCode, ...solo.topics.map((t) => t.partitions[0]!.errorCode)], [0, 0, 3])
      assert.strictEqual((yield* del("missing")).errorCode, 69)
    })
  )

  it.scopedLive("DescribeGroups, ListGroups (states filter), DeleteGroups", () =>
    Effect.gen(function* () {
      const { broker } = yield* startBroker({ extra })
      const client = yield* connect(broker.address.port)
      yield* createTopic(client, "t", 2)
      const a = yield* joinAlone(client, "stable")
      yield* client.send(
        8,
        2,
        OffsetCommit.makeOffsetCommitRequest({
          groupId: "offsets-only",
          topics: [
            {
              name: "t",
              partitions: [
                {
                  partitionIndex: 0,
                  committedOffset: 1n,
                  committedLeaderEpoch: -1,
                  commitTimestamp: -1n,
                  committedMetadata: null
                }
              ]
            }
          ]
        })
      )
      const d = yield* client.send(
        15,
        5,
        DescribeGroups.makeDescribeGroupsRequest({ groups: ["stable", "missing"], includeAuthorizedOperations: true })
      )
      const stable = d.groups[0]!
      assert.deepStrictEqual(
        [stable.errorCode, stable.groupState, stable.protocolType, stable.protocolData, stable.members.length],
        [0, "Stable", "consumer", "range", 1]
      )
      assert.strictEqual(stable.members[0]!.memberId, a.memberId)
      assert.strictEqual(stable.members[0]!.clientHost, "/127.0.0.1")
      assert.deepStrictEqual(stable.members[0]!.memberAssignment, assignment("t", [0, 1]))
      assert.deepStrictEqual(stable.members[0]!.memberMetadata, subscription(["t"]))
      assert.notStrictEqual(stable.authorizedOperations, -2147483648)
      assert.deepStrictEqual([d.groups[1]!.errorCode, d.groups[1]!.groupState], [0, "Dead"])

      const list = (version: number, statesFilter: Array<string> = []) =>
        Effect.map(client.send(16, version, ListGroups.makeListGroupsRequest({ statesFilter })), (r) =>
          r.groups.map((g) => [g.groupId, g.protocolType, g.groupState])
        )
      assert.deepStrictEqual(yield* list(0), [
        ["offsets-only", "", ""],
        ["stable", "consumer", ""]
      ])
      assert.deepStrictEqual(yield* list(4, ["stable"]), [["stable", "consumer", "Stable"]])
      assert.deepStrictEqual(yield* list(5, ["Empty"]), [["offsets-only", "", "Empty"]])

      const deleted = yield* client.send(
        42,
        2,
        DeleteGroups.makeDeleteGroupsRequest({ groupsNames: ["stable", "offsets-only", "missing"] })
      )
      assert.deepStrictEqual(
        deleted.results.map((r) => [r.groupId, r.errorCode]),
        [
          ["stable", 68],
          ["offsets-only", 0],
          ["missing", 69]
        ]
      )
      assert.deepStrictEqual(yield* list(4), [["stable", "consumer", "Stable"]])
    })
  )
})
