import { Context, Effect, Layer, type Scope } from "effect";
import * as LogStorage from "../log/LogStorage.js";
import { KafkaStorageError } from "./BrokerError.js";
import { FetchSessionCache } from "./FetchSession.js";
import * as Purgatory from "./internal/purgatory.js";
import * as PartitionManager from "./PartitionManager.js";
import * as PartitionReplica from "./PartitionReplica.js";
declare const ReplicaManager_base: Context.TagClass<ReplicaManager, "@eddy/core/broker/ReplicaManager", ReplicaManager.Service>;
/** Looks up the replicas this broker hosts. */
export declare class ReplicaManager extends ReplicaManager_base {
}
/** Types of the replica manager. */
export declare namespace ReplicaManager {
    /** The service. */
    interface Service {
        /** The replica of a partition, if hosted (a synchronous lookup: the hot path calls it per partition). */
        readonly get: (topic: string, partition: number) => PartitionReplica.PartitionReplica | undefined;
        /** The replicas of a topic, by partition index. */
        readonly replicas: (topic: string) => ReadonlyArray<PartitionReplica.PartitionReplica>;
        /** The broker's fetch session cache (KIP-227). */
        readonly fetchSessions: FetchSessionCache;
        /** Deadlines of requests waiting on replicas (produce with acks=all, fetch long polls). */
        readonly purgatory: Purgatory.Purgatory;
    }
}
/** Options of {@link make}. */
export interface ReplicaManagerOptions {
    /** Mailbox capacity of each replica. */
    readonly mailboxCapacity?: number;
    /** Fetch session cache slots (`max.incremental.fetch.session.cache.slots`, default 1000). */
    readonly fetchSessionSlots?: number;
    /** `producer.id.expiration.ms` (default 86400000). */
    readonly producerIdExpirationMs?: number;
}
/** Builds the replica manager and the partition manager over the current {@link LogStorage}. */
export declare const make: (options?: ReplicaManagerOptions) => Effect.Effect<{
    readonly replicas: ReplicaManager.Service;
    readonly partitions: PartitionManager.PartitionManager["Type"];
}, never, Scope.Scope | LogStorage.LogStorage>;
/** Replicas over the partition logs of the current {@link LogStorage} (the broker provides its data directory's). */
export declare const layer: (options?: ReplicaManagerOptions) => Layer.Layer<ReplicaManager | PartitionManager.PartitionManager, never, LogStorage.LogStorage>;
/** Replicas over in-memory logs (tests): nothing survives the layer. */
export declare const layerMemory: (options?: ReplicaManagerOptions) => Layer.Layer<ReplicaManager | PartitionManager.PartitionManager, KafkaStorageError>;
export {};
