/**
 * The simulated disk of one broker: per partition, the log (one record per batch: offset, leader epoch, value,
 * CRC) and its leader epoch cache (the log module's real `LeaderEpochCache`), with the prefix already synced.
 *
 * A process kill keeps everything written (the page cache survives); a machine crash loses the unsynced tail of
 * every log (and the epoch entries that started in it); a lost disk comes back empty. A stalled disk holds
 * writes and syncs until it recovers; a failed disk fails every write (the broker halts, as Kafka does when its
 * only log directory goes offline).
 *
 * Invariants: `synced <= batches.length`; the epoch cache never names an offset past the log end; batches hold
 * consecutive offsets from 0.
 */
import { LeaderEpochCache } from "../../src/log/LeaderEpochCache.js"
import type { BatchView } from "../../src/testing/ReplicationChecker.js"
import { hashString } from "./Prng.js"

/** One record batch (one record) of a replica's log. */
export interface Batch {
  readonly offset: number
  readonly epoch: number
  readonly value: string
  readonly crc: number
}

/** A batch's CRC stand-in: a hash of what it holds. */
export const crcOf = (offset: number, epoch: number, value: string): number => hashString(`${offset}:${epoch}:${value}`)

/** One partition's files. */
export class PartitionFiles {
  readonly batches: Array<Batch> = []
  /** The batches as the replication checker sees them (kept beside the log, so snapshots copy nothing). */
  readonly views: Array<BatchView> = []
  epochs = new LeaderEpochCache()
  synced = 0
  /** The high watermark last checkpointed (Kafka's `replication-offset-checkpoint`). */
  checkpointedHw = 0
  /** The largest leader epoch the broker learned for this partition (kept as KRaft's local metadata log). */
  knownEpoch = -1

  /** The log end offset. */
  get logEndOffset(): number {
    return this.batches.length
  }

  /** Appends a batch at the log end (its epoch recorded in the epoch cache). */
  append(batch: Batch): void {
    if (batch.offset !== this.batches.length)
      throw new Error(`append at ${batch.offset}, log end ${this.batches.length}`)
    this.batches.push(batch)
    this.views.push({ baseOffset: batch.offset, lastOffset: batch.offset, leaderEpoch: batch.epoch, crc: batch.crc })
    this.epochs.assign(batch.epoch, batch.offset)
  }

  /** Removes every batch at or after `offset`. */
  truncateTo(offset: number): void {
    if (offset >= this.batches.length) return
    this.batches.length = Math.max(0, offset)
    this.views.length = this.batches.length
    this.epochs.truncateFromEnd(this.batches.length)
    this.synced = Math.min(this.synced, this.batches.length)
    this.checkpointedHw = Math.min(this.checkpointedHw, this.batches.length)
  }
}

/** Disk health: a failed disk fails every write. */
export type DiskHealth = "ok" | "failed"

/** One broker's disk. */
export class Disk {
  private readonly files = new Map<string, PartitionFiles>()
  health: DiskHealth = "ok"
  /** Writes and syncs wait until this virtual time. */
  stalledUntil = 0

  /** The files of a partition (created empty). */
  partition(key: string): PartitionFiles {
    let f = this.files.get(key)
    if (f === undefined) {
      f = new PartitionFiles()
      this.files.set(key, f)
    }
    return f
  }

  /** Makes every write durable (a periodic flush); nothing happens on a stalled or failed disk. */
  sync(now: number): void {
    if (this.health !== "ok" || this.stalledUntil > now) return
    for (const f of this.files.values()) f.synced = f.batches.length
  }

  /** A machine crash: every log loses its unsynced tail. */
  loseUnsynced(): void {
    for (const f of this.files.values()) f.truncateTo(f.synced)
  }

  /** The disk is replaced by an empty one. */
  wipe(): void {
    this.files.clear()
    this.health = "ok"
    this.stalledUntil = 0
  }
}
