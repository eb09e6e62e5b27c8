import { assert, describe, it } from "@effect/vitest"
import type { BatchView, PartitionView, ReplicaView } from "../../src/testing/ReplicationChecker.js"
import * as ReplicationChecker from "../../src/testing/ReplicationChecker.js"

const batch = (base: number, epoch = 0, crc = base + 1000 * epoch): BatchView => ({
  baseOffset: base,
  lastOffset: base,
  leaderEpoch: epoch,
  crc
})
const log = (n: number, epoch = 0): Array<BatchView> => Array.from({ length: n }, (_, i) => batch(i, epoch))

const replica = (broker: number, o: Partial<ReplicaView> & { batches: ReadonlyArray<BatchView> }): ReplicaView => ({
  broker,
  alive: true,
  isLeader: false,
  leaderEpoch: 0,
  logEndOffset: o.batches.length,
  highWatermark: 0,
  ...o
})

const partition = (o: Partial<PartitionView> & { replicas: ReadonlyArray<ReplicaView> }): PartitionView => ({
  key: "t-0",
  leader: 1,
  leaderEpoch: 0,
  isr: [1, 2, 3],
  ...o
})

const run = (steps: ReadonlyArray<PartitionView>) => {
  const checker = ReplicationChecker.make()
  steps.slice(0, -1).forEach((p, step) => {
    ReplicationChecker.observe(checker, { step, partitions: [p] })
  })
  return ReplicationChecker.finish(checker, { step: steps.length - 1, partitions: [steps[steps.length - 1]!] }).map(
    (v) => v.name
  )
}

/** A healthy run: leader 1 appends, followers catch up, the high watermark follows the ISR, then 1 dies and 2 leads. */
const healthy = (): Array<PartitionView> => [
  partition({
    replicas: [
      replica(1, { isLeader: true, batches: log(3), highWatermark: 2 }),
      replica(2, { batches: log(2) }),
      replica(3, { batches: log(3) })
    ]
  }),
  partition({
    replicas: [
      replica(1, { isLeader: true, batches: log(3), highWatermark: 3 }),
      replica(2, { batches: log(3) }),
      replica(3, { batches: log(3) })
    ]
  }),
  partition({
    leader: 2,
    leaderEpoch: 1,
    isr: [2, 3],
    replicas: [
      replica(1, { alive: false, batches: log(3) }),
      replica(2, { isLeader: true, leaderEpoch: 1, batches: [...log(3), batch(3, 1)], highWatermark: 4 }),
      replica(3, { leaderEpoch: 1, batches: [...log(3), batch(3, 1)], highWatermark: 4 })
    ]
  })
]

