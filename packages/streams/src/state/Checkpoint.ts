/**
 * A task's `.checkpoint` file in `state.dir` (Kafka Streams' `OffsetCheckpoint`): the changelog offset up
 * to which each of the task's persistent stores was flushed, so a restart restores only what follows it.
 * Text layout: a version line `0`, a count line, then one `topic partition offset` line per entry.
 *
 * An Effect API on `@effect/platform`'s `FileSystem`: the runtime writes checkpoints at commit time, inside
 * its task fiber, after `flush()` of the stores, where an Effect fits (unlike the stores' synchronous hot
 * path). A write is atomic: a temporary file, fsync, rename over the old file, fsync of the directory.
 */
import * as Path from "node:path"
import { FileSystem } from "@effect/platform"
import { Effect, Schema } from "effect"

/** The file name of a task's checkpoint, inside the task directory. */
export const FILE_NAME = ".checkpoint"

/** The offset Kafka Streams writes for a store whose changelog position is not known yet. */
export const OFFSET_UNKNOWN = -4

/** One changelog partition's checkpointed offset. */
export interface CheckpointEntry {
  readonly topic: string
  readonly partition: number
  readonly offset: number
}

/** A checkpoint file could not be read, parsed or written. */
export class CheckpointError extends Schema.TaggedError<CheckpointError>()("CheckpointError", {
  path: Schema.String,
  message: Schema.String
}) {}

const isValidOffset = (offset: number): boolean =>
  Number.isSafeInteger(offset) && (offset >= 0 || offset === OFFSET_UNKNOWN)

/** The text of a checkpoint file holding `entries`; fails on an invalid entry. */
export const encode = (path: string, entries: ReadonlyArray<CheckpointEntry>): Effect.Effect<string, CheckpointError> =>
  Effect.gen(function* () {
    const lines = ["0", String(entries.length)]
    for (const { topic, partition, offset } of entries) {
      if (
        topic.length === 0 ||
        /\s/.test(topic) ||
        !Number.isSafeInteger(partition) ||
        partition < 0 ||
        !isValidOffset(offset)
      ) {
        return yield* new CheckpointError({
          path,
          message: `Invalid checkpoint entry: topic=${JSON.stringify(topic)} partition=${partition} offset=${offset}`
        })
      }
      lines.push(`${topic} ${partition} ${offset}`)
    }
    return `${lines.join("\n")}\n`
  })

/**
 * The entries of a checkpoint file's text. An unknown version or a count that does not match the lines
 * fails; entries with an invalid (negative, other than `OFFSET_UNKNOWN`) offset are skipped, as Kafka does.
 */
export const decode = (path: string, text: string): Effect.Effect<ReadonlyArray<CheckpointEntry>, CheckpointError> =>
  Effect.gen(function* () {
    const fail = (message: string) => new CheckpointError({ path, message })
    const lines = text.split("\n").filter((line) => line.trim().length > 0)
    if (lines[0]?.trim() !== "0") return yield* fail(`Unknown checkpoint version ${JSON.stringify(lines[0] ?? "")}`)
    const count = Number(lines[1])
    if (!Number.isSafeInteger(count) || count < 0)
      return yield* fail(`Bad entry count ${JSON.stringify(lines[1] ?? "")}`)
    if (lines.length - 2 !== count) return yield* fail(`Expected ${count} entries but found ${lines.length - 2}`)
    const entries: Array<CheckpointEntry> = []
    for (const line of lines.slice(2)) {
      const parts = line.trim().split(/\s+/)
      const partition = Number(parts[1])
      const offset = Number(parts[2])
      if (parts.length !== 3 || !Number.isSafeInteger(partition) || partition < 0 || !Number.isSafeInteger(offset)) {
        return yield* fail(`Malformed checkpoint line ${JSON.stringify(line)}`)
      }
      if (isValidOffset(offset)) entries.push({ topic: parts[0]!, partition, offset })
    }
    return entries
  })

const storageError = (path: string) => (error: { readonly message: string }) =>
  new CheckpointError({ path, message: error.message })

/** Reads the checkpoint file at `path`; no entries when it does not exist. */
export const read = (
  path: string
): Effect.Effect<ReadonlyArray<CheckpointEntry>, CheckpointError, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    if (!(yield* fs.exists(path).pipe(Effect.mapError(storageError(path))))) return []
    const text = yield* fs.readFileString(path).pipe(Effect.mapError(storageError(path)))
    return yield* decode(path, text)
  })

/** Writes `entries` to the checkpoint file at `path` atomically (temporary file, fsync, rename, fsync of the directory). */
export const write = (
  path: string,
  entries: ReadonlyArray<CheckpointEntry>
): Effect.Effect<void, CheckpointError, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const text = yield* encode(path, entries)
    const temp = `${path}.tmp`
    yield* Effect.scoped(
      Effect.gen(function* () {
        const file = yield* fs.open(temp, { flag: "w" })
        yield* file.writeAll(new TextEncoder().encode(text))
        yield* file.sync
      })
    ).pipe(Effect.mapError(storageError(temp)))
    yield* fs.rename(temp, path).pipe(Effect.mapError(storageError(path)))
    const dir = Path.dirname(path)
    yield* Effect.scoped(Effect.flatMap(fs.open(dir, { flag: "r" }), (d) => d.sync)).pipe(
      Effect.mapError(storageError(dir))
    )
  })

/** Deletes the checkpoint file at `path` if it exists (under exactly-once a task does so once it has read it). */
export const remove = (path: string): Effect.Effect<void, CheckpointError, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    yield* fs.remove(path, { force: true }).pipe(Effect.mapError(storageError(path)))
  })
