/**
 * A follower's fetcher: one fiber per leader broker (run by the ReplicaManager in a `FiberMap` keyed by the
 * leader's id) that keeps this broker's follower replicas of that leader's partitions up to date. Each round it
 * first truncates the partitions that just started following (OffsetForLeaderEpoch with their latest epoch, the
 * decision made by the pure `follower.ts`), then sends one Fetch with this broker's replica id for the others and
 * hands each partition's batches and high watermark to the replica's mailbox (`replicate`), so the replica
 * stays its log's only writer.
 *
 * Invariants:
 * - A partition is fetched only once its truncation completed in the epoch it follows; every write it causes
 *   carries that epoch, and the replica refuses it once it follows another epoch (or leads).
 * - The partition set is read afresh every round (the ReplicaManager changes it); a partition removed or moved
 *   to another epoch meanwhile is skipped when its answer comes back.
 * - A failed connection or request is logged, then retried after `replica.fetch.backoff.ms` on a new connection;
 *   a partition error (fenced or unknown epoch, not the leader yet) pauses that round for the backoff: the
 *   partition records will catch up.
 */
import { Cause, Effect, Option } from "effect"
import { ErrorCode } from "../../../protocol/generated/ErrorCode.js"
import * as Fetch from "../../../protocol/generated/Fetch.js"
import * as ListOffsets from "../../../protocol/generated/ListOffsets.js"
import * as OffsetForLeaderEpoch from "../../../protocol/generated/OffsetForLeaderEpoch.js"
import type { PartitionReplica } from "../../PartitionReplica.js"
import * as Follower from "./follower.js"
import * as Peer from "./peer.js"

/** One partition this broker follows. */
export interface Followed {
  readonly replica: PartitionReplica
  /** The leader epoch followed. */
  readonly leaderEpoch: number
  /** True once the log was truncated to what it shares with the leader in this epoch. */
  truncated: boolean
}

/** The fetcher's settings (Kafka's `replica.*` keys). */
export interface FetcherSettings {
  readonly brokerId: number
  /** `replica.fetch.wait.max.ms` */
  readonly waitMaxMs: number
  /** `replica.fetch.min.bytes` */
  readonly minBytes: number
  /** `replica.fetch.max.bytes` */
  readonly partitionMaxBytes: number
  /** `replica.fetch.response.max.bytes` */
  readonly responseMaxBytes: number
  /** `replica.fetch.backoff.ms` */
  readonly backoffMs: number
  /** `replica.socket.timeout.ms` */
  readonly socketTimeoutMs: number
}

/** The versions the fetcher speaks (brokers of one cluster support them). */
const FETCH_VERSION = 12
const OFFSET_FOR_LEADER_EPOCH_VERSION = 4
const LIST_OFFSETS_VERSION = 7

const byTopic = <A>(list: ReadonlyArray<Followed>, make: (f: Followed) => A): Map<string, Array<A>> => {
  const out = new Map<string, Array<A>>()
  for (const f of list) {
    const topic = f.replica.topicPartition.topic
    let partitions = out.get(topic)
    if (partitions === undefined) {
      partitions = []
      out.set(topic, partitions)
    }
    partitions.push(make(f))
  }
  return out
}

/**
 * Runs the fetcher of `leaderId` until its partition set is empty. `partitions` is read each round; `address`
 * looks the leader up among the live brokers.
 */
