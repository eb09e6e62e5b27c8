/**
 * Persistence of consumer groups: committed offsets and group metadata are records in the compacted
 * internal topic `__consumer_offsets`, in Kafka's own formats (`records/OffsetCommitKey`/`Value`,
 * `GroupMetadataKey`/`Value`), on the partition `partitionFor(groupId)`. A null value is a tombstone.
 *
 * Writes go through the partition's {@link PartitionReplica} actor (so they are ordinary appends: high
 * watermark, flush policy and compaction apply) and complete only once the high watermark passes them (acks=all:
 * a new leader replays every write a client was told of); a write whose leadership moved before that fails
 * NOT_COORDINATOR. Clients cannot produce to the topic. Reads scan the
 * partition's log from its start; a record replay cannot read is logged, skipped and counted, never a
 * reason not to start. The topic is created on first use, as Kafka does on the first FindCoordinator.
 */
import { Clock, Effect } from "effect"
import type { Log } from "../log/Log.js"
import * as GroupMetadataKey from "../protocol/generated/records/GroupMetadataKey.js"
import * as GroupMetadataValue from "../protocol/generated/records/GroupMetadataValue.js"
import * as OffsetCommitKey from "../protocol/generated/records/OffsetCommitKey.js"
import * as OffsetCommitValue from "../protocol/generated/records/OffsetCommitValue.js"
import { Reader } from "../protocol/Reader.js"
import * as RecordBatch from "../protocol/RecordBatch.js"
import { Writer } from "../protocol/Writer.js"
import * as BrokerConfig from "./BrokerConfig.js"
import type { BrokerError } from "./BrokerError.js"
import { partitionFor } from "./CoordinatorKey.js"
import { CoordinatorNotAvailable, NotCoordinator, TxnOffsetCommitFenced } from "./GroupError.js"
import { replayLog } from "./internal/replay.js"
import { awaitReplicated } from "./internal/replicated.js"
import type { ReplicaManager } from "./ReplicaManager.js"
import { CONSUMER_OFFSETS, type TopicRegistry } from "./TopicRegistry.js"

export type GroupMetadata = GroupMetadataValue.GroupMetadataValue
export type GroupMember = GroupMetadataValue.GroupMetadataValueMemberMetadata

/** One committed offset, as kept in memory. Timestamps are epoch milliseconds. */
export interface CommittedOffset {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly leaderEpoch: number
  readonly metadata: string
  readonly commitTimestamp: number
  /** -1 unless the commit asked for an explicit retention (OffsetCommit v2-4). */
  readonly expireTimestamp: number
}

/** What the log holds for one group after replay. */
export interface StoredGroup {
  metadata: GroupMetadata | undefined
  readonly offsets: Map<string, CommittedOffset>
  /** Transactional offset commits whose transaction has no marker yet, by producer id. */
  readonly pending?: Map<number, Map<string, CommittedOffset>>
}

/** The producer of a transactional offset commit (TxnOffsetCommit). */
export interface TxnProducer {
  readonly producerId: number
  readonly producerEpoch: number
}

/** A record to write for a group. */
export type GroupRecord =
  | {
      readonly _tag: "Offset"
      readonly topic: string
      readonly partition: number
      readonly value: CommittedOffset | null
    }
  | { readonly _tag: "Group"; readonly value: GroupMetadata | null }

