import type { Reader } from "../../Reader.js";
import type { Writer } from "../../Writer.js";
/** The versions of TransactionLogKey (the int16 version the record starts with). */
export declare const validVersions: {
    readonly min: 0;
    readonly max: 0;
};
/** TransactionLogKey (versions 0-0). */
export interface TransactionLogKey {
    transactionalId: string;
}
/** A TransactionLogKey with the schema's defaults, overridden by `partial`. */
export declare function makeTransactionLogKey(partial?: Partial<TransactionLogKey>): TransactionLogKey;
/** Encodes a TransactionLogKey in `version`. */
export declare function encodeTransactionLogKey(w: Writer, v: TransactionLogKey, version: number): void;
/** Decodes a TransactionLogKey of `version`; throws a ProtocolError on malformed input. */
export declare function decodeTransactionLogKey(r: Reader, version: number): TransactionLogKey;
