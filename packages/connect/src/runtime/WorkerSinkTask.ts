/**
 * Runs one sink task: a consumer in the group `connect-<name>` reads the connector's topics; each fetched
 * batch is converted, transformed and given to `put`; consumed offsets are committed (after `preCommit`,
 * whose default is `flush`) every `offset.flush.interval.ms`, on `requestCommit`, before partitions are
 * revoked and when the task stops. Failed records go to the dead letter queue per `errors.*`.
 *
 * Invariants: an offset is committed only after `put` returned for its record and `preCommit`/`flush`
 * accepted it; `put` and commits never overlap (one lock); rewinds asked through the context are applied
 * between two `put`s.
 */
import * as Consumer from "@eddy/core/client/Consumer"
import * as Producer from "@eddy/core/client/Producer"
import type * as Topic from "@eddy/core/client/Topic"
import { Duration, Effect, Queue, Schedule, Stream } from "effect"
import type { Converter, HeaderConverter } from "../converters/Converter.js"
import { type Header, type SinkRecord, sinkRecord } from "../data/ConnectRecord.js"
import { ConnectError, RetriableError, traceOf } from "../plugin/ConnectError.js"
import type {
  PluginEnv,
  Props,
  SinkPlugin,
  SinkTask,
  SinkTaskContext,
  TopicPartition,
  TopicPartitionOffset
} from "../plugin/Connector.js"
import { attempt, type Failure, type RecordErrors, StageFailure } from "./RecordErrors.js"
import type { Stage } from "./TransformChain.js"

/** What a sink task runner needs. */
export interface SinkTaskParams {
  readonly connector: string
  readonly taskId: number
  readonly plugin: SinkPlugin
  readonly taskProps: Props
  readonly topics: ReadonlyArray<string>
  readonly consumerProps: Record<string, unknown>
  readonly producerProps: Record<string, unknown>
  readonly keyConverter: Converter
  readonly valueConverter: Converter
  readonly headerConverter: HeaderConverter
  readonly transforms: ReadonlyArray<Stage>
  readonly errors: RecordErrors
  readonly flushIntervalMs: number
  readonly onStarted: Effect.Effect<void>
  readonly onTopic: (topic: string) => Effect.Effect<void>
}

type Raw = Topic.ConsumerRecord<Uint8Array | null, Uint8Array | null>

const tpKey = (tp: TopicPartition) => `${tp.topic}\u0000${tp.partition}`

/** The prefix of the DLQ context headers. */
export const ERROR_HEADER_PREFIX = "__connect.errors."

/** The DLQ record of a failed raw record: its original key, value and headers, plus context headers if enabled. */
export const dlqRecord = (
  raw: Raw,
  failure: Failure,
  connector: string,
  taskId: number,
  contextHeaders: boolean
): Topic.ProducerRecord<Uint8Array | null, Uint8Array | null> => {
  const headers: Array<{ key: string; value: Uint8Array | null }> = raw.headers.map((h) => ({
    key: h.key,
    value: h.value
  }))
  if (contextHeaders) {
    const error = failure.error
    const add = (k: string, v: string) =>
      headers.push({ key: ERROR_HEADER_PREFIX + k, value: new TextEncoder().encode(v) })
    add("topic", raw.topic)
    add("partition", String(raw.partition))
    add("offset", String(raw.offset))
    add("connector.name", connector)
    add("task.id", String(taskId))
    add("stage", failure.stage)
    add("class.name", failure.className)
    const errorClass = error instanceof Error ? ((error as { _tag?: string })._tag ?? error.name) : typeof error
    add("exception.class.name", errorClass)
    add("exception.message", error instanceof Error ? error.message : String(error))
    add("exception.stacktrace", traceOf(error))
  }
  return { key: raw.key, value: raw.value, headers, timestamp: raw.timestamp }
}

const makeContext = (
  p: SinkTaskParams,
  consumer: () => Consumer.Consumer | null,
  reporter: SinkTaskContext["errantRecordReporter"]
) => {
  const rewinds = new Map<string, TopicPartitionOffset>()
  const state = { timeoutMs: 0, commitRequested: false }
  const context: SinkTaskContext = {
    configs: p.taskProps,
    offset: (offsets) =>
      Effect.sync(() => {
        for (const o of offsets) rewinds.set(tpKey(o), o)
      }),
    timeout: (ms) =>
      Effect.sync(() => {
        state.timeoutMs = ms
      }),
    assignment: Effect.sync(() => consumer()?.assignment() ?? []),
    pause: (tps) => Effect.suspend(() => consumer()?.pause(tps) ?? Effect.void),
    resume: (tps) => Effect.suspend(() => consumer()?.resume(tps) ?? Effect.void),
    requestCommit: Effect.sync(() => {
      state.commitRequested = true
    }),
    errantRecordReporter: reporter
  }
  return { context, rewinds, state }
}

