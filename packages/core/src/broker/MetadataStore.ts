/**
 * The cluster metadata store: brokers and their liveness, topics, partition assignments and state,
 * and controller election, behind one service with two implementations (`layerMemory`, `layerEtcd`).
 *
 * Guarantees (both implementations):
 * - Linearizable: every read and write takes effect atomically at one point between its call and its
 *   return, in one global order of store revisions (etcd's Raft log; one serialized actor in memory).
 * - Every change is a compare-and-swap on the record's `version` (the store revision of its last change;
 *   0 = the record must not exist) and fails with `MetadataConflict` when another change came first, so
 *   two controllers acting on the same stale state cannot both win.
 * - A broker registration and the controller record live on a lease: they disappear when the lease is
 *   not kept alive within its TTL (the process stopped heartbeating or died) or is revoked.
 * - At most one controller at a time; each election increases the controller epoch by one, and the
 *   epoch is never reused (it is stored outside the leased controller record).
 * - A watch delivers every change of its kind from its start revision, in revision order, no gaps and
 *   no duplicates; it fails (never skips) when that revision is no longer kept.
 * - The cluster id is written once (the first claim wins) and never changes.
 */
import {
  Context,
  Deferred,
  Duration,
  Effect,
  Layer,
  Option,
  type ParseResult,
  Schedule,
  Schema,
  type Scope,
  Stream
} from "effect"
import { type EtcdKvOptions, makeEtcdKv } from "./internal/metadataEtcd.js"
import type { KvBackend, KvEntry, KvEvent } from "./internal/metadataKv.js"
import { makeMemoryKv } from "./internal/metadataMemory.js"
import {
  BrokerRegistration,
  ControllerRecord,
  type LeaseExpired,
  MetadataConflict,
  type MetadataEvent,
  type MetadataKind,
  MetadataStoreError,
  PartitionState,
  type RegistrationGuard,
  TopicMetadata,
  type Versioned
} from "./MetadataRecords.js"

/** A lease id: the liveness session that broker registrations and the controller record hang on. */
export type LeaseId = string

type E = MetadataStoreError

