/**
 * The processor contract the runtime executes (Kafka Streams' Processor API, in the shape part 2 exposes to
 * users): a processor gets one record at a time and forwards records to its children through its context.
 *
 * Processing is synchronous on the hot path: `process` returns `undefined` when it is done, or an Effect
 * when it has asynchronous work (an Effect-returning user function); `forward` returns what the children
 * returned, so a chain of synchronous processors never allocates an Effect. The runtime waits for a
 * record's returned Effect before it processes the task's next record.
 */
import type { Effect } from "effect"
import type { StreamRecord } from "./Record.js"

/** What processing a record returns: nothing (done) or an Effect still to run (asynchronous work). */
// biome-ignore lint/suspicious/noExplicitAny: user effects carry their own error and service types
export type Step = undefined | Effect.Effect<void, any, any>

/** Identifies a task: its sub-topology and the partition it processes (`0_3`). */
export interface TaskId {
  readonly subtopology: number
  readonly partition: number
}

/** The task id in Kafka's printed form `<subtopology>_<partition>`. */
export const taskIdString = (id: TaskId): string => `${id.subtopology}_${id.partition}`

/** Where the record being processed came from (undefined for records created by punctuation). */
export interface RecordMetadata {
  readonly topic: string
  readonly partition: number
  readonly offset: number
}

/** Kafka's punctuation types: fire as the task's stream time advances, or as wall-clock time passes. */
export const PunctuationType = { STREAM_TIME: "STREAM_TIME", WALL_CLOCK_TIME: "WALL_CLOCK_TIME" } as const

/** A punctuation type (see {@link PunctuationType}). */
export type PunctuationType = (typeof PunctuationType)[keyof typeof PunctuationType]

/** What `schedule` returns: stops the punctuation (it never fires again). */
export interface Cancellable {
  cancel(): void
}

/** What a processor can do besides receiving records. */
export interface ProcessorContext {
  readonly taskId: TaskId
  readonly applicationId: string
  /** Sends a record to every child, or to the child named `childName`. */
  forward(record: StreamRecord<unknown, unknown>, childName?: string): Step
  /** The store `name`, connected to this processor at build time (typed by the runtime's store layers). */
  getStateStore<S>(name: string): S
  /** The origin of the record being processed. */
  recordMetadata(): RecordMetadata | undefined
  /** The task's stream time: the largest timestamp it has processed (-1 before the first record). */
  currentStreamTimeMs(): number
  /** Wall-clock time from the runtime's `Clock` as of the current record. */
  currentSystemTimeMs(): number
  /**
   * Calls `punctuator` every `intervalMs` of stream time or wall-clock time with the time it fires at (see
   * `internal/task/punctuation.ts` for Kafka's rules); records it forwards have no record metadata.
   */
  schedule(intervalMs: number, type: PunctuationType, punctuator: (timestamp: number) => Step): Cancellable
  /** Asks the runtime to commit the task as soon as it can (after the current record). */
  commit(): void
}

/** A processor instance, owned by one task. */
export interface Processor {
  process(record: StreamRecord<unknown, unknown>): Step
  /** Called when the task closes (release resources; do not forward). */
  close?(): void
}

/** Makes a processor for a task; called once per task when the task is created. */
export type ProcessorSupplier = (context: ProcessorContext) => Processor
