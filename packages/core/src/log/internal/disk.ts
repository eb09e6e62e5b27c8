/**
 * The file operations the log needs, as one small interface with two implementations: Node's `fs`
 * (callback API, positional I/O, one Effect per call) and an in-memory disk (POSIX-like: an unlinked
 * file stays readable through open handles). Both can be wrapped to inject faults.
 */
import * as fs from "node:fs"
import * as Path from "node:path"
import { Effect, Option } from "effect"
import { fromSystemError, type KafkaStorageError } from "../LogError.js"
import { fsyncTime, timed } from "../LogMetrics.js"

/** An open file, read-write, addressed by position. */
export interface FileHandle {
  readonly path: string
  /**
   * Writes all the buffers at `position`, looping on short writes. `during` runs on the calling thread
   * while the write is in flight (the log checks CRCs there, overlapping CPU with I/O).
   */
  readonly writev: (
    buffers: ReadonlyArray<Uint8Array>,
    position: number,
    during?: () => void
  ) => Effect.Effect<void, KafkaStorageError>
  /**
   * Present when writes of at most {@link SYNC_IO_MAX} bytes can run synchronously on the calling thread:
   * writes all of `buffers` (`total` bytes) at `position` and returns the error, if any. Lets the log's
   * append skip an Effect step; absent on wrapped handles (`withHooks`), which go through {@link writev}.
   */
  readonly writevNow?: (
    buffers: ReadonlyArray<Uint8Array>,
    total: number,
    position: number
  ) => KafkaStorageError | undefined
  /** Present along with {@link writevNow}: truncates synchronously and returns the error, if any. */
  readonly truncateNow?: (size: number) => KafkaStorageError | undefined
  /**
   * Present on the `node:fs` handle: {@link writev} with a callback (always called asynchronously) instead
   * of an Effect, and the same for {@link truncate}. Let the log hold its lock from a large write to
   * its completion with a single Effect step.
   */
  readonly writevCallback?: (
    buffers: ReadonlyArray<Uint8Array>,
    position: number,
    done: (error: KafkaStorageError | undefined) => void
  ) => void
  readonly truncateCallback?: (size: number, done: (error: KafkaStorageError | undefined) => void) => void
  /** Reads up to `length` bytes at `position` into `buffer[offset..]`; returns the bytes read (fewer at EOF). */
  readonly read: (
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number
  ) => Effect.Effect<number, KafkaStorageError>
  readonly sync: Effect.Effect<void, KafkaStorageError>
  readonly truncate: (size: number) => Effect.Effect<void, KafkaStorageError>
  readonly size: Effect.Effect<number, KafkaStorageError>
  readonly close: Effect.Effect<void, KafkaStorageError>
}

/** The disk: files and folders. */
export interface Disk {
  /** Opens a file read-write, creating it when `create` is true. */
  readonly open: (path: string, create: boolean) => Effect.Effect<FileHandle, KafkaStorageError>
  /** The whole file, or none when it does not exist. */
  readonly readFile: (path: string) => Effect.Effect<Option.Option<Uint8Array>, KafkaStorageError>
  /** Replaces a file atomically: write a temporary file, fsync, rename, fsync the folder. */
  readonly writeFileAtomic: (path: string, data: Uint8Array) => Effect.Effect<void, KafkaStorageError>
  readonly exists: (path: string) => Effect.Effect<boolean, KafkaStorageError>
  /** Names in a folder; empty when the folder does not exist. */
  readonly list: (dir: string) => Effect.Effect<ReadonlyArray<string>, KafkaStorageError>
  readonly mkdir: (dir: string) => Effect.Effect<void, KafkaStorageError>
  /** Removes a file; no error when missing. */
  readonly remove: (path: string) => Effect.Effect<void, KafkaStorageError>
  /** Removes a folder and everything in it. */
  readonly removeDir: (dir: string) => Effect.Effect<void, KafkaStorageError>
  readonly rename: (from: string, to: string) => Effect.Effect<void, KafkaStorageError>
  /** Makes the folder's entries (creates, renames, unlinks) durable. */
  readonly syncDir: (dir: string) => Effect.Effect<void, KafkaStorageError>
}

// ---------------------------------------------------------------------------------------------
// Node.js

const call = <A>(
  operation: string,
  path: string,
  f: (cb: (err: NodeJS.ErrnoException | null, a: A) => void) => void
): Effect.Effect<A, KafkaStorageError> =>
  Effect.async<A, KafkaStorageError>((resume) => {
    f((err, a) => resume(err ? Effect.fail(fromSystemError(err, operation, path)) : Effect.succeed(a)))
  })

