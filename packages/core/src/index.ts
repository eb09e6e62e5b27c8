/**
 * @eddy/core: the Kafka wire protocol, the log storage engine, the broker and the Effect-native client.
 * Import modules by path (`@eddy/core/protocol/RecordBatch`); this index re-exports the stable ones.
 */
export * as Crc32c from "./protocol/Crc32c.js"
export * as ProtocolError from "./protocol/ProtocolError.js"
export * as Reader from "./protocol/Reader.js"
export * as RecordBatch from "./protocol/RecordBatch.js"
export * as Writer from "./protocol/Writer.js"
