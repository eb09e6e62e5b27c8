/**
 * Reading batch headers out of a segment file with few positional reads: a read-ahead window over the
 * file, and a full scan that checks every batch (recovery).
 */
import { Effect } from "effect"
import * as RecordBatch from "../../protocol/RecordBatch.js"
import { freshBuffers, type ReadBuffers } from "../BufferPool.js"
import type { KafkaStorageError } from "../LogError.js"
import type { FileHandle } from "./disk.js"

const { LOG_OVERHEAD, HEADER_SIZE, Field } = RecordBatch

/** Bytes of a header needed to know a batch's size, offsets and timestamps. */
export const PEEK_SIZE = HEADER_SIZE

/** Reads an int64 that is known to be a safe integer (or returns NaN). */
export const int64At = (buf: Uint8Array, pos: number): number => {
  const hi = (buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!
  const lo = ((buf[pos + 4]! << 24) | (buf[pos + 5]! << 16) | (buf[pos + 6]! << 8) | buf[pos + 7]!) >>> 0
  if (hi > 0x1fffff || hi < -0x200000) return Number.NaN
  return hi * 0x100000000 + lo
}

/** Reads an int32. */
export const int32At = (buf: Uint8Array, pos: number): number =>
  (buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!

/**
 * A read-ahead buffer over `[0, end)` of a file. `ensure(p, n)` makes `[p, p+n)` available, reading
 * `readAhead` bytes at once and keeping bytes from `keepFrom` on so that a result can be sliced
 * without a copy.
 */
export class Window {
  buf: Buffer = Buffer.alloc(0)
  /** File position of `buf[0]`. */
  start = 0

  constructor(
    readonly file: FileHandle,
    readonly end: number,
    /** Where the window's buffers come from (a request's lease, or fresh ones). */
    readonly buffers: ReadBuffers = freshBuffers
  ) {}

  /** True when `[p, p+n)` is in the buffer. */
  has(p: number, n: number): boolean {
    return p >= this.start && p + n <= this.start + this.buf.length
  }

  /** Buffer index of file position `p` (valid when `has`). */
  at(p: number): number {
    return p - this.start
  }

  /** Makes `[p, p+n)` available (n clipped at `end`), keeping `[keepFrom, ...)` and reading at least `readAhead` bytes. */
  fill(p: number, n: number, readAhead: number, keepFrom = p): Effect.Effect<void, KafkaStorageError> {
    return Effect.suspend(() => {
      const from = Math.min(keepFrom, p)
      const to = Math.min(this.end, Math.max(p + n, from + readAhead))
      const next = this.buffers.acquire(Math.max(0, to - from))
      let have = from
      // keep what is already buffered from `from` on
      if (from >= this.start && from < this.start + this.buf.length) {
        const copyEnd = Math.min(this.start + this.buf.length, to)
        this.buf.copy(next, 0, from - this.start, copyEnd - this.start)
        have = copyEnd
      }
      const rest = to - have
      const done = () => {
        this.buf = next
        this.start = from
      }
      if (rest <= 0) return Effect.sync(done)
      return readFully(this.file, next, have - from, rest, have).pipe(
        Effect.tap((got) => {
          this.buf = got < rest ? next.subarray(0, have - from + got) : next
          this.start = from
        }),
        Effect.asVoid
      )
    })
  }
}

/** Reads up to `length` bytes, looping on short reads; returns the bytes read (fewer only at end of file). */
export const readFully = (
  file: FileHandle,
  buf: Uint8Array,
  offset: number,
  length: number,
  position: number
): Effect.Effect<number, KafkaStorageError> =>
  Effect.gen(function* () {
    let got = 0
    while (got < length) {
      const n = yield* file.read(buf, offset + got, length - got, position + got)
      if (n === 0) break
      got += n
    }
    return got
  })

/** What a scan learns about one valid batch. */
export interface ScannedBatch {
  readonly position: number
  readonly size: number
  readonly header: RecordBatch.RecordBatchHeader
}

/** Why a scan stopped before the end. */
export interface ScanStop {
  readonly position: number
  readonly reason: string
}

/**
 * Walks every batch in `[from, end)`, checking header, length and (when `verifyCrc`) CRC, and calls
 * `visit` for each valid one. Stops at the first invalid batch and returns where and why, or
 * undefined when every byte was a valid batch. `visit` may reject a batch by returning a reason.
 */
export const scan = (
  file: FileHandle,
  from: number,
  end: number,
  verifyCrc: boolean,
  visit: (batch: ScannedBatch, bytes: Uint8Array, at: number) => string | undefined,
  chunkSize = 1 << 20
): Effect.Effect<ScanStop | undefined, KafkaStorageError> =>
  Effect.gen(function* () {
    const win = new Window(file, end)
    let p = from
    while (p < end) {
      if (end - p < LOG_OVERHEAD) return { position: p, reason: `${end - p} trailing bytes` }
      if (!win.has(p, LOG_OVERHEAD)) yield* win.fill(p, LOG_OVERHEAD, chunkSize)
      const size = LOG_OVERHEAD + int32At(win.buf, win.at(p) + Field.batchLength)
      if (size < HEADER_SIZE) return { position: p, reason: `invalid batch length ${size - LOG_OVERHEAD}` }
      if (p + size > end) return { position: p, reason: `torn batch: ${size} bytes, ${end - p} on disk` }
      if (!win.has(p, size)) yield* win.fill(p, size, chunkSize)
      const at = win.at(p)
      let header: RecordBatch.RecordBatchHeader
      try {
        header = RecordBatch.readHeader(win.buf.subarray(at, at + size), 0)
      } catch (e) {
        return { position: p, reason: e instanceof Error ? e.message : String(e) }
      }
      if (header.lastOffsetDelta < 0) return { position: p, reason: `negative lastOffsetDelta` }
      if (verifyCrc && !RecordBatch.isCrcValid(win.buf, at, size)) {
        return { position: p, reason: `CRC mismatch in batch at offset ${header.baseOffset}` }
      }
      const rejected = visit({ position: p, size, header }, win.buf, at)
      if (rejected !== undefined) return { position: p, reason: rejected }
      p += size
    }
    return undefined
  })
