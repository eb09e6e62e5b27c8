// ElectLeaders v0-2: v1 top-level error code and election type (KIP-460, unclean elections); v2 flexible. Answered by the controller (NOT_CONTROLLER elsewhere, so the client asks the controller): PREFERRED moves leadership to the first replica when it is alive and in the ISR (ELECTION_NOT_NEEDED when it leads, PREFERRED_LEADER_NOT_AVAILABLE when it cannot); UNCLEAN elects a leader for a leaderless partition, out of the ISR if it must.
import { Effect } from "effect"
import * as ElectLeaders from "../../protocol/generated/ElectLeaders.js"
import { Codes, NotController, toWire, wireMessage } from "../BrokerError.js"
import * as Handler from "../Handler.js"
import type { PartitionResult } from "../internal/controller/step.js"
import { TopicRegistry } from "../TopicRegistry.js"

const PREFERRED = 0
const UNCLEAN = 1

type Result = ElectLeaders.ElectLeadersResponsePartitionResult

const partitionResult = (partitionId: number, errorCode: number, errorMessage: string | null): Result => ({
  partitionId,
  errorCode,
  errorMessage: wireMessage(errorMessage)
})

/** Results grouped by topic, in the order the topics first appear. */
const byTopic = (results: ReadonlyArray<PartitionResult>) => {
  const out = new Map<string, Array<Result>>()
  for (const r of results) {
    const list = out.get(r.topic) ?? []
    out.set(r.topic, list)
    list.push(partitionResult(r.partition, r.errorCode, r.message))
  }
  return [...out].map(([topic, partitionResult]) => ({ topic, partitionResult }))
}

export const handler = Handler.make({
  apiKey: ElectLeaders.apiKey,
  minVersion: ElectLeaders.validVersions.min,
  maxVersion: ElectLeaders.validVersions.max,
  handle: (request, context) =>
    Effect.gen(function* () {
      const registry = yield* TopicRegistry
      if (request.electionType !== PREFERRED && request.electionType !== UNCLEAN) {
        return ElectLeaders.makeElectLeadersResponse({
          errorCode: Codes.INVALID_REQUEST,
          replicaElectionResults: []
        })
      }
      const controller = context.broker.cluster()?.controller()
      if (controller === undefined) {
        return yield* new NotController({ message: `Broker ${context.broker.nodeId} is not the controller.` })
      }
      // null asks for every partition; Kafka then answers only the partitions whose election was needed
      const every = request.topicPartitions === null
      const partitions = every
        ? (yield* registry.list).flatMap((t) =>
            Array.from({ length: t.partitions }, (_, partition) => ({ topic: t.name, partition }))
          )
        : request.topicPartitions!.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })))
      const results = yield* controller.elect(partitions, request.electionType === UNCLEAN)
      const answered = every ? results.filter((r) => r.errorCode !== Codes.ELECTION_NOT_NEEDED) : results
      return ElectLeaders.makeElectLeadersResponse({ replicaElectionResults: byTopic(answered) })
    }).pipe(Effect.catchTag("NotController", (e) => Effect.succeed(errorResponse(request, toWire(e))))),
  errorResponse: (request, error) => errorResponse(request, error)
})

const errorResponse = (
  request: ElectLeaders.ElectLeadersRequest,
  error: { readonly errorCode: number; readonly errorMessage: string | null }
) =>
  ElectLeaders.makeElectLeadersResponse({
    errorCode: error.errorCode,
    replicaElectionResults: (request.topicPartitions ?? []).map((t) => ({
      topic: t.topic,
      partitionResult: t.partitions.map((p) => partitionResult(p, error.errorCode, error.errorMessage))
    }))
  })
