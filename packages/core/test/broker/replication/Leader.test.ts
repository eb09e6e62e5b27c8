/**
 * The leader's and the follower's pure replication decisions, without fibers: high watermark rules, ISR
 * shrink and expansion, acks=all readiness, and the follower's truncation point (fast-check properties).
 */
import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as Follower from "../../../src/broker/internal/replication/follower.js"
import * as Leader from "../../../src/broker/internal/replication/leader.js"
import { type EpochEntry, LeaderEpochCache } from "../../../src/log/LeaderEpochCache.js"

const three = (o: Partial<Leader.InitOptions> = {}) =>
  Leader.init({
    self: 1,
    topic: "t",
    partition: 0,
    leaderEpoch: 1,
    partitionEpoch: 1,
    replicas: [1, 2, 3],
    isr: [1, 2, 3],
    leo: 0,
    hw: 0,
    nowMs: 0,
    lagTimeMaxMs: 1000,
    ...o
  })

const run = (state: Leader.LeaderState, inputs: ReadonlyArray<Leader.Input>) => {
  const effects: Array<Leader.Effect> = []
  for (const input of inputs) {
    const s = Leader.step(state, input)
    state = s.state
    effects.push(...s.effects)
  }
  return { state, effects }
}

describe("leader state", () => {
  it("a single replica's high watermark follows its log end", () => {
    const s = Leader.init({
      self: 1,
      topic: "t",
      partition: 0,
      leaderEpoch: 0,
      partitionEpoch: 0,
      replicas: [1],
      isr: [1],
      leo: 0,
      hw: 0,
      nowMs: 0
    })
    const r = Leader.step(s, { _tag: "Appended", leo: 5, nowMs: 1 })
    assert.deepStrictEqual(r.effects, [{ _tag: "HighWatermark", hw: 5 }])
    assert.isTrue(Leader.acksAllReady(r.state, 5))
    assert.isFalse(Leader.acksAllReady(r.state, 6))
    assert.isTrue(Leader.enoughReplicas(r.state))
  })

  it("the high watermark is the smallest log end of the ISR", () => {
    const { state, effects } = run(three(), [
      { _tag: "Appended", leo: 10, nowMs: 1 },
      { _tag: "FollowerFetched", replica: 2, fetchOffset: 10, nowMs: 2 },
      { _tag: "FollowerFetched", replica: 3, fetchOffset: 4, nowMs: 2 }
    ])
    assert.strictEqual(state.hw, 4)
    assert.deepStrictEqual(effects, [{ _tag: "HighWatermark", hw: 4 }])
    assert.strictEqual(Leader.acksAllStatus(state, 10), "waiting")
    const after = Leader.step(state, { _tag: "FollowerFetched", replica: 3, fetchOffset: 10, nowMs: 3 })
    assert.deepStrictEqual(after.effects, [{ _tag: "HighWatermark", hw: 10 }])
    assert.strictEqual(Leader.acksAllStatus(after.state, 10), "ready")
  })

  it("shrinks the ISR when a follower is not caught up for replica.lag.time.max.ms, then the hw advances", () => {
    const { state, effects } = run(three(), [
      { _tag: "Appended", leo: 10, nowMs: 0 },
      { _tag: "FollowerFetched", replica: 2, fetchOffset: 10, nowMs: 100 },
      { _tag: "Tick", nowMs: 900 },
      { _tag: "FollowerFetched", replica: 2, fetchOffset: 10, nowMs: 1001 },
      { _tag: "Tick", nowMs: 1001 }
    ])
    // replica 3 never fetched: caught up at the election (0), lagging past 1000 ms
    assert.deepStrictEqual(effects, [{ _tag: "ProposeIsr", isr: [1, 2], partitionEpoch: 2 }])
    assert.deepStrictEqual(state.pendingIsr, [1, 2])
    // the removed member counts until the store commits
    assert.strictEqual(state.hw, 0)
    // at most one proposal in flight
    assert.deepStrictEqual(Leader.step(state, { _tag: "Tick", nowMs: 5000 }).effects, [])
    const committed = Leader.step(state, { _tag: "IsrCommitted", isr: [1, 2], partitionEpoch: 2 })
    assert.deepStrictEqual(committed.effects, [{ _tag: "HighWatermark", hw: 10 }])
    assert.deepStrictEqual(committed.state.isr, [1, 2])
    assert.strictEqual(committed.state.partitionEpoch, 2)
  })

  it("expands the ISR with a follower caught up to the leader's log end and the high watermark", () => {
    const start = three({ isr: [1, 2], leo: 10, hw: 10, epochStartOffset: 10 })
    const behind = Leader.step(start, { _tag: "FollowerFetched", replica: 3, fetchOffset: 5, nowMs: 1 })
    assert.deepStrictEqual(behind.effects, [])
    const caught = Leader.step(behind.state, { _tag: "FollowerFetched", replica: 3, fetchOffset: 10, nowMs: 2 })
    assert.deepStrictEqual(caught.effects, [{ _tag: "ProposeIsr", isr: [1, 2, 3], partitionEpoch: 2 }])
    const rejected = Leader.step(caught.state, { _tag: "IsrRejected" })
    assert.strictEqual(rejected.state.pendingIsr, undefined)
  })

  it("acks=all: NOT_ENOUGH_REPLICAS below min.insync.replicas, after the append when the ISR shrank meanwhile", () => {
    const s = three({ isr: [1], minInsync: 2, leo: 3, hw: 3 })
    assert.isFalse(Leader.enoughReplicas(s))
    assert.strictEqual(Leader.acksAllStatus(s, 3), "notEnoughReplicasAfterAppend")
    assert.isTrue(Leader.enoughReplicas(three({ minInsync: 2 })))
  })

  const inputs = fc.array(
    fc.oneof(
      fc.record({ _tag: fc.constant("Appended" as const), leo: fc.nat(200), nowMs: fc.nat(10_000) }),
      fc.record({
        _tag: fc.constant("FollowerFetched" as const),
        replica: fc.constantFrom(2, 3),
        fetchOffset: fc.nat(200),
        nowMs: fc.nat(10_000)
      }),
      fc.record({ _tag: fc.constant("Tick" as const), nowMs: fc.nat(10_000) }),
      fc.constant({ _tag: "Commit" as const }),
      fc.constant({ _tag: "IsrRejected" as const })
    ),
    { maxLength: 60 }
  )

  /** A generated input as the leader sees it: "Commit" commits the pending ISR (else ticks), at time `time`. */
  const toInput = (
    raw: typeof inputs extends fc.Arbitrary<ReadonlyArray<infer A>> ? A : never,
    state: Leader.LeaderState,
    time: number
  ): Leader.Input =>
    raw._tag === "Commit"
      ? state.pendingIsr === undefined
        ? { _tag: "Tick", nowMs: time }
        : { _tag: "IsrCommitted", isr: state.pendingIsr, partitionEpoch: state.partitionEpoch + 1 }
      : "nowMs" in raw
        ? { ...raw, nowMs: time }
        : raw

  it.prop("the hw never decreases and never passes a maximal-ISR member's log end", [inputs], ([list]) => {
    let state = three({ isr: [1, 2] })
    let time = 0
    for (const raw of list) {
      // time only moves forward
      if ("nowMs" in raw) time = Math.max(time, raw.nowMs)
      const input = toInput(raw, state, time)
      const before = state
      const { state: next, effects } = Leader.step(state, input)
      state = next
      assert.isAtLeast(state.hw, before.hw)
      for (const id of Leader.maximalIsr(state)) {
        const leo = id === state.self ? state.leo : state.followers.get(id)!.leo
        assert.isAtMost(state.hw, Math.max(leo, before.hw))
      }
      assert.isAtMost(effects.filter((e) => e._tag === "ProposeIsr").length, 1)
      if (before.pendingIsr !== undefined) assert.isFalse(effects.some((e) => e._tag === "ProposeIsr"))
      for (const e of effects) if (e._tag === "HighWatermark") assert.strictEqual(e.hw, state.hw)
      assert.isTrue(state.isr.includes(1))
      const proposal = effects.find((e) => e._tag === "ProposeIsr")
      if (input._tag === "Tick" && before.pendingIsr === undefined) {
        // shrink after lag: exactly the ISR members not caught up within lagTimeMaxMs are dropped
        const kept = before.isr.filter(
          (id) => id === before.self || Leader.isCaughtUp(before, before.followers.get(id)!, input.nowMs)
        )
        if (kept.length === before.isr.length) assert.isUndefined(proposal)
        else
          assert.deepStrictEqual(proposal, { _tag: "ProposeIsr", isr: kept, partitionEpoch: before.partitionEpoch + 1 })
      }
      if (
        input._tag === "FollowerFetched" &&
        before.pendingIsr === undefined &&
        !before.isr.includes(input.replica) &&
        input.fetchOffset >= before.leo &&
        before.leo >= before.epochStartOffset
      ) {
        // expand when caught up: a replica fetching at the leader's log end (>= the hw) joins
        assert.deepStrictEqual(proposal, {
          _tag: "ProposeIsr",
          isr: [...before.isr, input.replica],
          partitionEpoch: before.partitionEpoch + 1
        })
      }
    }
  })

  it.prop(
    "a leader starting from a checkpointed hw keeps it (at most its log end) until the ISR passes it, never below",
    [fc.nat(300), fc.nat(200), inputs],
    ([checkpointed, leo, list]) => {
      let state = three({ leo, hw: checkpointed })
      const start = Math.min(checkpointed, leo)
      assert.strictEqual(state.hw, start)
      // the followers have not fetched: committing the ISR as it is changes nothing
      const committed = Leader.step(state, {
        _tag: "IsrCommitted",
        isr: state.isr,
        partitionEpoch: state.partitionEpoch
      })
      assert.strictEqual(committed.state.hw, start)
      assert.deepStrictEqual(committed.effects, [])
      let time = 0
      for (const raw of list) {
        if ("nowMs" in raw) time = Math.max(time, raw.nowMs)
        const input = toInput(raw, state, time)
        const before = state.hw
        state = Leader.step(state, input).state
        assert.isAtLeast(state.hw, before)
        assert.isAtMost(state.hw, Math.max(state.leo, start))
      }
    }
  )
})

