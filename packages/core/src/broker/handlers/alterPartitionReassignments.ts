// AlterPartitionReassignments v0 (KIP-455): move a partition's replicas, or cancel a move (null replicas). One broker: the only valid target is this broker alone, which is where every replica already is (done at once); a cancel finds no move in progress; any other broker id is not a live broker.
import { Effect } from "effect"
import * as AlterPartitionReassignments from "../../protocol/generated/AlterPartitionReassignments.js"
import { Codes, wireMessage } from "../BrokerError.js"
import * as Handler from "../Handler.js"
import { TopicRegistry } from "../TopicRegistry.js"

type PartitionResponse = AlterPartitionReassignments.AlterPartitionReassignmentsResponseReassignablePartitionResponse

const response = (partitionIndex: number, errorCode: number, errorMessage: string | null): PartitionResponse => ({
  partitionIndex,
  errorCode,
  errorMessage
})

/** The answer for one partition's target replicas on a broker whose id is `nodeId`. */
const check = (
  nodeId: number,
  replicas: ReadonlyArray<number> | null,
  partitionIndex: number,
  exists: boolean
): PartitionResponse => {
  if (!exists) return response(partitionIndex, Codes.UNKNOWN_TOPIC_OR_PARTITION, "The partition does not exist.")
  if (replicas === null)
    return response(
      partitionIndex,
      Codes.NO_REASSIGNMENT_IN_PROGRESS,
      "No reassignment is in progress for the partition."
    )
  if (replicas.length === 0)
    return response(partitionIndex, Codes.INVALID_REPLICA_ASSIGNMENT, "The replica list is empty.")
  if (new Set(replicas).size !== replicas.length)
    return response(partitionIndex, Codes.INVALID_REPLICA_ASSIGNMENT, "The replica list has duplicate brokers.")
  const unknown = replicas.find((b) => b !== nodeId)
  if (unknown !== undefined)
    return response(
      partitionIndex,
      Codes.INVALID_REPLICA_ASSIGNMENT,
      `Broker ${unknown} cannot hold a replica: this partition can only be on broker ${nodeId}, which hosts it.`
    )
  return response(partitionIndex, Codes.NONE, null)
}

export const handler = Handler.make({
  apiKey: AlterPartitionReassignments.apiKey,
  minVersion: AlterPartitionReassignments.validVersions.min,
  maxVersion: AlterPartitionReassignments.validVersions.max,
  handle: (request, context) =>
    Effect.gen(function* () {
      const registry = yield* TopicRegistry
      const responses: Array<AlterPartitionReassignments.AlterPartitionReassignmentsResponseReassignableTopicResponse> =
        []
      for (const t of request.topics) {
        const topic = yield* registry.get(t.name)
        responses.push({
          name: t.name,
          partitions: t.partitions.map((p) =>
            check(
              context.broker.nodeId,
              p.replicas,
              p.partitionIndex,
              topic !== undefined && p.partitionIndex >= 0 && p.partitionIndex < topic.partitions
            )
          )
        })
      }
      return AlterPartitionReassignments.makeAlterPartitionReassignmentsResponse({ responses })
    }),
  errorResponse: (request, error) =>
    AlterPartitionReassignments.makeAlterPartitionReassignmentsResponse({
      errorCode: error.errorCode,
      errorMessage: wireMessage(error.errorMessage),
      responses: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) =>
          response(p.partitionIndex, error.errorCode, wireMessage(error.errorMessage))
        )
      }))
    })
})
