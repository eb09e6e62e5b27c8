// OffsetForLeaderEpoch v0-4: v1 leader_epoch in the response (KIP-279); v2 current_leader_epoch (KIP-320); v3 replica_id (KIP-392); v4 flexible (KIP-482).
import { Effect } from "effect"
import * as OffsetForLeaderEpoch from "../../protocol/generated/OffsetForLeaderEpoch.js"
import { toWire, type WireError } from "../BrokerError.js"
import * as Handler from "../Handler.js"
import { checkLeaderEpoch, NotLeaderOrFollower, notHostedHere } from "../PartitionError.js"
import { ReplicaManager } from "../ReplicaManager.js"
import { TopicRegistry } from "../TopicRegistry.js"

type Partition = OffsetForLeaderEpoch.OffsetForLeaderEpochResponseEpochEndOffset

const failed = (partition: number, error: WireError): Partition =>
  OffsetForLeaderEpoch.makeOffsetForLeaderEpochResponseEpochEndOffset({ partition, errorCode: error.errorCode })

export const handler = Handler.make({
  apiKey: OffsetForLeaderEpoch.apiKey,
  minVersion: OffsetForLeaderEpoch.validVersions.min,
  maxVersion: OffsetForLeaderEpoch.validVersions.max,
  handle: (request, context) =>
    Effect.gen(function* () {
      const replicas = yield* ReplicaManager
      const registry = yield* TopicRegistry
      const topics = yield* Effect.forEach(request.topics, (t) =>
        Effect.map(
          Effect.forEach(t.partitions, (p): Effect.Effect<Partition> => {
            const replica = replicas.get(t.topic, p.partition)
            if (replica === undefined) {
              return Effect.map(notHostedHere(registry, t.topic, p.partition), (e) => failed(p.partition, toWire(e)))
            }
            const fenced =
              context.apiVersion >= 2 ? checkLeaderEpoch(p.currentLeaderEpoch, replica.leaderEpoch) : undefined
            if (fenced !== undefined) return Effect.succeed(failed(p.partition, toWire(fenced)))
            // only the leader answers, but for Kafka's debugging replica id (-2)
            if (!replica.isLeader() && (context.apiVersion < 3 || request.replicaId !== -2)) {
              return Effect.succeed(
                failed(
                  p.partition,
                  toWire(
                    new NotLeaderOrFollower({ message: `This broker is not the leader of ${t.topic}-${p.partition}.` })
                  )
                )
              )
            }
            return Effect.map(replica.endOffsetForEpoch(p.leaderEpoch), (end) =>
              OffsetForLeaderEpoch.makeOffsetForLeaderEpochResponseEpochEndOffset({
                partition: p.partition,
                errorCode: 0,
                leaderEpoch: end.leaderEpoch,
                endOffset: BigInt(end.endOffset)
              })
            )
          }),
          (partitions) =>
            OffsetForLeaderEpoch.makeOffsetForLeaderEpochResponseOffsetForLeaderTopicResult({
              topic: t.topic,
              partitions
            })
        )
      )
      return OffsetForLeaderEpoch.makeOffsetForLeaderEpochResponse({ topics })
    }),
  errorResponse: (request, error) =>
    OffsetForLeaderEpoch.makeOffsetForLeaderEpochResponse({
      topics: request.topics.map((t) =>
        OffsetForLeaderEpoch.makeOffsetForLeaderEpochResponseOffsetForLeaderTopicResult({
          topic: t.topic,
          partitions: t.partitions.map((p) => failed(p.partition, error))
        })
      )
    })
})
