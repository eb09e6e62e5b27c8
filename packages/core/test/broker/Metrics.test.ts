import { assert, describe, it } from "@effect/vitest"
import { Context, Deferred, Effect, Exit, Scope } from "effect"
import parsePrometheusTextFormat from "parse-prometheus-text-format"
import * as Metrics from "../../src/broker/Metrics.js"
import { ReplicaManager } from "../../src/broker/ReplicaManager.js"
import * as Admin from "../../src/client/Admin.js"
import * as Consumer from "../../src/client/Consumer.js"
import * as Producer from "../../src/client/Producer.js"
import * as ApiVersions from "../../src/protocol/generated/ApiVersions.js"
import * as RecordBatch from "../../src/protocol/RecordBatch.js"
import { startEddy } from "../client/util.js"
import { connect } from "./util.js"

/** One sample: its labels and value. */
interface Sample {
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

/**
 * Scrapes `url` and parses the text with a Prometheus text-format parser: metric name -> samples. The
 * parser merges a labelled histogram's buckets across label sets (and wants buckets before `_count`),
 * so histogram families are read as their plain `_count`, `_sum` and `_bucket` series, typed "HISTOGRAM"
 * under the family's name.
 */
const scrape = (url: string) =>
  Effect.promise(async () => {
    const response = await fetch(url)
    assert.strictEqual(response.status, 200)
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/)
    const histograms: Array<string> = []
    const text = (await response.text()).replace(/^# TYPE (\S+) histogram$/gm, (_, name: string) => {
      histograms.push(name)
      return ""
    })
    const out = new Map<string, { readonly type: string; readonly samples: Array<Sample> }>()
    // a histogram's series come back as one family per run of lines: merged by name
    for (const f of parsePrometheusTextFormat(text)) {
      const samples = f.metrics.map((m) => ({ labels: m.labels ?? {}, value: Number(m.value) }))
      const seen = out.get(f.name)
      if (seen === undefined) out.set(f.name, { type: f.type, samples })
      else seen.samples.push(...samples)
    }
    for (const name of histograms) out.set(name, { type: "HISTOGRAM", samples: [] })
    return out
  })

type Scrape = Effect.Effect.Success<ReturnType<typeof scrape>>

/** The value of the sample of `name` whose labels include `labels` (undefined when there is none). */
const sample = (s: Scrape, name: string, labels: Record<string, string> = {}): number | undefined =>
  s.get(name)?.samples.find((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v))?.value

/** The `_count` of the histogram `name` for `labels`. */
const countOf = (s: Scrape, name: string, labels: Record<string, string>): number | undefined =>
  sample(s, `${name}_count`, labels)

const broker = {
  extra: {
    "metrics.port": "0",
    "group.initial.rebalance.delay.ms": "0",
    "group.min.session.timeout.ms": "500",
    "log.flush.interval.messages": "1",
    "offsets.topic.num.partitions": "3",
    "transaction.state.log.num.partitions": "2"
  }
}

const consumerConfig = (bootstrap: string): Consumer.ConsumerConfig => ({
  "bootstrap.servers": bootstrap,
  "group.id": "metrics-group",
  "session.timeout.ms": 3000,
  "heartbeat.interval.ms": 100,
  "fetch.max.wait.ms": 50,
  "auto.offset.reset": "earliest",
  "enable.auto.commit": false,
  "retry.backoff.ms": 50
})

