/**
 * The Processor API (Kafka Streams' `org.apache.kafka.streams.processor.api`): processors that get one record
 * at a time, forward records to their children, use state stores and schedule punctuations. Add them to a
 * hand-built topology with `TopologyBuilder` or to a DSL pipeline with `KStream.process`/`processValues`, and
 * unit-test one with `MockProcessorContext`.
 *
 * A supplier makes one processor per task. A processor is an object with `init(context)` (optional),
 * `process(record)` and `close()` (optional), or just a function `(record, context) => ...`. `process` and
 * punctuators return nothing when done, or an Effect when they have asynchronous work (the task waits for it
 * before its next record); `context.forward` returns nothing: records forwarded while an Effect runs reach the
 * children in order, after the downstream work of the records forwarded before them.
 */
import type { Duration, Effect } from "effect"
import type { Cancellable, RecordMetadata, TaskId } from "../Processor.js"
import { PunctuationType } from "../Processor.js"
import type { FixedKeyRecord, StreamRecord } from "../Record.js"

export type { FixedKeyRecord, StreamRecord }
export { type Cancellable, PunctuationType, type RecordMetadata, type TaskId }

/** What `process`, a punctuator or a function processor returns: nothing, or an Effect to wait for. */
// biome-ignore lint/suspicious/noConfusingVoidType: processors written as statements return void
// biome-ignore lint/suspicious/noExplicitAny: user effects carry their own error and service types
export type ProcessResult = void | undefined | Effect.Effect<unknown, any, any>

/** Called by a schedule with the stream time or wall-clock time it fires at. */
export type Punctuator = (timestamp: number) => ProcessResult

/** What a processor can do besides receiving records; `KForward`/`VForward` type what it forwards. */
export interface ProcessorContext<KForward = unknown, VForward = unknown> {
  readonly taskId: TaskId
  readonly applicationId: string
  /** Sends a record to every child, or only to the child named `childName`. */
  forward(record: StreamRecord<KForward, VForward>, childName?: string): void
  /**
   * A store connected to this processor: a `KeyValueStore<K, V>` or `TimestampedKeyValueStore<K, V>` as its
   * builder says (a DSL store reads as a timestamped one). Fails for a store not connected to the processor.
   */
  getStateStore<S>(name: string): S
  /**
   * Calls `punctuator` every `interval` of the task's stream time (first as soon as the task has stream time,
   * at most once per record however far time jumps) or of wall-clock time (first `interval` from now).
   */
  schedule(interval: Duration.DurationInput, type: PunctuationType, punctuator: Punctuator): Cancellable
  /** Asks for a commit of the task as soon as the runtime can (after the current record). */
  commit(): void
  /** Topic, partition and offset of the record being processed; undefined inside a punctuator. */
  recordMetadata(): RecordMetadata | undefined
  /** The task's stream time: the largest timestamp it has processed (-1 before the first record). */
  currentStreamTimeMs(): number
  /** Wall-clock time from the runtime's `Clock`. */
  currentSystemTimeMs(): number
}

/** A processor of records `KIn`/`VIn` forwarding `KOut`/`VOut`. */
export interface Processor<KIn, VIn, KOut = unknown, VOut = unknown> {
  /** Called once when the task starts, before any record (get stores, schedule punctuations here). */
  init?(context: ProcessorContext<KOut, VOut>): void
  process(record: StreamRecord<KIn, VIn>): ProcessResult
  /** Called when the task closes (release resources; do not forward). */
  close?(): void
}

/** A processor as one function. */
export type ProcessFunction<KIn, VIn, KOut = unknown, VOut = unknown> = (
  record: StreamRecord<KIn, VIn>,
  context: ProcessorContext<KOut, VOut>
) => ProcessResult

/** Makes a new processor for each task (never return the same instance twice). */
export type ProcessorSupplier<KIn, VIn, KOut = unknown, VOut = unknown> = () =>
  | Processor<KIn, VIn, KOut, VOut>
  | ProcessFunction<KIn, VIn, KOut, VOut>

/** The context of a fixed-key processor: it forwards records with the key it got. */
export interface FixedKeyProcessorContext<KForward = unknown, VForward = unknown>
  extends Omit<ProcessorContext<KForward, VForward>, "forward"> {
  /** Sends a record (made from the input with `withValue`/`withTimestamp`/`withHeaders`) to the children. */
  forward(record: FixedKeyRecord<KForward, VForward>, childName?: string): void
}

/** A processor that cannot change keys (`KStream.processValues`: no repartition follows). */
export interface FixedKeyProcessor<KIn, VIn, VOut = unknown> {
  init?(context: FixedKeyProcessorContext<KIn, VOut>): void
  process(record: FixedKeyRecord<KIn, VIn>): ProcessResult
  close?(): void
}

/** A fixed-key processor as one function. */
export type FixedKeyProcessFunction<KIn, VIn, VOut = unknown> = (
  record: FixedKeyRecord<KIn, VIn>,
  context: FixedKeyProcessorContext<KIn, VOut>
) => ProcessResult

/** Makes a new fixed-key processor for each task. */
export type FixedKeyProcessorSupplier<KIn, VIn, VOut = unknown> = () =>
  | FixedKeyProcessor<KIn, VIn, VOut>
  | FixedKeyProcessFunction<KIn, VIn, VOut>
