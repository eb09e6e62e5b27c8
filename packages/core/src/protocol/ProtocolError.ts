/**
 * The single error raised when bytes from the wire or disk do not decode.
 *
 * Sans-io protocol code throws it synchronously; the connection (or the log's recovery) catches it once.
 */
import { Schema } from "effect"

/** A decode failure: truncated input, a lying length field, an unknown version or a bad value. */
export class ProtocolError extends Schema.TaggedError<ProtocolError>()("ProtocolError", {
  message: Schema.String,
  /** Byte position in the buffer being read when the failure was detected, -1 when unknown. */
  position: Schema.Number
}) {}

/** Throws a {@link ProtocolError}; typed `never` so it can end an expression. */
export const fail = (message: string, position = -1): never => {
  throw new ProtocolError({ message, position })
}

/** Refinement for {@link ProtocolError}. */
export const isProtocolError = (u: unknown): u is ProtocolError => u instanceof ProtocolError
