/**
 * acks=all for the coordinators' own writes: after an append to an internal topic's partition, wait until the
 * partition's high watermark passes it, so a coordinator never answers what a new leader would not replay.
 *
 * Invariants:
 * - Returns true only once the high watermark is above `lastOffset` while this broker still leads the partition in
 *   the epoch the append was made in; false as soon as the leadership moved (the waiter is woken by the replica on
 *   every high-watermark advance and role change, and when it stops); false too when the replica cannot take the
 *   wait (stopped: the partition left this broker). On a sole replica the high watermark is already past the append.
 */
import { Deferred, Effect } from "effect"
import type { PartitionReplica } from "../PartitionReplica.js"

/** Waits until `replica`'s high watermark passes `lastOffset`; false when it lost the leadership of `epoch` first. */
export const awaitReplicated = (replica: PartitionReplica, epoch: number, lastOffset: number): Effect.Effect<boolean> =>
  Effect.gen(function* () {
    const lost = () => !replica.isLeader() || replica.leaderEpoch !== epoch
    while (replica.highWatermark() <= lastOffset && !lost()) {
      const waiter = yield* Deferred.make<void>()
      const parked = yield* Effect.either(replica.park(lastOffset, waiter))
      if (parked._tag === "Left") return false
      yield* Deferred.await(waiter)
    }
    return !lost()
  })
