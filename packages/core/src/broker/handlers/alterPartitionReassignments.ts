// AlterPartitionReassignments v0 (KIP-455): move a partition's replicas, or cancel a move (null replicas). Answered by the controller (NOT_CONTROLLER elsewhere): the target replicas join, catch up into the ISR, leadership moves into the target if needed and the removed replicas are dropped; ListPartitionReassignments shows the move meanwhile.
import { Effect } from "effect"
import * as AlterPartitionReassignments from "../../protocol/generated/AlterPartitionReassignments.js"
import { NotController, toWire, type WireError, wireMessage } from "../BrokerError.js"
import * as Handler from "../Handler.js"

type PartitionResponse = AlterPartitionReassignments.AlterPartitionReassignmentsResponseReassignablePartitionResponse

const response = (partitionIndex: number, errorCode: number, errorMessage: string | null): PartitionResponse => ({
  partitionIndex,
  errorCode,
  errorMessage: wireMessage(errorMessage)
})

export const handler = Handler.make({
  apiKey: AlterPartitionReassignments.apiKey,
  minVersion: AlterPartitionReassignments.validVersions.min,
  maxVersion: AlterPartitionReassignments.validVersions.max,
  handle: (request, context) =>
    Effect.gen(function* () {
      const controller = context.broker.cluster()?.controller()
      if (controller === undefined) {
        return yield* new NotController({ message: `Broker ${context.broker.nodeId} is not the controller.` })
      }
      const items = request.topics.flatMap((t) =>
        t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, target: p.replicas }))
      )
      const results = yield* controller.reassign(items)
      let i = 0
      const responses = request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => {
          const r = results[i++]!
          return response(p.partitionIndex, r.errorCode, r.message)
        })
      }))
      return AlterPartitionReassignments.makeAlterPartitionReassignmentsResponse({ responses })
    }).pipe(Effect.catchTag("NotController", (e) => Effect.succeed(errorResponse(request, toWire(e))))),
  errorResponse: (request, error) => errorResponse(request, error)
})

const errorResponse = (request: AlterPartitionReassignments.AlterPartitionReassignmentsRequest, error: WireError) =>
  AlterPartitionReassignments.makeAlterPartitionReassignmentsResponse({
    errorCode: error.errorCode,
    errorMessage: wireMessage(error.errorMessage),
    responses: request.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => response(p.partitionIndex, error.errorCode, error.errorMessage))
    }))
  })
