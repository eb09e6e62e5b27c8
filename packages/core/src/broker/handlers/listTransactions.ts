// ListTransactions v0-1 (KIP-664): the transactional ids this coordinator knows, filtered by state names (unknown names are echoed in unknown_state_filters) and producer ids; v1 duration_filter (KIP-994) keeps transactions running longer than it.
import { Clock, Effect } from "effect"
import * as ListTransactions from "../../protocol/generated/ListTransactions.js"
import { Codes } from "../BrokerError.js"
import * as Handler from "../Handler.js"
import { statusName, statusOfName, TransactionCoordinator, TxnStatus } from "../TransactionCoordinator.js"

export const handler = Handler.make({
  apiKey: ListTransactions.apiKey,
  minVersion: 0,
  maxVersion: 1,
  handle: (request, context) =>
    Effect.gen(function* () {
      const coordinator = yield* TransactionCoordinator
      const now = yield* Clock.currentTimeMillis
      const unknownStateFilters: Array<string> = []
      const states = new Set<number>()
      for (const name of request.stateFilters) {
        const status = statusOfName(name)
        if (status === undefined) unknownStateFilters.push(name)
        else states.add(status)
      }
      const producerIds = new Set(request.producerIdFilters.map(Number))
      const durationMs = context.apiVersion >= 1 ? Number(request.durationFilter) : -1
      const listed = (yield* coordinator.list)
        .filter(
          (m) =>
            m.status !== TxnStatus.Dead &&
            (producerIds.size === 0 || producerIds.has(m.producerId)) &&
            (request.stateFilters.length === 0 || states.has(m.status)) &&
            (durationMs < 0 || now - m.startTimestamp > durationMs)
        )
        .sort((a, b) => (a.transactionalId < b.transactionalId ? -1 : a.transactionalId > b.transactionalId ? 1 : 0))
      return ListTransactions.makeListTransactionsResponse({
        errorCode: Codes.NONE,
        unknownStateFilters,
        transactionStates: listed.map((m) =>
          ListTransactions.makeListTransactionsResponseTransactionState({
            transactionalId: m.transactionalId,
            producerId: BigInt(m.producerId),
            transactionState: statusName(m.status)
          })
        )
      })
    }),
  errorResponse: (_request, error) =>
    ListTransactions.makeListTransactionsResponse({
      errorCode: error.errorCode,
      unknownStateFilters: [],
      transactionStates: []
    })
})
