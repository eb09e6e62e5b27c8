import type { GroupCoordinator } from "./GroupCoordinator.js";
import type { AnyHandler, ApiVersionRange } from "./Handler.js";
import type { PartitionManager } from "./PartitionManager.js";
import type { ReplicaManager } from "./ReplicaManager.js";
import type { TopicRegistry } from "./TopicRegistry.js";
import type { TransactionCoordinator } from "./TransactionCoordinator.js";
/** The services the built-in handlers need. */
export type Requirements = TopicRegistry | PartitionManager | ReplicaManager | GroupCoordinator | TransactionCoordinator;
/** The built-in handlers. */
export declare const handlers: ReadonlyArray<AnyHandler<Requirements>>;
/** A set of handlers indexed by api key, with the version table ApiVersions advertises. */
export interface Registry<R> {
    readonly get: (apiKey: number) => AnyHandler<R> | undefined;
    /** Served ranges, sorted by api key. */
    readonly apis: ReadonlyArray<ApiVersionRange>;
}
/**
 * Indexes handlers by api key. Fails (throws) on two handlers for one key or a range outside what the
 * generated codec supports: both are programming errors caught at start-up.
 */
export declare const make: <R>(list: ReadonlyArray<AnyHandler<R>>) => Registry<R>;