/**
 * Writes and reads of at most this many bytes run synchronously on the calling thread: to and from the
 * page cache they take microseconds, while a trip through libuv's thread pool costs a wake-up of another
 * thread and a callback, which dominated small appends and tail reads (and their latency tails) on a
 * loaded machine. Larger ones stay asynchronous so the event loop keeps serving while they run.
 */
export const SYNC_IO_MAX = 64 * 1024

/** Writes `buffers` at `position` synchronously (short writes are continued); throws a system error. */
const writevSync = (fd: number, buffers: ReadonlyArray<Uint8Array>, total: number, position: number): void => {
  let written = fs.writevSync(fd, buffers as Array<NodeJS.ArrayBufferView>, position)
  if (written === total) return
  const all = Buffer.concat(buffers as Array<Uint8Array>)
  while (written < total) written += fs.writeSync(fd, all, written, total - written, position + written)
}

/** {@link writevSync} (meant for at most {@link SYNC_IO_MAX} bytes); returns the error instead of throwing. */
const writevNow = (
  fd: number,
  path: string,
  buffers: ReadonlyArray<Uint8Array>,
  total: number,
  position: number
): KafkaStorageError | undefined => {
  if (total === 0) return undefined
  try {
    // writev takes at most IOV_MAX (1024) buffers at a time
    writevSync(fd, buffers.length > 1024 ? [Buffer.concat(buffers as Array<Uint8Array>)] : buffers, total, position)
    return undefined
  } catch (err) {
    return fromSystemError(err as NodeJS.ErrnoException, "write", path)
  }
}

/**
 * Writes `buffers` at `position` through libuv's pool, continuing short writes; `done` is always called
 * asynchronously, with the error if any.
 */
const writevCallback = (
  fd: number,
  path: string,
  buffers: ReadonlyArray<Uint8Array>,
  position: number,
  done: (error: KafkaStorageError | undefined) => void
): void => {
  // writev takes at most IOV_MAX (1024) buffers at a time
  const bufs = (
    buffers.length > 1024 ? [Buffer.concat(buffers as Array<Uint8Array>)] : buffers.slice()
  ) as Array<Uint8Array>
  let pos = position
  const step = (): void => {
    fs.writev(fd, bufs as Array<NodeJS.ArrayBufferView>, pos, (err, written) => {
      if (err) return done(fromSystemError(err, "write", path))
      pos += written
      // drop fully written buffers, cut the partly written one (short writes are rare but legal)
      while (bufs.length > 0 && written >= bufs[0]!.byteLength) {
        written -= bufs[0]!.byteLength
        bufs.shift()
      }
      if (bufs.length === 0) return done(undefined)
      if (written > 0) bufs[0] = bufs[0]!.subarray(written)
      step()
    })
  }
  if (bufs.length === 0) queueMicrotask(() => done(undefined))
  else step()
}

const writevAll = (
  fd: number,
  path: string,
  buffers: ReadonlyArray<Uint8Array>,
  position: number,
  during?: () => void
): Effect.Effect<void, KafkaStorageError> =>
  Effect.async<void, KafkaStorageError>((resume) => {
    let total = 0
    for (const b of buffers) total += b.byteLength
    if (total <= SYNC_IO_MAX) {
      const error = writevNow(fd, path, buffers, total, position)
      if (error !== undefined) return resume(Effect.fail(error))
      during?.()
      return resume(Effect.void)
    }
    writevCallback(fd, path, buffers, position, (error) => resume(error ? Effect.fail(error) : Effect.void))
    during?.()
  })

const nodeHandle = (fd: number, path: string): FileHandle => ({
  path,
  writev: (buffers, position, during) => writevAll(fd, path, buffers, position, during),
  writevNow: (buffers, total, position) => writevNow(fd, path, buffers, total, position),
  truncateNow: (size) => {
    try {
      fs.ftruncateSync(fd, size)
      return undefined
    } catch (err) {
      return fromSystemError(err as NodeJS.ErrnoException, "truncate", path)
    }
  },
  writevCallback: (buffers, position, done) => writevCallback(fd, path, buffers, position, done),
  truncateCallback: (size, done) =>
    fs.ftruncate(fd, size, (err) => done(err ? fromSystemError(err, "truncate", path) : undefined)),
  read: (buffer, offset, length, position) =>
    length <= SYNC_IO_MAX
      ? Effect.try({
          try: () => fs.readSync(fd, buffer, offset, length, position),
          catch: (err) => fromSystemError(err as NodeJS.ErrnoException, "read", path)
        })
      : call<number>("read", path, (cb) => fs.read(fd, buffer, offset, length, position, cb)),
  sync: timed(fsyncTime)(call<void>("fsync", path, (cb) => fs.fsync(fd, (err) => cb(err, undefined)))),
  truncate: (size) => call<void>("truncate", path, (cb) => fs.ftruncate(fd, size, (err) => cb(err, undefined))),
  size: call<fs.Stats>("stat", path, (cb) => fs.fstat(fd, cb)).pipe(Effect.map((s) => s.size)),
  close: call<void>("close", path, (cb) => fs.close(fd, (err) => cb(err, undefined)))
})

