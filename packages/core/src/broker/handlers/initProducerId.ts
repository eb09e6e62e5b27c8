// InitProducerId v0-4: v1 same as v0; v2 flexible (KIP-482); v3 producer_id/producer_epoch of the caller (KIP-360 epoch bump); v4 PRODUCER_FENCED (KIP-588). v5 (KIP-890 two-phase commit) is not served.
import { Effect } from "effect"
import * as InitProducerId from "../../protocol/generated/InitProducerId.js"
import type { WireError } from "../BrokerError.js"
import * as Handler from "../Handler.js"
import { TransactionCoordinator } from "../TransactionCoordinator.js"
import { fencedCode } from "../TransactionError.js"

const failed = (error: WireError, version: number) =>
  InitProducerId.makeInitProducerIdResponse({
    errorCode: fencedCode(error.errorCode, version, 4),
    producerId: -1n,
    producerEpoch: -1
  })

export const handler = Handler.make({
  apiKey: InitProducerId.apiKey,
  minVersion: 0,
  maxVersion: 4,
  handle: (request, context) =>
    Effect.gen(function* () {
      const coordinator = yield* TransactionCoordinator
      const v = context.apiVersion
      const r = yield* coordinator.initProducerId(request.transactionalId, request.transactionTimeoutMs, {
        producerId: v >= 3 ? Number(request.producerId) : -1,
        producerEpoch: v >= 3 ? request.producerEpoch : -1
      })
      return InitProducerId.makeInitProducerIdResponse({
        producerId: BigInt(r.producerId),
        producerEpoch: r.producerEpoch
      })
    }),
  errorResponse: (_request, error, context) => failed(error, context.apiVersion)
})
