/**
 * The implementation of {@link Log}: segments, offsets, flush policy with group commit, reads,
 * truncation, delete-records, retention and the entry point of compaction.
 */
import * as Path from "node:path"
import { Clock, Deferred, Effect, FiberId, Option } from "effect"
import * as RecordBatch from "../../protocol/RecordBatch.js"
import * as Cleaner from "../Cleaner.js"
import * as LeaderEpochCache from "../LeaderEpochCache.js"
import type {
  AppendInfo,
  AppendOptions,
  CleanerStats,
  Log,
  ReadOptions,
  ReadResult,
  SegmentInfo,
  TimestampAndOffset
} from "../Log.js"
import type { LogConfig } from "../LogConfig.js"
import {
  CorruptMessageError,
  InvalidRecordError,
  KafkaStorageError,
  type LogError,
  OffsetOutOfRangeError,
  RecordListTooLargeError
} from "../LogError.js"
import * as Recovery from "../Recovery.js"
import * as Retention from "../Retention.js"
import { Segment, type SegmentLimits } from "../Segment.js"
import * as Checkpoint from "./checkpoint.js"
import type { Disk } from "./disk.js"

const INT32_MAX = 0x7fffffff
const EMPTY = Buffer.alloc(0)

/** The segment limits a configuration implies. */
export const limitsOf = (config: LogConfig): SegmentLimits => ({
  maxIndexEntries: Math.max(1, Math.floor(config["segment.index.bytes"] / 8)),
  maxTimeIndexEntries: Math.max(1, Math.floor(config["segment.index.bytes"] / 12)),
  indexIntervalBytes: config["index.interval.bytes"]
})

interface Item {
  readonly buf: Uint8Array
  readonly pos: number
  readonly size: number
  readonly lastOffsetDelta: number
  readonly records: number
  readonly epoch: number
  baseOffset: number
  maxTimestamp: number
}

const setInt64 = (buf: Uint8Array, pos: number, v: number): void => {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const hi = Math.floor(v / 0x100000000)
  view.setInt32(pos, hi)
  view.setUint32(pos + 4, v - hi * 0x100000000)
}

/** Splits the input into batches, checking each header (and CRC). Throws a LogError. */
const parse = (
  input: Uint8Array | ReadonlyArray<Uint8Array>,
  verifyCrc: boolean,
  segmentBytes: number
): { items: Array<Item>; buffers: Array<Uint8Array>; total: number } => {
  const buffers = (input instanceof Uint8Array ? [input] : input).filter((b) => b.byteLength > 0)
  const items: Array<Item> = []
  let total = 0
  for (const buf of buffers) {
    let pos = 0
    while (pos < buf.byteLength) {
      let h: RecordBatch.RecordBatchHeader
      try {
        h = RecordBatch.readHeader(buf, pos)
      } catch (e) {
        throw new CorruptMessageError({ message: e instanceof Error ? e.message : String(e) })
      }
      const size = RecordBatch.LOG_OVERHEAD + h.batchLength
      if (verifyCrc && !RecordBatch.isCrcValid(buf, pos, size)) {
        throw new CorruptMessageError({ message: `record batch CRC mismatch at byte ${pos}` })
      }
      if (h.lastOffsetDelta < 0) {
        throw new InvalidRecordError({ message: `record batch has a negative lastOffsetDelta ${h.lastOffsetDelta}` })
      }
      if (size > segmentBytes) {
        throw new RecordListTooLargeError({
          message: `record batch of ${size} bytes is larger than segment.bytes ${segmentBytes}`,
          size
        })
      }
      items.push({
        buf,
        pos,
        size,
        lastOffsetDelta: h.lastOffsetDelta,
        records: h.lastOffsetDelta + 1,
        epoch: h.partitionLeaderEpoch,
        baseOffset: h.baseOffset,
        maxTimestamp: h.maxTimestamp
      })
      pos += size
      total += size
    }
  }
  return { items, buffers, total }
}

