/**
 * A follower's replication decisions as pure functions: which epoch to ask the leader about, where to
 * truncate its log from the leader's OffsetForLeaderEpoch answer and its own leader epoch cache, and its high
 * watermark. The follower's fetcher carries them out (truncate through the replica's mailbox, then fetch).
 *
 * Invariants:
 * - The truncation point is never above the follower's log end, and never above the end of the longest prefix
 *   the follower's epoch cache shows it shares with the leader's answer (for the epoch both know, the smaller of
 *   the two end offsets); a follower truncates only what it cannot prove the leader has.
 * - When the leader's answer names an epoch the follower does not have, the truncation is partial
 *   (`complete: false`): the follower truncates to the end of its largest epoch below the answer and asks again.
 * - A follower's high watermark is the leader's, capped by its own log end.
 */
import {
  type EpochEntry,
  LeaderEpochCache,
  UNDEFINED_EPOCH,
  UNDEFINED_EPOCH_OFFSET
} from "../../../log/LeaderEpochCache.js"

export { UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET } from "../../../log/LeaderEpochCache.js"

/** The leader's OffsetForLeaderEpoch answer for the epoch the follower asked about. */
export interface LeaderAnswer {
  /** The largest epoch <= the one asked that the leader has, or UNDEFINED_EPOCH (-1). */
  readonly leaderEpoch: number
  /** Where that epoch ends on the leader (the next epoch's start, or its log end), or UNDEFINED_EPOCH_OFFSET. */
  readonly endOffset: number
}

/** Where to truncate and whether the follower is then done (else it asks again with its new latest epoch). */
export interface Truncation {
  readonly offset: number
  readonly complete: boolean
}

/** The epoch the follower asks the leader about: its latest, or undefined when its cache is empty. */
export const epochToAsk = (entries: ReadonlyArray<EpochEntry>): number | undefined =>
  entries.length === 0 ? undefined : entries[entries.length - 1]!.epoch

/**
 * The follower's own end for `epoch`, as its leader epoch cache answers OffsetForLeaderEpoch: the largest epoch
 * <= `epoch` and where it ends (the next epoch's start, or `leo` for the latest); an epoch older than every
 * entry ends where the first entry starts; undefined when the cache is empty or `epoch` is newer than all.
 */
export const endOffsetFor = (
  entries: ReadonlyArray<EpochEntry>,
  epoch: number,
  leo: number
): { readonly epoch: number; readonly endOffset: number } | undefined => {
  const end = new LeaderEpochCache(entries).endOffsetFor(epoch, leo)
  return end.endOffset === UNDEFINED_EPOCH_OFFSET ? undefined : { epoch: end.leaderEpoch, endOffset: end.endOffset }
}

/**
 * The truncation point of a follower with epoch cache `entries`, log end `leo` and high watermark `hw`,
 * given the leader's answer about the follower's latest epoch (Kafka's rules):
 * - the leader has no epoch information (`endOffset` UNDEFINED_EPOCH_OFFSET): truncate to the high watermark;
 * - the leader has no epoch <= the one asked (`leaderEpoch` UNDEFINED_EPOCH): truncate to its end offset;
 * - the follower has that epoch: truncate to the smaller of both ends of it;
 * - the follower does not have it (the leader answered a smaller epoch the follower skipped): truncate to the end
 *   of the follower's largest epoch below it and ask again;
 * - the follower has no epoch information at all: truncate to the leader's end offset.
 * Always capped by `leo`.
 */
export const truncationPoint = (
  entries: ReadonlyArray<EpochEntry>,
  leo: number,
  hw: number,
  answer: LeaderAnswer
): Truncation => {
  if (answer.endOffset === UNDEFINED_EPOCH_OFFSET) return { offset: Math.min(hw, leo), complete: true }
  if (answer.leaderEpoch === UNDEFINED_EPOCH) return { offset: Math.min(answer.endOffset, leo), complete: true }
  const own = endOffsetFor(entries, answer.leaderEpoch, leo)
  if (own === undefined) return { offset: Math.min(answer.endOffset, leo), complete: true }
  if (own.epoch !== answer.leaderEpoch) return { offset: Math.min(own.endOffset, leo), complete: false }
  return { offset: Math.min(own.endOffset, answer.endOffset, leo), complete: true }
}

/** The follower's high watermark: the leader's, at most its own log end. */
export const followerHighWatermark = (leaderHw: number, leo: number): number => Math.min(leaderHw, leo)
