/**
 * Per-partition producer state: what idempotent and transactional producers have written to one log.
 *
 * For every producer id it keeps the epoch, the metadata of the last {@link BATCHES_KEPT} batches
 * (sequence and offset ranges, to answer a retried batch with its original offsets) and the first
 * offset of the producer's open transaction. From the open transactions follows the partition's last
 * stable offset; ABORT markers feed the aborted-transaction index that read_committed fetches return.
 *
 * The state is rebuilt from batch headers alone (control batches are the only ones whose record is
 * read), so it can be recovered from any point of the log: a snapshot (`<offset>.snapshot`, JSON, in
 * the partition folder) holds the state as of an offset, and the log after it is replayed.
 *
 * Invariants:
 * - The owner (the partition's actor) calls {@link ProducerStateManager.check} before an append and
 *   {@link ProducerStateManager.update} after it, in log order; nothing else mutates the state.
 * - A producer with an open transaction never expires.
 * - Aborted-transaction entries are kept sorted by last offset and dropped once wholly below the log
 *   start offset.
 */
import * as RecordBatch from "../protocol/RecordBatch.js"

/** Batches remembered per producer for duplicate detection (Kafka's value). */
export const BATCHES_KEPT = 5

/** Metadata of one appended batch. */
export interface BatchMetadata {
  readonly firstSeq: number
  readonly lastSeq: number
  readonly firstOffset: number
  readonly lastOffset: number
  readonly timestamp: number
}

/** What is known of one producer on this partition. */
export interface ProducerEntry {
  epoch: number
  batches: Array<BatchMetadata>
  /** First offset of the open transaction, -1 when none. */
  txnFirstOffset: number
  /** Coordinator epoch of the last marker, -1 when none. */
  coordinatorEpoch: number
  /** Broker time of the last write (for expiry). */
  lastTimestamp: number
}

/** An aborted transaction as a read_committed fetch needs it. */
export interface AbortedTxn {
  readonly producerId: number
  readonly firstOffset: number
  readonly lastOffset: number
}

/** The verdict on a batch about to be appended. */
export type CheckResult =
  | { readonly _tag: "Append" }
  | { readonly _tag: "Duplicate"; readonly firstOffset: number; readonly lastOffset: number }
  | { readonly _tag: "InvalidProducerEpoch"; readonly message: string }
  | { readonly _tag: "OutOfOrderSequence"; readonly message: string }
  | { readonly _tag: "InvalidTxnState"; readonly message: string }

const APPEND: CheckResult = { _tag: "Append" }

/** `seq + n` in int32 sequence space (wrapping at 2^31 to 0). */
const addSeq = (seq: number, n: number): number => (seq + n) % 0x80000000

/** The snapshot file of an offset: 20 digits, as Kafka names it. */
export const snapshotFileName = (offset: number): string => `${String(offset).padStart(20, "0")}.snapshot`

/** The offset a snapshot file name stands for, or undefined for other files. */
export const snapshotOffset = (name: string): number | undefined => {
  const m = /^(\d{20})\.snapshot$/.exec(name)
  return m ? Number(m[1]) : undefined
}

interface SnapshotJson {
  readonly version: 1
  readonly offset: number
  readonly producers: ReadonlyArray<readonly [number, ProducerEntry]>
  readonly aborted: ReadonlyArray<AbortedTxn>
}

const isInt = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v)

/** Structural check of a parsed snapshot (a file cut short or edited by hand must not load half). */
const isSnapshotJson = (json: unknown): json is SnapshotJson => {
  if (typeof json !== "object" || json === null) return false
  const j = json as { [K in keyof SnapshotJson]?: unknown }
  if (j.version !== 1 || !isInt(j.offset) || !Array.isArray(j.producers) || !Array.isArray(j.aborted)) return false
  const batchOk = (b: unknown) => {
    if (typeof b !== "object" || b === null) return false
    const x = b as { [K in keyof BatchMetadata]?: unknown }
    return isInt(x.firstSeq) && isInt(x.lastSeq) && isInt(x.firstOffset) && isInt(x.lastOffset) && isInt(x.timestamp)
  }
  const producerOk = (p: unknown) => {
    if (!Array.isArray(p) || p.length !== 2 || !isInt(p[0]) || typeof p[1] !== "object" || p[1] === null) return false
    const e = p[1] as { [K in keyof ProducerEntry]?: unknown }
    return (
      isInt(e.epoch) &&
      isInt(e.txnFirstOffset) &&
      isInt(e.coordinatorEpoch) &&
      isInt(e.lastTimestamp) &&
      Array.isArray(e.batches) &&
      e.batches.every(batchOk)
    )
  }
  const abortedOk = (a: unknown) => {
    if (typeof a !== "object" || a === null) return false
    const x = a as { [K in keyof AbortedTxn]?: unknown }
    return isInt(x.producerId) && isInt(x.firstOffset) && isInt(x.lastOffset)
  }
  return j.producers.every(producerOk) && j.aborted.every(abortedOk)
}