/** Opens (recovering if needed) the log in `dir`. */
export const open = (options: {
  readonly disk: Disk
  readonly dir: string
  readonly config: LogConfig
}): Effect.Effect<LogImpl, KafkaStorageError> =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const loaded = yield* Recovery.load({ disk: options.disk, dir: options.dir, limits: limitsOf(options.config), now })
    return new LogImpl(options.disk, options.dir, options.config, loaded, now)
  })

/** One partition's log. */
export class LogImpl implements Log {
  /** Segments, oldest first; replaced (never mutated) so that readers can hold a snapshot. */
  segmentList: ReadonlyArray<Segment>
  logStartOffset: number
  logEndOffset: number
  highWatermark: number
  recoveryPoint: number
  cleanerCheckpoint: number
  private recoveryCheckpoint: number
  private unflushedMessages = 0
  private lastFlushTime: number
  /** Serializes mutations (the owner's calls, retention and compaction). */
  readonly lock = Effect.unsafeMakeSemaphore(1)
  /** Set after an I/O failure that left the state uncertain: the log is offline. */
  private failure: KafkaStorageError | undefined
  private closed = false
  private syncInFlight: Deferred.Deferred<void, KafkaStorageError> | undefined
  readonly epochCache: LeaderEpochCache.LeaderEpochCache

  constructor(
    readonly disk: Disk,
    readonly dir: string,
    public config: LogConfig,
    loaded: Recovery.Loaded,
    now: number
  ) {
    this.segmentList = loaded.segments
    this.logStartOffset = loaded.logStartOffset
    this.logEndOffset = loaded.logEndOffset
    this.highWatermark = loaded.logStartOffset
    this.recoveryPoint = loaded.logEndOffset
    this.recoveryCheckpoint = loaded.recoveryPoint
    this.cleanerCheckpoint = Math.min(loaded.cleanerCheckpoint, loaded.logEndOffset)
    this.epochCache = loaded.epochCache
    this.lastFlushTime = now
  }

  get active(): Segment {
    return this.segmentList[this.segmentList.length - 1]!
  }

  get size(): number {
    let n = 0
    for (const s of this.segmentList) n += s.size
    return n
  }

  get segments(): ReadonlyArray<SegmentInfo> {
    return this.segmentList.map((s) => ({
      baseOffset: s.baseOffset,
      nextOffset: s.nextOffset,
      size: s.size,
      maxTimestamp: s.maxTimestamp
    }))
  }

  get epochs() {
    return this.epochCache.entries
  }

  get latestEpoch(): number {
    return this.epochCache.latestEpoch
  }

  get limits(): SegmentLimits {
    return limitsOf(this.config)
  }

  // -------------------------------------------------------------------------------------------
  // state guards

  private check(): Effect.Effect<void, KafkaStorageError> {
    if (this.failure) return Effect.fail(this.failure)
    if (this.closed) return Effect.fail(this.storageError(`log ${this.dir} is closed`))
    return Effect.void
  }

  private storageError(message: string): KafkaStorageError {
    return new KafkaStorageError({ message, path: this.dir, code: "" })
  }

  /** Takes the log offline after a failure that left memory and disk out of step. */
  goOffline(e: KafkaStorageError): Effect.Effect<never, KafkaStorageError> {
    return Effect.suspend(() => {
      this.failure ??= e
      return Effect.logError(`log ${this.dir} is offline after an I/O failure: ${e.message}`).pipe(
        Effect.zipRight(Effect.fail(e))
      )
    })
  }

  /** Runs a mutation under the log's lock, after the state checks. */
  mutate<A, E>(f: (now: number) => Effect.Effect<A, E>): Effect.Effect<A, E | KafkaStorageError> {
    return this.lock.withPermits(1)(
      Effect.zipRight(
        this.check(),
        Effect.flatMap(Clock.currentTimeMillis, (now) => f(now))
      )
    )
  }

