// DeleteRecords v0-2: v1 same as v0; v2 flexible (KIP-482). Advances the log start offset (KIP-107); offset -1 means the high watermark.
import { Effect } from "effect"
import * as DeleteRecords from "../../protocol/generated/DeleteRecords.js"
import { InvalidTopic, toWire, type WireError } from "../BrokerError.js"
import * as Handler from "../Handler.js"
import { notHostedHere, RequestTimedOut } from "../PartitionError.js"
import { ReplicaManager } from "../ReplicaManager.js"
import { isInternal, TopicRegistry } from "../TopicRegistry.js"

type Partition = DeleteRecords.DeleteRecordsResponseDeleteRecordsPartitionResult

const failed = (partitionIndex: number, error: WireError): Partition =>
  DeleteRecords.makeDeleteRecordsResponseDeleteRecordsPartitionResult({
    partitionIndex,
    lowWatermark: -1n,
    errorCode: error.errorCode
  })

export const handler = Handler.make({
  apiKey: DeleteRecords.apiKey,
  minVersion: DeleteRecords.validVersions.min,
  maxVersion: DeleteRecords.validVersions.max,
  handle: (request) =>
    Effect.gen(function* () {
      const replicas = yield* ReplicaManager
      const registry = yield* TopicRegistry
      const timeoutMs = request.timeoutMs
      const topics = yield* Effect.forEach(
        request.topics,
        (t) =>
          Effect.map(
            Effect.forEach(
              t.partitions,
              (p): Effect.Effect<Partition> => {
                // internal topics belong to the coordinators, as in Kafka
                if (isInternal(t.name)) {
                  return Effect.succeed(
                    failed(
                      p.partitionIndex,
                      toWire(new InvalidTopic({ message: `Cannot delete records of internal topic ${t.name}` }))
                    )
                  )
                }
                const replica = replicas.get(t.name, p.partitionIndex)
                if (replica === undefined) {
                  return Effect.map(notHostedHere(registry, t.name, p.partitionIndex), (e) =>
                    failed(p.partitionIndex, toWire(e))
                  )
                }
                let deleted: Effect.Effect<number, { readonly message: string }> = replica.deleteRecords(
                  Number(p.offset)
                )
                if (timeoutMs > 0) {
                  deleted = deleted.pipe(
                    Effect.timeoutFail({
                      duration: timeoutMs,
                      onTimeout: () =>
                        new RequestTimedOut({ message: `DeleteRecords did not finish within ${timeoutMs} ms` })
                    })
                  )
                }
                return deleted.pipe(
                  Effect.map((lowWatermark) =>
                    DeleteRecords.makeDeleteRecordsResponseDeleteRecordsPartitionResult({
                      partitionIndex: p.partitionIndex,
                      lowWatermark: BigInt(lowWatermark),
                      errorCode: 0
                    })
                  ),
                  Effect.catchAll((e) => Effect.succeed(failed(p.partitionIndex, toWire(e))))
                )
              },
              { concurrency: "unbounded" }
            ),
            (partitions) =>
              DeleteRecords.makeDeleteRecordsResponseDeleteRecordsTopicResult({ name: t.name, partitions })
          ),
        { concurrency: "unbounded" }
      )
      return DeleteRecords.makeDeleteRecordsResponse({ topics })
    }),
  errorResponse: (request, error) =>
    DeleteRecords.makeDeleteRecordsResponse({
      topics: request.topics.map((t) =>
        DeleteRecords.makeDeleteRecordsResponseDeleteRecordsTopicResult({
          name: t.name,
          partitions: t.partitions.map((p) => failed(p.partitionIndex, error))
        })
      )
    })
})
