/** The error of a worker call, with the HTTP status Connect's REST API answers. */
import { Schema } from "effect"

/** A worker call that failed, with the HTTP status Connect's REST API answers. */
export class WorkerError extends Schema.TaggedError<WorkerError>()("WorkerError", {
  status: Schema.Number,
  message: Schema.String
}) {}

/** 404: no such connector. */
export const notFound = (name: string) => new WorkerError({ status: 404, message: `Connector ${name} not found` })

/** 400 with a message. */
export const badRequest = (message: string) => new WorkerError({ status: 400, message })
