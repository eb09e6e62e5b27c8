import type { Reader } from "../../Reader.js";
import type { Writer } from "../../Writer.js";
/** The versions of GroupMetadataKey (the int16 version the record starts with). */
export declare const validVersions: {
    readonly min: 2;
    readonly max: 2;
};
/** GroupMetadataKey (versions 2-2). */
export interface GroupMetadataKey {
    group: string;
}
/** A GroupMetadataKey with the schema's defaults, overridden by `partial`. */
export declare function makeGroupMetadataKey(partial?: Partial<GroupMetadataKey>): GroupMetadataKey;
/** Encodes a GroupMetadataKey in `version`. */
export declare function encodeGroupMetadataKey(w: Writer, v: GroupMetadataKey, version: number): void;
/** Decodes a GroupMetadataKey of `version`; throws a ProtocolError on malformed input. */
export declare function decodeGroupMetadataKey(r: Reader, version: number): GroupMetadataKey;
