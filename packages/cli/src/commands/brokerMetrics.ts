/**
 * `eddy perf --metrics`: the broker's view of a perf run, from its Prometheus endpoint. The endpoint is
 * scraped before and after the run (parsed by `parse-prometheus-text-format`) and the differences of the
 * broker's counters and request timers are printed beside the client's figures.
 */

import { Options } from "@effect/cli"
import { FetchHttpClient, HttpClient } from "@effect/platform"
import { Effect } from "effect"
import parsePrometheusTextFormat from "parse-prometheus-text-format"
import { UsageError } from "./common.js"

/** `--metrics URL|host:port|port`: the broker's metrics endpoint (a port alone takes the bootstrap host). */
export const metricsOption = Options.text("metrics").pipe(
  Options.withDescription(
    "Also print the broker's view of the run, scraped from its metrics endpoint (URL, host:port, or port on the bootstrap host)"
  ),
  Options.optional
)

/** One sample of a scrape. */
export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

/** The endpoint URL `spec` names: a URL as is, `host:port` or a port (on the first bootstrap host) + `/metrics`. */
export const metricsUrl = (spec: string, bootstrap: string): string => {
  if (/^https?:\/\//.test(spec)) return spec
  const host = (bootstrap.split(",")[0] ?? "localhost").replace(/:\d+$/, "")
  return /^\d+$/.test(spec) ? `http://${host}:${spec}/metrics` : `http://${spec}/metrics`
}

/**
 * Every sample of the endpoint at `url`. Histogram families are read as their plain `_count`, `_sum` and
 * `_bucket` series (the parser folds a labelled histogram's buckets across label sets).
 */
export const scrape = (url: string): Effect.Effect<ReadonlyArray<Sample>, UsageError> =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.get(url)
    if (response.status !== 200) {
      return yield* new UsageError({ message: `Metrics endpoint ${url} answered HTTP ${response.status}` })
    }
    const text = (yield* response.text).replace(/^# TYPE \S+ histogram$/gm, "")
    const out: Array<Sample> = []
    for (const family of parsePrometheusTextFormat(text)) {
      for (const m of family.metrics) {
        if (m.value !== undefined) out.push({ name: family.name, labels: m.labels ?? {}, value: Number(m.value) })
      }
    }
    return out
  }).pipe(
    Effect.scoped,
    Effect.provide(FetchHttpClient.layer),
    Effect.catchTags({
      RequestError: (e) => new UsageError({ message: `Cannot read metrics from ${url}: ${e.message}` }),
      ResponseError: (e) => new UsageError({ message: `Cannot read metrics from ${url}: ${e.message}` })
    })
  )

/** The sum of the samples of `name` whose labels include `labels`. */
const total = (samples: ReadonlyArray<Sample>, name: string, labels: Readonly<Record<string, string>> = {}) => {
  let sum = 0
  for (const s of samples) {
    if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value
  }
  return sum
}

const fixed = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : "0.00")

/**
 * The broker's figures between two scrapes for a run on `topic`: records and MB in (produce) or out
 * (consume), the requests of `api` (`Produce` or `Fetch`) with their mean queue, local, response and total
 * times, and the log flushes.
 */
export const report = (
  before: ReadonlyArray<Sample>,
  after: ReadonlyArray<Sample>,
  topic: string,
  api: "Produce" | "Fetch"
): string => {
  const delta = (name: string, labels: Readonly<Record<string, string>> = {}) =>
    total(after, name, labels) - total(before, name, labels)
  const direction = api === "Produce" ? "in" : "out"
  const records = delta(`kafka_server_brokertopicmetrics_messages${direction}_total`, { topic })
  const bytes = delta(`kafka_server_brokertopicmetrics_bytes${direction}_total`, { topic })
  const request = { request: api }
  const requests = delta("kafka_network_requestmetrics_requests_total", request)
  const mean = (timer: string) => {
    const name = `kafka_network_requestmetrics_${timer}`
    const n = delta(`${name}_count`, request)
    return n === 0 ? 0 : delta(`${name}_sum`, request) / n
  }
  const flushes = delta("kafka_log_logflushstats_logflushrateandtimems_count")
  const flushMs = delta("kafka_log_logflushstats_logflushrateandtimems_sum")
  return (
    `broker: ${records} records ${direction} (${fixed(bytes / (1024 * 1024))} MB of batches), ` +
    `${requests} ${api} requests, ${fixed(mean("totaltimems"))} ms avg total time ` +
    `(${fixed(mean("requestqueuetimems"))} ms queue, ${fixed(mean("localtimems"))} ms local, ` +
    `${fixed(mean("responsequeuetimems"))} ms response), ` +
    `${flushes} log flushes (${fixed(flushes === 0 ? 0 : flushMs / flushes)} ms avg).`
  )
}
