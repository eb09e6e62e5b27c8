// Types of the untyped `parse-prometheus-text-format` (the shape its README documents).
declare module "parse-prometheus-text-format" {
  /** One sample of a family; histograms carry `buckets`, `count` and `sum` instead of `value`. */
  export interface PrometheusSample {
    readonly value?: string
    readonly labels?: Readonly<Record<string, string>>
    readonly buckets?: Readonly<Record<string, string>>
    readonly count?: string
    readonly sum?: string
  }
  /** One metric family. */
  export interface PrometheusFamily {
    readonly name: string
    readonly help: string
    readonly type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED"
    readonly metrics: ReadonlyArray<PrometheusSample>
  }
  /** Parses Prometheus text exposition format into metric families. */
  export default function parsePrometheusTextFormat(text: string): Array<PrometheusFamily>
}
