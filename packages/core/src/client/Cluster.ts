/**
 * The client's view of a cluster: bootstrap from `bootstrap.servers`, cached metadata (brokers, topics,
 * partition leaders) refreshed every `metadata.max.age.ms` and whenever a request reports stale metadata,
 * a pool of one {@link Connection} per broker, and the retry policy (`retries`, `retry.backoff.ms`).
 *
 * Until a broker has been reached once, a call that reaches no bootstrap server keeps trying them (with the
 * retry backoff) for at most `bootstrap.timeout.ms` when that is set, then fails with a
 * {@link ClientError.BootstrapTimeoutError}, which no retry loop retries.
 *
 * Producer, Admin and Fetcher each build on one Cluster; it lives in the Scope it was made in.
 */
import { Clock, Context, Deferred, Effect, ExecutionStrategy, Exit, FiberId, Layer, Schedule, Scope } from "effect"
import type { ApiKey, RequestTypes, ResponseTypes } from "../protocol/generated/ApiKey.js"
import * as Metadata from "../protocol/generated/Metadata.js"
import * as ClientConfig from "./ClientConfig.js"
import * as ClientError from "./ClientError.js"
import * as Connection from "./Connection.js"

/** A broker as metadata describes it. */
export interface BrokerInfo {
  readonly nodeId: number
  readonly host: string
  readonly port: number
  readonly rack: string | null
}

/** One partition of a topic: its leader (-1 when none), epoch, replicas and in-sync replicas. */
export interface PartitionInfo {
  readonly partition: number
  readonly leader: number
  readonly leaderEpoch: number
  readonly replicas: ReadonlyArray<number>
  readonly isr: ReadonlyArray<number>
  readonly offlineReplicas: ReadonlyArray<number>
  readonly errorCode: number
}

/** A topic as metadata describes it; `partitions` is indexed by partition number. */
export interface TopicInfo {
  readonly name: string
  /** The topic id as 32 hex digits (all zeros when the broker does not send ids). */
  readonly topicId: string
  readonly isInternal: boolean
  readonly partitions: ReadonlyArray<PartitionInfo>
}

/** A snapshot of cluster metadata. */
export interface MetadataSnapshot {
  readonly clusterId: string | null
  readonly controllerId: number
  readonly brokers: ReadonlyMap<number, BrokerInfo>
  readonly topics: ReadonlyMap<string, TopicInfo>
}

/** Errors of a request through the cluster. */
export type Error =
  | ClientError.KafkaError
  | ClientError.ClientClosedError
  | ClientError.BootstrapTimeoutError
  | Connection.SendError

/** A cluster connection. */
export interface Cluster {
  readonly config: ClientConfig.Resolved
  /** The current metadata (possibly empty before the first fetch). */
  readonly metadata: () => MetadataSnapshot
  /** Fetches metadata for `topics` (all topics when omitted) and merges it into the cache. */
  readonly refresh: (topics?: ReadonlyArray<string>) => Effect.Effect<MetadataSnapshot, Error>
  /**
   * A topic's metadata: cached, or fetched (auto-creating it when the broker allows) and retried while the
   * topic is unknown or has partitions without a leader (it is being created).
   */
  readonly topic: (name: string) => Effect.Effect<TopicInfo, Error>
  /** The leader (node id) of a TopicPartition: from cached metadata, else looked up (retried while unknown). */
  readonly leaderFor: (topic: string, partition: number) => Effect.Effect<number, Error>
  /** A cached topic, without any request. */
  readonly cachedTopic: (name: string) => TopicInfo | undefined
  /** The connection to broker `nodeId` (opened on first use, reopened after it closes). */
  readonly connection: (nodeId: number) => Effect.Effect<Connection.Connection, Error>
  /** A connection to any reachable broker: an open one if there is, else known brokers, else bootstrap servers. */
  readonly anyConnection: Effect.Effect<Connection.Connection, Error>
  /** Sends a request to `nodeId` (or any broker when `nodeId` is undefined). */
  readonly send: <K extends ApiKey>(
    nodeId: number | undefined,
    apiKey: K,
    body: (version: number) => RequestTypes[K]
  ) => Effect.Effect<ResponseTypes[K], Error>
  /**
   * Retries `effect` on retriable errors with the client's schedule, refreshing metadata first when the error
   * says it is stale; the whole is bounded by `timeoutMs` (default `default.api.timeout.ms`).
   */
  readonly retry: <A, E, R>(effect: Effect.Effect<A, E, R>, timeoutMs?: number) => Effect.Effect<A, E, R>
  /** Marks metadata stale so that the next lookup refetches it. */
  readonly invalidate: () => void
}

