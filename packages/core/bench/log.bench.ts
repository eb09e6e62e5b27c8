/**
 * Log storage benchmark: append MB/s for 1 KiB records in 16 KiB and 1 MiB batches, with and without
 * fsync, and sequential read MB/s, each beside a raw `node:fs` baseline doing the same I/O in the
 * same process: positional writes of the same buffers, fsync per batch, positional reads. Appends have two
 * baselines: `fs.write` through libuv's pool (every write asynchronous), and the log's own split (writes
 * up to `SYNC_IO_MAX` synchronous, larger ones through the pool), which isolates the log's own overhead.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as Path from "node:path"
import { Effect } from "effect"
import { SYNC_IO_MAX } from "../src/log/internal/disk.js"
import * as Log from "../src/log/Log.js"
import * as LogConfig from "../src/log/LogConfig.js"
import * as Crc32c from "../src/protocol/Crc32c.js"
import * as RecordBatch from "../src/protocol/RecordBatch.js"

const KiB = 1024
const MiB = 1024 * KiB

const makeBatch = (batchBytes: number): Buffer => {
  const n = Math.max(1, Math.floor(batchBytes / KiB))
  const value = Buffer.alloc(KiB - 16, 7)
  return RecordBatch.encode(Array.from({ length: n }, (_, i) => ({ value, timestamp: 1_700_000_000_000 + i })))
}

const writeAsync = (fd: number, buf: Buffer, position: number) =>
  new Promise<void>((resolve, reject) => fs.write(fd, buf, 0, buf.length, position, (e) => (e ? reject(e) : resolve())))
/** The log disk's strategy: small writes to the page cache synchronously, large ones in the pool. */
const writeSplit = (fd: number, buf: Buffer, position: number) =>
  buf.length <= SYNC_IO_MAX
    ? Promise.resolve(void fs.writeSync(fd, buf, 0, buf.length, position))
    : writeAsync(fd, buf, position)
const fsync = (fd: number) => new Promise<void>((resolve, reject) => fs.fsync(fd, (e) => (e ? reject(e) : resolve())))
const read = (fd: number, buf: Buffer, position: number) =>
  new Promise<number>((resolve, reject) =>
    fs.read(fd, buf, 0, buf.length, position, (e, n) => (e ? reject(e) : resolve(n)))
  )

const mbps = (bytes: number, ms: number) => bytes / MiB / (ms / 1000)

interface Row {
  readonly name: string
  readonly eddy: number
  readonly raw: number
  /** The baseline with the log's synchronous/asynchronous split (appends only). */
  readonly split?: number
}

const rawAppend = async (
  dir: string,
  batch: Buffer,
  count: number,
  sync: boolean,
  write: typeof writeAsync = writeAsync
): Promise<number> => {
  const path = Path.join(dir, "raw.log")
  const fd = fs.openSync(path, "w+")
  const t = performance.now()
  let pos = 0
  for (let i = 0; i < count; i++) {
    await write(fd, batch, pos)
    pos += batch.length
    if (sync) await fsync(fd)
  }
  const ms = performance.now() - t
  fs.closeSync(fd)
  fs.rmSync(path)
  return mbps(pos, ms)
}

const eddyAppend = async (
  dir: string,
  batch: Buffer,
  count: number,
  sync: boolean,
  verifyCrc: boolean
): Promise<{ mbps: number; log: Log.Log }> => {
  const config = LogConfig.make(sync ? { "flush.messages": 1 } : {})
  const logDir = Path.join(dir, `t-${Math.random().toString(36).slice(2)}`)
  return Effect.runPromise(
    Effect.gen(function* () {
      const log = yield* Log.open({ dir: logDir, config })
      const t = performance.now()
      for (let i = 0; i < count; i++) yield* log.append(batch, { verifyCrc })
      const ms = performance.now() - t
      return { mbps: mbps(batch.length * count, ms), log }
    })
  )
}