  private writeEpochCheckpoint(): Effect.Effect<void, KafkaStorageError> {
    return this.disk
      .writeFileAtomic(Path.join(this.dir, LeaderEpochCache.FILE_NAME), Buffer.from(this.epochCache.encode(), "utf8"))
      .pipe(Effect.catchAll((e) => this.goOffline(e)))
  }

  private setRecoveryCheckpoint(offset: number): Effect.Effect<void, KafkaStorageError> {
    return Effect.suspend(() => {
      if (offset === this.recoveryCheckpoint) return Effect.void
      return Checkpoint.write(this.disk, this.dir, Checkpoint.RECOVERY_POINT, offset).pipe(
        Effect.tap(() => {
          this.recoveryCheckpoint = offset
        })
      )
    })
  }

  // -------------------------------------------------------------------------------------------
  // append

  append(
    batches: Uint8Array | ReadonlyArray<Uint8Array>,
    options: AppendOptions = {}
  ): Effect.Effect<AppendInfo, LogError> {
    const appended = this.mutate((now) => this.appendLocked(batches, options, now))
    if (this.config["flush.group.commit"]) return appended
    return Effect.flatMap(appended, (info) => Effect.as(info.durable, { ...info, durable: Effect.void }))
  }

  private appendLocked(
    input: Uint8Array | ReadonlyArray<Uint8Array>,
    options: AppendOptions,
    now: number
  ): Effect.Effect<AppendInfo, LogError> {
    const self = this
    return Effect.gen(function* () {
      const config = self.config
      const assign = options.assignOffsets ?? true
      const logAppendTime = assign && config["message.timestamp.type"] === "LogAppendTime"
      // CRCs are checked while the write is in flight (a bad batch is then cut off again), except
      // with LogAppendTime, where the CRC is rewritten before the write
      const verifyCrc = options.verifyCrc ?? true
      const crcDuringWrite = verifyCrc && !logAppendTime
      let parsed: ReturnType<typeof parse>
      try {
        parsed = parse(input, verifyCrc && !crcDuringWrite, config["segment.bytes"])
      } catch (e) {
        return yield* Effect.fail(e as LogError)
      }
      const { items, buffers, total } = parsed
      if (items.length === 0) {
        return {
          firstOffset: -1,
          lastOffset: -1,
          maxTimestamp: -1,
          logAppendTime: -1,
          logStartOffset: self.logStartOffset,
          bytes: 0,
          durable: Effect.void
        }
      }
      let next = self.logEndOffset
      if (assign) {
        for (const it of items) {
          RecordBatch.setBaseOffset(it.buf, it.pos, next)
          it.baseOffset = next
          if (options.leaderEpoch !== undefined)
            RecordBatch.setPartitionLeaderEpoch(it.buf, it.pos, options.leaderEpoch)
          if (logAppendTime) {
            const attrs = it.pos + RecordBatch.Field.attributes + 1
            it.buf[attrs] = it.buf[attrs]! | RecordBatch.Attributes.timestampTypeLogAppendTime
            setInt64(it.buf, it.pos + RecordBatch.Field.maxTimestamp, now)
            it.maxTimestamp = now
            RecordBatch.writeCrc(it.buf, it.pos, it.size)
          }
          next += it.lastOffsetDelta + 1
        }
      } else {
        for (const it of items) {
          if (it.baseOffset < next) {
            return yield* new InvalidRecordError({
              message: `batch offset ${it.baseOffset} is below the log end offset ${next}`
            })
          }
          next = it.baseOffset + it.lastOffsetDelta + 1
        }
      }
      const firstOffset = items[0]!.baseOffset
      const lastOffset = next - 1

      let active = self.active
      const overflow = lastOffset - active.baseOffset > INT32_MAX
      if (
        overflow ||
        (active.size > 0 &&
          (active.size + total > config["segment.bytes"] ||
            now - active.created > config["segment.ms"] ||
            active.indexFull))
      ) {
        yield* self.rollAt(firstOffset, now)
        active = self.active
      }

      let badCrc: Item | undefined
      const checkCrcs = crcDuringWrite
        ? () => {
            for (const it of items) {
              if (!RecordBatch.isCrcValid(it.buf, it.pos, it.size)) {
                badCrc = it
                return
              }
            }
          }
        : undefined
      // undo a partial or refused write; if even that fails the file no longer matches memory
      const undo = <E>(e: E) =>
        active.log.truncate(active.size).pipe(
          Effect.matchEffect({
            onFailure: (te) => self.goOffline(te),
            onSuccess: () => Effect.fail(e)
          })
        )
      yield* active.write(buffers, active.size, checkCrcs).pipe(Effect.catchAll(undo))
      if (badCrc !== undefined) {
        yield* undo(new CorruptMessageError({ message: `record batch CRC mismatch at byte ${badCrc.pos}` }))
      }
      if (active.size === 0) active.created = now
      let position = active.size
      let maxTimestamp = -1
      for (const it of items) {
        active.indexBatch({
          baseOffset: it.baseOffset,
          lastOffset: it.baseOffset + it.lastOffsetDelta,
          maxTimestamp: it.maxTimestamp,
          position,
          size: it.size
        })
        if (it.maxTimestamp > maxTimestamp) maxTimestamp = it.maxTimestamp
        position += it.size
      }
      active.size = position
      self.logEndOffset = next

      let epochChanged = false
      if (options.leaderEpoch !== undefined) epochChanged = self.epochCache.assign(options.leaderEpoch, firstOffset)
      else for (const it of items) epochChanged = self.epochCache.assign(it.epoch, it.baseOffset) || epochChanged
      if (epochChanged) yield* self.writeEpochCheckpoint()

      let durable: Effect.Effect<void, KafkaStorageError> = Effect.void
      for (const it of items) self.unflushedMessages += it.records
      if (self.unflushedMessages >= config["flush.messages"] || now - self.lastFlushTime >= config["flush.ms"]) {
        self.unflushedMessages = 0
        self.lastFlushTime = now
        durable = self.syncTo(next)
      }
      return {
        firstOffset,
        lastOffset,
        maxTimestamp,
        logAppendTime: logAppendTime ? now : -1,
        logStartOffset: self.logStartOffset,
        bytes: total,
        durable
      }
    })
  }

