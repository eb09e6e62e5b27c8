/**
 * Publishes this broker's topic changes in the cluster metadata store ({@link TopicRegistry.ClusterHooks}): a new
 * topic's record and one partition record per partition (replicas placed by `assignment.ts` over the live brokers, or
 * as the request named them; leader = first replica, ISR = replicas), a grown topic's count and new partitions, a
 * deletion (the topic and its partition records in one change) and new config overrides. Every write is a
 * compare-and-swap; a topic record that exists already is TOPIC_ALREADY_EXISTS, a store that does not answer in
 * time REQUEST_TIMED_OUT. At start, {@link strayTopics} finds the topics of `topics.json` the cluster deleted while
 * this broker was down (a tombstone of their id, or their name now another topic's), which the registry removes, and
 * {@link publishLocalTopics} writes the others the store lacks (an in-memory store is empty after a restart) as
 * partitions this broker leads alone.
 */
import { Duration, Effect, Option, Random } from "effect"
import {
  type BrokerError,
  InvalidReplicationFactor,
  MetadataTimeout,
  TopicAlreadyExists,
  UnknownTopicOrPartition
} from "../BrokerError.js"
import type { BrokerEndpoint } from "../Handler.js"
import { type MetadataStoreError, PartitionState, TopicMetadata, type Versioned } from "../MetadataRecords.js"
import type { MetadataStoreService } from "../MetadataStore.js"
import type { ClusterHooks, StrayTopic, Topic, TopicChange } from "../TopicRegistry.js"
import { assignReplicas } from "./controller/assignment.js"

/** How long a publication may wait for the store. */
const STORE_TIMEOUT = Duration.seconds(30)

/** Options of {@link make}. */
export interface PublisherOptions {
  readonly store: MetadataStoreService
  readonly brokers: () => ReadonlyArray<BrokerEndpoint>
  /**
   * Called with the partition records written, so this broker's view and replicas have them before the answer (it
   * hosts the partitions placed on it in their roles).
   */
  readonly onPublished: (records: ReadonlyArray<Versioned<PartitionState>>) => Effect.Effect<void>
}

const timeout = (e: MetadataStoreError | { readonly message: string }) =>
  new MetadataTimeout({ message: `The cluster metadata store failed: ${e.message}` })

/** A fresh partition record: the first replica leads, every replica is in sync. */
export const freshPartition = (topic: string, partition: number, replicas: ReadonlyArray<number>): PartitionState =>
  new PartitionState({
    topic,
    partition,
    replicas,
    isr: replicas,
    leader: replicas[0] ?? -1,
    leaderEpoch: 0,
    partitionEpoch: 0
  })

const topicRecord = (t: Topic) =>
  new TopicMetadata({ topicId: t.topicId, name: t.name, partitions: t.partitions, configs: { ...t.configs } })

/** Writes a new partition record, replacing a leftover one (a creation interrupted before its topic was). */
const putFresh = (store: MetadataStoreService, state: PartitionState) =>
  store
    .putPartition(state, 0)
    .pipe(
      Effect.catchTag("MetadataConflict", () =>
        Effect.flatMap(store.partition(state.topic, state.partition), (current) =>
          store.putPartition(state, Option.match(current, { onNone: () => 0, onSome: (c) => c.version }))
        )
      )
    )

/** Re-reads and retries a compare-and-swap that lost to another change, a few times. */
const retryConflicts = <A, E extends { readonly _tag: string }, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.retry({ times: 5, while: (e) => e._tag === "MetadataConflict" }))