/** Converts and transforms one consumed record synchronously: the sink record, null when dropped, or the failure. */
const toSinkRecord = (p: SinkTaskParams, raw: Raw): SinkRecord | null | StageFailure => {
  const key = attempt("KEY_CONVERTER", "key.converter", () => p.keyConverter.toConnectData(raw.topic, raw.key))
  if (key instanceof StageFailure) return key
  const value = attempt("VALUE_CONVERTER", "value.converter", () =>
    p.valueConverter.toConnectData(raw.topic, raw.value)
  )
  if (value instanceof StageFailure) return value
  const headers =
    raw.headers.length === 0
      ? []
      : attempt("HEADER_CONVERTER", "header.converter", () =>
          raw.headers.map((h): Header => {
            const sv = p.headerConverter.toConnectHeader(raw.topic, h.key, h.value)
            return { key: h.key, schema: sv.schema, value: sv.value }
          })
        )
  if (headers instanceof StageFailure) return headers
  let record: SinkRecord | null = sinkRecord({
    topic: raw.topic,
    kafkaPartition: raw.partition,
    kafkaOffset: raw.offset,
    keySchema: key.schema,
    key: key.value,
    valueSchema: value.schema,
    value: value.value,
    timestamp: raw.timestamp,
    timestampType: "CreateTime",
    headers
  })
  for (const stage of p.transforms) {
    if (record === null) return null
    const input: SinkRecord = record
    const out = attempt("TRANSFORMATION", stage.className, () => stage.apply(input))
    if (out instanceof StageFailure) return out
    record = out
  }
  return record
}

const putWithRetry = (task: SinkTask, records: ReadonlyArray<SinkRecord>, state: { timeoutMs: number }) =>
  task.put(records).pipe(
    Effect.catchIf(
      (e): e is RetriableError => e instanceof RetriableError,
      (e) =>
        Effect.logWarning(`sink task put failed, retrying after ${state.timeoutMs} ms`, e.message).pipe(
          Effect.zipRight(Effect.sleep(Duration.millis(state.timeoutMs))),
          Effect.as(false)
        )
    ),
    Effect.map((r) => r !== false),
    Effect.repeat({ until: (done) => done }),
    Effect.asVoid
  )

