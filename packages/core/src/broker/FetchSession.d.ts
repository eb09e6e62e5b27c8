/**
 * Fetch sessions (KIP-227): the broker remembers the partitions a consumer fetches, so incremental
 * fetch requests list only what changed and responses leave out partitions with nothing new.
 *
 * The cache is a plain synchronous structure owned by the ReplicaManager; every method runs inside
 * one synchronous step of a Fetch handler, so no two fibers interleave inside it. It holds at most
 * `max.incremental.fetch.session.cache.slots` sessions and evicts the least recently used one.
 */
/** Kafka's `FetchMetadata.INITIAL_EPOCH`: asks for a new session. */
export declare const INITIAL_EPOCH = 0;
/** Kafka's `FetchMetadata.FINAL_EPOCH`: a full fetch that closes (or uses no) session. */
export declare const FINAL_EPOCH = -1;
/** Kafka's `max.incremental.fetch.session.cache.slots` default. */
export declare const DEFAULT_MAX_SLOTS = 1000;
/** One partition of a session, with what the client last asked and what it was last told. */
export interface SessionPartition {
    readonly topic: string;
    readonly topicId: Uint8Array;
    readonly partition: number;
    fetchOffset: number;
    partitionMaxBytes: number;
    currentLeaderEpoch: number;
    /** Values in the last response that carried this partition (-1 before the first). */
    highWatermark: number;
    lastStableOffset: number;
    logStartOffset: number;
}
/** A fetch session. */
export interface FetchSession {
    readonly id: number;
    /** The epoch the next incremental request must carry. */
    epoch: number;
    /** Partitions by {@link key}, in the order they were added. */
    readonly partitions: Map<string, SessionPartition>;
}
/** The session key of a partition. */
export declare const key: (topic: string, partition: number) => string;
/** The epoch after `epoch` (wraps to 1, as Kafka's `nextEpoch`). */
export declare const nextEpoch: (epoch: number) => number;
/** The broker's fetch session cache. */
export declare class FetchSessionCache {
    readonly maxSlots: number;
    private readonly sessions;
    constructor(maxSlots?: number);
    /** Sessions currently cached. */
    get size(): number;
    /** Creates a session (epoch 1 next), evicting the least recently used one when full; undefined when the cache has no slots. */
    create(partitions: ReadonlyArray<SessionPartition>): FetchSession | undefined;
    /** The session `id`, marked most recently used. */
    get(id: number): FetchSession | undefined;
    /** Forgets session `id`. */
    remove(id: number): void;
    /** Forgets every session's partitions of `topic` (the topic was deleted). */
    forgetTopic(topic: string): void;
}