describe("ReplicationChecker", () => {
  it("a healthy fail-over violates nothing", () => assert.deepStrictEqual(run(healthy()), []))

  it("a high watermark advanced past the ISR is caught when the lagging follower takes over", () => {
    const steps = healthy()
    // the leader announces 3 while follower 2 (in the ISR) holds only 2 batches, then 2 becomes the leader
    steps[1] = partition({
      replicas: [
        replica(1, { isLeader: true, batches: log(3), highWatermark: 3 }),
        replica(2, { batches: log(2) }),
        replica(3, { batches: log(3) })
      ]
    })
    steps[2] = partition({
      leader: 2,
      leaderEpoch: 1,
      isr: [2, 3],
      replicas: [
        replica(1, { alive: false, batches: log(3) }),
        replica(2, { isLeader: true, leaderEpoch: 1, batches: [...log(2), batch(2, 1)], highWatermark: 3 }),
        replica(3, { leaderEpoch: 1, batches: [...log(2), batch(2, 1)], highWatermark: 3 })
      ]
    })
    assert.include(run(steps), "committed-missing")
  })

  it("a deposed leader's uncommitted batch is not taken for the committed one at its offset", () => {
    // broker 1 (paused, still leading epoch 0) holds 2@0 below no high watermark of its own; broker 2 leads epoch 1
    // and commits 2@1: only 2@1 is committed, and ISR member 3 holding it violates nothing
    const steps: Array<PartitionView> = [
      partition({
        leader: 2,
        leaderEpoch: 1,
        isr: [2, 3],
        replicas: [
          replica(1, { isLeader: true, batches: log(3), highWatermark: 2 }),
          replica(2, { isLeader: true, leaderEpoch: 1, batches: [...log(2), batch(2, 1)], highWatermark: 3 }),
          replica(3, { leaderEpoch: 1, batches: [...log(2), batch(2, 1)], highWatermark: 3 })
        ]
      }),
      partition({
        leader: 2,
        leaderEpoch: 1,
        isr: [2, 3],
        replicas: [
          replica(1, { leaderEpoch: 1, batches: [...log(2), batch(2, 1)], highWatermark: 3 }),
          replica(2, { isLeader: true, leaderEpoch: 1, batches: [...log(2), batch(2, 1)], highWatermark: 3 }),
          replica(3, { leaderEpoch: 1, batches: [...log(2), batch(2, 1)], highWatermark: 3 })
        ]
      })
    ]
    assert.deepStrictEqual(run(steps), [])
  })

  it("two leaders in one epoch", () => {
    const steps = healthy()
    steps[2] = partition({
      leader: 2,
      leaderEpoch: 1,
      replicas: [
        replica(1, { isLeader: true, leaderEpoch: 1, batches: log(3), highWatermark: 3 }),
        replica(2, { isLeader: true, leaderEpoch: 1, batches: log(3), highWatermark: 3 }),
        replica(3, { leaderEpoch: 1, batches: log(3), highWatermark: 3 })
      ]
    })
    assert.include(run(steps), "two-leaders")
  })

  it("an epoch going back, and a high watermark going back within an epoch", () => {
    const steps = healthy()
    steps.push(partition({ ...steps[2]!, leaderEpoch: 0 }))
    assert.include(run(steps), "epoch-regressed")
    const hw = healthy().slice(0, 2)
    hw.push(
      partition({
        replicas: [
          replica(1, { isLeader: true, batches: log(3), highWatermark: 1 }),
          replica(2, { batches: log(3) }),
          replica(3, { batches: log(3) })
        ]
      })
    )
    assert.include(run(hw), "hw-regressed")
  })

  it("replicas that disagree below the final high watermark have diverged", () => {
    const steps = healthy()
    steps[2] = partition({
      ...steps[2]!,
      isr: [2],
      replicas: [
        replica(1, { alive: false, batches: log(3) }),
        replica(2, { isLeader: true, leaderEpoch: 1, batches: [...log(3), batch(3, 1)], highWatermark: 4 }),
        replica(3, { leaderEpoch: 1, batches: [...log(3), batch(3, 1, 7)], highWatermark: 4 })
      ]
    })
    assert.deepStrictEqual(run(steps), ["diverged"])
  })

  it("a replica back with an empty disk may start its epochs over", () => {
    const steps = healthy()
    steps.push(
      partition({
        leader: 2,
        leaderEpoch: 1,
        isr: [2, 3],
        replicas: [
          replica(1, { diskLost: true, leaderEpoch: 0, batches: [] }),
          replica(2, { isLeader: true, leaderEpoch: 1, batches: [...log(3), batch(3, 1)], highWatermark: 4 }),
          replica(3, { leaderEpoch: 1, batches: [...log(3), batch(3, 1)], highWatermark: 4 })
        ]
      })
    )
    steps.push(
      partition({
        leader: 2,
        leaderEpoch: 1,
        isr: [1, 2, 3],
        replicas: [
          replica(1, { leaderEpoch: 1, batches: [...log(3), batch(3, 1)], highWatermark: 4 }),
          replica(2, { isLeader: true, leaderEpoch: 1, batches: [...log(3), batch(3, 1)], highWatermark: 4 }),
          replica(3, { leaderEpoch: 1, batches: [...log(3), batch(3, 1)], highWatermark: 4 })
        ]
      })
    )
    assert.deepStrictEqual(run(steps), [])
  })
})
