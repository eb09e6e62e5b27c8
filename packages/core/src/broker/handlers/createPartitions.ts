// CreatePartitions v0-3: v1 same as v0; v2 flexible; v3 quota errors (KIP-599). Increase only (KIP-195). At most 10,000 new partitions per request, else every topic gets POLICY_VIOLATION (KAFKA-19673).
import { Effect } from "effect"
import * as CreatePartitions from "../../protocol/generated/CreatePartitions.js"
import { Codes, InvalidRequest, none, toWire, type WireError, wireMessage } from "../BrokerError.js"
import * as Handler from "../Handler.js"
import { MAX_PARTITIONS_PER_REQUEST, TopicRegistry, tooManyPartitionsPerRequest } from "../TopicRegistry.js"

const result = (
  name: string,
  error: WireError
): CreatePartitions.CreatePartitionsResponseCreatePartitionsTopicResult => ({
  name,
  errorCode: error.errorCode,
  errorMessage: wireMessage(error.errorMessage)
})

export const handler = Handler.make({
  apiKey: CreatePartitions.apiKey,
  minVersion: CreatePartitions.validVersions.min,
  maxVersion: CreatePartitions.validVersions.max,
  handle: (request, context) =>
    Effect.gen(function* () {
      const registry = yield* TopicRegistry
      let added = 0
      for (const t of request.topics) {
        const existing = yield* registry.get(t.name)
        if (existing !== undefined && t.count > existing.partitions) added += t.count - existing.partitions
      }
      if (added > MAX_PARTITIONS_PER_REQUEST) {
        const error = toWire(tooManyPartitionsPerRequest(added))
        return CreatePartitions.makeCreatePartitionsResponse({
          results: request.topics.map((t) => result(t.name, error))
        })
      }
      const counts = new Map<string, number>()
      for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1)
      const results: Array<CreatePartitions.CreatePartitionsResponseCreatePartitionsTopicResult> = []
      const done = new Set<string>()
      for (const t of request.topics) {
        if (done.has(t.name)) continue
        done.add(t.name)
        if (counts.get(t.name)! > 1) {
          results.push(result(t.name, toWire(new InvalidRequest({ message: "Duplicate topic in request." }))))
          continue
        }
        const existing = yield* registry.get(t.name)
        if (existing !== undefined && t.assignments !== null) {
          const added = t.count - existing.partitions
          const live = new Set(context.broker.brokers().map((b) => b.nodeId))
          const bad =
            t.assignments.length !== added ||
            t.assignments.some(
              (a) =>
                a.brokerIds.length !== existing.replicationFactor ||
                new Set(a.brokerIds).size !== a.brokerIds.length ||
                a.brokerIds.some((b) => !live.has(b))
            )
          if (bad && added > 0) {
            results.push(
              result(t.name, {
                errorCode: Codes.INVALID_REPLICA_ASSIGNMENT,
                errorMessage: `Invalid replica assignment: ${added} new partition(s) of ${existing.replicationFactor} distinct live broker(s) (${[...live].join(", ")}) expected`
              })
            )
            continue
          }
        }
        const outcome = yield* Effect.either(
          registry.createPartitions(t.name, t.count, {
            validateOnly: request.validateOnly,
            assignments: t.assignments?.map((a) => a.brokerIds)
          })
        )
        if (outcome._tag === "Left") {
          results.push(result(t.name, toWire(outcome.left)))
        } else {
          if (!request.validateOnly) yield* Effect.logInfo(`Topic ${t.name} now has ${t.count} partitions`)
          results.push(result(t.name, none))
        }
      }
      return CreatePartitions.makeCreatePartitionsResponse({ results })
    }),
  errorResponse: (request, error) =>
    CreatePartitions.makeCreatePartitionsResponse({ results: request.topics.map((t) => result(t.name, error)) })
})