/** The metadata store's operations. */
export interface MetadataStoreService {
  /** Grants a lease that expires `ttlMillis` after its last keepalive. */
  readonly grantLease: (ttlMillis: number) => Effect.Effect<LeaseId, E>
  /** Renews a lease; fails with `LeaseExpired` when it is already gone. */
  readonly keepAlive: (lease: LeaseId) => Effect.Effect<void, LeaseExpired | E>
  /** Ends a lease now, deleting every record attached to it. */
  readonly revokeLease: (lease: LeaseId) => Effect.Effect<void, E>
  /** Registers a broker on a lease; `MetadataConflict` when a live broker holds that id. */
  readonly registerBroker: (
    broker: BrokerRegistration,
    lease: LeaseId
  ) => Effect.Effect<Versioned<BrokerRegistration>, MetadataConflict | LeaseExpired | E>
  /** Replaces a live broker's registration (same lease), e.g. to flag a controlled shutdown. */
  readonly updateBroker: (
    broker: BrokerRegistration,
    lease: LeaseId,
    expectedVersion: number
  ) => Effect.Effect<Versioned<BrokerRegistration>, MetadataConflict | LeaseExpired | E>
  /** The live brokers, by id. */
  readonly brokers: Effect.Effect<ReadonlyArray<Versioned<BrokerRegistration>>, E>
  readonly topic: (name: string) => Effect.Effect<Option.Option<Versioned<TopicMetadata>>, E>
  /** Every topic, by name. */
  readonly topics: Effect.Effect<ReadonlyArray<Versioned<TopicMetadata>>, E>
  /** Creates (`expectedVersion` 0) or replaces a topic. */
  readonly putTopic: (
    topic: TopicMetadata,
    expectedVersion: number
  ) => Effect.Effect<Versioned<TopicMetadata>, MetadataConflict | E>
  /**
   * Deletes a topic and its partitions' records in one change, which also leaves a tombstone of its topic id (see
   * {@link MetadataStoreService.isTopicDeleted}).
   */
  readonly deleteTopic: (name: string, expectedVersion: number) => Effect.Effect<void, MetadataConflict | E>
  /**
   * Whether a topic of this id was deleted: a broker that was down meanwhile must not bring it back from its local
   * copy (tombstones are kept for good; they are a few bytes per deleted topic).
   */
  readonly isTopicDeleted: (topicId: string) => Effect.Effect<boolean, E>
  readonly partition: (topic: string, partition: number) => Effect.Effect<Option.Option<Versioned<PartitionState>>, E>
  /** A topic's partitions, by partition number. */
  readonly partitions: (topic: string) => Effect.Effect<ReadonlyArray<Versioned<PartitionState>>, E>
  /**
   * Creates (`expectedVersion` 0) or replaces one partition's assignment and state; with `registrations`, only while
   * each named broker's registration is still at that version (0 = not registered), in the same transaction.
   */
  readonly putPartition: (
    state: PartitionState,
    expectedVersion: number,
    registrations?: ReadonlyArray<RegistrationGuard>
  ) => Effect.Effect<Versioned<PartitionState>, MetadataConflict | E>
  /** The current controller, if one is elected. */
  readonly controller: Effect.Effect<Option.Option<Versioned<ControllerRecord>>, E>
  /** Becomes controller on `lease` if there is none now. */
  readonly tryCampaign: (
    brokerId: number,
    lease: LeaseId
  ) => Effect.Effect<Option.Option<Versioned<ControllerRecord>>, LeaseExpired | E>
  /** Waits until this broker is elected controller on `lease`. */
  readonly campaign: (brokerId: number, lease: LeaseId) => Effect.Effect<Versioned<ControllerRecord>, LeaseExpired | E>
  /** Gives up the controllership `controller` (a no-op conflict when it was already lost). */
  readonly resign: (controller: Versioned<ControllerRecord>) => Effect.Effect<void, MetadataConflict | E>
  /**
   * Reserves `count` producer ids no other broker of the cluster is given, ever (Kafka's AllocateProducerIds): the
   * first of them, at least `floor` (the end of the caller's last block on its own disk, for a store that forgot).
   */
  readonly allocateProducerIds: (count: number, floor: number) => Effect.Effect<number, E>
  /**
   * The cluster's id: the stored one, else `proposed`, stored now (compare-and-swap on its absence, so brokers racing
   * to claim it all get the one that won).
   */
  readonly claimClusterId: (proposed: string) => Effect.Effect<string, E>
  /** The store's current revision. */
  readonly revision: Effect.Effect<number, E>
  /** Every change of `kind` from `fromRevision` (default: the next revision) in revision order. */
  readonly watch: (kind: MetadataKind, fromRevision?: number) => Stream.Stream<MetadataEvent, E>
}

/** The cluster metadata store service. */
export class MetadataStore extends Context.Tag("@eddy/core/broker/MetadataStore")<
  MetadataStore,
  MetadataStoreService
>() {}

const codecs = {
  broker: Schema.parseJson(BrokerRegistration),
  topic: Schema.parseJson(TopicMetadata),
  partition: Schema.parseJson(PartitionState),
  controller: Schema.parseJson(ControllerRecord)
} as const

const EpochJson = Schema.parseJson(Schema.Struct({ epoch: Schema.Int }))
const ProducerIdsJson = Schema.parseJson(Schema.Struct({ next: Schema.NonNegativeInt }))
const ClusterJson = Schema.parseJson(Schema.Struct({ clusterId: Schema.NonEmptyString }))

/** The key layout under a prefix (see docs/cluster.md "Metadata store"). */
export const keys = (prefix: string) => ({
  broker: (id: number) => `${prefix}brokers/${id}`,
  topic: (name: string) => `${prefix}topics/${name}`,
  partitionsOf: (topic: string) => `${prefix}partitions/${topic}/`,
  partition: (topic: string, partition: number) => `${prefix}partitions/${topic}/${partition}`,
  deletedTopic: (topicId: string) => `${prefix}deleted-topics/${topicId}`,
  controller: `${prefix}controller`,
  controllerEpoch: `${prefix}epochs/controller`,
  producerIds: `${prefix}ids/producer`,
  cluster: `${prefix}cluster`,
  kind: {
    broker: `${prefix}brokers/`,
    topic: `${prefix}topics/`,
    partition: `${prefix}partitions/`,
    controller: `${prefix}controller`
  }
})

