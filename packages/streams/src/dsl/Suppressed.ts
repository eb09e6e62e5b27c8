/**
 * Suppression of table updates (Kafka Streams' `Suppressed` and `BufferConfig`): hold each key's latest
 * change in a buffer and emit it later, either once its window has closed (final results of a windowed
 * aggregation) or once a time limit of stream time has passed since the key was first buffered (rate
 * limiting). The buffer has a changelog, so a restart neither loses nor repeats what it holds.
 */
import { Duration } from "effect"

/** What a buffer does when it is full: emit its oldest entries early, or stop the application. */
export type BufferFullStrategy = "emitEarly" | "shutDown"

/** A suppression buffer's bounds (Infinity: unbounded) and what happens when they are exceeded. */
export interface BufferConfig {
  readonly maxRecords: number
  readonly maxBytes: number
  readonly onFull: BufferFullStrategy
  readonly loggingEnabled: boolean
  /** When full, emit the entries with the earliest buffer time first (results may then not be final). */
  emitEarlyWhenFull(): EagerBufferConfig
  /** When full, fail instead of emitting early (keeps results final). */
  shutDownWhenFull(): StrictBufferConfig
  /** The same bounds with a record limit. */
  withMaxRecords(n: number): BufferConfig
  /** The same bounds with a byte limit. */
  withMaxBytes(n: number): BufferConfig
  /** No changelog for the buffer (a restart loses what it held). */
  withLoggingDisabled(): BufferConfig
}

/** A buffer that emits early when full. */
export interface EagerBufferConfig extends BufferConfig {
  readonly onFull: "emitEarly"
}

/** A buffer that never emits early: unbounded, or failing when full. */
export interface StrictBufferConfig extends BufferConfig {
  readonly onFull: "shutDown"
}

const buffer = <S extends BufferFullStrategy>(
  maxRecords: number,
  maxBytes: number,
  onFull: S,
  loggingEnabled = true
): BufferConfig & { readonly onFull: S } => {
  if (!(maxRecords >= 0) || !(maxBytes >= 0)) throw new RangeError("Buffer bounds must not be negative")
  return {
    maxRecords,
    maxBytes,
    onFull,
    loggingEnabled,
    emitEarlyWhenFull: () => buffer(maxRecords, maxBytes, "emitEarly", loggingEnabled),
    shutDownWhenFull: () => buffer(maxRecords, maxBytes, "shutDown", loggingEnabled),
    withMaxRecords: (n) => buffer(n, maxBytes, onFull, loggingEnabled),
    withMaxBytes: (n) => buffer(maxRecords, n, onFull, loggingEnabled),
    withLoggingDisabled: () => buffer(maxRecords, maxBytes, onFull, false)
  }
}

/** Kafka's `BufferConfig` constructors. */
export const BufferConfig = {
  /** At most `n` keys, emitting early when full (`shutDownWhenFull()` to fail instead). */
  maxRecords: (n: number): EagerBufferConfig => buffer(n, Number.POSITIVE_INFINITY, "emitEarly"),
  /** At most `n` bytes of keys and values, emitting early when full. */
  maxBytes: (n: number): EagerBufferConfig => buffer(Number.POSITIVE_INFINITY, n, "emitEarly"),
  /** No bound (memory is the limit). */
  unbounded: (): StrictBufferConfig =>
    buffer(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, "shutDown") as StrictBufferConfig
}

/** How a table's updates are suppressed. */
export type Suppressed =
  | {
      readonly _tag: "UntilWindowCloses"
      readonly name: string | undefined
      readonly buffer: StrictBufferConfig | undefined
    }
  | {
      readonly _tag: "UntilTimeLimit"
      readonly name: string | undefined
      readonly timeLimitMs: number
      readonly buffer: BufferConfig
    }

/** Kafka's `Suppressed` constructors (name the buffer with `withName`). */
export const Suppressed = {
  /** Windowed tables only: one final result per window and key, once stream time passes window end + grace. */
  untilWindowCloses: (buffer: StrictBufferConfig): Suppressed => ({
    _tag: "UntilWindowCloses",
    name: undefined,
    buffer
  }),
  /** Each key's latest value, at most once per `timeLimit` of stream time since the key was first buffered. */
  untilTimeLimit: (timeLimit: Duration.DurationInput, buffer: BufferConfig): Suppressed => ({
    _tag: "UntilTimeLimit",
    name: undefined,
    timeLimitMs: Duration.toMillis(Duration.decode(timeLimit)),
    buffer
  }),
  /** Names the suppression processor (and its buffer store `<name>-store`). */
  withName: (suppressed: Suppressed, name: string): Suppressed => ({ ...suppressed, name })
}
