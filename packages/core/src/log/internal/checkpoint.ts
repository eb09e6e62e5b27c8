/**
 * Small per-partition checkpoint files (one offset each), in the text layout of Kafka's offset
 * checkpoints: a version line `0`, a count line `1`, then the offset. Written atomically.
 */
import * as Path from "node:path"
import { Effect, Option } from "effect"
import type { KafkaStorageError } from "../LogError.js"
import type { Disk } from "./disk.js"

/** Marker written by a clean shutdown; its presence lets the next open skip the recovery scan. */
export const CLEAN_SHUTDOWN = ".kafka_cleanshutdown"
/** The log start offset (moved by DeleteRecords). */
export const LOG_START_OFFSET = "log-start-offset-checkpoint"
/** Offsets below it are in segments flushed with their indexes: recovery scans from the segment holding it. */
export const RECOVERY_POINT = "recovery-point-offset-checkpoint"
/** Compaction: offsets below it have been cleaned. */
export const CLEANER_OFFSET = "cleaner-offset-checkpoint"

/** Reads an offset checkpoint; none when missing or malformed. */
export const read = (disk: Disk, dir: string, name: string): Effect.Effect<Option.Option<number>, KafkaStorageError> =>
  disk.readFile(Path.join(dir, name)).pipe(
    Effect.map(
      Option.flatMap((bytes) => {
        const lines = Buffer.from(bytes).toString("utf8").trim().split("\n")
        const n = Number(lines[2])
        return lines[0] === "0" && lines[1] === "1" && Number.isSafeInteger(n) && n >= 0
          ? Option.some(n)
          : Option.none()
      })
    )
  )

/** Writes an offset checkpoint atomically. */
export const write = (disk: Disk, dir: string, name: string, offset: number): Effect.Effect<void, KafkaStorageError> =>
  disk.writeFileAtomic(Path.join(dir, name), Buffer.from(`0\n1\n${offset}\n`, "utf8"))