describe("broker metrics", () => {
  it.scopedLive("counts a known workload exactly, as Prometheus text", () =>
    Effect.gen(function* () {
      const { bootstrap, broker: info, context } = yield* startEddy(broker)
      assert.isDefined(info.metricsAddress)
      const base = `http://127.0.0.1:${info.metricsAddress!.port}`
      const url = `${base}/metrics`

      const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
      yield* admin.createTopics([
        { name: "metrics-a", numPartitions: 2 },
        { name: "metrics-b", numPartitions: 1 }
      ])
      // 100 records of 100 bytes: 60 to metrics-a (30 per partition), 40 to metrics-b
      const value = Buffer.alloc(100, 7)
      const clients = yield* Scope.make()
      const producer = yield* Producer.make({ "bootstrap.servers": bootstrap, "linger.ms": 5 }).pipe(
        Scope.extend(clients)
      )
      yield* producer.sendBatch(
        "metrics-a",
        Array.from({ length: 60 }, (_, i) => ({ value, partition: i % 2 }))
      )
      yield* producer.sendBatch(
        "metrics-b",
        Array.from({ length: 40 }, () => ({ value, partition: 0 }))
      )
      // one transaction, committed
      const txnProducer = yield* Producer.make({
        "bootstrap.servers": bootstrap,
        "transactional.id": "metrics-txn"
      }).pipe(Scope.extend(clients))
      yield* admin.createTopics([{ name: "metrics-txn", numPartitions: 1 }])
      yield* txnProducer.transaction(txnProducer.send("metrics-txn", { value }))

      // a member reads everything and commits, and stays in its group; another group, without members,
      // has offsets set that lag by 10 on metrics-a-0 and 30 on metrics-b-0
      const consumer = yield* Consumer.make(consumerConfig(bootstrap)).pipe(Scope.extend(clients))
      const seen = yield* Deferred.make<void>()
      let read = 0
      yield* consumer
        .forEach(["metrics-a", "metrics-b"], () =>
          Effect.sync(() => {
            if (++read === 100) Deferred.unsafeDone(seen, Exit.void)
          })
        )
        .pipe(Effect.forkIn(clients))
      yield* Deferred.await(seen)
      yield* consumer.commit
      yield* admin.alterGroupOffsets("metrics-lagging", [
        { topic: "metrics-a", partition: 0, offset: 20 },
        { topic: "metrics-b", partition: 0, offset: 10 }
      ])
      const replicas = Context.get(context, ReplicaManager)
      const logSize = (topic: string, partition: number) => replicas.get(topic, partition)!.log.size
      const sizeA = logSize("metrics-a", 0) + logSize("metrics-a", 1)
      const sizeB = logSize("metrics-b", 0)
      assert.isAbove(sizeA, 60 * 100)

      const s = yield* scrape(url)
      // traffic per topic: every batch appended once and fetched once
      assert.strictEqual(s.get("kafka_server_brokertopicmetrics_bytesin_total")?.type, "COUNTER")
      assert.strictEqual(sample(s, "kafka_server_brokertopicmetrics_messagesin_total", { topic: "metrics-a" }), 60)
      assert.strictEqual(sample(s, "kafka_server_brokertopicmetrics_messagesin_total", { topic: "metrics-b" }), 40)
      assert.strictEqual(sample(s, "kafka_server_brokertopicmetrics_bytesin_total", { topic: "metrics-a" }), sizeA)
      assert.strictEqual(sample(s, "kafka_server_brokertopicmetrics_bytesin_total", { topic: "metrics-b" }), sizeB)
      assert.strictEqual(sample(s, "kafka_server_brokertopicmetrics_messagesout_total", { topic: "metrics-a" }), 60)
      assert.strictEqual(sample(s, "kafka_server_brokertopicmetrics_messagesout_total", { topic: "metrics-b" }), 40)
      assert.strictEqual(sample(s, "kafka_server_brokertopicmetrics_bytesout_total", { topic: "metrics-a" }), sizeA)
      assert.strictEqual(sample(s, "kafka_server_brokertopicmetrics_bytesout_total", { topic: "metrics-b" }), sizeB)
      // internal topics are written by the coordinators, not by Produce requests
      assert.isUndefined(sample(s, "kafka_server_brokertopicmetrics_bytesin_total", { topic: "__consumer_offsets" }))

      // partitions and their logs
      assert.strictEqual(sample(s, "kafka_server_replicamanager_partitioncount"), 3 + 1 + 3 + 2)
      assert.strictEqual(
        sample(s, "kafka_log_log_size", { topic: "metrics-a", partition: "0" }),
        logSize("metrics-a", 0)
      )
      assert.strictEqual(sample(s, "kafka_log_log_size", { topic: "metrics-b", partition: "0" }), sizeB)
      assert.strictEqual(sample(s, "kafka_log_log_logendoffset", { topic: "metrics-a", partition: "1" }), 30)
      assert.strictEqual(sample(s, "kafka_log_log_logstartoffset", { topic: "metrics-a", partition: "1" }), 0)

      // groups, members, committed offsets and lag
      const group = { consumergroup: "metrics-group" }
      assert.strictEqual(sample(s, "kafka_consumergroup_members", group), 1)
      assert.strictEqual(sample(s, "kafka_coordinator_group_groupmetadatamanager_numgroups", { state: "Stable" }), 1)
      assert.strictEqual(sample(s, "kafka_coordinator_group_groupmetadatamanager_numgroups", { state: "Empty" }), 1)
      const lag = (consumergroup: string, topic: string, partition: string) =>
        sample(s, "kafka_consumergroup_lag", { consumergroup, topic, partition })
      assert.deepStrictEqual(
        [
          lag("metrics-group", "metrics-a", "0"),
          lag("metrics-group", "metrics-a", "1"),
          lag("metrics-group", "metrics-b", "0")
        ],
        [0, 0, 0]
      )
      assert.deepStrictEqual(
        [
          lag("metrics-lagging", "metrics-a", "0"),
          lag("metrics-lagging", "metrics-a", "1"),
          lag("metrics-lagging", "metrics-b", "0")
        ],
        [10, undefined, 30]
      )
      assert.strictEqual(
        sample(s, "kafka_consumergroup_current_offset", { ...group, topic: "metrics-b", partition: "0" }),
        40
      )
      assert.strictEqual(sample(s, "kafka_consumergroup_members", { consumergroup: "metrics-lagging" }), 0)

      // idempotent producers: one id on each of a-0, a-1, b-0, txn-0; one transaction, committed
      assert.strictEqual(sample(s, "kafka_server_replicamanager_produceridcount"), 4)
      assert.strictEqual(sample(s, "eddy_transaction_coordinator_transactions", { state: "CompleteCommit" }), 1)
      assert.strictEqual(sample(s, "eddy_transaction_coordinator_transactions", { state: "Ongoing" }), 0)

      // requests: the counter and every latency histogram see the same requests
      const produces = sample(s, "kafka_network_requestmetrics_requests_total", { request: "Produce" })!
      assert.isAtLeast(produces, 2)
      for (const h of ["requestqueuetimems", "localtimems", "responsequeuetimems", "totaltimems"]) {
        const name = `kafka_network_requestmetrics_${h}`
        assert.strictEqual(s.get(name)?.type, "HISTOGRAM")
        assert.strictEqual(countOf(s, name, { request: "Produce" }), produces, name)
      }
      assert.isAtLeast(sample(s, "kafka_network_requestmetrics_requests_total", { request: "Fetch" })!, 1)

      // one fsync per append (log.flush.interval.messages=1), timed
      assert.strictEqual(s.get("kafka_log_logflushstats_logflushrateandtimems")?.type, "HISTOGRAM")
      assert.isAtLeast(countOf(s, "kafka_log_logflushstats_logflushrateandtimems", {})!, 3)
      assert.isAtLeast(countOf(s, "eddy_log_fsync_time_ms", {})!, 3)

      // connections: exactly one more accepted for a raw client, whose requests are counted exactly
      yield* Scope.close(clients, Exit.void)
      const before = yield* scrape(url)
      const raw = yield* connect(info.address.port)
      for (let i = 0; i < 3; i++) {
        yield* raw.send(ApiVersions.apiKey, 3, ApiVersions.makeApiVersionsRequest({}))
      }
      const after = yield* scrape(url)
      const delta = (name: string, labels: Record<string, string> = {}) =>
        (sample(after, name, labels) ?? 0) - (sample(before, name, labels) ?? 0)
      assert.strictEqual(delta("kafka_server_socket_server_metrics_connection_creation_total"), 1)
      assert.strictEqual(delta("kafka_network_requestmetrics_requests_total", { request: "ApiVersions" }), 3)
      assert.isAtLeast(sample(after, "kafka_server_socket_server_metrics_connection_count")!, 1)

      // the consumer left: an empty group; a deleted topic's gauges are gone, its counters stay
      assert.strictEqual(sample(after, "kafka_consumergroup_members", group), 0)
      assert.strictEqual(sample(after, "kafka_coordinator_group_groupmetadatamanager_numgroups", { state: "Empty" }), 2)
      yield* admin.deleteTopics(["metrics-b"])
      const deleted = yield* scrape(url)
      assert.isUndefined(sample(deleted, "kafka_log_log_size", { topic: "metrics-b", partition: "0" }))
      assert.isDefined(sample(deleted, "kafka_log_log_size", { topic: "metrics-a", partition: "0" }))
      assert.strictEqual(
        sample(deleted, "kafka_server_brokertopicmetrics_messagesin_total", { topic: "metrics-b" }),
        40
      )

      // health
      const health = yield* Effect.promise(() => fetch(`${base}/health`))
      assert.strictEqual(health.status, 200)
      const body = (yield* Effect.promise(() => health.json())) as { status: string; nodeId: number }
      assert.deepStrictEqual([body.status, body.nodeId], ["ok", info.nodeId])
    })
  )

  it("countRecords reads the record counts of whole batches and skips a truncated tail", () => {
    const batch = (n: number) =>
      RecordBatch.encode(Array.from({ length: n }, (_, i) => ({ value: Buffer.from(`v${i}`) })))
    const whole = Buffer.concat([batch(1), batch(5), batch(10)])
    assert.strictEqual(Metrics.countRecords(whole), 16)
    assert.strictEqual(Metrics.countRecords(whole.subarray(0, whole.length - 1)), 6)
    assert.strictEqual(Metrics.countRecords(new Uint8Array(0)), 0)
  })

  it.scoped("serves no endpoint unless metrics.port is set", () =>
    Effect.gen(function* () {
      const { broker: info } = yield* startEddy()
      assert.isUndefined(info.metricsAddress)
    })
  )
})
