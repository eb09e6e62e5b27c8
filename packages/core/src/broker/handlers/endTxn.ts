// EndTxn v0-5: v1 same as v0; v2 PRODUCER_FENCED (KIP-588); v3 flexible (KIP-482); v4 TRANSACTION_ABORTABLE (KIP-890 part 1); v5 epoch bump per transaction, new producer id/epoch in the response (KIP-890 part 2; unstable in the schemas, advertised only with unstable.api.versions.enable).
import { Effect } from "effect"
import * as EndTxn from "../../protocol/generated/EndTxn.js"
import * as Handler from "../Handler.js"
import { TransactionCoordinator } from "../TransactionCoordinator.js"
import { fencedCode } from "../TransactionError.js"

export const handler = Handler.make({
  apiKey: EndTxn.apiKey,
  minVersion: 0,
  maxVersion: 5,
  handle: (request, context) =>
    Effect.gen(function* () {
      const coordinator = yield* TransactionCoordinator
      const bumpEpoch = context.apiVersion >= 5
      const next = yield* coordinator.endTxn(
        {
          transactionalId: request.transactionalId,
          producerId: Number(request.producerId),
          producerEpoch: request.producerEpoch
        },
        request.committed,
        bumpEpoch
      )
      return bumpEpoch
        ? EndTxn.makeEndTxnResponse({ producerId: BigInt(next.producerId), producerEpoch: next.producerEpoch })
        : EndTxn.makeEndTxnResponse({ producerId: -1n, producerEpoch: -1 })
    }),
  errorResponse: (_request, error, context) =>
    EndTxn.makeEndTxnResponse({
      errorCode: fencedCode(error.errorCode, context.apiVersion, 2),
      producerId: -1n,
      producerEpoch: -1
    })
})
