/**
 * A topic used as a replicated log, as Kafka Connect's `KafkaBasedLog`: created if missing (compacted, with the
 * configured partitions and replication factor; an existing one must be compacted), read from the start to the
 * end before `make` returns, then tailed by one fiber that hands every record to `onRecord` in offset order per
 * partition. Writes go through an idempotent producer (`acks=all`); `readToEnd` waits until everything written
 * before the call (by anyone) has been handed to `onRecord`, so a reader answers from a state at least as new
 * as its call.
 *
 * Invariants: only the tail fiber calls `onRecord` and advances `positions`; positions only grow; the tail
 * fiber retries fetch errors forever (logged), so a broker outage delays readers but never ends the log.
 */
import * as Admin from "@eddy/core/client/Admin"
import type * as ClientConfig from "@eddy/core/client/ClientConfig"
import * as Fetcher from "@eddy/core/client/Fetcher"
import * as Producer from "@eddy/core/client/Producer"
import * as Topic from "@eddy/core/client/Topic"
import { Duration, Effect, Schedule, Schema, type Scope, Stream, SubscriptionRef } from "effect"

/** The topic of a log cannot be created, read or written. */
export class KafkaBasedLogError extends Schema.TaggedError<KafkaBasedLogError>()("KafkaBasedLogError", {
  topic: Schema.String,
  message: Schema.String
}) {}

/** A record read from the log. */
export type LogRecord = Topic.ConsumerRecord<Uint8Array | null, Uint8Array | null>

/** Settings of a log. */
export interface KafkaBasedLogOptions {
  readonly topic: string
  /** Partitions when the topic is created. */
  readonly partitions: number
  /** Replication factor when the topic is created (-1: the broker's default). */
  readonly replicationFactor: number
  /** Topic configs when the topic is created; `cleanup.policy=compact` is always set. */
  readonly topicConfigs?: Readonly<Record<string, string>>
  /** Settings of the admin client (`bootstrap.servers`, ...). */
  readonly adminProps: Readonly<Record<string, unknown>>
  readonly producerProps: Readonly<Record<string, unknown>>
  readonly consumerProps: Readonly<Record<string, unknown>>
}

/** A topic-backed log. */
export interface KafkaBasedLog {
  readonly topic: string
  /** The topic's partition count. */
  readonly partitions: number
  /** Writes one record and waits for its acknowledgement. */
  readonly send: (
    key: Uint8Array | null,
    value: Uint8Array | null,
    partition?: number
  ) => Effect.Effect<Producer.RecordMetadata, KafkaBasedLogError>
  /** Waits until every record written before the call has been read. */
  readonly readToEnd: Effect.Effect<void, KafkaBasedLogError>
  /** The next offset to read, per partition (what the log has read so far). */
  readonly positions: Effect.Effect<ReadonlyMap<number, number>>
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e))

/** Fails unless an existing topic's `cleanup.policy` includes `compact` (Kafka Connect refuses others too). */
const requireCompacted = (admin: Admin.Admin, topic: string): Effect.Effect<void, KafkaBasedLogError> =>
  Effect.gen(function* () {
    const described = yield* admin
      .describeConfigs([{ type: "topic", name: topic, keys: ["cleanup.policy"] }])
      .pipe(Effect.mapError((e) => new KafkaBasedLogError({ topic, message: errorText(e) })))
    const policy = described[0]?.configs.find((c) => c.name === "cleanup.policy")?.value ?? ""
    if (!policy.split(",").some((p) => p.trim() === "compact"))
      return yield* new KafkaBasedLogError({
        topic,
        message: `Topic '${topic}' is required to have 'cleanup.policy=compact' to guarantee consistency and durability of its records, but found the topic currently has 'cleanup.policy=${policy}'. Continuing would likely result in eventually losing records and problems restarting this Connect cluster in the future. Change the topic's cleanup policy or use another topic.`
      })
  })

