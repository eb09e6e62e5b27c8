/**
 * The leader epoch cache: for each leader epoch, the first offset written in it. Replication uses it
 * to answer OffsetForLeaderEpoch and to truncate a follower safely.
 *
 * Stored in the partition folder as `leader-epoch-checkpoint`, Kafka's text format: a version line
 * (`0`), a count line, then one `epoch startOffset` line per entry.
 */

/** One entry: `epoch` started at `startOffset`. */
export interface EpochEntry {
  readonly epoch: number
  readonly startOffset: number
}

/** Kafka's UNDEFINED_EPOCH and UNDEFINED_EPOCH_OFFSET. */
export const UNDEFINED_EPOCH = -1
/** Kafka's UNDEFINED_EPOCH_OFFSET. */
export const UNDEFINED_EPOCH_OFFSET = -1

/** The answer to OffsetForLeaderEpoch. */
export interface EpochEndOffset {
  readonly leaderEpoch: number
  readonly endOffset: number
}

/** The file name of the checkpoint. */
export const FILE_NAME = "leader-epoch-checkpoint"

/** An ordered list of epochs and their start offsets (epochs and offsets both increasing). */
export class LeaderEpochCache {
  private list: Array<EpochEntry>

  constructor(entries: ReadonlyArray<EpochEntry> = []) {
    this.list = entries.slice()
  }

  /** The entries, oldest first. */
  get entries(): ReadonlyArray<EpochEntry> {
    return this.list
  }

  /** The latest epoch, or -1. */
  get latestEpoch(): number {
    return this.list.length === 0 ? UNDEFINED_EPOCH : this.list[this.list.length - 1]!.epoch
  }

  /**
   * Records that `epoch` starts at `startOffset`. Ignored unless the epoch is newer than the latest one;
   * entries starting at or after `startOffset` (left by a truncation not yet seen) are dropped first.
   * Returns whether the cache changed.
   */
  assign(epoch: number, startOffset: number): boolean {
    if (epoch < 0 || epoch <= this.latestEpoch) return false
    while (this.list.length > 0 && this.list[this.list.length - 1]!.startOffset >= startOffset) this.list.pop()
    this.list.push({ epoch, startOffset })
    return true
  }

  /** Drops entries starting at or after `endOffset` (the log was truncated to it). Returns whether it changed. */
  truncateFromEnd(endOffset: number): boolean {
    const n = this.list.length
    while (this.list.length > 0 && this.list[this.list.length - 1]!.startOffset >= endOffset) this.list.pop()
    return this.list.length !== n
  }

  /**
   * Drops entries wholly before `startOffset` (the log start moved): the last entry at or before it is
   * kept, starting at `startOffset`. Returns whether it changed.
   */
  truncateFromStart(startOffset: number): boolean {
    let i = 0
    while (i + 1 < this.list.length && this.list[i + 1]!.startOffset <= startOffset) i++
    const first = this.list[i]
    if (!first || first.startOffset >= startOffset) return false
    this.list = [{ epoch: first.epoch, startOffset }, ...this.list.slice(i + 1)]
    return true
  }

  /**
   * OffsetForLeaderEpoch: for the largest known epoch <= `requested`, the offset where the next epoch
   * starts (or `logEndOffset` for the latest epoch). Unknown: `(-1, -1)`.
   */
  endOffsetFor(requested: number, logEndOffset: number): EpochEndOffset {
    if (requested === UNDEFINED_EPOCH || this.list.length === 0) {
      return { leaderEpoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET }
    }
    if (requested === this.latestEpoch) return { leaderEpoch: requested, endOffset: logEndOffset }
    const higher = this.list.findIndex((e) => e.epoch > requested)
    if (higher < 0) return { leaderEpoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET }
    const next = this.list[higher]!
    if (higher === 0) return { leaderEpoch: requested, endOffset: next.startOffset }
    return { leaderEpoch: this.list[higher - 1]!.epoch, endOffset: next.startOffset }
  }

  /** The checkpoint file's text. */
  encode(): string {
    return `0\n${this.list.length}\n${this.list.map((e) => `${e.epoch} ${e.startOffset}\n`).join("")}`
  }

  /** Parses a checkpoint file; undefined when it is malformed. */
  static decode(text: string): LeaderEpochCache | undefined {
    const lines = text.split("\n").filter((l) => l.trim() !== "")
    if (lines[0]?.trim() !== "0") return undefined
    const n = Number(lines[1])
    if (!Number.isInteger(n) || lines.length !== n + 2) return undefined
    const entries: Array<EpochEntry> = []
    for (const line of lines.slice(2)) {
      const [e, o] = line.trim().split(/\s+/).map(Number)
      if (!Number.isSafeInteger(e) || !Number.isSafeInteger(o)) return undefined
      entries.push({ epoch: e!, startOffset: o! })
    }
    for (let i = 1; i < entries.length; i++) {
      if (entries[i]!.epoch <= entries[i - 1]!.epoch || entries[i]!.startOffset < entries[i - 1]!.startOffset) {
        return undefined
      }
    }
    return new LeaderEpochCache(entries)
  }
}