/** Runs the task until interrupted or failed; needs a Scope for its clients and fibers. */
export const run = (p: SinkTaskParams) =>
  Effect.gen(function* () {
    const task = yield* p.plugin.task
    const settings = p.errors.settings
    const dlq = settings.dlqTopic !== "" ? yield* Producer.make(p.producerProps as Producer.ProducerConfig) : null
    const rawOf = new WeakMap<SinkRecord, Raw>()
    const sendToDlq = (raw: Raw, failure: Failure) =>
      dlq === null
        ? Effect.void
        : dlq.send(settings.dlqTopic, dlqRecord(raw, failure, p.connector, p.taskId, settings.dlqContextHeaders)).pipe(
            Effect.mapError(
              (e) =>
                new ConnectError({
                  message: `Could not produce to the dead letter queue ${settings.dlqTopic}`,
                  cause: e
                })
            ),
            Effect.asVoid
          )
    let consumerRef: Consumer.Consumer | null = null
    const reporter: SinkTaskContext["errantRecordReporter"] =
      settings.tolerance === "all" || dlq !== null
        ? (record, error) => {
            const raw = rawOf.get(record)
            const failure: Failure = { stage: "TASK_PUT", className: p.plugin.className, error }
            return Effect.asVoid(
              p.errors.report(failure, {
                description: `record of ${record.topic}`,
                ...(raw ? { report: (f) => sendToDlq(raw, f) } : {})
              })
            )
          }
        : null
    const { context, rewinds, state } = makeContext(p, () => consumerRef, reporter)
    const consumed = new Map<string, TopicPartitionOffset>()
    const lock = yield* Effect.makeSemaphore(1)
    const started = { value: false }

    const commitNow = (only?: ReadonlyArray<TopicPartition>) =>
      Effect.gen(function* () {
        state.commitRequested = false
        const keys = only ? new Set(only.map(tpKey)) : null
        const offsets = [...consumed.values()].filter((o) => keys === null || keys.has(tpKey(o)))
        if (offsets.length === 0 || consumerRef === null) return
        const safe = task.preCommit
          ? yield* task.preCommit(offsets)
          : task.flush
            ? yield* Effect.as(task.flush(offsets), offsets)
            : offsets
        if (safe.length > 0)
          yield* consumerRef.commitOffsets(safe.map(({ topic, partition, offset }) => ({ topic, partition, offset })))
        for (const o of safe) if (consumed.get(tpKey(o))?.offset === o.offset) consumed.delete(tpKey(o))
      })
    const commit = (only?: ReadonlyArray<TopicPartition>) =>
      lock
        .withPermits(1)(commitNow(only))
        .pipe(Effect.catchAll((e) => Effect.logError("committing sink offsets failed", e)))

    const env = yield* Effect.context<PluginEnv>()
    const consumer = yield* Consumer.make({
      ...(p.consumerProps as Consumer.ConsumerConfig),
      "group.id": `connect-${p.connector}`,
      "enable.auto.commit": false,
      "auto.offset.reset": (p.consumerProps["auto.offset.reset"] as "earliest" | "latest" | undefined) ?? "earliest",
      onPartitionsAssigned: (tps) =>
        started.value && task.open
          ? task.open(tps).pipe(
              Effect.catchAll((e) => Effect.logError("sink task open failed", e)),
              Effect.provide(env)
            )
          : Effect.void,
      onPartitionsRevoked: (tps) =>
        commit(tps).pipe(
          Effect.zipRight(
            started.value && task.close
              ? Effect.catchAll(task.close(tps), (e) => Effect.logError("sink task close failed", e))
              : Effect.void
          ),
          Effect.zipRight(
            Effect.sync(() => {
              for (const tp of tps) consumed.delete(tpKey(tp))
            })
          ),
          Effect.provide(env)
        )
    }).pipe(Effect.mapError((e) => new ConnectError({ message: e.message })))
    consumerRef = consumer
    yield* Effect.addFinalizer(() =>
      commit().pipe(
        Effect.zipRight(task.close ? Effect.ignore(task.close(consumer.assignment())) : Effect.void),
        Effect.zipRight(task.stop)
      )
    )
    yield* task.start(p.taskProps, context)
    started.value = true
    yield* p.onStarted
    yield* Effect.forEach(p.topics, p.onTopic, { discard: true })
    const ticks = yield* Queue.sliding<void>(1)
    yield* Effect.forkScoped(
      Queue.offer(ticks, undefined).pipe(Effect.repeat(Schedule.spaced(Duration.millis(p.flushIntervalMs))))
    )
    yield* Effect.forkScoped(
      Effect.repeat(
        Effect.suspend(() => (state.commitRequested ? commit() : Effect.void)),
        Schedule.spaced(Duration.millis(100))
      )
    )
    yield* Effect.forkScoped(Queue.take(ticks).pipe(Effect.zipRight(commit()), Effect.forever))

    const handleBatch = (batch: Consumer.ConsumerBatch<Raw>) =>
      lock.withPermits(1)(
        Effect.gen(function* () {
          const records: Array<SinkRecord> = []
          for (const raw of batch.records) {
            const record = toSinkRecord(p, raw)
            if (record instanceof StageFailure)
              yield* p.errors.report(record.failure, {
                description: `topic '${raw.topic}', partition ${raw.partition}, offset ${raw.offset}`,
                report: (f) => sendToDlq(raw, f)
              })
            else if (record !== null) {
              if (reporter !== null) rawOf.set(record, raw)
              records.push(record)
            }
          }
          yield* putWithRetry(task, records, state)
          const last = batch.records[batch.records.length - 1]
          if (last)
            consumed.set(tpKey(batch), { topic: batch.topic, partition: batch.partition, offset: last.offset + 1 })
          if (rewinds.size > 0) {
            const seeks = [...rewinds.values()]
            rewinds.clear()
            for (const s of seeks) {
              yield* consumer.seek(s, s.offset)
              consumed.delete(tpKey(s))
            }
          }
        })
      )
    return yield* consumer.batches(p.topics).pipe(
      Stream.mapError((e) => new ConnectError({ message: `Consumer failed: ${e.message}`, cause: e })),
      Stream.runForEach(handleBatch),
      Effect.zipRight(Effect.never)
    )
  })
