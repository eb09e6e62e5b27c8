/**
 * The controller's pure step and replica assignment, without fibers: elections on broker loss (clean and unclean),
 * controlled shutdown, preferred elections and auto-rebalancing, reassignments, and properties over random event
 * sequences (leaders always fit, epochs only grow, ISRs never empty) and random rack layouts (placement spreads).
 */
import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { assignReplicas } from "../../src/broker/internal/controller/assignment.js"
import {
  type ControllerEvent,
  type ControllerState,
  initial,
  type LiveBroker,
  partitionKey,
  type StepResult,
  step,
  type WritePartition
} from "../../src/broker/internal/controller/step.js"
import { PartitionState } from "../../src/broker/MetadataRecords.js"
import { ErrorCode } from "../../src/protocol/generated/ErrorCode.js"

const broker = (id: number, rack: string | null = null): LiveBroker => ({ id, rack, shuttingDown: false })

/** A little store: applies the controller's writes (CAS on versions) and feeds them back, as the actor does. */
class Model {
  state: ControllerState
  version = 1
  records = new Map<string, { state: PartitionState; version: number }>()
  constructor(options: { unclean?: boolean } = {}) {
    this.state = initial({ uncleanDefault: options.unclean ?? false, imbalancePercentage: 10 })
  }
  send(event: ControllerEvent): StepResult {
    const out = step(this.state, event)
    this.state = out.state
    for (const w of out.effects) this.write(w)
    return out
  }
  write(w: WritePartition) {
    const key = partitionKey(w.state.topic, w.state.partition)
    const current = this.records.get(key)?.version ?? 0
    if (current !== w.expectedVersion) return
    const record = { state: w.state, version: ++this.version }
    this.records.set(key, record)
    this.send({ _tag: "PartitionChanged", record })
  }
  /** Creates a partition record as CreateTopics does (leader = first replica, ISR = replicas). */
  create(topic: string, partition: number, replicas: ReadonlyArray<number>, configs: Record<string, string> = {}) {
    this.send({ _tag: "TopicChanged", topic: { name: topic, partitions: partition + 1, configs } })
    const state = new PartitionState({
      topic,
      partition,
      replicas,
      isr: replicas,
      leader: replicas[0]!,
      leaderEpoch: 0,
      partitionEpoch: 0
    })
    this.write({ _tag: "WritePartition", state, expectedVersion: 0 })
  }
  get(topic: string, partition = 0): PartitionState {
    return this.records.get(partitionKey(topic, partition))!.state
  }
  /** The leader adds caught-up replicas to the ISR (what the replication code does). */
  expandIsr(topic: string, partition: number, ids: ReadonlyArray<number>) {
    const key = partitionKey(topic, partition)
    const r = this.records.get(key)!
    const state = new PartitionState({
      ...r.state,
      isr: [...r.state.isr, ...ids.filter((b) => !r.state.isr.includes(b))],
      partitionEpoch: r.state.partitionEpoch + 1
    })
    this.write({ _tag: "WritePartition", state, expectedVersion: r.version })
  }
}

const threeBrokers = (options: { unclean?: boolean } = {}) => {
  const m = new Model(options)
  for (const id of [1, 2, 3]) m.send({ _tag: "BrokerChanged", broker: broker(id) })
  return m
}

