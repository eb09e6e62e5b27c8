/**
 * The broker supervisor: configuration -> data directory (created, locked) -> partition manager ->
 * topic registry -> server (and the metrics endpoint when `metrics.port` is set) -> registration in the
 * metadata store (`node.id` and the advertised listener on a lease; the in-memory store unless another is
 * given). Everything lives in the layer's scope; closing it shuts down in reverse: deregister, stop accepting,
 * answer in-flight requests, close sockets, close the partition logs, unlock.
 */
import { Context, Duration, Effect, Layer, type Scope } from "effect"
import * as LogStorage from "../log/LogStorage.js"
import * as BrokerConfig from "./BrokerConfig.js"
import { KafkaStorageError } from "./BrokerError.js"
import * as GroupCoordinator from "./GroupCoordinator.js"
import type { AnyHandler, ClusterView } from "./Handler.js"
import * as Controller from "./internal/controller/controller.js"
import * as Durable from "./internal/durable.js"
import * as Lock from "./internal/lock.js"
import * as Membership from "./internal/membership.js"
import * as MetadataListener from "./internal/metadataListener.js"
import * as TopicPublisher from "./internal/topicPublisher.js"
import * as KafkaApis from "./KafkaApis.js"
import type { MetadataConflict, MetadataStoreError } from "./MetadataRecords.js"
import * as MetadataStore from "./MetadataStore.js"
import * as Metrics from "./Metrics.js"
import * as MetricsServer from "./MetricsServer.js"
import type * as PartitionManager from "./PartitionManager.js"
import * as ReplicaManager from "./ReplicaManager.js"
import * as Server from "./Server.js"
import * as TopicConfig from "./TopicConfig.js"
import * as TopicRegistry from "./TopicRegistry.js"
import * as TransactionCoordinator from "./TransactionCoordinator.js"

/** A running broker node. */
export class Broker extends Context.Tag("@eddy/core/broker/Broker")<
  Broker,
  {
    readonly config: BrokerConfig.BrokerConfig
    readonly nodeId: number
    readonly clusterId: string
    /** Absolute path of the data directory. */
    readonly dataDir: string
    /** The bound address. */
    readonly address: { readonly host: string; readonly port: number }
    /** The advertised address (what Metadata tells clients). */
    readonly advertised: { readonly host: string; readonly port: number }
    /** The bound address of the metrics endpoint (`/metrics`, `/health`); undefined when `metrics.port` is -1. */
    readonly metricsAddress: { readonly host: string; readonly port: number } | undefined
  }
>() {}

/** Options of {@link layer}. */
export interface BrokerOptions {
  /** The partition storage; defaults to {@link PartitionManager.layerLogStorage} over {@link storageLayer}. */
  readonly partitionManager?: Layer.Layer<
    PartitionManager.PartitionManager | ReplicaManager.ReplicaManager,
    KafkaStorageError
  >
  /** Extra handlers (e.g. Produce/Fetch) served next to the built-in ones. */
  readonly handlers?: ReadonlyArray<AnyHandler<KafkaApis.Requirements>>
  /** Built-in APIs (by key) not to serve, to behave like an older Kafka (client compatibility tests). */
  readonly withoutApis?: ReadonlyArray<number>
  /** How long shutdown waits for in-flight requests. */
  readonly drainTimeoutMs?: number
  /**
   * The cluster metadata store the broker registers in (default: {@link metadataStoreLayer} of the config: etcd when
   * `eddy.metadata.etcd.endpoints` is set, else a fresh in-process store, this broker alone). Brokers sharing one
   * store form one cluster.
   */
  readonly metadataStore?: Layer.Layer<MetadataStore.MetadataStore>
}

/** Errors that stop a broker from starting. */
export type StartError = KafkaStorageError | Server.ServerError | MetadataConflict | MetadataStoreError

/** Starts a broker in the current scope and returns its description. */
export const start = (
  config: BrokerConfig.BrokerConfig,
  options: BrokerOptions = {}
): Effect.Effect<
  Broker["Type"],
  StartError,
  | Scope.Scope
  | TopicRegistry.TopicRegistry
  | PartitionManager.PartitionManager
  | ReplicaManager.ReplicaManager
  | GroupCoordinator.GroupCoordinator
  | TransactionCoordinator.TransactionCoordinator
  | MetadataStore.MetadataStore
