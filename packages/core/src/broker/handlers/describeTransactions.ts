// DescribeTransactions v0 (KIP-664): the coordinator's state of each transactional id; an id it does not know -> TRANSACTIONAL_ID_NOT_FOUND.
import { Effect } from "effect"
import * as DescribeTransactions from "../../protocol/generated/DescribeTransactions.js"
import { ErrorCode } from "../../protocol/generated/ErrorCode.js"
import { Codes } from "../BrokerError.js"
import * as Handler from "../Handler.js"
import { statusName, TransactionCoordinator, TxnStatus } from "../TransactionCoordinator.js"

const notFound = (transactionalId: string, errorCode: number) =>
  DescribeTransactions.makeDescribeTransactionsResponseTransactionState({
    errorCode,
    transactionalId,
    transactionState: "",
    transactionTimeoutMs: 0,
    transactionStartTimeMs: -1n,
    producerId: -1n,
    producerEpoch: -1,
    topics: []
  })

export const handler = Handler.make({
  apiKey: DescribeTransactions.apiKey,
  minVersion: 0,
  maxVersion: 0,
  handle: (request) =>
    Effect.gen(function* () {
      const coordinator = yield* TransactionCoordinator
      const transactionStates = yield* Effect.forEach(request.transactionalIds, (transactionalId) =>
        Effect.map(coordinator.describe(transactionalId), (m) =>
          m === undefined || m.status === TxnStatus.Dead
            ? notFound(transactionalId, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND)
            : DescribeTransactions.makeDescribeTransactionsResponseTransactionState({
                errorCode: Codes.NONE,
                transactionalId,
                transactionState: statusName(m.status),
                transactionTimeoutMs: m.timeoutMs,
                transactionStartTimeMs: BigInt(m.startTimestamp),
                producerId: BigInt(m.producerId),
                producerEpoch: m.producerEpoch,
                topics: [...m.partitions]
                  .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
                  .map(([topic, partitions]) =>
                    DescribeTransactions.makeDescribeTransactionsResponseTopicData({
                      topic,
                      partitions: [...partitions].sort((a, b) => a - b)
                    })
                  )
              })
        )
      )
      return DescribeTransactions.makeDescribeTransactionsResponse({ transactionStates })
    }),
  errorResponse: (request, error) =>
    DescribeTransactions.makeDescribeTransactionsResponse({
      transactionStates: request.transactionalIds.map((id) => notFound(id, error.errorCode))
    })
})
