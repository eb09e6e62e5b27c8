// FindCoordinator v0-4: v1 key_type (0 group, 1 transaction) and error message; v3 flexible (KIP-482); v4 batches keys (KIP-699). The coordinator of a key is the leader of its partition of __consumer_offsets or __transaction_state (as the metadata store has it; COORDINATOR_NOT_AVAILABLE while it has none); the topic is created on the first lookup.
import { Effect } from "effect"
import * as FindCoordinator from "../../protocol/generated/FindCoordinator.js"
import { Codes, InvalidRequest, toWire, type WireError, wireMessage } from "../BrokerError.js"
import { KeyType, partitionFor } from "../CoordinatorKey.js"
import { GroupCoordinator } from "../GroupCoordinator.js"
import * as Handler from "../Handler.js"
import { CONSUMER_OFFSETS, TopicRegistry, TRANSACTION_STATE } from "../TopicRegistry.js"
import { TransactionCoordinator } from "../TransactionCoordinator.js"

interface Coordinator {
  readonly nodeId: number
  readonly host: string
  readonly port: number
}

const BATCHED_VERSION = 4

export const handler = Handler.make({
  apiKey: FindCoordinator.apiKey,
  minVersion: 0,
  maxVersion: 4,
  handle: (request, context) =>
    Effect.gen(function* () {
      const groups = yield* GroupCoordinator
      const transactions = yield* TransactionCoordinator
      const registry = yield* TopicRegistry
      const { broker } = context
      const self = broker.brokers().find((b) => b.nodeId === broker.nodeId) ?? broker
      /** The leader of the key's internal partition, as the metadata store has it (this broker before it joined). */
      const leaderFor = (key: string): Effect.Effect<Coordinator | WireError> =>
        Effect.gen(function* () {
          const topic = request.keyType === KeyType.TRANSACTION ? TRANSACTION_STATE : CONSUMER_OFFSETS
          const count = (yield* registry.get(topic))?.partitions ?? 1
          const record = broker.cluster()?.partitions(topic)?.[partitionFor(key, count)]
          if (record === undefined) return self
          const leader = broker.brokers().find((b) => b.nodeId === record.leader)
          return (
            leader ?? {
              errorCode: Codes.COORDINATOR_NOT_AVAILABLE,
              errorMessage: `The coordinator of ${key} (the leader of its ${topic} partition) is not available.`
            }
          )
        })
      const resolve = (key: string): Effect.Effect<Coordinator | WireError> => {
        if (request.keyType !== KeyType.GROUP && request.keyType !== KeyType.TRANSACTION) {
          return Effect.succeed(toWire(new InvalidRequest({ message: `Unknown key type ${request.keyType}.` })))
        }
        // the coordinators' internal topics are created on the first lookup, as in Kafka
        const ensure: Effect.Effect<void, { readonly message: string }> =
          request.keyType === KeyType.TRANSACTION ? transactions.ensureTopic : groups.ensureOffsetsTopic
        return ensure.pipe(
          Effect.zipRight(leaderFor(key)),
          Effect.catchAll((e) =>
            Effect.succeed({ errorCode: Codes.COORDINATOR_NOT_AVAILABLE, errorMessage: e.message })
          )
        )
      }
      const isError = (c: Coordinator | WireError): c is WireError => "errorCode" in c
      if (context.apiVersion >= BATCHED_VERSION) {
        const coordinators = yield* Effect.forEach(request.coordinatorKeys, (key) =>
          Effect.map(resolve(key), (c) =>
            FindCoordinator.makeFindCoordinatorResponseCoordinator(
              isError(c)
                ? {
                    key,
                    nodeId: -1,
                    host: "",
                    port: -1,
                    errorCode: c.errorCode,
                    errorMessage: wireMessage(c.errorMessage)
                  }
                : { key, nodeId: c.nodeId, host: c.host, port: c.port, errorCode: Codes.NONE, errorMessage: null }
            )
          )
        )
        return FindCoordinator.makeFindCoordinatorResponse({ coordinators })
      }
      const c = yield* resolve(request.key)
      return FindCoordinator.makeFindCoordinatorResponse(
        isError(c)
          ? { errorCode: c.errorCode, errorMessage: wireMessage(c.errorMessage), nodeId: -1, host: "", port: -1 }
          : { errorCode: Codes.NONE, errorMessage: null, nodeId: c.nodeId, host: c.host, port: c.port }
      )
    }),
  errorResponse: (request, error, context) =>
    context.apiVersion >= BATCHED_VERSION
      ? FindCoordinator.makeFindCoordinatorResponse({
          coordinators: request.coordinatorKeys.map((key) =>
            FindCoordinator.makeFindCoordinatorResponseCoordinator({
              key,
              nodeId: -1,
              host: "",
              port: -1,
              errorCode: error.errorCode,
              errorMessage: wireMessage(error.errorMessage)
            })
          )
        })
      : FindCoordinator.makeFindCoordinatorResponse({
          errorCode: error.errorCode,
          errorMessage: wireMessage(error.errorMessage),
          nodeId: -1,
          host: "",
          port: -1
        })
})
