/**
 * The hosted partitions: one {@link PartitionReplica} actor per partition, running in a `FiberMap`
 * under the layer's scope, over the partition logs of {@link LogStorage}. The same layer provides
 * the real {@link PartitionManager} (the topic registry creates, grows, reconfigures and deletes
 * partitions through it) and the broker's fetch session cache.
 *
 * Shutdown order: the actors stop first (each between two commands), then the storage closes every
 * log cleanly (flush and clean-shutdown marker).
 *
 * Creating and deleting a topic's partitions serialize per topic (a keyed lock), so a large creation does
 * not hold another topic's; `deletePartitions(topic, from)` also removes what a failed creation left
 * (actors, open logs, folders of partitions `from` and up).
 */
import * as fs from "node:fs"
import { Context, Effect, FiberMap, Layer, type Scope } from "effect"
import * as LogStorage from "../log/LogStorage.js"
import { KafkaStorageError } from "./BrokerError.js"
import { FetchSessionCache } from "./FetchSession.js"
import * as KeyedLock from "./internal/keyedLock.js"
import * as Purgatory from "./internal/purgatory.js"
import * as PartitionManager from "./PartitionManager.js"
import * as PartitionReplica from "./PartitionReplica.js"

/** Looks up the replicas this broker hosts. */
export class ReplicaManager extends Context.Tag("@eddy/core/broker/ReplicaManager")<
  ReplicaManager,
  ReplicaManager.Service
>() {}

/** Types of the replica manager. */
export declare namespace ReplicaManager {
  /** The service. */
  export interface Service {
    /** The replica of a partition, if hosted (a synchronous lookup: the hot path calls it per partition). */
    readonly get: (topic: string, partition: number) => PartitionReplica.PartitionReplica | undefined
    /** The replicas of a topic, by partition index. */
    readonly replicas: (topic: string) => ReadonlyArray<PartitionReplica.PartitionReplica>
    /** The broker's fetch session cache (KIP-227). */
    readonly fetchSessions: FetchSessionCache
    /** Deadlines of requests waiting on replicas (produce with acks=all, fetch long polls). */
    readonly purgatory: Purgatory.Purgatory
  }
}

/** Options of {@link make}. */
export interface ReplicaManagerOptions {
  /** Mailbox capacity of each replica. */
  readonly mailboxCapacity?: number
  /** Fetch session cache slots (`max.incremental.fetch.session.cache.slots`, default 1000). */
  readonly fetchSessionSlots?: number
  /** `producer.id.expiration.ms` (default 86400000). */
  readonly producerIdExpirationMs?: number
}

const toStorageError = (e: { readonly message: string }): KafkaStorageError =>
  e instanceof KafkaStorageError ? e : new KafkaStorageError({ message: e.message, path: "", code: "" })

/** Builds the replica manager and the partition manager over the current {@link LogStorage}. */
export const make = (
  options: ReplicaManagerOptions = {}
): Effect.Effect<
  { readonly replicas: ReplicaManager.Service; readonly partitions: PartitionManager.PartitionManager["Type"] },
  never,
  Scope.Scope | LogStorage.LogStorage
