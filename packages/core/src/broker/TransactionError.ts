/**
 * Errors of the transaction coordinator (InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn).
 * Each carries its Kafka `errorCode`; handlers turn them into wire codes with `BrokerError.toWire`.
 */
import { Schema } from "effect"
import { ErrorCode } from "../protocol/generated/ErrorCode.js"

const fields = { message: Schema.String }

/** The transactional id is bound to another producer id (49). */
export class InvalidProducerIdMapping extends Schema.TaggedError<InvalidProducerIdMapping>()(
  "InvalidProducerIdMapping",
  fields
) {
  readonly errorCode = ErrorCode.INVALID_PRODUCER_ID_MAPPING
}

/** A transaction timeout above `transaction.max.timeout.ms` or not positive (50). */
export class InvalidTransactionTimeout extends Schema.TaggedError<InvalidTransactionTimeout>()(
  "InvalidTransactionTimeout",
  fields
) {
  readonly errorCode = ErrorCode.INVALID_TRANSACTION_TIMEOUT
}

/** The coordinator is completing the transaction; the client retries (51). */
export class ConcurrentTransactions extends Schema.TaggedError<ConcurrentTransactions>()(
  "ConcurrentTransactions",
  fields
) {
  readonly errorCode = ErrorCode.CONCURRENT_TRANSACTIONS
}

/** The request does not fit the transaction's state, e.g. EndTxn with no transaction open (48). */
export class TxnInvalidState extends Schema.TaggedError<TxnInvalidState>()("TxnInvalidState", fields) {
  readonly errorCode = ErrorCode.INVALID_TXN_STATE
}

/**
 * A newer producer with the same transactional id took over: this one is a zombie (90). Request versions
 * older than KIP-588's answer INVALID_PRODUCER_EPOCH (47) instead; see {@link fencedCode}.
 */
export class ProducerFenced extends Schema.TaggedError<ProducerFenced>()("ProducerFenced", fields) {
  readonly errorCode = ErrorCode.PRODUCER_FENCED
}

/** The transaction state topic cannot be read or written right now (15). */
export class TxnCoordinatorNotAvailable extends Schema.TaggedError<TxnCoordinatorNotAvailable>()(
  "TxnCoordinatorNotAvailable",
  fields
) {
  readonly errorCode = ErrorCode.COORDINATOR_NOT_AVAILABLE
}

/** This broker does not lead the transactional id's `__transaction_state` partition: look it up again (16). */
export class TxnNotCoordinator extends Schema.TaggedError<TxnNotCoordinator>()("TxnNotCoordinator", fields) {
  readonly errorCode = ErrorCode.NOT_COORDINATOR
}

/** The transactional id's `__transaction_state` partition is being loaded here: retry shortly (14). */
export class TxnCoordinatorLoadInProgress extends Schema.TaggedError<TxnCoordinatorLoadInProgress>()(
  "TxnCoordinatorLoadInProgress",
  fields
) {
  readonly errorCode = ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
}

/** Why a transaction request can fail. */
export type TransactionError =
  | InvalidProducerIdMapping
  | InvalidTransactionTimeout
  | ConcurrentTransactions
  | TxnInvalidState
  | ProducerFenced
  | TxnCoordinatorNotAvailable
  | TxnNotCoordinator
  | TxnCoordinatorLoadInProgress

/**
 * The wire code of a fenced producer for a request version: PRODUCER_FENCED only where the client
 * knows it (InitProducerId v4+, AddPartitionsToTxn, AddOffsetsToTxn and EndTxn v2+), else
 * INVALID_PRODUCER_EPOCH, as Kafka answers.
 */
export const fencedCode = (code: number, version: number, firstVersionWithFenced: number): number =>
  code === ErrorCode.PRODUCER_FENCED && version < firstVersionWithFenced ? ErrorCode.INVALID_PRODUCER_EPOCH : code
