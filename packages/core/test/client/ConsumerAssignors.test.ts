import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import * as A from "../../src/client/internal/assignors.js"

const member = (
  memberId: string,
  topics: ReadonlyArray<string>,
  owned: A.PartitionsByTopic = new Map(),
  generationId = -1
): A.MemberSubscription => ({ memberId, groupInstanceId: null, topics, ownedPartitions: owned, generationId })

const flat = (a: A.GroupAssignment) => {
  const out: Array<[string, string, number]> = []
  for (const [m, byTopic] of a) for (const [t, ps] of byTopic) for (const p of ps) out.push([m, t, p])
  return out
}

const plain = (a: A.GroupAssignment) =>
  Object.fromEntries([...a].map(([m, byTopic]) => [m, Object.fromEntries([...byTopic].map(([t, ps]) => [t, [...ps]]))]))

/** Every partition of a subscribed topic goes to exactly one member subscribed to it. */
const assertComplete = (
  members: ReadonlyArray<A.MemberSubscription>,
  counts: ReadonlyMap<string, number>,
  a: A.GroupAssignment
) => {
  const seen = new Set<string>()
  for (const [m, t, p] of flat(a)) {
    const k = `${t}-${p}`
    assert.isFalse(seen.has(k), `${k} assigned twice`)
    seen.add(k)
    assert.isTrue(members.find((x) => x.memberId === m)!.topics.includes(t), `${m} is not subscribed to ${t}`)
  }
  for (const [t, n] of counts) {
    if (!members.some((m) => m.topics.includes(t))) continue
    for (let p = 0; p < n; p++) assert.isTrue(seen.has(`${t}-${p}`), `${t}-${p} unassigned`)
  }
}

const loads = (a: A.GroupAssignment) =>
  [...a.values()].map((byTopic) => [...byTopic.values()].reduce((n, ps) => n + ps.length, 0))

const toOwned = (a: A.GroupAssignment, memberId: string): A.PartitionsByTopic => a.get(memberId) ?? new Map()

const groupArb = fc.record({
  members: fc.integer({ min: 1, max: 6 }),
  topics: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 })
})