  /**
   * Completes once every offset below `target` is fsynced. Concurrent callers share fsyncs: one runs
   * while the others wait; whoever arrives during it joins the next one (group commit).
   */
  syncTo(target: number): Effect.Effect<void, KafkaStorageError> {
    return Effect.suspend((): Effect.Effect<void, KafkaStorageError> => {
      if (this.failure) return Effect.fail(this.failure)
      if (this.recoveryPoint >= target) return Effect.void
      const running = this.syncInFlight
      if (running) return Effect.zipRight(Deferred.await(running), this.syncTo(target))
      const done = Deferred.unsafeMake<void, KafkaStorageError>(FiberId.none)
      this.syncInFlight = done
      const segment = this.active
      const upTo = this.logEndOffset
      return Effect.uninterruptible(
        segment.use(segment.log.sync).pipe(
          Effect.tap(() => {
            if (upTo > this.recoveryPoint) this.recoveryPoint = upTo
          }),
          Effect.catchAll((e) => this.goOffline(e)),
          Effect.onExit((exit) => {
            this.syncInFlight = undefined
            return Deferred.done(done, exit)
          })
        )
      ).pipe(Effect.zipRight(Effect.suspend(() => this.syncTo(Math.min(target, this.logEndOffset)))))
    })
  }

  // -------------------------------------------------------------------------------------------
  // roll and flush

