import { Effect, Option } from "effect";
import { type KafkaStorageError } from "../LogError.js";
/** An open file, read-write, addressed by position. */
export interface FileHandle {
    readonly path: string;
    /**
     * Writes all the buffers at `position`, looping on short writes. `during` runs on the calling thread
     * while the write is in flight (the log checks CRCs there, overlapping CPU with I/O).
     */
    readonly writev: (buffers: ReadonlyArray<Uint8Array>, position: number, during?: () => void) => Effect.Effect<void, KafkaStorageError>;
    /**
     * Present when writes of at most {@link SYNC_IO_MAX} bytes can run synchronously on the calling thread:
     * writes all of `buffers` (`total` bytes) at `position` and returns the error, if any. Lets the log's
     * append skip an Effect step; absent on wrapped handles (`withHooks`), which go through {@link writev}.
     */
    readonly writevNow?: (buffers: ReadonlyArray<Uint8Array>, total: number, position: number) => KafkaStorageError | undefined;
    /** Present along with {@link writevNow}: truncates synchronously and returns the error, if any. */
    readonly truncateNow?: (size: number) => KafkaStorageError | undefined;
    /**
     * Present on the `node:fs` handle: {@link writev} with a callback (always called asynchronously) instead
     * of an Effect, and the same for {@link truncate}. Let the log hold its lock from a large write to
     * its completion with a single Effect step.
     */
    readonly writevCallback?: (buffers: ReadonlyArray<Uint8Array>, position: number, done: (error: KafkaStorageError | undefined) => void) => void;
    readonly truncateCallback?: (size: number, done: (error: KafkaStorageError | undefined) => void) => void;
    /** Reads up to `length` bytes at `position` into `buffer[offset..]`; returns the bytes read (fewer at EOF). */
    readonly read: (buffer: Uint8Array, offset: number, length: number, position: number) => Effect.Effect<number, KafkaStorageError>;
    readonly sync: Effect.Effect<void, KafkaStorageError>;
    readonly truncate: (size: number) => Effect.Effect<void, KafkaStorageError>;
    readonly size: Effect.Effect<number, KafkaStorageError>;
    readonly close: Effect.Effect<void, KafkaStorageError>;
}
/** The disk: files and folders. */
export interface Disk {
    /** Opens a file read-write, creating it when `create` is true. */
    readonly open: (path: string, create: boolean) => Effect.Effect<FileHandle, KafkaStorageError>;
    /** The whole file, or none when it does not exist. */
    readonly readFile: (path: string) => Effect.Effect<Option.Option<Uint8Array>, KafkaStorageError>;
    /** Replaces a file atomically: write a temporary file, fsync, rename, fsync the folder. */
    readonly writeFileAtomic: (path: string, data: Uint8Array) => Effect.Effect<void, KafkaStorageError>;
    readonly exists: (path: string) => Effect.Effect<boolean, KafkaStorageError>;
    /** Names in a folder; empty when the folder does not exist. */
    readonly list: (dir: string) => Effect.Effect<ReadonlyArray<string>, KafkaStorageError>;
    readonly mkdir: (dir: string) => Effect.Effect<void, KafkaStorageError>;
    /** Removes a file; no error when missing. */
    readonly remove: (path: string) => Effect.Effect<void, KafkaStorageError>;
    /** Removes a folder and everything in it. */
    readonly removeDir: (dir: string) => Effect.Effect<void, KafkaStorageError>;
    readonly rename: (from: string, to: string) => Effect.Effect<void, KafkaStorageError>;
    /** Makes the folder's entries (creates, renames, unlinks) durable. */
    readonly syncDir: (dir: string) => Effect.Effect<void, KafkaStorageError>;
}
/**
 * Writes and reads of at most this many bytes run synchronously on the calling thread: to and from the
 * page cache they take microseconds, while a trip through libuv's thread pool costs a wake-up of another
 * thread and a callback, which dominated small appends and tail reads (and their latency tails) on a
 * loaded machine. Larger ones stay asynchronous so the event loop keeps serving while they run.
 */
export declare const SYNC_IO_MAX: number;
/** The real disk, through `node:fs`. */
export declare const node: Disk;
/** A fresh, empty in-memory disk. */
export declare const memory: () => Disk;
/** The operations a {@link withHooks} hook sees. */
export type Operation = "open" | "write" | "read" | "fsync" | "truncate" | "close" | "readFile" | "writeFile" | "list" | "mkdir" | "remove" | "rename" | "syncDir";
/**
 * Wraps a disk so that `before(operation, path)` runs ahead of every operation: it may fail it
 * (fault injection: disk full, permission denied) or count it.
 */
export declare const withHooks: (disk: Disk, before: (operation: Operation, path: string) => Effect.Effect<void, KafkaStorageError>) => Disk;