describe("controller step", () => {
  it("a broker registered after a record's last change is shown lost and back; writes carry the registrations", () => {
    let state = initial({ uncleanDefault: false, imbalancePercentage: 10 })
    for (const [id, registration] of [
      [1, 10],
      [2, 3],
      [3, 4]
    ] as const)
      state = step(state, { _tag: "BrokerChanged", broker: { ...broker(id), registration } }).state
    const record = (version: number) => ({
      state: new PartitionState({
        topic: "t",
        partition: 0,
        replicas: [1, 2, 3],
        isr: [1, 2, 3],
        leader: 1,
        leaderEpoch: 0,
        partitionEpoch: 0
      }),
      version
    })
    // written after broker 1's registration: its leadership is this incarnation's, nothing to do
    assert.deepStrictEqual(step(state, { _tag: "PartitionChanged", record: record(20) }).effects, [])
    // written before it (broker 1 restarted since): a new leader in a new epoch, and 1 leaves the ISR
    const out = step(state, { _tag: "PartitionChanged", record: record(5) })
    assert.strictEqual(out.effects.length, 1)
    const w = out.effects[0]!
    assert.strictEqual(w.expectedVersion, 5)
    assert.strictEqual(w.state.leader, 2)
    assert.strictEqual(w.state.leaderEpoch, 1)
    assert.deepStrictEqual(w.state.isr, [2, 3])
    assert.deepStrictEqual(w.registrations, [
      { brokerId: 2, version: 3 },
      { brokerId: 3, version: 4 }
    ])
    assert.strictEqual(out.state.brokers.get(1)?.registration, 10, "broker 1 is back")
  })

  it("a lost leader is replaced by the first live ISR member, with higher epochs, and leaves the ISR", () => {
    const m = threeBrokers()
    m.create("t", 0, [1, 2, 3])
    const before = m.get("t")
    m.send({ _tag: "BrokerLost", brokerId: 1 })
    const after = m.get("t")
    assert.strictEqual(after.leader, 2)
    assert.deepStrictEqual(after.isr, [2, 3])
    assert.strictEqual(after.leaderEpoch, before.leaderEpoch + 1)
    assert.isAbove(after.partitionEpoch, before.partitionEpoch)
  })

  it("a lost follower leaves the ISR without a leader change", () => {
    const m = threeBrokers()
    m.create("t", 0, [1, 2, 3])
    m.send({ _tag: "BrokerLost", brokerId: 3 })
    const p = m.get("t")
    assert.strictEqual(p.leader, 1)
    assert.strictEqual(p.leaderEpoch, 0)
    assert.deepStrictEqual(p.isr, [1, 2])
  })

  it("without a live ISR member the partition goes offline, and comes back with its last ISR member", () => {
    const m = threeBrokers()
    m.create("t", 0, [1, 2])
    m.send({ _tag: "BrokerLost", brokerId: 2 })
    m.send({ _tag: "BrokerLost", brokerId: 1 })
    assert.strictEqual(m.get("t").leader, -1)
    assert.deepStrictEqual(m.get("t").isr, [1])
    m.send({ _tag: "BrokerChanged", broker: broker(2) })
    assert.strictEqual(m.get("t").leader, -1, "an out-of-sync replica does not lead (unclean election is off)")
    m.send({ _tag: "BrokerChanged", broker: broker(1) })
    assert.strictEqual(m.get("t").leader, 1)
  })

  it("unclean election picks the first live replica when the topic enables it", () => {
    const m = threeBrokers()
    m.create("t", 0, [1, 2], { "unclean.leader.election.enable": "true" })
    m.send({ _tag: "BrokerLost", brokerId: 2 })
    m.send({ _tag: "BrokerLost", brokerId: 1 })
    m.send({ _tag: "BrokerChanged", broker: broker(2) })
    assert.strictEqual(m.get("t").leader, 2)
    assert.deepStrictEqual(m.get("t").isr, [2])
  })

  it("controlled shutdown moves leadership to another ISR member and leaves the ISR", () => {
    const m = threeBrokers()
    m.create("t", 0, [1, 2, 3])
    m.create("u", 0, [1])
    m.send({ _tag: "ControlledShutdownRequested", brokerId: 1 })
    assert.strictEqual(m.get("t").leader, 2)
    assert.deepStrictEqual(m.get("t").isr, [2, 3])
    assert.strictEqual(m.get("u").leader, 1, "the only ISR member keeps leading until it is gone")
    m.send({ _tag: "BrokerLost", brokerId: 1 })
    assert.strictEqual(m.get("u").leader, -1)
  })

  it("preferred election moves leadership back; unclean election elects only leaderless partitions", () => {
    const m = threeBrokers()
    m.create("t", 0, [1, 2, 3])
    m.send({ _tag: "BrokerLost", brokerId: 1 })
    const tp = [{ topic: "t", partition: 0 }]
    assert.strictEqual(
      m.send({ _tag: "ElectionRequested", partitions: tp, unclean: false }).results[0]!.errorCode,
      ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE
    )
    m.send({ _tag: "BrokerChanged", broker: broker(1) })
    assert.strictEqual(m.get("t").leader, 2)
    assert.strictEqual(
      m.send({ _tag: "ElectionRequested", partitions: tp, unclean: false }).results[0]!.errorCode,
      ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE,
      "broker 1 is not back in the ISR yet"
    )
    m.expandIsr("t", 0, [1])
    const epoch = m.get("t").leaderEpoch
    assert.strictEqual(
      m.send({ _tag: "ElectionRequested", partitions: tp, unclean: false }).results[0]!.errorCode,
      ErrorCode.NONE
    )
    assert.strictEqual(m.get("t").leader, 1)
    assert.strictEqual(m.get("t").leaderEpoch, epoch + 1)
    const again = m.send({ _tag: "ElectionRequested", partitions: tp, unclean: false })
    assert.strictEqual(again.results[0]!.errorCode, ErrorCode.ELECTION_NOT_NEEDED)
    assert.strictEqual(
      m.send({ _tag: "ElectionRequested", partitions: tp, unclean: true }).results[0]!.errorCode,
      ErrorCode.ELECTION_NOT_NEEDED
    )
    assert.strictEqual(
      m.send({ _tag: "ElectionRequested", partitions: [{ topic: "x", partition: 0 }], unclean: false }).results[0]!
        .errorCode,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    )
  })

  it("the rebalance tick restores preferred leaders past the imbalance threshold", () => {
    const m = threeBrokers()
    m.create("t", 0, [1, 2, 3])
    m.send({ _tag: "BrokerLost", brokerId: 1 })
    m.send({ _tag: "BrokerChanged", broker: broker(1) })
    m.expandIsr("t", 0, [1])
    assert.strictEqual(m.get("t").leader, 2)
    m.send({ _tag: "RebalanceTick" })
    assert.strictEqual(m.get("t").leader, 1)
  })

  it("a reassignment adds replicas, waits for them in the ISR, moves the leader and drops the removed ones", () => {
    const m = threeBrokers()
    m.send({ _tag: "BrokerChanged", broker: broker(4) })
    m.create("t", 0, [1, 2])
    const r = m.send({ _tag: "ReassignmentRequested", topic: "t", partition: 0, target: [3, 4] })
    assert.strictEqual(r.results[0]!.errorCode, ErrorCode.NONE)
    let p = m.get("t")
    assert.deepStrictEqual(p.replicas, [3, 4, 1, 2])
    assert.deepStrictEqual(p.addingReplicas, [3, 4])
    assert.deepStrictEqual(p.removingReplicas, [1, 2])
    assert.strictEqual(p.leader, 1)
    m.expandIsr("t", 0, [3])
    assert.deepStrictEqual(m.get("t").addingReplicas, [3, 4], "waits for every added replica")
    m.expandIsr("t", 0, [4])
    p = m.get("t")
    assert.deepStrictEqual(p.replicas, [3, 4])
    assert.deepStrictEqual(p.isr, [3, 4])
    assert.deepStrictEqual(p.addingReplicas, [])
    assert.deepStrictEqual(p.removingReplicas, [])
    assert.strictEqual(p.leader, 3)
    assert.strictEqual(
      m.send({ _tag: "ReassignmentRequested", topic: "t", partition: 0, target: null }).results[0]!.errorCode,
      ErrorCode.NO_REASSIGNMENT_IN_PROGRESS
    )
  })

  it("a cancelled reassignment goes back to the original replicas; bad targets are refused", () => {
    const m = threeBrokers()
    m.create("t", 0, [1])
    m.send({ _tag: "ReassignmentRequested", topic: "t", partition: 0, target: [2] })
    assert.deepStrictEqual(m.get("t").replicas, [2, 1])
    m.send({ _tag: "ReassignmentRequested", topic: "t", partition: 0, target: null })
    assert.deepStrictEqual(m.get("t").replicas, [1])
    assert.deepStrictEqual(m.get("t").addingReplicas, [])
    for (const target of [[], [2, 2], [9]]) {
      const r = m.send({ _tag: "ReassignmentRequested", topic: "t", partition: 0, target })
      assert.strictEqual(r.results[0]!.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT)
    }
    // shrinking needs no catch-up: it completes at once
    m.create("s", 0, [1, 2, 3])
    m.send({ _tag: "ReassignmentRequested", topic: "s", partition: 0, target: [2, 3] })
    assert.deepStrictEqual(m.get("s").replicas, [2, 3])
    assert.strictEqual(m.get("s").leader, 2)
  })

  it.prop(
    "random broker losses, returns, shutdowns and elections: leaders fit, epochs grow, ISRs stay non-empty",
    [
      fc.boolean(),
      fc.array(
        fc.record({
          kind: fc.constantFrom("lost", "back", "shutdown", "elect", "rebalance", "catchUp"),
          id: fc.integer({ min: 1, max: 4 })
        }),
        { maxLength: 40 }
      )
    ],
    ([unclean, ops]) => {
      const m = new Model({ unclean })
      for (const id of [1, 2, 3, 4]) m.send({ _tag: "BrokerChanged", broker: broker(id) })
      m.create("a", 0, [1, 2, 3])
      m.create("b", 0, [4, 3])
      m.create("c", 0, [2])
      for (const op of ops) {
        const before = new Map([...m.records].map(([k, v]) => [k, v.state]))
        switch (op.kind) {
          case "lost":
            m.send({ _tag: "BrokerLost", brokerId: op.id })
            break
          case "back":
            m.send({ _tag: "BrokerChanged", broker: broker(op.id) })
            break
          case "shutdown":
            m.send({ _tag: "ControlledShutdownRequested", brokerId: op.id })
            break
          case "elect":
            m.send({ _tag: "ElectionRequested", partitions: [{ topic: "a", partition: 0 }], unclean: op.id > 2 })
            break
          case "rebalance":
            m.send({ _tag: "RebalanceTick" })
            break
          case "catchUp": {
            const p = m.get("a")
            if (p.leader >= 0 && p.replicas.includes(op.id) && m.state.brokers.has(op.id)) m.expandIsr("a", 0, [op.id])
          }
        }
        for (const [key, { state: p }] of m.records) {
          const old = before.get(key)!
          assert.isAbove(p.isr.length, 0)
          assert.isTrue(p.isr.every((b) => p.replicas.includes(b)))
          assert.isAtLeast(p.leaderEpoch, old.leaderEpoch)
          assert.isAtLeast(p.partitionEpoch, old.partitionEpoch)
          if (p.leader !== old.leader) assert.isAbove(p.leaderEpoch, old.leaderEpoch)
          if (p.leader >= 0) {
            assert.isTrue(m.state.brokers.has(p.leader), `leader ${p.leader} of ${key} is alive`)
            assert.isTrue(p.isr.includes(p.leader))
          } else if (!unclean) {
            assert.isFalse(
              p.isr.some((b) => m.state.brokers.has(b) && !m.state.brokers.get(b)!.shuttingDown),
              `${key} is offline only without a fit ISR member`
            )
          }
        }
      }
    }
  )
})

