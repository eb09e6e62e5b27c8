// AddPartitionsToTxn v0-3: v1 same as v0 (fencing); v2 PRODUCER_FENCED (KIP-588); v3 flexible (KIP-482). v4+ (KIP-890, broker to broker) is not served.
import { Effect } from "effect"
import * as AddPartitionsToTxn from "../../protocol/generated/AddPartitionsToTxn.js"
import { Codes, toWire } from "../BrokerError.js"
import * as Handler from "../Handler.js"
import { UnknownTopicOrPartition } from "../PartitionError.js"
import { TopicRegistry } from "../TopicRegistry.js"
import { TransactionCoordinator } from "../TransactionCoordinator.js"
import { fencedCode } from "../TransactionError.js"

const response = (
  request: AddPartitionsToTxn.AddPartitionsToTxnRequest,
  codeOf: (topic: string, partition: number) => number
) =>
  AddPartitionsToTxn.makeAddPartitionsToTxnResponse({
    resultsByTopicV3AndBelow: request.v3AndBelowTopics.map((t) =>
      AddPartitionsToTxn.makeAddPartitionsToTxnResponseAddPartitionsToTxnTopicResult({
        name: t.name,
        resultsByPartition: t.partitions.map((p) =>
          AddPartitionsToTxn.makeAddPartitionsToTxnResponseAddPartitionsToTxnPartitionResult({
            partitionIndex: p,
            partitionErrorCode: codeOf(t.name, p)
          })
        )
      })
    )
  })

export const handler = Handler.make({
  apiKey: AddPartitionsToTxn.apiKey,
  minVersion: 0,
  maxVersion: 3,
  handle: (request) =>
    Effect.gen(function* () {
      const coordinator = yield* TransactionCoordinator
      const registry = yield* TopicRegistry
      // unknown partitions fail alone; the others are not attempted, as in Kafka
      const unknown = new Set<string>()
      for (const t of request.v3AndBelowTopics) {
        const topic = yield* registry.get(t.name)
        for (const p of t.partitions) {
          if (topic === undefined || p < 0 || p >= topic.partitions) unknown.add(`${t.name}\u0000${p}`)
        }
      }
      if (unknown.size > 0) {
        const code = toWire(new UnknownTopicOrPartition({ message: "unknown partition" })).errorCode
        return response(request, (t, p) => (unknown.has(`${t}\u0000${p}`) ? code : Codes.OPERATION_NOT_ATTEMPTED))
      }
      yield* coordinator.addPartitions(
        {
          transactionalId: request.v3AndBelowTransactionalId,
          producerId: Number(request.v3AndBelowProducerId),
          producerEpoch: request.v3AndBelowProducerEpoch
        },
        request.v3AndBelowTopics.map((t) => ({ topic: t.name, partitions: t.partitions }))
      )
      return response(request, () => Codes.NONE)
    }),
  errorResponse: (request, error, context) =>
    response(request, () => fencedCode(error.errorCode, context.apiVersion, 2))
})
