// FindCoordinator v0-4: v1 key_type (0 group, 1 transaction) and error message; v3 flexible (KIP-482); v4 batches keys (KIP-699). Single node: this broker coordinates every key; __consumer_offsets or __transaction_state is created on the first lookup.
import { Effect } from "effect"
import * as FindCoordinator from "../../protocol/generated/FindCoordinator.js"
import { Codes, InvalidRequest, toWire, type WireError, wireMessage } from "../BrokerError.js"
import { KeyType } from "../CoordinatorKey.js"
import { GroupCoordinator } from "../GroupCoordinator.js"
import * as Handler from "../Handler.js"
import { TransactionCoordinator } from "../TransactionCoordinator.js"

const BATCHED_VERSION = 4

export const handler = Handler.make({
  apiKey: FindCoordinator.apiKey,
  minVersion: 0,
  maxVersion: 4,
  handle: (request, context) =>
    Effect.gen(function* () {
      const groups = yield* GroupCoordinator
      const transactions = yield* TransactionCoordinator
      // the coordinator (this node: it leads every internal partition) as the metadata store lists it
      const { nodeId, host, port } =
        context.broker.brokers().find((b) => b.nodeId === context.broker.nodeId) ?? context.broker
      const resolve = (): Effect.Effect<WireError> => {
        if (request.keyType !== KeyType.GROUP && request.keyType !== KeyType.TRANSACTION) {
          return Effect.succeed(toWire(new InvalidRequest({ message: `Unknown key type ${request.keyType}.` })))
        }
        // the coordinators' internal topics are created on the first lookup, as in Kafka
        const ensure: Effect.Effect<void, { readonly message: string }> =
          request.keyType === KeyType.TRANSACTION ? transactions.ensureTopic : groups.ensureOffsetsTopic
        return ensure.pipe(
          Effect.as<WireError>({ errorCode: Codes.NONE, errorMessage: null }),
          Effect.catchAll((e) =>
            Effect.succeed({ errorCode: Codes.COORDINATOR_NOT_AVAILABLE, errorMessage: e.message })
          )
        )
      }
      if (context.apiVersion >= BATCHED_VERSION) {
        const coordinators = yield* Effect.forEach(request.coordinatorKeys, (key) =>
          Effect.map(resolve(), (e) =>
            FindCoordinator.makeFindCoordinatorResponseCoordinator({
              key,
              nodeId: e.errorCode === 0 ? nodeId : -1,
              host: e.errorCode === 0 ? host : "",
              port: e.errorCode === 0 ? port : -1,
              errorCode: e.errorCode,
              errorMessage: wireMessage(e.errorMessage)
            })
          )
        )
        return FindCoordinator.makeFindCoordinatorResponse({ coordinators })
      }
      const e = yield* resolve()
      return FindCoordinator.makeFindCoordinatorResponse({
        errorCode: e.errorCode,
        errorMessage: wireMessage(e.errorMessage),
        nodeId: e.errorCode === 0 ? nodeId : -1,
        host: e.errorCode === 0 ? host : "",
        port: e.errorCode === 0 ? port : -1
      })
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
