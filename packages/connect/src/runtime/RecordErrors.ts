/**
 * Record-level error handling of a task (Kafka's RetryWithToleranceOperator): an operation of a stage
 * (converting, transforming, putting) is retried while it fails with a RetriableError, with backoff up to
 * `errors.retry.delay.max.ms`, for at most `errors.retry.timeout` ms; a failure then either fails the task
 * (`errors.tolerance=none`) or skips the record (`all`), logged per `errors.log.*` and, for sinks, sent to
 * the dead letter queue.
 */
import { Duration, Effect, Schedule } from "effect"
import { ConnectError, RetriableError, traceOf } from "../plugin/ConnectError.js"
import type { ErrorSettings } from "./ConnectorConfig.js"

/** Kafka's error stages (the `__connect.errors.stage` header). */
export type Stage =
  | "TASK_POLL"
  | "TASK_PUT"
  | "TRANSFORMATION"
  | "KEY_CONVERTER"
  | "VALUE_CONVERTER"
  | "HEADER_CONVERTER"
  | "KAFKA_PRODUCE"
  | "KAFKA_CONSUME"

/** A failed record operation with its stage and the class that failed. */
export interface Failure {
  readonly stage: Stage
  readonly className: string
  readonly error: unknown
}

/** A failed synchronous stage, returned (not thrown) by `attempt` so the per-record path stays synchronous. */
export class StageFailure {
  constructor(readonly failure: Failure) {}
}

/** Runs a synchronous stage operation; a throw becomes a StageFailure value. */
export const attempt = <A>(stage: Stage, className: string, f: () => A): A | StageFailure => {
  try {
    return f()
  } catch (error) {
    return new StageFailure({ stage, className, error })
  }
}

/** What to report about a record when a stage fails: its coordinates and, for sinks, its raw bytes. */
export interface RecordContext {
  readonly description: string
  readonly report?: (failure: Failure) => Effect.Effect<void, ConnectError>
}

/** The retry schedule of `errors.retry.timeout` / `errors.retry.delay.max.ms`. */
export const retrySchedule = (settings: ErrorSettings) =>
  Schedule.exponential(Duration.millis(300)).pipe(
    Schedule.modifyDelay((d) => Duration.min(d, Duration.millis(settings.retryDelayMaxMs))),
    Schedule.upTo(Duration.millis(settings.retryTimeoutMs === -1 ? Number.MAX_SAFE_INTEGER : settings.retryTimeoutMs))
  )

/** The tolerant executor of one task. */
export const make = (settings: ErrorSettings, connector: string, taskId: number) => {
  const schedule = retrySchedule(settings)
  const retrying = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    settings.retryTimeoutMs === 0
      ? effect
      : Effect.retry(effect, { schedule, while: (e) => e instanceof RetriableError })

  const handle = (failure: Failure, ctx: RecordContext): Effect.Effect<null, ConnectError> =>
    Effect.gen(function* () {
      if (settings.logEnable)
        yield* Effect.logError(
          `Error encountered in task ${connector}-${taskId}. Executing stage '${failure.stage}' with class '${failure.className}'${settings.logIncludeMessages ? `, where ${ctx.description}` : ""}.`,
          traceOf(failure.error)
        )
      if (settings.tolerance === "none")
        return yield* new ConnectError({ message: "Tolerance exceeded in error handler", cause: failure.error })
      if (ctx.report) yield* ctx.report(failure)
      return null
    })

  return {
    settings,
    /** Runs a synchronous stage operation; null when the record is skipped. */
    sync: <A>(stage: Stage, className: string, ctx: RecordContext, f: () => A): Effect.Effect<A | null, ConnectError> =>
      Effect.suspend(() => {
        try {
          return Effect.succeed(f())
        } catch (error) {
          return handle({ stage, className, error }, ctx)
        }
      }),
    /** Runs an effectful stage operation with retries; null when the record is skipped. */
    effect: <A, E>(stage: Stage, className: string, ctx: RecordContext, f: Effect.Effect<A, E>) =>
      retrying(f).pipe(Effect.catchAll((error) => handle({ stage, className, error }, ctx))),
    /** Handles a failed stage: fails the task (`none`) or logs, reports and skips the record (`all`). */
    report: (failure: Failure, ctx: RecordContext) => handle(failure, ctx)
  }
}

/** The tolerant executor type. */
export type RecordErrors = ReturnType<typeof make>