const decodeError = (key: string) => (e: ParseResult.ParseError) =>
  new MetadataStoreError({ message: `undecodable metadata at ${key}: ${e.message}` })

const decodeEntry =
  <A, I>(schema: Schema.Schema<A, I>) =>
  (entry: KvEntry): Effect.Effect<Versioned<A>, E> =>
    Schema.decode(schema)(entry.value as I).pipe(
      Effect.mapBoth({
        onFailure: decodeError(entry.key),
        onSuccess: (value) => ({ value, version: entry.modRevision })
      })
    )

const encode = <A, I>(schema: Schema.Schema<A, I>, value: A): string => Schema.encodeSync(schema)(value) as string

const conflict = (key: string, expectedVersion: number) => Effect.fail(new MetadataConflict({ key, expectedVersion }))

/** The typed store over a versioned key-value backend, keys under `prefix`. */
const make = (kv: KvBackend, prefix: string): MetadataStoreService => {
  const k = keys(prefix)

  const getOne = <A, I>(schema: Schema.Schema<A, I>, key: string) =>
    kv
      .get(key)
      .pipe(
        Effect.flatMap(
          Option.match({ onNone: () => Effect.succeedNone, onSome: (e) => Effect.asSome(decodeEntry(schema)(e)) })
        )
      )

  const getAll = <A, I>(schema: Schema.Schema<A, I>, keyPrefix: string, order: (a: A, b: A) => number) =>
    kv.range(keyPrefix).pipe(
      Effect.flatMap(({ entries }) => Effect.forEach(entries, decodeEntry(schema))),
      Effect.map((all) => [...all].sort((a, b) => order(a.value, b.value)))
    )

  const cas = <A, I>(
    schema: Schema.Schema<A, I>,
    key: string,
    value: A,
    expectedVersion: number,
    lease?: LeaseId,
    guards: ReadonlyArray<{ readonly key: string; readonly modRevision: number }> = []
  ) =>
    kv
      .txn(
        [{ key, modRevision: expectedVersion }, ...guards],
        [{ _tag: "Put", key, value: encode(schema, value), lease }]
      )
      .pipe(
        Effect.flatMap(
          Option.match({
            onNone: () => conflict(key, expectedVersion),
            onSome: (version) => Effect.succeed({ value, version })
          })
        )
      )

  const put = <A, I>(
    schema: Schema.Schema<A, I>,
    key: string,
    value: A,
    expectedVersion: number,
    guards?: ReadonlyArray<{ readonly key: string; readonly modRevision: number }>
  ) =>
    cas(schema, key, value, expectedVersion, undefined, guards).pipe(
      Effect.catchTag("LeaseExpired", (e) => Effect.die(e))
    )

  const tryCampaign = (brokerId: number, lease: LeaseId) =>
    Effect.gen(function* () {
      if (Option.isSome(yield* kv.get(k.controller))) return Option.none()
      const last = yield* kv.get(k.controllerEpoch)
      const lastEpoch = Option.isSome(last)
        ? (yield* Schema.decode(EpochJson)(last.value.value).pipe(Effect.mapError(decodeError(k.controllerEpoch))))
            .epoch
        : 0
      const record = new ControllerRecord({ brokerId, epoch: lastEpoch + 1 })
      const won = yield* kv.txn(
        [
          { key: k.controller, modRevision: 0 },
          { key: k.controllerEpoch, modRevision: Option.isSome(last) ? last.value.modRevision : 0 }
        ],
        [
          { _tag: "Put", key: k.controller, value: encode(codecs.controller, record), lease },
          { _tag: "Put", key: k.controllerEpoch, value: encode(EpochJson, { epoch: record.epoch }) }
        ]
      )
      return Option.map(won, (version) => ({ value: record, version }))
    })

  const awaitVacancy = Effect.gen(function* () {
    const { entries, revision } = yield* kv.range(k.controller)
    if (!entries.some((e) => e.key === k.controller)) return
    yield* kv.watch(k.controller, revision + 1).pipe(
      Stream.filter((e) => e.key === k.controller && e.value === undefined),
      Stream.runHead
    )
  })

  const campaign = (brokerId: number, lease: LeaseId): Effect.Effect<Versioned<ControllerRecord>, LeaseExpired | E> =>
    tryCampaign(brokerId, lease).pipe(
      Effect.flatMap(
        Option.match({
          onSome: Effect.succeed,
          onNone: () =>
            Effect.zipRight(
              awaitVacancy,
              Effect.suspend(() => campaign(brokerId, lease))
            )
        })
      )
    )

  const revision = kv.range(k.controller).pipe(Effect.map((r) => r.revision))

  /** One compare-and-swap on the producer id counter; none when another broker's allocation came first. */
  const tryAllocateProducerIds = (count: number, floor: number) =>
    Effect.gen(function* () {
      const current = yield* kv.get(k.producerIds)
      const next = Option.isSome(current)
        ? (yield* Schema.decode(ProducerIdsJson)(current.value.value).pipe(Effect.mapError(decodeError(k.producerIds))))
            .next
        : 0
      const first = Math.max(next, floor)
      const won = yield* kv
        .txn(
          [{ key: k.producerIds, modRevision: Option.isSome(current) ? current.value.modRevision : 0 }],
          [{ _tag: "Put", key: k.producerIds, value: encode(ProducerIdsJson, { next: first + count }) }]
        )
        .pipe(Effect.catchTag("LeaseExpired", (e) => Effect.die(e)))
      return Option.as(won, first)
    })

  const allocateProducerIds = (count: number, floor: number): Effect.Effect<number, E> =>
    tryAllocateProducerIds(count, floor).pipe(
      Effect.flatMap(
        Option.match({
          onSome: Effect.succeed,
          onNone: () => Effect.suspend(() => allocateProducerIds(count, floor))
        })
      )
    )

  const claimClusterId = (proposed: string): Effect.Effect<string, E> =>
    Effect.gen(function* () {
      const current = yield* kv.get(k.cluster)
      if (Option.isSome(current)) {
        return (yield* Schema.decode(ClusterJson)(current.value.value).pipe(Effect.mapError(decodeError(k.cluster))))
          .clusterId
      }
      const won = yield* kv
        .txn(
          [{ key: k.cluster, modRevision: 0 }],
          [{ _tag: "Put", key: k.cluster, value: encode(ClusterJson, { clusterId: proposed }) }]
        )
        .pipe(Effect.catchTag("LeaseExpired", (e) => Effect.die(e)))
      // lost the race: the winner's id is there now
      return Option.isSome(won) ? proposed : yield* claimClusterId(proposed)
    })

  const watch = (kind: MetadataKind, fromRevision?: number) =>
    Stream.unwrap(
      Effect.map(
        fromRevision === undefined ? Effect.map(revision, (r) => r + 1) : Effect.succeed(fromRevision),
        (from) => kv.watch(k.kind[kind], from).pipe(Stream.mapEffect((e) => decodeEvent(kind, e)))
      )
    )

  return {
    grantLease: kv.grant,
    keepAlive: kv.keepAlive,
    revokeLease: kv.revoke,
    registerBroker: (broker, lease) => cas(codecs.broker, k.broker(broker.brokerId), broker, 0, lease),
    updateBroker: (broker, lease, expectedVersion) =>
      cas(codecs.broker, k.broker(broker.brokerId), broker, expectedVersion, lease),
    brokers: getAll(codecs.broker, k.kind.broker, (a, b) => a.brokerId - b.brokerId),
    topic: (name) => getOne(codecs.topic, k.topic(name)),
    topics: getAll(codecs.topic, k.kind.topic, (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    putTopic: (topic, expectedVersion) => put(codecs.topic, k.topic(topic.name), topic, expectedVersion),
    deleteTopic: (name, expectedVersion) =>
      Effect.gen(function* () {
        // the compare on the version read makes the tombstone name exactly the topic deleted
        const current = yield* kv.get(k.topic(name))
        if (Option.isNone(current) || current.value.modRevision !== expectedVersion) {
          return yield* conflict(k.topic(name), expectedVersion)
        }
        const topic = yield* decodeEntry(codecs.topic)(current.value)
        const done = yield* kv
          .txn(
            [{ key: k.topic(name), modRevision: expectedVersion }],
            [
              { _tag: "Delete", key: k.topic(name) },
              { _tag: "DeletePrefix", prefix: k.partitionsOf(name) },
              { _tag: "Put", key: k.deletedTopic(topic.value.topicId), value: encode(codecs.topic, topic.value) }
            ]
          )
          .pipe(Effect.catchTag("LeaseExpired", (e) => Effect.die(e)))
        if (Option.isNone(done)) return yield* conflict(k.topic(name), expectedVersion)
      }),
    isTopicDeleted: (topicId) => Effect.map(kv.get(k.deletedTopic(topicId)), Option.isSome),
    partition: (topic, partition) => getOne(codecs.partition, k.partition(topic, partition)),
    partitions: (topic) => getAll(codecs.partition, k.partitionsOf(topic), (a, b) => a.partition - b.partition),
    putPartition: (state, expectedVersion, registrations = []) =>
      put(
        codecs.partition,
        k.partition(state.topic, state.partition),
        state,
        expectedVersion,
        registrations.map((r) => ({ key: k.broker(r.brokerId), modRevision: r.version }))
      ),
    controller: getOne(codecs.controller, k.controller),
    tryCampaign,
    campaign,
    resign: (controller) =>
      kv.txn([{ key: k.controller, modRevision: controller.version }], [{ _tag: "Delete", key: k.controller }]).pipe(
        Effect.catchTag("LeaseExpired", (e) => Effect.die(e)),
        Effect.flatMap(
          Option.match({ onNone: () => conflict(k.controller, controller.version), onSome: () => Effect.void })
        )
      ),
    allocateProducerIds,
    claimClusterId,
    revision,
    watch
  }
}

const decodeEvent = (kind: MetadataKind, e: KvEvent): Effect.Effect<MetadataEvent, E> => {
  const base = { kind, key: e.key, revision: e.revision }
  if (e.value === undefined) return Effect.succeed(base as MetadataEvent)
  const schema = codecs[kind] as Schema.Schema<unknown, string>
  return Schema.decode(schema)(e.value).pipe(
    Effect.mapBoth({ onFailure: decodeError(e.key), onSuccess: (value) => ({ ...base, value }) as MetadataEvent })
  )
}

/** The in-process store: linearizable, leases on `Clock` (so `TestClock` expires them); the default. */
export const layerMemory: Layer.Layer<MetadataStore> = Layer.scoped(
  MetadataStore,
  Effect.map(makeMemoryKv, (kv) => make(kv, "/eddy/"))
)

/** Options of the etcd store: client URLs and the key prefix (default `/eddy/`). */
export interface EtcdOptions extends EtcdKvOptions {
  readonly prefix?: string
}

/** The store on etcd v3: leases for liveness, `Txn` compare-and-swap for every change, watches. */
export const layerEtcd = (options: EtcdOptions): Layer.Layer<MetadataStore> =>
  Layer.scoped(
    MetadataStore,
    Effect.map(makeEtcdKv(options), (kv) => make(kv, options.prefix ?? "/eddy/"))
  )

/** A liveness session: its lease, and an effect that completes once the lease is lost. */
export interface Session {
  readonly lease: LeaseId
  /** Completes when the lease expired or was revoked (the holder must then stop acting on it). */
  readonly lost: Effect.Effect<void>
}

const keepAliveLoop = (store: MetadataStoreService, lease: LeaseId, every: Duration.Duration) =>
  store.keepAlive(lease).pipe(
    Effect.tapErrorTag("MetadataStoreError", (e) => Effect.logWarning(`metadata lease ${lease} keepalive failed`, e)),
    Effect.catchTag("MetadataStoreError", () => Effect.void),
    Effect.repeat(Schedule.spaced(every))
  )

/**
 * A lease renewed every third of its TTL for the current scope (transient store errors are logged and
 * retried), revoked when the scope closes; `lost` completes when a renewal finds the lease gone.
 */
export const session = (ttlMillis: number): Effect.Effect<Session, E, MetadataStore | Scope.Scope> =>
  Effect.gen(function* () {
    const store = yield* MetadataStore
    const lease = yield* Effect.acquireRelease(store.grantLease(ttlMillis), (id) =>
      Effect.ignore(store.revokeLease(id))
    )
    const lost = yield* Deferred.make<void>()
    const every = Duration.millis(Math.max(1, Math.floor(ttlMillis / 3)))
    yield* keepAliveLoop(store, lease, every).pipe(
      Effect.catchTag("LeaseExpired", () => Deferred.succeed(lost, undefined)),
      Effect.forkScoped
    )
    return { lease, lost: Deferred.await(lost) }
  })