/** The producer state of one partition. */
export class ProducerStateManager {
  readonly producers = new Map<number, ProducerEntry>()
  /** Sorted by lastOffset. */
  aborted: Array<AbortedTxn> = []
  /** Every offset below it has been applied. */
  mapEndOffset = 0

  /** Checks a batch's header against the producer's state (no change is made). */
  check(h: RecordBatch.RecordBatchHeader): CheckResult {
    if (h.producerId < 0) return APPEND
    const entry = this.producers.get(h.producerId)
    const control = RecordBatch.isControl(h.attributes)
    if (entry === undefined) return APPEND
    if (h.producerEpoch < entry.epoch) {
      return {
        _tag: "InvalidProducerEpoch",
        message: `Producer ${h.producerId}'s epoch ${h.producerEpoch} is older than the current epoch ${entry.epoch}`
      }
    }
    if (control || h.baseSequence < 0) return APPEND
    const lastSeq = addSeq(h.baseSequence, h.lastOffsetDelta)
    if (h.producerEpoch > entry.epoch) {
      if (h.baseSequence !== 0 && entry.batches.length > 0) {
        return {
          _tag: "OutOfOrderSequence",
          message: `A new epoch ${h.producerEpoch} of producer ${h.producerId} must start at sequence 0, got ${h.baseSequence}`
        }
      }
      return APPEND
    }
    for (const b of entry.batches) {
      if (b.firstSeq === h.baseSequence && b.lastSeq === lastSeq) {
        return { _tag: "Duplicate", firstOffset: b.firstOffset, lastOffset: b.lastOffset }
      }
    }
    const last = entry.batches[entry.batches.length - 1]
    if (last !== undefined && h.baseSequence !== addSeq(last.lastSeq, 1)) {
      return {
        _tag: "OutOfOrderSequence",
        message: `Out of order sequence number for producer ${h.producerId}: expected ${addSeq(last.lastSeq, 1)}, got ${h.baseSequence}`
      }
    }
    if (entry.txnFirstOffset >= 0 && !RecordBatch.isTransactional(h.attributes)) {
      return {
        _tag: "InvalidTxnState",
        message: `Producer ${h.producerId} has an open transaction and wrote a non-transactional batch`
      }
    }
    return APPEND
  }

  /**
   * Applies an appended batch (its header with the assigned base offset). For a control batch,
   * `control` is its marker type and coordinator epoch.
   */
  update(
    h: RecordBatch.RecordBatchHeader,
    now: number,
    control?: { readonly type: number; readonly coordinatorEpoch: number }
  ): void {
    const lastOffset = h.baseOffset + h.lastOffsetDelta
    if (lastOffset + 1 > this.mapEndOffset) this.mapEndOffset = lastOffset + 1
    if (h.producerId < 0) return
    let entry = this.producers.get(h.producerId)
    if (entry === undefined) {
      entry = { epoch: h.producerEpoch, batches: [], txnFirstOffset: -1, coordinatorEpoch: -1, lastTimestamp: now }
      this.producers.set(h.producerId, entry)
    }
    if (h.producerEpoch > entry.epoch) {
      entry.epoch = h.producerEpoch
      entry.batches = []
    }
    entry.lastTimestamp = now
    if (RecordBatch.isControl(h.attributes)) {
      if (control === undefined) return
      if (control.type === RecordBatch.ControlType.ABORT || control.type === RecordBatch.ControlType.COMMIT) {
        if (entry.txnFirstOffset >= 0 && control.type === RecordBatch.ControlType.ABORT) {
          this.addAborted({ producerId: h.producerId, firstOffset: entry.txnFirstOffset, lastOffset: h.baseOffset })
        }
        entry.txnFirstOffset = -1
        entry.coordinatorEpoch = control.coordinatorEpoch
      }
      return
    }
    if (RecordBatch.isTransactional(h.attributes) && entry.txnFirstOffset < 0) entry.txnFirstOffset = h.baseOffset
    if (h.baseSequence >= 0) {
      entry.batches.push({
        firstSeq: h.baseSequence,
        lastSeq: addSeq(h.baseSequence, h.lastOffsetDelta),
        firstOffset: h.baseOffset,
        lastOffset,
        timestamp: h.maxTimestamp
      })
      if (entry.batches.length > BATCHES_KEPT) entry.batches.shift()
    }
  }

