/**
 * Source offsets: per connector, source partition map -> source offset map. Keys are Kafka Connect's
 * offsets-topic keys (`["<connector>", {partition}]` as JSON). `layerFile` keeps them in the standalone
 * worker's `offset.storage.file.filename` (a JSON object, rewritten atomically on each flush);
 * `layerMemory` in memory; `layerTopic` in the distributed worker's `offset.storage.topic` (Connect's JSON
 * keys and values, a tombstone removes a partition).
 *
 * Invariants: file and memory: the in-memory map is the truth; the file is written after each change, under
 * one lock, so the file always holds a state the map had. Topic: the map changes only by reading the topic,
 * and every read first catches up with the topic (`readToEnd`), so a reader sees every acknowledged write.
 */
import { FileSystem, Path } from "@effect/platform"
import { Context, Effect, Layer, Schema } from "effect"
import type { SourceMap } from "../plugin/Connector.js"
import { clientProps } from "./ClientProps.js"
import * as KafkaBasedLog from "./KafkaBasedLog.js"

/** The offsets file cannot be read or written. */
export class OffsetStoreError extends Schema.TaggedError<OffsetStoreError>()("OffsetStoreError", {
  message: Schema.String
}) {}

/** One partition's offset (null: reset). */
export interface PartitionOffset {
  readonly partition: SourceMap
  readonly offset: SourceMap | null
}

/** The offsets store. */
export interface OffsetStoreShape {
  readonly get: (connector: string, partition: SourceMap) => Effect.Effect<SourceMap | null>
  readonly list: (connector: string) => Effect.Effect<ReadonlyArray<PartitionOffset>>
  /** Writes offsets; a null offset removes the partition. */
  readonly set: (connector: string, entries: ReadonlyArray<PartitionOffset>) => Effect.Effect<void, OffsetStoreError>
}

/** The offsets store service. */
export class OffsetStore extends Context.Tag("@eddy/connect/runtime/OffsetStore")<OffsetStore, OffsetStoreShape>() {}

/** Kafka Connect's offsets key of a connector's source partition. */
export const keyOf = (connector: string, partition: SourceMap): string => JSON.stringify([connector, partition])

const make = (
  initial: Map<string, SourceMap>,
  persist: (m: Map<string, SourceMap>) => Effect.Effect<void, OffsetStoreError>
) =>
  Effect.gen(function* () {
    const offsets = initial
    const lock = yield* Effect.makeSemaphore(1)
    const shape: OffsetStoreShape = {
      get: (connector, partition) => Effect.sync(() => offsets.get(keyOf(connector, partition)) ?? null),
      list: (connector) =>
        Effect.sync(() => {
          const out: Array<PartitionOffset> = []
          for (const [key, offset] of offsets) {
            const [name, partition] = JSON.parse(key) as [string, SourceMap]
            if (name === connector) out.push({ partition, offset })
          }
          return out
        }),
      set: (connector, entries) =>
        lock.withPermits(1)(
          Effect.suspend(() => {
            for (const { partition, offset } of entries) {
              const key = keyOf(connector, partition)
              if (offset === null) offsets.delete(key)
              else offsets.set(key, offset)
            }
            return persist(offsets)
          })
        )
    }
    return shape
  })

/** Offsets in memory only. */
export const layerMemory = Layer.effect(
  OffsetStore,
  make(new Map(), () => Effect.void)
)

/** Offsets in a JSON file (the standalone worker's `offset.storage.file.filename`). */
export const layerFile = (filename: string) =>
  Layer.effect(
    OffsetStore,
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const fail = (e: unknown) => new OffsetStoreError({ message: `Offsets file ${filename}: ${String(e)}` })
      const initial = new Map<string, SourceMap>()
      if (yield* fs.exists(filename).pipe(Effect.orElseSucceed(() => false))) {
        const text = yield* fs.readFileString(filename).pipe(Effect.mapError(fail))
        if (text.trim() !== "") {
          const parsed = yield* Effect.try({ try: () => JSON.parse(text) as Record<string, SourceMap>, catch: fail })
          for (const [k, v] of Object.entries(parsed)) initial.set(k, v)
        }
      } else yield* fs.makeDirectory(path.dirname(filename), { recursive: true }).pipe(Effect.mapError(fail))
      const tmp = `${filename}.tmp`
      return yield* make(initial, (m) =>
        fs
          .writeFileString(tmp, JSON.stringify(Object.fromEntries(m)))
          .pipe(Effect.zipRight(fs.rename(tmp, filename)), Effect.mapError(fail))
      )
    })
  )

