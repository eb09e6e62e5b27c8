/**
 * The errors state stores throw. Store methods are synchronous (they run on the processing hot path), so
 * these are thrown rather than returned in an Effect; the runtime catches them around a task's processing
 * and turns them into the task's failure.
 */
import { Schema } from "effect"

/** A store was used after `close()` (Kafka Streams' `InvalidStateStoreException`). */
export class InvalidStateStoreError extends Schema.TaggedError<InvalidStateStoreError>()("InvalidStateStoreError", {
  store: Schema.String,
  message: Schema.String
}) {}

/** A store could not do what it was asked: a key too large for its engine, a native failure, bad options. */
export class ProcessorStateError extends Schema.TaggedError<ProcessorStateError>()("ProcessorStateError", {
  store: Schema.String,
  message: Schema.String
}) {}

/** Throws `InvalidStateStoreError` for the closed store `name`. */
export const throwClosed = (name: string): never => {
  throw new InvalidStateStoreError({ store: name, message: `State store ${name} is closed` })
}

/** A store was configured with values that cannot work (Kafka Streams' `IllegalArgumentException`s of `Stores`). */
export class StoreConfigError extends Schema.TaggedError<StoreConfigError>()("StoreConfigError", {
  store: Schema.String,
  message: Schema.String
}) {}
