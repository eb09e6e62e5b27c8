/**
 * Effect's metric registry in Prometheus's text format: `@effect/opentelemetry`'s metric producer reads
 * the registry, OpenTelemetry's `PrometheusExporter` (a pull reader, its own HTTP server not started)
 * collects it and `PrometheusSerializer` writes the exposition text.
 *
 * Invariants:
 * - Scrape-time gauges (`Metrics.scrapeGauges`) show only the label sets set by the current scrape: the
 *   registry never forgets a label set, so a deleted topic's or group's last value is dropped here.
 * - Scrapes run one at a time in the whole process (the registry is per process): each sets its gauges
 *   and collects before another broker's scrape can overwrite them.
 */
import * as OtelMetrics from "@effect/opentelemetry/Metrics"
import * as OtelResource from "@effect/opentelemetry/Resource"
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus"
import type { ResourceMetrics } from "@opentelemetry/sdk-metrics"
import { Effect, MetricLabel, type Scope } from "effect"
import { globalValue } from "effect/GlobalValue"
import { type ScrapeGauge, scrapeGauges } from "../Metrics.js"

/** Sets scrape-time gauges; only the label sets set through it appear in the scrape. */
export interface GaugeSetter {
  readonly set: (gauge: ScrapeGauge, value: number, labels?: Readonly<Record<string, string>>) => void
}

/** A Prometheus view of the metric registry. */
export interface Exporter {
  /** Runs `refresh` to set the scrape-time gauges, then renders every metric as Prometheus text. */
  readonly scrape: <E, R>(refresh: (gauges: GaugeSetter) => Effect.Effect<void, E, R>) => Effect.Effect<string, E, R>
}

const scrapeLock = globalValue(Symbol.for("@eddy/core/broker/internal/prometheus/scrapeLock"), () =>
  Effect.unsafeMakeSemaphore(1)
)

const keyOf = (name: string, labels: Readonly<Record<string, unknown>>): string => {
  const entries = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `${name}\u0000${entries.map(([k, v]) => `${k}=${String(v)}`).join("\u0000")}`
}

/** Drops the scrape-time gauge points that `live` does not name. */
const dropStale = (metrics: ResourceMetrics, live: ReadonlySet<string>): void => {
  for (const scope of metrics.scopeMetrics) {
    for (const m of scope.metrics) {
      const name = m.descriptor.name
      if (!scrapeGauges.has(name)) continue
      const points = m.dataPoints as Array<{ readonly attributes: Readonly<Record<string, unknown>> }>
      const kept = points.filter((p) => live.has(keyOf(name, p.attributes)))
      points.length = 0
      points.push(...kept)
    }
    ;(scope as { metrics: typeof scope.metrics }).metrics = scope.metrics.filter((m) => m.dataPoints.length > 0)
  }
}

/** An exporter over the process's metric registry, registered for the life of the scope. */
export const make = (serviceName: string): Effect.Effect<Exporter, never, Scope.Scope> =>
  Effect.gen(function* () {
    const reader = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true })
    const producer = yield* OtelMetrics.makeProducer.pipe(Effect.provide(OtelResource.layer({ serviceName })))
    yield* OtelMetrics.registerProducer(producer, () => reader)
    // prefix, timestamps, resource labels, target_info, scope labels: as the exporter's own endpoint
    const serializer = new PrometheusSerializer(undefined, false, undefined, false, true)
    const scrape = <E, R>(refresh: (gauges: GaugeSetter) => Effect.Effect<void, E, R>) =>
      scrapeLock.withPermits(1)(
        Effect.gen(function* () {
          const live = new Set<string>()
          yield* refresh({
            set: (gauge, value, labels = {}) => {
              const tags = Object.entries(labels).map(([k, v]) => MetricLabel.make(k, v))
              gauge.metric.unsafeUpdate(value, tags)
              live.add(keyOf(gauge.name, labels))
            }
          })
          const { resourceMetrics, errors } = yield* Effect.promise(() => reader.collect())
          if (errors.length > 0) yield* Effect.logWarning("Metrics collection errors", errors)
          dropStale(resourceMetrics, live)
          return serializer.serialize(resourceMetrics)
        })
      )
    return { scrape }
  })
