import type { Reader } from "../../Reader.js";
import type { Writer } from "../../Writer.js";
import { type UnknownTaggedField } from "../Runtime.js";
/** The versions of GroupMetadataValue (the int16 version the record starts with). */
export declare const validVersions: {
    readonly min: 0;
    readonly max: 4;
};
/** GroupMetadataValue (versions 0-4). */
export interface GroupMetadataValue {
    protocolType: string;
    generation: number;
    protocol: string | null;
    leader: string | null;
    currentStateTimestamp: bigint;
    members: Array<GroupMetadataValueMemberMetadata>;
    /** Tagged fields this schema does not know, kept so that a decode-encode round trip is byte-identical. */
    _unknownTaggedFields?: Array<UnknownTaggedField>;
}
/** A GroupMetadataValue with the schema's defaults, overridden by `partial`. */
export declare function makeGroupMetadataValue(partial?: Partial<GroupMetadataValue>): GroupMetadataValue;
/** Encodes a GroupMetadataValue in `version`. */
export declare function encodeGroupMetadataValue(w: Writer, v: GroupMetadataValue, version: number): void;
/** Decodes a GroupMetadataValue of `version`; throws a ProtocolError on malformed input. */
export declare function decodeGroupMetadataValue(r: Reader, version: number): GroupMetadataValue;
/** MemberMetadata, a struct of GroupMetadataValue. */
export interface GroupMetadataValueMemberMetadata {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    rebalanceTimeout: number;
    sessionTimeout: number;
    subscription: Uint8Array;
    assignment: Uint8Array;
    /** Tagged fields this schema does not know, kept so that a decode-encode round trip is byte-identical. */
    _unknownTaggedFields?: Array<UnknownTaggedField>;
}
/** A GroupMetadataValueMemberMetadata with the schema's defaults, overridden by `partial`. */
export declare function makeGroupMetadataValueMemberMetadata(partial?: Partial<GroupMetadataValueMemberMetadata>): GroupMetadataValueMemberMetadata;
/** Encodes a GroupMetadataValueMemberMetadata in `version`. */
export declare function encodeGroupMetadataValueMemberMetadata(w: Writer, v: GroupMetadataValueMemberMetadata, version: number): void;
/** Decodes a GroupMetadataValueMemberMetadata of `version`; throws a ProtocolError on malformed input. */
export declare function decodeGroupMetadataValueMemberMetadata(r: Reader, version: number): GroupMetadataValueMemberMetadata;
