/**
 * Replay of an internal topic's partition (`__consumer_offsets`, `__transaction_state`) at start: every
 * batch from the log start to the log end, handed to a visitor record by record.
 *
 * Invariants:
 * - Nothing a record holds can stop a replay: a record the visitor cannot read (it throws), or a batch
 *   whose records cannot be decoded (a bad compressed section, lying lengths), is logged with its
 *   topic-partition and offset, skipped and counted, and the replay goes on with the next one. Only
 *   reading the log itself (a storage error) fails it.
 * - At most {@link LOGGED_PER_PARTITION} skips are logged one by one per partition; the count covers all.
 */
import { Effect } from "effect"
import type { Log } from "../../log/Log.js"
import type { LogError } from "../../log/LogError.js"
import * as RecordBatch from "../../protocol/RecordBatch.js"

/** Skipped records logged one by one per partition; past that only the count grows. */
export const LOGGED_PER_PARTITION = 10

const READ_BYTES = 4 << 20

/** What a replay hands its caller. */
export interface Visitor {
  /** A control batch (transaction marker) and its record; may throw to have it skipped. */
  readonly control?: (header: RecordBatch.RecordBatchHeader, record: RecordBatch.Record) => void
  /** A data record with a key, at or past the replay's position; may throw to have it skipped. */
  readonly record: (header: RecordBatch.RecordBatchHeader, record: RecordBatch.Record & { key: Uint8Array }) => void
}

const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/**
 * Replays `log` (partition `tp`, e.g. `__consumer_offsets-3`) into `visitor`; the number of records
 * (or undecodable batches) skipped. Each skip is logged as a warning naming `tp` and the offset.
 */
export const replayLog = (log: Log, tp: string, visitor: Visitor): Effect.Effect<number, LogError> =>
  Effect.gen(function* () {
    let offset = log.logStartOffset
    const end = log.logEndOffset
    let skipped = 0
    const warnings: Array<string> = []
    const skip = (at: number, what: string, e: unknown) => {
      skipped++
      if (skipped <= LOGGED_PER_PARTITION) {
        warnings.push(`Replay of ${tp} skipped ${what} at offset ${at} it cannot read: ${describe(e)}`)
      }
    }
    while (offset < end) {
      const read = yield* log.read(offset, READ_BYTES, { maxOffset: end })
      if (read.records.length === 0 || read.nextOffset <= offset) break
      let batches: ReturnType<typeof RecordBatch.headers> = []
      try {
        batches = RecordBatch.headers(read.records)
      } catch (e) {
        skip(read.firstOffset, "the batches", e)
      }
      for (const { position, header } of batches) {
        if (RecordBatch.lastOffset(header) < offset) continue
        const control = RecordBatch.isControl(header.attributes)
        if (control && visitor.control === undefined) continue
        // the offset of the next record: where a batch whose records stop decoding is reported
        let at = header.baseOffset
        try {
          for (const r of RecordBatch.records(read.records, position)) {
            at = r.offset + 1
            if (r.offset < offset) continue
            try {
              if (control) visitor.control!(header, r)
              else if (r.key !== null) visitor.record(header, r as RecordBatch.Record & { key: Uint8Array })
            } catch (e) {
              skip(r.offset, "a record", e)
            }
          }
        } catch (e) {
          skip(at, "a batch", e)
        }
      }
      offset = read.nextOffset
      for (const w of warnings.splice(0)) yield* Effect.logWarning(w)
    }
    if (skipped > LOGGED_PER_PARTITION) {
      yield* Effect.logWarning(`Replay of ${tp} skipped ${skipped} unreadable records in all`)
    }
    return skipped
  })
