import { Data, Deferred, Effect } from "effect";
import { CoordinatorNotAvailable, type GroupError, type TxnOffsetCommitFenced } from "../GroupError.js";
import { type GroupRecord, type StoredGroup, type TxnProducer } from "../GroupMetadataManager.js";
/** The classic group states, named as DescribeGroups and ListGroups report them. */
export type GroupState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable" | "Dead";
/** A protocol a member supports, with its (opaque) metadata. */
export interface Protocol {
    readonly name: string;
    readonly metadata: Uint8Array;
}
/** A JoinGroup as the actor sees it. */
export interface JoinInput {
    readonly memberId: string;
    readonly groupInstanceId: string | null;
    readonly clientId: string;
    readonly clientHost: string;
    readonly sessionTimeoutMs: number;
    readonly rebalanceTimeoutMs: number;
    readonly protocolType: string;
    readonly protocols: ReadonlyArray<Protocol>;
    /** JoinGroup v4+: a member without an id first gets MEMBER_ID_REQUIRED. */
    readonly requireKnownMemberId: boolean;
    /** JoinGroup v9+: the answer can tell a rejoining static leader to skip the assignment (KIP-814). */
    readonly supportsSkipAssignment: boolean;
}
/** One member in a JoinGroup answer to the leader. */
export interface JoinMember {
    readonly memberId: string;
    readonly groupInstanceId: string | null;
    readonly metadata: Uint8Array;
}
/** A JoinGroup answer. */
export interface JoinResult {
    readonly generationId: number;
    readonly protocolType: string | null;
    readonly protocolName: string | null;
    readonly leader: string;
    readonly memberId: string;
    /** A static leader rejoining a stable group: it gets the members but must not reassign (KIP-814). */
    readonly skipAssignment: boolean;
    /** The members and their metadata, for the leader only. */
    readonly members: ReadonlyArray<JoinMember>;
}
/** A SyncGroup as the actor sees it. */
export interface SyncInput {
    readonly generationId: number;
    readonly memberId: string;
    readonly groupInstanceId: string | null;
    readonly protocolType: string | null;
    readonly protocolName: string | null;
    readonly assignments: ReadonlyArray<{
        readonly memberId: string;
        readonly assignment: Uint8Array;
    }>;
}
/** A SyncGroup answer. */
export interface SyncResult {
    readonly protocolType: string | null;
    readonly protocolName: string | null;
    readonly assignment: Uint8Array;
}
/** A Heartbeat, or the member part of an OffsetCommit. */
export interface MemberRef {
    readonly generationId: number;
    readonly memberId: string;
    readonly groupInstanceId: string | null;
}
/** One member identity of a LeaveGroup. */
export interface LeaveMember {
    readonly memberId: string;
    readonly groupInstanceId: string | null;
}
/** The outcome for one leaving member. */
export interface LeaveResult extends LeaveMember {
    readonly error: GroupError | undefined;
}
/** An offset to commit (already validated against topics and `offset.metadata.max.bytes`). */
export interface OffsetToCommit {
    readonly topic: string;
    readonly partition: number;
    readonly offset: number;
    readonly leaderEpoch: number;
    readonly metadata: string;
}
/** An OffsetCommit as the actor sees it. */
export interface CommitInput extends MemberRef {
    /** OffsetCommit v2-4 `retention_time_ms`; -1 for the broker's retention. */
    readonly retentionTimeMs: number;
    readonly offsets: ReadonlyArray<OffsetToCommit>;
    /** A TxnOffsetCommit: the offsets stay pending until the producer's transaction ends. */
    readonly txn?: TxnProducer;
}
/** Partitions requested by OffsetFetch or OffsetDelete. */
export interface TopicPartitions {
    readonly topic: string;
    readonly partitions: ReadonlyArray<number>;
}
/** One committed (or absent: offset -1) offset. */
export interface FetchedOffset {
    readonly topic: string;
    readonly partition: number;
    readonly offset: number;
    readonly leaderEpoch: number;
    readonly metadata: string;
    /** A transactional commit of this partition awaits its transaction's marker (OffsetFetch `require_stable`). */
    readonly unstable?: boolean;
}
/** The outcome for one partition of an OffsetDelete. */
export interface DeletedOffset {
    readonly topic: string;
    readonly partition: number;
    readonly error: GroupError | undefined;
}
/** One member in a DescribeGroups answer. */
export interface DescribedMember {
    readonly memberId: string;
    readonly groupInstanceId: string | null;
    readonly clientId: string;
    readonly clientHost: string;
    readonly metadata: Uint8Array;
    readonly assignment: Uint8Array;
}
/** A DescribeGroups answer. */
export interface GroupDescription {
    readonly groupId: string;
    readonly state: GroupState;
    readonly protocolType: string;
    /** The chosen protocol when Stable, else "". */
    readonly protocolData: string;
    readonly members: ReadonlyArray<DescribedMember>;
}
/** What the actor publishes for ListGroups (read without a round trip). */
export interface GroupSummary {
    readonly groupId: string;
    readonly state: GroupState;
    readonly protocolType: string;
    readonly generationId: number;
    readonly members: number;
}
/** The commands a group's mailbox carries. */
export type Command = Data.TaggedEnum<{
    Join: {
        readonly input: JoinInput;
        readonly reply: Deferred.Deferred<JoinResult, GroupError>;
    };
    Sync: {
        readonly input: SyncInput;
        readonly reply: Deferred.Deferred<SyncResult, GroupError>;
    };
    Heartbeat: {
        readonly input: MemberRef;
        readonly reply: Deferred.Deferred<void, GroupError>;
    };
    Leave: {
        readonly members: ReadonlyArray<LeaveMember>;
        readonly reply: Deferred.Deferred<ReadonlyArray<LeaveResult>, GroupError>;
    };
    Commit: {
        readonly input: CommitInput;
        readonly reply: Deferred.Deferred<void, GroupError>;
    };
    FetchOffsets: {
        readonly topics: ReadonlyArray<TopicPartitions> | null;
        readonly reply: Deferred.Deferred<ReadonlyArray<FetchedOffset>, GroupError>;
    };
    DeleteOffsets: {
        readonly topics: ReadonlyArray<TopicPartitions>;
        readonly reply: Deferred.Deferred<ReadonlyArray<DeletedOffset>, GroupError>;
    };
    Describe: {
        readonly reply: Deferred.Deferred<GroupDescription, GroupError>;
    };
    Delete: {
        readonly reply: Deferred.Deferred<void, GroupError>;
    };
    Timeout: {
        readonly key: string;
        readonly token: number;
    };
    /** The producer's transaction ended (its marker is on the group's partition): apply or drop its offsets. */
    CompleteTxn: {
        readonly producerId: number;
        readonly commit: boolean;
        readonly reply: Deferred.Deferred<void>;
    };
}>;
/** Constructors and matchers of {@link Command}. */
export declare const Command: {
    readonly Join: Data.Case.Constructor<{
        readonly _tag: "Join";
        readonly input: JoinInput;
        readonly reply: Deferred.Deferred<JoinResult, GroupError>;
    }, "_tag">;
    readonly Sync: Data.Case.Constructor<{
        readonly _tag: "Sync";
        readonly input: SyncInput;
        readonly reply: Deferred.Deferred<SyncResult, GroupError>;
    }, "_tag">;
    readonly Heartbeat: Data.Case.Constructor<{
        readonly _tag: "Heartbeat";
        readonly input: MemberRef;
        readonly reply: Deferred.Deferred<void, GroupError>;
    }, "_tag">;
    readonly Leave: Data.Case.Constructor<{
        readonly _tag: "Leave";
        readonly members: ReadonlyArray<LeaveMember>;
        readonly reply: Deferred.Deferred<ReadonlyArray<LeaveResult>, GroupError>;
    }, "_tag">;
    readonly Commit: Data.Case.Constructor<{
        readonly _tag: "Commit";
        readonly input: CommitInput;
        readonly reply: Deferred.Deferred<void, GroupError>;
    }, "_tag">;
    readonly FetchOffsets: Data.Case.Constructor<{
        readonly _tag: "FetchOffsets";
        readonly topics: ReadonlyArray<TopicPartitions> | null;
        readonly reply: Deferred.Deferred<ReadonlyArray<FetchedOffset>, GroupError>;
    }, "_tag">;
    readonly DeleteOffsets: Data.Case.Constructor<{
        readonly _tag: "DeleteOffsets";
        readonly topics: ReadonlyArray<TopicPartitions>;
        readonly reply: Deferred.Deferred<ReadonlyArray<DeletedOffset>, GroupError>;
    }, "_tag">;
    readonly Describe: Data.Case.Constructor<{
        readonly _tag: "Describe";
        readonly reply: Deferred.Deferred<GroupDescription, GroupError>;
    }, "_tag">;
    readonly Delete: Data.Case.Constructor<{
        readonly _tag: "Delete";
        readonly reply: Deferred.Deferred<void, GroupError>;
    }, "_tag">;
    readonly Timeout: Data.Case.Constructor<{
        readonly _tag: "Timeout";
        readonly key: string;
        readonly token: number;
    }, "_tag">;
    readonly CompleteTxn: Data.Case.Constructor<{
        readonly _tag: "CompleteTxn";
        readonly producerId: number;
        readonly commit: boolean;
        readonly reply: Deferred.Deferred<void>;
    }, "_tag">;
    readonly $is: <Tag extends "Join" | "Sync" | "Heartbeat" | "Leave" | "Commit" | "FetchOffsets" | "DeleteOffsets" | "Describe" | "Delete" | "Timeout" | "CompleteTxn">(tag: Tag) => (u: unknown) => u is Extract<{
        readonly _tag: "Join";
        readonly input: JoinInput;
        readonly reply: Deferred.Deferred<JoinResult, GroupError>;
    }, {
        readonly _tag: Tag;
    }> | Extract<{
        readonly _tag: "Sync";
        readonly input: SyncInput;
        readonly reply: Deferred.Deferred<SyncResult, GroupError>;
    }, {
        readonly _tag: Tag;
    }> | Extract<{
        readonly _tag: "Heartbeat";
        readonly input: MemberRef;
        readonly reply: Deferred.Deferred<void, GroupError>;
    }, {
        readonly _tag: Tag;
    }> | Extract<{
        readonly _tag: "Leave";
        readonly members: ReadonlyArray<LeaveMember>;
        readonly reply: Deferred.Deferred<ReadonlyArray<LeaveResult>, GroupError>;
    }, {
        readonly _tag: Tag;
    }> | Extract<{
        readonly _tag: "Commit";
        readonly input: CommitInput;
        readonly reply: Deferred.Deferred<void, GroupError>;
    }, {
        readonly _tag: Tag;
    }> | Extract<{
        readonly _tag: "FetchOffsets";
        readonly topics: ReadonlyArray<TopicPartitions> | null;
        readonly reply: Deferred.Deferred<ReadonlyArray<FetchedOffset>, GroupError>;
    }, {
        readonly _tag: Tag;
    }> | Extract<{
        readonly _tag: "DeleteOffsets";
        readonly topics: ReadonlyArray<TopicPartitions>;
        readonly reply: Deferred.Deferred<ReadonlyArray<DeletedOffset>, GroupError>;
    }, {
        readonly _tag: Tag;
    }> | Extract<{
        readonly _tag: "Describe";
        readonly reply: Deferred.Deferred<GroupDescription, GroupError>;
    }, {
        readonly _tag: Tag;
    }> | Extract<{
        readonly _tag: "Delete";
        readonly reply: Deferred.Deferred<void, GroupError>;
    }, {
        readonly _tag: Tag;
    }> | Extract<{
        readonly _tag: "Timeout";
        readonly key: string;
        readonly token: number;
    }, {
        readonly _tag: Tag;
    }> | Extract<{
        readonly _tag: "CompleteTxn";
        readonly producerId: number;
        readonly commit: boolean;
        readonly reply: Deferred.Deferred<void>;
    }, {
        readonly _tag: Tag;
    }>;
    readonly $match: {
        <const Cases extends {
            readonly Join: (args: {
                readonly _tag: "Join";
                readonly input: JoinInput;
                readonly reply: Deferred.Deferred<JoinResult, GroupError>;
            }) => any;
            readonly Sync: (args: {
                readonly _tag: "Sync";
                readonly input: SyncInput;
                readonly reply: Deferred.Deferred<SyncResult, GroupError>;
            }) => any;
            readonly Heartbeat: (args: {
                readonly _tag: "Heartbeat";
                readonly input: MemberRef;
                readonly reply: Deferred.Deferred<void, GroupError>;
            }) => any;
            readonly Leave: (args: {
                readonly _tag: "Leave";
                readonly members: ReadonlyArray<LeaveMember>;
                readonly reply: Deferred.Deferred<ReadonlyArray<LeaveResult>, GroupError>;
            }) => any;
            readonly Commit: (args: {
                readonly _tag: "Commit";
                readonly input: CommitInput;
                readonly reply: Deferred.Deferred<void, GroupError>;
            }) => any;
            readonly FetchOffsets: (args: {
                readonly _tag: "FetchOffsets";
                readonly topics: ReadonlyArray<TopicPartitions> | null;
                readonly reply: Deferred.Deferred<ReadonlyArray<FetchedOffset>, GroupError>;
            }) => any;
            readonly DeleteOffsets: (args: {
                readonly _tag: "DeleteOffsets";
                readonly topics: ReadonlyArray<TopicPartitions>;
                readonly reply: Deferred.Deferred<ReadonlyArray<DeletedOffset>, GroupError>;
            }) => any;
            readonly Describe: (args: {
                readonly _tag: "Describe";
                readonly reply: Deferred.Deferred<GroupDescription, GroupError>;
            }) => any;
            readonly Delete: (args: {
                readonly _tag: "Delete";
                readonly reply: Deferred.Deferred<void, GroupError>;
            }) => any;
            readonly Timeout: (args: {
                readonly _tag: "Timeout";
                readonly key: string;
                readonly token: number;
            }) => any;
            readonly CompleteTxn: (args: {
                readonly _tag: "CompleteTxn";
                readonly producerId: number;
                readonly commit: boolean;
                readonly reply: Deferred.Deferred<void>;
            }) => any;
        }>(cases: Cases & { [K in Exclude<keyof Cases, "Join" | "Sync" | "Heartbeat" | "Leave" | "Commit" | "FetchOffsets" | "DeleteOffsets" | "Describe" | "Delete" | "Timeout" | "CompleteTxn">]: never; }): (value: {
            readonly _tag: "Join";
            readonly input: JoinInput;
            readonly reply: Deferred.Deferred<JoinResult, GroupError>;
        } | {
            readonly _tag: "Sync";
            readonly input: SyncInput;
            readonly reply: Deferred.Deferred<SyncResult, GroupError>;
        } | {
            readonly _tag: "Heartbeat";
            readonly input: MemberRef;
            readonly reply: Deferred.Deferred<void, GroupError>;
        } | {
            readonly _tag: "Leave";
            readonly members: ReadonlyArray<LeaveMember>;
            readonly reply: Deferred.Deferred<ReadonlyArray<LeaveResult>, GroupError>;
        } | {
            readonly _tag: "Commit";
            readonly input: CommitInput;
            readonly reply: Deferred.Deferred<void, GroupError>;
        } | {
            readonly _tag: "FetchOffsets";
            readonly topics: ReadonlyArray<TopicPartitions> | null;
            readonly reply: Deferred.Deferred<ReadonlyArray<FetchedOffset>, GroupError>;
        } | {
            readonly _tag: "DeleteOffsets";
            readonly topics: ReadonlyArray<TopicPartitions>;
            readonly reply: Deferred.Deferred<ReadonlyArray<DeletedOffset>, GroupError>;
        } | {
            readonly _tag: "Describe";
            readonly reply: Deferred.Deferred<GroupDescription, GroupError>;
        } | {
            readonly _tag: "Delete";
            readonly reply: Deferred.Deferred<void, GroupError>;
        } | {
            readonly _tag: "Timeout";
            readonly key: string;
            readonly token: number;
        } | {
            readonly _tag: "CompleteTxn";
            readonly producerId: number;
            readonly commit: boolean;
            readonly reply: Deferred.Deferred<void>;
        }) => import("effect/Unify").Unify<ReturnType<Cases["Join" | "Sync" | "Heartbeat" | "Leave" | "Commit" | "FetchOffsets" | "DeleteOffsets" | "Describe" | "Delete" | "Timeout" | "CompleteTxn"]>>;
        <const Cases extends {
            readonly Join: (args: {
                readonly _tag: "Join";
                readonly input: JoinInput;
                readonly reply: Deferred.Deferred<JoinResult, GroupError>;
            }) => any;
            readonly Sync: (args: {
                readonly _tag: "Sync";
                readonly input: SyncInput;
                readonly reply: Deferred.Deferred<SyncResult, GroupError>;
            }) => any;
            readonly Heartbeat: (args: {
                readonly _tag: "Heartbeat";
                readonly input: MemberRef;
                readonly reply: Deferred.Deferred<void, GroupError>;
            }) => any;
            readonly Leave: (args: {
                readonly _tag: "Leave";
                readonly members: ReadonlyArray<LeaveMember>;
                readonly reply: Deferred.Deferred<ReadonlyArray<LeaveResult>, GroupError>;
            }) => any;
            readonly Commit: (args: {
                readonly _tag: "Commit";
                readonly input: CommitInput;
                readonly reply: Deferred.Deferred<void, GroupError>;
            }) => any;
            readonly FetchOffsets: (args: {
                readonly _tag: "FetchOffsets";
                readonly topics: ReadonlyArray<TopicPartitions> | null;
                readonly reply: Deferred.Deferred<ReadonlyArray<FetchedOffset>, GroupError>;
            }) => any;
            readonly DeleteOffsets: (args: {
                readonly _tag: "DeleteOffsets";
                readonly topics: ReadonlyArray<TopicPartitions>;
                readonly reply: Deferred.Deferred<ReadonlyArray<DeletedOffset>, GroupError>;
            }) => any;
            readonly Describe: (args: {
                readonly _tag: "Describe";
                readonly reply: Deferred.Deferred<GroupDescription, GroupError>;
            }) => any;
            readonly Delete: (args: {
                readonly _tag: "Delete";
                readonly reply: Deferred.Deferred<void, GroupError>;
            }) => any;
            readonly Timeout: (args: {
                readonly _tag: "Timeout";
                readonly key: string;
                readonly token: number;
            }) => any;
            readonly CompleteTxn: (args: {
                readonly _tag: "CompleteTxn";
                readonly producerId: number;
                readonly commit: boolean;
                readonly reply: Deferred.Deferred<void>;
            }) => any;
        }>(value: {
            readonly _tag: "Join";
            readonly input: JoinInput;
            readonly reply: Deferred.Deferred<JoinResult, GroupError>;
        } | {
            readonly _tag: "Sync";
            readonly input: SyncInput;
            readonly reply: Deferred.Deferred<SyncResult, GroupError>;
        } | {
            readonly _tag: "Heartbeat";
            readonly input: MemberRef;
            readonly reply: Deferred.Deferred<void, GroupError>;
        } | {
            readonly _tag: "Leave";
            readonly members: ReadonlyArray<LeaveMember>;
            readonly reply: Deferred.Deferred<ReadonlyArray<LeaveResult>, GroupError>;
        } | {
            readonly _tag: "Commit";
            readonly input: CommitInput;
            readonly reply: Deferred.Deferred<void, GroupError>;
        } | {
            readonly _tag: "FetchOffsets";
            readonly topics: ReadonlyArray<TopicPartitions> | null;
            readonly reply: Deferred.Deferred<ReadonlyArray<FetchedOffset>, GroupError>;
        } | {
            readonly _tag: "DeleteOffsets";
            readonly topics: ReadonlyArray<TopicPartitions>;
            readonly reply: Deferred.Deferred<ReadonlyArray<DeletedOffset>, GroupError>;
        } | {
            readonly _tag: "Describe";
            readonly reply: Deferred.Deferred<GroupDescription, GroupError>;
        } | {
            readonly _tag: "Delete";
            readonly reply: Deferred.Deferred<void, GroupError>;
        } | {
            readonly _tag: "Timeout";
            readonly key: string;
            readonly token: number;
        } | {
            readonly _tag: "CompleteTxn";
            readonly producerId: number;
            readonly commit: boolean;
            readonly reply: Deferred.Deferred<void>;
        }, cases: Cases & { [K in Exclude<keyof Cases, "Join" | "Sync" | "Heartbeat" | "Leave" | "Commit" | "FetchOffsets" | "DeleteOffsets" | "Describe" | "Delete" | "Timeout" | "CompleteTxn">]: never; }): import("effect/Unify").Unify<ReturnType<Cases["Join" | "Sync" | "Heartbeat" | "Leave" | "Commit" | "FetchOffsets" | "DeleteOffsets" | "Describe" | "Delete" | "Timeout" | "CompleteTxn"]>>;
    };
};
/** Group settings (Kafka's broker keys). */
export interface GroupSettings {
    /** `group.initial.rebalance.delay.ms` */
    readonly initialRebalanceDelayMs: number;
    /** `group.max.size` */
    readonly maxSize: number;
    /** `offsets.retention.minutes`, in ms */
    readonly offsetsRetentionMs: number;
    /** `offsets.retention.check.interval.ms` */
    readonly offsetsRetentionCheckIntervalMs: number;
}
/** The persistence an actor needs (a {@link GroupMetadataManager} for one group). */
export interface GroupStore {
    readonly write: (records: ReadonlyArray<GroupRecord>, txn?: TxnProducer) => Effect.Effect<void, CoordinatorNotAvailable | TxnOffsetCommitFenced>;
    readonly load: Effect.Effect<StoredGroup | undefined, CoordinatorNotAvailable>;
}
/** Options of {@link make}. */
export interface ActorOptions {
    readonly groupId: string;
    readonly settings: GroupSettings;
    readonly store: GroupStore;
    /** The state replayed from the log, when the group already exists. */
    readonly initial: StoredGroup | undefined;
    /** Called after every command with the group's summary. */
    readonly publish: (summary: GroupSummary) => void;
    /** Called once when the group becomes Dead (deleted, or expired with nothing left). */
    readonly onDead: () => void;
    readonly mailboxCapacity?: number;
    /** Runs before each command (tests inject failures here). */
    readonly beforeCommand?: (command: Command) => Effect.Effect<void>;
}
/** A running group actor. */
export interface GroupActor {
    /** Posts a command; false when the actor is gone (Dead), a failure when its mailbox is full. */
    readonly send: (command: Command) => Effect.Effect<boolean, CoordinatorNotAvailable>;
    /** The actor's loop, to fork under a supervisor; it ends when the group is Dead. */
    readonly run: Effect.Effect<void>;
}
/** The topics a member subscribes to, when its metadata is a consumer subscription. */
export declare const subscribedTopics: (metadata: Uint8Array) => ReadonlyArray<string>;
/** Builds a group actor. Returns its handle; the caller forks `run` under its supervisor. */
export declare const make: (options: ActorOptions) => Effect.Effect<GroupActor>;
