import { Effect } from "effect";
import type { LogImpl } from "./internal/log.js";
import type { CleanerStats } from "./Log.js";
import { KafkaStorageError } from "./LogError.js";
/** A storage error about a log folder. */
export declare const storageError: (message: string, path: string) => KafkaStorageError;
/** Runs one compaction pass over `log` when its policy includes `compact` and enough of it is dirty. */
export declare const clean: (log: LogImpl) => Effect.Effect<CleanerStats, KafkaStorageError>;
