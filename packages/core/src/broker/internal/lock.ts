/**
 * A data directory lock: `<dir>/.lock` holding the owner's pid, created exclusively. A lock left by a
 * process that is gone is taken over; a live owner (including another broker in this process) wins.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect, type Scope } from "effect"
import { KafkaStorageError } from "../BrokerError.js"

const held = new Set<string>()

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

const tryLock = (file: string): void => {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: "wx" })
      return
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
      const owner = Number.parseInt(fs.readFileSync(file, "utf8").trim(), 10)
      if (Number.isInteger(owner) && owner !== process.pid && alive(owner)) {
        throw new Error(`it is locked by process ${owner}`)
      }
      if (owner === process.pid && held.has(file)) throw new Error("it is in use by another broker in this process")
      fs.rmSync(file, { force: true })
    }
  }
  throw new Error("could not take the lock")
}

/** Locks `dir` for the life of the scope. */
export const acquire = (dir: string): Effect.Effect<void, KafkaStorageError, Scope.Scope> => {
  const file = path.join(dir, ".lock")
  return Effect.acquireRelease(
    Effect.try({
      try: () => {
        if (held.has(file)) throw new Error("it is in use by another broker in this process")
        tryLock(file)
        held.add(file)
      },
      catch: (e) =>
        new KafkaStorageError({
          message: `Cannot use data directory ${dir}: ${(e as Error).message}`,
          path: dir,
          code: (e as NodeJS.ErrnoException).code ?? ""
        })
    }),
    () =>
      Effect.sync(() => {
        held.delete(file)
        fs.rmSync(file, { force: true })
      })
  )
}
