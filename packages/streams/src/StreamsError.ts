/** Errors of a streams application: a record that failed to deserialize, process or produce, and fatal states. */
import { Schema } from "effect"

/** Where a failing record came from. */
const Origin = {
  taskId: Schema.String,
  topic: Schema.String,
  partition: Schema.Number,
  offset: Schema.Number
}

/** A source record whose key or value the source's serde could not read (`deserialization.exception.handler`). */
export class DeserializationError extends Schema.TaggedError<DeserializationError>()("DeserializationError", {
  ...Origin,
  message: Schema.String
}) {}

/** A processor (user code) threw or its Effect failed on a record (`processing.exception.handler`). */
export class ProcessingError extends Schema.TaggedError<ProcessingError>()("ProcessingError", {
  ...Origin,
  processor: Schema.String,
  message: Schema.String,
  cause: Schema.Defect
}) {}

/** A sink could not serialize or send a record (`production.exception.handler`). */
export class ProductionError extends Schema.TaggedError<ProductionError>()("ProductionError", {
  topic: Schema.String,
  message: Schema.String,
  cause: Schema.Defect
}) {}

/** The application cannot go on (a stream thread died and the policy shut the client down, or start-up failed). */
export class StreamsFatalError extends Schema.TaggedError<StreamsFatalError>()("StreamsFatalError", {
  message: Schema.String,
  cause: Schema.Defect
}) {}

/** The message of anything thrown. */
export const messageOf = (e: unknown): string =>
  typeof e === "object" && e !== null && "message" in e && typeof e.message === "string" ? e.message : String(e)
