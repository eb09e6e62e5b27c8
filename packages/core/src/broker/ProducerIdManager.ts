/**
 * Hands out producer ids that are never reused, even across restarts and across the brokers of a cluster: ids are
 * taken from blocks of {@link BLOCK_SIZE}. With a metadata store, each block is reserved there first (Kafka's
 * AllocateProducerIds: a cluster-wide counter changed by compare-and-swap), so two brokers never give one id to two
 * producers (which would make each one's sequence numbers look like the other's duplicates). The end of the current
 * block is also written durably (`producer-id-block` in the data directory) before any id of it is handed out and
 * is the floor of the next reservation, so a store that forgot (the in-process one after a restart) never hands out
 * an id again either. A restart starts at the next block, so at most one block of ids is skipped per restart.
 */
import * as Path from "node:path"
import { Effect } from "effect"
import type { KafkaStorageError } from "./BrokerError.js"
import * as Durable from "./internal/durable.js"
import type { MetadataStoreError } from "./MetadataRecords.js"
import type { MetadataStoreService } from "./MetadataStore.js"

/** Ids reserved per durable write. */
export const BLOCK_SIZE = 1000

/** The file holding the first id not yet reserved. */
export const FILE_NAME = "producer-id-block"

/** The producer id allocator. */
export interface ProducerIdManager {
  /** The next unused producer id. */
  readonly next: Effect.Effect<number, KafkaStorageError | MetadataStoreError>
}

/**
 * An allocator persisting its blocks in `dataDir` (`undefined` keeps them in memory: tests), reserving them in the
 * cluster's metadata `store` when there is one.
 */
export const make = (
  dataDir: string | undefined,
  store?: MetadataStoreService
): Effect.Effect<ProducerIdManager, KafkaStorageError> =>
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
        return Effect.gen(function* () {
          const first = store === undefined ? reservedEnd : yield* store.allocateProducerIds(BLOCK_SIZE, reservedEnd)
          const end = first + BLOCK_SIZE
          if (file !== undefined) yield* Durable.writeAtomic(file, `${end}\n`)
          reservedEnd = end
          nextId = first
          return nextId++
        })
      })
    )
    return { next }
  })
