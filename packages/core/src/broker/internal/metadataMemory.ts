/**
 * The in-process versioned key-value store behind `MetadataStore.layerMemory`.
 *
 * Invariants: the state changes only through the pure `applyTxn`/`expireLeases`/... functions below,
 * applied one at a time under a one-permit semaphore (so every operation, reads included, is
 * linearizable); expired leases are removed (with their keys) before any operation sees the state, at
 * the `Clock` time of that operation, and by a sweeper so watchers see expiries without other traffic;
 * events are published under the same permit, so subscribers see them in revision order; the last
 * `historyLimit` events are kept so a watch can start from a past revision (older ones fail as compacted).
 */
import { Clock, Effect, Option, PubSub, Ref, Schedule, Stream } from "effect"
import { LeaseExpired, MetadataStoreError } from "../MetadataRecords.js"
import type { KvBackend, KvCompare, KvEntry, KvEvent, KvOp } from "./metadataKv.js"

interface StoredEntry extends KvEntry {
  readonly lease?: string | undefined
}

/** The whole store as a value. */
export interface MemoryKvState {
  readonly revision: number
  readonly entries: ReadonlyMap<string, StoredEntry>
  readonly leases: ReadonlyMap<string, { readonly ttlMillis: number; readonly expiresAt: number }>
  readonly nextLease: number
  readonly history: ReadonlyArray<KvEvent>
  /** Watches must start after this revision. */
  readonly compacted: number
}

/** What a state transition produced: the new state, the events to publish and the caller's answer. */
export interface Step<A> {
  readonly state: MemoryKvState
  readonly events: ReadonlyArray<KvEvent>
  readonly result: A
}

const historyLimit = 10_000

/** An empty store at revision 1 (as etcd starts). */
export const initialState: MemoryKvState = {
  revision: 1,
  entries: new Map(),
  leases: new Map(),
  nextLease: 1,
  history: [],
  compacted: 0
}

const withEvents = (state: MemoryKvState, events: ReadonlyArray<KvEvent>): MemoryKvState => {
  if (events.length === 0) return state
  const history = [...state.history, ...events]
  const drop = Math.max(0, history.length - historyLimit)
  return drop === 0
    ? { ...state, history }
    : { ...state, history: history.slice(drop), compacted: history[drop - 1]?.revision ?? state.compacted }
}

const deleteKeys = (state: MemoryKvState, keys: ReadonlyArray<string>): Step<void> => {
  if (keys.length === 0) return { state, events: [], result: undefined }
  const revision = state.revision + 1
  const entries = new Map(state.entries)
  for (const key of keys) entries.delete(key)
  const events = keys.map((key) => ({ key, revision }))
  return { state: withEvents({ ...state, revision, entries }, events), events, result: undefined }
}

/** Removes a lease and deletes its keys in one revision. */
export const revokeLease = (state: MemoryKvState, lease: string): Step<void> => {
  const leases = new Map(state.leases)
  leases.delete(lease)
  const keys = [...state.entries.values()].filter((e) => e.lease === lease).map((e) => e.key)
  return deleteKeys({ ...state, leases }, keys)
}

/** Revokes every lease whose deadline is at or before `now`. */
export const expireLeases = (state: MemoryKvState, now: number): Step<void> => {
  let current = state
  const events: Array<KvEvent> = []
  for (const [lease, { expiresAt }] of state.leases) {
    if (expiresAt > now) continue
    const step = revokeLease(current, lease)
    current = step.state
    events.push(...step.events)
  }
  return { state: current, events, result: undefined }
}

const holds = (state: MemoryKvState, compare: KvCompare): boolean =>
  (state.entries.get(compare.key)?.modRevision ?? 0) === compare.modRevision

const applyOp = (entries: Map<string, StoredEntry>, op: KvOp, revision: number, events: Array<KvEvent>): void => {
  if (op._tag === "Put") {
    entries.set(op.key, { key: op.key, value: op.value, modRevision: revision, lease: op.lease })
    events.push({ key: op.key, revision, value: op.value })
    return
  }
  const keys = op._tag === "Delete" ? [op.key] : [...entries.keys()].filter((k) => k.startsWith(op.prefix))
  for (const key of keys) {
    if (entries.delete(key)) events.push({ key, revision })
  }
}

