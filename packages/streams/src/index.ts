/**
 * @eddy/streams: a Kafka-Streams-like DSL and runtime over Eddy's public client. Build a topology with
 */

export {
  CogroupedKStream,
  SessionWindowedCogroupedKStream,
  TimeWindowedCogroupedKStream
} from "./dsl/CogroupedKStream.js"
export { KGroupedStream } from "./dsl/KGroupedStream.js"
export { KGroupedTable } from "./dsl/KGroupedTable.js"
export { BranchedKStream, KStream } from "./dsl/KStream.js"
export { KTable } from "./dsl/KTable.js"
export * as Options from "./dsl/Options.js"
export * as StreamsBuilder from "./dsl/StreamsBuilder.js"
export { BufferConfig, Suppressed } from "./dsl/Suppressed.js"
export { SessionWindowedKStream, TimeWindowedKStream } from "./dsl/TimeWindowedKStream.js"
export * as WindowedSerdes from "./dsl/WindowedSerdes.js"
export {
  EmitStrategy,
  SessionWindows,
  SlidingWindows,
  TimeWindows,
  type Window,
  type Windowed
} from "./dsl/Windows.js"
export * as KafkaStreams from "./KafkaStreams.js"
export * as TimestampExtractor from "./processor/TimestampExtractor.js"
export * as Serdes from "./Serdes.js"
export * as StreamsError from "./StreamsError.js"
export * as Stores from "./state/Stores.js"
export * as TopologyTestDriver from "./TopologyTestDriver.js"
export * as Topology from "./topology/Topology.js"
export { TopologyError } from "./topology/TopologyError.js"