const isNotFound = (e: KafkaStorageError) => e.code === "ENOENT"

/** The real disk, through `node:fs`. */
export const node: Disk = {
  open: (path, create) =>
    call<number>("open", path, (cb) =>
      fs.open(path, create ? fs.constants.O_RDWR | fs.constants.O_CREAT : fs.constants.O_RDWR, 0o644, cb)
    ).pipe(Effect.map((fd) => nodeHandle(fd, path))),
  readFile: (path) =>
    call<Buffer>("read", path, (cb) => fs.readFile(path, cb)).pipe(
      Effect.map((b): Option.Option<Uint8Array> => Option.some(b)),
      Effect.catchIf(isNotFound, () => Effect.succeed(Option.none()))
    ),
  writeFileAtomic: (path, data) => {
    const tmp = `${path}.tmp`
    return Effect.gen(function* () {
      const fd = yield* call<number>("open", tmp, (cb) => fs.open(tmp, "w", cb))
      const h = nodeHandle(fd, tmp)
      yield* h.writev([data], 0).pipe(
        Effect.zipRight(h.sync),
        Effect.ensuring(Effect.ignore(h.close)),
        Effect.tapError(() => Effect.ignore(node.remove(tmp)))
      )
      yield* node.rename(tmp, path)
      yield* node.syncDir(Path.dirname(path))
    })
  },
  exists: (path) => call<boolean>("stat", path, (cb) => fs.access(path, (err) => cb(null, err === null))),
  list: (dir) =>
    call<Array<string>>("readdir", dir, (cb) => fs.readdir(dir, cb)).pipe(
      Effect.catchIf(isNotFound, () => Effect.succeed([] as Array<string>))
    ),
  mkdir: (dir) => call<void>("mkdir", dir, (cb) => fs.mkdir(dir, { recursive: true }, (err) => cb(err, undefined))),
  remove: (path) =>
    call<void>("unlink", path, (cb) => fs.unlink(path, (err) => cb(err, undefined))).pipe(
      Effect.catchIf(isNotFound, () => Effect.void)
    ),
  removeDir: (dir) =>
    call<void>("rm", dir, (cb) => fs.rm(dir, { recursive: true, force: true }, (err) => cb(err, undefined))),
  rename: (from, to) => call<void>("rename", from, (cb) => fs.rename(from, to, (err) => cb(err, undefined))),
  syncDir: (dir) =>
    Effect.acquireUseRelease(
      call<number>("open", dir, (cb) => fs.open(dir, "r", cb)),
      (fd) => timed(fsyncTime)(call<void>("fsync", dir, (cb) => fs.fsync(fd, (err) => cb(err, undefined)))),
      (fd) => Effect.sync(() => fs.close(fd, () => {}))
    )
}

// ---------------------------------------------------------------------------------------------
// Memory

interface MemFile {
  data: Buffer
  size: number
}

const enoent = (operation: string, path: string) =>
  fromSystemError(Object.assign(new Error(`no such file: ${path}`), { code: "ENOENT" }), operation, path)