> =>
  Effect.gen(function* () {
    const registry = yield* TopicRegistry.TopicRegistry
    const metricsPort = BrokerConfig.getNumber(config, "metrics.port")
    const metrics = metricsPort >= 0 ? yield* Metrics.makeRecorder : undefined
    // set once registered: until then (the moment between binding and registering) the broker lists itself
    let membership: Membership.Membership | undefined
    let cluster: ClusterView | undefined
    const server = yield* Server.make({
      brokers: () => membership?.brokers(),
      cluster: () => cluster,
      config,
      clusterId: registry.clusterId,
      nodeId: registry.nodeId,
      registry: KafkaApis.make(
        [
          ...KafkaApis.handlers.filter((h) => !(options.withoutApis ?? []).includes(h.apiKey)),
          ...(options.handlers ?? [])
        ],
        { unstableApiVersions: BrokerConfig.getBoolean(config, "unstable.api.versions.enable") }
      ),
      ...(options.drainTimeoutMs === undefined ? {} : { drainTimeoutMs: options.drainTimeoutMs }),
      ...(metrics === undefined ? {} : { metrics })
    })
    membership = yield* Membership.register(
      {
        nodeId: registry.nodeId,
        host: server.broker.host,
        port: server.broker.port,
        rack: server.broker.rack
      },
      BrokerConfig.getNumber(config, "broker.session.timeout.ms")
    )
    const replicas = yield* ReplicaManager.ReplicaManager
    // a replica manager built for another node id (a custom partitionManager layer) would never host a partition
    if (replicas.brokerId !== registry.nodeId)
      return yield* Effect.dieMessage(
        `The replica manager was built for node ${replicas.brokerId}, but this broker is node ${registry.nodeId}`
      )
    cluster = yield* joinCluster(config, registry, membership, replicas)
    // added last, so it runs first at shutdown: while the controller and the registration still live
    if (BrokerConfig.getBoolean(config, "controlled.shutdown.enable")) {
      yield* Effect.addFinalizer(() =>
        controlledShutdown(
          registry.nodeId,
          membership!,
          cluster!,
          BrokerConfig.getNumber(config, "broker.session.timeout.ms")
        )
      )
    }
    const metricsAddress =
      metrics === undefined
        ? undefined
        : yield* MetricsServer.make({
            host: BrokerConfig.get(config, "metrics.host") ?? server.address.host,
            port: metricsPort,
            nodeId: registry.nodeId,
            clusterId: registry.clusterId,
            connectionCount: server.connectionCount
          })
    return Broker.of({
      config,
      nodeId: registry.nodeId,
      clusterId: registry.clusterId,
      dataDir: BrokerConfig.dataDir(config),
      address: server.address,
      advertised: { host: server.broker.host, port: server.broker.port },
      metricsAddress
    })
  })

/**
 * Joins the cluster's topics and controller election: the registry publishes its changes in the store, the local
 * topics the store lacks are written into it, the metadata listener follows the store, and the broker campaigns
 * for the controller role.
 */
