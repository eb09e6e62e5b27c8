// WriteTxnMarkers v0-1 (broker to broker): v1 flexible (KIP-482). A transaction coordinator on another broker writes
// a transaction's COMMIT or ABORT markers to the partitions this broker leads (`internal/txnMarkers.ts`); each
// partition answers on its own (NOT_LEADER_OR_FOLLOWER where this broker does not lead it: the coordinator retries
// at the current leader).
import { Effect } from "effect"
import * as WriteTxnMarkers from "../../protocol/generated/WriteTxnMarkers.js"
import { toWire } from "../BrokerError.js"
import { GroupCoordinator } from "../GroupCoordinator.js"
import * as Handler from "../Handler.js"
import { writeLocalMarker } from "../internal/txnMarkers.js"
import { ReplicaManager } from "../ReplicaManager.js"

const answer = (
  request: WriteTxnMarkers.WriteTxnMarkersRequest,
  code: (producerId: bigint, topic: string, partition: number) => number
) =>
  WriteTxnMarkers.makeWriteTxnMarkersResponse({
    markers: request.markers.map((m) =>
      WriteTxnMarkers.makeWriteTxnMarkersResponseWritableTxnMarkerResult({
        producerId: m.producerId,
        topics: m.topics.map((t) =>
          WriteTxnMarkers.makeWriteTxnMarkersResponseWritableTxnMarkerTopicResult({
            name: t.name,
            partitions: t.partitionIndexes.map((partitionIndex) =>
              WriteTxnMarkers.makeWriteTxnMarkersResponseWritableTxnMarkerPartitionResult({
                partitionIndex,
                errorCode: code(m.producerId, t.name, partitionIndex)
              })
            )
          })
        )
      })
    )
  })

export const handler = Handler.make({
  apiKey: WriteTxnMarkers.apiKey,
  minVersion: WriteTxnMarkers.validVersions.min,
  maxVersion: WriteTxnMarkers.validVersions.max,
  handle: (request) =>
    Effect.gen(function* () {
      const replicas = yield* ReplicaManager
      const groups = yield* GroupCoordinator
      const codes = new Map<string, number>()
      const key = (producerId: bigint, topic: string, partition: number) =>
        `${producerId}\u0000${topic}\u0000${partition}`
      yield* Effect.forEach(
        request.markers.flatMap((m) =>
          m.topics.flatMap((t) => t.partitionIndexes.map((partition) => ({ m, topic: t.name, partition })))
        ),
        ({ m, topic, partition }) =>
          writeLocalMarker(replicas, groups, topic, partition, {
            producerId: Number(m.producerId),
            producerEpoch: m.producerEpoch,
            commit: m.transactionResult,
            coordinatorEpoch: m.coordinatorEpoch
          }).pipe(
            Effect.match({
              onFailure: (e) => codes.set(key(m.producerId, topic, partition), toWire(e).errorCode),
              onSuccess: () => codes.set(key(m.producerId, topic, partition), 0)
            })
          ),
        { concurrency: "unbounded", discard: true }
      )
      return answer(request, (producerId, topic, partition) => codes.get(key(producerId, topic, partition)) ?? 0)
    }),
  errorResponse: (request, error) => answer(request, () => error.errorCode)
})