/** A fresh, empty in-memory disk. */
export const memory = (): Disk => {
  const files = new Map<string, MemFile>()
  const dirs = new Set<string>(["/", "."])
  const norm = (p: string) => Path.resolve("/", p)

  const handle = (file: MemFile, path: string): FileHandle => {
    const ensure = (n: number) => {
      if (n <= file.data.length) return
      const next = Buffer.alloc(Math.max(n, file.data.length * 2, 4096))
      file.data.copy(next, 0, 0, file.size)
      file.data = next
    }
    const write = (buffers: ReadonlyArray<Uint8Array>, total: number, position: number) => {
      let pos = position
      ensure(pos + total)
      if (pos > file.size) file.data.fill(0, file.size, pos)
      for (const b of buffers) {
        file.data.set(b, pos)
        pos += b.byteLength
      }
      if (pos > file.size) file.size = pos
    }
    const truncate = (size: number) => {
      ensure(size)
      if (size > file.size) file.data.fill(0, file.size, size)
      file.size = size
    }
    return {
      path,
      writev: (buffers, position, during) =>
        Effect.sync(() => {
          during?.()
          let total = 0
          for (const b of buffers) total += b.byteLength
          write(buffers, total, position)
        }),
      writevNow: (buffers, total, position) => {
        write(buffers, total, position)
        return undefined
      },
      read: (buffer, offset, length, position) =>
        Effect.sync(() => {
          if (position >= file.size) return 0
          const n = Math.min(length, file.size - position)
          buffer.set(file.data.subarray(position, position + n), offset)
          return n
        }),
      sync: Effect.void,
      truncate: (size) => Effect.sync(() => truncate(size)),
      truncateNow: (size) => {
        truncate(size)
        return undefined
      },
      size: Effect.sync(() => file.size),
      close: Effect.void
    }
  }

  const disk: Disk = {
    open: (path, create) =>
      Effect.suspend(() => {
        const p = norm(path)
        let file = files.get(p)
        if (!file) {
          if (!create || !dirs.has(Path.dirname(p))) return Effect.fail(enoent("open", path))
          file = { data: Buffer.alloc(0), size: 0 }
          files.set(p, file)
        }
        return Effect.succeed(handle(file, path))
      }),
    readFile: (path) =>
      Effect.sync(() => {
        const f = files.get(norm(path))
        return f ? Option.some(Buffer.from(f.data.subarray(0, f.size))) : Option.none()
      }),
    writeFileAtomic: (path, data) =>
      Effect.suspend(() => {
        const p = norm(path)
        if (!dirs.has(Path.dirname(p))) return Effect.fail(enoent("open", path))
        files.set(p, { data: Buffer.from(data), size: data.byteLength })
        return Effect.void
      }),
    exists: (path) => Effect.sync(() => files.has(norm(path)) || dirs.has(norm(path))),
    list: (dir) =>
      Effect.sync(() => {
        const d = norm(dir)
        const out: Array<string> = []
        for (const p of [...files.keys(), ...dirs]) if (p !== d && Path.dirname(p) === d) out.push(Path.basename(p))
        return out.sort()
      }),
    mkdir: (dir) =>
      Effect.sync(() => {
        let d = norm(dir)
        while (!dirs.has(d)) {
          dirs.add(d)
          d = Path.dirname(d)
        }
      }),
    remove: (path) => Effect.sync(() => void files.delete(norm(path))),
    removeDir: (dir) =>
      Effect.sync(() => {
        const d = norm(dir)
        const inside = (p: string) => p === d || p.startsWith(`${d}/`)
        for (const p of [...files.keys()]) if (inside(p)) files.delete(p)
        for (const p of [...dirs]) if (inside(p)) dirs.delete(p)
      }),
    rename: (from, to) =>
      Effect.suspend(() => {
        const f = files.get(norm(from))
        if (!f) return Effect.fail(enoent("rename", from))
        files.delete(norm(from))
        files.set(norm(to), f)
        return Effect.void
      }),
    syncDir: () => Effect.void
  }
  return disk
}

// ---------------------------------------------------------------------------------------------
// Fault injection

/** The operations a {@link withHooks} hook sees. */
export type Operation =
  | "open"
  | "write"
  | "read"
  | "fsync"
  | "truncate"
  | "close"
  | "readFile"
  | "writeFile"
  | "list"
  | "mkdir"
  | "remove"
  | "rename"
  | "syncDir"

/**
 * Wraps a disk so that `before(operation, path)` runs ahead of every operation: it may fail it
 * (fault injection: disk full, permission denied) or count it.
 */
export const withHooks = (
  disk: Disk,
  before: (operation: Operation, path: string) => Effect.Effect<void, KafkaStorageError>
): Disk => {
  const hook = (operation: Operation, path: string) => Effect.suspend(() => before(operation, path))
  const wrapHandle = (h: FileHandle): FileHandle => ({
    path: h.path,
    writev: (b, p, d) => Effect.zipRight(hook("write", h.path), h.writev(b, p, d)),
    read: (b, o, l, p) => Effect.zipRight(hook("read", h.path), h.read(b, o, l, p)),
    sync: Effect.zipRight(hook("fsync", h.path), h.sync),
    truncate: (s) => Effect.zipRight(hook("truncate", h.path), h.truncate(s)),
    size: h.size,
    close: Effect.zipRight(hook("close", h.path), h.close)
  })
  return {
    open: (p, c) => Effect.zipRight(before("open", p), disk.open(p, c)).pipe(Effect.map(wrapHandle)),
    readFile: (p) => Effect.zipRight(before("readFile", p), disk.readFile(p)),
    writeFileAtomic: (p, d) => Effect.zipRight(before("writeFile", p), disk.writeFileAtomic(p, d)),
    exists: disk.exists,
    list: (d) => Effect.zipRight(before("list", d), disk.list(d)),
    mkdir: (d) => Effect.zipRight(before("mkdir", d), disk.mkdir(d)),
    remove: (p) => Effect.zipRight(before("remove", p), disk.remove(p)),
    removeDir: (d) => Effect.zipRight(before("remove", d), disk.removeDir(d)),
    rename: (f, t) => Effect.zipRight(before("rename", f), disk.rename(f, t)),
    syncDir: (d) => Effect.zipRight(before("syncDir", d), disk.syncDir(d))
  }
}
