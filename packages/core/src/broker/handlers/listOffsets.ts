// ListOffsets v0-10: v0 old_style_offsets; v1 one offset + timestamp (KIP-79); v2 isolation_level (KIP-98); v4 leader epochs (KIP-320); v6 flexible (KIP-482); v7 -3 max timestamp (KIP-734); v8 -4 earliest local (KIP-405); v9 -5 latest tiered (KIP-1005); v10 timeout_ms.
import { Effect, Option } from "effect"
import * as ListOffsets from "../../protocol/generated/ListOffsets.js"
import { InvalidRequest, toWire, type WireError } from "../BrokerError.js"
import * as Handler from "../Handler.js"
import { checkLeaderEpoch, NotLeaderOrFollower, notHostedHere } from "../PartitionError.js"
import type { PartitionReplica } from "../PartitionReplica.js"
import { ReplicaManager } from "../ReplicaManager.js"
import { TopicRegistry } from "../TopicRegistry.js"

/** Special timestamps of ListOffsets. */
export const LATEST = -1
export const EARLIEST = -2
export const MAX_TIMESTAMP = -3
export const EARLIEST_LOCAL = -4
export const LATEST_TIERED = -5

type Partition = ListOffsets.ListOffsetsResponseListOffsetsPartitionResponse

/** Kafka's replica id of debugging tools, which may read from a follower. */
export const DEBUGGING_REPLICA_ID = -2

const notLeader = (topic: string, partition: number) =>
  new NotLeaderOrFollower({ message: `This broker is not the leader of ${topic}-${partition}.` })

const failed = (partitionIndex: number, error: WireError): Partition =>
  ListOffsets.makeListOffsetsResponseListOffsetsPartitionResponse({ partitionIndex, errorCode: error.errorCode })

const found = (
  partitionIndex: number,
  offset: number,
  timestamp: number,
  leaderEpoch: number,
  version: number
): Partition =>
  version === 0
    ? ListOffsets.makeListOffsetsResponseListOffsetsPartitionResponse({
        partitionIndex,
        oldStyleOffsets: offset >= 0 ? [BigInt(offset)] : []
      })
    : ListOffsets.makeListOffsetsResponseListOffsetsPartitionResponse({
        partitionIndex,
        offset: BigInt(offset),
        timestamp: BigInt(timestamp),
        leaderEpoch: version >= 4 && offset >= 0 ? leaderEpoch : -1
      })

const lookup = (
  replica: PartitionReplica,
  p: ListOffsets.ListOffsetsRequestListOffsetsPartition,
  version: number,
  readCommitted: boolean,
  fromConsumer: boolean
): Effect.Effect<Partition, unknown> =>
  Effect.gen(function* () {
    const i = p.partitionIndex
    const epoch = replica.leaderEpoch
    const timestamp = Number(p.timestamp)
    // consumers see offsets up to the high watermark (or the last stable offset for read_committed)
    const visible = !fromConsumer
      ? replica.log.logEndOffset
      : readCommitted
        ? replica.lastStableOffset()
        : replica.highWatermark()
    switch (timestamp) {
      case LATEST:
        return found(i, visible, -1, epoch, version)
      case EARLIEST:
        return found(i, replica.log.logStartOffset, -1, epoch, version)
      case EARLIEST_LOCAL:
        if (version < 8) break
        return found(i, replica.log.logStartOffset, -1, epoch, version)
      case LATEST_TIERED:
        // no tiered storage: nothing is remote
        if (version < 9) break
        return found(i, -1, -1, -1, version)
      case MAX_TIMESTAMP: {
        if (version < 7) break
        const max = yield* replica.log.maxTimestamp
        return Option.match(max, {
          onNone: () => found(i, -1, -1, -1, version),
          onSome: (t) =>
            t.offset < visible
              ? found(i, t.offset, t.timestamp, t.leaderEpoch < 0 ? epoch : t.leaderEpoch, version)
              : found(i, -1, -1, -1, version)
        })
      }
      default:
        if (timestamp < 0) break
        {
          const hit = yield* replica.log.offsetForTimestamp(timestamp)
          return Option.match(hit, {
            onNone: () => found(i, -1, -1, -1, version),
            onSome: (t) =>
              t.offset < visible
                ? found(i, t.offset, t.timestamp, t.leaderEpoch < 0 ? epoch : t.leaderEpoch, version)
                : found(i, -1, -1, -1, version)
          })
        }
    }
    return failed(
      i,
      toWire(new InvalidRequest({ message: `Timestamp ${timestamp} is not valid in ListOffsets v${version}` }))
    )
  })

export const handler = Handler.make({
  apiKey: ListOffsets.apiKey,
  minVersion: ListOffsets.validVersions.min,
  maxVersion: ListOffsets.validVersions.max,
  handle: (request, context) =>
    Effect.gen(function* () {
      const version = context.apiVersion
      const replicas = yield* ReplicaManager
      const registry = yield* TopicRegistry
      const readCommitted = version >= 2 && request.isolationLevel === 1
      const fromConsumer = request.replicaId < 0
      const topics = yield* Effect.forEach(request.topics, (t) =>
        Effect.map(
          Effect.forEach(t.partitions, (p) => {
            const replica = replicas.get(t.name, p.partitionIndex)
            if (replica === undefined) {
              return Effect.map(notHostedHere(registry, t.name, p.partitionIndex), (e) =>
                failed(p.partitionIndex, toWire(e))
              )
            }
            const fenced = version >= 4 ? checkLeaderEpoch(p.currentLeaderEpoch, replica.leaderEpoch) : undefined
            if (fenced !== undefined) return Effect.succeed(failed(p.partitionIndex, toWire(fenced)))
            // only the leader answers, but for Kafka's debugging replica id (-2)
            if (!replica.isLeader() && request.replicaId !== DEBUGGING_REPLICA_ID) {
              return Effect.succeed(failed(p.partitionIndex, toWire(notLeader(t.name, p.partitionIndex))))
            }
            return lookup(replica, p, version, readCommitted, fromConsumer).pipe(
              Effect.catchAll((e) => Effect.succeed(failed(p.partitionIndex, toWire(e))))
            )
          }),
          (partitions) => ListOffsets.makeListOffsetsResponseListOffsetsTopicResponse({ name: t.name, partitions })
        )
      )
      return ListOffsets.makeListOffsetsResponse({ topics })
    }),
  errorResponse: (request, error) =>
    ListOffsets.makeListOffsetsResponse({
      topics: request.topics.map((t) =>
        ListOffsets.makeListOffsetsResponseListOffsetsTopicResponse({
          name: t.name,
          partitions: t.partitions.map((p) => failed(p.partitionIndex, error))
        })
      )
    })
})
