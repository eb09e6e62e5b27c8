/**
 * The versioned key-value seam under the metadata store: the few etcd v3 primitives the typed store
 * needs (get, prefix range, multi-key compare-and-swap transactions on mod revisions, leases, watches
 * from a revision), implemented in memory (`metadataMemory.ts`) and over etcd (`metadataEtcd.ts`).
 *
 * Contract, shared by both: one global revision, bumped by every transaction that changes something;
 * a transaction is atomic and applies only when every compare holds (mod revision 0 = key absent);
 * a put with an unknown lease fails the whole transaction with `LeaseExpired`; a lease's keys are
 * deleted together when it expires or is revoked; a watch delivers every change under its prefix from
 * its start revision in revision order, with no gaps and no duplicates.
 */
import type { Effect, Option, Stream } from "effect"
import type { LeaseExpired, MetadataStoreError } from "../MetadataRecords.js"

/** A stored key with its value and the revision of its last change. */
export interface KvEntry {
  readonly key: string
  readonly value: string
  readonly modRevision: number
}

/** A transaction guard: the key's mod revision must equal `modRevision` (0 = the key must not exist). */
export interface KvCompare {
  readonly key: string
  readonly modRevision: number
}

/** A transaction operation. */
export type KvOp =
  | { readonly _tag: "Put"; readonly key: string; readonly value: string; readonly lease?: string | undefined }
  | { readonly _tag: "Delete"; readonly key: string }
  | { readonly _tag: "DeletePrefix"; readonly prefix: string }

/** One change seen by a watch; `value` is undefined for a deletion. */
export interface KvEvent {
  readonly key: string
  readonly revision: number
  readonly value?: string | undefined
}

/** The versioned key-value store both metadata store implementations provide. */
export interface KvBackend {
  readonly get: (key: string) => Effect.Effect<Option.Option<KvEntry>, MetadataStoreError>
  readonly range: (
    prefix: string
  ) => Effect.Effect<{ readonly entries: ReadonlyArray<KvEntry>; readonly revision: number }, MetadataStoreError>
  /** Applies `ops` atomically when every compare holds: the new revision, or none when a compare failed. */
  readonly txn: (
    compares: ReadonlyArray<KvCompare>,
    ops: ReadonlyArray<KvOp>
  ) => Effect.Effect<Option.Option<number>, LeaseExpired | MetadataStoreError>
  readonly grant: (ttlMillis: number) => Effect.Effect<string, MetadataStoreError>
  readonly keepAlive: (lease: string) => Effect.Effect<void, LeaseExpired | MetadataStoreError>
  readonly revoke: (lease: string) => Effect.Effect<void, MetadataStoreError>
  /** Every change under `prefix` from `fromRevision` on (inclusive), in revision order. */
  readonly watch: (prefix: string, fromRevision: number) => Stream.Stream<KvEvent, MetadataStoreError>
}
