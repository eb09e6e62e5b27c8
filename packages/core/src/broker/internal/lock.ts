/**
 * The data directory lock: a Unix domain socket bound at `<dir>/.lock.sock` (a named pipe on Windows),
 * listening for the life of the broker. The operating system closes it when its holder dies, however it
 * dies, so no process id is involved and pid reuse cannot fool it.
 *
 * Invariants:
 * - Binding is atomic: of two processes binding one name, the second gets EADDRINUSE.
 * - A socket file that exists but refuses connections (ECONNREFUSED) was left by a dead holder: it is
 *   removed and the bind retried; one that accepts a connection has a live holder, and the directory is
 *   refused.
 * - On Linux an abstract-namespace socket named after the directory's device and inode is bound first.
 *   It has no file, so it never goes stale: brokers of one host (network namespace) are ordered by it
 *   before any of them removes a stale socket file, and two of them can never both win a takeover. On a
 *   file system that cannot hold a socket file it is the lock alone (with a warning).
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { Effect, type Scope } from "effect"
import { KafkaStorageError } from "../BrokerError.js"

/** The lock's socket file in a data directory. */
export const SOCKET_FILE = ".lock.sock"
/** The pid file of Eddy versions before the socket lock; removed once the lock is held. */
const LEGACY_FILE = ".lock"

/** The directory is locked by a live process. */
class InUse extends Error {}

/** Listens on `name`; "in-use" when another socket holds it. */
const listen = (name: string): Promise<net.Server | "in-use"> =>
  new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy())
    server.once("error", (e: NodeJS.ErrnoException) => (e.code === "EADDRINUSE" ? resolve("in-use") : reject(e)))
    server.listen(name, () => {
      server.unref()
      resolve(server)
    })
  })

/** Whether a process listens on `name`: a refused (or vanished) socket has no live holder. */
const isLive = (name: string): Promise<boolean> =>
  new Promise((resolve, reject) => {
    const socket = net.connect(name, () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("error", (e: NodeJS.ErrnoException) =>
      e.code === "ECONNREFUSED" || e.code === "ENOENT" || e.code === "ENOTSOCK" ? resolve(false) : reject(e)
    )
  })

const close = (server: net.Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()))

/** Binds `name`, taking it over from a dead holder; `shown` names it in errors. */
const bindFile = async (name: string, shown: string): Promise<net.Server> => {
  for (let attempt = 0; attempt < 5; attempt++) {
    const server = await listen(name)
    if (server !== "in-use") return server
    if (await isLive(name)) throw new InUse(`it is in use by another broker (a live process holds ${shown})`)
    try {
      fs.unlinkSync(name)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e
    }
  }
  throw new InUse(`it is in use by another broker (${shown} is taken again each time a stale one is removed)`)
}

/** A held lock. */
interface Held {
  readonly release: () => Promise<void>
  /** Set when the lock holds for this host only (the directory cannot hold a socket file). */
  readonly warning?: string
}

/** Errors of binding a socket in a file system that cannot hold one (some network or FUSE file systems). */
const NO_SOCKETS = new Set(["EOPNOTSUPP", "ENOTSUP", "EPERM", "EACCES"])

/** Socket paths are limited to about 104 bytes: longer ones are reached through the directory's open descriptor. */
const MAX_SOCKET_PATH = 100

const take = async (dir: string): Promise<Held> => {
  if (process.platform === "win32") {
    const pipe = `\\\\.\\pipe\\eddy-lock-${createHash("sha256").update(path.resolve(dir).toLowerCase()).digest("hex")}`
    const server = await listen(pipe)
    if (server === "in-use") throw new InUse(`it is in use by another broker (a live process holds ${pipe})`)
    return { release: () => close(server) }
  }
  const servers: Array<net.Server> = []
  let dirFd: number | undefined
  const release = async () => {
    // closing a path socket removes its file
    for (const server of servers.reverse()) await close(server)
    if (dirFd !== undefined) fs.closeSync(dirFd)
  }
  try {
    const file = path.join(dir, SOCKET_FILE)
    if (process.platform === "linux") {
      const { dev, ino } = fs.statSync(dir)
      const abstract = await listen(`\0eddy-data-dir-lock:${dev}:${ino}`)
      if (abstract === "in-use") throw new InUse(`it is in use by another broker (a live process holds ${file})`)
      servers.push(abstract)
    }
    let name = file
    if (Buffer.byteLength(file) > MAX_SOCKET_PATH && fs.existsSync("/proc/self/fd")) {
      dirFd = fs.openSync(dir, "r")
      name = `/proc/self/fd/${dirFd}/${SOCKET_FILE}`
    }
    let warning: string | undefined
    try {
      servers.push(await bindFile(name, file))
    } catch (e) {
      // the abstract socket still keeps every other broker of this host out
      const code = (e as NodeJS.ErrnoException).code ?? ""
      if (e instanceof InUse || servers.length === 0 || !NO_SOCKETS.has(code)) throw e
      warning = `Data directory ${dir} cannot hold the lock socket ${file} (${code}): it is locked for this host only`
    }
    fs.rmSync(path.join(dir, LEGACY_FILE), { force: true })
    return warning === undefined ? { release } : { release, warning }
  } catch (e) {
    await release()
    throw e
  }
}

/** Locks `dir` for the life of the scope; a directory locked by a live process fails with a one-line error. */
export const acquire = (dir: string): Effect.Effect<void, KafkaStorageError, Scope.Scope> =>
  Effect.flatMap(
    Effect.acquireRelease(
      Effect.tryPromise({
        try: () => take(dir),
        catch: (e) =>
          new KafkaStorageError({
            message: `Cannot use data directory ${dir}: ${(e as Error).message}`,
            path: dir,
            code: e instanceof InUse ? "" : ((e as NodeJS.ErrnoException).code ?? "")
          })
      }),
      (held) => Effect.promise(() => held.release())
    ),
    (held) => (held.warning === undefined ? Effect.void : Effect.logWarning(held.warning))
  )
