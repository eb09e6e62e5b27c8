/**
 * Persistence of consumer groups: committed offsets and group metadata are records in the compacted
 * internal topic `__consumer_offsets`, in Kafka's own formats (`records/OffsetCommitKey`/`Value`,
 * `GroupMetadataKey`/`Value`), on the partition `partitionFor(groupId)`. A null value is a tombstone.
 *
 * Writes go through the partition's {@link PartitionReplica} actor (so they are ordinary appends: high
 * watermark, flush policy and compaction apply); reads scan the partition's log from its start. The
 * topic is created on first use, as Kafka does on the first FindCoordinator.
 */
import { Effect } from "effect";
import * as GroupMetadataValue from "../protocol/generated/records/GroupMetadataValue.js";
import type { BrokerError } from "./BrokerError.js";
import { CoordinatorNotAvailable, TxnOffsetCommitFenced } from "./GroupError.js";
import type { ReplicaManager } from "./ReplicaManager.js";
import { type TopicRegistry } from "./TopicRegistry.js";
export type GroupMetadata = GroupMetadataValue.GroupMetadataValue;
export type GroupMember = GroupMetadataValue.GroupMetadataValueMemberMetadata;
/** One committed offset, as kept in memory. Timestamps are epoch milliseconds. */
export interface CommittedOffset {
    readonly topic: string;
    readonly partition: number;
    readonly offset: number;
    readonly leaderEpoch: number;
    readonly metadata: string;
    readonly commitTimestamp: number;
    /** -1 unless the commit asked for an explicit retention (OffsetCommit v2-4). */
    readonly expireTimestamp: number;
}
/** What the log holds for one group after replay. */
export interface StoredGroup {
    metadata: GroupMetadata | undefined;
    readonly offsets: Map<string, CommittedOffset>;
    /** Transactional offset commits whose transaction has no marker yet, by producer id. */
    readonly pending?: Map<number, Map<string, CommittedOffset>>;
}
/** The producer of a transactional offset commit (TxnOffsetCommit). */
export interface TxnProducer {
    readonly producerId: number;
    readonly producerEpoch: number;
}
/** A record to write for a group. */
export type GroupRecord = {
    readonly _tag: "Offset";
    readonly topic: string;
    readonly partition: number;
    readonly value: CommittedOffset | null;
} | {
    readonly _tag: "Group";
    readonly value: GroupMetadata | null;
};
/** The in-memory key of a committed offset. */
export declare const offsetKey: (topic: string, partition: number) => string;
/** The group store over `__consumer_offsets`. */
export interface GroupMetadataManager {
    /** The `__consumer_offsets` partition that holds `groupId`. */
    readonly partitionFor: (groupId: string) => number;
    /** Creates `__consumer_offsets` if it does not exist yet. */
    readonly ensureTopic: Effect.Effect<void, BrokerError>;
    /**
     * Appends records of one group (one batch) and waits until they are acknowledged; with `txn`, as a
     * transactional batch of that producer (visible once its COMMIT marker follows).
     */
    readonly write: (groupId: string, records: ReadonlyArray<GroupRecord>, txn?: TxnProducer) => Effect.Effect<void, CoordinatorNotAvailable | TxnOffsetCommitFenced>;
    /** Replays every partition: the groups found, by id. */
    readonly loadAll: Effect.Effect<Map<string, StoredGroup>, CoordinatorNotAvailable>;
    /** Replays the partition of one group (an actor restarting from its log). */
    readonly loadGroup: (groupId: string) => Effect.Effect<StoredGroup | undefined, CoordinatorNotAvailable>;
}
/** Decodes one `__consumer_offsets` record into (group, record); undefined for keys of other kinds. */
export declare const decodeRecord: (key: Uint8Array, value: Uint8Array | null) => {
    readonly groupId: string;
    readonly record: GroupRecord;
} | undefined;
/** Applies one record to a replayed state. */
export declare const applyRecord: (groups: Map<string, StoredGroup>, groupId: string, record: GroupRecord) => void;
/** Builds the store over the broker's topic registry and replicas. */
export declare const make: (registry: TopicRegistry["Type"], replicas: ReplicaManager["Type"]) => Effect.Effect<GroupMetadataManager>;
