import * as RecordBatch from "./RecordBatch.js";
/** offset (8) + size (4) */
export declare const LOG_OVERHEAD = 12;
/** One legacy message, with its absolute offset (inner messages of compressed wrappers are flattened). */
export interface LegacyMessage {
    readonly offset: number;
    readonly magic: 0 | 1;
    /** The attributes of the message as written; for inner messages, the wrapper's compression is in `codec`. */
    readonly attributes: number;
    /** Compression codec of the wrapper it came in, 0 when it was not compressed. */
    readonly codec: number;
    /** -1 for magic 0; the wrapper's timestamp when the wrapper is LogAppendTime. */
    readonly timestamp: number;
    readonly key: Uint8Array | null;
    readonly value: Uint8Array | null;
}
/** Options for {@link decode}. */
export interface DecodeOptions {
    /** Ignore a partial message at the end (a Fetch response cut at `max.bytes`) instead of failing. */
    readonly allowTruncatedTail?: boolean;
    /** Cap on each decompressed wrapper (default 64 MiB). */
    readonly maxDecompressedBytes?: number;
}
/** The magic byte of the batch or message at `pos` (byte 16 in both formats), failing when truncated. */
export declare const magicAt: (buf: Uint8Array, pos?: number) => number;
/** True when the batch at `pos` is a legacy message set entry (magic 0 or 1), false for RecordBatch v2. */
export declare const isLegacy: (buf: Uint8Array, pos?: number) => boolean;
/** Decodes a legacy message set, checking every CRC and flattening compressed wrappers. */
export declare const decode: (buf: Uint8Array, options?: DecodeOptions) => Array<LegacyMessage>;
/** Options for {@link toRecordBatch}. */
export interface ToRecordBatchOptions {
    /** Compression of the v2 batch; default the codec the producer used (of the first wrapper), else none. */
    readonly compression?: RecordBatch.Compression;
    readonly maxDecompressedBytes?: number;
}
/**
 * Converts a produced legacy message set into one RecordBatch v2 with offset deltas 0..n-1 (the broker
 * assigns offsets on append). Magic 0 messages get timestamp -1 (no timestamp), as Kafka does.
 * Fails with a ProtocolError when the message set is malformed or empty.
 */
export declare const toRecordBatch: (messageSet: Uint8Array, options?: ToRecordBatchOptions) => Buffer;
/** A message to encode into a legacy message set. */
export interface LegacyMessageInput {
    readonly offset: number;
    /** Ignored for magic 0; default now for magic 1. */
    readonly timestamp?: number;
    readonly key?: Uint8Array | null;
    readonly value: Uint8Array | null;
}
/** Options for {@link encode}. */
export interface EncodeOptions {
    readonly magic: 0 | 1;
    /** gzip, snappy or lz4 (zstd does not exist for legacy messages); default none. */
    readonly compression?: RecordBatch.Compression;
    /** Magic 1: mark the wrapper LogAppendTime with this timestamp. */
    readonly logAppendTime?: number;
}
/**
 * Encodes a legacy message set for old consumers (Fetch v0-3). With compression, all messages go into
 * one wrapper message (magic 1: relative inner offsets, the wrapper holding the last absolute offset).
 */
export declare const encode: (messages: ReadonlyArray<LegacyMessageInput>, options: EncodeOptions) => Buffer;
/**
 * Converts consecutive RecordBatch v2 batches into a legacy message set for Fetch v0-3, skipping control
 * batches. Headers are dropped (legacy messages have none). Keeps each batch's codec unless it is zstd.
 */
export declare const fromRecordBatches: (buf: Uint8Array, magic: 0 | 1) => Buffer;
