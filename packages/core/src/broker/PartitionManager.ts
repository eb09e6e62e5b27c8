/**
 * The seam between topic metadata and partition storage: the topic registry calls it to create,
 * grow, reconfigure and delete the partitions (logs) of a topic, and DescribeLogDirs reads sizes
 * from it.
 *
 * `layerLogStorage` opens and deletes logs through the log engine's `LogStorage` (the broker's
 * default); `layerMemory` only records which partitions exist (tests). The produce/fetch path may
 * swap in an implementation that also starts PartitionReplica actors. Any implementation must make
 * `createPartitions` idempotent: the broker calls it for every registered topic at start-up. A
 * `createPartitions` that fails part-way may leave some partitions open: the registry then removes the new
 * ones with `deletePartitions(topic, from)`, which must close them and delete their folders.
 */
import * as fs from "node:fs/promises"
import { Context, Effect, Layer, Option, Ref } from "effect"
import type * as LogConfig from "../log/LogConfig.js"
import { LogStorage } from "../log/LogStorage.js"
import type { KafkaStorageError } from "./BrokerError.js"

/** The partitions a topic should have, with the effective log configuration. */
export interface TopicPartitions {
  readonly topic: string
  /** The topic id in Kafka's string form (base64url of 16 bytes). */
  readonly topicId: string
  /** Total partition count: partitions `0..count-1` must exist after the call (those in `hosted`, when given). */
  readonly count: number
  /**
   * The partitions this broker hosts (a cluster's placement): only these are opened. Undefined: every partition,
   * except, for a manager that follows the metadata store, those whose record names other brokers.
   */
  readonly hosted?: ReadonlyArray<number> | undefined
  readonly config: LogConfig.LogConfig
}

/** Size and lag of one hosted partition (DescribeLogDirs). */
export interface PartitionLogInfo {
  readonly topic: string
  readonly partition: number
  /** Bytes on disk of all the partition's segments. */
  readonly size: number
  /** How far this replica's log end offset lags the high watermark (0 for a leader). */
  readonly offsetLag: number
}

/** One data directory (DescribeLogDirs). */
export interface LogDirInfo {
  /** Absolute path. */
  readonly path: string
  /** Capacity of the file system, -1 when unknown. */
  readonly totalBytes: number
  /** Free space of the file system, -1 when unknown. */
  readonly usableBytes: number
  readonly partitions: ReadonlyArray<PartitionLogInfo>
}

/** Creates, deletes and configures partition logs on behalf of the topic registry. */
export class PartitionManager extends Context.Tag("@eddy/core/broker/PartitionManager")<
  PartitionManager,
  {
    /** Ensures partitions `0..count-1` of the topic exist (opening or creating their logs). Idempotent. */
    readonly createPartitions: (topic: TopicPartitions) => Effect.Effect<void, KafkaStorageError>
    /**
     * Closes and deletes the topic's partition logs numbered `from` (default 0: all) and up, open or only on disk.
     * Deleting an unknown topic succeeds.
     */
    readonly deletePartitions: (topic: string, from?: number) => Effect.Effect<void, KafkaStorageError>
    /** File descriptors a new partition holds once written to (0: none); the registry checks the budget with it. */
    readonly descriptorsPerPartition?: number
    /** Applies a new effective configuration to the topic's open logs. */
    readonly applyConfig: (topic: string, config: LogConfig.LogConfig) => Effect.Effect<void, KafkaStorageError>
    /** Sizes of the hosted partitions, per data directory. */
    readonly logDirInfo: Effect.Effect<ReadonlyArray<LogDirInfo>, KafkaStorageError>
  }
>() {}

interface MemoryTopic {
  readonly topicId: string
  readonly count: number
  readonly config: LogConfig.LogConfig
}