const rawRead = async (dir: string, total: number, chunk: number): Promise<number> => {
  const path = Path.join(dir, "raw-read.log")
  fs.writeFileSync(path, Buffer.alloc(total, 1))
  const fd = fs.openSync(path, "r")
  const t = performance.now()
  let pos = 0
  while (pos < total) {
    const buf = Buffer.allocUnsafe(chunk)
    const n = await read(fd, buf, pos)
    if (n === 0) break
    pos += n
  }
  const ms = performance.now() - t
  fs.closeSync(fd)
  fs.rmSync(path)
  return mbps(pos, ms)
}

const eddyRead = (log: Log.Log, maxBytes: number): Promise<number> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const t = performance.now()
      let offset = log.logStartOffset
      let bytes = 0
      while (offset < log.logEndOffset) {
        const r = yield* log.read(offset, maxBytes)
        bytes += r.records.length
        offset = r.nextOffset
      }
      return mbps(bytes, performance.now() - t)
    })
  )

/** Runs the benchmark and prints a table. */
export const run = async (): Promise<void> => {
  const dir = fs.mkdtempSync(Path.join(os.tmpdir(), "eddy-log-bench-"))
  const rows: Array<Row> = []
  try {
    const cases = [
      { name: "append 16 KiB batches", batch: makeBatch(16 * KiB), total: 256 * MiB, sync: false, keep: false },
      { name: "append 1 MiB batches", batch: makeBatch(MiB), total: 256 * MiB, sync: false, keep: true },
      { name: "append 16 KiB batches + fsync", batch: makeBatch(16 * KiB), total: 16 * MiB, sync: true, keep: false },
      { name: "append 1 MiB batches + fsync", batch: makeBatch(MiB), total: 128 * MiB, sync: true, keep: false }
    ]
    let readLog: Log.Log | undefined
    for (const c of cases) {
      const count = Math.max(1, Math.floor(c.total / c.batch.length))
      // warm-up, then both baselines and Eddy interleaved, best of two each (the machine is shared: noise
      // is high); every run deletes its file right after it is timed, so that none runs beside the
      // dirty pages of another
      await rawAppend(dir, c.batch, Math.min(count, 64), c.sync)
      for (const verifyCrc of [true, false]) {
        let raw = 0
        let split = 0
        let eddy = 0
        for (let rep = 0; rep < 2; rep++) {
          raw = Math.max(raw, await rawAppend(dir, c.batch, count, c.sync))
          split = Math.max(split, await rawAppend(dir, c.batch, count, c.sync, writeSplit))
          const e = await eddyAppend(dir, c.batch, count, c.sync, verifyCrc)
          eddy = Math.max(eddy, e.mbps)
          if (c.keep && verifyCrc && rep === 1) readLog = e.log
          else await Effect.runPromise(e.log.delete)
        }
        rows.push({ name: `${c.name}${verifyCrc ? "" : " (no CRC check)"}`, eddy, raw, split })
      }
    }
    if (readLog) {
      const total = readLog.size
      for (const maxBytes of [MiB, 4 * MiB]) {
        const raw = Math.max(await rawRead(dir, total, maxBytes), await rawRead(dir, total, maxBytes))
        const eddy = Math.max(await eddyRead(readLog, maxBytes), await eddyRead(readLog, maxBytes))
        rows.push({ name: `read ${maxBytes / MiB} MiB per fetch`, eddy, raw })
      }
      await Effect.runPromise(readLog.delete)
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
  const pad = (s: string, n: number) => s.padEnd(n)
  console.log(`\nlog storage (1 KiB records; CRC-32C: ${Crc32c.implementation})`)
  console.log(
    `${pad("case", 46)}${pad("eddy MB/s", 11)}${pad("raw fs.write", 14)}${pad("ratio", 8)}${pad("raw split", 11)}ratio`
  )
  for (const r of rows) {
    const split = r.split === undefined ? "" : `${pad(r.split.toFixed(0), 11)}${(r.eddy / r.split).toFixed(2)}x`
    console.log(
      `${pad(r.name, 46)}${pad(r.eddy.toFixed(0), 11)}${pad(r.raw.toFixed(0), 14)}${pad(`${(r.eddy / r.raw).toFixed(2)}x`, 8)}${split}`
    )
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run()
