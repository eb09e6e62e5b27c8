/**
 * Opening a partition folder: finish or discard interrupted compaction swaps, load segments, and
 * after an unclean shutdown scan every segment from the recovery point on (header, length, CRC and
 * offsets of every batch), truncating a torn or corrupt tail (and deleting the segments after it)
 * with a logged warning, and rebuilding missing or invalid indexes. A clean shutdown leaves a marker
 * (`.kafka_cleanshutdown`) so that the next open only checks the indexes and the tail after the last
 * index entry.
 */
import * as Path from "node:path"
import { Effect, Option } from "effect"
import * as Checkpoint from "./internal/checkpoint.js"
import type { Disk } from "./internal/disk.js"
import * as LeaderEpochCache from "./LeaderEpochCache.js"
import type { KafkaStorageError } from "./LogError.js"
import { fileName, parseFileName, Segment, type SegmentLimits, Suffix } from "./Segment.js"

/** The state of a partition folder after recovery. */
export interface Loaded {
  /** Segments, oldest first; never empty (the last is active). */
  readonly segments: Array<Segment>
  readonly logStartOffset: number
  readonly logEndOffset: number
  readonly epochCache: LeaderEpochCache.LeaderEpochCache
  /** Offsets below it are flushed: the base of the active segment. */
  readonly recoveryPoint: number
  /** True when the folder held a clean-shutdown marker (no scan was needed). */
  readonly cleanShutdown: boolean
  /** Bytes dropped by recovery (torn or corrupt tails and the segments after them). */
  readonly truncatedBytes: number
  /** Compaction progress: offsets below it have been cleaned. */
  readonly cleanerCheckpoint: number
}

const deleteSegmentFiles = (disk: Disk, dir: string, base: number, tag = "") =>
  Effect.gen(function* () {
    yield* disk.remove(Path.join(dir, fileName(base, Suffix.log + tag)))
    yield* disk.remove(Path.join(dir, fileName(base, Suffix.index + tag)))
    yield* disk.remove(Path.join(dir, fileName(base, Suffix.timeIndex + tag)))
  })

