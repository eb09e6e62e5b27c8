/**
 * The implementation of {@link Log}: segments, offsets, flush policy with group commit, reads,
 * truncation, delete-records, retention and the entry point of compaction.
 */
import * as Path from "node:path"
import { type Cause, Clock, Deferred, Effect, FiberId, Option } from "effect"
import * as RecordBatch from "../../protocol/RecordBatch.js"
import * as Cleaner from "../Cleaner.js"
import * as LeaderEpochCache from "../LeaderEpochCache.js"
import type {
  AppendInfo,
  AppendOptions,
  CleanerStats,
  Log,
  LogOwner,
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
import { logFlushTime, timed } from "../LogMetrics.js"
import * as Recovery from "../Recovery.js"
import * as Retention from "../Retention.js"
import { Segment, type SegmentLimits } from "../Segment.js"
import * as Checkpoint from "./checkpoint.js"
import { type Disk, SYNC_IO_MAX } from "./disk.js"

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

// Big-endian field access without a DataView (one per call was a visible share of a small append).
const int32At = (b: Uint8Array, p: number): number => (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!

/** The int64 at `p`, or NaN when it is not a safe integer (which `RecordBatch.readHeader` refuses). */
const int64At = (b: Uint8Array, p: number): number => {
  const hi = int32At(b, p)
  if (hi > 0x1fffff || hi < -0x200000) return Number.NaN
  return hi * 0x100000000 + (int32At(b, p + 4) >>> 0)
}

const setInt32At = (b: Uint8Array, p: number, v: number): void => {
  b[p] = v >>> 24
  b[p + 1] = v >>> 16
  b[p + 2] = v >>> 8
  b[p + 3] = v
}

const setInt64At = (b: Uint8Array, p: number, v: number): void => {
  const hi = Math.floor(v / 0x100000000)
  setInt32At(b, p, hi)
  setInt32At(b, p + 4, v - hi * 0x100000000)
}

const F = RecordBatch.Field

/**
 * The batch at `pos`, checked as `RecordBatch.readHeader` checks it (read here field by field, without
 * the header object); anything it would refuse goes through it for its error. Throws a CorruptMessageError.
 */
const readItem = (buf: Uint8Array, pos: number): Item => {
  if (pos + RecordBatch.HEADER_SIZE <= buf.byteLength && buf[pos + F.magic] === 2) {
    const batchLength = int32At(buf, pos + F.batchLength)
    const size = RecordBatch.LOG_OVERHEAD + batchLength
    const baseOffset = int64At(buf, pos + F.baseOffset)
    const maxTimestamp = int64At(buf, pos + F.maxTimestamp)
    if (
      batchLength >= RecordBatch.HEADER_SIZE - RecordBatch.LOG_OVERHEAD &&
      pos + size <= buf.byteLength &&
      !Number.isNaN(baseOffset) &&
      !Number.isNaN(maxTimestamp) &&
      !Number.isNaN(int64At(buf, pos + F.baseTimestamp)) &&
      !Number.isNaN(int64At(buf, pos + F.producerId))
    ) {
      const lastOffsetDelta = int32At(buf, pos + F.lastOffsetDelta)
      return {
        buf,
        pos,
        size,
        lastOffsetDelta,
        records: lastOffsetDelta + 1,
        epoch: int32At(buf, pos + F.partitionLeaderEpoch),
        baseOffset,
        maxTimestamp
      }
    }
  }
  let h: RecordBatch.RecordBatchHeader
  try {
    h = RecordBatch.readHeader(buf, pos)
  } catch (e) {
    throw new CorruptMessageError({ message: e instanceof Error ? e.message : String(e) })
  }
  return {
    buf,
    pos,
    size: RecordBatch.LOG_OVERHEAD + h.batchLength,
    lastOffsetDelta: h.lastOffsetDelta,
    records: h.lastOffsetDelta + 1,
    epoch: h.partitionLeaderEpoch,
    baseOffset: h.baseOffset,
    maxTimestamp: h.maxTimestamp
  }
}

/** Splits the input into batches, checking each header. Throws a LogError. */
const parse = (
  input: Uint8Array | ReadonlyArray<Uint8Array>,
  segmentBytes: number
): { items: Array<Item>; buffers: Array<Uint8Array>; total: number } => {
  const buffers: Array<Uint8Array> = []
  if (input instanceof Uint8Array) {
    if (input.byteLength > 0) buffers.push(input)
  } else for (const b of input) if (b.byteLength > 0) buffers.push(b)
  const items: Array<Item> = []
  let total = 0
  for (const buf of buffers) {
    let pos = 0
    while (pos < buf.byteLength) {
      const item = readItem(buf, pos)
      const size = item.size
      if (item.lastOffsetDelta < 0) {
        throw new InvalidRecordError({ message: `record batch has a negative lastOffsetDelta ${item.lastOffsetDelta}` })
      }
      if (size > segmentBytes) {
        throw new RecordListTooLargeError({
          message: `record batch of ${size} bytes is larger than segment.bytes ${segmentBytes}`,
          size
        })
      }
      items.push(item)
      pos += size
      total += size
    }
  }
  return { items, buffers, total }
}

/** The first batch of `items` whose CRC does not match, if any. */
const badCrcOf = (items: ReadonlyArray<Item>): Item | undefined => {
  for (const it of items) {
    if (int32At(it.buf, it.pos + F.crc) >>> 0 !== RecordBatch.computeCrc(it.buf, it.pos, it.size)) return it
  }
  return undefined
}

const crcError = (it: Item) => new CorruptMessageError({ message: `record batch CRC mismatch at byte ${it.pos}` })

interface Waiter {
  resume: ((effect: Effect.Effect<void>) => void) | undefined
  granted: boolean
}

/**
 * The log's mutex, FIFO. Taking it when it is free is synchronous (the Effect `Semaphore` always goes
 * through an asynchronous step, which dominated the cost of a small append); a holder keeps it until
 * its effect exits, whether it succeeds, fails or is interrupted, and then hands it to the first waiter.
 * `withPermits(1)` has the shape of `Semaphore.withPermits`.
 */
export class Lock {
  private locked = false
  private readonly waiters: Array<Waiter> = []
  /** Shared by every holder (no allocation per call). */
  private readonly releasing = {
    onFailure: (cause: Cause.Cause<unknown>): Effect.Effect<never, unknown> => {
      this.unlock()
      return Effect.failCause(cause)
    },
    onSuccess: (a: unknown): Effect.Effect<unknown> => {
      this.unlock()
      return Effect.succeed(a)
    }
  }

  /** True when no one holds the lock (nor waits for it). */
  get isFree(): boolean {
    return !this.locked
  }

  withPermits(_permits: 1): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R> {
    return (self) => this.run(self)
  }

  /** Runs `self` holding the lock (interruptible as the caller is, except while taking and releasing). */
  run<A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return Effect.uninterruptibleMask((restore) => {
      if (!this.locked) {
        this.locked = true
        return this.holding(restore(self))
      }
      const waiter: Waiter = { resume: undefined, granted: false }
      return restore(
        Effect.async<void>((resume) => {
          waiter.resume = resume
          this.waiters.push(waiter)
        })
      ).pipe(
        Effect.onInterrupt(() =>
          Effect.sync(() => {
            if (waiter.granted) this.unlock()
            else {
              const i = this.waiters.indexOf(waiter)
              if (i >= 0) this.waiters.splice(i, 1)
            }
          })
        ),
        Effect.zipRight(this.holding(restore(self)))
      )
    })
  }

  /** Runs `self`, already holding the lock, and releases it when `self` exits. */
  private holding<A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return Effect.matchCauseEffect(self, this.releasing) as Effect.Effect<A, E, R>
  }

  /**
   * Takes the lock when free, outside any Effect: the caller must then {@link unlock} it on every path,
   * whatever happens to its fiber (the log does so from an I/O callback).
   */
  tryTake(): boolean {
    if (this.locked) return false
    this.locked = true
    return true
  }

  /** Releases the lock: to the first waiter, or free. */
  unlock(): void {
    const next = this.waiters.shift()
    if (next === undefined) {
      this.locked = false
      return
    }
    next.granted = true
    next.resume!(Effect.void)
  }
}

