/**
 * Reusable read buffers for the fetch path.
 *
 * A log read lands in a buffer that lives only until the bytes are on the socket. Allocating a fresh
 * megabyte buffer for every partition of every Fetch makes the process page in new memory each time and
 * makes V8 run a mark-compact for every few tens of megabytes of such external memory (measured: about
 * 65 full collections for 840 MB fetched; none with reused buffers). A {@link BufferPool} keeps released
 * buffers in size classes and hands them out again.
 *
 * Ownership is by {@link Lease}: a request takes a lease, every read of that request draws its buffers
 * from it ({@link ReadBuffers}), and whoever last uses the bytes (the connection, once the response is
 * written to the socket) releases the lease, once. A lease that is never released (a request interrupted
 * while a read may still be filling its buffer) simply leaves its buffers to the garbage collector.
 * The pool is an allocator, like Node's own `Buffer` pool: it holds no actor's state and every call is
 * synchronous.
 */
/** Where a read takes its buffer from. */
export interface ReadBuffers {
    /** A buffer of exactly `n` bytes, contents undefined. */
    readonly acquire: (n: number) => Buffer;
}
/** Fresh buffers the caller may keep: what reads take when no lease is given. */
export declare const freshBuffers: ReadBuffers;
/** A request's buffers: released together once nothing uses their bytes any more. */
export interface Lease extends ReadBuffers {
    /** Gives every buffer acquired so far back to the pool; later calls do nothing. */
    readonly release: () => void;
}
/** Sizes of a {@link BufferPool}. */
export interface BufferPoolOptions {
    /** Reads below this many bytes take a plain allocation (Node's allocator serves those well). Default 64 KiB. */
    readonly minPooledBytes?: number;
    /** Reads above this many bytes take a plain allocation. Default 16 MiB. */
    readonly maxPooledBytes?: number;
    /** The most bytes kept in free buffers; buffers released beyond it are left to the garbage collector. Default 64 MiB. */
    readonly maxRetainedBytes?: number;
}
/** Size classes 2^k and 1.5 * 2^k: a buffer is at most a half larger than the read it serves. */
export declare const sizeClass: (n: number) => number;
/** Free buffers by size class. */
export declare class BufferPool {
    private readonly free;
    private retained;
    private readonly minPooled;
    private readonly maxPooled;
    private readonly maxRetained;
    constructor(options?: BufferPoolOptions);
    /** Bytes held in free buffers. */
    get retainedBytes(): number;
    /** A new lease on this pool. */
    lease(): Lease;
}