describe("assignors", () => {
  it("range: consecutive ranges per topic, the first members get the extra partitions (as in Kafka)", () => {
    const counts = new Map([
      ["t0", 3],
      ["t1", 3]
    ])
    const members = [member("c1", ["t0", "t1"]), member("c0", ["t0", "t1"])]
    assert.deepStrictEqual(plain(A.range(members, counts)), {
      c0: { t0: [0, 1], t1: [0, 1] },
      c1: { t0: [2], t1: [2] }
    })
  })

  it("roundrobin: partitions of all topics in turn over the sorted members (as in Kafka)", () => {
    const counts = new Map([
      ["t0", 3],
      ["t1", 3]
    ])
    const members = [member("c1", ["t0", "t1"]), member("c0", ["t0", "t1"])]
    assert.deepStrictEqual(plain(A.roundrobin(members, counts)), {
      c0: { t0: [0, 2], t1: [1] },
      c1: { t0: [1], t1: [0, 2] }
    })
  })

  it("static members sort before dynamic ones, by instance id", () => {
    const counts = new Map([["t", 2]])
    const members = [member("a", ["t"]), { ...member("z", ["t"]), groupInstanceId: "instance-1" }]
    assert.deepStrictEqual(plain(A.range(members, counts)), { a: { t: [1] }, z: { t: [0] } })
  })

  it("range and roundrobin assign every partition once, to a subscribed member, balanced", () => {
    fc.assert(
      fc.property(
        groupArb,
        fc.array(fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), { maxLength: 6 }),
        (g, subs) => {
          const counts = new Map(g.topics.map((n, i) => [`t${i}`, n]))
          const all = [...counts.keys()]
          const members = Array.from({ length: g.members }, (_, i) =>
            member(`m${i}`, subs[i] === undefined ? all : all.filter((_, j) => subs[i]![j]))
          )
          for (const assignor of [A.range, A.roundrobin]) assertComplete(members, counts, assignor(members, counts))
          // with one subscription for all, roundrobin is balanced over all topics
          const same = members.map((m) => ({ ...m, topics: all }))
          const l = loads(A.roundrobin(same, counts))
          assert.isAtMost(Math.max(...l) - Math.min(...l), 1)
        }
      )
    )
  })

  it("cooperative-sticky: balanced, sticky, and never hands over a partition its owner still holds", () => {
    fc.assert(
      fc.property(groupArb, fc.integer({ min: 1, max: 3 }), (g, joining) => {
        const counts = new Map(g.topics.map((n, i) => [`t${i}`, n]))
        const topics = [...counts.keys()]
        const first = Array.from({ length: g.members }, (_, i) => member(`m${i}`, topics))
        const gen1 = A.cooperativeSticky(first, counts)
        assertComplete(first, counts, gen1)
        const l1 = loads(gen1)
        assert.isAtMost(Math.max(...l1) - Math.min(...l1), 1)
        // new members join: owners keep what they keep, nothing moves while its owner still has it
        const second = [
          ...first.map((m) => member(m.memberId, topics, toOwned(gen1, m.memberId), 1)),
          ...Array.from({ length: joining }, (_, i) => member(`n${i}`, topics))
        ]
        const gen2 = A.cooperativeSticky(second, counts)
        const ownerBefore = new Map(flat(gen1).map(([m, t, p]) => [`${t}-${p}`, m]))
        for (const [m, t, p] of flat(gen2)) {
          const before = ownerBefore.get(`${t}-${p}`)
          assert.isTrue(before === undefined || before === m, `${t}-${p} moved from ${before} to ${m} in one step`)
        }
        // after the owners revoked, the follow-up rebalance completes and balances the group
        const third = second.map((m) => member(m.memberId, topics, toOwned(gen2, m.memberId), 2))
        const gen3 = A.cooperativeSticky(third, counts)
        assertComplete(third, counts, gen3)
        const l3 = loads(gen3)
        assert.isAtMost(Math.max(...l3) - Math.min(...l3), 1)
        // sticky: what a member kept in generation 2 it still has
        for (const [m, t, p] of flat(gen2)) {
          assert.isTrue(gen3.get(m)?.get(t)?.includes(p) === true, `${t}-${p} left ${m}`)
        }
      })
    )
  })

  it("a claim of an older generation loses to the newest one", () => {
    const counts = new Map([["t", 2]])
    const members = [member("a", ["t"], new Map([["t", [0, 1]]]), 3), member("b", ["t"], new Map([["t", [0]]]), 2)]
    const a = A.cooperativeSticky(members, counts)
    assert.deepStrictEqual(
      flat(a).filter(([m]) => m === "b"),
      []
    )
    assert.deepStrictEqual(a.get("a")?.get("t"), [1])
  })

  it("subscription and assignment bytes round trip; v0 subscriptions (kafkajs) read", () => {
    const bytes = A.encodeSubscription({
      topics: ["a", "b"],
      userData: A.subscriptionUserData("cooperative-sticky", 7),
      ownedPartitions: new Map([["a", [1, 2]]]),
      generationId: 7
    })
    // int16 version 3 first
    assert.deepStrictEqual([bytes[0], bytes[1]], [0, 3])
    const s = A.decodeSubscription("m", null, bytes)
    assert.deepStrictEqual(s.topics, ["a", "b"])
    assert.deepStrictEqual([...s.ownedPartitions], [["a", [1, 2]]])
    assert.strictEqual(s.generationId, 7)
    // version 0: int16 0, topics ["t"], user data null
    const v0 = Uint8Array.from([0, 0, 0, 0, 0, 1, 0, 1, 116, 255, 255, 255, 255])
    assert.deepStrictEqual(A.decodeSubscription("k", null, v0).topics, ["t"])
    const assignment = A.encodeAssignment(new Map([["a", [0, 3]]]))
    assert.deepStrictEqual([...A.decodeAssignment(assignment)], [["a", [0, 3]]])
    assert.strictEqual(A.decodeAssignment(new Uint8Array(0)).size, 0)
  })
})
