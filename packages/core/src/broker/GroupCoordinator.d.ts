/**
 * The group coordinator (classic protocol): one actor per consumer group, kept in a `FiberMap` keyed by
 * group id under the broker's scope (see `internal/groupActor.ts` for the state machine). This service
 * routes requests to the actors, validates what needs no group state (group id, session timeout bounds,
 * topics, metadata size), and at start replays `__consumer_offsets` to bring every stored group back.
 *
 * A group that does not exist gets an actor only from JoinGroup or a standalone OffsetCommit; the other
 * requests answer for it directly (UNKNOWN_MEMBER_ID, offset -1, Dead, GROUP_ID_NOT_FOUND).
 */
import { Context, Effect, Layer, type Scope } from "effect";
import * as BrokerConfig from "./BrokerConfig.js";
import { type BrokerError } from "./BrokerError.js";
import { CoordinatorNotAvailable, type GroupError } from "./GroupError.js";
import * as GroupMetadataManager from "./GroupMetadataManager.js";
import * as Actor from "./internal/groupActor.js";
import { ReplicaManager } from "./ReplicaManager.js";
import { TopicRegistry } from "./TopicRegistry.js";
export type { DeletedOffset, DescribedMember, FetchedOffset, GroupDescription, GroupState, GroupSummary, JoinInput, JoinMember, JoinResult, LeaveMember, LeaveResult, MemberRef, Protocol, SyncInput, SyncResult, TopicPartitions } from "./internal/groupActor.js";
/** An offset to commit, before validation. */
export interface CommitOffset {
    readonly topic: string;
    readonly partition: number;
    readonly offset: number;
    readonly leaderEpoch: number;
    readonly metadata: string | null;
}
/** An OffsetCommit. */
export interface CommitRequest extends Actor.MemberRef {
    /** v2-4 `retention_time_ms`, -1 for the broker default. */
    readonly retentionTimeMs: number;
    readonly offsets: ReadonlyArray<CommitOffset>;
    /** TxnOffsetCommit: the producer whose transaction the offsets belong to. */
    readonly txn?: GroupMetadataManager.TxnProducer;
}
/** The outcome for one committed partition. */
export interface CommitResult {
    readonly topic: string;
    readonly partition: number;
    readonly error: GroupError | BrokerError | undefined;
}
declare const GroupCoordinator_base: Context.TagClass<GroupCoordinator, "@eddy/core/broker/GroupCoordinator", GroupCoordinator.Service>;
/** Manages the consumer groups whose coordinator this broker is. */
export declare class GroupCoordinator extends GroupCoordinator_base {
}
/** Types of the group coordinator. */
export declare namespace GroupCoordinator {
    /** The service. */
    interface Service {
        /** The `__consumer_offsets` partition of a group. */
        readonly partitionFor: (groupId: string) => number;
        /** Creates `__consumer_offsets` when it does not exist yet (FindCoordinator does, as in Kafka). */
        readonly ensureOffsetsTopic: Effect.Effect<void, BrokerError>;
        readonly joinGroup: (groupId: string, input: Actor.JoinInput) => Effect.Effect<Actor.JoinResult, GroupError | BrokerError>;
        readonly syncGroup: (groupId: string, input: Actor.SyncInput) => Effect.Effect<Actor.SyncResult, GroupError>;
        readonly heartbeat: (groupId: string, input: Actor.MemberRef) => Effect.Effect<void, GroupError>;
        readonly leaveGroup: (groupId: string, members: ReadonlyArray<Actor.LeaveMember>) => Effect.Effect<ReadonlyArray<Actor.LeaveResult>, GroupError>;
        /** Commits offsets; a group-level failure applies to every partition. */
        readonly commitOffsets: (groupId: string, request: CommitRequest) => Effect.Effect<ReadonlyArray<CommitResult>, GroupError | BrokerError>;
        /** Committed offsets (-1 for none); `null` topics means every committed partition. */
        readonly fetchOffsets: (groupId: string, topics: ReadonlyArray<Actor.TopicPartitions> | null) => Effect.Effect<ReadonlyArray<Actor.FetchedOffset>, GroupError>;
        readonly deleteOffsets: (groupId: string, topics: ReadonlyArray<Actor.TopicPartitions>) => Effect.Effect<ReadonlyArray<Actor.DeletedOffset>, GroupError>;
        readonly describeGroup: (groupId: string) => Effect.Effect<Actor.GroupDescription, GroupError>;
        /** Every group this coordinator knows, as last published by its actor. */
        readonly listGroups: Effect.Effect<ReadonlyArray<Actor.GroupSummary>>;
        readonly deleteGroup: (groupId: string) => Effect.Effect<void, GroupError>;
        /**
         * A transaction marker of `producerId` was written to `__consumer_offsets` partition `partition`:
         * the groups there apply (commit) or drop (abort) that producer's pending transactional offsets.
         */
        readonly completeTransaction: (producerId: number, commit: boolean, partition: number) => Effect.Effect<void>;
    }
}
/** Options of {@link make}. */
export interface GroupCoordinatorOptions {
    readonly mailboxCapacity?: number;
    /** Runs before each actor command (tests inject failures). */
    readonly beforeCommand?: (groupId: string, command: Actor.Command) => Effect.Effect<void>;
}
/** Group settings from the broker configuration. */
export declare const settingsOf: (config: BrokerConfig.BrokerConfig) => Actor.GroupSettings;
/** Builds the coordinator over the broker's topic registry and replicas, replaying `__consumer_offsets`. */
export declare const make: (options?: GroupCoordinatorOptions) => Effect.Effect<GroupCoordinator.Service, CoordinatorNotAvailable, Scope.Scope | TopicRegistry | ReplicaManager>;
/** The coordinator as a layer (needs the broker's topic registry and replicas). */
export declare const layer: (options?: GroupCoordinatorOptions) => Layer.Layer<GroupCoordinator, CoordinatorNotAvailable, TopicRegistry | ReplicaManager>;
