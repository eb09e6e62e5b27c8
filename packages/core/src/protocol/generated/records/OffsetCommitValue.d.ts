import type { Reader } from "../../Reader.js";
import type { Writer } from "../../Writer.js";
import { type UnknownTaggedField } from "../Runtime.js";
/** The versions of OffsetCommitValue (the int16 version the record starts with). */
export declare const validVersions: {
    readonly min: 0;
    readonly max: 4;
};
/** OffsetCommitValue (versions 0-4). */
export interface OffsetCommitValue {
    offset: bigint;
    leaderEpoch: number;
    metadata: string;
    commitTimestamp: bigint;
    expireTimestamp: bigint;
    /** Tagged fields this schema does not know, kept so that a decode-encode round trip is byte-identical. */
    _unknownTaggedFields?: Array<UnknownTaggedField>;
}
/** A OffsetCommitValue with the schema's defaults, overridden by `partial`. */
export declare function makeOffsetCommitValue(partial?: Partial<OffsetCommitValue>): OffsetCommitValue;
/** Encodes a OffsetCommitValue in `version`. */
export declare function encodeOffsetCommitValue(w: Writer, v: OffsetCommitValue, version: number): void;
/** Decodes a OffsetCommitValue of `version`; throws a ProtocolError on malformed input. */
export declare function decodeOffsetCommitValue(r: Reader, version: number): OffsetCommitValue;
