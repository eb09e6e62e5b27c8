/**
 * The plugin API: connectors and their source and sink tasks, with the contexts the worker gives them.
 * A plugin is plain data (`SourcePlugin`/`SinkPlugin`): its config definition, version and two factories
 * that create a connector or task instance. Instances follow Kafka's contract: the worker calls a
 * connector's `start`, then `taskConfigs(maxTasks)`, then `stop`; a source task's `start`, then `poll`
 * (with `commit`/`commitRecord` as records are acknowledged) until `stop`; a sink task's `start`, `open`,
 * `put`, `preCommit` (whose default is `flush`), `close` and `stop`. Every method is an Effect whose
 * environment is `PluginEnv`, which the worker provides.
 */
import type { FileSystem, Path } from "@effect/platform"
import type { Effect } from "effect"
import type { SinkRecord, SourceRecord } from "../data/ConnectRecord.js"
import type { ConfigDef } from "./ConfigDef.js"
import type { ConnectError, PluginError } from "./ConnectError.js"

/** The services the worker provides to plugins. */
export type PluginEnv = FileSystem.FileSystem | Path.Path

/** Raw string properties, as in a connector or task config. */
export type Props = Readonly<Record<string, string>>

/** A Kafka topic partition. */
export interface TopicPartition {
  readonly topic: string
  readonly partition: number
}

/** A topic partition with an offset (the next offset to consume). */
export interface TopicPartitionOffset extends TopicPartition {
  readonly offset: number
}

/** A source partition or offset map (JSON values). */
export type SourceMap = Readonly<Record<string, unknown>>

/** What the worker gives a connector (Kafka's ConnectorContext). */
export interface ConnectorContext {
  /** Asks the worker to call `taskConfigs` again and restart tasks whose configs changed. */
  readonly requestTaskReconfiguration: Effect.Effect<void>
  /** Fails the connector with this error. */
  readonly raiseError: (error: unknown) => Effect.Effect<void>
}

/** A connector instance. */
export interface Connector {
  /** Starts with the connector's raw config. */
  readonly start: (props: Props, context: ConnectorContext) => Effect.Effect<void, PluginError, PluginEnv>
  /** The configs of up to `maxTasks` tasks. */
  readonly taskConfigs: (maxTasks: number) => Effect.Effect<ReadonlyArray<Props>, PluginError, PluginEnv>
  /** Stops the connector, releasing what `start` acquired. */
  readonly stop: Effect.Effect<void, never, PluginEnv>
}

/** Reads a source connector's committed offsets (Kafka's OffsetStorageReader). */
export interface OffsetStorageReader {
  /** The last committed offset of a source partition, or null. */
  readonly offset: (partition: SourceMap) => Effect.Effect<SourceMap | null>
}

/**
 * Lets a task define its own transaction boundaries (exactly-once sources with `transaction.boundary=connector`).
 * Without a record, the request applies after the next batch the task's `poll` returns is processed; with a
 * record, right after that record (records after it in the batch go into the next transaction). An abort
 * wins over a commit asked for the same point.
 */
export interface TransactionContext {
  /** Commits the open transaction after the next polled batch, or after `record`. */
  readonly commitTransaction: (record?: SourceRecord) => Effect.Effect<void>
  /** Aborts the open transaction after the next polled batch, or after `record`: its records are dropped. */
  readonly abortTransaction: (record?: SourceRecord) => Effect.Effect<void>
}

/** What the worker gives a source task. */
export interface SourceTaskContext {
  readonly configs: Props
  readonly offsetStorageReader: OffsetStorageReader
  /** Only with exactly-once sources and `transaction.boundary=connector`; null otherwise. */
  readonly transactionContext: TransactionContext | null
}

/** Where a produced record landed. */
export interface RecordMetadata {
  readonly topic: string
  readonly partition: number
  readonly offset: number
}

/** A source task instance. */
export interface SourceTask {
  readonly start: (props: Props, context: SourceTaskContext) => Effect.Effect<void, PluginError, PluginEnv>
  /** New records, or null/empty when there are none yet (the task may wait a little before answering). */
  readonly poll: Effect.Effect<ReadonlyArray<SourceRecord> | null, PluginError, PluginEnv>
  /** Called after the worker committed the offsets of the records polled so far. */
  readonly commit?: Effect.Effect<void, PluginError, PluginEnv>
  /** Called once a record is acknowledged (metadata) or dropped by a transform (null). */
  readonly commitRecord?: (
    record: SourceRecord,
    metadata: RecordMetadata | null
  ) => Effect.Effect<void, PluginError, PluginEnv>
  readonly stop: Effect.Effect<void, never, PluginEnv>
}

/** Reports a sink record the task could not process (to the DLQ and log, per `errors.*`). */
export type ErrantRecordReporter = (record: SinkRecord, error: unknown) => Effect.Effect<void, ConnectError>

