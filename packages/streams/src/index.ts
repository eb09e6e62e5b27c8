/**
 * @eddy/streams: a Kafka-Streams-like DSL and runtime over Eddy's public client. Build a topology with
 * `StreamsBuilder` (the DSL) or `TopologyBuilder` (the Processor API), run it with `KafkaStreams`, test it with
 * `TopologyTestDriver` and one processor with `MockProcessorContext`.
 */

export {
  CogroupedKStream,
  SessionWindowedCogroupedKStream,
  TimeWindowedCogroupedKStream
} from "./dsl/CogroupedKStream.js"
export * as Joined from "./dsl/Joined.js"
export * as JoinWindows from "./dsl/JoinWindows.js"
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
export * as MockProcessorContext from "./processor/api/MockProcessorContext.js"
export * as Processor from "./processor/api/Processor.js"
export * as StreamRecord from "./processor/Record.js"
export * as TimestampExtractor from "./processor/TimestampExtractor.js"
export * as StreamsMetadata from "./query/StreamsMetadata.js"
export * as Serdes from "./Serdes.js"
export * as StreamsError from "./StreamsError.js"
export * as StoreBuilder from "./state/StoreBuilder.js"
export * as Stores from "./state/Stores.js"
export * as TopologyTestDriver from "./TopologyTestDriver.js"
export * as Topology from "./topology/Topology.js"
export * as TopologyBuilder from "./topology/TopologyBuilder.js"
export { TopologyError } from "./topology/TopologyError.js"
