/**
 * Compaction (`cleanup.policy` `compact` or `compact,delete`): keeps the latest record per key.
 *
 * One pass: build a map key -> latest offset over the dirty part of the log (from the cleaner
 * checkpoint up to the first uncleanable offset: the active segment, the high watermark and
 * `min.compaction.lag.ms` bound it), then rewrite every cleanable segment, in groups that fit one
 * segment, dropping records superseded by a later one of the same key. Offsets are preserved (a kept
 * batch keeps its base offset and last offset delta). A tombstone (null value) is kept until its batch's
 * delete horizon (set to now + `delete.retention.ms` the first time it is cleaned, KIP-534) has passed.
 * Control batches (transaction markers) and transactional batches are copied unchanged (a later issue
 * will remove aborted data and obsolete markers). Batches left intact are copied byte for byte;
 * records are decoded only here, never on the append or read path.
 *
 * Crash safety: a group is written to `<base>.log.cleaned` (with indexes), flushed, renamed to
 * `.swap`, the old segments are deleted and the swap renamed into place; recovery finishes or
 * discards an interrupted swap.
 */
import * as Path from "node:path"
import { Clock, Effect } from "effect"
import * as RecordBatch from "../protocol/RecordBatch.js"
import { scan } from "./internal/batchReader.js"
import type { LogImpl } from "./internal/log.js"
import type { CleanerStats } from "./Log.js"
import * as LogConfig from "./LogConfig.js"
import { KafkaStorageError } from "./LogError.js"
import { fileName, Segment, Suffix } from "./Segment.js"

const INT32_MAX = 0x7fffffff
const WRITE_CHUNK = 1 << 20

/** A storage error about a log folder. */
export const storageError = (message: string, path: string): KafkaStorageError =>
  new KafkaStorageError({ message, path, code: "" })

const none: CleanerStats = { segmentsCleaned: 0, bytesRead: 0, bytesWritten: 0, recordsRemoved: 0 }

const keyString = (key: Uint8Array): string =>
  Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("latin1")

/** Earliest delete horizon written by the last pass, per log: a pass is due when it passes even if nothing is dirty. */
const horizons = new WeakMap<LogImpl, number>()

