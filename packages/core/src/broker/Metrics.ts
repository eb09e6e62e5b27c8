/**
 * The broker's metrics, as Effect `Metric`s in the process-wide registry, exported in Prometheus's text
 * format by `internal/prometheus.ts` (see docs/operations.md for the full list).
 *
 * Naming: a metric that Kafka has is named after its JMX MBean the way the Prometheus JMX exporter
 * renders it, `kafka_<domain>_<type>_<name>` lowercased with `-` turned into `_` (`kafka.server:type=
 * BrokerTopicMetrics,name=BytesInPerSec` -> `kafka_server_brokertopicmetrics_bytesin_total`): a meter
 * (`...PerSec`, `...-total`) is a counter ending in `_total`, a `...TimeMs` timer a histogram in
 * milliseconds, MBean keys (`topic`, `partition`, `request`) labels. Consumer-group figures that Kafka
 * leaves to external exporters take kafka_exporter's names (`kafka_consumergroup_lag`); the rest is
 * `eddy_<area>_<name>`.
 *
 * Invariants:
 * - The hot path (produce, fetch, every request) records through a {@link Recorder}: synchronous
 *   `unsafeUpdate`s with label arrays cached per topic and per api key, nothing per record. A broker
 *   without a metrics port has no recorder, so it records nothing.
 * - Figures derived from state (partitions, log sizes, groups, lag, producers, transactions) are gauges
 *   set at scrape time from the services' published state, never kept up to date on the hot path.
 * - The registry is per process: brokers in one process add to the same counters.
 */
import { Effect, Metric, MetricBoundaries, MetricLabel } from "effect"
import { apiSpec } from "../protocol/generated/ApiKey.js"
import * as RecordBatch from "../protocol/RecordBatch.js"

/** Latency buckets in milliseconds: 0.01 ms to about 10 s, doubling. */
export const latencyBoundaries = MetricBoundaries.exponential({ start: 0.01, factor: 2, count: 21 })

const counter = (name: string, description: string) => Metric.counter(name, { description, incremental: true })
const timer = (name: string, description: string) => Metric.histogram(name, latencyBoundaries, description)

/** Bytes of record batches appended by Produce requests, per topic (Kafka: BytesInPerSec). */
export const bytesIn = counter(
  "kafka_server_brokertopicmetrics_bytesin_total",
  "Bytes of record batches appended to the topic by Produce requests"
)
/** Records appended by Produce requests, per topic (Kafka: MessagesInPerSec). */
export const messagesIn = counter(
  "kafka_server_brokertopicmetrics_messagesin_total",
  "Records appended to the topic by Produce requests"
)
/** Bytes of record batches sent in Fetch responses, per topic (Kafka: BytesOutPerSec). */
export const bytesOut = counter(
  "kafka_server_brokertopicmetrics_bytesout_total",
  "Bytes of record batches sent from the topic in Fetch responses"
)
/** Records in the batches sent in Fetch responses, per topic (no Kafka equivalent). */
export const messagesOut = counter(
  "kafka_server_brokertopicmetrics_messagesout_total",
  "Records in the record batches sent from the topic in Fetch responses"
)
/** Requests answered (or completed without a response), per api (Kafka: RequestsPerSec). */
export const requests = counter("kafka_network_requestmetrics_requests_total", "Requests handled, by api")
/** Time a request waited between arriving and its handler starting (Kafka: RequestQueueTimeMs). */
export const requestQueueTime = timer(
  "kafka_network_requestmetrics_requestqueuetimems",
  "Milliseconds between a request's arrival and the start of its handler"
)
/** Time a request's handler ran, waits for acks and long polls included (Kafka: LocalTimeMs + RemoteTimeMs). */
export const localTime = timer(
  "kafka_network_requestmetrics_localtimems",
  "Milliseconds the request's handler took, including acks=all and long-poll waits"
)
/** Time from a response being ready to its bytes going to the socket, in request order (Kafka: ResponseQueueTimeMs + ResponseSendTimeMs). */
export const responseQueueTime = timer(
  "kafka_network_requestmetrics_responsequeuetimems",
  "Milliseconds between a response being ready and its write to the socket (waiting for earlier responses)"
)
/** A request's whole time in the broker (Kafka: TotalTimeMs). */
export const totalTime = timer(
  "kafka_network_requestmetrics_totaltimems",
  "Milliseconds between a request's arrival and its response going to the socket"
)
/** Client connections accepted (Kafka: socket-server-metrics connection-creation-total). */
export const connectionCreation = counter(
  "kafka_server_socket_server_metrics_connection_creation_total",
  "Client connections accepted"
)