/** A partition manager that only records which partitions exist (every size is 0). */
export const makeMemory = (dir = "memory"): Effect.Effect<PartitionManager["Type"]> =>
  Effect.gen(function* () {
    const topics = yield* Ref.make(new Map<string, MemoryTopic>())
    return PartitionManager.of({
      createPartitions: (t) =>
        Ref.update(topics, (m) => {
          const prev = m.get(t.topic)
          if (prev !== undefined && prev.count >= t.count) return m
          return new Map(m).set(t.topic, { topicId: t.topicId, count: t.count, config: t.config })
        }),
      deletePartitions: (topic, from = 0) =>
        Ref.update(topics, (m) => {
          const next = new Map(m)
          const prev = m.get(topic)
          if (from <= 0 || prev === undefined) next.delete(topic)
          else if (prev.count > from) next.set(topic, { ...prev, count: from })
          return next
        }),
      applyConfig: (topic, config) =>
        Ref.update(topics, (m) => {
          const prev = m.get(topic)
          return prev === undefined ? m : new Map(m).set(topic, { ...prev, config })
        }),
      logDirInfo: Effect.map(Ref.get(topics), (m) => [
        {
          path: dir,
          totalBytes: -1,
          usableBytes: -1,
          partitions: [...m].flatMap(([topic, t]) =>
            Array.from({ length: t.count }, (_, partition) => ({ topic, partition, size: 0, offsetLag: 0 }))
          )
        }
      ])
    })
  })

/** {@link makeMemory} as a layer. */
export const layerMemory: Layer.Layer<PartitionManager> = Layer.effect(PartitionManager, makeMemory())

/** Descriptors of a new partition's log once written: its active segment's `.log`, `.index` and `.timeindex`. */
export const DESCRIPTORS_PER_PARTITION = 3

/** A partition manager over the log engine: one log per partition, opened, reconfigured and deleted. */
export const makeLogStorage: Effect.Effect<PartitionManager["Type"], never, LogStorage> = Effect.gen(function* () {
  const storage = yield* LogStorage
  const hosted = (topic: string) =>
    Effect.map(storage.list, (tps) => tps.filter((tp) => tp.topic === topic).map((tp) => tp.partition))
  const space = Effect.promise(() =>
    fs.statfs(storage.dataDir).then(
      (s) => ({ totalBytes: s.blocks * s.bsize, usableBytes: s.bavail * s.bsize }),
      () => ({ totalBytes: -1, usableBytes: -1 })
    )
  )
  return PartitionManager.of({
    createPartitions: (t) =>
      Effect.forEach(
        t.hosted ?? Array.from({ length: t.count }, (_, partition) => partition),
        (partition) => storage.open({ topic: t.topic, partition }, t.config),
        { discard: true }
      ),
    deletePartitions: (topic, from = 0) =>
      Effect.flatMap(hosted(topic), (partitions) =>
        Effect.forEach(
          partitions.filter((p) => p >= from),
          (partition) => storage.delete({ topic, partition }),
          { discard: true }
        )
      ),
    descriptorsPerPartition: DESCRIPTORS_PER_PARTITION,
    applyConfig: (topic, config) =>
      Effect.flatMap(hosted(topic), (partitions) =>
        Effect.forEach(
          partitions,
          (partition) =>
            Effect.flatMap(storage.get({ topic, partition }), (log) =>
              Option.isSome(log) ? log.value.updateConfig(config) : Effect.void
            ),
          { discard: true }
        )
      ),
    logDirInfo: Effect.gen(function* () {
      const tps = yield* storage.list
      const partitions: Array<PartitionLogInfo> = []
      for (const tp of tps) {
        const log = yield* storage.get(tp)
        partitions.push({
          topic: tp.topic,
          partition: tp.partition,
          size: Option.isSome(log) ? log.value.size : 0,
          offsetLag: 0
        })
      }
      const { totalBytes, usableBytes } = yield* space
      return [{ path: storage.dataDir, totalBytes, usableBytes, partitions }]
    })
  })
})

/** {@link makeLogStorage} as a layer (needs a `LogStorage`). */
export const layerLogStorage: Layer.Layer<PartitionManager, never, LogStorage> = Layer.effect(
  PartitionManager,
  makeLogStorage
)