export const run = (
  leaderId: number,
  partitions: () => ReadonlyMap<string, Followed> | undefined,
  address: (brokerId: number) => Effect.Effect<Option.Option<{ readonly host: string; readonly port: number }>>,
  settings: FetcherSettings
): Effect.Effect<void> => {
  const current = (): Array<Followed> => [...(partitions()?.values() ?? [])]
  const stillFollowed = (f: Followed): boolean => {
    for (const g of partitions()?.values() ?? []) if (g === f) return true
    return false
  }

  /** One connection: rounds until the partition set is empty or the connection fails. */
  const session = Effect.gen(function* () {
    const found = yield* address(leaderId)
    if (Option.isNone(found)) return yield* new Peer.PeerError({ message: `broker ${leaderId} is not registered` })
    const peer = yield* Peer.connect(
      found.value.host,
      found.value.port,
      `broker-${settings.brokerId}-fetcher-${leaderId}`,
      settings.socketTimeoutMs
    )
    for (;;) {
      const list = current()
      if (list.length === 0) return
      const pending = list.filter((f) => !f.truncated)
      const backOff = pending.length > 0 ? yield* truncate(peer, pending) : false
      const ready = current().filter((f) => f.truncated)
      const failed = ready.length > 0 ? yield* fetch(peer, ready) : pending.length === 0
      if (backOff || failed) yield* Effect.sleep(settings.backoffMs)
    }
  })

  /** OffsetForLeaderEpoch for the partitions that just started following; returns true to back off. */
  const truncate = (peer: Peer.Peer, list: ReadonlyArray<Followed>) =>
    Effect.gen(function* () {
      const asking: Array<Followed> = []
      for (const f of list) {
        const epoch = Follower.epochToAsk(f.replica.log.epochs)
        if (epoch !== undefined) {
          asking.push(f)
          continue
        }
        // no epoch information: what is above the high watermark cannot be trusted
        const log = f.replica.log
        const hw = f.replica.highWatermark()
        if (log.logEndOffset > hw) yield* Effect.ignore(f.replica.truncate(f.leaderEpoch, hw))
        f.truncated = true
      }
      if (asking.length === 0) return false
      const topics = byTopic(asking, (f) =>
        OffsetForLeaderEpoch.makeOffsetForLeaderEpochRequestOffsetForLeaderPartition({
          partition: f.replica.topicPartition.partition,
          currentLeaderEpoch: f.leaderEpoch,
          leaderEpoch: Follower.epochToAsk(f.replica.log.epochs) ?? -1
        })
      )
      const response = yield* peer.send(
        OffsetForLeaderEpoch.apiKey,
        OFFSET_FOR_LEADER_EPOCH_VERSION,
        OffsetForLeaderEpoch.makeOffsetForLeaderEpochRequest({
          replicaId: settings.brokerId,
          topics: [...topics].map(([topic, partitions]) =>
            OffsetForLeaderEpoch.makeOffsetForLeaderEpochRequestOffsetForLeaderTopic({ topic, partitions })
          )
        })
      )
      let backOff = false
      for (const t of response.topics) {
        for (const p of t.partitions) {
          const f = asking.find(
            (a) => a.replica.topicPartition.topic === t.topic && a.replica.topicPartition.partition === p.partition
          )
          if (f === undefined || !stillFollowed(f)) continue
          if (p.errorCode !== ErrorCode.NONE) {
            backOff = true
            continue
          }
          const log = f.replica.log
          const point = Follower.truncationPoint(log.epochs, log.logEndOffset, f.replica.highWatermark(), {
            leaderEpoch: p.leaderEpoch,
            endOffset: Number(p.endOffset)
          })
          if (point.offset < log.logEndOffset) {
            yield* Effect.logInfo(
              `Truncating ${t.topic}-${p.partition} from ${log.logEndOffset} to ${point.offset} (leader ${leaderId}, epoch ${f.leaderEpoch})`
            )
            const done = yield* Effect.either(f.replica.truncate(f.leaderEpoch, point.offset))
            if (done._tag === "Left") {
              backOff = true
              continue
            }
          }
          if (point.complete) f.truncated = true
        }
      }
      return backOff
    })

  /** One Fetch for the truncated partitions; returns true to back off. */
  const fetch = (peer: Peer.Peer, list: ReadonlyArray<Followed>) =>
    Effect.gen(function* () {
      const topics = byTopic(list, (f) =>
        Fetch.makeFetchRequestFetchPartition({
          partition: f.replica.topicPartition.partition,
          currentLeaderEpoch: f.leaderEpoch,
          fetchOffset: BigInt(f.replica.log.logEndOffset),
          lastFetchedEpoch: f.replica.log.latestEpoch,
          logStartOffset: BigInt(f.replica.log.logStartOffset),
          partitionMaxBytes: settings.partitionMaxBytes
        })
      )
      const response = yield* peer.send(
        Fetch.apiKey,
        FETCH_VERSION,
        Fetch.makeFetchRequest({
          replicaId: settings.brokerId,
          maxWaitMs: settings.waitMaxMs,
          minBytes: settings.minBytes,
          maxBytes: settings.responseMaxBytes,
          topics: [...topics].map(([topic, partitions]) => Fetch.makeFetchRequestFetchTopic({ topic, partitions }))
        })
      )
      if (response.errorCode !== ErrorCode.NONE) return true
      let backOff = false
      for (const t of response.responses) {
        for (const p of t.partitions) {
          const f = list.find(
            (a) => a.replica.topicPartition.topic === t.topic && a.replica.topicPartition.partition === p.partitionIndex
          )
          if (f === undefined || !stillFollowed(f)) continue
          if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
            yield* outOfRange(peer, f)
            continue
          }
          if (p.errorCode !== ErrorCode.NONE) {
            backOff = true
            continue
          }
          const records = p.records ?? new Uint8Array(0)
          const done = yield* Effect.either(f.replica.replicate(f.leaderEpoch, records, Number(p.highWatermark)))
          if (done._tag === "Left") {
            yield* Effect.logDebug(`Replicating ${t.topic}-${p.partitionIndex} failed`, done.left)
            backOff = true
          }
        }
      }
      return backOff
    })

  /**
   * The leader refused the fetch offset: below its log start, the follower starts over at it; above its log end,
   * the follower truncates again from the epochs.
   */
  const outOfRange = (peer: Peer.Peer, f: Followed) =>
    Effect.gen(function* () {
      const { topic, partition } = f.replica.topicPartition
      const response = yield* peer.send(
        ListOffsets.apiKey,
        LIST_OFFSETS_VERSION,
        ListOffsets.makeListOffsetsRequest({
          replicaId: settings.brokerId,
          topics: [
            ListOffsets.makeListOffsetsRequestListOffsetsTopic({
              name: topic,
              partitions: [
                ListOffsets.makeListOffsetsRequestListOffsetsPartition({
                  partitionIndex: partition,
                  currentLeaderEpoch: f.leaderEpoch,
                  timestamp: -2n
                })
              ]
            })
          ]
        })
      )
      const answer = response.topics[0]?.partitions[0]
      if (answer === undefined || answer.errorCode !== ErrorCode.NONE) return
      const leaderStart = Number(answer.offset)
      if (f.replica.log.logEndOffset < leaderStart) {
        yield* Effect.logInfo(
          `${topic}-${partition} is behind the leader's log start ${leaderStart}: starting over there`
        )
        yield* Effect.ignore(f.replica.truncate(f.leaderEpoch, leaderStart, true))
      } else {
        f.truncated = false
      }
    })

  const loop: Effect.Effect<void> = Effect.suspend(() => {
    if (current().length === 0) return Effect.void
    return Effect.scoped(session).pipe(
      // a failure, or a defect (logged with its cause), ends this connection; the next one starts after a pause
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause)
          ? Effect.interrupt
          : Effect.zipRight(
              Effect.logWarning(`Fetching from broker ${leaderId} failed; retrying`, cause),
              Effect.sleep(settings.backoffMs)
            )
      ),
      Effect.zipRight(loop)
    )
  })
  return loop
}
