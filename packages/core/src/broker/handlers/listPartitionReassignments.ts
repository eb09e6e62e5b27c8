// ListPartitionReassignments v0 (KIP-455): the reassignments in progress. One broker moves no replica, so none is ever in progress; unknown topics and partitions are left out, as Kafka does.
import { Effect } from "effect"
import * as ListPartitionReassignments from "../../protocol/generated/ListPartitionReassignments.js"
import { wireMessage } from "../BrokerError.js"
import * as Handler from "../Handler.js"

export const handler = Handler.make({
  apiKey: ListPartitionReassignments.apiKey,
  minVersion: ListPartitionReassignments.validVersions.min,
  maxVersion: ListPartitionReassignments.validVersions.max,
  handle: () => Effect.succeed(ListPartitionReassignments.makeListPartitionReassignmentsResponse({ topics: [] })),
  errorResponse: (_request, error) =>
    ListPartitionReassignments.makeListPartitionReassignmentsResponse({
      errorCode: error.errorCode,
      errorMessage: wireMessage(error.errorMessage),
      topics: []
    })
})
