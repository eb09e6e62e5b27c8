/**
 * The metadata listener: follows the cluster metadata store's topic and partition records and keeps this broker in
 * step with them: the local {@link TopicRegistry} (topics another broker created, grew, reconfigured or deleted), the
 * partition records Metadata answers from, and this broker's replicas (`applyPartitionState` for every record: a
 * record naming this broker hosts its replica, which follows it, and is dropped once the record no longer names this
 * broker; partitions placed on other brokers are never opened here).
 *
 * Invariants:
 * - No change is missed: the first read happens at a known revision and the watches start right after it; a watch
 *   that fails (its revision compacted away, the store unreachable) is logged and the listener reads everything
 *   again and watches on from there.
 * - Changes are applied one at a time, in the order the watches deliver them (revision order within a kind); a
 *   partition record older than the one held is ignored.
 * - Applying a change never publishes: the registry's `adopt`/`forget` change only this broker.
 */
import { Effect, Option, Schedule, type Scope, Stream } from "effect"
import type { MetadataEvent, MetadataStoreError, PartitionState, TopicMetadata, Versioned } from "../MetadataRecords.js"
import * as MetadataStore from "../MetadataStore.js"
import { isInternal, type Topic, type TopicRegistry } from "../TopicRegistry.js"

/** The partition records as this broker last saw them. */
export interface ClusterImage {
  /** A topic's partition records by partition (holes for records not seen yet); undefined for an unknown topic. */
  readonly partitions: (topic: string) => ReadonlyArray<PartitionState | undefined> | undefined
  /** Every topic's records. */
  readonly all: () => ReadonlyArray<PartitionState>
  /** Takes records this broker just wrote (kept unless a newer version is held). */
  readonly put: (records: ReadonlyArray<Versioned<PartitionState>>) => void
}

/**
 * Makes this broker's replica of a partition follow its record, with the record's store version (the replication
 * layer's entry point).
 */
export type ApplyPartitionState = (state: PartitionState, version: number) => Effect.Effect<void>

/** Options of {@link start}. */
export interface ListenerOptions {
  readonly registry: TopicRegistry["Type"]
  readonly applyPartitionState?: ApplyPartitionState | undefined
}

const lastSegment = (key: string) => key.slice(key.lastIndexOf("/") + 1)

/** The image's storage: records by topic, then partition. */
const makeImage = (): ClusterImage & {
  readonly set: (record: Versioned<PartitionState>) => boolean
  readonly records: (topic?: string) => ReadonlyArray<Versioned<PartitionState>>
  readonly dropTopic: (topic: string) => void
  readonly drop: (topic: string, partition: number) => void
} => {
  const byTopic = new Map<string, Array<Versioned<PartitionState> | undefined>>()
  const set = (record: Versioned<PartitionState>): boolean => {
    const list = byTopic.get(record.value.topic) ?? []
    byTopic.set(record.value.topic, list)
    const held = list[record.value.partition]
    if (held !== undefined && held.version > record.version) return false
    list[record.value.partition] = record
    return true
  }
  return {
    partitions: (topic) => byTopic.get(topic)?.map((r) => r?.value),
    all: () => [...byTopic.values()].flatMap((list) => list.flatMap((r) => (r === undefined ? [] : [r.value]))),
    records: (topic) =>
      (topic === undefined ? [...byTopic.values()] : [byTopic.get(topic) ?? []]).flatMap((list) =>
        list.filter((r) => r !== undefined)
      ),
    put: (records) => {
      for (const r of records) set(r)
    },
    set,
    dropTopic: (topic) => {
      byTopic.delete(topic)
    },
    drop: (topic, partition) => {
      const list = byTopic.get(topic)
      if (list !== undefined) list[partition] = undefined
    }
  }
}