const joinCluster = (
  config: BrokerConfig.BrokerConfig,
  registry: TopicRegistry.TopicRegistry["Type"],
  membership: Membership.Membership,
  replicas: ReplicaManager.ReplicaManager.Service
): Effect.Effect<ClusterView, MetadataStoreError, MetadataStore.MetadataStore | Scope.Scope> =>
  Effect.gen(function* () {
    const store = yield* MetadataStore.MetadataStore
    let image: MetadataListener.ClusterImage | undefined
    // each partition record reaches the replicas, with the topic's log config for a log created for it
    // a record makes this broker lead only when written after its current registration
    replicas.useRegistration(membership.registration)
    const applyPartitionState: MetadataListener.ApplyPartitionState = (state, version) =>
      Effect.flatMap(registry.get(state.topic), (topic) =>
        replicas.applyPartitionState(state, TopicConfig.toLogConfig(config, topic?.configs ?? {}), version)
      ).pipe(
        Effect.catchAll((e) =>
          Effect.logError(`Cannot apply the partition record of ${state.topic}-${state.partition}`, e)
        )
      )
    yield* registry.attach(
      TopicPublisher.make({
        store,
        brokers: membership.brokers,
        onPublished: (records) =>
          Effect.zipRight(
            Effect.sync(() => image?.put(records)),
            Effect.forEach(records, (r) => applyPartitionState(r.value, r.version), { discard: true })
          )
      })
    )
    yield* TopicPublisher.publishLocalTopics(store, registry.nodeId, yield* registry.list)
    image = yield* MetadataListener.start({ registry, applyPartitionState })
    const role = yield* Controller.start({
      nodeId: registry.nodeId,
      sessionTimeoutMs: BrokerConfig.getNumber(config, "broker.session.timeout.ms"),
      uncleanDefault: BrokerConfig.getBoolean(config, "unclean.leader.election.enable"),
      autoRebalance: BrokerConfig.getBoolean(config, "auto.leader.rebalance.enable"),
      rebalanceIntervalMs: BrokerConfig.getNumber(config, "leader.imbalance.check.interval.seconds") * 1000,
      imbalancePercentage: BrokerConfig.getNumber(config, "leader.imbalance.per.broker.percentage")
    })
    const listed = image
    return { controllerId: role.controllerId, partitions: listed.partitions, all: listed.all, controller: role.active }
  })

/**
 * The metadata store `config` selects: etcd when `eddy.metadata.etcd.endpoints` lists client URLs (under
 * `eddy.metadata.etcd.prefix`), else a fresh in-process store (this broker alone).
 */
export const metadataStoreLayer = (config: BrokerConfig.BrokerConfig): Layer.Layer<MetadataStore.MetadataStore> => {
  const hosts = BrokerConfig.getList(config, "eddy.metadata.etcd.endpoints")
  return hosts.length === 0
    ? MetadataStore.layerMemory
    : MetadataStore.layerEtcd({ hosts, prefix: BrokerConfig.get(config, "eddy.metadata.etcd.prefix") ?? "/eddy/" })
}

/**
 * Kafka's controlled shutdown: when other brokers are alive, flags this broker's registration as shutting down and
 * waits (at most `timeoutMs`) until the controller moved every leadership it can off this broker (a partition whose
 * only ISR member is this broker keeps it until it is gone).
 */
const controlledShutdown = (
  nodeId: number,
  membership: Membership.Membership,
  cluster: ClusterView,
  timeoutMs: number
): Effect.Effect<void> => {
  const leading = () => cluster.all().filter((p) => p.leader === nodeId && p.isr.some((b) => b !== nodeId)).length
  if (membership.brokers().length < 2 || leading() === 0) return Effect.void
  return Effect.gen(function* () {
    yield* Effect.logInfo(`Broker ${nodeId}: controlled shutdown, moving ${leading()} leadership(s) off`)
    yield* membership.markShuttingDown
    yield* Effect.sleep(Duration.millis(20)).pipe(
      Effect.repeat({ until: () => leading() === 0 }),
      Effect.timeout(Duration.millis(timeoutMs)),
      Effect.catchAll(() => Effect.logWarning(`Broker ${nodeId}: controlled shutdown timed out; stopping anyway`))
    )
  })
}

/** The data directory, created and locked for the life of the layer. */
const dataDirLayer = (config: BrokerConfig.BrokerConfig): Layer.Layer<never, KafkaStorageError> =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      const dir = BrokerConfig.dataDir(config)
      yield* Durable.ensureDir(dir)
      yield* Lock.acquire(dir)
      yield* Effect.logInfo(`Data directory ${dir}`)
    })
  )

/** The log engine over the data directory, with the broker's `log.*` settings as defaults. */
export const storageLayer = (
  config: BrokerConfig.BrokerConfig
): Layer.Layer<LogStorage.LogStorage, KafkaStorageError> =>
  LogStorage.layer({
    "log.dirs": BrokerConfig.dataDir(config),
    "log.retention.check.interval.ms": BrokerConfig.getNumber(config, "log.retention.check.interval.ms"),
    "log.flush.scheduler.interval.ms": BrokerConfig.getNumber(config, "log.flush.scheduler.interval.ms"),
    "log.cleaner.enable": BrokerConfig.getBoolean(config, "log.cleaner.enable"),
    "log.cleaner.backoff.ms": BrokerConfig.getNumber(config, "log.cleaner.backoff.ms"),
    log: TopicConfig.toLogConfig(config, {})
  })

