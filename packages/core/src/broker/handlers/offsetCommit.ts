// OffsetCommit v0-9: v1 generation/member (v1 commit timestamps are ignored, as in Kafka 2.1+); v2-4 retention_time_ms; v5 drops it; v6 leader epoch (KIP-320); v7 group.instance.id (KIP-345); v8 flexible; v9 names the generation "member epoch" (KIP-848; a generation for classic groups).
import { Effect } from "effect"
import * as OffsetCommit from "../../protocol/generated/OffsetCommit.js"
import { Codes, toWire, type WireError } from "../BrokerError.js"
import { GroupCoordinator } from "../GroupCoordinator.js"
import * as Handler from "../Handler.js"

const response = (
  request: OffsetCommit.OffsetCommitRequest,
  codeOf: (topic: string, partition: number) => number
): OffsetCommit.OffsetCommitResponse =>
  OffsetCommit.makeOffsetCommitResponse({
    topics: request.topics.map((t) =>
      OffsetCommit.makeOffsetCommitResponseTopic({
        name: t.name,
        partitions: t.partitions.map((p) =>
          OffsetCommit.makeOffsetCommitResponsePartition({
            partitionIndex: p.partitionIndex,
            errorCode: codeOf(t.name, p.partitionIndex)
          })
        )
      })
    )
  })

export const handler = Handler.make({
  apiKey: OffsetCommit.apiKey,
  minVersion: OffsetCommit.validVersions.min,
  maxVersion: OffsetCommit.validVersions.max,
  handle: (request, context) =>
    Effect.gen(function* () {
      const groups = yield* GroupCoordinator
      const v = context.apiVersion
      const results = yield* groups.commitOffsets(request.groupId, {
        // v0 commits are always standalone
        generationId: v === 0 ? -1 : request.generationIdOrMemberEpoch,
        memberId: v === 0 ? "" : request.memberId,
        groupInstanceId: request.groupInstanceId,
        retentionTimeMs: v >= 2 && v <= 4 ? Number(request.retentionTimeMs) : -1,
        offsets: request.topics.flatMap((t) =>
          t.partitions.map((p) => ({
            topic: t.name,
            partition: p.partitionIndex,
            offset: Number(p.committedOffset),
            leaderEpoch: p.committedLeaderEpoch,
            metadata: p.committedMetadata
          }))
        )
      })
      const codes = new Map<string, number>()
      for (const r of results) {
        codes.set(`${r.topic}\u0000${r.partition}`, r.error === undefined ? Codes.NONE : toWire(r.error).errorCode)
      }
      return response(request, (topic, partition) => codes.get(`${topic}\u0000${partition}`) ?? Codes.NONE)
    }),
  errorResponse: (request, error: WireError) => response(request, () => error.errorCode)
})