/** Creates the topic if it does not exist (else checks it is compacted); returns its partition count. */
export const ensureTopic = (
  admin: Admin.Admin,
  options: Pick<KafkaBasedLogOptions, "topic" | "partitions" | "replicationFactor" | "topicConfigs">
): Effect.Effect<number, KafkaBasedLogError> =>
  Effect.gen(function* () {
    const fail = (e: unknown) => new KafkaBasedLogError({ topic: options.topic, message: errorText(e) })
    const existing = yield* Effect.mapError(admin.listTopics({ includeInternal: true }), fail)
    if (!existing.includes(options.topic))
      yield* admin
        .createTopics([
          {
            name: options.topic,
            numPartitions: options.partitions,
            replicationFactor: options.replicationFactor,
            configs: { ...options.topicConfigs, "cleanup.policy": "compact" }
          }
        ])
        .pipe(
          Effect.catchIf(
            (e) => e._tag === "KafkaError" && e.errorName === "TOPIC_ALREADY_EXISTS",
            () => Effect.void
          ),
          Effect.mapError(fail)
        )
    else yield* requireCompacted(admin, options.topic)
    const described = yield* admin
      .describeTopics([options.topic])
      .pipe(Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 50 }), Effect.mapError(fail))
    return described[0]?.partitions.length ?? options.partitions
  })

/** Opens a log in the current scope: creates the topic if needed, reads it to the end, then tails it. */
export const make = (
  options: KafkaBasedLogOptions,
  onRecord: (record: LogRecord) => Effect.Effect<void>
): Effect.Effect<KafkaBasedLog, KafkaBasedLogError, Scope.Scope> =>
  Effect.gen(function* () {
    const topic = options.topic
    const fail = (e: unknown) => new KafkaBasedLogError({ topic, message: errorText(e) })
    const admin = yield* Admin.make(options.adminProps as ClientConfig.ClientConfig)
    const partitions = yield* ensureTopic(admin, options)
    const producer = yield* Producer.make({
      ...(options.producerProps as Producer.ProducerConfig),
      acks: -1,
      "enable.idempotence": true
    })
    const fetcher = yield* Fetcher.make({
      ...(options.consumerProps as Fetcher.FetcherConfig),
      "auto.offset.reset": "earliest"
    })
    const raw = Topic.raw(topic)
    const all = Array.from({ length: partitions }, (_, p) => p)
    const start = yield* Effect.mapError(
      fetcher.resolveOffsets(
        topic,
        all.map((partition) => ({ partition, offset: "earliest" as const }))
      ),
      fail
    )
    const positions = yield* SubscriptionRef.make<ReadonlyMap<number, number>>(start)

    const tailOnce = Effect.gen(function* () {
      const current = yield* SubscriptionRef.get(positions)
      const round = yield* fetcher.fetchOnce(raw, current)
      for (const record of round.records) yield* onRecord(record)
      yield* SubscriptionRef.set(positions, round.positions)
    })
    yield* Effect.forkScoped(
      Effect.forever(
        tailOnce.pipe(
          Effect.tapError((e) => Effect.logWarning(`Reading ${topic} failed, retrying: ${errorText(e)}`)),
          Effect.retry(Schedule.spaced(Duration.millis(200)))
        )
      )
    )

    const readToEnd = Effect.gen(function* () {
      const ends = yield* Effect.mapError(
        fetcher.resolveOffsets(
          topic,
          all.map((partition) => ({ partition, offset: "latest" as const }))
        ),
        fail
      )
      const caughtUp = (m: ReadonlyMap<number, number>) => [...ends].every(([p, end]) => (m.get(p) ?? 0) >= end)
      yield* positions.changes.pipe(Stream.filter(caughtUp), Stream.runHead)
    })

    yield* readToEnd
    return {
      topic,
      partitions,
      send: (key, value, partition) =>
        Effect.mapError(producer.send(topic, { key, value, ...(partition === undefined ? {} : { partition }) }), fail),
      readToEnd,
      positions: SubscriptionRef.get(positions)
    }
  })
