// TxnOffsetCommit v0-3: v1 same as v0; v2 committed_leader_epoch (KIP-320); v3 flexible, generation/member/instance ids (KIP-447). v4 (KIP-890) is not served.
import { Effect } from "effect"
import * as TxnOffsetCommit from "../../protocol/generated/TxnOffsetCommit.js"
import { Codes, toWire, type WireError } from "../BrokerError.js"
import { GroupCoordinator } from "../GroupCoordinator.js"
import * as Handler from "../Handler.js"

const response = (
  request: TxnOffsetCommit.TxnOffsetCommitRequest,
  codeOf: (topic: string, partition: number) => number
) =>
  TxnOffsetCommit.makeTxnOffsetCommitResponse({
    topics: request.topics.map((t) =>
      TxnOffsetCommit.makeTxnOffsetCommitResponseTopic({
        name: t.name,
        partitions: t.partitions.map((p) =>
          TxnOffsetCommit.makeTxnOffsetCommitResponsePartition({
            partitionIndex: p.partitionIndex,
            errorCode: codeOf(t.name, p.partitionIndex)
          })
        )
      })
    )
  })

export const handler = Handler.make({
  apiKey: TxnOffsetCommit.apiKey,
  minVersion: 0,
  maxVersion: 3,
  handle: (request, context) =>
    Effect.gen(function* () {
      const groups = yield* GroupCoordinator
      const v = context.apiVersion
      const results = yield* groups.commitOffsets(request.groupId, {
        generationId: v >= 3 ? request.generationId : -1,
        memberId: v >= 3 ? request.memberId : "",
        groupInstanceId: v >= 3 ? request.groupInstanceId : null,
        retentionTimeMs: -1,
        offsets: request.topics.flatMap((t) =>
          t.partitions.map((p) => ({
            topic: t.name,
            partition: p.partitionIndex,
            offset: Number(p.committedOffset),
            leaderEpoch: v >= 2 ? p.committedLeaderEpoch : -1,
            metadata: p.committedMetadata
          }))
        ),
        txn: { producerId: Number(request.producerId), producerEpoch: request.producerEpoch }
      })
      const codes = new Map<string, number>()
      for (const r of results) {
        codes.set(`${r.topic}\u0000${r.partition}`, r.error === undefined ? Codes.NONE : toWire(r.error).errorCode)
      }
      return response(request, (topic, partition) => codes.get(`${topic}\u0000${partition}`) ?? Codes.NONE)
    }),
  errorResponse: (request, error: WireError) => response(request, () => error.errorCode)
})
