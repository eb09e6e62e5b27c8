/**
 * Errors of the transaction coordinator (InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn).
 * Each carries its Kafka `errorCode`; handlers turn them into wire codes with `BrokerError.toWire`.
 */
import { Schema } from "effect";
declare const InvalidProducerIdMapping_base: Schema.TaggedErrorClass<InvalidProducerIdMapping, "InvalidProducerIdMapping", {
    readonly _tag: Schema.tag<"InvalidProducerIdMapping">;
} & {
    message: typeof Schema.String;
}>;
/** The transactional id is bound to another producer id (49). */
export declare class InvalidProducerIdMapping extends InvalidProducerIdMapping_base {
    readonly errorCode: 49;
}
declare const InvalidTransactionTimeout_base: Schema.TaggedErrorClass<InvalidTransactionTimeout, "InvalidTransactionTimeout", {
    readonly _tag: Schema.tag<"InvalidTransactionTimeout">;
} & {
    message: typeof Schema.String;
}>;
/** A transaction timeout above `transaction.max.timeout.ms` or not positive (50). */
export declare class InvalidTransactionTimeout extends InvalidTransactionTimeout_base {
    readonly errorCode: 50;
}
declare const ConcurrentTransactions_base: Schema.TaggedErrorClass<ConcurrentTransactions, "ConcurrentTransactions", {
    readonly _tag: Schema.tag<"ConcurrentTransactions">;
} & {
    message: typeof Schema.String;
}>;
/** The coordinator is completing the transaction; the client retries (51). */
export declare class ConcurrentTransactions extends ConcurrentTransactions_base {
    readonly errorCode: 51;
}
declare const TxnInvalidState_base: Schema.TaggedErrorClass<TxnInvalidState, "TxnInvalidState", {
    readonly _tag: Schema.tag<"TxnInvalidState">;
} & {
    message: typeof Schema.String;
}>;
/** The request does not fit the transaction's state, e.g. EndTxn with no transaction open (48). */
export declare class TxnInvalidState extends TxnInvalidState_base {
    readonly errorCode: 48;
}
declare const ProducerFenced_base: Schema.TaggedErrorClass<ProducerFenced, "ProducerFenced", {
    readonly _tag: Schema.tag<"ProducerFenced">;
} & {
    message: typeof Schema.String;
}>;
/**
 * A newer producer with the same transactional id took over: this one is a zombie (90). Request versions
 * older than KIP-588's answer INVALID_PRODUCER_EPOCH (47) instead; see {@link fencedCode}.
 */
export declare class ProducerFenced extends ProducerFenced_base {
    readonly errorCode: 90;
}
declare const TxnCoordinatorNotAvailable_base: Schema.TaggedErrorClass<TxnCoordinatorNotAvailable, "TxnCoordinatorNotAvailable", {
    readonly _tag: Schema.tag<"TxnCoordinatorNotAvailable">;
} & {
    message: typeof Schema.String;
}>;
/** The transaction state topic cannot be read or written right now (15). */
export declare class TxnCoordinatorNotAvailable extends TxnCoordinatorNotAvailable_base {
    readonly errorCode: 15;
}
/** Why a transaction request can fail. */
export type TransactionError = InvalidProducerIdMapping | InvalidTransactionTimeout | ConcurrentTransactions | TxnInvalidState | ProducerFenced | TxnCoordinatorNotAvailable;
/**
 * The wire code of a fenced producer for a request version: PRODUCER_FENCED only where the client
 * knows it (InitProducerId v4+, AddPartitionsToTxn, AddOffsetsToTxn and EndTxn v2+), else
 * INVALID_PRODUCER_EPOCH, as Kafka answers.
 */
export declare const fencedCode: (code: number, version: number, firstVersionWithFenced: number) => number;
export {};
