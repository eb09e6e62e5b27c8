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
import { Duration, Effect, Schedule } from "effect"
import type { Converter, HeaderConverter } from "../converters/Converter.js"
import type { SourceRecord } from "../data/ConnectRecord.js"
import { type ConnectError, RetriableError } from "../plugin/ConnectError.js"
import type { PluginEnv, Props, SourcePlugin, SourceTaskContext } from "../plugin/Connector.js"
import type { OffsetStoreShape, PartitionOffset } from "./OffsetStore.js"
import type { RecordErrors } from "./RecordErrors.js"
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
interface RawRecord extends Topic.ProducerRecord<Uint8Array | null, Uint8Array | null> {
  readonly topic: string
}

type Outgoing = { readonly source: SourceRecord; readonly record: RawRecord | null }

const applyTransforms = (p: SourceTaskParams, record: SourceRecord, description: string) =>
  Effect.gen(function* () {
    let current: SourceRecord | null = record
    for (const stage of p.transforms) {
      if (current === null) break
      const input: SourceRecord = current
      current = yield* p.errors.sync("TRANSFORMATION", stage.className, { description }, () => stage.apply(input))
    }
    return current
  })

const convert = (p: SourceTaskParams, r: SourceRecord, description: string) =>
  Effect.gen(function* (): Effect.fn.Return<RawRecord | null, ConnectError> {
    const ctx = { description }
    const key = yield* p.errors.sync("KEY_CONVERTER", "key.converter", ctx, () =>
      p.keyConverter.fromConnectData(r.topic, r.keySchema, r.key, r.headers)
    )
    const value = yield* p.errors.sync("VALUE_CONVERTER", "value.converter", ctx, () => ({
      bytes: p.valueConverter.fromConnectData(r.topic, r.valueSchema, r.value, r.headers)
    }))
    if (value === null || (key === null && r.key !== null)) return null
    const headers = yield* p.errors.sync("HEADER_CONVERTER", "header.converter", ctx, () =>
      r.headers.map((h) => ({
        key: h.key,
        value: p.headerConverter.fromConnectHeader(r.topic, h.key, h.schema, h.value)
      }))
    )
    if (headers === null) return null
    return {
      topic: r.topic,
      key,
      value: value.bytes,
      headers,
      ...(r.kafkaPartition !== null ? { partition: r.kafkaPartition } : {}),
      ...(r.timestamp !== null ? { timestamp: r.timestamp } : {})
    }
  })

/** Runs the task until interrupted or failed; needs a Scope for its producer and fibers. */
export const run = (p: SourceTaskParams) =>
  Effect.gen(function* () {
    const producer = yield* Producer.make(p.producerProps as Producer.ProducerConfig)
    const task = yield* p.plugin.task
    const pending = new Map<string, PartitionOffset>()
    const lock = yield* Effect.makeSemaphore(1)
    const flush = lock.withPermits(1)(
      Effect.gen(function* () {
        if (pending.size === 0) return
        const entries = [...pending.values()]
        pending.clear()
        yield* p.offsets.set(p.connector, entries)
        if (task.commit) yield* Effect.catchAll(task.commit, (e) => Effect.logWarning("source task commit failed", e))
      })
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

    const sendBatch = (records: ReadonlyArray<SourceRecord>) =>
      Effect.gen(function* () {
        const outgoing: Array<Outgoing> = []
        for (const source of records) {
          const description = `source record for topic ${source.topic}`
          const transformed = yield* applyTransforms(p, source, description)
          outgoing.push({ source, record: transformed === null ? null : yield* convert(p, transformed, description) })
        }
        const byTopic = new Map<string, Array<number>>()
        outgoing.forEach((o, i) => {
          if (o.record === null) return
          const list = byTopic.get(o.record.topic) ?? []
          list.push(i)
          byTopic.set(o.record.topic, list)
        })
        const metadata = new Array<Producer.RecordMetadata | null>(outgoing.length).fill(null)
        yield* Effect.forEach(
          byTopic,
          ([topic, indexes]) =>
            Effect.gen(function* () {
              if (!seenTopics.has(topic)) {
                seenTopics.add(topic)
                yield* p.onTopic(topic)
              }
              const acks = yield* p.errors.effect(
                "KAFKA_PRODUCE",
                "producer",
                { description: `records for topic ${topic}` },
                producer.sendBatch(
                  topic,
                  indexes.map((i) => outgoing[i]!.record!)
                )
              )
              if (acks !== null)
                indexes.forEach((i, j) => {
                  metadata[i] = acks[j]!
                })
            }),
          { concurrency: "unbounded", discard: true }
        )
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
          yield* Effect.forEach(outgoing, (o, i) => commitRecord(o.source, metadata[i] ?? null), { discard: true })
        }
      })

    const pollOnce: Effect.Effect<void, ConnectError | RetriableError, PluginEnv> = task.poll.pipe(
      Effect.catchIf(
        (e): e is RetriableError => e instanceof RetriableError,
        () => Effect.succeed(null)
      ),
      Effect.flatMap((records) => (records === null || records.length === 0 ? Effect.void : sendBatch(records)))
    )
    return yield* Effect.forever(pollOnce)
  })
