/**
 * The log storage service: opens, creates and deletes partition logs under a data folder (one
 * sub-folder per partition, `<topic>-<partition>`), and runs retention, the `flush.ms` flusher and
 * compaction on schedules driven by Effect's `Clock`. Two layers: `layer` (files, through `node:fs`)
 * and `layerMemory` (the same engine over an in-memory disk).
 */
import * as Path from "node:path"
import { Context, Duration, Effect, Layer, Option, type Scope } from "effect"
import * as Disk from "./internal/disk.js"
import * as internal from "./internal/log.js"
import type { CleanerStats, Log } from "./Log.js"
import * as LogConfig from "./LogConfig.js"
import type { KafkaStorageError } from "./LogError.js"

/** A topic partition. */
export interface TopicPartition {
  readonly topic: string
  readonly partition: number
}

/** The folder name of a partition: `<topic>-<partition>`, as in Kafka. */
export const folderName = (tp: TopicPartition): string => `${tp.topic}-${tp.partition}`

/** The partition a folder name stands for, if it is one. */
export const parseFolderName = (name: string): TopicPartition | undefined => {
  const i = name.lastIndexOf("-")
  if (i <= 0) return undefined
  const partition = Number(name.slice(i + 1))
  return Number.isInteger(partition) && partition >= 0 && String(partition) === name.slice(i + 1)
    ? { topic: name.slice(0, i), partition }
    : undefined
}

/** The log storage service. */
export class LogStorage extends Context.Tag("@eddy/core/log/LogStorage")<LogStorage, LogStorage.Service>() {}

/** Types of the log storage service. */
export declare namespace LogStorage {
  /** The service. */
  export interface Service {
    /** The data folder. */
    readonly dataDir: string
    /** The disk the logs live on, for files their owners keep beside them (producer-state snapshots). */
    readonly disk: Disk.Disk
    /**
     * Opens a partition's log, creating it when missing and recovering it after an unclean shutdown;
     * returns the already open log when it is. `config` overrides the storage's topic defaults.
     */
    readonly open: (tp: TopicPartition, config?: Partial<LogConfig.LogConfig>) => Effect.Effect<Log, KafkaStorageError>
    /** The open log of a partition, if any. */
    readonly get: (tp: TopicPartition) => Effect.Effect<Option.Option<Log>>
    /** The partitions with a folder in the data folder. */
    readonly list: Effect.Effect<ReadonlyArray<TopicPartition>, KafkaStorageError>
    /** Closes a partition's log cleanly (it can be opened again). */
    readonly close: (tp: TopicPartition) => Effect.Effect<void, KafkaStorageError>
    /** Deletes a partition's log and folder. */
    readonly delete: (tp: TopicPartition) => Effect.Effect<void, KafkaStorageError>
    /** Runs retention (and the `flush.ms` check) over every open log now; returns the segments deleted. */
    readonly runRetention: Effect.Effect<number>
    /** Runs one compaction pass over every open compacted log now. */
    readonly runCleaner: Effect.Effect<CleanerStats>
    /** Flushes every open log. */
    readonly flushAll: Effect.Effect<void, KafkaStorageError>
  }
}

const every = (ms: number, task: Effect.Effect<unknown>): Effect.Effect<void, never, Scope.Scope> =>
  ms >= LogConfig.LONG_MAX || ms <= 0
    ? Effect.void
    : Effect.forkScoped(Effect.forever(Effect.zipRight(Effect.sleep(Duration.millis(ms)), task))).pipe(Effect.asVoid)

