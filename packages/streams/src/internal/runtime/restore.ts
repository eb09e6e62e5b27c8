/**
 * Restores a task's logged stores from their changelog partitions before the task processes records: every
 * record from the checkpointed offset (a persistent store's) or the start of the partition to its end (read_committed under exactly-once, so aborted writes
 * are skipped), written straight into the byte store.
 */

import type * as Fetcher from "@eddy/core/client/Fetcher"
import * as Topic from "@eddy/core/client/Topic"
import { Duration, Effect } from "effect"
import type { RestorableStore } from "../store/WindowedStores.js"

/** Restore progress reported to a restore listener. */
export interface RestoreListener {
  readonly onRestoreStart?: (topic: string, partition: number, store: string, start: number, end: number) => void
  readonly onBatchRestored?: (topic: string, partition: number, store: string, batchEnd: number, count: number) => void
  readonly onRestoreEnd?: (topic: string, partition: number, store: string, total: number) => void
}

/**
 * Replays `topic`'s `partition` into `store` from `from` (a checkpointed offset; the partition's start when
 * undefined, below the start, or past the end) to the end; returns the number of records restored.
 */
export const restoreStore = (
  fetcher: Fetcher.Fetcher,
  topic: string,
  partition: number,
  store: RestorableStore,
  listener: RestoreListener = {},
  from?: number
) =>
  Effect.gen(function* () {
    const raw = Topic.raw(topic)
    const earliest = (yield* fetcher.resolveOffsets(topic, [{ partition, offset: "earliest" }])).get(partition) ?? 0
    const end = (yield* fetcher.resolveOffsets(topic, [{ partition, offset: "latest" }])).get(partition) ?? 0
    const start = from === undefined || from < earliest || from > end ? earliest : from
    listener.onRestoreStart?.(topic, partition, store.name, start, end)
    let position = start
    let total = 0
    while (position < end) {
      const round = yield* fetcher.fetchOnce(raw, new Map([[partition, position]]))
      for (const r of round.records) {
        if (r.offset >= end) break
        if (r.key !== null) store.restore(r.key, r.value, r.timestamp)
        total++
      }
      // a persistent store keeps writes in memory until flushed: one durable transaction per batch
      if (round.records.length > 0) store.inner.flush()
      const next = round.positions.get(partition) ?? position
      if (next === position && round.records.length === 0) yield* Effect.sleep(Duration.millis(50))
      else listener.onBatchRestored?.(topic, partition, store.name, next, round.records.length)
      position = next
    }
    listener.onRestoreEnd?.(topic, partition, store.name, total)
    return total
  })
