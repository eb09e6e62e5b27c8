// ListPartitionReassignments v0 (KIP-455): the reassignments in progress, from the partition records of the cluster metadata store (their adding and removing replicas); unknown topics and partitions are left out, as Kafka does.
import { Effect } from "effect"
import * as ListPartitionReassignments from "../../protocol/generated/ListPartitionReassignments.js"
import { wireMessage } from "../BrokerError.js"
import * as Handler from "../Handler.js"
import type { PartitionState } from "../MetadataRecords.js"

type Ongoing = ListPartitionReassignments.ListPartitionReassignmentsResponseOngoingTopicReassignment

const inProgress = (p: PartitionState | undefined): p is PartitionState =>
  p !== undefined && (p.addingReplicas.length > 0 || p.removingReplicas.length > 0)

/** The ongoing reassignments among `records`, grouped by topic in request (or name) order. */
const group = (records: ReadonlyArray<PartitionState>): Array<Ongoing> => {
  const byTopic = new Map<string, Ongoing>()
  for (const p of records) {
    const t = byTopic.get(p.topic) ?? { name: p.topic, partitions: [] }
    byTopic.set(p.topic, t)
    t.partitions.push({
      partitionIndex: p.partition,
      replicas: [...p.replicas],
      addingReplicas: [...p.addingReplicas],
      removingReplicas: [...p.removingReplicas]
    })
  }
  return [...byTopic.values()]
}

export const handler = Handler.make({
  apiKey: ListPartitionReassignments.apiKey,
  minVersion: ListPartitionReassignments.validVersions.min,
  maxVersion: ListPartitionReassignments.validVersions.max,
  handle: (request, context) =>
    Effect.sync(() => {
      const cluster = context.broker.cluster()
      if (cluster === undefined)
        return ListPartitionReassignments.makeListPartitionReassignmentsResponse({ topics: [] })
      const records =
        request.topics === null
          ? [...cluster.all()]
              .filter(inProgress)
              .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
          : request.topics.flatMap((t) =>
              t.partitionIndexes.map((i) => cluster.partitions(t.name)?.[i]).filter(inProgress)
            )
      return ListPartitionReassignments.makeListPartitionReassignmentsResponse({ topics: group(records) })
    }),
  errorResponse: (_request, error) =>
    ListPartitionReassignments.makeListPartitionReassignmentsResponse({
      errorCode: error.errorCode,
      errorMessage: wireMessage(error.errorMessage),
      topics: []
    })
})