/** A gauge set at scrape time, with its name (which `Metric` does not expose). */
export interface ScrapeGauge {
  readonly name: string
  readonly metric: Metric.Metric.Gauge<number>
}

const gauge = (name: string, description: string): ScrapeGauge => ({
  name,
  metric: Metric.gauge(name, { description })
})

/** Client connections open now (Kafka: socket-server-metrics connection-count). */
export const connectionCount = gauge(
  "kafka_server_socket_server_metrics_connection_count",
  "Client connections currently open"
)
/** Partitions hosted (Kafka: ReplicaManager PartitionCount). */
export const partitionCount = gauge("kafka_server_replicamanager_partitioncount", "Partitions hosted by this broker")
/** Bytes of a partition's log on disk (Kafka: kafka.log:type=Log,name=Size). */
export const logSize = gauge("kafka_log_log_size", "Bytes of the partition's log segments")
/** A partition's log end offset (Kafka: kafka.log:type=Log,name=LogEndOffset). */
export const logEndOffset = gauge("kafka_log_log_logendoffset", "The partition's log end offset")
/** A partition's log start offset (Kafka: kafka.log:type=Log,name=LogStartOffset). */
export const logStartOffset = gauge("kafka_log_log_logstartoffset", "The partition's log start offset")
/** Producer ids with state on this broker's partitions (Kafka: ReplicaManager ProducerIdCount). */
export const producerIdCount = gauge(
  "kafka_server_replicamanager_produceridcount",
  "Producer ids with state (sequence numbers, open transactions) in the hosted partitions"
)
/** Consumer groups by state (Kafka: GroupMetadataManager NumGroups, NumGroups<State>). */
export const numGroups = gauge(
  "kafka_coordinator_group_groupmetadatamanager_numgroups",
  "Consumer groups this coordinator knows, by state"
)
/** Members of a consumer group (kafka_exporter's kafka_consumergroup_members). */
export const groupMembers = gauge("kafka_consumergroup_members", "Members of the consumer group")
/** A group's committed offset of a partition (kafka_exporter's kafka_consumergroup_current_offset). */
export const groupOffset = gauge(
  "kafka_consumergroup_current_offset",
  "The consumer group's committed offset of the partition"
)
/** High watermark minus the committed offset (kafka_exporter's kafka_consumergroup_lag). */
export const groupLag = gauge(
  "kafka_consumergroup_lag",
  "Records between the group's committed offset and the partition's high watermark"
)
/** Transactional ids by transaction state (no Kafka equivalent). */
export const transactions = gauge(
  "eddy_transaction_coordinator_transactions",
  "Transactional ids this coordinator knows, by the state of their transaction"
)

/** Names of the gauges set at scrape time (their label sets are those of the latest scrape only). */
export const scrapeGauges: ReadonlySet<string> = new Set(
  [
    connectionCount,
    partitionCount,
    logSize,
    logEndOffset,
    logStartOffset,
    producerIdCount,
    numGroups,
    groupMembers,
    groupOffset,
    groupLag,
    transactions
  ].map((g) => g.name)
)