> =>
  Effect.gen(function* () {
    const storage = yield* LogStorage.LogStorage
    const actors = yield* FiberMap.make<string>()
    const topics = new Map<string, Array<PartitionReplica.PartitionReplica>>()
    // per topic: creating a topic's partitions does not hold another topic's changes
    const locks = KeyedLock.make()
    const fetchSessions = new FetchSessionCache(options.fetchSessionSlots)
    const purgatory = yield* Purgatory.make()
    const replicaOptions: PartitionReplica.ReplicaOptions = {
      disk: storage.disk,
      ...(options.mailboxCapacity === undefined ? {} : { mailboxCapacity: options.mailboxCapacity }),
      ...(options.producerIdExpirationMs === undefined
        ? {}
        : { producerIdExpirationMs: options.producerIdExpirationMs })
    }

    const stopReplicas = (list: ReadonlyArray<PartitionReplica.PartitionReplica>) =>
      Effect.forEach(
        list,
        (r) => Effect.zipRight(r.stop, FiberMap.remove(actors, LogStorage.folderName(r.topicPartition))),
        { discard: true }
      )
    const stopTopic = (topic: string, list: ReadonlyArray<PartitionReplica.PartitionReplica>) =>
      stopReplicas(list).pipe(Effect.zipRight(Effect.sync(() => fetchSessions.forgetTopic(topic))))

    // snapshot the producer state and stop every actor before the storage closes the logs
    yield* Effect.addFinalizer(() =>
      Effect.forEach([...topics.values()].flat(), (r) => r.snapshot, { discard: true, concurrency: 8 }).pipe(
        Effect.zipRight(Effect.forEach([...topics], ([topic, list]) => stopTopic(topic, list), { discard: true }))
      )
    )

    const createPartitions = (t: PartitionManager.TopicPartitions) =>
      locks.withLock(t.topic)(
        Effect.gen(function* () {
          let list = topics.get(t.topic)
          if (list === undefined) {
            list = []
            topics.set(t.topic, list)
          }
          for (let partition = list.length; partition < t.count; partition++) {
            const tp = { topic: t.topic, partition }
            const log = yield* storage.open(tp, t.config)
            const { replica, run } = yield* PartitionReplica.make(tp, log, replicaOptions)
            yield* FiberMap.run(actors, LogStorage.folderName(tp), run)
            list.push(replica)
          }
        })
      )

    const deletePartitions = (topic: string, from = 0) =>
      locks.withLock(topic)(
        Effect.gen(function* () {
          const list = topics.get(topic) ?? []
          const stopped = list.slice(Math.max(from, 0))
          if (from <= 0) topics.delete(topic)
          else list.length = Math.min(list.length, from)
          // a partial delete rolls back partitions no client was told about: fetch sessions keep the topic
          yield* from <= 0 ? stopTopic(topic, stopped) : stopReplicas(stopped)
          const onDisk = yield* storage.list
          for (const tp of onDisk) {
            if (tp.topic === topic && tp.partition >= from) yield* storage.delete(tp)
          }
        })
      )

    const applyConfig = (topic: string, config: PartitionManager.TopicPartitions["config"]) =>
      Effect.forEach(topics.get(topic) ?? [], (r) => r.updateConfig(config), { discard: true }).pipe(
        Effect.mapError(toStorageError)
      )

    const logDirInfo = Effect.sync(() => {
      let totalBytes = -1
      let usableBytes = -1
      try {
        const s = fs.statfsSync(storage.dataDir)
        totalBytes = s.blocks * s.bsize
        usableBytes = s.bavail * s.bsize
      } catch {
        // in-memory storage or an unsupported file system: sizes stay unknown
      }
      return [
        {
          path: storage.dataDir,
          totalBytes,
          usableBytes,
          partitions: [...topics.values()].flatMap((list) =>
            list.map((r) => ({
              topic: r.topicPartition.topic,
              partition: r.topicPartition.partition,
              size: r.log.size,
              offsetLag: 0
            }))
          )
        }
      ]
    })

    return {
      replicas: {
        get: (topic, partition) => topics.get(topic)?.[partition],
        replicas: (topic) => topics.get(topic) ?? [],
        fetchSessions,
        purgatory
      },
      partitions: PartitionManager.PartitionManager.of({
        createPartitions,
        deletePartitions,
        applyConfig,
        logDirInfo,
        descriptorsPerPartition: PartitionManager.DESCRIPTORS_PER_PARTITION
      })
    }
  })

/** Replicas over the partition logs of the current {@link LogStorage} (the broker provides its data directory's). */
export const layer = (
  options: ReplicaManagerOptions = {}
): Layer.Layer<ReplicaManager | PartitionManager.PartitionManager, never, LogStorage.LogStorage> =>
  Layer.scopedContext(
    Effect.map(make(options), ({ replicas, partitions }) =>
      Context.make(ReplicaManager, replicas).pipe(Context.add(PartitionManager.PartitionManager, partitions))
    )
  )

/** Replicas over in-memory logs (tests): nothing survives the layer. */
export const layerMemory = (
  options: ReplicaManagerOptions = {}
): Layer.Layer<ReplicaManager | PartitionManager.PartitionManager, KafkaStorageError> =>
  Layer.provide(layer(options), LogStorage.layerMemory())