describe("replica assignment", () => {
  it("round-robin without racks: distinct brokers, leaders spread evenly", () => {
    const brokers = [1, 2, 3].map((id) => ({ id, rack: null }))
    const out = assignReplicas(brokers, 6, 3, { startIndex: 0, shift: 0 })
    assert.isTrue(Array.isArray(out))
    const lists = out as ReadonlyArray<ReadonlyArray<number>>
    assert.deepStrictEqual(
      lists.map((r) => r[0]),
      [1, 2, 3, 1, 2, 3]
    )
    for (const r of lists) assert.strictEqual(new Set(r).size, 3)
    const tooMany = assignReplicas(brokers, 1, 4, { startIndex: 0, shift: 0 })
    assert.isFalse(Array.isArray(tooMany))
  })

  it.prop(
    "rack-aware: every partition's replicas are distinct and span as many racks as they can",
    [
      fc.array(fc.constantFrom("r1", "r2", "r3"), { minLength: 1, maxLength: 7 }),
      fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 1, max: 7 }),
      fc.nat(),
      fc.nat()
    ],
    ([racks, count, rf, startIndex, shift]) => {
      const brokers = racks.map((rack, i) => ({ id: i + 1, rack }))
      const out = assignReplicas(brokers, count, rf, { startIndex, shift })
      if (rf > brokers.length) {
        assert.isFalse(Array.isArray(out))
        return
      }
      const lists = out as ReadonlyArray<ReadonlyArray<number>>
      assert.strictEqual(lists.length, count)
      const distinctRacks = new Set(racks).size
      for (const r of lists) {
        assert.strictEqual(r.length, rf)
        assert.strictEqual(new Set(r).size, rf)
        const used = new Set(r.map((id) => racks[id - 1]))
        assert.strictEqual(used.size, Math.min(rf, distinctRacks))
      }
    }
  )
})
