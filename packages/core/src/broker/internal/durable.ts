/**
 * Small durable-file helpers for broker metadata: atomic replace (temp file, fsync, rename, fsync of
 * the directory) and reads that treat a missing file as absent.
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { Effect } from "effect"
import { KafkaStorageError } from "../BrokerError.js"

const storageError = (what: string, path: string) => (e: unknown) =>
  new KafkaStorageError({
    message: `${what}: ${e instanceof Error ? e.message : String(e)}`,
    path,
    code: (e as NodeJS.ErrnoException | undefined)?.code ?? ""
  })

/** A storage error about `path` without a system cause. */
export const storageFailure = (message: string, path: string): KafkaStorageError =>
  new KafkaStorageError({ message, path, code: "" })

/** Replaces `file` with `data` atomically and durably. */
export const writeAtomic = (file: string, data: string): Effect.Effect<void, KafkaStorageError> =>
  Effect.tryPromise({
    try: async () => {
      const tmp = `${file}.tmp`
      const handle = await fs.open(tmp, "w")
      try {
        await handle.writeFile(data, "utf8")
        await handle.sync()
      } finally {
        await handle.close()
      }
      await fs.rename(tmp, file)
      const dir = await fs.open(path.dirname(file), "r")
      try {
        await dir.sync()
      } catch {
        // some file systems refuse fsync on a directory; the rename is still atomic
      } finally {
        await dir.close()
      }
    },
    catch: storageError(`writing ${file}`, file)
  })

/** The text of `file`, or undefined when it does not exist. */
export const readIfExists = (file: string): Effect.Effect<string | undefined, KafkaStorageError> =>
  Effect.tryPromise({
    try: async () => {
      try {
        return await fs.readFile(file, "utf8")
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined
        throw e
      }
    },
    catch: storageError(`reading ${file}`, file)
  })

/** Creates `dir` (and its parents) when missing. */
export const ensureDir = (dir: string): Effect.Effect<void, KafkaStorageError> =>
  Effect.tryPromise({
    try: () => fs.mkdir(dir, { recursive: true }),
    catch: storageError(`creating ${dir}`, dir)
  })
