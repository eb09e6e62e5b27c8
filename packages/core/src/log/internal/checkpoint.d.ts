import { Effect, Option } from "effect";
import type { KafkaStorageError } from "../LogError.js";
import type { Disk } from "./disk.js";
/** Marker written by a clean shutdown; its presence lets the next open skip the recovery scan. */
export declare const CLEAN_SHUTDOWN = ".kafka_cleanshutdown";
/** The log start offset (moved by DeleteRecords). */
export declare const LOG_START_OFFSET = "log-start-offset-checkpoint";
/** Offsets below it are in segments flushed with their indexes: recovery scans from the segment holding it. */
export declare const RECOVERY_POINT = "recovery-point-offset-checkpoint";
/** Compaction: offsets below it have been cleaned. */
export declare const CLEANER_OFFSET = "cleaner-offset-checkpoint";
/** Reads an offset checkpoint; none when missing or malformed. */
export declare const read: (disk: Disk, dir: string, name: string) => Effect.Effect<Option.Option<number>, KafkaStorageError>;
/** Writes an offset checkpoint atomically. */
export declare const write: (disk: Disk, dir: string, name: string, offset: number) => Effect.Effect<void, KafkaStorageError>;
