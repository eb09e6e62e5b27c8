import * as LogConfig from "../../log/LogConfig.js";
import * as Handler from "../Handler.js";
import { CorruptMessage, InvalidRecord, InvalidTimestamp, MessageTooLarge, RecordListTooLarge, UnsupportedCompressionType } from "../PartitionError.js";
import { ReplicaManager } from "../ReplicaManager.js";
import { TopicRegistry } from "../TopicRegistry.js";
/** The topic settings produce validation needs that the log configuration does not carry. */
interface TimestampBounds {
    /** `message.timestamp.before.max.ms` */
    readonly before: number;
    /** `message.timestamp.after.max.ms` */
    readonly after: number;
}
type PartitionError = CorruptMessage | InvalidRecord | InvalidTimestamp | MessageTooLarge | RecordListTooLarge | UnsupportedCompressionType;
/**
 * Checks a partition's records and returns the batches to append (views into the request, or one
 * converted batch for a legacy message set). Header, CRC and record structure are checked by
 * `RecordBatch.validate`, which decompresses a compressed batch once and never re-compresses it.
 */
export declare const checkRecords: (records: Uint8Array | null, version: number, config: LogConfig.LogConfig, bounds: TimestampBounds, now: number) => PartitionError | Array<Uint8Array>;
export declare const handler: Handler.Handler<0, ReplicaManager | TopicRegistry>;
export {};