/** The epoch cache entries of a log given as one epoch per offset. */
const entriesOf = (log: ReadonlyArray<number>): Array<EpochEntry> => {
  const out: Array<EpochEntry> = []
  log.forEach((epoch, offset) => {
    if (out.length === 0 || out[out.length - 1]!.epoch !== epoch) out.push({ epoch, startOffset: offset })
  })
  return out
}

/** Runs the follower's truncation rounds against the leader until complete; returns the final log end. */
const truncateAgainst = (follower: ReadonlyArray<number>, leader: ReadonlyArray<number>, hw: number): number => {
  const leaderCache = new LeaderEpochCache(entriesOf(leader))
  let log = [...follower]
  for (let round = 0; round < 100; round++) {
    const entries = entriesOf(log)
    const asked = Follower.epochToAsk(entries)
    if (asked === undefined) return log.length
    const answer = leaderCache.endOffsetFor(asked, leader.length)
    const t = Follower.truncationPoint(entries, log.length, hw, answer)
    assert.isAtMost(t.offset, log.length)
    log = log.slice(0, t.offset)
    if (t.complete) return log.length
  }
  assert.fail("truncation did not complete")
}

describe("leading a record", () => {
  it("only for a record naming this broker, written after its current registration", () => {
    assert.isTrue(Leader.leadsRecord(1, 1, 11, 10))
    assert.isFalse(Leader.leadsRecord(1, 1, 9, 10), "an earlier incarnation's record")
    assert.isFalse(Leader.leadsRecord(1, 1, 11, undefined), "not registered now")
    assert.isFalse(Leader.leadsRecord(1, 2, 11, 10), "another broker leads")
  })
})

