/**
 * The etcd v3 backend behind `MetadataStore.layerEtcd` (the `etcd3` gRPC client).
 *
 * Invariants: every write is one etcd `Txn` guarded by `mod_revision` compares, so etcd's linearizable
 * log decides every compare-and-swap; reads are etcd's default linearizable ranges; leases are etcd
 * leases (TTL in whole seconds, at least etcd's minimum) kept alive only by explicit `keepAlive`
 * calls, so a broker that stops calling it (or dies) loses its keys when etcd expires the lease;
 * watches start from a revision and fail (rather than skip) when that revision was compacted.
 */

import { Chunk, Effect, Option, Stream } from "effect"
import { Etcd3, EtcdLeaseInvalidError, type IKeyValue, type IWatchResponse, type Lease } from "etcd3"
import { LeaseExpired, MetadataStoreError } from "../MetadataRecords.js"
import type { KvBackend, KvEntry, KvEvent, KvOp } from "./metadataKv.js"

/** How to reach etcd. */
export interface EtcdKvOptions {
  /** Client URLs, e.g. `["http://127.0.0.1:2379"]`. */
  readonly hosts: ReadonlyArray<string>
}

const storeError = (message: string) => (cause: unknown) => new MetadataStoreError({ message, cause })

const call = <A>(message: string, f: () => Promise<A>) => Effect.tryPromise({ try: f, catch: storeError(message) })

const entryOf = (kv: IKeyValue): KvEntry => ({
  key: kv.key.toString(),
  value: kv.value.toString(),
  modRevision: Number(kv.mod_revision)
})

const opOf = (client: Etcd3, op: KvOp) => {
  if (op._tag === "Put") {
    const put = client.put(op.key).value(op.value)
    return op.lease === undefined ? put : put.lease(op.lease)
  }
  return op._tag === "Delete" ? client.delete().key(op.key) : client.delete().prefix(op.prefix)
}

const leaseLost =
  (lease: string) =>
  (cause: MetadataStoreError): Effect.Effect<never, LeaseExpired | MetadataStoreError> =>
    cause.cause instanceof EtcdLeaseInvalidError ? Effect.fail(new LeaseExpired({ lease })) : Effect.fail(cause)

const eventsOf = (res: IWatchResponse): Chunk.Chunk<KvEvent> =>
  Chunk.unsafeFromArray(
    res.events.map((e) => ({
      key: e.kv.key.toString(),
      revision: Number(e.kv.mod_revision),
      value: e.type === "Put" ? e.kv.value.toString() : undefined
    }))
  )

/** Handlers are attached synchronously with the watcher, so no response can arrive before them. */
const watchEvents = (client: Etcd3, prefix: string, fromRevision: number) =>
  Stream.asyncScoped<KvEvent, MetadataStoreError>((emit) =>
    Effect.acquireRelease(
      Effect.sync(() => {
        const watcher = client.watch().prefix(prefix).startRevision(String(fromRevision)).watcher()
        watcher.on("data", (res) => {
          if (Number(res.compact_revision) > 0) {
            void emit.fail(new MetadataStoreError({ message: `revision ${fromRevision} is compacted` }))
          } else {
            void emit.chunk(eventsOf(res))
          }
        })
        watcher.on("error", (cause) => void emit.fail(new MetadataStoreError({ message: "etcd watch", cause })))
        return watcher
      }),
      (watcher) => Effect.promise(() => watcher.cancel()).pipe(Effect.ignore)
    )
  )

/** The etcd backend; the client (and every lease handle) is closed with the scope. */
export const makeEtcdKv = (options: EtcdKvOptions) =>
  Effect.gen(function* () {
    const client = yield* Effect.acquireRelease(
      Effect.sync(() => new Etcd3({ hosts: [...options.hosts] })),
      (c) => Effect.sync(() => c.close())
    )
    const leases = new Map<string, Lease>()

    const grant = (ttlMillis: number) =>
      Effect.gen(function* () {
        const lease = client.lease(Math.max(1, Math.ceil(ttlMillis / 1000)), { autoKeepAlive: false })
        lease.on("lost", () => {})
        const id = yield* call("etcd lease grant", () => lease.grant())
        leases.set(id, lease)
        return id
      })

    const keepAlive = (id: string) => {
      const lease = leases.get(id)
      if (lease === undefined) return Effect.fail(new LeaseExpired({ lease: id }))
      return call("etcd lease keepalive", () => lease.keepaliveOnce()).pipe(
        Effect.catchTag("MetadataStoreError", leaseLost(id)),
        Effect.flatMap((res) => (Number(res.TTL) > 0 ? Effect.void : Effect.fail(new LeaseExpired({ lease: id })))),
        Effect.tapErrorTag("LeaseExpired", () => Effect.sync(() => leases.delete(id)))
      )
    }

    const revoke = (id: string) => {
      const lease = leases.get(id)
      leases.delete(id)
      // etcd3 already treats revoking an unknown (expired) lease as done
      return lease === undefined ? Effect.void : call("etcd lease revoke", () => lease.revoke())
    }

    const backend: KvBackend = {
      get: (key) =>
        call("etcd get", () => client.get(key).exec()).pipe(
          Effect.map((res) => Option.map(Option.fromNullable(res.kvs[0]), entryOf))
        ),
      range: (prefix) =>
        call("etcd range", () => client.getAll().prefix(prefix).exec()).pipe(
          Effect.map((res) => ({ entries: res.kvs.map(entryOf), revision: Number(res.header.revision) }))
        ),
      txn: (compares, ops) => {
        const lease = ops.find((op) => op._tag === "Put" && op.lease !== undefined)
        return call("etcd txn", () => {
          const [first, ...rest] = compares
          if (first === undefined) throw new Error("a metadata transaction needs at least one compare")
          const base = client.if(first.key, "Mod", "==", first.modRevision)
          for (const c of rest) base.and(c.key, "Mod", "==", c.modRevision)
          return base.then(...ops.map((op) => opOf(client, op))).commit()
        }).pipe(
          Effect.catchTag("MetadataStoreError", leaseLost(lease?._tag === "Put" ? (lease.lease ?? "") : "")),
          Effect.map((res) => (res.succeeded ? Option.some(Number(res.header.revision)) : Option.none()))
        )
      },
      grant,
      keepAlive,
      revoke,
      watch: (prefix, fromRevision) => watchEvents(client, prefix, fromRevision)
    }
    return backend
  })
