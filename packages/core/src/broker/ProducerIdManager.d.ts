import { Effect } from "effect";
import type { KafkaStorageError } from "./BrokerError.js";
/** Ids reserved per durable write. */
export declare const BLOCK_SIZE = 1000;
/** The file holding the first id not yet reserved. */
export declare const FILE_NAME = "producer-id-block";
/** The producer id allocator. */
export interface ProducerIdManager {
    /** The next unused producer id. */
    readonly next: Effect.Effect<number, KafkaStorageError>;
}
/** An allocator persisting its blocks in `dataDir`; `undefined` keeps them in memory (tests). */
export declare const make: (dataDir: string | undefined) => Effect.Effect<ProducerIdManager, KafkaStorageError>;
