import { Effect } from "effect";
import { KafkaStorageError } from "../BrokerError.js";
/** A storage error about `path` without a system cause. */
export declare const storageFailure: (message: string, path: string) => KafkaStorageError;
/** Replaces `file` with `data` atomically and durably. */
export declare const writeAtomic: (file: string, data: string) => Effect.Effect<void, KafkaStorageError>;
/** The text of `file`, or undefined when it does not exist. */
export declare const readIfExists: (file: string) => Effect.Effect<string | undefined, KafkaStorageError>;
/** Creates `dir` (and its parents) when missing. */
export declare const ensureDir: (dir: string) => Effect.Effect<void, KafkaStorageError>;
