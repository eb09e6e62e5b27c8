// ElectLeaders v0-2: v1 top-level error code and election type (KIP-460, unclean elections); v2 flexible. One broker: every partition's only replica is its preferred leader and leads it already, so each known partition answers ELECTION_NOT_NEEDED.
import { Effect } from "effect"
import * as ElectLeaders from "../../protocol/generated/ElectLeaders.js"
import { Codes, wireMessage } from "../BrokerError.js"
import * as Handler from "../Handler.js"
import { TopicRegistry } from "../TopicRegistry.js"

const PREFERRED = 0
const UNCLEAN = 1

type Result = ElectLeaders.ElectLeadersResponsePartitionResult

const partitionResult = (partitionId: number, errorCode: number, errorMessage: string | null): Result => ({
  partitionId,
  errorCode,
  errorMessage
})

export const handler = Handler.make({
  apiKey: ElectLeaders.apiKey,
  minVersion: ElectLeaders.validVersions.min,
  maxVersion: ElectLeaders.validVersions.max,
  handle: (request) =>
    Effect.gen(function* () {
      const registry = yield* TopicRegistry
      if (request.electionType !== PREFERRED && request.electionType !== UNCLEAN) {
        return ElectLeaders.makeElectLeadersResponse({
          errorCode: Codes.INVALID_REQUEST,
          replicaElectionResults: []
        })
      }
      // null asks for every partition; Kafka then answers only the partitions whose election was needed
      if (request.topicPartitions === null) return ElectLeaders.makeElectLeadersResponse({ replicaElectionResults: [] })
      const results: Array<ElectLeaders.ElectLeadersResponseReplicaElectionResult> = []
      for (const t of request.topicPartitions) {
        const topic = yield* registry.get(t.topic)
        results.push({
          topic: t.topic,
          partitionResult: t.partitions.map((p) =>
            topic === undefined || p < 0 || p >= topic.partitions
              ? partitionResult(p, Codes.UNKNOWN_TOPIC_OR_PARTITION, "The partition does not exist.")
              : partitionResult(
                  p,
                  Codes.ELECTION_NOT_NEEDED,
                  "Leader election not needed for topic partition: its preferred replica already leads it."
                )
          )
        })
      }
      return ElectLeaders.makeElectLeadersResponse({ replicaElectionResults: results })
    }),
  errorResponse: (request, error) =>
    ElectLeaders.makeElectLeadersResponse({
      errorCode: error.errorCode,
      replicaElectionResults: (request.topicPartitions ?? []).map((t) => ({
        topic: t.topic,
        partitionResult: t.partitions.map((p) => partitionResult(p, error.errorCode, wireMessage(error.errorMessage)))
      }))
    })
})
