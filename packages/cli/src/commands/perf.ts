/**
 * `eddy perf produce|consume`: throughput and latency tests after `kafka-producer-perf-test.sh` and
 * `kafka-consumer-perf-test.sh`. Progress lines are printed only when stdout is a terminal. With
 * `--metrics`, the broker's own figures for the run (from its Prometheus endpoint) follow the client's.
 */
import { performance } from "node:perf_hooks"
import * as Cluster from "@eddy/core/client/Cluster"
import * as Fetcher from "@eddy/core/client/Fetcher"
import * as Producer from "@eddy/core/client/Producer"
import type * as Topic from "@eddy/core/client/Topic"
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { metricsOption, metricsUrl, report, scrape } from "./brokerMetrics.js"
import { clientConfig, clientOptions, warn } from "./common.js"
import { acksOf, acksOption, compressionOption } from "./produce.js"

const MB = 1024 * 1024

/** Runs `body` between two scrapes of the metrics endpoint (when given) and prints the broker's view after it. */
const withBrokerView = <A, E, R>(
  metrics: Option.Option<string>,
  bootstrap: string,
  topic: string,
  api: "Produce" | "Fetch",
  body: Effect.Effect<A, E, R>
) =>
  Option.match(metrics, {
    onNone: () => body,
    onSome: (spec) =>
      Effect.gen(function* () {
        const url = metricsUrl(spec, bootstrap)
        const before = yield* scrape(url)
        const a = yield* body
        yield* Console.log(report(before, yield* scrape(url), topic, api))
        return a
      })
  })
/** Records per sendBatch, and sendBatches in flight, of an unthrottled `perf produce`. */
const PERF_CHUNK = 1000
const PERF_CHUNKS_IN_FLIGHT = 8
const fixed = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : "0.00")

/** The latency at quantile `q` of sorted `values`. */
const percentile = (sorted: Float64Array, q: number): number =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!

/** A random payload of uppercase letters, as Kafka's tool makes. */
const payloadOf = (size: number): Uint8Array => {
  const b = Buffer.alloc(size)
  for (let i = 0; i < size; i++) b[i] = 65 + Math.floor(Math.random() * 26)
  return b
}

