/**
 * One log segment: `<baseOffset>.log` holding record batches exactly as stored on the wire, with its
 * sparse `.index` (offset -> position) and `.timeindex` (timestamp -> offset), all named by the
 * segment's base offset, 20-digit zero-padded.
 *
 * A segment is mutated only by its {@link Log} (sequentially); reads may run concurrently and hold a
 * reader count so that a deleted segment's file is closed only after its last reader is done.
 */
import * as Path from "node:path"
import { Effect, Option } from "effect"
import * as RecordBatch from "../protocol/RecordBatch.js"
import type { ReadBuffers } from "./BufferPool.js"
import { int32At, int64At, PEEK_SIZE, type ScanStop, scan, Window } from "./internal/batchReader.js"
import type { Disk, FileHandle } from "./internal/disk.js"
import type { KafkaStorageError } from "./LogError.js"
import * as OffsetIndex from "./OffsetIndex.js"
import * as TimeIndex from "./TimeIndex.js"

const { LOG_OVERHEAD, HEADER_SIZE, Field } = RecordBatch

/** Largest read-ahead of one read; a larger read refills the window as it goes. */
const MAX_READ_AHEAD = 16 * 1024 * 1024

/** File suffixes. */
export const Suffix = {
  log: ".log",
  index: ".index",
  timeIndex: ".timeindex",
  /** A compacted replacement being written. */
  cleaned: ".cleaned",
  /** A compacted replacement ready to take the place of the segments it covers. */
  swap: ".swap",
  /** A segment being deleted. */
  deleted: ".deleted"
} as const

/** Kafka's file name for a base offset: 20 digits, zero-padded. */
export const fileName = (baseOffset: number, suffix: string): string =>
  `${String(baseOffset).padStart(20, "0")}${suffix}`

/** The base offset in a segment file name, or undefined when the name is not one. */
export const parseFileName = (name: string): { readonly baseOffset: number; readonly suffix: string } | undefined => {
  const m = /^(\d{20})(\..+)$/.exec(name)
  if (!m) return undefined
  const baseOffset = Number(m[1])
  return Number.isSafeInteger(baseOffset) ? { baseOffset, suffix: m[2]! } : undefined
}

/** The sizes and interval a segment needs from the log's configuration. */
export interface SegmentLimits {
  readonly maxIndexEntries: number
  readonly maxTimeIndexEntries: number
  readonly indexIntervalBytes: number
}

/** A batch as the segment indexes it. */
export interface BatchInfo {
  readonly baseOffset: number
  readonly lastOffset: number
  readonly maxTimestamp: number
  readonly position: number
  readonly size: number
}

/** The batches of one read, as file bytes. */
export interface SegmentRead {
  /** Whole batches, contiguous, as stored in the file. */
  readonly records: Buffer
  /** Base offset of the first batch returned (-1 when none). */
  readonly firstOffset: number
  /** Offset after the last batch returned (-1 when none). */
  readonly nextOffset: number
}

/** The outcome of a segment recovery scan. */
export interface RecoveryResult {
  /** Bytes cut off the end of the segment (a torn or corrupt tail). */
  readonly truncatedBytes: number
  /** Where and why the scan stopped, when it cut something. */
  readonly stop: ScanStop | undefined
}

/** One segment: its log file, indexes and the facts the log needs (size, next offset, max timestamp). */
export class Segment {
  /** Bytes in the `.log` file. */
  size = 0
  /** Offset after the last batch (the base offset when empty). */
  nextOffset: number
  /** Largest batch max timestamp, -1 when none. */
  maxTimestamp = -1
  /** Base offset of the batch holding {@link maxTimestamp}. */
  offsetOfMaxTimestamp = -1
  private bytesSinceLastIndexEntry = 0
  private indexPersisted = 0
  private timeIndexPersisted = 0
  private indexHandle: FileHandle | undefined
  private timeIndexHandle: FileHandle | undefined
  private readers = 0
  /** True once the segment was removed from its log; its file closes when the last reader is done. */
  deleted = false

  private constructor(
    readonly disk: Disk,
    readonly dir: string,
    readonly baseOffset: number,
    readonly log: FileHandle,
    readonly limits: SegmentLimits,
    /** Clock time when the segment was created or opened (for `segment.ms`, and retention when there are no timestamps). */
    public created: number,
    public index: OffsetIndex.OffsetIndex,
    public timeIndex: TimeIndex.TimeIndex
  ) {
    this.nextOffset = baseOffset
  }

  /**
   * Extra suffix of all the segment's file names: "" for a live segment, `.cleaned` for a compacted
   * replacement being written.
   */
  tag = ""