/** Kafka Connect's defaults of the offsets topic. */
export const topicDefaults = {
  "offset.storage.topic": "connect-offsets",
  "offset.storage.partitions": 25,
  "offset.storage.replication.factor": 3
} as const

const utf8 = new TextDecoder()
const encoder = new TextEncoder()

/** Parses a Connect offsets-topic key `["<connector>", {partition}]`; null when it is not one. */
export const parseKey = (bytes: Uint8Array | null): { connector: string; partition: SourceMap } | null => {
  if (bytes === null) return null
  try {
    const parsed: unknown = JSON.parse(utf8.decode(bytes))
    if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== "string") return null
    const partition: unknown = parsed[1]
    if (typeof partition !== "object" || partition === null || Array.isArray(partition)) return null
    return { connector: parsed[0], partition: partition as SourceMap }
  } catch {
    return null
  }
}

const parseValue = (bytes: Uint8Array): SourceMap | null => {
  try {
    const parsed: unknown = JSON.parse(utf8.decode(bytes))
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as SourceMap) : null
  } catch {
    return null
  }
}

/** The integer worker setting `key`, or its default. */
export const intSetting = (props: Readonly<Record<string, string>>, key: string, fallback: number): number => {
  const raw = props[key]?.trim()
  const n = raw === undefined || raw === "" ? Number.NaN : Number(raw)
  return Number.isInteger(n) ? n : fallback
}

/** The offsets store over `offset.storage.topic`, opened in the current scope (the distributed worker's). */
export const makeTopic = (workerProps: Readonly<Record<string, string>>) =>
  Effect.gen(function* () {
    const offsets = new Map<string, SourceMap>()
    const log = yield* KafkaBasedLog.make(
      {
        topic: workerProps["offset.storage.topic"] ?? topicDefaults["offset.storage.topic"],
        partitions: intSetting(workerProps, "offset.storage.partitions", topicDefaults["offset.storage.partitions"]),
        replicationFactor: intSetting(
          workerProps,
          "offset.storage.replication.factor",
          topicDefaults["offset.storage.replication.factor"]
        ),
        adminProps: clientProps("admin", workerProps, {}),
        producerProps: clientProps("producer", workerProps, {}),
        consumerProps: {
          ...clientProps("consumer", workerProps, {}),
          // exactly-once sources write offsets in transactions: only committed ones count (as Kafka's worker does)
          ...(workerProps["exactly.once.source.support"]?.trim().toLowerCase() === "enabled"
            ? { "isolation.level": "read_committed" }
            : {})
        }
      },
      (record) =>
        Effect.sync(() => {
          const key = parseKey(record.key)
          if (key === null) return
          const k = keyOf(key.connector, key.partition)
          const value = record.value === null ? null : parseValue(record.value)
          if (value === null) offsets.delete(k)
          else offsets.set(k, value)
        })
    )
    const fail = (e: KafkaBasedLog.KafkaBasedLogError) => new OffsetStoreError({ message: e.message })
    const caughtUp = log.readToEnd.pipe(
      Effect.catchAll((e) => Effect.logWarning(`Offsets topic ${log.topic}: ${e.message}`))
    )
    const shape: OffsetStoreShape = {
      get: (connector, partition) =>
        Effect.zipRight(
          caughtUp,
          Effect.sync(() => offsets.get(keyOf(connector, partition)) ?? null)
        ),
      list: (connector) =>
        Effect.zipRight(
          caughtUp,
          Effect.sync(() => {
            const out: Array<PartitionOffset> = []
            for (const [key, offset] of offsets) {
              const [name, partition] = JSON.parse(key) as [string, SourceMap]
              if (name === connector) out.push({ partition, offset })
            }
            return out
          })
        ),
      set: (connector, entries) =>
        Effect.forEach(
          entries,
          ({ partition, offset }) =>
            log.send(
              encoder.encode(keyOf(connector, partition)),
              offset === null ? null : encoder.encode(JSON.stringify(offset))
            ),
          { concurrency: "unbounded", discard: true }
        ).pipe(
          Effect.zipRight(Effect.mapError(log.readToEnd, fail)),
          Effect.mapError((e) => (e._tag === "OffsetStoreError" ? e : fail(e)))
        )
    }
    return shape
  })

/**
 * Offsets in `offset.storage.topic` (default `connect-offsets`, created compacted with
 * `offset.storage.partitions` 25 and `offset.storage.replication.factor` 3: a single broker needs 1 or -1).
 */
export const layerTopic = (workerProps: Readonly<Record<string, string>>) =>
  Layer.scoped(OffsetStore, makeTopic(workerProps))