/** Runs one compaction pass over `log` when its policy includes `compact` and enough of it is dirty. */
export const clean = (log: LogImpl): Effect.Effect<CleanerStats, KafkaStorageError> =>
  Effect.gen(function* () {
    const config = log.config
    if (!LogConfig.isCompact(config)) return none
    const now = yield* Clock.currentTimeMillis

    // the cleanable segments: never the active one, never at or past the high watermark or the lag
    const segments = log.segmentList
    const lagBound = now - config["min.compaction.lag.ms"]
    const cleanable: Array<Segment> = []
    for (let i = 0; i + 1 < segments.length; i++) {
      const s = segments[i]!
      if (segments[i + 1]!.baseOffset > log.highWatermark) break
      if (config["min.compaction.lag.ms"] > 0 && s.maxTimestamp > lagBound) break
      cleanable.push(s)
    }
    if (cleanable.length === 0) return none
    const cleanableEnd = segments[cleanable.length]!.baseOffset
    const firstDirty = Math.max(log.cleanerCheckpoint, log.logStartOffset, cleanable[0]!.baseOffset)
    let dirtyBytes = 0
    let totalBytes = 0
    for (const s of cleanable) {
      totalBytes += s.size
      if (s.nextOffset > firstDirty) dirtyBytes += s.size
    }
    const horizon = horizons.get(log)
    const tombstonesDue = horizon !== undefined && now >= horizon
    if (firstDirty >= cleanableEnd && !tombstonesDue) return none
    if (!tombstonesDue && (totalBytes === 0 || dirtyBytes / totalBytes < config["min.cleanable.dirty.ratio"])) {
      return none
    }

    // 1. key -> latest offset over the dirty part
    const latest = new Map<string, number>()
    let bytesRead = 0
    for (const s of cleanable) {
      if (s.nextOffset <= firstDirty) continue
      yield* s.use(
        scan(s.log, 0, s.size, false, ({ header, size }, bytes, at) => {
          bytesRead += size
          if (header.baseOffset + header.lastOffsetDelta < firstDirty) return undefined
          if (RecordBatch.isControl(header.attributes) || RecordBatch.isTransactional(header.attributes))
            return undefined
          for (const r of RecordBatch.decode(bytes.subarray(at, at + size), 0).records) {
            if (r.key !== null && r.offset >= firstDirty) latest.set(keyString(r.key), r.offset)
          }
          return undefined
        })
      )
    }

    // 2. rewrite the cleanable segments, in groups that fit one segment and one index
    const limits = log.limits
    const groups: Array<Array<Segment>> = []
    for (const s of cleanable) {
      const g = groups[groups.length - 1]
      const fits =
        g !== undefined &&
        g.reduce((n, x) => n + x.size, 0) + s.size <= config["segment.bytes"] &&
        g.reduce((n, x) => n + x.index.entries, 0) + s.index.entries < limits.maxIndexEntries &&
        g.reduce((n, x) => n + x.timeIndex.entries, 0) + s.timeIndex.entries < limits.maxTimeIndexEntries &&
        s.nextOffset - 1 - g[0]!.baseOffset <= INT32_MAX
      if (fits) g.push(s)
      else groups.push([s])
    }

    let bytesWritten = 0
    let recordsRemoved = 0
    let segmentsCleaned = 0
    let nextHorizon: number | undefined
    const deleteRetention = config["delete.retention.ms"]
    for (const group of groups) {
      const base = group[0]!.baseOffset
      const fresh = yield* Segment.create(log.disk, log.dir, base, limits, now, Suffix.cleaned)
      let pending: Array<Uint8Array> = []
      let pendingBytes = 0
      let written = 0
      const flushPending = Effect.suspend(() => {
        if (pending.length === 0) return Effect.void
        const bufs = pending
        const at = written
        written += pendingBytes
        pending = []
        pendingBytes = 0
        return fresh.write(bufs, at)
      })
      const emit = (batch: Uint8Array, baseOffset: number, lastOffset: number, maxTimestamp: number) => {
        fresh.indexBatch({ baseOffset, lastOffset, maxTimestamp, position: fresh.size, size: batch.byteLength })
        fresh.size += batch.byteLength
        bytesWritten += batch.byteLength
        pending.push(batch)
        pendingBytes += batch.byteLength
      }
      for (const s of group) {
        const outputs: Array<{ batch: Uint8Array; base: number; last: number; max: number }> = []
        yield* s.use(
          scan(
            s.log,
            0,
            s.size,
            false,
            ({ header, size }, bytes, at) => {
              bytesRead += size
              const copy = () =>
                outputs.push({
                  batch: Buffer.from(bytes.subarray(at, at + size)),
                  base: header.baseOffset,
                  last: header.baseOffset + header.lastOffsetDelta,
                  max: header.maxTimestamp
                })
              if (RecordBatch.isControl(header.attributes) || RecordBatch.isTransactional(header.attributes)) {
                copy()
                return undefined
              }
              const { records } = RecordBatch.decode(bytes.subarray(at, at + size), 0)
              const hasHorizon = (header.attributes & RecordBatch.Attributes.hasDeleteHorizon) !== 0
              const batchHorizon = hasHorizon ? header.baseTimestamp : -1
              let needsHorizon = false
              const kept = records.filter((r) => {
                if (r.key !== null) {
                  const newest = latest.get(keyString(r.key))
                  if (newest !== undefined && r.offset < newest) return false
                }
                if (r.value === null && r.key !== null) {
                  if (hasHorizon && now >= batchHorizon) return false
                  needsHorizon = true
                }
                return true
              })
              recordsRemoved += records.length - kept.length
              if (kept.length === 0) return undefined
              if (kept.length === records.length && (!needsHorizon || hasHorizon)) {
                copy()
                if (hasHorizon && needsHorizon) nextHorizon = Math.min(nextHorizon ?? batchHorizon, batchHorizon)
                return undefined
              }
              const horizonMs = needsHorizon ? (hasHorizon ? batchHorizon : now + deleteRetention) : undefined
              if (horizonMs !== undefined) nextHorizon = Math.min(nextHorizon ?? horizonMs, horizonMs)
              const out = RecordBatch.encode(
                kept.map((r) => ({
                  key: r.key,
                  value: r.value,
                  headers: r.headers,
                  timestamp: r.timestamp,
                  offsetDelta: r.offset - header.baseOffset
                })),
                {
                  baseOffset: header.baseOffset,
                  partitionLeaderEpoch: header.partitionLeaderEpoch,
                  compression: RecordBatch.compressionOf(header.attributes) as RecordBatch.Compression,
                  logAppendTime: (header.attributes & RecordBatch.Attributes.timestampTypeLogAppendTime) !== 0,
                  producerId: header.producerId,
                  producerEpoch: header.producerEpoch,
                  baseSequence: header.baseSequence,
                  ...(horizonMs !== undefined ? { deleteHorizonMs: horizonMs } : {})
                }
              )
              // keep the batch's offset range (and so the producer's sequence range)
              out.writeInt32BE(header.lastOffsetDelta, RecordBatch.Field.lastOffsetDelta)
              RecordBatch.writeCrc(out, 0, out.length)
              outputs.push({
                batch: out,
                base: header.baseOffset,
                last: header.baseOffset + header.lastOffsetDelta,
                max: RecordBatch.readHeader(out, 0).maxTimestamp
              })
              return undefined
            },
            WRITE_CHUNK
          )
        )
        for (const o of outputs) {
          emit(o.batch, o.base, o.last, o.max)
          if (pendingBytes >= WRITE_CHUNK) yield* flushPending
        }
      }
      yield* flushPending
      if (fresh.size === 0) fresh.nextOffset = base
      yield* fresh.seal()

      // swap among the log's writes (through its owner, or under its lock), unless retention or truncation
      // changed these segments meanwhile; an owner too busy to take it now leaves it to the next pass
      const swapped = yield* log.maintain(
        log.lock.withPermits(1)(
          Effect.gen(function* () {
            if (!log.stillHas(group)) return false
            const p = (suffix: string, tag: string) => Path.join(log.dir, fileName(base, suffix + tag))
            const fail = (e: KafkaStorageError) => log.goOffline(e)
            yield* Effect.gen(function* () {
              yield* log.disk.rename(p(Suffix.index, Suffix.cleaned), p(Suffix.index, Suffix.swap))
              yield* log.disk.rename(p(Suffix.timeIndex, Suffix.cleaned), p(Suffix.timeIndex, Suffix.swap))
              yield* log.disk.rename(p(Suffix.log, Suffix.cleaned), p(Suffix.log, Suffix.swap))
              yield* log.disk.syncDir(log.dir)
              for (const s of group) yield* s.delete()
              yield* log.disk.rename(p(Suffix.log, Suffix.swap), p(Suffix.log, ""))
              yield* log.disk.rename(p(Suffix.index, Suffix.swap), p(Suffix.index, ""))
              yield* log.disk.rename(p(Suffix.timeIndex, Suffix.swap), p(Suffix.timeIndex, ""))
              yield* log.disk.syncDir(log.dir)
            }).pipe(Effect.catchAll(fail))
            fresh.tag = ""
            log.replaceSegments(group, fresh)
            return true
          })
        ),
        false
      )
      if (!swapped) {
        yield* fresh.delete()
        return { segmentsCleaned, bytesRead, bytesWritten, recordsRemoved }
      }
      segmentsCleaned += group.length
    }
    if (nextHorizon !== undefined) horizons.set(log, nextHorizon)
    else horizons.delete(log)
    yield* log.setCleanerCheckpoint(cleanableEnd)
    return { segmentsCleaned, bytesRead, bytesWritten, recordsRemoved }
  })
