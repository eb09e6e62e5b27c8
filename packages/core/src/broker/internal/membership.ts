/**
 * This broker's membership of the cluster: its registration in the {@link MetadataStore} on a lease
 * (`broker.session.timeout.ms`), and the live broker list that Metadata, DescribeCluster and FindCoordinator
 * answer from.
 *
 * Invariants:
 * - The broker is registered before `register` returns (a second live broker with the same `node.id` makes
 *   it fail with `MetadataConflict`), and stays registered for the life of the scope: the lease is renewed
 *   every third of its TTL and revoked when the scope closes; a lost lease (the store expired it) is logged and
 *   the broker registers again on a new one.
 * - The live list follows the store's broker records through a watch started at the revision the first read
 *   saw, so no change is missed; it is read synchronously by handlers. It always holds this broker: a broker
 *   that serves requests is alive, even while its own registration is being renewed.
 */
import { Effect, Option, type Scope, Stream } from "effect"
import type { BrokerEndpoint } from "../Handler.js"
import { BrokerRegistration, type MetadataConflict, type MetadataStoreError } from "../MetadataRecords.js"
import * as MetadataStore from "../MetadataStore.js"

/** The registered brokers, as last seen in the store. */
export interface Membership {
  /** The live brokers by node id (this broker included). */
  readonly brokers: () => ReadonlyArray<BrokerEndpoint>
  /** Flags this broker's registration as shutting down (controlled shutdown); store errors are logged. */
  readonly markShuttingDown: Effect.Effect<void>
  /**
   * The store version of this broker's current registration (the revision it registered at: this incarnation), or
   * undefined while its lease is lost and it registers again.
   */
  readonly registration: () => number | undefined
}

const toEndpoint = (r: BrokerRegistration): BrokerEndpoint => ({
  nodeId: r.brokerId,
  host: r.host,
  port: r.port,
  rack: r.rack ?? null
})

/** Registers `self` in the store for the current scope and follows the store's broker list. */
export const register = (
  self: BrokerEndpoint,
  sessionTimeoutMs: number
): Effect.Effect<Membership, MetadataConflict | MetadataStoreError, MetadataStore.MetadataStore | Scope.Scope> =>
  Effect.gen(function* () {
    const store = yield* MetadataStore.MetadataStore
    const registration = new BrokerRegistration({
      brokerId: self.nodeId,
      host: self.host,
      port: self.port,
      ...(self.rack === null ? {} : { rack: self.rack })
    })
    const live = new Map<number, BrokerEndpoint>()
    let list: ReadonlyArray<BrokerEndpoint> = [self]
    const publish = () => {
      const all = new Map(live)
      all.set(self.nodeId, self)
      list = [...all.values()].sort((a, b) => a.nodeId - b.nodeId)
    }

    /** One registration: a session and the broker record on its lease; completes when the lease is lost. */
    // the registration as written, for the controlled-shutdown flag
    let current: { readonly lease: string; readonly version: number } | undefined
    const registerOnce = Effect.gen(function* () {
      const session = yield* MetadataStore.session(sessionTimeoutMs)
      yield* store.registerBroker(registration, session.lease).pipe(
        Effect.tap((written) =>
          Effect.sync(() => {
            current = { lease: session.lease, version: written.version }
          })
        ),
        // the lease was lost before the record was written: the next round registers again
        Effect.catchTag("LeaseExpired", () => Effect.void)
      )
      return session.lost
    })

    // the first registration before the broker is handed out: a duplicate node.id fails the start
    const revision = yield* store.revision
    const lost = yield* registerOnce
    for (const b of yield* store.brokers) live.set(b.value.brokerId, toEndpoint(b.value))
    publish()
    yield* Effect.logInfo(`Registered broker ${self.nodeId} (${self.host}:${self.port}) in the metadata store`)

    // later rounds: after a lost lease, a new session and the same record
    const renew = (lost: Effect.Effect<void>): Effect.Effect<never, never, MetadataStore.MetadataStore> =>
      Effect.zipRight(
        Effect.zipRight(
          lost,
          Effect.sync(() => {
            current = undefined
          })
        ),
        Effect.logWarning(`Broker ${self.nodeId} lost its metadata-store lease; registering again`).pipe(
          Effect.zipRight(Effect.scoped(Effect.flatMap(registerOnce, (next) => next))),
          Effect.catchAll((e) => Effect.logError(`Broker ${self.nodeId} cannot register again`, e)),
          Effect.forever
        )
      )
    yield* Effect.forkScoped(renew(lost))

    yield* store.watch("broker", revision + 1).pipe(
      Stream.runForEach((event) =>
        Effect.sync(() => {
          if (event.kind !== "broker") return
          const id = Number(event.key.slice(event.key.lastIndexOf("/") + 1))
          const value = Option.fromNullable(event.value)
          if (Option.isSome(value)) live.set(id, toEndpoint(value.value))
          else live.delete(id)
          publish()
        })
      ),
      Effect.catchAll((e) => Effect.logError("The metadata store's broker watch failed", e)),
      Effect.forkScoped
    )

    const markShuttingDown = Effect.suspend(() => {
      if (current === undefined) return Effect.void
      const flagged = new BrokerRegistration({ ...registration, shuttingDown: true })
      return store.updateBroker(flagged, current.lease, current.version).pipe(
        Effect.asVoid,
        Effect.catchAll((e) => Effect.logWarning(`Broker ${self.nodeId} cannot flag its controlled shutdown`, e))
      )
    })

    return { brokers: () => list, markShuttingDown, registration: () => current?.version }
  })
