/**
 * Hands out producer ids that are never reused, even across restarts: ids are taken from blocks of
 * {@link BLOCK_SIZE}, and the end of the current block is written durably (`producer-id-block` in the
 * data directory) before any id of it is handed out. A restart starts at the next block, so at most
 * one block of ids is skipped per restart.
 */
import * as Path from "node:path"
import { Effect } from "effect"
import type { KafkaStorageError } from "./BrokerError.js"
import * as Durable from "./internal/durable.js"

/** Ids reserved per durable write. */
export const BLOCK_SIZE = 1000

/** The file holding the first id not yet reserved. */
export const FILE_NAME = "producer-id-block"

/** The producer id allocator. */
export interface ProducerIdManager {
  /** The next unused producer id. */
  readonly next: Effect.Effect<number, KafkaStorageError>
}

/** An allocator persisting its blocks in `dataDir`; `undefined` keeps them in memory (tests). */
export const make = (dataDir: string | undefined): Effect.Effect<ProducerIdManager, KafkaStorageError> =>
  Effect.gen(function* () {
    const file = dataDir === undefined ? undefined : Path.join(dataDir, FILE_NAME)
    let reservedEnd = 0
    if (file !== undefined) {
      const text = yield* Durable.readIfExists(file)
      const n = text === undefined ? 0 : Number(text.trim())
      if (!Number.isSafeInteger(n) || n < 0) {
        return yield* Effect.fail(Durable.storageFailure(`${file} does not hold a producer id: ${text}`, file))
      }
      reservedEnd = n
    }
    let nextId = reservedEnd
    const lock = yield* Effect.makeSemaphore(1)
    const next = lock.withPermits(1)(
      Effect.suspend(() => {
        if (nextId < reservedEnd) return Effect.succeed(nextId++)
        const end = reservedEnd + BLOCK_SIZE
        const persist = file === undefined ? Effect.void : Durable.writeAtomic(file, `${end}\n`)
        return Effect.map(persist, () => {
          reservedEnd = end
          return nextId++
        })
      })
    )
    return { next }
  })