  /** Starts a new active segment at `baseOffset` (>= the log end offset), sealing the current one. */
  rollAt(baseOffset: number, now: number): Effect.Effect<void, KafkaStorageError> {
    const self = this
    return Effect.gen(function* () {
      const old = self.active
      if (old.size === 0) {
        if (old.baseOffset === baseOffset) return
        const fresh = yield* Segment.create(self.disk, self.dir, baseOffset, self.limits, now)
        self.segmentList = [...self.segmentList.slice(0, -1), fresh]
        yield* old.delete().pipe(Effect.catchAll((e) => self.goOffline(e)))
        return
      }
      const fresh = yield* Segment.create(self.disk, self.dir, baseOffset, self.limits, now)
      yield* old.seal().pipe(Effect.catchAll((e) => self.goOffline(e)))
      if (self.logEndOffset > self.recoveryPoint) self.recoveryPoint = self.logEndOffset
      self.segmentList = [...self.segmentList, fresh]
      yield* self.setRecoveryCheckpoint(baseOffset)
    })
  }

  get roll(): Effect.Effect<void, KafkaStorageError> {
    return this.mutate((now) => this.rollAt(this.logEndOffset, now))
  }

  get flush(): Effect.Effect<void, KafkaStorageError> {
    return this.mutate((now) => this.flushLocked(now))
  }

  private flushLocked(now: number): Effect.Effect<void, KafkaStorageError> {
    const upTo = this.logEndOffset
    return this.active.flush().pipe(
      Effect.tap(() => {
        if (upTo > this.recoveryPoint) this.recoveryPoint = upTo
        this.unflushedMessages = 0
        this.lastFlushTime = now
      }),
      Effect.catchAll((e) => this.goOffline(e))
    )
  }

  get flushIfDue(): Effect.Effect<void, KafkaStorageError> {
    return this.mutate((now) =>
      this.logEndOffset > this.recoveryPoint && now - this.lastFlushTime >= this.config["flush.ms"]
        ? this.flushLocked(now)
        : Effect.void
    )
  }

  // -------------------------------------------------------------------------------------------
  // read

  read(
    offset: number,
    maxBytes: number,
    options: ReadOptions = {}
  ): Effect.Effect<ReadResult, OffsetOutOfRangeError | KafkaStorageError> {
    const self = this
    return Effect.gen(function* () {
      for (;;) {
        yield* self.check()
        const logStartOffset = self.logStartOffset
        const logEndOffset = self.logEndOffset
        if (offset < logStartOffset || offset > logEndOffset) {
          return yield* new OffsetOutOfRangeError({
            message: `offset ${offset} is out of range [${logStartOffset}, ${logEndOffset}]`,
            offset,
            logStartOffset,
            logEndOffset
          })
        }
        const empty: ReadResult = { records: EMPTY, firstOffset: -1, nextOffset: -1, logStartOffset, logEndOffset }
        const maxOffset = Math.min(options.maxOffset ?? logEndOffset, logEndOffset)
        if (offset >= maxOffset) return empty
        const segments = self.segmentList
        let i = floorSegment(segments, offset)
        let retry = false
        for (; i < segments.length; i++) {
          const s = segments[i]!
          const r = yield* s.tryUse(s.read(offset, maxBytes, maxOffset, options.minOneMessage ?? true))
          if (Option.isNone(r)) {
            retry = true // the segment was deleted under us: start again from a fresh view
            break
          }
          if (r.value.firstOffset >= 0) return { ...r.value, logStartOffset, logEndOffset }
          if (s.nextOffset > offset) break
        }
        if (!retry) return empty
      }
    })
  }

  // -------------------------------------------------------------------------------------------
  // timestamps

