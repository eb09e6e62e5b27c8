/**
 * @eddy/core: the Kafka wire protocol, the log storage engine, the broker and the Effect-native client.
 * Import modules by path (`@eddy/core/protocol/RecordBatch`); this index re-exports the stable ones.
 */

export * as Admin from "./client/Admin.js"
export * as ClientConfig from "./client/ClientConfig.js"
export * as ClientError from "./client/ClientError.js"
export * as Cluster from "./client/Cluster.js"
export * as Connection from "./client/Connection.js"
export * as Consumer from "./client/Consumer.js"
export * as Fetcher from "./client/Fetcher.js"
export * as Partitioner from "./client/Partitioner.js"
export * as Producer from "./client/Producer.js"
export * as Topic from "./client/Topic.js"
export * as Crc32c from "./protocol/Crc32c.js"
export * as ProtocolError from "./protocol/ProtocolError.js"
export * as Reader from "./protocol/Reader.js"
export * as RecordBatch from "./protocol/RecordBatch.js"
export * as Writer from "./protocol/Writer.js"