const int32At = (b: Uint8Array, p: number): number => (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!

/**
 * Records in the record batches of `bytes`: reads the batch headers only, allocating nothing (a fetch
 * response's whole buffer goes through it); a truncated tail is skipped.
 */
export const countRecords = (bytes: Uint8Array): number => {
  let n = 0
  let pos = 0
  while (pos + RecordBatch.HEADER_SIZE <= bytes.length) {
    const size = RecordBatch.LOG_OVERHEAD + int32At(bytes, pos + RecordBatch.Field.batchLength)
    if (size < RecordBatch.HEADER_SIZE || pos + size > bytes.length) break
    n += Math.max(0, int32At(bytes, pos + RecordBatch.Field.recordCount))
    pos += size
  }
  return n
}

/** Hot-path recording: synchronous, allocation-free apart from a label array per new topic or api. */
export interface Recorder {
  /** The current time in milliseconds (fractional), from the broker's `Clock`. */
  readonly now: () => number
  /** Batches of `topic` were appended for a Produce request. */
  readonly produced: (topic: string, batches: ReadonlyArray<Uint8Array>) => void
  /** A Fetch response carries `records` (whole batches) of `topic`. */
  readonly fetched: (topic: string, records: Uint8Array) => void
  /**
   * A request of `apiKey` is done: it arrived at `receivedAt`, its handler started at `startedAt` and
   * ended at `handledAt`, and its response went to the socket at `sentAt` (all from {@link Recorder.now}).
   */
  readonly request: (apiKey: number, receivedAt: number, startedAt: number, handledAt: number, sentAt: number) => void
  /** A client connection was accepted. */
  readonly connectionCreated: () => void
}

const NO_TAGS: ReadonlyArray<MetricLabel.MetricLabel> = []

/** A {@link Recorder} timing with the current `Clock`. */
export const makeRecorder: Effect.Effect<Recorder> = Effect.map(Effect.clock, (clock) => {
  // label arrays are cached: the metric looks its state up by the array's identity
  const topicTags = new Map<string, ReadonlyArray<MetricLabel.MetricLabel>>()
  const tagsOf = (topic: string) => {
    let tags = topicTags.get(topic)
    if (tags === undefined) {
      tags = [MetricLabel.make("topic", topic)]
      topicTags.set(topic, tags)
    }
    return tags
  }
  const requestTags: Array<ReadonlyArray<MetricLabel.MetricLabel> | undefined> = []
  const requestTagsOf = (apiKey: number) => {
    let tags = requestTags[apiKey]
    if (tags === undefined) {
      tags = [MetricLabel.make("request", apiSpec(apiKey)?.name ?? String(apiKey))]
      requestTags[apiKey] = tags
    }
    return tags
  }
  return {
    now: () => Number(clock.unsafeCurrentTimeNanos()) / 1e6,
    produced: (topic, batches) => {
      let bytes = 0
      let records = 0
      for (const b of batches) {
        bytes += b.length
        records += countRecords(b)
      }
      const tags = tagsOf(topic)
      bytesIn.unsafeUpdate(bytes, tags)
      messagesIn.unsafeUpdate(records, tags)
    },
    fetched: (topic, records) => {
      const tags = tagsOf(topic)
      bytesOut.unsafeUpdate(records.length, tags)
      messagesOut.unsafeUpdate(countRecords(records), tags)
    },
    request: (apiKey, receivedAt, startedAt, handledAt, sentAt) => {
      const tags = requestTagsOf(apiKey)
      requests.unsafeUpdate(1, tags)
      requestQueueTime.unsafeUpdate(startedAt - receivedAt, tags)
      localTime.unsafeUpdate(handledAt - startedAt, tags)
      responseQueueTime.unsafeUpdate(sentAt - handledAt, tags)
      totalTime.unsafeUpdate(sentAt - receivedAt, tags)
    },
    connectionCreated: () => connectionCreation.unsafeUpdate(1, NO_TAGS)
  }
})
