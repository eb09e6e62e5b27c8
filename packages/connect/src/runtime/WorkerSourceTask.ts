/**
 * Runs one source task: `poll` -> transforms -> converters -> producer, then `commitRecord` for each
 * acknowledged record; the source offsets of acknowledged records go to the OffsetStore every
 * `offset.flush.interval.ms` and when the task stops (followed by the task's `commit`).
 *
 * Invariants: an offset is written only after its record (and every record polled before it) is
 * acknowledged; one fiber polls and sends, one flushes offsets, and they share the pending-offsets map
 * under a lock; closing the task's scope flushes offsets, then stops the task.
 */
import * as Producer from "@eddy/core/client/Producer"
import type * as Topic from "@eddy/core/client/Topic"
import { Duration, Effect, Fiber, Queue, Schedule, type Scope } from "effect"
import type { Converter, HeaderConverter } from "../converters/Converter.js"
import type { SourceRecord } from "../data/ConnectRecord.js"
import { type ConnectError, RetriableError } from "../plugin/ConnectError.js"
import type { PluginEnv, Props, SourcePlugin, SourceTaskContext } from "../plugin/Connector.js"
import type { OffsetStoreShape, PartitionOffset } from "./OffsetStore.js"
import { attempt, type RecordErrors, StageFailure } from "./RecordErrors.js"
import type { Stage } from "./TransformChain.js"

/** What a source task runner needs. */
export interface SourceTaskParams {
  readonly connector: string
  readonly taskId: number
  readonly plugin: SourcePlugin
  readonly taskProps: Props
  readonly producerProps: Record<string, unknown>
  readonly keyConverter: Converter
  readonly valueConverter: Converter
  readonly headerConverter: HeaderConverter
  readonly transforms: ReadonlyArray<Stage>
  readonly errors: RecordErrors
  readonly offsets: OffsetStoreShape
  readonly flushIntervalMs: number
  /** Called once the task has started. */
  readonly onStarted: Effect.Effect<void>
  /** Called with each topic the task writes to. */
  readonly onTopic: (topic: string) => Effect.Effect<void>
}

/** A converted record ready for the producer. */
export interface RawRecord extends Topic.ProducerRecord<Uint8Array | null, Uint8Array | null> {
  readonly topic: string
}

type Outgoing = { readonly source: SourceRecord; readonly record: RawRecord | null }

/** Transforms and converts one record synchronously: the raw record, null when a transform dropped it, or the failure. */
export const prepare = (
  p: Pick<SourceTaskParams, "transforms" | "keyConverter" | "valueConverter" | "headerConverter">,
  source: SourceRecord
): RawRecord | null | StageFailure => {
  let r: SourceRecord | null = source
  for (const stage of p.transforms) {
    if (r === null) return null
    const input: SourceRecord = r
    const out = attempt("TRANSFORMATION", stage.className, () => stage.apply(input))
    if (out instanceof StageFailure) return out
    r = out
  }
  if (r === null) return null
  const rec: SourceRecord = r
  const key = attempt("KEY_CONVERTER", "key.converter", () =>
    p.keyConverter.fromConnectData(rec.topic, rec.keySchema, rec.key, rec.headers)
  )
  if (key instanceof StageFailure) return key
  const value = attempt("VALUE_CONVERTER", "value.converter", () =>
    p.valueConverter.fromConnectData(rec.topic, rec.valueSchema, rec.value, rec.headers)
  )
  if (value instanceof StageFailure) return value
  const headers =
    rec.headers.length === 0
      ? []
      : attempt("HEADER_CONVERTER", "header.converter", () =>
          rec.headers.map((h) => ({
            key: h.key,
            value: p.headerConverter.fromConnectHeader(rec.topic, h.key, h.schema, h.value)
          }))
        )
  if (headers instanceof StageFailure) return headers
  return {
    topic: rec.topic,
    key,
    value,
    headers,
    ...(rec.kafkaPartition !== null ? { partition: rec.kafkaPartition } : {}),
    ...(rec.timestamp !== null ? { timestamp: rec.timestamp } : {})
  }
}

/** Polled batches being sent before the oldest is acknowledged. */
const MAX_IN_FLIGHT = 8