/** A whole broker node as a layer: also provides its topic registry and partition manager. */
export const layer = (
  config: BrokerConfig.BrokerConfig,
  options: BrokerOptions = {}
): Layer.Layer<
  | Broker
  | TopicRegistry.TopicRegistry
  | PartitionManager.PartitionManager
  | ReplicaManager.ReplicaManager
  | GroupCoordinator.GroupCoordinator
  | TransactionCoordinator.TransactionCoordinator,
  StartError
> => {
  // one store for the membership and the replicas (a layer is built once per reference)
  const store = options.metadataStore ?? metadataStoreLayer(config)
  const partitions = Layer.provideMerge(
    options.partitionManager ??
      Layer.provide(
        ReplicaManager.layer({
          producerIdExpirationMs: BrokerConfig.getNumber(config, "producer.id.expiration.ms"),
          brokerId: BrokerConfig.nodeId(config),
          lagTimeMaxMs: BrokerConfig.getNumber(config, "replica.lag.time.max.ms"),
          highWatermarkCheckpointIntervalMs: BrokerConfig.getNumber(
            config,
            "replica.high.watermark.checkpoint.interval.ms"
          ),
          fetcher: {
            waitMaxMs: BrokerConfig.getNumber(config, "replica.fetch.wait.max.ms"),
            minBytes: BrokerConfig.getNumber(config, "replica.fetch.min.bytes"),
            partitionMaxBytes: BrokerConfig.getNumber(config, "replica.fetch.max.bytes"),
            responseMaxBytes: BrokerConfig.getNumber(config, "replica.fetch.response.max.bytes"),
            backoffMs: BrokerConfig.getNumber(config, "replica.fetch.backoff.ms"),
            socketTimeoutMs: BrokerConfig.getNumber(config, "replica.socket.timeout.ms")
          }
        }),
        Layer.merge(storageLayer(config), store)
      ),
    dataDirLayer(config)
  )
  // at start, the store holds the cluster id (a data dir of another cluster refuses to join) and tells which local
  // topics the cluster deleted meanwhile (their logs go before any opens)
  const registryLayer = Layer.provide(
    Layer.unwrapEffect(
      Effect.map(MetadataStore.MetadataStore, (s) =>
        TopicRegistry.layer(config, {
          claimClusterId: s.claimClusterId,
          strays: (loaded) => TopicPublisher.strayTopics(s, loaded)
        })
      )
    ),
    store
  )
  const registry = Layer.provideMerge(registryLayer, partitions)
  // the group coordinator replays __consumer_offsets before the server starts; it stops before the replicas
  const groups = Layer.provideMerge(
    Layer.mapError(
      GroupCoordinator.layer(),
      (e) => new KafkaStorageError({ message: e.message, path: "__consumer_offsets", code: "" })
    ),
    registry
  )
  // the transaction coordinator replays __transaction_state (finishing transactions a crash left half
  // done) once the groups are back, so that markers on __consumer_offsets reach them
  const transactions = Layer.provideMerge(
    // it reads partition leaders and broker addresses from the store to send markers to other brokers
    Layer.mapError(
      Layer.provide(TransactionCoordinator.layer({ dataDir: BrokerConfig.dataDir(config) }), store),
      (e) =>
        e._tag === "KafkaStorageError"
          ? e
          : new KafkaStorageError({ message: e.message, path: "__transaction_state", code: "" })
    ),
    groups
  )
  return Layer.provideMerge(Layer.provide(Layer.scoped(Broker, start(config, options)), store), transactions)
}

/** Runs a broker until interrupted (the CLI's entry point); shutdown is graceful. */
export const run = (config: BrokerConfig.BrokerConfig, options: BrokerOptions = {}): Effect.Effect<never, StartError> =>
  Layer.launch(layer(config, options))
