/**
 * Test helpers for the log: batch builders, temp folders, a disk that counts and fails operations.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as Path from "node:path"
import { Effect, Layer, Logger } from "effect"
import * as Disk from "../../src/log/internal/disk.js"
import type * as LogConfig from "../../src/log/LogConfig.js"
import { fromSystemError, type KafkaStorageError } from "../../src/log/LogError.js"
import * as LogStorage from "../../src/log/LogStorage.js"
import * as RecordBatch from "../../src/protocol/RecordBatch.js"

/** A batch of `count` records with values of `valueSize` bytes and timestamps from `timestamp`. */
export const batch = (
  options: {
    readonly count?: number
    readonly valueSize?: number
    readonly timestamp?: number
    readonly keys?: ReadonlyArray<string | null>
    readonly values?: ReadonlyArray<string | null>
    readonly compression?: RecordBatch.Compression
    readonly seed?: number
  } = {}
): Buffer => {
  const count = options.keys?.length ?? options.values?.length ?? options.count ?? 1
  const ts = options.timestamp ?? 1_000
  const seed = options.seed ?? 0
  const records: Array<RecordBatch.RecordInput> = []
  for (let i = 0; i < count; i++) {
    const key = options.keys?.[i]
    const v = options.values?.[i]
    const value =
      v === null ? null : v !== undefined ? Buffer.from(v) : Buffer.alloc(options.valueSize ?? 16, (seed + i) % 251)
    records.push({
      key: key === undefined || key === null ? null : Buffer.from(key),
      value,
      timestamp: ts + i
    })
  }
  return RecordBatch.encode(records, { compression: options.compression ?? RecordBatch.Compression.none })
}

/** The batches in a buffer, as (baseOffset, lastOffset). */
export const offsetsOf = (buf: Uint8Array): Array<[number, number]> =>
  RecordBatch.headers(buf).map(({ header }) => [header.baseOffset, header.baseOffset + header.lastOffsetDelta])

/** Decoded records (offset, key, value) of every batch in a buffer. */
export const recordsOf = (buf: Uint8Array): Array<{ offset: number; key: string | null; value: string | null }> =>
  RecordBatch.headers(buf).flatMap(({ position, header }) =>
    RecordBatch.decode(buf.subarray(position, position + RecordBatch.LOG_OVERHEAD + header.batchLength)).records.map(
      (r) => ({
        offset: r.offset,
        key: r.key === null ? null : Buffer.from(r.key).toString(),
        value: r.value === null ? null : Buffer.from(r.value).toString()
      })
    )
  )

/** A fresh temp folder, removed when the scope closes. */
export const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(Path.join(os.tmpdir(), "eddy-log-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

/** The file-based storage layer in a temp folder (removed afterwards). */
export const fileLayer = (config: Partial<LogConfig.StorageConfig> = {}) =>
  Layer.unwrapScoped(Effect.map(tempDir, (dir) => LogStorage.layer({ ...config, "log.dirs": dir })))

/** A disk wrapper that counts operations and fails those `fault` names. */
export const instrumented = (disk: Disk.Disk) => {
  const counts = new Map<Disk.Operation, number>()
  let fault: ((op: Disk.Operation, path: string) => string | undefined) | undefined
  const delays = new Map<Disk.Operation, number>()
  const wrapped = Disk.withHooks(disk, (op, path): Effect.Effect<void, KafkaStorageError> => {
    counts.set(op, (counts.get(op) ?? 0) + 1)
    const code = fault?.(op, path)
    const delay = delays.get(op)
    // a real-time pause, as a slow device would add (the test's Clock may be a TestClock)
    if (code === undefined && delay !== undefined) {
      return Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, delay)))
    }
    if (code === undefined) return Effect.void
    return Effect.fail(fromSystemError(Object.assign(new Error(`${code}: injected`), { code }), op, path))
  })
  return {
    disk: wrapped,
    count: (op: Disk.Operation) => counts.get(op) ?? 0,
    setFault: (f: ((op: Disk.Operation, path: string) => string | undefined) | undefined) => {
      fault = f
    },
    /** Makes every `op` take at least `ms` of real time (a slow disk). */
    setDelay: (op: Disk.Operation, ms: number) => {
      delays.set(op, ms)
    }
  }
}

/** Collects log messages at warning level and above. */
export const captureWarnings = () => {
  const messages: Array<string> = []
  const logger = Logger.make(({ logLevel, message }) => {
    if (logLevel._tag === "Warning" || logLevel._tag === "Error") {
      messages.push(Array.isArray(message) ? message.map(String).join(" ") : String(message))
    }
  })
  return { messages, layer: Logger.replace(Logger.defaultLogger, logger) }
}
