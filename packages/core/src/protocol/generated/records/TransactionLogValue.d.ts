import type { Reader } from "../../Reader.js";
import type { Writer } from "../../Writer.js";
import { type UnknownTaggedField } from "../Runtime.js";
/** The versions of TransactionLogValue (the int16 version the record starts with). */
export declare const validVersions: {
    readonly min: 0;
    readonly max: 1;
};
/** TransactionLogValue (versions 0-1). */
export interface TransactionLogValue {
    /** Producer id in use by the transactional id */
    producerId: bigint;
    /** Producer id used by the last committed transaction */
    previousProducerId: bigint;
    /** Latest producer ID sent to the producer for the given transactional ID */
    nextProducerId: bigint;
    /** Epoch associated with the producer id */
    producerEpoch: number;
    /** Transaction timeout in milliseconds */
    transactionTimeoutMs: number;
    /** TransactionState the transaction is in */
    transactionStatus: number;
    /** Set of partitions involved in the transaction */
    transactionPartitions: Array<TransactionLogValuePartitionsSchema> | null;
    /** Time the transaction was last updated */
    transactionLastUpdateTimestampMs: bigint;
    /** Time the transaction was started */
    transactionStartTimestampMs: bigint;
    /** The transaction version used by the client */
    clientTransactionVersion: number;
    /** Tagged fields this schema does not know, kept so that a decode-encode round trip is byte-identical. */
    _unknownTaggedFields?: Array<UnknownTaggedField>;
}
/** A TransactionLogValue with the schema's defaults, overridden by `partial`. */
export declare function makeTransactionLogValue(partial?: Partial<TransactionLogValue>): TransactionLogValue;
/** Encodes a TransactionLogValue in `version`. */
export declare function encodeTransactionLogValue(w: Writer, v: TransactionLogValue, version: number): void;
/** Decodes a TransactionLogValue of `version`; throws a ProtocolError on malformed input. */
export declare function decodeTransactionLogValue(r: Reader, version: number): TransactionLogValue;
/** PartitionsSchema, a struct of TransactionLogValue. */
export interface TransactionLogValuePartitionsSchema {
    topic: string;
    partitionIds: Array<number>;
    /** Tagged fields this schema does not know, kept so that a decode-encode round trip is byte-identical. */
    _unknownTaggedFields?: Array<UnknownTaggedField>;
}
/** A TransactionLogValuePartitionsSchema with the schema's defaults, overridden by `partial`. */
export declare function makeTransactionLogValuePartitionsSchema(partial?: Partial<TransactionLogValuePartitionsSchema>): TransactionLogValuePartitionsSchema;
/** Encodes a TransactionLogValuePartitionsSchema in `version`. */
export declare function encodeTransactionLogValuePartitionsSchema(w: Writer, v: TransactionLogValuePartitionsSchema, version: number): void;
/** Decodes a TransactionLogValuePartitionsSchema of `version`; throws a ProtocolError on malformed input. */
export declare function decodeTransactionLogValuePartitionsSchema(r: Reader, version: number): TransactionLogValuePartitionsSchema;