/** Logs a progress line every 5 s while `body` runs, when stdout is a terminal. */
const withProgress = <A, E, R>(line: () => string, body: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  process.stdout.isTTY === true
    ? Effect.scoped(
        Effect.zipRight(
          Effect.forkScoped(
            Effect.forever(
              Effect.zipRight(
                Effect.sleep("5 seconds"),
                Effect.suspend(() => Console.log(line()))
              )
            )
          ),
          body
        )
      )
    : body

const producePerf = Command.make(
  "produce",
  {
    ...clientOptions,
    topic: Args.text({ name: "topic" }).pipe(Args.withDescription("The topic to write to")),
    numRecords: Options.integer("num-records").pipe(Options.withDescription("Records to send")),
    recordSize: Options.integer("record-size").pipe(Options.withDescription("Bytes per record value")),
    throughput: Options.integer("throughput").pipe(
      Options.withDescription("Records per second at most (default: -1, no limit)"),
      Options.withDefault(-1)
    ),
    acks: acksOption,
    batchSize: Options.integer("batch-size").pipe(
      Options.withDescription("batch.size in bytes (default: the producer's)"),
      Options.optional
    ),
    lingerMs: Options.integer("linger-ms").pipe(
      Options.withDescription(`linger.ms (default: ${Producer.defaults["linger.ms"]})`),
      Options.withDefault(Producer.defaults["linger.ms"])
    ),
    compression: compressionOption,
    metrics: metricsOption
  },
  (flags) =>
    Effect.gen(function* () {
      const producer = yield* Producer.make({
        ...clientConfig(flags),
        acks: acksOf(flags.acks),
        ...Option.match(flags.batchSize, { onNone: () => ({}), onSome: (n) => ({ "batch.size": n }) }),
        "linger.ms": flags.lingerMs,
        "compression.type": flags.compression
      })
      const n = Math.max(0, flags.numRecords)
      const value = payloadOf(flags.recordSize)
      const latencies = new Float64Array(n)
      let done = 0
      let window = { at: performance.now(), done: 0, latency: 0, max: 0 }
      const start = performance.now()
      const sendOne = (i: number) =>
        Effect.gen(function* () {
          if (flags.throughput > 0) {
            const wait = start + (i * 1000) / flags.throughput - performance.now()
            if (wait > 1) yield* Effect.sleep(Math.floor(wait))
          }
          const t0 = performance.now()
          yield* producer.send(flags.topic, { value })
          const ms = performance.now() - t0
          latencies[i] = ms
          window.latency += ms
          if (ms > window.max) window.max = ms
          done++
        })
      const progress = () => {
        const now = performance.now()
        const count = done - window.done
        const secs = (now - window.at) / 1000
        const line =
          `${count} records sent, ${fixed(count / secs, 1)} records/sec (${fixed((count * flags.recordSize) / MB / secs)} MB/sec), ` +
          `${fixed(count === 0 ? 0 : window.latency / count, 1)} ms avg latency, ${fixed(window.max, 1)} ms max latency.`
        window = { at: now, done, latency: 0, max: 0 }
        return line
      }
      // as fast as possible: chunks of records through sendBatch (a record's latency is its chunk's, from
      // sendBatch to the acknowledgement of the chunk's last record); with a rate, each record on its own
      const chunk = Math.min(PERF_CHUNK, Math.max(1, n))
      const records = Array.from({ length: chunk }, () => ({ value }))
      const sendChunk = (c: number) =>
        Effect.gen(function* () {
          const from = c * chunk
          const count = Math.min(chunk, n - from)
          const t0 = performance.now()
          yield* producer.sendBatch(flags.topic, count === chunk ? records : records.slice(0, count))
          const ms = performance.now() - t0
          latencies.fill(ms, from, from + count)
          window.latency += ms * count
          if (ms > window.max) window.max = ms
          done += count
        })
      yield* withProgress(
        progress,
        flags.throughput > 0
          ? Effect.forEach(
              Array.from({ length: n }, (_, i) => i),
              sendOne,
              { concurrency: 1000, discard: true }
            )
          : Effect.forEach(
              Array.from({ length: Math.ceil(n / chunk) }, (_, c) => c),
              sendChunk,
              { concurrency: PERF_CHUNKS_IN_FLIGHT, discard: true }
            )
      )
      yield* producer.flush
      const secs = (performance.now() - start) / 1000
      const sorted = latencies.slice().sort()
      const avg = sorted.reduce((a, b) => a + b, 0) / Math.max(1, n)
      yield* Console.log(
        `${n} records sent, ${fixed(n / secs, 1)} records/sec (${fixed((n * flags.recordSize) / MB / secs)} MB/sec), ` +
          `${fixed(avg)} ms avg latency, ${fixed(sorted[n - 1] ?? 0)} ms max latency, ` +
          `${fixed(percentile(sorted, 0.5))} ms 50th, ${fixed(percentile(sorted, 0.95))} ms 95th, ` +
          `${fixed(percentile(sorted, 0.99))} ms 99th, ${fixed(percentile(sorted, 0.999))} ms 99.9th.`
      )
    }).pipe(Effect.scoped, (run) => withBrokerView(flags.metrics, flags.bootstrap, flags.topic, "Produce", run))
).pipe(Command.withDescription("Send N records of B bytes; report records/s, MB/s and latency percentiles"))

const identity: Topic.Serde<Uint8Array | null> = { encode: (a) => a, decode: (b) => b }

const consumePerf = Command.make(
  "consume",
  {
    ...clientOptions,
    topic: Args.text({ name: "topic" }),
    messages: Options.integer("messages").pipe(Options.withDescription("Records to read (from the earliest offset)")),
    timeoutMs: Options.integer("timeout-ms").pipe(
      Options.withDescription("Give up after this many ms without a record (default: 10000)"),
      Options.withDefault(10000)
    ),
    metrics: metricsOption
  },
  (flags) =>
    Effect.gen(function* () {
      const config = clientConfig(flags)
      const cluster = yield* Cluster.make({ ...config, "allow.auto.create.topics": false })
      const fetcher = Fetcher.makeWith(cluster, { ...config, "auto.offset.reset": "earliest" })
      const info = yield* cluster.retry(cluster.topic(flags.topic))
      const startedAt = Date.now()
      let positions: ReadonlyMap<number, number> = yield* cluster.retry(
        fetcher.resolveOffsets(
          flags.topic,
          info.partitions.map((p) => ({ partition: p.partition, offset: "earliest" as const }))
        )
      )
      const topic = { name: flags.topic, key: identity, value: identity }
      let count = 0
      let bytes = 0
      let lastRecordAt = performance.now()
      let window = { at: performance.now(), count: 0, bytes: 0 }
      const progress = () => {
        const now = performance.now()
        const secs = (now - window.at) / 1000
        const line = `${count} records read, ${fixed((count - window.count) / secs, 1)} records/sec (${fixed((bytes - window.bytes) / MB / secs)} MB/sec).`
        window = { at: now, count, bytes }
        return line
      }
      const loop = Effect.gen(function* () {
        while (count < flags.messages) {
          const round = yield* cluster.retry(fetcher.fetchOnce(topic, positions))
          positions = round.positions
          if (round.records.length === 0) {
            if (performance.now() - lastRecordAt >= flags.timeoutMs) {
              yield* warn(
                `WARNING: Exiting before consuming the expected number of messages: timeout (${flags.timeoutMs} ms) exceeded.`
              )
              return
            }
            continue
          }
          lastRecordAt = performance.now()
          for (const r of round.records.slice(0, flags.messages - count)) {
            count++
            bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0)
          }
        }
      })
      yield* withProgress(progress, loop)
      const endedAt = Date.now()
      const secs = Math.max(1, endedAt - startedAt) / 1000
      const fmt = (t: number) => new Date(t).toISOString().replace("T", " ").replace("Z", "")
      yield* Console.log(
        "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec\n" +
          `${fmt(startedAt)}, ${fmt(endedAt)}, ${fixed(bytes / MB, 4)}, ${fixed(bytes / MB / secs, 4)}, ${count}, ${fixed(count / secs, 4)}`
      )
    }).pipe(Effect.scoped, (run) => withBrokerView(flags.metrics, flags.bootstrap, flags.topic, "Fetch", run))
).pipe(Command.withDescription("Read N records from the earliest offsets; report MB/s and records/s"))

/** The subcommands of `perf`. */
export const perfSubcommands = [producePerf, consumePerf] as const

/** The `perf` subcommand. */
export const perf = Command.make("perf").pipe(
  Command.withDescription("Producer and consumer performance tests"),
  Command.withSubcommands(perfSubcommands)
)