/** A parsed append, checked against the log's state (see `LogImpl.plan`). */
interface Plan {
  readonly items: Array<Item>
  readonly buffers: Array<Uint8Array>
  readonly total: number
  /** Offset of the first record (the log end for a leader append). */
  readonly firstOffset: number
  /** The log end offset after the append. */
  readonly next: number
  readonly assign: boolean
  readonly logAppendTime: boolean
  readonly verifyCrc: boolean
  /** The active segment must roll first. */
  readonly roll: boolean
  /** The leader epoch cache changes (its checkpoint is then rewritten). */
  readonly epochChange: boolean
}

const emptyAppend = (logStartOffset: number): AppendInfo => ({
  firstOffset: -1,
  lastOffset: -1,
  maxTimestamp: -1,
  logAppendTime: -1,
  logStartOffset,
  bytes: 0,
  durable: Effect.void
})

/** Without group commit, `append` waits for `durable` itself (outside the lock, so that fsyncs are shared). */
const awaitDurable = (info: AppendInfo): Effect.Effect<AppendInfo, KafkaStorageError> =>
  info.durable === Effect.void ? Effect.succeed(info) : Effect.as(info.durable, { ...info, durable: Effect.void })

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
  /**
   * Serializes mutations. With an {@link owner} every mutation runs on the owner's fiber (its own calls, and
   * the maintenance handed to it), so the lock is never contended; a log used alone needs it against the
   * storage's scheduled retention, cleaning and flushes.
   */
  readonly lock = new Lock()
  /** The single writer the scheduled maintenance goes through, when set. */
  private owner: LogOwner | undefined
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
    const refused = this.refusal()
    return refused ? Effect.fail(refused) : Effect.void
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

  /** The error every call fails with once the log is offline or closed. */
  private refusal(): KafkaStorageError | undefined {
    if (this.failure) return this.failure
    if (this.closed) return this.storageError(`log ${this.dir} is closed`)
    return undefined
  }

  setOwner(owner: LogOwner | undefined): void {
    this.owner = owner
  }

  /**
   * Runs a scheduled maintenance mutation (already under the lock) through the owner when there is one;
   * `skipped` is the result when the owner cannot take it now.
   */
  maintain<A, E>(mutation: Effect.Effect<A, E>, skipped: A): Effect.Effect<A, E> {
    return Effect.suspend(() => {
      const owner = this.owner
      return owner === undefined
        ? mutation
        : Effect.map(
            owner.run(mutation),
            Option.getOrElse(() => skipped)
          )
    })
  }

  /** Runs a mutation under the log's lock, after the state checks. */
  mutate<A, E>(f: (now: number) => Effect.Effect<A, E>): Effect.Effect<A, E | KafkaStorageError> {
    return this.lock.run(
      Effect.clockWith((clock): Effect.Effect<A, E | KafkaStorageError> => {
        const refused = this.refusal()
        return refused ? Effect.fail(refused) : f(clock.unsafeCurrentTimeMillis())
      })
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
    return Effect.clockWith((clock) => {
      const fast = this.appendNow(batches, options, clock.unsafeCurrentTimeMillis())
      return fast !== undefined ? fast : this.appendLocking(batches, options)
    })
  }

  /**
   * Parses and checks an append against the current state, changing nothing (the batches' bytes
   * included). Throws a LogError.
   */
  private plan(input: Uint8Array | ReadonlyArray<Uint8Array>, options: AppendOptions, now: number): Plan {
    const config = this.config
    const assign = options.assignOffsets ?? true
    const { items, buffers, total } = parse(input, config["segment.bytes"])
    let next = this.logEndOffset
    let firstOffset = next
    let maxEpoch = -1
    if (assign) {
      for (const it of items) {
        next += it.lastOffsetDelta + 1
        if (it.epoch > maxEpoch) maxEpoch = it.epoch
      }
    } else {
      if (items.length > 0) firstOffset = items[0]!.baseOffset
      for (const it of items) {
        if (it.baseOffset < next) {
          throw new InvalidRecordError({ message: `batch offset ${it.baseOffset} is below the log end offset ${next}` })
        }
        next = it.baseOffset + it.lastOffsetDelta + 1
        if (it.epoch > maxEpoch) maxEpoch = it.epoch
      }
    }
    if (options.leaderEpoch !== undefined) maxEpoch = options.leaderEpoch
    const active = this.active
    return {
      items,
      buffers,
      total,
      firstOffset,
      next,
      assign,
      logAppendTime: assign && config["message.timestamp.type"] === "LogAppendTime",
      verifyCrc: options.verifyCrc ?? true,
      roll:
        items.length > 0 &&
        (next - 1 - active.baseOffset > INT32_MAX ||
          (active.size > 0 &&
            (active.size + total > config["segment.bytes"] ||
              now - active.created > config["segment.ms"] ||
              active.indexFull))),
      epochChange: maxEpoch >= 0 && maxEpoch > this.epochCache.latestEpoch
    }
  }

  /** {@link plan} after the state checks; the failure instead when the log refuses the append or the batches. */
  private planChecked(
    input: Uint8Array | ReadonlyArray<Uint8Array>,
    options: AppendOptions,
    now: number
  ): Plan | Effect.Effect<never, LogError> {
    const refused = this.refusal()
    if (refused) return Effect.fail(refused)
    try {
      return this.plan(input, options, now)
    } catch (e) {
      return Effect.fail(e as LogError)
    }
  }

  /** Rewrites the batches of a leader append: offsets from the log end, leader epoch, LogAppendTime. */
  private rewrite(plan: Plan, options: AppendOptions, now: number): void {
    if (!plan.assign) return
    let next = this.logEndOffset
    const leaderEpoch = options.leaderEpoch
    for (const it of plan.items) {
      setInt64At(it.buf, it.pos + F.baseOffset, next)
      it.baseOffset = next
      if (leaderEpoch !== undefined) setInt32At(it.buf, it.pos + F.partitionLeaderEpoch, leaderEpoch)
      if (plan.logAppendTime) {
        const attrs = it.pos + F.attributes + 1
        it.buf[attrs] = it.buf[attrs]! | RecordBatch.Attributes.timestampTypeLogAppendTime
        setInt64At(it.buf, it.pos + F.maxTimestamp, now)
        it.maxTimestamp = now
        RecordBatch.writeCrc(it.buf, it.pos, it.size)
      }
      next += it.lastOffsetDelta + 1
    }
  }

  /**
   * The whole append as plain synchronous code, when it needs no asynchronous step: the lock is free,
   * the disk can write the batches synchronously (at most `SYNC_IO_MAX` bytes), and neither a roll
   * nor an epoch checkpoint is due. No other fiber can run in the middle of it, so it is serialized
   * with every other mutation without taking the lock (which costs several Effect steps). Returns
   * undefined, having changed nothing, when the append must take the locked path. An fsync due by the
   * flush policy is awaited after, as on the locked path.
   */
  private appendNow(
    input: Uint8Array | ReadonlyArray<Uint8Array>,
    options: AppendOptions,
    now: number
  ): Effect.Effect<AppendInfo, LogError> | undefined {
    if (!this.lock.isFree) return undefined
    const plan = this.planChecked(input, options, now)
    if (Effect.isEffect(plan)) return plan
    if (plan.items.length === 0) return Effect.succeed(emptyAppend(this.logStartOffset))
    const active = this.active
    const writeNow = active.log.writevNow
    const truncateNow = active.log.truncateNow
    if (plan.roll || plan.epochChange) return undefined
    if (plan.total > SYNC_IO_MAX || writeNow === undefined || truncateNow === undefined) {
      if (active.log.writevCallback === undefined || active.log.truncateCallback === undefined) return undefined
      return Effect.async<AppendInfo, LogError>((resume) => {
        const done = this.appendAsync(input, options, now, resume)
        if (done !== undefined) resume(done)
      })
    }
    if (plan.verifyCrc) {
      const bad = badCrcOf(plan.items)
      if (bad !== undefined) return Effect.fail(crcError(bad))
    }
    this.rewrite(plan, options, now)
    const error = writeNow(plan.buffers, plan.total, active.size)
    if (error !== undefined) {
      // undo a partial or refused write; if even that fails the file no longer matches memory
      const undoError = truncateNow(active.size)
      if (undoError === undefined) return Effect.fail(error)
      this.failure ??= undoError
      return this.goOffline(undoError)
    }
    const info = this.commit(plan, options, now)
    return this.config["flush.group.commit"] ? Effect.succeed(info) : awaitDurable(info)
  }

  /**
   * A large append on the `node:fs` disk in a single Effect step: takes the lock synchronously, starts
   * the write, checks the CRCs while it is in flight, and from the write's callback commits (or undoes
   * the write) and releases the lock. The lock is so held until the write is done even if the fiber is
   * interrupted meanwhile (the append then completes unseen). Falls back to the locked path when the
   * state changed since {@link appendNow} looked.
   */
  private appendAsync(
    input: Uint8Array | ReadonlyArray<Uint8Array>,
    options: AppendOptions,
    now: number,
    resume: (effect: Effect.Effect<AppendInfo, LogError>) => void
  ): Effect.Effect<AppendInfo, LogError> | undefined {
    const plan = this.planChecked(input, options, now)
    if (Effect.isEffect(plan)) return plan
    const active = this.active
    const writeCallback = active.log.writevCallback
    const truncateCallback = active.log.truncateCallback
    if (
      plan.items.length === 0 ||
      plan.roll ||
      plan.epochChange ||
      writeCallback === undefined ||
      truncateCallback === undefined ||
      !this.lock.tryTake()
    ) {
      return this.appendLocking(input, options)
    }
    if (plan.verifyCrc && plan.logAppendTime) {
      // the CRCs are rewritten: check them before
      const bad = badCrcOf(plan.items)
      if (bad !== undefined) {
        this.lock.unlock()
        return Effect.fail(crcError(bad))
      }
    }
    this.rewrite(plan, options, now)
    const position = active.size
    const fail = (error: LogError) =>
      truncateCallback(position, (undoError) => {
        if (undoError !== undefined) this.failure ??= undoError
        this.lock.unlock()
        resume(undoError === undefined ? Effect.fail(error) : this.goOffline(undoError))
      })
    let badCrc: Item | undefined
    writeCallback(plan.buffers, position, (error) => {
      if (error !== undefined || badCrc !== undefined) {
        fail(error ?? crcError(badCrc!))
        return
      }
      const info = this.commit(plan, options, now)
      this.lock.unlock()
      resume(this.config["flush.group.commit"] ? Effect.succeed(info) : awaitDurable(info))
    })
    // on the calling thread while the write is in flight
    if (plan.verifyCrc && !plan.logAppendTime) badCrc = badCrcOf(plan.items)
    return undefined
  }

  /** The append through the lock. */
  private appendLocking(
    input: Uint8Array | ReadonlyArray<Uint8Array>,
    options: AppendOptions
  ): Effect.Effect<AppendInfo, LogError> {
    const appended = this.mutate((now) => this.appendLocked(input, options, now))
    return this.config["flush.group.commit"] ? appended : Effect.flatMap(appended, awaitDurable)
  }

  /** The append under the lock, for the cases {@link appendNow} leaves: rolls, large writes, epoch changes. */
  private appendLocked(
    input: Uint8Array | ReadonlyArray<Uint8Array>,
    options: AppendOptions,
    now: number
  ): Effect.Effect<AppendInfo, LogError> {
    let plan: Plan
    try {
      plan = this.plan(input, options, now)
    } catch (e) {
      return Effect.fail(e as LogError)
    }
    if (plan.items.length === 0) return Effect.succeed(emptyAppend(this.logStartOffset))
    // CRCs are checked while an asynchronous write is in flight (a bad batch is then cut off again);
    // before a synchronous write (nothing to overlap with), and before the rewrite with LogAppendTime
    const syncWrite = plan.total <= SYNC_IO_MAX && this.active.log.writevNow !== undefined
    const crcDuringWrite = plan.verifyCrc && !plan.logAppendTime && !syncWrite
    if (plan.verifyCrc && !crcDuringWrite) {
      const bad = badCrcOf(plan.items)
      if (bad !== undefined) return Effect.fail(crcError(bad))
    }
    this.rewrite(plan, options, now)
    if (plan.roll) {
      return Effect.flatMap(this.rollAt(plan.firstOffset, now), () =>
        this.writeLocked(plan, options, crcDuringWrite, now)
      )
    }
    return this.writeLocked(plan, options, crcDuringWrite, now)
  }

  /** Writes the batches at the end of the active segment, then commits them to memory. */
  private writeLocked(
    plan: Plan,
    options: AppendOptions,
    crcDuringWrite: boolean,
    now: number
  ): Effect.Effect<AppendInfo, LogError> {
    const active = this.active
    const { items, buffers, total } = plan
    const writeNow = active.log.writevNow
    if (writeNow !== undefined && total <= SYNC_IO_MAX && !crcDuringWrite) {
      const error = writeNow(buffers, total, active.size)
      if (error !== undefined) return this.undoWrite(active, error)
      return this.commitLocked(plan, options, now)
    }
    let badCrc: Item | undefined
    const checkCrcs = crcDuringWrite
      ? () => {
          badCrc = badCrcOf(items)
        }
      : undefined
    return active.write(buffers, active.size, checkCrcs).pipe(
      Effect.catchAll((e) => this.undoWrite(active, e)),
      Effect.flatMap(() =>
        badCrc !== undefined ? this.undoWrite(active, crcError(badCrc)) : this.commitLocked(plan, options, now)
      )
    )
  }

  /** Undoes a partial or refused write; if even that fails the file no longer matches memory. */
  private undoWrite<E>(active: Segment, e: E): Effect.Effect<never, E | KafkaStorageError> {
    return active.log.truncate(active.size).pipe(
      Effect.matchEffect({
        onFailure: (te) => this.goOffline(te),
        onSuccess: () => Effect.fail(e)
      })
    )
  }

  /** {@link commit}, then the epoch checkpoint when the epoch cache changed. */
  private commitLocked(plan: Plan, options: AppendOptions, now: number): Effect.Effect<AppendInfo, KafkaStorageError> {
    const info = this.commit(plan, options, now)
    return plan.epochChange ? Effect.as(this.writeEpochCheckpoint(), info) : Effect.succeed(info)
  }

  /**
   * Updates memory after a successful write: indexes, sizes, log end, epoch cache (whose checkpoint
   * the caller writes when `plan.epochChange`), flush policy.
   */
  private commit(plan: Plan, options: AppendOptions, now: number): AppendInfo {
    const config = this.config
    const active = this.active
    const items = plan.items
    if (active.size === 0) active.created = now
    let position = active.size
    let maxTimestamp = -1
    let records = 0
    for (const it of items) {
      active.indexBatchAt(it.baseOffset, it.baseOffset + it.lastOffsetDelta, it.maxTimestamp, position, it.size)
      if (it.maxTimestamp > maxTimestamp) maxTimestamp = it.maxTimestamp
      position += it.size
      records += it.records
    }
    active.size = position
    const next = plan.next
    this.logEndOffset = next
    const firstOffset = items[0]!.baseOffset

    if (plan.epochChange) {
      if (options.leaderEpoch !== undefined) this.epochCache.assign(options.leaderEpoch, firstOffset)
      else for (const it of items) this.epochCache.assign(it.epoch, it.baseOffset)
    }

    let durable: Effect.Effect<void, KafkaStorageError> = Effect.void
    this.unflushedMessages += records
    if (this.unflushedMessages >= config["flush.messages"] || now - this.lastFlushTime >= config["flush.ms"]) {
      this.unflushedMessages = 0
      this.lastFlushTime = now
      durable = this.syncTo(next)
    }
    return {
      firstOffset,
      lastOffset: next - 1,
      maxTimestamp,
      logAppendTime: plan.logAppendTime ? now : -1,
      logStartOffset: this.logStartOffset,
      bytes: plan.total,
      durable
    }
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
          timed(logFlushTime),
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
      timed(logFlushTime),
      Effect.tap(() => {
        if (upTo > this.recoveryPoint) this.recoveryPoint = upTo
        this.unflushedMessages = 0
        this.lastFlushTime = now
      }),
      Effect.catchAll((e) => this.goOffline(e))
    )
  }

  get flushIfDue(): Effect.Effect<void, KafkaStorageError> {
    return this.maintain(
      this.mutate((now) =>
        this.logEndOffset > this.recoveryPoint && now - this.lastFlushTime >= this.config["flush.ms"]
          ? this.flushLocked(now)
          : Effect.void
      ),
      undefined
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
          const r = yield* s.tryUse(s.read(offset, maxBytes, maxOffset, options.minOneMessage ?? true, options.buffers))
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
    return this.maintain(
      this.mutate((now) => this.deleteOldSegmentsLocked(now)),
      0
    )
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