  offsetForTimestamp(timestamp: number): Effect.Effect<Option.Option<TimestampAndOffset>, KafkaStorageError> {
    const self = this
    return Effect.gen(function* () {
      yield* self.check()
      const segments = self.segmentList
      const start = self.logStartOffset
      for (const s of segments) {
        if (s.maxTimestamp < timestamp || s.nextOffset <= start) continue
        const found = yield* s.tryUse(s.findTimestamp(timestamp))
        if (Option.isNone(found) || found.value === undefined) continue
        let cursor = Math.max(RecordBatch.baseOffsetAt(found.value, 0), start)
        for (;;) {
          const r = yield* self
            .read(cursor, 1)
            .pipe(Effect.catchTag("OffsetOutOfRangeError", () => Effect.succeed(undefined)))
          if (r === undefined || r.firstOffset < 0) return Option.none()
          const hit = firstRecordAtOrAfter(r.records, timestamp, cursor)
          if (hit) return Option.some(hit)
          cursor = r.nextOffset
        }
      }
      return Option.none()
    })
  }

  get maxTimestamp(): Effect.Effect<Option.Option<TimestampAndOffset>, KafkaStorageError> {
    const self = this
    return Effect.gen(function* () {
      yield* self.check()
      let best: Segment | undefined
      for (const s of self.segmentList)
        if (s.maxTimestamp >= 0 && (!best || s.maxTimestamp > best.maxTimestamp)) best = s
      if (!best) return Option.none()
      const seg = best
      const bytes = yield* seg.tryUse(seg.batchAt(seg.offsetOfMaxTimestamp))
      const fallback = { timestamp: seg.maxTimestamp, offset: seg.offsetOfMaxTimestamp, leaderEpoch: -1 }
      if (Option.isNone(bytes) || bytes.value === undefined) return Option.some(fallback)
      return Option.some(firstRecordAtOrAfter(bytes.value, seg.maxTimestamp, 0) ?? fallback)
    })
  }

  // -------------------------------------------------------------------------------------------
  // offsets and truncation

  updateHighWatermark(offset: number): Effect.Effect<number> {
    return Effect.sync(() => {
      this.highWatermark = Math.max(this.logStartOffset, Math.min(offset, this.logEndOffset))
      return this.highWatermark
    })
  }

  truncateTo(offset: number): Effect.Effect<void, KafkaStorageError> {
    const self = this
    return this.mutate((now) =>
      Effect.gen(function* () {
        if (offset >= self.logEndOffset) return
        if (offset <= self.logStartOffset || offset <= self.segmentList[0]!.baseOffset) {
          return yield* self.truncateFullyLocked(Math.max(offset, 0), now)
        }
        const keep = self.segmentList.filter((s) => s.baseOffset < offset)
        const gone = self.segmentList.filter((s) => s.baseOffset >= offset)
        self.segmentList = keep
        const active = self.active
        const fail = (e: KafkaStorageError) => self.goOffline(e)
        for (const s of gone) yield* s.delete().pipe(Effect.catchAll(fail))
        const cutBase = yield* active.truncateTo(offset).pipe(Effect.catchAll(fail))
        const end = cutBase >= 0 ? Math.min(offset, cutBase) : offset
        self.logEndOffset = end
        if (end < self.logStartOffset) {
          // a cut inside the batch holding the log start: the start follows the end back
          yield* Checkpoint.write(self.disk, self.dir, Checkpoint.LOG_START_OFFSET, end).pipe(Effect.catchAll(fail))
          self.logStartOffset = end
        }
        self.highWatermark = Math.min(self.highWatermark, end)
        self.recoveryPoint = Math.min(self.recoveryPoint, end)
        self.cleanerCheckpoint = Math.min(self.cleanerCheckpoint, end)
        if (self.epochCache.truncateFromEnd(end)) yield* self.writeEpochCheckpoint()
        if (self.recoveryCheckpoint > active.baseOffset) {
          yield* self.setRecoveryCheckpoint(active.baseOffset).pipe(Effect.catchAll(fail))
        }
      })
    )
  }

  truncateFullyAndStartAt(offset: number): Effect.Effect<void, KafkaStorageError> {
    return this.mutate((now) => this.truncateFullyLocked(offset, now))
  }