  /** Path of one of the segment's files. */
  path(suffix: string): string {
    return Path.join(this.dir, fileName(this.baseOffset, suffix + this.tag))
  }

  /** Creates an empty segment (removing stale index files of the same name). */
  static create(
    disk: Disk,
    dir: string,
    baseOffset: number,
    limits: SegmentLimits,
    now: number,
    tag = ""
  ): Effect.Effect<Segment, KafkaStorageError> {
    return Effect.gen(function* () {
      const logPath = Path.join(dir, fileName(baseOffset, Suffix.log + tag))
      yield* disk.remove(Path.join(dir, fileName(baseOffset, Suffix.index + tag)))
      yield* disk.remove(Path.join(dir, fileName(baseOffset, Suffix.timeIndex + tag)))
      const log = yield* disk.open(logPath, true)
      const size = yield* log.size
      if (size > 0) yield* log.truncate(0)
      const segment = new Segment(
        disk,
        dir,
        baseOffset,
        log,
        limits,
        now,
        new OffsetIndex.OffsetIndex(baseOffset, limits.maxIndexEntries),
        new TimeIndex.TimeIndex(baseOffset, limits.maxTimeIndexEntries)
      )
      segment.tag = tag
      return segment
    })
  }

  /** Opens an existing segment without reading it; follow with {@link loadClean} or {@link recover}. */
  static open(
    disk: Disk,
    dir: string,
    baseOffset: number,
    limits: SegmentLimits,
    now: number,
    tag = ""
  ): Effect.Effect<Segment, KafkaStorageError> {
    return Effect.gen(function* () {
      const log = yield* disk.open(Path.join(dir, fileName(baseOffset, Suffix.log + tag)), false)
      const s = new Segment(
        disk,
        dir,
        baseOffset,
        log,
        limits,
        now,
        new OffsetIndex.OffsetIndex(baseOffset, limits.maxIndexEntries),
        new TimeIndex.TimeIndex(baseOffset, limits.maxTimeIndexEntries)
      )
      s.size = yield* log.size
      s.tag = tag
      return s
    })
  }

  /** Updates indexes and facts for a batch just written at `position` (append, scan or rebuild). */
  indexBatch(b: BatchInfo): void {
    this.indexBatchAt(b.baseOffset, b.lastOffset, b.maxTimestamp, b.position, b.size)
  }