/** Starts the listener in the current scope; returns once the store's current state is applied. */
export const start = (
  options: ListenerOptions
): Effect.Effect<ClusterImage, MetadataStoreError, MetadataStore.MetadataStore | Scope.Scope> =>
  Effect.gen(function* () {
    const store = yield* MetadataStore.MetadataStore
    const { registry } = options
    const image = makeImage()

    const replicationFactorOf = (topic: string, fallback: number) => {
      const first = image.partitions(topic)?.find((p) => p !== undefined)
      return first === undefined ? fallback : first.replicas.length - first.removingReplicas.length
    }

    const toTopic = (t: TopicMetadata, existing: Topic | undefined): Topic => ({
      name: t.name,
      topicId: t.topicId,
      partitions: t.partitions,
      replicationFactor: replicationFactorOf(t.name, existing?.replicationFactor ?? 1),
      configs: t.configs,
      internal: isInternal(t.name)
    })

    // the id of each topic as the store last had it: a deletion removes that topic only, not a newer one of the name
    const ids = new Map<string, string>()
    const applyTopic = (t: TopicMetadata) =>
      Effect.gen(function* () {
        ids.set(t.name, t.topicId)
        // a change superseded meanwhile (the topic deleted, or created again) waits for its own event
        const current = yield* store.topic(t.name)
        if (Option.isNone(current) || current.value.value.topicId !== t.topicId) return
        const existing = yield* registry.get(t.name)
        yield* registry.adopt(toTopic(current.value.value, existing))
        // the registry opens no partition of a topic it adopts: the records host those placed here (with the
        // topic's configs now that it is known)
        const apply = options.applyPartitionState
        if (apply !== undefined) {
          yield* Effect.forEach(image.records(t.name), (r) => apply(r.value, r.version), { discard: true })
        }
      }).pipe(Effect.catchAll((e) => Effect.logError(`Cannot apply topic ${t.name} from the metadata store`, e)))

    const applyPartition = (record: Versioned<PartitionState>) =>
      Effect.suspend(() => {
        if (!image.set(record)) return Effect.void
        const apply = options.applyPartitionState
        return apply === undefined ? Effect.void : apply(record.value, record.version)
      })

    const onEvent = (event: MetadataEvent): Effect.Effect<void> => {
      if (event.kind === "topic") {
        if (event.value !== undefined) return applyTopic(event.value)
        const name = lastSegment(event.key)
        const id = ids.get(name)
        ids.delete(name)
        image.dropTopic(name)
        return registry
          .forget(name, id)
          .pipe(Effect.catchAll((e) => Effect.logError(`Cannot delete topic ${name} here`, e)))
      }
      if (event.kind === "partition") {
        if (event.value !== undefined) return applyPartition({ value: event.value, version: event.revision })
        const parts = event.key.split("/")
        image.drop(parts[parts.length - 2] ?? "", Number(lastSegment(event.key)))
      }
      return Effect.void
    }

    /** Reads everything at a known revision and applies it; returns the revision the watches continue from. */
    const sync = Effect.gen(function* () {
      const revision = yield* store.revision
      const topics = yield* store.topics
      for (const t of topics) {
        for (const p of yield* store.partitions(t.value.name)) image.set(p)
      }
      for (const t of topics) yield* applyTopic(t.value)
      const apply = options.applyPartitionState
      if (apply !== undefined)
        yield* Effect.forEach(image.records(), (r) => apply(r.value, r.version), { discard: true })
      return revision
    })

    const follow = (from: number) =>
      Stream.merge(store.watch("topic", from + 1), store.watch("partition", from + 1)).pipe(Stream.runForEach(onEvent))

    const first = yield* sync
    const warn = (e: MetadataStoreError) =>
      Effect.logWarning("The metadata listener's watch failed; reading the store again", e)
    const again = Effect.flatMap(sync, follow).pipe(Effect.tapError(warn), Effect.retry(Schedule.spaced("1 second")))
    yield* follow(first).pipe(
      Effect.catchAll((e) => Effect.zipRight(warn(e), again)),
      Effect.catchAll(() => Effect.void),
      Effect.forkScoped
    )
    return { partitions: image.partitions, all: image.all, put: image.put }
  })

/** The topic's partition record, if the store has it. */
export const recordOf = (image: ClusterImage, topic: string, partition: number): Option.Option<PartitionState> =>
  Option.fromNullable(image.partitions(topic)?.[partition])