/** Builds the service over a disk; the scope closes every log cleanly and stops the schedules. */
export const make = (options: {
  readonly disk: Disk.Disk
  readonly config?: Partial<LogConfig.StorageConfig>
}): Effect.Effect<LogStorage.Service, KafkaStorageError, Scope.Scope> =>
  Effect.gen(function* () {
    const config: LogConfig.StorageConfig = { ...LogConfig.storageDefaults, ...options.config }
    const disk = options.disk
    const dataDir = config["log.dirs"]
    yield* disk.mkdir(dataDir)
    const logs = new Map<string, internal.LogImpl>()
    const opening = yield* Effect.makeSemaphore(1)

    const open = (tp: TopicPartition, overrides: Partial<LogConfig.LogConfig> = {}) =>
      opening.withPermits(1)(
        Effect.suspend(() => {
          const name = folderName(tp)
          const existing = logs.get(name)
          if (existing) return Effect.succeed(existing as Log)
          return internal
            .open({ disk, dir: Path.join(dataDir, name), config: LogConfig.make({ ...config.log, ...overrides }) })
            .pipe(
              Effect.tap((log) => Effect.sync(() => logs.set(name, log))),
              Effect.map((log): Log => log)
            )
        })
      )

    const forEachLog = <A>(f: (log: internal.LogImpl) => Effect.Effect<A, KafkaStorageError>) =>
      Effect.suspend(() =>
        Effect.forEach([...logs.values()], (log) =>
          f(log).pipe(
            Effect.map(Option.some),
            Effect.catchAllCause((cause) =>
              Effect.logWarning(`log task failed for ${log.dir}`, cause).pipe(Effect.as(Option.none<A>()))
            )
          )
        )
      ).pipe(Effect.map((results) => results.filter(Option.isSome).map((o) => o.value)))

    const runRetention = forEachLog((log) => Effect.zipLeft(log.deleteOldSegments, log.flushIfDue)).pipe(
      Effect.map((ns) => ns.reduce((a, b) => a + b, 0))
    )

    const runCleaner = forEachLog((log) => log.compact).pipe(
      Effect.map((all) =>
        all.reduce(
          (a, b) => ({
            segmentsCleaned: a.segmentsCleaned + b.segmentsCleaned,
            bytesRead: a.bytesRead + b.bytesRead,
            bytesWritten: a.bytesWritten + b.bytesWritten,
            recordsRemoved: a.recordsRemoved + b.recordsRemoved
          }),
          { segmentsCleaned: 0, bytesRead: 0, bytesWritten: 0, recordsRemoved: 0 }
        )
      )
    )

    yield* Effect.addFinalizer(() =>
      Effect.forEach([...logs.values()], (log) =>
        log.close.pipe(Effect.catchAllCause((c) => Effect.logWarning(`closing ${log.dir} failed`, c)))
      )
    )
    yield* every(config["log.retention.check.interval.ms"], runRetention)
    yield* every(
      config["log.flush.scheduler.interval.ms"],
      forEachLog((log) => log.flushIfDue)
    )
    if (config["log.cleaner.enable"]) yield* every(config["log.cleaner.backoff.ms"], runCleaner)

    const service: LogStorage.Service = {
      dataDir,
      disk,
      open,
      get: (tp) => Effect.sync(() => Option.fromNullable(logs.get(folderName(tp)) as Log | undefined)),
      list: disk.list(dataDir).pipe(Effect.map((names) => names.flatMap((n) => parseFolderName(n) ?? []))),
      close: (tp) =>
        opening.withPermits(1)(
          Effect.suspend(() => {
            const log = logs.get(folderName(tp))
            if (!log) return Effect.void
            logs.delete(folderName(tp))
            return log.close
          })
        ),
      delete: (tp) =>
        opening.withPermits(1)(
          Effect.suspend(() => {
            const name = folderName(tp)
            const log = logs.get(name)
            logs.delete(name)
            return log ? log.delete : disk.removeDir(Path.join(dataDir, name))
          })
        ),
      runRetention,
      runCleaner,
      flushAll: Effect.suspend(() => Effect.forEach([...logs.values()], (log) => log.flush, { discard: true }))
    }
    return service
  })

/** The file-based storage under `log.dirs`. */
export const layer = (config: Partial<LogConfig.StorageConfig> = {}): Layer.Layer<LogStorage, KafkaStorageError> =>
  Layer.scoped(LogStorage, make({ disk: Disk.node, config }))

/** The same engine over an in-memory disk (tests, simulations): nothing survives the layer. */
export const layerMemory = (
  config: Partial<LogConfig.StorageConfig> = {}
): Layer.Layer<LogStorage, KafkaStorageError> =>
  Layer.scoped(LogStorage, make({ disk: Disk.memory(), config: { "log.dirs": "/eddy-data", ...config } }))
