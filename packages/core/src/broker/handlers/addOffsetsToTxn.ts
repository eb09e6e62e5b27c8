// AddOffsetsToTxn v0-3: v1 same as v0; v2 PRODUCER_FENCED (KIP-588); v3 flexible (KIP-482). v4 (KIP-890) is not served.
import { Effect } from "effect"
import * as AddOffsetsToTxn from "../../protocol/generated/AddOffsetsToTxn.js"
import * as Handler from "../Handler.js"
import { TransactionCoordinator } from "../TransactionCoordinator.js"
import { fencedCode } from "../TransactionError.js"

export const handler = Handler.make({
  apiKey: AddOffsetsToTxn.apiKey,
  minVersion: 0,
  maxVersion: 3,
  handle: (request) =>
    Effect.gen(function* () {
      const coordinator = yield* TransactionCoordinator
      yield* coordinator.addOffsets(
        {
          transactionalId: request.transactionalId,
          producerId: Number(request.producerId),
          producerEpoch: request.producerEpoch
        },
        request.groupId
      )
      return AddOffsetsToTxn.makeAddOffsetsToTxnResponse({})
    }),
  errorResponse: (_request, error, context) =>
    AddOffsetsToTxn.makeAddOffsetsToTxnResponse({ errorCode: fencedCode(error.errorCode, context.apiVersion, 2) })
})
