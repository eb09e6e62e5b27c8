/**
 * Errors of the plugin API: `ConnectError` (Kafka's ConnectException) fails a connector or task;
 * `RetriableError` (RetriableException) asks the worker to retry the call (a sink `put` after the
 * context's `timeout`, a source `poll` at once).
 */
import { Schema } from "effect"

/** A failure of a connector or task; fails it with this message and the cause's trace. */
export class ConnectError extends Schema.TaggedError<ConnectError>()("ConnectError", {
  message: Schema.String,
  cause: Schema.optional(Schema.Unknown)
}) {}

/** A transient failure: the worker retries the operation. */
export class RetriableError extends Schema.TaggedError<RetriableError>()("RetriableError", {
  message: Schema.String,
  cause: Schema.optional(Schema.Unknown)
}) {}

/** The error type of plugin operations. */
export type PluginError = ConnectError | RetriableError

/** A trace for a failure, as the status endpoint shows it (the stack when there is one). */
export const traceOf = (error: unknown): string => {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause
    const own = error.stack ?? `${error.name}: ${error.message}`
    return cause !== undefined && cause !== null ? `${own}\nCaused by: ${traceOf(cause)}` : own
  }
  if (typeof error === "object" && error !== null && "message" in error)
    return String((error as { message: unknown }).message)
  return String(error)
}