  private truncateFullyLocked(offset: number, now: number): Effect.Effect<void, KafkaStorageError> {
    const self = this
    return Effect.gen(function* () {
      const fail = (e: KafkaStorageError) => self.goOffline(e)
      yield* Checkpoint.write(self.disk, self.dir, Checkpoint.LOG_START_OFFSET, offset)
      const old = self.segmentList
      for (const s of old) yield* s.delete().pipe(Effect.catchAll(fail))
      const fresh = yield* Segment.create(self.disk, self.dir, offset, self.limits, now).pipe(Effect.catchAll(fail))
      self.segmentList = [fresh]
      self.logStartOffset = offset
      self.logEndOffset = offset
      self.highWatermark = offset
      self.recoveryPoint = offset
      self.cleanerCheckpoint = offset
      self.unflushedMessages = 0
      if (self.epochCache.truncateFromEnd(-1)) yield* self.writeEpochCheckpoint()
      yield* self.setRecoveryCheckpoint(offset).pipe(Effect.catchAll(fail))
    })
  }

  deleteRecords(offset: number): Effect.Effect<number, OffsetOutOfRangeError | KafkaStorageError> {
    const self = this
    return this.mutate((now) =>
      Effect.gen(function* () {
        if (offset > self.highWatermark || offset < 0) {
          return yield* new OffsetOutOfRangeError({
            message: `cannot move the log start offset to ${offset}: above the high watermark ${self.highWatermark}`,
            offset,
            logStartOffset: self.logStartOffset,
            logEndOffset: self.logEndOffset
          })
        }
        if (offset <= self.logStartOffset) return self.logStartOffset
        yield* Checkpoint.write(self.disk, self.dir, Checkpoint.LOG_START_OFFSET, offset)
        self.logStartOffset = offset
        if (self.epochCache.truncateFromStart(offset)) yield* self.writeEpochCheckpoint()
        yield* self.deleteOldSegmentsLocked(now, true)
        return self.logStartOffset
      })
    )
  }

  // -------------------------------------------------------------------------------------------
  // retention

  get deleteOldSegments(): Effect.Effect<number, KafkaStorageError> {
    return this.mutate((now) => this.deleteOldSegmentsLocked(now))
  }

  private deleteOldSegmentsLocked(now: number, belowStartOnly = false): Effect.Effect<number, KafkaStorageError> {
    const self = this
    return Effect.gen(function* () {
      const decision = Retention.decide(self.segmentList, {
        config: belowStartOnly ? { ...self.config, "retention.ms": -1, "retention.bytes": -1 } : self.config,
        now,
        highWatermark: self.highWatermark,
        logStartOffset: self.logStartOffset
      })
      if (decision.count === 0) return 0
      const gone = self.segmentList.slice(0, decision.count)
      self.segmentList = self.segmentList.slice(decision.count)
      const newStart = self.segmentList[0]!.baseOffset
      if (newStart > self.logStartOffset) self.logStartOffset = newStart
      if (self.epochCache.truncateFromStart(self.logStartOffset)) yield* self.writeEpochCheckpoint()
      for (const [i, s] of gone.entries()) {
        yield* Effect.logInfo(
          `${self.dir}: deleting segment ${s.baseOffset} (${s.size} bytes) by ${decision.reasons[i]}`
        )
        yield* s.delete()
      }
      return gone.length
    })
  }

  // -------------------------------------------------------------------------------------------
  // compaction

  get compact(): Effect.Effect<CleanerStats, KafkaStorageError> {
    return Cleaner.clean(this)
  }

  /** Replaces `old` (consecutive segments, none active) by `fresh` in the list. Called under the lock. */
  replaceSegments(old: ReadonlyArray<Segment>, fresh: Segment): void {
    const i = this.segmentList.indexOf(old[0]!)
    this.segmentList = [...this.segmentList.slice(0, i), fresh, ...this.segmentList.slice(i + old.length)]
  }