/** What the worker gives a sink task (Kafka's SinkTaskContext). */
export interface SinkTaskContext {
  readonly configs: Props
  /** Rewinds partitions: the next records come from these offsets. */
  readonly offset: (offsets: ReadonlyArray<TopicPartitionOffset>) => Effect.Effect<void>
  /** After a RetriableError from `put`, wait this long before giving the same records again. */
  readonly timeout: (ms: number) => Effect.Effect<void>
  readonly assignment: Effect.Effect<ReadonlyArray<TopicPartition>>
  readonly pause: (partitions: ReadonlyArray<TopicPartition>) => Effect.Effect<void>
  readonly resume: (partitions: ReadonlyArray<TopicPartition>) => Effect.Effect<void>
  /** Asks for an offset commit as soon as possible. */
  readonly requestCommit: Effect.Effect<void>
  /** Present when the connector tolerates errors or has a DLQ (Kafka returns null otherwise). */
  readonly errantRecordReporter: ErrantRecordReporter | null
}

/** A sink task instance. */
export interface SinkTask {
  readonly start: (props: Props, context: SinkTaskContext) => Effect.Effect<void, PluginError, PluginEnv>
  /** Partitions newly assigned to this task. */
  readonly open?: (partitions: ReadonlyArray<TopicPartition>) => Effect.Effect<void, PluginError, PluginEnv>
  readonly put: (records: ReadonlyArray<SinkRecord>) => Effect.Effect<void, PluginError, PluginEnv>
  /** Flushes what `put` buffered up to these offsets. */
  readonly flush?: (offsets: ReadonlyArray<TopicPartitionOffset>) => Effect.Effect<void, PluginError, PluginEnv>
  /** The offsets safe to commit (default: `flush`, then all of them). */
  readonly preCommit?: (
    offsets: ReadonlyArray<TopicPartitionOffset>
  ) => Effect.Effect<ReadonlyArray<TopicPartitionOffset>, PluginError, PluginEnv>
  /** Partitions taken from this task. */
  readonly close?: (partitions: ReadonlyArray<TopicPartition>) => Effect.Effect<void, PluginError, PluginEnv>
  readonly stop: Effect.Effect<void, never, PluginEnv>
}

/** Whether a source connector can give exactly-once guarantees for a config. */
export type ExactlyOnceSupport = "SUPPORTED" | "UNSUPPORTED"

/** Whether a source connector's tasks can define their own transaction boundaries for a config. */
export type ConnectorTransactionBoundaries = "SUPPORTED" | "UNSUPPORTED"

/** Fields of every connector plugin. */
interface PluginBase {
  /** Kafka's fully qualified class name (or the module's own name for user plugins). */
  readonly className: string
  /** Extra aliases besides the simple class name and the simple name without "Connector". */
  readonly aliases?: ReadonlyArray<string>
  readonly version: string
  readonly config: ConfigDef
  readonly connector: Effect.Effect<Connector, never, PluginEnv>
}

/** A source connector plugin. */
export interface SourcePlugin extends PluginBase {
  readonly _tag: "source"
  readonly task: Effect.Effect<SourceTask, never, PluginEnv>
  /**
   * Whether the connector gives exactly-once guarantees with this config (checked when `exactly.once.support`
   * is `required`); absent or null means the connector does not say.
   */
  readonly exactlyOnceSupport?: (props: Props) => ExactlyOnceSupport | null
  /** Whether tasks can use `TransactionContext` with this config (needed by `transaction.boundary=connector`); default UNSUPPORTED. */
  readonly canDefineTransactionBoundaries?: (props: Props) => ConnectorTransactionBoundaries
  /** Checks (and may veto) an offsets change; the default accepts any. */
  readonly alterOffsets?: (
    props: Props,
    offsets: ReadonlyArray<{ readonly partition: SourceMap; readonly offset: SourceMap | null }>
  ) => Effect.Effect<void, ConnectError>
}

/** A sink connector plugin. */
export interface SinkPlugin extends PluginBase {
  readonly _tag: "sink"
  readonly task: Effect.Effect<SinkTask, never, PluginEnv>
  readonly alterOffsets?: (
    props: Props,
    offsets: ReadonlyArray<{ readonly partition: TopicPartition; readonly offset: number | null }>
  ) => Effect.Effect<void, ConnectError>
}

/** Any connector plugin. */
export type ConnectorPlugin = SourcePlugin | SinkPlugin

/** Defines a source plugin. */
export const source = (plugin: Omit<SourcePlugin, "_tag">): SourcePlugin => ({ _tag: "source", ...plugin })

/** Defines a sink plugin. */
export const sink = (plugin: Omit<SinkPlugin, "_tag">): SinkPlugin => ({ _tag: "sink", ...plugin })