/** Runs the task until interrupted or failed; needs a Scope for its producer and fibers. */
export const run = (p: SourceTaskParams) =>
  Effect.gen(function* () {
    const producer = yield* Producer.make(p.producerProps as Producer.ProducerConfig)
    const task = yield* p.plugin.task
    const pending = new Map<string, PartitionOffset>()
    const lock = yield* Effect.makeSemaphore(1)
    // Uninterruptible: the periodic flush takes the pending offsets before writing them, so an interrupted
    // flush (the task stopping) would lose them; the final flush then found nothing to write.
    const flush = lock.withPermits(1)(
      Effect.uninterruptible(
        Effect.gen(function* () {
          if (pending.size === 0) return
          const entries = [...pending.values()]
          pending.clear()
          yield* p.offsets.set(p.connector, entries)
          if (task.commit) yield* Effect.catchAll(task.commit, (e) => Effect.logWarning("source task commit failed", e))
        })
      )
    )
    yield* Effect.addFinalizer(() =>
      flush.pipe(
        Effect.catchAll((e) => Effect.logError("flushing source offsets failed", e)),
        Effect.zipRight(task.stop)
      )
    )
    const context: SourceTaskContext = {
      configs: p.taskProps,
      transactionContext: null,
      offsetStorageReader: { offset: (partition) => p.offsets.get(p.connector, partition) }
    }
    yield* task.start(p.taskProps, context)
    yield* p.onStarted
    yield* Effect.forkScoped(
      flush.pipe(
        Effect.catchAll((e) => Effect.logError("flushing source offsets failed", e)),
        Effect.repeat(Schedule.spaced(Duration.millis(p.flushIntervalMs)))
      )
    )
    const seenTopics = new Set<string>()

    // Sends run ahead of their acknowledgements: up to MAX_IN_FLIGHT polled batches are being sent while
    // the next poll runs; one fiber completes them in poll order (offsets, then commitRecord).
    const inFlight = yield* Queue.bounded<Effect.Effect<void, ConnectError, PluginEnv>>(MAX_IN_FLIGHT)

    const sendTopic = (topic: string, records: ReadonlyArray<RawRecord>) =>
      Effect.gen(function* () {
        if (!seenTopics.has(topic)) {
          seenTopics.add(topic)
          yield* p.onTopic(topic)
        }
        return yield* p.errors.effect(
          "KAFKA_PRODUCE",
          "producer",
          { description: `records for topic ${topic}` },
          producer.sendBatch(topic, records)
        )
      })

    const send = (records: ReadonlyArray<SourceRecord>) =>
      Effect.gen(function* () {
        const outgoing: Array<Outgoing> = []
        for (const source of records) {
          const prepared = prepare(p, source)
          if (prepared instanceof StageFailure) {
            yield* p.errors.report(prepared.failure, { description: `source record for topic ${source.topic}` })
            outgoing.push({ source, record: null })
          } else outgoing.push({ source, record: prepared })
        }
        const byTopic = new Map<string, Array<number>>()
        outgoing.forEach((o, i) => {
          if (o.record === null) return
          const list = byTopic.get(o.record.topic) ?? []
          list.push(i)
          byTopic.set(o.record.topic, list)
        })
        const sends = yield* Effect.forEach(byTopic, ([topic, indexes]) => {
          const fork = Effect.forkScoped(
            sendTopic(
              topic,
              indexes.map((i) => outgoing[i]!.record!)
            )
          )
          // A topic's first batch is sent (and acknowledged) before the poll goes on: its status write and the
          // producer's metadata lookup are asynchronous, so a later poll's batch forked meanwhile could be
          // appended first and reorder the topic. Later batches find the metadata cached and append in fork order.
          return Effect.map(seenTopics.has(topic) ? fork : Effect.tap(fork, Fiber.await), (fiber) => ({
            indexes,
            fiber
          }))
        })
        const complete = Effect.gen(function* () {
          const metadata = new Array<Producer.RecordMetadata | null>(outgoing.length).fill(null)
          for (const { indexes, fiber } of sends) {
            const acks = yield* Fiber.join(fiber)
            if (acks !== null)
              indexes.forEach((i, j) => {
                metadata[i] = acks[j]!
              })
          }
          yield* lock.withPermits(1)(
            Effect.sync(() => {
              for (const { source } of outgoing)
                if (source.sourcePartition !== null && source.sourceOffset !== null)
                  pending.set(JSON.stringify(source.sourcePartition), {
                    partition: source.sourcePartition,
                    offset: source.sourceOffset
                  })
            })
          )
          if (task.commitRecord) {
            const commitRecord = task.commitRecord
            yield* Effect.forEach(
              outgoing,
              (o, i) => Effect.ignoreLogged(commitRecord(o.source, metadata[i] ?? null)),
              {
                discard: true
              }
            )
          }
        })
        yield* Queue.offer(inFlight, complete)
      })

    const pollOnce: Effect.Effect<void, ConnectError | RetriableError, PluginEnv | Scope.Scope> = task.poll.pipe(
      Effect.catchIf(
        (e): e is RetriableError => e instanceof RetriableError,
        () => Effect.succeed(null)
      ),
      Effect.flatMap((records) => (records === null || records.length === 0 ? Effect.void : send(records)))
    )
    // the completion being run, kept until it finished: a stop may interrupt it while it awaits acknowledgements
    let current: Effect.Effect<void, ConnectError, PluginEnv> | undefined
    const acknowledge = Effect.forever(
      Effect.flatMap(Queue.take(inFlight), (complete) => {
        current = complete
        return Effect.tap(complete, () =>
          Effect.sync(() => {
            current = undefined
          })
        )
      })
    )
    // On a stop, the batches already sent get their acknowledgements (for up to offset.flush.timeout.ms, 5 s) and
    // their offsets kept, so the final flush commits them and a restart does not send them again.
    const settle = Effect.suspend(() => {
      const interrupted = current
      return Effect.flatMap(Queue.takeAll(inFlight), (rest) =>
        Effect.forEach(interrupted === undefined ? [...rest] : [interrupted, ...rest], (c) => Effect.ignore(c), {
          discard: true
        })
      )
    }).pipe(Effect.timeout(Duration.millis(5000)), Effect.ignore)
    return yield* Effect.all([Effect.forever(pollOnce), acknowledge], { concurrency: 2, discard: true }).pipe(
      Effect.onInterrupt(() => settle)
    )
  })