/** Loads (and if needed recovers) the log in `dir`, creating the folder when missing. */
export const load = (options: {
  readonly disk: Disk
  readonly dir: string
  readonly limits: SegmentLimits
  readonly now: number
}): Effect.Effect<Loaded, KafkaStorageError> =>
  Effect.gen(function* () {
    const { disk, dir, limits, now } = options
    yield* disk.mkdir(dir)
    let names = yield* disk.list(dir)
    const cleanShutdown = names.includes(Checkpoint.CLEAN_SHUTDOWN)

    // leftovers of interrupted work
    for (const name of names) {
      if (name.endsWith(Suffix.cleaned) || name.endsWith(Suffix.deleted) || name.endsWith(".tmp")) {
        yield* disk.remove(Path.join(dir, name))
      }
    }
    // a compaction swap is complete once its `.log.swap` exists: finish replacing the segments it covers
    for (const name of names) {
      const parsed = parseFileName(name)
      if (!parsed || parsed.suffix !== Suffix.log + Suffix.swap) continue
      const base = parsed.baseOffset
      const swapped = yield* Segment.open(disk, dir, base, limits, now, Suffix.swap)
      yield* swapped.recover(base, () => {})
      const end = swapped.nextOffset
      yield* swapped.close()
      for (const other of names) {
        const p = parseFileName(other)
        if (p && p.suffix === Suffix.log && p.baseOffset >= base && p.baseOffset < end) {
          yield* deleteSegmentFiles(disk, dir, p.baseOffset)
        }
      }
      yield* disk.rename(Path.join(dir, name), Path.join(dir, fileName(base, Suffix.log)))
      for (const suffix of [Suffix.index, Suffix.timeIndex]) {
        const from = Path.join(dir, fileName(base, suffix + Suffix.swap))
        if (yield* disk.exists(from)) yield* disk.rename(from, Path.join(dir, fileName(base, suffix)))
      }
      yield* Effect.logWarning(`${dir}: completed an interrupted compaction swap at offset ${base}`)
    }
    names = yield* disk.list(dir)
    for (const name of names) if (name.endsWith(Suffix.swap)) yield* disk.remove(Path.join(dir, name))

    const bases: Array<number> = []
    const logs = new Set<number>()
    for (const name of names) {
      const p = parseFileName(name)
      if (p?.suffix === Suffix.log) logs.add(p.baseOffset)
    }
    for (const name of names) {
      const p = parseFileName(name)
      if (!p) continue
      if (p.suffix === Suffix.log) bases.push(p.baseOffset)
      else if ((p.suffix === Suffix.index || p.suffix === Suffix.timeIndex) && !logs.has(p.baseOffset)) {
        yield* disk.remove(Path.join(dir, name))
      }
    }
    bases.sort((a, b) => a - b)

    const startCheckpoint = Option.getOrElse(yield* Checkpoint.read(disk, dir, Checkpoint.LOG_START_OFFSET), () => 0)
    const recoveryCheckpoint = Option.getOrElse(yield* Checkpoint.read(disk, dir, Checkpoint.RECOVERY_POINT), () => 0)
    const cleanerCheckpoint = Option.getOrElse(yield* Checkpoint.read(disk, dir, Checkpoint.CLEANER_OFFSET), () => 0)
    const epochFile = yield* disk.readFile(Path.join(dir, LeaderEpochCache.FILE_NAME))
    const epochCache = Option.match(epochFile, {
      onNone: () => new LeaderEpochCache.LeaderEpochCache(),
      onSome: (b) =>
        LeaderEpochCache.LeaderEpochCache.decode(Buffer.from(b).toString("utf8")) ??
        new LeaderEpochCache.LeaderEpochCache()
    })
    const epochsBefore = epochCache.encode()

    const segments: Array<Segment> = []
    const recovered = new Set<Segment>()
    let truncatedBytes = 0
    for (let i = 0; i < bases.length; i++) {
      const base = bases[i]!
      const segment = yield* Segment.open(disk, dir, base, limits, now)
      const prev = segments[segments.length - 1]
      const minOffset = prev ? prev.nextOffset : 0
      const isLast = i === bases.length - 1
      const trusted = cleanShutdown || (base < recoveryCheckpoint && !isLast)
      let ok = trusted ? yield* segment.loadClean() : false
      if (ok && segment.baseOffset < minOffset) ok = false
      if (!ok) {
        const result = yield* segment.recover(minOffset, (h) => {
          epochCache.assign(h.partitionLeaderEpoch, h.baseOffset)
        })
        recovered.add(segment)
        if (result.truncatedBytes > 0 || result.stop) {
          truncatedBytes += result.truncatedBytes
          yield* Effect.logWarning(
            `${dir}: recovery truncated segment ${base} at position ${result.stop?.position ?? segment.size}, ` +
              `dropping ${result.truncatedBytes} bytes (${result.stop?.reason ?? "corrupt tail"})`
          )
          segments.push(segment)
          // everything after a corrupt batch is dropped: later segments cannot be trusted to follow it
          for (const later of bases.slice(i + 1)) {
            const s = yield* Segment.open(disk, dir, later, limits, now)
            truncatedBytes += s.size
            yield* Effect.logWarning(
              `${dir}: recovery deleted segment ${later} (${s.size} bytes) after a corrupt batch`
            )
            yield* s.delete()
          }
          break
        }
      }
      if (segment.size === 0 && !isLast) {
        // an empty segment that is not the last one holds nothing: drop it
        yield* segment.delete()
        continue
      }
      segments.push(segment)
    }

    if (segments.length === 0) {
      segments.push(yield* Segment.create(disk, dir, startCheckpoint, limits, now))
    }
    const active = segments[segments.length - 1]!
    const logEndOffset = active.nextOffset
    const logStartOffset = Math.min(Math.max(startCheckpoint, segments[0]!.baseOffset), logEndOffset)

    epochCache.truncateFromEnd(logEndOffset)
    epochCache.truncateFromStart(logStartOffset)
    if (epochCache.encode() !== epochsBefore) {
      yield* disk.writeFileAtomic(Path.join(dir, LeaderEpochCache.FILE_NAME), Buffer.from(epochCache.encode(), "utf8"))
    }
    // recovered segments that are no longer active get their rebuilt indexes on disk now
    for (const s of segments) if (s !== active && recovered.has(s)) yield* s.seal()
    if (recoveryCheckpoint !== active.baseOffset) {
      yield* Checkpoint.write(disk, dir, Checkpoint.RECOVERY_POINT, active.baseOffset)
    }
    if (cleanShutdown) {
      yield* disk.remove(Path.join(dir, Checkpoint.CLEAN_SHUTDOWN))
      yield* disk.syncDir(dir)
    }
    return {
      segments,
      logStartOffset,
      logEndOffset,
      epochCache,
      recoveryPoint: active.baseOffset,
      cleanShutdown,
      truncatedBytes,
      cleanerCheckpoint
    }
  })