describe("follower truncation", () => {
  // a shared history, then diverging suffixes: the leader's latest epoch is the highest, and the two suffixes use
  // different epochs (one leader per epoch), one of them possibly continuing the last shared epoch
  const histories = fc
    .record({
      shared: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 6 }),
      followerRuns: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 4 }),
      leaderRuns: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 4 }),
      continues: fc.constantFrom("none", "follower", "leader"),
      choice: fc.array(fc.boolean(), { minLength: 16, maxLength: 16 })
    })
    .map(({ shared, followerRuns, leaderRuns, continues, choice }) => {
      const common: Array<number> = []
      shared.forEach((n, i) => {
        for (let k = 0; k < n; k++) common.push(i)
      })
      const last = common.length === 0 ? -1 : common[common.length - 1]!
      // epochs above `last`, dealt to the follower or the leader; the leader's run gets the top epoch
      const f: Array<number> = []
      const l: Array<number> = []
      let next = last + 1
      let fi = 0
      let li = 0
      let turn = 0
      while (fi < followerRuns.length || li < leaderRuns.length) {
        const toFollower = li >= leaderRuns.length || (fi < followerRuns.length && choice[turn++ % 16]!)
        if (toFollower) f.push(...Array<number>(followerRuns[fi++]!).fill(next++))
        else l.push(...Array<number>(leaderRuns[li++]!).fill(next++))
      }
      l.push(next) // the current leader epoch starts with one record
      if (continues === "follower" && last >= 0) f.unshift(last)
      if (continues === "leader" && last >= 0) l.unshift(last)
      return { common, follower: [...common, ...f], leader: [...common, ...l] }
    })

  it.prop("truncates exactly the divergent suffix, never below the common prefix", [histories], ([h]) => {
    const end = truncateAgainst(h.follower, h.leader, 0)
    let prefix = 0
    while (prefix < h.follower.length && prefix < h.leader.length && h.follower[prefix] === h.leader[prefix]) prefix++
    assert.strictEqual(end, prefix)
  })

  it("leader without epoch information: truncate to the high watermark; leader older than asked: to its end", () => {
    const entries = [{ epoch: 3, startOffset: 0 }]
    assert.deepStrictEqual(
      Follower.truncationPoint(entries, 10, 4, { leaderEpoch: Follower.UNDEFINED_EPOCH, endOffset: -1 }),
      { offset: 4, complete: true }
    )
    assert.deepStrictEqual(
      Follower.truncationPoint(entries, 10, 4, { leaderEpoch: Follower.UNDEFINED_EPOCH, endOffset: 6 }),
      { offset: 6, complete: true }
    )
    // the leader answers epoch 2, which the follower skipped: truncate to its epoch-1 end and ask again
    const skipped = [
      { epoch: 1, startOffset: 0 },
      { epoch: 3, startOffset: 5 }
    ]
    assert.deepStrictEqual(Follower.truncationPoint(skipped, 10, 0, { leaderEpoch: 2, endOffset: 8 }), {
      offset: 5,
      complete: false
    })
    assert.strictEqual(Follower.followerHighWatermark(12, 10), 10)
    assert.strictEqual(Follower.followerHighWatermark(8, 10), 8)
  })
})