  private addAborted(a: AbortedTxn): void {
    const list = this.aborted
    let i = list.length
    while (i > 0 && list[i - 1]!.lastOffset > a.lastOffset) i--
    list.splice(i, 0, a)
  }

  /** First offset of the oldest open transaction, or undefined when none is open. */
  firstUnstableOffset(): number | undefined {
    let min: number | undefined
    for (const e of this.producers.values()) {
      if (e.txnFirstOffset >= 0 && (min === undefined || e.txnFirstOffset < min)) min = e.txnFirstOffset
    }
    return min
  }

  /** Aborted transactions overlapping `[fetchOffset, upperOffset)`, oldest first. */
  abortedTransactions(
    fetchOffset: number,
    upperOffset: number
  ): Array<{ readonly producerId: number; readonly firstOffset: number }> {
    const out: Array<{ readonly producerId: number; readonly firstOffset: number }> = []
    const list = this.aborted
    // first entry whose lastOffset >= fetchOffset
    let lo = 0
    let hi = list.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (list[mid]!.lastOffset < fetchOffset) lo = mid + 1
      else hi = mid
    }
    for (let i = lo; i < list.length; i++) {
      const a = list[i]!
      if (a.firstOffset < upperOffset) out.push({ producerId: a.producerId, firstOffset: a.firstOffset })
    }
    return out
  }

  /** Forgets producers idle since before `now - expirationMs` that have no open transaction; returns how many. */
  removeExpired(now: number, expirationMs: number): number {
    let n = 0
    for (const [id, e] of this.producers) {
      if (e.txnFirstOffset < 0 && now - e.lastTimestamp >= expirationMs) {
        this.producers.delete(id)
        n++
      }
    }
    return n
  }

  /** Drops aborted-index entries wholly below the log start offset. */
  onLogStartOffset(logStartOffset: number): void {
    let i = 0
    while (i < this.aborted.length && this.aborted[i]!.lastOffset < logStartOffset) i++
    if (i > 0) this.aborted = this.aborted.slice(i)
  }

  /** Forgets everything (before a rebuild). */
  clear(offset = 0): void {
    this.producers.clear()
    this.aborted = []
    this.mapEndOffset = offset
  }

  /**
   * Applies the batches of `buf` (whole batches as read from the log) at or after `mapEndOffset`;
   * `now` stamps the producers seen (expiry counts from recovery).
   */
  replay(buf: Uint8Array, now: number): void {
    for (let pos = 0; pos + RecordBatch.HEADER_SIZE <= buf.length; ) {
      const size = RecordBatch.sizeAt(buf, pos)
      if (size < RecordBatch.HEADER_SIZE || pos + size > buf.length) return
      const h = RecordBatch.readHeader(buf, pos)
      if (h.baseOffset + h.lastOffsetDelta >= this.mapEndOffset) {
        let control: { type: number; coordinatorEpoch: number } | undefined
        if (RecordBatch.isControl(h.attributes)) {
          try {
            for (const r of RecordBatch.records(buf.subarray(pos, pos + size))) {
              control = RecordBatch.decodeControlRecord(r)
              break
            }
          } catch {
            control = undefined
          }
        }
        this.update(h, now, control)
      }
      pos += size
    }
  }

  /** The state as a snapshot file's bytes. */
  encodeSnapshot(): Buffer {
    const json: SnapshotJson = {
      version: 1,
      offset: this.mapEndOffset,
      producers: [...this.producers.entries()],
      aborted: this.aborted
    }
    return Buffer.from(JSON.stringify(json), "utf8")
  }

  /** Replaces the state with a snapshot's; false (state untouched) when the bytes are not a valid snapshot. */
  loadSnapshot(bytes: Uint8Array): boolean {
    let json: unknown
    try {
      json = JSON.parse(Buffer.from(bytes).toString("utf8"))
    } catch {
      return false
    }
    if (!isSnapshotJson(json)) return false
    this.clear(json.offset)
    for (const [id, e] of json.producers) this.producers.set(id, { ...e, batches: [...e.batches] })
    this.aborted = [...json.aborted]
    return true
  }
}
