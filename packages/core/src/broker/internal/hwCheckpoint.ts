/**
 * The high-watermark checkpoint of a data directory (Kafka's `replication-offset-checkpoint`): every hosted
 * partition's high watermark in one file, in the text layout of Kafka's offset checkpoints for many partitions (a
 * version line `0`, a count line, then one `topic partition offset` line per partition), replaced atomically.
 *
 * Invariants:
 * - One file per data directory, written by one writer at a time (a semaphore): a periodic fiber of the replica
 *   manager's scope and its final write at clean shutdown.
 * - A write happens only when the content changed since the last one; the high watermarks are read synchronously
 *   (each replica publishes its own), never through the replicas' mailboxes.
 * - Reading never fails a start: a missing file (in a data directory holding partitions) or a malformed one is a
 *   warning, and every partition then starts without a checkpointed high watermark.
 */
import * as Path from "node:path"
import { Effect, Option } from "effect"
import type { Disk } from "../../log/internal/disk.js"
import type { KafkaStorageError } from "../../log/LogError.js"

/** The file's name in the data directory. */
export const FILE = "replication-offset-checkpoint"

/** One partition's checkpointed offset. */
export interface Entry {
  readonly topic: string
  readonly partition: number
  readonly offset: number
}

/** The checkpoint's text: version `0`, the count, then `topic partition offset` per entry. */
export const encode = (entries: ReadonlyArray<Entry>): string => {
  const lines = ["0", String(entries.length)]
  for (const e of entries) lines.push(`${e.topic} ${e.partition} ${e.offset}`)
  return `${lines.join("\n")}\n`
}

const isCount = (s: string): boolean => /^(0|[1-9][0-9]*)$/.test(s) && Number.isSafeInteger(Number(s))

/** The entries of a checkpoint's text, or a reason why it is malformed. */
export const decode = (text: string): { readonly entries: ReadonlyArray<Entry> } | { readonly malformed: string } => {
  const lines = text.split("\n")
  if (lines[lines.length - 1] === "") lines.pop()
  if (lines[0] !== "0") return { malformed: `unknown version ${JSON.stringify(lines[0] ?? "")}` }
  const count = lines[1]
  if (count === undefined || !isCount(count)) return { malformed: `bad count ${JSON.stringify(count ?? "")}` }
  if (lines.length - 2 !== Number(count)) return { malformed: `${lines.length - 2} entries where ${count} expected` }
  const entries: Array<Entry> = []
  for (let i = 2; i < lines.length; i++) {
    const fields = lines[i]!.split(" ")
    if (fields.length !== 3 || fields[0] === "" || !isCount(fields[1]!) || !isCount(fields[2]!)) {
      return { malformed: `bad line ${i + 1}: ${JSON.stringify(lines[i])}` }
    }
    entries.push({ topic: fields[0]!, partition: Number(fields[1]), offset: Number(fields[2]) })
  }
  return { entries }
}

/** A partition's key in the map {@link read} returns: `<topic>-<partition>`, its folder name. */
export const key = (topic: string, partition: number): string => `${topic}-${partition}`

/**
 * The checkpointed high watermarks of the data directory `dir`, by {@link key}; empty (with a warning) when the file
 * is malformed or cannot be read, or missing while `hasPartitions` (a data directory holding logs).
 */
export const read = (disk: Disk, dir: string, hasPartitions: boolean): Effect.Effect<ReadonlyMap<string, number>> => {
  const path = Path.join(dir, FILE)
  return disk.readFile(path).pipe(
    Effect.flatMap(
      Option.match({
        onNone: () =>
          Effect.as(
            hasPartitions
              ? Effect.logWarning(`No ${path}: the hosted partitions' high watermarks start from their logs`)
              : Effect.void,
            new Map<string, number>()
          ),
        onSome: (bytes) => {
          const decoded = decode(Buffer.from(bytes).toString("utf8"))
          if ("malformed" in decoded) {
            return Effect.as(
              Effect.logWarning(
                `Ignoring the malformed ${path} (${decoded.malformed}): ` +
                  "the hosted partitions' high watermarks start from their logs"
              ),
              new Map<string, number>()
            )
          }
          return Effect.succeed(new Map(decoded.entries.map((e) => [key(e.topic, e.partition), e.offset])))
        }
      })
    ),
    Effect.catchAll((e) =>
      Effect.as(
        Effect.logWarning(`Cannot read ${path}: the hosted partitions' high watermarks start from their logs`, e),
        new Map<string, number>()
      )
    )
  )
}

/** Writes the checkpoint of a data directory when its content changed. */
export interface Writer {
  /** Writes the current high watermarks unless they are what the last write wrote (a failure is a warning). */
  readonly write: Effect.Effect<void>
}

/**
 * A writer of `dir`'s checkpoint over `entries`, a synchronous read of every hosted partition's high watermark (in
 * any order: the file lists them by topic, then partition).
 */
export const makeWriter = (disk: Disk, dir: string, entries: () => ReadonlyArray<Entry>): Effect.Effect<Writer> =>
  Effect.map(Effect.makeSemaphore(1), (lock) => {
    let last: string | undefined
    const path = Path.join(dir, FILE)
    const write = lock.withPermits(1)(
      Effect.suspend(() => {
        const sorted = [...entries()].sort((a, b) =>
          a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1
        )
        const text = encode(sorted)
        if (text === last) return Effect.void
        return disk.writeFileAtomic(path, Buffer.from(text, "utf8")).pipe(
          Effect.tap(() =>
            Effect.sync(() => {
              last = text
            })
          ),
          Effect.catchAll((e: KafkaStorageError) => Effect.logWarning(`Cannot write ${path}`, e))
        )
      })
    )
    return { write }
  })
