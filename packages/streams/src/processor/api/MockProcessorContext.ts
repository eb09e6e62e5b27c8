/**
 * A processor context for unit tests of one processor (Kafka Streams' `MockProcessorContext`): no topology,
 * no task, no runtime. It captures what the processor forwards (with the child name), the punctuations it
 * schedules (the test fires them), the commits it asks for; the test registers the stores the processor uses
 * (`StoreBuilder.build()`) and sets the record metadata and the times the processor reads.
 *
 * ```ts
 * const context = MockProcessorContext.make<string, number>()
 * context.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("Counts"), Serdes.string, Serdes.long).build())
 * const processor = MockProcessorContext.instantiate(counter, context)
 * yield* MockProcessorContext.run(processor.process(StreamRecord.make("k", "a", 10)))
 * assert.deepStrictEqual(context.forwarded().map((f) => f.record.value), [1])
 * ```
 */
import { Duration, Effect } from "effect"
import type { FixedKeyRecord, StreamRecord } from "../Record.js"
import type {
  Cancellable,
  FixedKeyProcessorContext,
  FixedKeyProcessorSupplier,
  ProcessorContext,
  ProcessorSupplier,
  ProcessResult,
  PunctuationType,
  Punctuator,
  RecordMetadata,
  TaskId
} from "./Processor.js"

/** A record the processor forwarded, and the child it named (undefined: all children). */
export interface CapturedForward<K, V> {
  readonly record: StreamRecord<K, V>
  readonly childName: string | undefined
}

/** A punctuation the processor scheduled; the test fires it by calling `punctuator(timestamp)`. */
export interface CapturedPunctuator {
  readonly intervalMs: number
  readonly type: PunctuationType
  readonly punctuator: Punctuator
  /** True once the processor cancelled it. */
  readonly cancelled: boolean
}

/** A context that records what a processor does. */
export interface MockProcessorContext<KForward = unknown, VForward = unknown>
  extends ProcessorContext<KForward, VForward>,
    FixedKeyProcessorContext<KForward, VForward> {
  forward(record: StreamRecord<KForward, VForward>, childName?: string): void
  /** Registers a store the processor gets from `getStateStore(store.name)`. */
  addStateStore(store: { readonly name: string }): void
  /** Everything forwarded since the last reset, or only what was forwarded to `childName`. */
  forwarded(childName?: string): ReadonlyArray<CapturedForward<KForward, VForward>>
  resetForwards(): void
  /** The punctuations scheduled so far (cancelled ones included, marked). */
  scheduledPunctuators(): ReadonlyArray<CapturedPunctuator>
  /** True when the processor called `commit()` since the last reset. */
  committed(): boolean
  resetCommit(): void
  /** Sets what `recordMetadata()` returns (undefined: as inside a punctuator). */
  setRecordMetadata(metadata: RecordMetadata | undefined): void
  setCurrentStreamTimeMs(ms: number): void
  setCurrentSystemTimeMs(ms: number): void
}

/** A fresh mock context (application id `dummy`, task `0_0`, no record metadata, both times 0). */
export const make = <KForward = unknown, VForward = unknown>(
  options: { readonly applicationId?: string; readonly taskId?: TaskId } = {}
): MockProcessorContext<KForward, VForward> => {
  const forwards: Array<CapturedForward<KForward, VForward>> = []
  const punctuators: Array<CapturedPunctuator & { cancelled: boolean }> = []
  const stores = new Map<string, unknown>()
  let commitRequested = false
  let metadata: RecordMetadata | undefined
  let streamTime = 0
  let systemTime = 0
  return {
    applicationId: options.applicationId ?? "dummy",
    taskId: options.taskId ?? { subtopology: 0, partition: 0 },
    forward: (record, childName) => void forwards.push({ record, childName }),
    getStateStore: <S>(name: string): S => {
      const store = stores.get(name)
      if (store === undefined) throw new Error(`No state store ${name} registered with addStateStore`)
      return store as S
    },
    schedule: (interval, type, punctuator): Cancellable => {
      const captured = { intervalMs: Duration.toMillis(Duration.decode(interval)), type, punctuator, cancelled: false }
      punctuators.push(captured)
      return {
        cancel: () => {
          captured.cancelled = true
        }
      }
    },
    commit: () => {
      commitRequested = true
    },
    recordMetadata: () => metadata,
    currentStreamTimeMs: () => streamTime,
    currentSystemTimeMs: () => systemTime,
    addStateStore: (store) => void stores.set(store.name, store),
    forwarded: (childName) =>
      childName === undefined ? [...forwards] : forwards.filter((f) => f.childName === childName),
    resetForwards: () => void forwards.splice(0),
    scheduledPunctuators: () => [...punctuators],
    committed: () => commitRequested,
    resetCommit: () => {
      commitRequested = false
    },
    setRecordMetadata: (m) => {
      metadata = m
    },
    setCurrentStreamTimeMs: (ms) => {
      streamTime = ms
    },
    setCurrentSystemTimeMs: (ms) => {
      systemTime = ms
    }
  }
}

/** A processor made by `supplier` and initialized with `context`, as an object (function processors included). */
export const instantiate = <KIn, VIn, KOut, VOut>(
  supplier: ProcessorSupplier<KIn, VIn, KOut, VOut>,
  context: MockProcessorContext<KOut, VOut>
): { process(record: StreamRecord<KIn, VIn>): ProcessResult; close(): void } => {
  const made = supplier()
  if (typeof made === "function") return { process: (r) => made(r, context), close: () => {} }
  made.init?.(context)
  return { process: (r) => made.process(r), close: () => made.close?.() }
}

/** A fixed-key processor made by `supplier` and initialized with `context`. */
export const instantiateFixedKey = <KIn, VIn, VOut>(
  supplier: FixedKeyProcessorSupplier<KIn, VIn, VOut>,
  context: MockProcessorContext<KIn, VOut>
): { process(record: FixedKeyRecord<KIn, VIn>): ProcessResult; close(): void } => {
  const made = supplier()
  if (typeof made === "function") return { process: (r) => made(r, context), close: () => {} }
  made.init?.(context)
  return { process: (r) => made.process(r), close: () => made.close?.() }
}

/** What `process` or a punctuator returned, as an Effect to run in the test. */
// biome-ignore lint/suspicious/noExplicitAny: user effects carry their own error and service types
export const run = (result: ProcessResult): Effect.Effect<void, any, any> =>
  Effect.isEffect(result) ? Effect.asVoid(result) : Effect.void

/** A fixed-key record for a test (only the runtime makes them otherwise). */
export const fixedKeyRecord = <K, V>(key: K, value: V, timestamp = 0): FixedKeyRecord<K, V> =>
  ({ key, value, timestamp, headers: [] }) as unknown as FixedKeyRecord<K, V>