/** The in-memory key of a committed offset. */
export const offsetKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`

/** The group store over `__consumer_offsets`. */
export interface GroupMetadataManager {
  /** The `__consumer_offsets` partition that holds `groupId`. */
  readonly partitionFor: (groupId: string) => number
  /** Creates `__consumer_offsets` if it does not exist yet. */
  readonly ensureTopic: Effect.Effect<void, BrokerError>
  /**
   * Appends records of one group (one batch) and waits until they are acknowledged; with `txn`, as a
   * transactional batch of that producer (visible once its COMMIT marker follows).
   */
  readonly write: (
    groupId: string,
    records: ReadonlyArray<GroupRecord>,
    txn?: TxnProducer
  ) => Effect.Effect<void, CoordinatorNotAvailable | NotCoordinator | TxnOffsetCommitFenced>
  /** Replays one partition: the groups found, by id. */
  readonly loadPartition: (partition: number) => Effect.Effect<Map<string, StoredGroup>, CoordinatorNotAvailable>
  /** Replays the partition of one group (an actor restarting from its log). */
  readonly loadGroup: (groupId: string) => Effect.Effect<StoredGroup | undefined, CoordinatorNotAvailable>
  /** How many records (or undecodable batches) the replays so far could not read and skipped. */
  readonly skippedRecords: Effect.Effect<number>
}

// Kafka writes OffsetCommitValue v3 (v1 when an expire timestamp is set) and GroupMetadataValue v3.
const OFFSET_KEY_VERSION = 1
const GROUP_KEY_VERSION = 2
const GROUP_VALUE_VERSION = 3

const encodeKey = (groupId: string, record: GroupRecord): Buffer => {
  const w = new Writer(64)
  if (record._tag === "Offset") {
    w.int16(OFFSET_KEY_VERSION)
    OffsetCommitKey.encodeOffsetCommitKey(
      w,
      { group: groupId, topic: record.topic, partition: record.partition },
      OFFSET_KEY_VERSION
    )
  } else {
    w.int16(GROUP_KEY_VERSION)
    GroupMetadataKey.encodeGroupMetadataKey(w, { group: groupId }, GROUP_KEY_VERSION)
  }
  return Buffer.from(w.finish())
}

const encodeValue = (record: GroupRecord): Buffer | null => {
  if (record.value === null) return null
  const w = new Writer(128)
  if (record._tag === "Offset") {
    const v = record.value
    const version = v.expireTimestamp >= 0 ? 1 : 3
    w.int16(version)
    OffsetCommitValue.encodeOffsetCommitValue(
      w,
      {
        offset: BigInt(v.offset),
        leaderEpoch: v.leaderEpoch,
        metadata: v.metadata,
        commitTimestamp: BigInt(v.commitTimestamp),
        expireTimestamp: BigInt(v.expireTimestamp)
      },
      version
    )
  } else {
    w.int16(GROUP_VALUE_VERSION)
    GroupMetadataValue.encodeGroupMetadataValue(w, record.value, GROUP_VALUE_VERSION)
  }
  return Buffer.from(w.finish())
}

/** Decodes one `__consumer_offsets` record into (group, record); undefined for keys of other kinds. */
export const decodeRecord = (
  key: Uint8Array,
  value: Uint8Array | null
): { readonly groupId: string; readonly record: GroupRecord } | undefined => {
  const kr = new Reader(key)
  const keyVersion = kr.int16()
  if (keyVersion === 0 || keyVersion === 1) {
    const k = OffsetCommitKey.decodeOffsetCommitKey(kr, keyVersion)
    if (value === null) {
      return { groupId: k.group, record: { _tag: "Offset", topic: k.topic, partition: k.partition, value: null } }
    }
    const vr = new Reader(value)
    const valueVersion = vr.int16()
    if (valueVersion > OffsetCommitValue.validVersions.max) return undefined
    const v = OffsetCommitValue.decodeOffsetCommitValue(vr, valueVersion)
    return {
      groupId: k.group,
      record: {
        _tag: "Offset",
        topic: k.topic,
        partition: k.partition,
        value: {
          topic: k.topic,
          partition: k.partition,
          offset: Number(v.offset),
          leaderEpoch: v.leaderEpoch,
          metadata: v.metadata,
          commitTimestamp: Number(v.commitTimestamp),
          expireTimestamp: Number(v.expireTimestamp)
        }
      }
    }
  }
  if (keyVersion === 2) {
    const k = GroupMetadataKey.decodeGroupMetadataKey(kr, keyVersion)
    if (value === null) return { groupId: k.group, record: { _tag: "Group", value: null } }
    const vr = new Reader(value)
    const valueVersion = vr.int16()
    if (valueVersion > GroupMetadataValue.validVersions.max) return undefined
    return {
      groupId: k.group,
      record: { _tag: "Group", value: GroupMetadataValue.decodeGroupMetadataValue(vr, valueVersion) }
    }
  }
  return undefined // records of the new consumer protocol (KIP-848) and later kinds
}

/** Applies one record to a replayed state. */
export const applyRecord = (groups: Map<string, StoredGroup>, groupId: string, record: GroupRecord): void => {
  let g = groups.get(groupId)
  if (g === undefined) {
    if (record.value === null) return
    g = { metadata: undefined, offsets: new Map() }
    groups.set(groupId, g)
  }
  if (record._tag === "Offset") {
    const k = offsetKey(record.topic, record.partition)
    if (record.value === null) g.offsets.delete(k)
    else g.offsets.set(k, record.value)
  } else {
    g.metadata = record.value ?? undefined
  }
  if (g.metadata === undefined && g.offsets.size === 0) groups.delete(groupId)
}

/**
 * Replays a log into `groups`, keeping only groups accepted by `filter`; the number of records skipped
 * as unreadable (see `internal/replay.ts`). Transactional batches are held per producer until their
 * marker: applied on COMMIT, dropped on ABORT; those still open at the end become the groups' pending
 * transactional offsets.
 */
const replay = (
  log: Log,
  partition: number,
  groups: Map<string, StoredGroup>,
  filter: (groupId: string) => boolean
): Effect.Effect<number, CoordinatorNotAvailable> =>
  Effect.gen(function* () {
    const open = new Map<number, Array<{ readonly groupId: string; readonly record: GroupRecord }>>()
    const skipped = yield* replayLog(log, `${CONSUMER_OFFSETS}-${partition}`, {
      control: (header, r) => {
        const marker = RecordBatch.decodeControlRecord(r)
        const held = open.get(header.producerId)
        open.delete(header.producerId)
        if (marker.type === RecordBatch.ControlType.COMMIT && held !== undefined) {
          for (const h of held) applyRecord(groups, h.groupId, h.record)
        }
      },
      record: (header, r) => {
        const decoded = decodeRecord(r.key, r.value)
        if (decoded === undefined || !filter(decoded.groupId)) return
        if (RecordBatch.isTransactional(header.attributes) && header.producerId >= 0) {
          let held = open.get(header.producerId)
          if (held === undefined) {
            held = []
            open.set(header.producerId, held)
          }
          held.push(decoded)
        } else applyRecord(groups, decoded.groupId, decoded.record)
      }
    })
    for (const [producerId, held] of open) {
      for (const { groupId, record } of held) {
        if (record._tag !== "Offset" || record.value === null) continue
        let g = groups.get(groupId)
        if (g === undefined) {
          g = { metadata: undefined, offsets: new Map(), pending: new Map() }
          groups.set(groupId, g)
        }
        const pending = g.pending ?? new Map<number, Map<string, CommittedOffset>>()
        if (g.pending === undefined) groups.set(groupId, { ...g, pending })
        let forProducer = pending.get(producerId)
        if (forProducer === undefined) {
          forProducer = new Map()
          pending.set(producerId, forProducer)
        }
        forProducer.set(offsetKey(record.topic, record.partition), record.value)
      }
    }
    return skipped
  }).pipe(
    Effect.mapError(
      (e) => new CoordinatorNotAvailable({ message: `Cannot replay ${CONSUMER_OFFSETS}-${partition}: ${e.message}` })
    )
  )

/** Builds the store over the broker's topic registry and replicas. */
export const make = (
  registry: TopicRegistry["Type"],
  replicas: ReplicaManager["Type"]
): Effect.Effect<GroupMetadataManager> =>
  Effect.gen(function* () {
    const existing = yield* registry.get(CONSUMER_OFFSETS)
    let numPartitions = existing?.partitions ?? BrokerConfig.getNumber(registry.config, "offsets.topic.num.partitions")

    const ensureTopic: Effect.Effect<void, BrokerError> = Effect.suspend(() =>
      replicas.get(CONSUMER_OFFSETS, 0) !== undefined
        ? Effect.void
        : Effect.map(registry.autoCreate(CONSUMER_OFFSETS), (t) => {
            numPartitions = t.partitions
          })
    )

    const replicaOf = (groupId: string) => {
      const partition = partitionFor(groupId, numPartitions)
      const replica = replicas.get(CONSUMER_OFFSETS, partition)
      return replica === undefined
        ? Effect.fail(new CoordinatorNotAvailable({ message: `${CONSUMER_OFFSETS}-${partition} is not hosted here.` }))
        : Effect.succeed(replica)
    }

    const write = (
      groupId: string,
      records: ReadonlyArray<GroupRecord>,
      txn?: TxnProducer
    ): Effect.Effect<void, CoordinatorNotAvailable | NotCoordinator | TxnOffsetCommitFenced> =>
      records.length === 0
        ? Effect.void
        : Effect.gen(function* () {
            const replica = yield* replicaOf(groupId)
            const now = yield* Clock.currentTimeMillis
            const batch = RecordBatch.encode(
              records.map((r) => ({ key: encodeKey(groupId, r), value: encodeValue(r), timestamp: now })),
              txn === undefined
                ? {}
                : { producerId: txn.producerId, producerEpoch: txn.producerEpoch, transactional: true }
            )
            const epoch = replica.leaderEpoch
            const result = yield* replica
              .append([batch])
              .pipe(
                Effect.mapError((e) =>
                  e._tag === "InvalidProducerEpoch"
                    ? new TxnOffsetCommitFenced({ message: e.message })
                    : e._tag === "NotLeaderOrFollower"
                      ? new NotCoordinator({ message: `This broker no longer leads ${CONSUMER_OFFSETS}: ${e.message}` })
                      : new CoordinatorNotAvailable({ message: `Cannot write to ${CONSUMER_OFFSETS}: ${e.message}` })
                )
              )
            if (!(yield* awaitReplicated(replica, epoch, result.lastOffset))) {
              return yield* new NotCoordinator({
                message: `The leadership of ${CONSUMER_OFFSETS}-${replica.topicPartition.partition} moved before the write was replicated.`
              })
            }
          })

    let skipped = 0
    const loadPartition = (partition: number) =>
      Effect.gen(function* () {
        const groups = new Map<string, StoredGroup>()
        const replica = replicas.get(CONSUMER_OFFSETS, partition)
        if (replica !== undefined) skipped += yield* replay(replica.log, partition, groups, () => true)
        return groups
      })

    const loadGroup = (groupId: string) =>
      Effect.gen(function* () {
        const partition = partitionFor(groupId, numPartitions)
        const replica = replicas.get(CONSUMER_OFFSETS, partition)
        if (replica === undefined) return undefined
        const groups = new Map<string, StoredGroup>()
        skipped += yield* replay(replica.log, partition, groups, (id) => id === groupId)
        return groups.get(groupId)
      })

    return {
      partitionFor: (groupId) => partitionFor(groupId, numPartitions),
      ensureTopic,
      write,
      loadPartition,
      loadGroup,
      skippedRecords: Effect.sync(() => skipped)
    }
  })
