/**
 * Reading batch headers out of a segment file with few positional reads: a read-ahead window over the
 * file, and a full scan that checks every batch (recovery).
 */
import { Effect } from "effect";
import * as RecordBatch from "../../protocol/RecordBatch.js";
import { type ReadBuffers } from "../BufferPool.js";
import type { KafkaStorageError } from "../LogError.js";
import type { FileHandle } from "./disk.js";
/** Bytes of a header needed to know a batch's size, offsets and timestamps. */
export declare const PEEK_SIZE = 61;
/** Reads an int64 that is known to be a safe integer (or returns NaN). */
export declare const int64At: (buf: Uint8Array, pos: number) => number;
/** Reads an int32. */
export declare const int32At: (buf: Uint8Array, pos: number) => number;
/**
 * A read-ahead buffer over `[0, end)` of a file. `ensure(p, n)` makes `[p, p+n)` available, reading
 * `readAhead` bytes at once and keeping bytes from `keepFrom` on so that a result can be sliced
 * without a copy.
 */
export declare class Window {
    readonly file: FileHandle;
    readonly end: number;
    /** Where the window's buffers come from (a request's lease, or fresh ones). */
    readonly buffers: ReadBuffers;
    buf: Buffer;
    /** File position of `buf[0]`. */
    start: number;
    constructor(file: FileHandle, end: number, 
    /** Where the window's buffers come from (a request's lease, or fresh ones). */
    buffers?: ReadBuffers);
    /** True when `[p, p+n)` is in the buffer. */
    has(p: number, n: number): boolean;
    /** Buffer index of file position `p` (valid when `has`). */
    at(p: number): number;
    /** Makes `[p, p+n)` available (n clipped at `end`), keeping `[keepFrom, ...)` and reading at least `readAhead` bytes. */
    fill(p: number, n: number, readAhead: number, keepFrom?: number): Effect.Effect<void, KafkaStorageError>;
}
/** Reads up to `length` bytes, looping on short reads; returns the bytes read (fewer only at end of file). */
export declare const readFully: (file: FileHandle, buf: Uint8Array, offset: number, length: number, position: number) => Effect.Effect<number, KafkaStorageError>;
/** What a scan learns about one valid batch. */
export interface ScannedBatch {
    readonly position: number;
    readonly size: number;
    readonly header: RecordBatch.RecordBatchHeader;
}
/** Why a scan stopped before the end. */
export interface ScanStop {
    readonly position: number;
    readonly reason: string;
}
/**
 * Walks every batch in `[from, end)`, checking header, length and (when `verifyCrc`) CRC, and calls
 * `visit` for each valid one. Stops at the first invalid batch and returns where and why, or
 * undefined when every byte was a valid batch. `visit` may reject a batch by returning a reason.
 */
export declare const scan: (file: FileHandle, from: number, end: number, verifyCrc: boolean, visit: (batch: ScannedBatch, bytes: Uint8Array, at: number) => string | undefined, chunkSize?: number) => Effect.Effect<ScanStop | undefined, KafkaStorageError>;