  /** True when `segments` are still consecutive members of the log (nothing deleted or truncated them). */
  stillHas(segments: ReadonlyArray<Segment>): boolean {
    const i = this.segmentList.indexOf(segments[0]!)
    return (
      i >= 0 && segments.every((s, k) => this.segmentList[i + k] === s) && i + segments.length < this.segmentList.length
    )
  }

  setCleanerCheckpoint(offset: number): Effect.Effect<void, KafkaStorageError> {
    return Checkpoint.write(this.disk, this.dir, Checkpoint.CLEANER_OFFSET, offset).pipe(
      Effect.tap(() => {
        this.cleanerCheckpoint = offset
      })
    )
  }

  // -------------------------------------------------------------------------------------------
  // epochs, config, lifecycle

  assignEpochStartOffset(epoch: number, startOffset: number): Effect.Effect<void, KafkaStorageError> {
    return this.mutate(() => (this.epochCache.assign(epoch, startOffset) ? this.writeEpochCheckpoint() : Effect.void))
  }

  endOffsetForEpoch(epoch: number): Effect.Effect<LeaderEpochCache.EpochEndOffset> {
    return Effect.sync(() => this.epochCache.endOffsetFor(epoch, this.logEndOffset))
  }

  updateConfig(config: LogConfig): Effect.Effect<void> {
    return Effect.sync(() => {
      this.config = config
    })
  }

  get close(): Effect.Effect<void, KafkaStorageError> {
    const self = this
    return this.lock.withPermits(1)(
      Effect.gen(function* () {
        if (self.closed) return
        self.closed = true
        if (self.failure) {
          for (const s of self.segmentList) yield* Effect.ignore(s.close())
          return
        }
        yield* self.active.seal()
        self.recoveryPoint = self.logEndOffset
        for (const s of self.segmentList) yield* s.close()
        yield* self.disk.writeFileAtomic(Path.join(self.dir, Checkpoint.CLEAN_SHUTDOWN), Buffer.alloc(0))
      })
    )
  }

  get delete(): Effect.Effect<void, KafkaStorageError> {
    const self = this
    return this.lock.withPermits(1)(
      Effect.gen(function* () {
        self.closed = true
        for (const s of self.segmentList) yield* Effect.ignore(s.close())
        yield* self.disk.removeDir(self.dir)
      })
    )
  }
}

/** Index of the last segment whose base offset is <= `offset` (0 when none). */
const floorSegment = (segments: ReadonlyArray<Segment>, offset: number): number => {
  let lo = 0
  let hi = segments.length - 1
  let found = 0
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    if (segments[mid]!.baseOffset <= offset) {
      found = mid
      lo = mid + 1
    } else hi = mid - 1
  }
  return found
}

/**
 * The first record of the first batch in `bytes` with offset >= `minOffset` and timestamp >= `timestamp`
 * (records are decoded here, off the hot path). A batch that does not decode answers at batch level.
 */
const firstRecordAtOrAfter = (bytes: Buffer, timestamp: number, minOffset: number): TimestampAndOffset | undefined => {
  let pos = 0
  while (pos + RecordBatch.HEADER_SIZE <= bytes.length) {
    const size = RecordBatch.sizeAt(bytes, pos)
    try {
      const { header, records } = RecordBatch.decode(bytes.subarray(pos, pos + size), 0)
      if (header.maxTimestamp >= timestamp) {
        for (const r of records) {
          if (r.offset >= minOffset && r.timestamp >= timestamp) {
            return { timestamp: r.timestamp, offset: r.offset, leaderEpoch: header.partitionLeaderEpoch }
          }
        }
      }
    } catch {
      const h = RecordBatch.readHeader(bytes, pos)
      if (h.maxTimestamp >= timestamp && h.baseOffset + h.lastOffsetDelta >= minOffset) {
        return {
          timestamp: h.maxTimestamp,
          offset: Math.max(h.baseOffset, minOffset),
          leaderEpoch: h.partitionLeaderEpoch
        }
      }
    }
    pos += size
  }
  return undefined
}
