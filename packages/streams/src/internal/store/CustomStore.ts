/**
 * The seam for task stores that are not timestamped key-value stores (stream-stream join windows,
 * versioned tables): a `StoreSpec` carries an opener, the task calls it once with the task's directory and
 * changelog writer, and then commits, checkpoints, restores and closes the store through this contract.
 */
import type { DslStoreType, Serde } from "../../dsl/Options.js"
import type { Step } from "../../processor/Processor.js"
import type { ChangelogWriter } from "./TimestampedStore.js"

/** What a task needs of a store to restore, flush, checkpoint and close it. */
export interface RestorableStore {
  readonly name: string
  /** The byte store underneath: whether it is on disk, and making its writes durable. */
  readonly inner: { readonly persistent: boolean; flush(): void }
  /** Applies one changelog record (restore: no changelog, no cache). */
  restore(key: Uint8Array, value: Uint8Array | null, timestamp: number): void
}

/** A task store opened through a `StoreSpec`'s opener. */
export interface CustomStore extends RestorableStore {
  /** Commit: write out what is buffered (may forward) and flush the byte store. */
  flush(): Step
  close(): void
}

/** What an opener gets from the task. */
export interface OpenParams {
  readonly name: string
  /** The store's serdes, resolved at build (the defaults where the DSL had none). */
  readonly keySerde: Serde<unknown>
  readonly valueSerde: Serde<unknown>
  /** The task's state directory (undefined: the store must be in memory). */
  readonly taskDir: string | undefined
  readonly defaultStoreType: DslStoreType
  /** Where the store's writes go as changelog records (undefined: logging disabled). */
  readonly changelog: ChangelogWriter | undefined
}

/** Opens a custom store for one task. */
export type CustomStoreOpener = (params: OpenParams) => CustomStore
