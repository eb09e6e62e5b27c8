/**
 * @eddy/streams: a Kafka-Streams-like DSL over Eddy's public client. The DSL lands with the streams
 * issue of the roadmap (docs/architecture.md); this package holds its place in the workspace.
 */
export {}