/** The Cluster service (for sharing one cluster between clients). */
export class ClusterTag extends Context.Tag("@eddy/core/client/Cluster")<ClusterTag, Cluster>() {}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex")

type ConnectError = Error

interface PoolEntry {
  readonly deferred: Deferred.Deferred<Connection.Connection, ConnectError>
  conn: Connection.Connection | undefined
  readonly scope: Scope.CloseableScope
}

/** Options of {@link make} beyond {@link ClientConfig.ClientConfig}. */
export interface ClusterOptions {
  /** Whether Metadata requests may auto-create topics (`allow.auto.create.topics`, default true). */
  readonly "allow.auto.create.topics"?: boolean
}

/** Connects to the cluster (lazily: nothing is opened until the first request) in the current scope. */
export const make = (
  config: ClientConfig.ClientConfig & ClusterOptions = {}
): Effect.Effect<Cluster, never, Scope.Scope> =>
  Effect.gen(function* () {
    const resolved = ClientConfig.resolve(config)
    const autoCreate = config["allow.auto.create.topics"] ?? true
    // connections live in a scope made now, so that they close after the finalizers of clients built on this
    // cluster (a producer flushes through them)
    const clusterScope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    yield* Effect.addFinalizer((exit) => Scope.close(clusterScope, exit))
    const pool = new Map<string, PoolEntry>()
    let snapshot: MetadataSnapshot = { clusterId: null, controllerId: -1, brokers: new Map(), topics: new Map() }
    let stale = false
    let closed = false
    // whether any connection was ever opened: until then `bootstrap.timeout.ms` bounds the calls
    let reached = false
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        closed = true
      })
    )

    const connectTo = (
      host: string,
      port: number,
      connectTimeoutMs = resolved["socket.connection.setup.timeout.ms"]
    ): Effect.Effect<Connection.Connection, ConnectError> =>
      Effect.suspend(() => {
        if (closed) {
          return Effect.fail(new ClientError.ClientClosedError({ message: "the client is closed", retriable: false }))
        }
        const address = `${host}:${port}`
        const entry = pool.get(address)
        if (entry !== undefined && (entry.conn === undefined || entry.conn.isOpen())) {
          return Deferred.await(entry.deferred)
        }
        if (entry !== undefined) {
          pool.delete(address)
          Effect.runFork(Scope.close(entry.scope, Exit.void))
        }
        const deferred = Deferred.unsafeMake<Connection.Connection, ConnectError>(FiberId.none)
        return Effect.gen(function* () {
          const scope = yield* Scope.fork(clusterScope, ExecutionStrategy.sequential)
          const fresh: PoolEntry = { deferred, conn: undefined, scope }
          pool.set(address, fresh)
          const exit = yield* Effect.exit(
            Connection.make({
              host,
              port,
              clientId: resolved["client.id"],
              requestTimeoutMs: resolved["request.timeout.ms"],
              connectTimeoutMs
            }).pipe(Scope.extend(scope))
          )
          if (Exit.isSuccess(exit)) {
            fresh.conn = exit.value
            reached = true
          } else {
            if (pool.get(address) === fresh) pool.delete(address)
            yield* Scope.close(scope, Exit.void)
          }
          yield* Deferred.done(deferred, exit)
          return yield* exit
        }).pipe(Effect.uninterruptible)
      })

    const bootstrap = resolved["bootstrap.servers"].map(ClientConfig.parseHostPort)

    const candidates = () => {
      const seen = new Set<string>()
      return [...snapshot.brokers.values(), ...bootstrap].filter((c) => {
        const k = `${c.host}:${c.port}`
        if (seen.has(k)) return false
        seen.add(k)
        return true
      })
    }

    /** Tries each candidate in turn (the next one after a retriable failure). */
    const connectToAny = (connectTimeoutMs?: number): Effect.Effect<Connection.Connection, ConnectError> =>
      Effect.suspend(() => {
        const unique = candidates()
        if (unique.length === 0) return Effect.die(new Error("bootstrap.servers is empty"))
        const tryFrom = (i: number): Effect.Effect<Connection.Connection, ConnectError> =>
          Effect.catchAll(connectTo(unique[i]!.host, unique[i]!.port, connectTimeoutMs), (e) =>
            i + 1 < unique.length && ClientError.isRetriable(e) ? tryFrom(i + 1) : Effect.fail(e)
          )
        return tryFrom(0)
      })

    const budgetMs = resolved["bootstrap.timeout.ms"]

    /**
     * Before any broker was reached, with a bootstrap budget: tries the candidates with the retry backoff
     * until `deadline`, each connect bounded by the time left, then fails with a BootstrapTimeoutError.
     */
    const bootstrapWithin = (deadline: number): Effect.Effect<Connection.Connection, ConnectError> => {
      const attempt = (backoffMs: number): Effect.Effect<Connection.Connection, ConnectError> =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          connectToAny(Math.max(1, Math.min(resolved["socket.connection.setup.timeout.ms"], deadline - now))).pipe(
            Effect.catchAll((e) =>
              Effect.flatMap(Clock.currentTimeMillis, (later) => {
                if (!ClientError.isRetriable(e)) return Effect.fail(e)
                if (later >= deadline) {
                  return Effect.fail(
                    new ClientError.BootstrapTimeoutError({
                      bootstrapServers: resolved["bootstrap.servers"].join(","),
                      timeoutMs: budgetMs,
                      message: e.message !== "" ? e.message : e._tag,
                      retriable: false
                    })
                  )
                }
                return Effect.zipRight(
                  Effect.sleep(Math.min(backoffMs, deadline - later)),
                  attempt(Math.min(backoffMs * 2, resolved["retry.backoff.max.ms"]))
                )
              })
            )
          )
        )
      return attempt(resolved["retry.backoff.ms"])
    }

    const anyConnection: Effect.Effect<Connection.Connection, ConnectError> = Effect.suspend(() => {
      for (const entry of pool.values()) if (entry.conn?.isOpen() === true) return Effect.succeed(entry.conn)
      if (reached || budgetMs < 0) return connectToAny()
      return Effect.flatMap(Clock.currentTimeMillis, (now) => bootstrapWithin(now + budgetMs))
    })

    const connection = (nodeId: number): Effect.Effect<Connection.Connection, Error> =>
      Effect.suspend(() => {
        const b = snapshot.brokers.get(nodeId)
        if (b !== undefined) return connectTo(b.host, b.port)
        return Effect.flatMap(refresh([]), (s) => {
          const b2 = s.brokers.get(nodeId)
          return b2 === undefined
            ? // a leader or coordinator that left the cluster (killed, not yet replaced): retriable after a refresh
              Effect.fail(
                new ClientError.ConnectionError({
                  broker: `node ${nodeId}`,
                  message: `broker ${nodeId} is not in the cluster metadata (it left the cluster)`,
                  retriable: true
                })
              )
            : connectTo(b2.host, b2.port)
        })
      })

    const send = <K extends ApiKey>(
      nodeId: number | undefined,
      apiKey: K,
      body: (version: number) => RequestTypes[K]
    ): Effect.Effect<ResponseTypes[K], Error> =>
      Effect.flatMap(nodeId === undefined ? anyConnection : connection(nodeId), (conn) =>
        conn.sendNegotiated(apiKey, body)
      )

    const merge = (res: Metadata.MetadataResponse, all: boolean): MetadataSnapshot => {
      const brokers = new Map<number, BrokerInfo>()
      for (const b of res.brokers) brokers.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })
      const topics = new Map(all ? [] : snapshot.topics)
      for (const t of res.topics) {
        if (t.name === null) continue
        if (t.errorCode !== 0) {
          topics.delete(t.name)
          continue
        }
        const partitions: Array<PartitionInfo> = []
        for (const p of t.partitions) {
          partitions[p.partitionIndex] = {
            partition: p.partitionIndex,
            leader: p.leaderId,
            leaderEpoch: p.leaderEpoch,
            replicas: p.replicaNodes,
            isr: p.isrNodes,
            offlineReplicas: p.offlineReplicas,
            errorCode: p.errorCode
          }
        }
        topics.set(t.name, { name: t.name, topicId: hex(t.topicId), isInternal: t.isInternal, partitions })
      }
      snapshot = { clusterId: res.clusterId, controllerId: res.controllerId, brokers, topics }
      stale = false
      return snapshot
    }

    const fetchMetadata = (topics: ReadonlyArray<string> | undefined) =>
      send(undefined, 3, (v) =>
        Metadata.makeMetadataRequest({
          topics:
            topics === undefined
              ? v === 0
                ? []
                : null
              : topics.map((name) => Metadata.makeMetadataRequestTopic({ name })),
          ...(v >= 4 ? { allowAutoTopicCreation: autoCreate } : {})
        })
      )

    const refresh = (topics?: ReadonlyArray<string>): Effect.Effect<MetadataSnapshot, Error> =>
      Effect.map(fetchMetadata(topics), (res) => merge(res, topics === undefined))

    const retry = <A, E, R>(effect: Effect.Effect<A, E, R>, timeoutMs?: number): Effect.Effect<A, E, R> =>
      effect.pipe(
        Effect.tapError((e) =>
          Effect.sync(() => {
            if (ClientError.needsMetadataRefresh(e)) stale = true
          })
        ),
        Effect.retry(ClientConfig.retrySchedule(resolved, timeoutMs))
      )

    /** A topic's metadata, failing with a retriable error while it is unknown or leaderless. */
    const lookup = (name: string): Effect.Effect<TopicInfo, Error> =>
      Effect.flatMap(fetchMetadata([name]), (res) => {
        const t = res.topics.find((x) => x.name === name)
        merge(res, false)
        if (t === undefined) return Effect.fail(ClientError.fromCode(3, { topic: name }))
        if (t.errorCode !== 0) return Effect.fail(ClientError.fromCode(t.errorCode, { topic: name }))
        const info = snapshot.topics.get(name)!
        const leaderless = info.partitions.find((p) => p === undefined || p.leader < 0)
        if (info.partitions.length === 0 || leaderless !== undefined) {
          return Effect.fail(ClientError.fromCode(5, { topic: name }))
        }
        return Effect.succeed(info)
      })

    const topic = (name: string): Effect.Effect<TopicInfo, Error> =>
      Effect.suspend(() => {
        const cached = stale ? undefined : snapshot.topics.get(name)
        return cached !== undefined ? Effect.succeed(cached) : retry(lookup(name))
      })

    const leaderFor = (name: string, partition: number): Effect.Effect<number, Error> =>
      retry(
        Effect.flatMap(topic(name), (info) => {
          const p = info.partitions[partition]
          if (p === undefined) return Effect.fail(ClientError.fromCode(3, { topic: name, partition }))
          if (p.leader < 0) {
            stale = true
            return Effect.fail(ClientError.fromCode(5, { topic: name, partition }))
          }
          return Effect.succeed(p.leader)
        })
      )

    // background refresh of the topics in use
    yield* Effect.suspend(() =>
      snapshot.topics.size === 0 && pool.size === 0 ? Effect.void : Effect.ignore(refresh([...snapshot.topics.keys()]))
    ).pipe(
      Effect.repeat(Schedule.spaced(resolved["metadata.max.age.ms"])),
      Effect.delay(resolved["metadata.max.age.ms"]),
      Effect.forkScoped
    )

    return {
      config: resolved,
      metadata: () => snapshot,
      refresh,
      topic,
      leaderFor,
      cachedTopic: (name) => snapshot.topics.get(name),
      connection,
      anyConnection,
      send,
      retry,
      invalidate: () => {
        stale = true
      }
    } satisfies Cluster
  })

/** A shared cluster connection as a layer (for clients made with `makeWith`). */
export const layer = (config: ClientConfig.ClientConfig & ClusterOptions = {}): Layer.Layer<ClusterTag> =>
  Layer.scoped(ClusterTag, make(config))
