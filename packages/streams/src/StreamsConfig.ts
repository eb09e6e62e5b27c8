/**
 * Configuration of a streams application under Kafka Streams' names and defaults
 * (`application.id`, `processing.guarantee`, `commit.interval.ms`, ...), and the resolution of the
 * defaults that depend on other settings (the commit interval under exactly-once).
 */
import * as os from "node:os"
import * as Path from "node:path"
import type * as ClientConfig from "@eddy/core/client/ClientConfig"
import type { DslStoreType, Serde } from "./dsl/Options.js"
import type { HandlerResponse } from "./internal/task/Task.js"
import type { TimestampExtractor } from "./processor/TimestampExtractor.js"
import type { DeserializationError, ProcessingError, ProductionError } from "./StreamsError.js"

/** A per-record exception handler: a named policy or a function answering "fail" or "continue". */
export type ExceptionHandler<E> = "log-and-fail" | "log-and-continue" | ((error: E) => HandlerResponse)

/** What happens when a stream thread dies (Kafka's `StreamsUncaughtExceptionHandler` answers). */
export type UncaughtExceptionResponse = "REPLACE_THREAD" | "SHUTDOWN_CLIENT" | "SHUTDOWN_APPLICATION"

/** Settings of a streams application (Kafka Streams' names). */
export interface StreamsConfig {
  /** Required: the consumer group id, prefix of internal topics and of transactional ids. */
  readonly "application.id": string
  readonly "bootstrap.servers"?: ClientConfig.ClientConfig["bootstrap.servers"]
  readonly "client.id"?: string
  /** `at_least_once` (default) or `exactly_once_v2`. */
  readonly "processing.guarantee"?: "at_least_once" | "exactly_once_v2"
  /** Default 30000, or 100 under exactly_once_v2. */
  readonly "commit.interval.ms"?: number
  readonly "num.stream.threads"?: number
  /** Record cache size over all threads (default 10485760); 0 sends every update downstream. */
  readonly "statestore.cache.max.bytes"?: number
  /**
   * Where tasks keep persistent stores and `.checkpoint` files, under `<state.dir>/<application.id>/<taskId>`
   * (default `<tmpdir>/kafka-streams`).
   */
  readonly "state.dir"?: string
  /** The store type of DSL stores without their own: `rocksDB` (default; Eddy's persistent lmdb store) or `in_memory`. */
  readonly "default.dsl.store"?: DslStoreType
  readonly "default.key.serde"?: Serde<unknown>
  readonly "default.value.serde"?: Serde<unknown>
  /** Replication factor of internal topics (-1: the broker's default). */
  readonly "replication.factor"?: number
  /**
   * How long (wall-clock ms) a task with several input partitions waits for a partition with no buffered
   * records before it processes the others anyway (default 0: no waiting; -1: never wait).
   */
  readonly "max.task.idle.ms"?: number
  /** The event time of input records (default `failOnInvalidTimestamp`); `Consumed.timestampExtractor` overrides it per source. */
  readonly "default.timestamp.extractor"?: TimestampExtractor
  readonly "poll.ms"?: number
  readonly "repartition.purge.interval.ms"?: number
  readonly "session.timeout.ms"?: number
  readonly "heartbeat.interval.ms"?: number
  readonly "max.poll.interval.ms"?: number
  readonly "transaction.timeout.ms"?: number
  readonly "deserialization.exception.handler"?: ExceptionHandler<DeserializationError>
  readonly "processing.exception.handler"?: ExceptionHandler<ProcessingError>
  readonly "production.exception.handler"?: ExceptionHandler<ProductionError>
  /**
   * This instance's `host:port` for interactive queries (default ""): shared with every instance through the
   * group's assignment, so each knows where every task's stores are.
   */
  readonly "application.server"?: string
  /**
   * Eddy's interactive-query HTTP endpoint: serve `GET /stores/<store>/keys/<key>` (and `/all`, `/range`,
   * `/metadata`) on this port; unset: no endpoint. Set `application.server` to the `host:port` other
   * instances reach it on (redirects point there).
   */
  readonly "eddy.interactive.queries.http.port"?: number
  /** The address the endpoint binds (default `0.0.0.0`). */
  readonly "eddy.interactive.queries.http.host"?: string
  /** Standby replicas per stateful task on other instances (default 0). */
  readonly "num.standby.replicas"?: number
  /** Records an instance may lag behind a task's changelogs and still count as caught up (default 10000). */
  readonly "acceptable.recovery.lag"?: number
  /** Warm-up replicas (extra standbys catching up before a task moves) at a time (default 2). */
  readonly "max.warmup.replicas"?: number
  /** How long after an assignment with warm-ups the group rebalances again to check them (default 600000). */
  readonly "probing.rebalance.interval.ms"?: number
  /**
   * What to do when a stream thread fails (default SHUTDOWN_CLIENT; SHUTDOWN_APPLICATION stops every
   * instance of the application through the group).
   */
  readonly "uncaught.exception.handler"?: (error: unknown) => UncaughtExceptionResponse
}

/** Kafka Streams' defaults. */
export const defaults = {
  "processing.guarantee": "at_least_once",
  "commit.interval.ms": 30_000,
  "commit.interval.ms.eos": 100,
  "num.stream.threads": 1,
  "default.dsl.store": "rocksDB",
  "statestore.cache.max.bytes": 10_485_760,
  "replication.factor": -1,
  "max.task.idle.ms": 0,
  "poll.ms": 100,
  "repartition.purge.interval.ms": 30_000,
  "transaction.timeout.ms": 10_000,
  "application.server": "",
  "eddy.interactive.queries.http.host": "0.0.0.0",
  "num.standby.replicas": 0,
  "acceptable.recovery.lag": 10_000,
  "max.warmup.replicas": 2,
  "probing.rebalance.interval.ms": 600_000
} as const

/** The commit interval in effect (100 ms under exactly_once_v2 unless set). */
export const commitIntervalMs = (config: StreamsConfig): number =>
  config["commit.interval.ms"] ??
  (config["processing.guarantee"] === "exactly_once_v2"
    ? defaults["commit.interval.ms.eos"]
    : defaults["commit.interval.ms"])

/** The state directory in effect. */
export const stateDir = (config: StreamsConfig): string =>
  config["state.dir"] ?? Path.join(os.tmpdir(), "kafka-streams")

/** The handler's answer for an error. */
export const respond = <E>(handler: ExceptionHandler<E> | undefined, error: E): HandlerResponse =>
  handler === undefined || handler === "log-and-fail"
    ? "fail"
    : handler === "log-and-continue"
      ? "continue"
      : handler(error)
