/**
 * Source offsets: per connector, source partition map -> source offset map. Keys are Kafka Connect's
 * offsets-topic keys (`["<connector>", {partition}]` as JSON). `layerFile` keeps them in the standalone
 * worker's `offset.storage.file.filename` (a JSON object, rewritten atomically on each flush);
 * `layerMemory` in memory.
 *
 * Invariant: the in-memory map is the truth; the file is written after each change, under one lock, so
 * the file always holds a state the map had.
 */
import { FileSystem, Path } from "@effect/platform"
import { Context, Effect, Layer, Schema } from "effect"
import type { SourceMap } from "../plugin/Connector.js"

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