/** A compare-and-swap transaction: the new revision when every compare holds, else none. */
export const applyTxn = (
  state: MemoryKvState,
  compares: ReadonlyArray<KvCompare>,
  ops: ReadonlyArray<KvOp>
): Step<Option.Option<number>> | LeaseExpired => {
  if (!compares.every((c) => holds(state, c))) return { state, events: [], result: Option.none() }
  for (const op of ops) {
    if (op._tag === "Put" && op.lease !== undefined && !state.leases.has(op.lease)) {
      return new LeaseExpired({ lease: op.lease })
    }
  }
  const revision = state.revision + 1
  const entries = new Map(state.entries)
  const events: Array<KvEvent> = []
  for (const op of ops) applyOp(entries, op, revision, events)
  if (events.length === 0) return { state, events, result: Option.some(state.revision) }
  return { state: withEvents({ ...state, revision, entries }, events), events, result: Option.some(revision) }
}

/** Grants a lease expiring `ttlMillis` after `now` unless kept alive. */
export const grantLease = (state: MemoryKvState, ttlMillis: number, now: number): Step<string> => {
  const lease = String(state.nextLease)
  const leases = new Map(state.leases).set(lease, { ttlMillis, expiresAt: now + ttlMillis })
  return { state: { ...state, leases, nextLease: state.nextLease + 1 }, events: [], result: lease }
}

/** Pushes a live lease's deadline to `now + ttl`. */
export const keepLeaseAlive = (state: MemoryKvState, lease: string, now: number): Step<void> | LeaseExpired => {
  const current = state.leases.get(lease)
  if (current === undefined) return new LeaseExpired({ lease })
  const leases = new Map(state.leases).set(lease, { ...current, expiresAt: now + current.ttlMillis })
  return { state: { ...state, leases }, events: [], result: undefined }
}

const read =
  <A>(result: A) =>
  (state: MemoryKvState): Step<A> => ({ state, events: [], result })

const entryOf = ({ key, modRevision, value }: StoredEntry): KvEntry => ({ key, value, modRevision })

/** The in-memory backend, with its lease sweeper in the current scope. */
export const makeMemoryKv = Effect.gen(function* () {
  const permit = yield* Effect.makeSemaphore(1)
  const ref = yield* Ref.make(initialState)
  const pubsub = yield* PubSub.unbounded<KvEvent>()
  yield* Effect.addFinalizer(() => PubSub.shutdown(pubsub))

  const commitOr = <A>(
    f: (state: MemoryKvState, now: number) => Step<A> | LeaseExpired
  ): Effect.Effect<A, LeaseExpired> =>
    permit
      .withPermits(1)(
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          const expired = expireLeases(yield* Ref.get(ref), now)
          const step = f(expired.state, now)
          const next = step instanceof LeaseExpired ? expired.state : step.state
          yield* Ref.set(ref, next)
          yield* PubSub.publishAll(
            pubsub,
            step instanceof LeaseExpired ? expired.events : [...expired.events, ...step.events]
          )
          return step instanceof LeaseExpired ? Effect.fail(step) : Effect.succeed(step.result)
        })
      )
      .pipe(Effect.flatten)
  /** A transition that cannot fail (reads, grants, revokes). */
  const commit = <A>(f: (state: MemoryKvState, now: number) => Step<A>) => Effect.orDie(commitOr(f))

  yield* commit(read(undefined)).pipe(Effect.repeat(Schedule.spaced("100 millis")), Effect.forkScoped)

  const watch = (prefix: string, fromRevision: number): Stream.Stream<KvEvent, MetadataStoreError> =>
    Stream.unwrapScoped(
      permit.withPermits(1)(
        Effect.gen(function* () {
          const state = yield* Ref.get(ref)
          if (fromRevision <= state.compacted) {
            return yield* new MetadataStoreError({ message: `revision ${fromRevision} is compacted` })
          }
          const backlog = state.history.filter((e) => e.revision >= fromRevision)
          const live = yield* PubSub.subscribe(pubsub)
          return Stream.concat(Stream.fromIterable(backlog), Stream.fromQueue(live)).pipe(
            Stream.filter((e) => e.revision >= fromRevision && e.key.startsWith(prefix))
          )
        })
      )
    )

  const backend: KvBackend = {
    get: (key) => commit((s) => read(Option.map(Option.fromNullable(s.entries.get(key)), entryOf))(s)),
    range: (prefix) =>
      commit((s) =>
        read({
          entries: [...s.entries.values()].filter((e) => e.key.startsWith(prefix)).map(entryOf),
          revision: s.revision
        })(s)
      ),
    txn: (compares, ops) => commitOr((s) => applyTxn(s, compares, ops)),
    grant: (ttlMillis) => commit((s, now) => grantLease(s, ttlMillis, now)),
    keepAlive: (lease) => commitOr((s, now) => keepLeaseAlive(s, lease, now)),
    revoke: (lease) => commit((s) => revokeLease(s, lease)),
    watch
  }
  return backend
})
