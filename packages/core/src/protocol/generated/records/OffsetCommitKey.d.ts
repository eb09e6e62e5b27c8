import type { Reader } from "../../Reader.js";
import type { Writer } from "../../Writer.js";
/** The versions of OffsetCommitKey (the int16 version the record starts with). */
export declare const validVersions: {
    readonly min: 0;
    readonly max: 1;
};
/** OffsetCommitKey (versions 0-1). */
export interface OffsetCommitKey {
    group: string;
    topic: string;
    partition: number;
}
/** A OffsetCommitKey with the schema's defaults, overridden by `partial`. */
export declare function makeOffsetCommitKey(partial?: Partial<OffsetCommitKey>): OffsetCommitKey;
/** Encodes a OffsetCommitKey in `version`. */
export declare function encodeOffsetCommitKey(w: Writer, v: OffsetCommitKey, version: number): void;
/** Decodes a OffsetCommitKey of `version`; throws a ProtocolError on malformed input. */
export declare function decodeOffsetCommitKey(r: Reader, version: number): OffsetCommitKey;