  /** {@link indexBatch} with the facts as arguments (the append path: no object per batch). */
  indexBatchAt(baseOffset: number, lastOffset: number, maxTimestamp: number, position: number, size: number): void {
    if (this.bytesSinceLastIndexEntry > this.limits.indexIntervalBytes) {
      if (this.index.append(baseOffset, position)) this.bytesSinceLastIndexEntry = 0
      this.observe(baseOffset, maxTimestamp)
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp)
    } else this.observe(baseOffset, maxTimestamp)
    this.bytesSinceLastIndexEntry += size
    this.nextOffset = lastOffset + 1
  }

  private observe(baseOffset: number, maxTimestamp: number): void {
    if (maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = maxTimestamp
      this.offsetOfMaxTimestamp = baseOffset
    }
  }

  /** True when an index is full (the segment must roll). */
  get indexFull(): boolean {
    return this.index.isFull || this.timeIndex.isFull
  }

  /**
   * Loads the indexes written at the last clean shutdown (or roll) and checks them; scans only the tail
   * after the last index entry. Returns false when an index is missing or invalid or the tail does not
   * scan: the caller then runs {@link recover}.
   */
  loadClean(): Effect.Effect<boolean, KafkaStorageError> {
    const self = this
    return Effect.gen(function* () {
      const indexBytes = yield* self.disk.readFile(self.path(Suffix.index))
      const timeBytes = yield* self.disk.readFile(self.path(Suffix.timeIndex))
      if (Option.isNone(indexBytes) || Option.isNone(timeBytes)) return false
      const index = OffsetIndex.OffsetIndex.decode(
        indexBytes.value,
        self.baseOffset,
        self.limits.maxIndexEntries,
        self.size
      )
      if (!index) return false
      const timeIndex = TimeIndex.TimeIndex.decode(
        timeBytes.value,
        self.baseOffset,
        self.limits.maxTimeIndexEntries,
        Number.MAX_SAFE_INTEGER
      )
      if (!timeIndex) return false
      self.index = index
      self.timeIndex = timeIndex
      self.indexPersisted = index.entries
      self.timeIndexPersisted = timeIndex.entries
      const ok = yield* self.rescanTail(true)
      return ok
    })
  }

  /**
   * Recomputes next offset, max timestamp and the index state from the batches after the last offset
   * index entry (the time index covers everything before it). Returns false when the tail does not scan.
   */
  private rescanTail(verifyCrc: boolean): Effect.Effect<boolean, KafkaStorageError> {
    const self = this
    return Effect.gen(function* () {
      const last = self.index.lastEntry
      const lastTime = self.timeIndex.lastEntry
      self.maxTimestamp = lastTime ? lastTime.timestamp : -1
      self.offsetOfMaxTimestamp = lastTime ? lastTime.offset : -1
      self.bytesSinceLastIndexEntry = 0
      self.nextOffset = self.baseOffset
      let first = true
      const stop = yield* scan(self.log, last.position, self.size, verifyCrc, ({ position, size, header }) => {
        if (first && self.index.entries > 0 && header.baseOffset !== last.offset) return "index entry mismatch"
        first = false
        self.indexBatch({
          baseOffset: header.baseOffset,
          lastOffset: header.baseOffset + header.lastOffsetDelta,
          maxTimestamp: header.maxTimestamp,
          position,
          size
        })
        return undefined
      })
      if (stop) return false
      if (self.index.entries > 0 && self.nextOffset === self.baseOffset) return false
      return true
    })
  }

  /**
   * Scans the whole segment checking every batch (header, length, CRC, offsets increasing from
   * `minOffset`), rebuilds both indexes, and truncates the file at the first invalid batch.
   * `onBatch` sees each valid batch (to rebuild the leader epoch cache).
   */
  recover(
    minOffset: number,
    onBatch: (header: RecordBatch.RecordBatchHeader) => void
  ): Effect.Effect<RecoveryResult, KafkaStorageError> {
    const self = this
    return Effect.gen(function* () {
      self.index.reset()
      self.timeIndex.reset()
      self.maxTimestamp = -1
      self.offsetOfMaxTimestamp = -1
      self.bytesSinceLastIndexEntry = 0
      self.nextOffset = self.baseOffset
      let expected = Math.max(minOffset, self.baseOffset)
      const stop = yield* scan(self.log, 0, self.size, true, ({ position, size, header }) => {
        const lastOffset = header.baseOffset + header.lastOffsetDelta
        if (header.baseOffset < expected) {
          return `batch offset ${header.baseOffset} is below the expected ${expected}`
        }
        if (lastOffset - self.baseOffset > 0x7fffffff)
          return `batch offset ${lastOffset} is too far from the segment base`
        expected = lastOffset + 1
        onBatch(header)
        self.indexBatch({
          baseOffset: header.baseOffset,
          lastOffset,
          maxTimestamp: header.maxTimestamp,
          position,
          size
        })
        return undefined
      })
      const validSize = stop ? stop.position : self.size
      const truncatedBytes = self.size - validSize
      if (truncatedBytes > 0) {
        yield* self.log.truncate(validSize)
        self.size = validSize
      }
      // the indexes on disk are stale: rewrite them whole
      self.indexPersisted = -1
      self.timeIndexPersisted = -1
      return { truncatedBytes, stop }
    })
  }

  /** Writes whole batches at the end of the file; updates nothing (the log calls {@link indexBatch} after). */
  write(
    buffers: ReadonlyArray<Uint8Array>,
    position = this.size,
    during?: () => void
  ): Effect.Effect<void, KafkaStorageError> {
    return this.log.writev(buffers, position, during)
  }

  /** Writes index entries not yet on disk (rewriting the files when they shrank); fsyncs them when `sync`. */
  persistIndexes(sync: boolean, ensureFiles = false): Effect.Effect<void, KafkaStorageError> {
    const self = this
    return Effect.gen(function* () {
      if (ensureFiles) {
        self.indexHandle ??= yield* self.disk.open(self.path(Suffix.index), true)
        self.timeIndexHandle ??= yield* self.disk.open(self.path(Suffix.timeIndex), true)
      }
      if (self.indexPersisted !== self.index.entries) {
        self.indexHandle ??= yield* self.disk.open(self.path(Suffix.index), true)
        const from = Math.max(0, self.indexPersisted)
        if (self.indexPersisted < 0 || self.indexPersisted > self.index.entries) {
          yield* self.indexHandle.truncate(0)
          self.indexPersisted = 0
          yield* self.indexHandle.writev([self.index.encode(0)], 0)
        } else yield* self.indexHandle.writev([self.index.encode(from)], from * OffsetIndex.ENTRY_SIZE)
        self.indexPersisted = self.index.entries
      }
      if (self.timeIndexPersisted !== self.timeIndex.entries) {
        self.timeIndexHandle ??= yield* self.disk.open(self.path(Suffix.timeIndex), true)
        const from = Math.max(0, self.timeIndexPersisted)
        if (self.timeIndexPersisted < 0 || self.timeIndexPersisted > self.timeIndex.entries) {
          yield* self.timeIndexHandle.truncate(0)
          self.timeIndexPersisted = 0
          yield* self.timeIndexHandle.writev([self.timeIndex.encode(0)], 0)
        } else yield* self.timeIndexHandle.writev([self.timeIndex.encode(from)], from * TimeIndex.ENTRY_SIZE)
        self.timeIndexPersisted = self.timeIndex.entries
      }
      if (sync) {
        if (self.indexHandle) yield* self.indexHandle.sync
        if (self.timeIndexHandle) yield* self.timeIndexHandle.sync
      }
    }).pipe(
      // a failed index write leaves the file in an unknown state: rewrite it whole next time
      Effect.tapError(() =>
        Effect.sync(() => {
          self.indexPersisted = -1
          self.timeIndexPersisted = -1
        })
      )
    )
  }

  /** Makes the batches and indexes durable. */
  flush(): Effect.Effect<void, KafkaStorageError> {
    return Effect.zipRight(this.log.sync, this.persistIndexes(true))
  }

  /** Called when the segment stops being the active one: final time index entry, flush, close index files. */
  seal(): Effect.Effect<void, KafkaStorageError> {
    return Effect.suspend(() => {
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp)
      return this.log.sync.pipe(
        Effect.zipRight(this.persistIndexes(true, true)),
        Effect.zipRight(this.closeIndexHandles())
      )
    })
  }

  private closeIndexHandles(): Effect.Effect<void, KafkaStorageError> {
    const self = this
    return Effect.gen(function* () {
      const a = self.indexHandle
      const b = self.timeIndexHandle
      self.indexHandle = undefined
      self.timeIndexHandle = undefined
      if (a) yield* a.close
      if (b) yield* b.close
    })
  }

  /**
   * Reads whole batches from the first one holding an offset >= `offset`: as many as fit in `maxBytes`
   * (the first even if larger when `minOneMessage`), stopping before a batch whose last offset is >= `maxOffset`.
   */
  read(
    offset: number,
    maxBytes: number,
    maxOffset: number,
    minOneMessage: boolean,
    buffers?: ReadBuffers
  ): Effect.Effect<SegmentRead, KafkaStorageError> {
    const self = this
    return Effect.gen(function* () {
      const end = self.size
      const win = new Window(self.log, end, buffers)
      let p = self.index.lookup(offset).position
      const readAhead = Math.min(Math.max(maxBytes, 0), MAX_READ_AHEAD) + self.limits.indexIntervalBytes + PEEK_SIZE
      let first = -1
      let firstOffset = -1
      let nextOffset = -1
      while (p < end) {
        if (first >= 0 && p + HEADER_SIZE - first > maxBytes) break
        if (end - p < HEADER_SIZE) break
        if (!win.has(p, HEADER_SIZE)) {
          yield* win.fill(p, HEADER_SIZE, readAhead, first >= 0 ? first : p)
        }
        const at = win.at(p)
        const size = LOG_OVERHEAD + int32At(win.buf, at + Field.batchLength)
        const base = int64At(win.buf, at)
        const last = base + int32At(win.buf, at + Field.lastOffsetDelta)
        if (size < HEADER_SIZE || p + size > end || Number.isNaN(base)) break // a concurrent truncation
        if (last < offset) {
          p += size
          continue
        }
        if (last >= maxOffset) break
        if (first < 0) {
          if (size > maxBytes && !minOneMessage) break
          first = p
          firstOffset = base
        } else if (p + size - first > maxBytes) break
        nextOffset = last + 1
        p += size
      }
      if (first < 0) return { records: Buffer.alloc(0), firstOffset: -1, nextOffset: -1 }
      if (!win.has(first, p - first)) yield* win.fill(first, p - first, p - first, first)
      const at = win.at(first)
      return { records: win.buf.subarray(at, at + (p - first)), firstOffset, nextOffset }
    })
  }

  /**
   * Finds the batch holding the first record with timestamp >= `timestamp`: the first batch whose max
   * timestamp is >= it, starting from the time index. Returns its bytes (to find the record inside).
   */
  findTimestamp(timestamp: number): Effect.Effect<Buffer | undefined, KafkaStorageError> {
    const self = this
    return Effect.gen(function* () {
      if (self.maxTimestamp < timestamp) return undefined
      const from = self.timeIndex.lookupBefore(timestamp)
      let p = from ? self.index.lookup(from.offset).position : 0
      const end = self.size
      const win = new Window(self.log, end)
      const readAhead = self.limits.indexIntervalBytes * 4 + PEEK_SIZE
      while (p + HEADER_SIZE <= end) {
        if (!win.has(p, HEADER_SIZE)) yield* win.fill(p, HEADER_SIZE, readAhead)
        const at = win.at(p)
        const size = LOG_OVERHEAD + int32At(win.buf, at + Field.batchLength)
        if (size < HEADER_SIZE || p + size > end) return undefined
        if (int64At(win.buf, at + Field.maxTimestamp) >= timestamp) {
          if (!win.has(p, size)) yield* win.fill(p, size, size)
          const a = win.at(p)
          return win.buf.subarray(a, a + size)
        }
        p += size
      }
      return undefined
    })
  }

  /** The bytes of the batch starting at offset `baseOffset` (which must be a batch start), if any. */
  batchAt(baseOffset: number): Effect.Effect<Buffer | undefined, KafkaStorageError> {
    return this.read(baseOffset, 1, Number.MAX_SAFE_INTEGER, true).pipe(
      Effect.map((r) => (r.firstOffset === baseOffset ? r.records : undefined))
    )
  }

  /**
   * Removes every batch holding an offset >= `offset` (a batch holding it is removed whole).
   * Returns the base offset of the first batch removed, -1 when nothing was.
   */
  truncateTo(offset: number): Effect.Effect<number, KafkaStorageError> {
    const self = this
    return Effect.gen(function* () {
      if (offset >= self.nextOffset) return -1
      const end = self.size
      const win = new Window(self.log, end)
      let p = self.index.lookup(offset).position
      let cut = end
      let cutBase = -1
      while (p + HEADER_SIZE <= end) {
        if (!win.has(p, HEADER_SIZE)) yield* win.fill(p, HEADER_SIZE, 64 * 1024)
        const at = win.at(p)
        const size = LOG_OVERHEAD + int32At(win.buf, at + Field.batchLength)
        const base = int64At(win.buf, at)
        if (base + int32At(win.buf, at + Field.lastOffsetDelta) >= offset) {
          cut = p
          cutBase = base
          break
        }
        p += size
      }
      if (cut >= end) return -1
      yield* self.log.truncate(cut)
      self.size = cut
      self.index.truncateToPosition(cut)
      // time entries point at batch starts: those at or after the cut batch go
      self.timeIndex.truncateTo(cutBase)
      // the index files on disk still hold the removed entries: rewrite them whole next time (written from
      // the old count, entries appended after the cut would leave stale ones in between)
      self.indexPersisted = -1
      self.timeIndexPersisted = -1
      yield* self.rescanTail(false)
      return cutBase
    })
  }

  /** Like {@link use}, but none when the segment's file is already closed (deleted and unread). */
  tryUse<A, E>(f: Effect.Effect<A, E>): Effect.Effect<Option.Option<A>, E> {
    return Effect.suspend(() => (this.logClosed ? Effect.succeed(Option.none()) : Effect.map(this.use(f), Option.some)))
  }

  /** Runs `f` as a reader: a deleted segment's file stays open until its readers are done. */
  use<A, E>(f: Effect.Effect<A, E>): Effect.Effect<A, E> {
    return Effect.acquireUseRelease(
      Effect.sync(() => {
        this.readers++
      }),
      () => f,
      () =>
        Effect.suspend(() => {
          this.readers--
          return this.deleted && this.readers === 0 ? this.closeLog() : Effect.void
        })
    )
  }

  /** Removes the segment's files (the log first, so that no index outlives it) and closes it once unread. */
  delete(): Effect.Effect<void, KafkaStorageError> {
    const self = this
    return Effect.gen(function* () {
      self.deleted = true
      yield* self.disk.remove(self.path(Suffix.log))
      yield* self.disk.remove(self.path(Suffix.index))
      yield* self.disk.remove(self.path(Suffix.timeIndex))
      yield* self.closeIndexHandles()
      if (self.readers === 0) yield* self.closeLog()
    })
  }

  private logClosed = false

  private closeLog(): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.logClosed) return Effect.void
      this.logClosed = true
      return Effect.ignore(this.log.close)
    })
  }

  /** Closes the files (after the log flushed what it wanted); an in-flight reader closes the log file when done. */
  close(): Effect.Effect<void, KafkaStorageError> {
    return Effect.suspend(() => {
      this.deleted = true
      return Effect.zipRight(this.closeIndexHandles(), this.readers === 0 ? this.closeLog() : Effect.void)
    })
  }
}
