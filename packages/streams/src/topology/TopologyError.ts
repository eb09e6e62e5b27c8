/** A topology that cannot be built or run: every mistake found, each in one sentence. */
import { Schema } from "effect"

/** Build-time (or start-time) mistakes of a topology. */
export class TopologyError extends Schema.TaggedError<TopologyError>()("TopologyError", {
  message: Schema.String,
  errors: Schema.Array(Schema.String)
}) {}
