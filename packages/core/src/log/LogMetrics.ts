/**
 * The log's timings, as Effect `Metric`s in the process-wide registry (the broker exports them; see
 * docs/operations.md). They are recorded whether or not the broker serves metrics: one histogram update
 * per fsync is nothing beside the fsync. Durations come from `Clock` (`Metric.trackDurationWith`).
 */
import { Duration, type Effect, Metric, MetricBoundaries } from "effect"

/** Buckets in milliseconds: 0.01 ms to about 10 s, doubling (as the broker's request timers). */
const boundaries = MetricBoundaries.exponential({ start: 0.01, factor: 2, count: 21 })

/** Time of one log flush: the flush policy's shared fsync of the active segment, or a scheduled flush (Kafka: LogFlushRateAndTimeMs). */
export const logFlushTime = Metric.histogram(
  "kafka_log_logflushstats_logflushrateandtimems",
  boundaries,
  "Milliseconds per log flush (the flush.messages and flush.ms policy, scheduled flushes)"
)

/** Time of one fsync of a log file, index, checkpoint or directory (no Kafka equivalent). */
export const fsyncTime = Metric.histogram(
  "eddy_log_fsync_time_ms",
  boundaries,
  "Milliseconds per fsync system call on the data directory's files and folders"
)

/** Records how long `self` took in `histogram`, in milliseconds. */
export const timed =
  (histogram: Metric.Metric.Histogram<number>) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Metric.trackDurationWith(self, histogram, Duration.toMillis)