/** The hooks that publish a registry's changes in `options.store`. */
export const make = (options: PublisherOptions): ClusterHooks => {
  const { store } = options
  const liveBrokers = () => options.brokers().map((b) => b.nodeId)

  const place = (topic: Topic, from: number, given: ReadonlyArray<ReadonlyArray<number>> | undefined) =>
    Effect.gen(function* () {
      if (given !== undefined && given.length > 0) return given
      const brokers = options.brokers().map((b) => ({ id: b.nodeId, rack: b.rack }))
      const startIndex = yield* Random.nextIntBetween(0, Math.max(brokers.length, 1))
      const shift = yield* Random.nextIntBetween(0, Math.max(brokers.length, 1))
      const out = assignReplicas(brokers, topic.partitions - from, topic.replicationFactor, {
        firstPartition: from,
        startIndex,
        shift
      })
      if (!Array.isArray(out)) {
        return yield* new InvalidReplicationFactor({ message: (out as { readonly message: string }).message })
      }
      return out as ReadonlyArray<ReadonlyArray<number>>
    })

  const writePartitions = (topic: Topic, from: number, lists: ReadonlyArray<ReadonlyArray<number>>) =>
    Effect.gen(function* () {
      const written: Array<Versioned<PartitionState>> = []
      for (let i = 0; i < lists.length; i++) {
        written.push(yield* putFresh(store, freshPartition(topic.name, from + i, lists[i]!)))
      }
      yield* options.onPublished(written)
    })

  /** Changes the stored topic record of the same id with `f`; a missing record is UNKNOWN_TOPIC_OR_PARTITION. */
  const updateTopic = (topic: Topic, f: (t: TopicMetadata) => TopicMetadata) =>
    retryConflicts(
      Effect.gen(function* () {
        const current = yield* store.topic(topic.name)
        if (Option.isNone(current) || current.value.value.topicId !== topic.topicId) {
          return yield* new UnknownTopicOrPartition({ message: `Topic ${topic.name} is not in the cluster metadata.` })
        }
        return yield* store.putTopic(f(current.value.value), current.value.version)
      })
    )

  const publish = (change: TopicChange): Effect.Effect<void, BrokerError> => {
    const run = Effect.gen(function* () {
      switch (change._tag) {
        case "Created": {
          yield* store
            .putTopic(topicRecord(change.topic), 0)
            .pipe(
              Effect.catchTag("MetadataConflict", () =>
                Effect.fail(new TopicAlreadyExists({ message: `Topic '${change.topic.name}' already exists.` }))
              )
            )
          yield* writePartitions(change.topic, 0, change.replicas)
          return
        }
        case "Grown": {
          yield* updateTopic(
            change.topic,
            (t) => new TopicMetadata({ ...t, partitions: Math.max(t.partitions, change.topic.partitions) })
          )
          yield* writePartitions(change.topic, change.from, change.replicas)
          return
        }
        case "Reconfigured":
          yield* updateTopic(change.topic, (t) => new TopicMetadata({ ...t, configs: { ...change.topic.configs } }))
          return
        case "Deleted":
          yield* retryConflicts(
            Effect.gen(function* () {
              const current = yield* store.topic(change.topic.name)
              // already gone, or another topic of that name: only the local copy goes
              if (Option.isNone(current) || current.value.value.topicId !== change.topic.topicId) return
              yield* store.deleteTopic(change.topic.name, current.value.version)
            })
          )
      }
    })
    return run.pipe(
      Effect.timeoutFail({ duration: STORE_TIMEOUT, onTimeout: () => timeout({ message: "no answer in 30 s" }) }),
      Effect.catchTags({
        MetadataStoreError: (e) => Effect.fail(timeout(e)),
        MetadataConflict: (e) => Effect.fail(timeout({ message: `conflict on ${e.key}` }))
      })
    )
  }

  return { liveBrokers, place, publish }
}

/**
 * The local topics the cluster deleted while this broker was down: those whose id the store has a tombstone for, and
 * those whose name the store now has with another id (deleted and created again). Their logs are strays.
 */
export const strayTopics = (
  store: MetadataStoreService,
  topics: ReadonlyArray<Topic>
): Effect.Effect<ReadonlyArray<StrayTopic>, MetadataStoreError> =>
  Effect.map(
    Effect.forEach(topics, (topic) =>
      Effect.gen(function* () {
        const current = yield* store.topic(topic.name)
        if (Option.isSome(current)) {
          const id = current.value.value.topicId
          return id === topic.topicId ? [] : [{ topic, reason: `the cluster's topic ${topic.name} now has id ${id}` }]
        }
        return (yield* store.isTopicDeleted(topic.topicId)) ? [{ topic, reason: "the cluster deleted it" }] : []
      })
    ),
    (found) => found.flat()
  )

/** Writes the local topics the store lacks, each partition led by this broker alone (replication factor 1). */
export const publishLocalTopics = (
  store: MetadataStoreService,
  nodeId: number,
  topics: ReadonlyArray<Topic>
): Effect.Effect<void, MetadataStoreError> =>
  Effect.forEach(
    topics,
    (t) =>
      Effect.gen(function* () {
        if (Option.isSome(yield* store.topic(t.name))) return
        // a topic deleted meanwhile is not brought back (the registry removed it at start)
        if (yield* store.isTopicDeleted(t.topicId)) return
        const written = yield* store.putTopic(topicRecord(t), 0).pipe(
          Effect.as(true),
          Effect.catchTag("MetadataConflict", () => Effect.succeed(false))
        )
        if (!written) return
        for (let p = 0; p < t.partitions; p++) yield* putFresh(store, freshPartition(t.name, p, [nodeId]))
        yield* Effect.logInfo(`Published local topic ${t.name} in the cluster metadata store`)
      }).pipe(Effect.catchTag("MetadataConflict", () => Effect.void)),
    { discard: true }
  )
