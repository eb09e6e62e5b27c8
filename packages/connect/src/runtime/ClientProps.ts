/**
 * Client settings of a connector's producer, consumer and admin from string properties: the worker's
 * `bootstrap.servers` and `producer.*`/`consumer.*`/`admin.*` settings, then the connector's
 * `producer.override.*`/`consumer.override.*`/`admin.override.*` (Kafka's override policy `All`). Numeric
 * and boolean strings become numbers and booleans, as Eddy's client configs expect.
 */
import { withPrefix } from "../converters/Converters.js"

const STRING_KEYS = new Set([
  "bootstrap.servers",
  "client.id",
  "group.id",
  "group.instance.id",
  "transactional.id",
  "compression.type",
  "auto.offset.reset",
  "isolation.level",
  "partition.assignment.strategy"
])

const typed = (props: Readonly<Record<string, string>>): Record<string, string | number | boolean> => {
  const out: Record<string, string | number | boolean> = {}
  for (const [k, raw] of Object.entries(props)) {
    const v = raw.trim()
    if (STRING_KEYS.has(k)) out[k] = v
    else if (v === "true" || v === "false") out[k] = v === "true"
    else if (v !== "" && Number.isFinite(Number(v))) out[k] = Number(v)
    else if (k === "acks" && v === "all") out[k] = -1
    else out[k] = v
  }
  return out
}

/** The settings of a client of kind `kind` for a connector. */
export const clientProps = (
  kind: "producer" | "consumer" | "admin",
  worker: Readonly<Record<string, string>>,
  connector: Readonly<Record<string, string>>
): Record<string, string | number | boolean> =>
  typed({
    "bootstrap.servers": worker["bootstrap.servers"] ?? "localhost:9092",
    ...withPrefix(worker, kind),
    ...withPrefix(connector, `${kind}.override`)
  })
