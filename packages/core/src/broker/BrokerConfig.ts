/**
 * The broker's configuration, under Kafka's own key names and defaults (`server.properties`).
 *
 * A config is a record of raw string values for the keys that were set (from a properties file and
 * `key=value` overrides) plus a table of known keys with their type and default. Typed accessors
 * read a key, falling back to its synonyms and default the way Kafka does (`log.retention.ms` over
 * `log.retention.minutes` over `log.retention.hours`). Unknown keys are kept and reported, not
 * rejected, so a `server.properties` written for Apache Kafka loads unchanged.
 */
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Schema } from "effect"
import * as Properties from "./internal/properties.js"
import { atLeast, listOf, oneOf, splitList } from "./internal/validate.js"

/** Kafka's ConfigDef types, with the DescribeConfigs `config_type` codes (KIP-569). */
export type ConfigType = "boolean" | "string" | "int" | "short" | "long" | "double" | "list" | "class" | "password"

/** DescribeConfigs `config_type` code for a {@link ConfigType}. */
export const configTypeCode: Record<ConfigType, number> = {
  boolean: 1,
  string: 2,
  int: 3,
  short: 4,
  long: 5,
  double: 6,
  list: 7,
  class: 8,
  password: 9
}

/** `Long.MAX_VALUE` as Kafka prints it. */
export const LONG_MAX = "9223372036854775807"

/** One known configuration key. */
export interface ConfigKey {
  readonly name: string
  readonly type: ConfigType
  /** The default as Kafka prints it; `null` when the key has no default. */
  readonly default: string | null
  /** A one-line description. */
  readonly doc: string
  /** Validates an already type-checked value; returns an error text or undefined. */
  readonly validate?: (value: string) => string | undefined
  /** Read-only keys cannot be altered at runtime (AlterConfigs on a broker resource). */
  readonly readOnly?: boolean
}

/** Raised when a key's value does not parse or validate; the message names the key. */
export class BrokerConfigError extends Schema.TaggedError<BrokerConfigError>()("BrokerConfigError", {
  key: Schema.String,
  message: Schema.String
}) {}

const key = (
  name: string,
  type: ConfigType,
  def: string | null,
  doc: string,
  extra: Partial<Pick<ConfigKey, "validate" | "readOnly">> = {}
): ConfigKey => ({ name, type, default: def, doc, ...extra })

/** Compression codecs a topic may be configured with. */
export const compressionTypes = ["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"] as const

/** `compression.gzip.level` (KIP-390): 1-9, or -1 for zlib's default. */
export const checkGzipLevel = (v: string): string | undefined =>
  Number.isInteger(Number(v)) && (Number(v) === -1 || (Number(v) >= 1 && Number(v) <= 9))
    ? undefined
    : "must be -1 or between 1 and 9"

/** `compression.zstd.level` (KIP-390): zstd's range, -131072 to 22. */
export const checkZstdLevel = (v: string): string | undefined =>
  Number.isInteger(Number(v)) && Number(v) >= -131072 && Number(v) <= 22 ? undefined : "must be between -131072 and 22"

/** The broker keys Eddy knows, with Kafka's defaults (single-node KRaft quick start where Kafka has none). */
export const keys: ReadonlyArray<ConfigKey> = [
  key("node.id", "int", "1", "The id of this broker node.", { validate: atLeast(0), readOnly: true }),
  key("broker.id", "int", null, "Synonym of node.id.", { validate: atLeast(0), readOnly: true }),
  key("broker.rack", "string", null, "The rack of this broker, given to clients in Metadata.", { readOnly: true }),
  key(
    "broker.session.timeout.ms",
    "int",
    "9000",
    "How long the broker's registration in the metadata store lives without a renewal (renewed every third).",
    { validate: atLeast(1), readOnly: true }
  ),
  key(
    "cluster.id",
    "string",
    null,
    "The cluster id to store in a new data directory's meta.properties (must be the cluster's id in the metadata store).",
    {
      readOnly: true
    }
  ),
  key("listeners", "list", "PLAINTEXT://127.0.0.1:9092", "Listener URIs the broker binds.", { readOnly: true }),
  key("advertised.listeners", "list", null, "Listener URIs given to clients; defaults to listeners.", {
    readOnly: true
  }),
  key("controller.listener.names", "list", null, "Listener names used by the controller (not served).", {
    readOnly: true
  }),
  key("listener.security.protocol.map", "list", null, "Maps listener names to security protocols.", {
    readOnly: true
  }),
  key("log.dirs", "list", null, "Data directories; defaults to log.dir.", { readOnly: true }),
  key("log.dir", "string", "./data", "The data directory when log.dirs is not set.", { readOnly: true }),
  key("num.partitions", "int", "1", "Default partition count of new topics.", { validate: atLeast(1) }),
  key("default.replication.factor", "int", "1", "Default replication factor of new topics.", {
    validate: atLeast(1)
  }),
  key(
    "max.broker.partitions",
    "int",
    "2147483647",
    "Partitions this broker may host (internal topics exempt); creations beyond are refused with POLICY_VIOLATION (KIP-578).",
    { validate: atLeast(1), readOnly: true }
  ),
  key("auto.create.topics.enable", "boolean", "true", "Create a topic when Metadata asks for an unknown one.", {
    readOnly: true
  }),
  key("delete.topic.enable", "boolean", "true", "Allow DeleteTopics.", { readOnly: true }),
  key(
    "unstable.api.versions.enable",
    "boolean",
    "false",
    "Serve and advertise the latest version of apis whose schema marks it unstable (EndTxn v5, KIP-890 part 2).",
    { readOnly: true }
  ),
  key("message.max.bytes", "int", "1048588", "Largest record batch the broker accepts.", { validate: atLeast(0) }),
  key("socket.request.max.bytes", "int", "104857600", "Largest request frame the broker accepts.", {
    validate: atLeast(1),
    readOnly: true
  }),
  key("queued.max.requests", "int", "500", "Requests processed concurrently per connection before reading pauses.", {
    validate: atLeast(1),
    readOnly: true
  }),
  key(
    "metrics.port",
    "int",
    "-1",
    "Port of the HTTP endpoint serving Prometheus metrics (/metrics) and health (/health); -1 disables it, 0 picks a free port.",
    {
      validate: (v) => (Number(v) < -1 || Number(v) > 65535 ? "must be -1 or a port 0-65535" : undefined),
      readOnly: true
    }
  ),
  key("metrics.host", "string", null, "Host the metrics endpoint binds; defaults to the client listener's host.", {
    readOnly: true
  }),
  key(
    "queued.max.request.bytes",
    "long",
    "104857600",
    "Bytes of requests received but not yet answered per connection before reading pauses; -1: no bound.",
    { validate: (v) => (Number(v) === -1 || Number(v) >= 1 ? undefined : "must be -1 or at least 1"), readOnly: true }
  ),
  key(
    "queued.max.response.bytes",
    "long",
    "104857600",
    "Bytes of answers not yet written (plus the bounds of requests in flight) per connection before reading and dispatch pause.",
    { validate: atLeast(1), readOnly: true }
  ),
  key("connections.max.idle.ms", "long", "600000", "Idle connections are closed after this long.", {
    readOnly: true
  }),
  key("log.retention.ms", "long", null, "Time to keep a segment; -1 keeps forever.", { validate: atLeast(-1) }),
  key("log.retention.minutes", "int", null, "log.retention.ms in minutes.", { readOnly: true }),
  key("log.retention.hours", "int", "168", "log.retention.ms in hours.", { readOnly: true }),
  key("log.retention.bytes", "long", "-1", "Size to keep per partition; -1 keeps all.", {}),
  key("log.segment.bytes", "int", "1073741824", "Size of a segment file.", { validate: atLeast(14) }),
  key("log.roll.ms", "long", null, "Time before a new segment is rolled.", { validate: atLeast(1) }),
  key("log.roll.hours", "int", "168", "log.roll.ms in hours.", { validate: atLeast(1), readOnly: true }),
  key("log.roll.jitter.ms", "long", null, "Random jitter subtracted from the roll time.", {}),
  key("log.roll.jitter.hours", "int", "0", "log.roll.jitter.ms in hours.", { readOnly: true }),
  key("log.cleanup.policy", "list", "delete", "delete and/or compact.", { validate: listOf("delete", "compact") }),
  key("log.flush.interval.messages", "long", LONG_MAX, "Messages appended before a flush.", {
    validate: atLeast(1)
  }),
  key("log.flush.interval.ms", "long", null, "Time before a flush; defaults to log.flush.scheduler.interval.ms.", {}),
  key("log.flush.scheduler.interval.ms", "long", LONG_MAX, "How often the flusher checks logs.", {
    readOnly: true
  }),
  key("log.index.size.max.bytes", "int", "10485760", "Size of an offset index file.", { validate: atLeast(4) }),
  key("log.index.interval.bytes", "int", "4096", "Bytes between offset index entries.", { validate: atLeast(0) }),
  key("log.segment.delete.delay.ms", "long", "60000", "Delay before a deleted segment's file is removed.", {
    validate: atLeast(0)
  }),
  key("log.retention.check.interval.ms", "long", "300000", "How often retention is checked.", {
    validate: atLeast(1),
    readOnly: true
  }),
  key("log.cleaner.enable", "boolean", "true", "Run compaction for compacted topics.", { readOnly: true }),
  key("log.cleaner.backoff.ms", "long", "15000", "Pause between compaction passes.", {
    validate: atLeast(0),
    readOnly: true
  }),
  key("log.preallocate", "boolean", "false", "Preallocate segment files.", {}),
  key("log.cleaner.delete.retention.ms", "long", "86400000", "How long tombstones are kept on compacted topics.", {
    validate: atLeast(0)
  }),
  key("log.cleaner.min.cleanable.ratio", "double", "0.5", "Dirty ratio that triggers compaction.", {}),
  key("log.cleaner.min.compaction.lag.ms", "long", "0", "Minimum age of a record before compaction.", {}),
  key("log.cleaner.max.compaction.lag.ms", "long", LONG_MAX, "Maximum age of an uncompacted record.", {}),
  key("log.message.timestamp.type", "string", "CreateTime", "CreateTime or LogAppendTime.", {
    validate: oneOf("CreateTime", "LogAppendTime")
  }),
  key("log.message.timestamp.before.max.ms", "long", LONG_MAX, "How far in the past a record timestamp may be.", {
    validate: atLeast(0)
  }),
  key("log.message.timestamp.after.max.ms", "long", LONG_MAX, "How far in the future a record timestamp may be.", {
    validate: atLeast(0)
  }),
  key("compression.type", "string", "producer", "Compression of stored batches.", {
    validate: oneOf(...compressionTypes)
  }),
  key("compression.gzip.level", "int", "-1", "gzip level when compression.type is gzip (-1: zlib's default).", {
    validate: checkGzipLevel
  }),
  key("compression.zstd.level", "int", "3", "zstd level when compression.type is zstd.", {
    validate: checkZstdLevel
  }),
  key("min.insync.replicas", "int", "1", "Replicas that must acknowledge an acks=all produce.", {
    validate: atLeast(1)
  }),
  key("replica.lag.time.max.ms", "long", "30000", "A follower not caught up for this long leaves the ISR.", {
    validate: atLeast(1),
    readOnly: true
  }),
  key(
    "replica.high.watermark.checkpoint.interval.ms",
    "long",
    "5000",
    "How often the hosted partitions' high watermarks are written to replication-offset-checkpoint.",
    { validate: atLeast(1), readOnly: true }
  ),
  key("replica.fetch.wait.max.ms", "int", "500", "Longest wait of a follower's fetch for new data.", {
    validate: atLeast(0),
    readOnly: true
  }),
  key("replica.fetch.min.bytes", "int", "1", "Bytes a follower's fetch waits for.", {
    validate: atLeast(1),
    readOnly: true
  }),
  key("replica.fetch.max.bytes", "int", "1048576", "Bytes a follower fetches per partition.", {
    validate: atLeast(0),
    readOnly: true
  }),
  key("replica.fetch.response.max.bytes", "int", "10485760", "Bytes a follower fetches per request.", {
    validate: atLeast(0),
    readOnly: true
  }),
  key("replica.fetch.backoff.ms", "int", "1000", "Pause of a follower's fetcher after an error.", {
    validate: atLeast(0),
    readOnly: true
  }),
  key("replica.socket.timeout.ms", "int", "30000", "Timeout of a follower's requests to its leader.", {
    validate: atLeast(1),
    readOnly: true
  }),
  key("unclean.leader.election.enable", "boolean", "false", "Allow out-of-sync replicas to lead.", {}),
  key(
    "auto.leader.rebalance.enable",
    "boolean",
    "true",
    "The controller moves leadership back to preferred replicas.",
    {
      readOnly: true
    }
  ),
  key(
    "leader.imbalance.check.interval.seconds",
    "long",
    "300",
    "How often the controller checks the leader imbalance.",
    { validate: atLeast(1), readOnly: true }
  ),
  key(
    "leader.imbalance.per.broker.percentage",
    "int",
    "10",
    "The share of a broker's preferred partitions led elsewhere above which the controller rebalances.",
    { validate: atLeast(0), readOnly: true }
  ),
  key(
    "controlled.shutdown.enable",
    "boolean",
    "true",
    "A stopping broker asks the controller to move its leaderships off first.",
    { readOnly: true }
  ),
  key(
    "eddy.metadata.etcd.endpoints",
    "list",
    null,
    "etcd client URLs of the cluster metadata store (Eddy's own key); unset: an in-process store, this broker alone.",
    { readOnly: true }
  ),
  key("eddy.metadata.etcd.prefix", "string", "/eddy/", "The key prefix of the cluster in etcd (Eddy's own key).", {
    readOnly: true
  }),
  key("offsets.topic.num.partitions", "int", "50", "Partitions of __consumer_offsets.", {
    validate: atLeast(1),
    readOnly: true
  }),
  key(
    "offsets.topic.replication.factor",
    "short",
    "3",
    "Replication factor of __consumer_offsets (capped to the live brokers).",
    {
      validate: atLeast(1),
      readOnly: true
    }
  ),
  key("offsets.topic.segment.bytes", "int", "104857600", "Segment size of __consumer_offsets.", {
    validate: atLeast(1),
    readOnly: true
  }),
  key("offset.metadata.max.bytes", "int", "4096", "Largest committed offset metadata.", { readOnly: true }),
  key("transaction.state.log.num.partitions", "int", "50", "Partitions of __transaction_state.", {
    validate: atLeast(1),
    readOnly: true
  }),
  key(
    "transaction.state.log.replication.factor",
    "short",
    "3",
    "Replication factor of __transaction_state (capped to the live brokers).",
    {
      validate: atLeast(1),
      readOnly: true
    }
  ),
  key("transaction.state.log.min.isr", "int", "1", "min.insync.replicas of __transaction_state.", {
    readOnly: true
  }),
  key("transaction.max.timeout.ms", "int", "900000", "Largest transaction timeout a producer may ask for.", {
    validate: atLeast(1),
    readOnly: true
  }),
  key("group.initial.rebalance.delay.ms", "int", "3000", "Wait for more members before the first rebalance.", {
    readOnly: true
  }),
  key("group.min.session.timeout.ms", "int", "6000", "Smallest session timeout a member may ask for.", {
    readOnly: true
  }),
  key("group.max.session.timeout.ms", "int", "1800000", "Largest session timeout a member may ask for.", {
    readOnly: true
  }),
  key("group.max.size", "int", "2147483647", "Largest number of members of a consumer group.", {
    validate: atLeast(1),
    readOnly: true
  }),
  key("offsets.retention.minutes", "int", "10080", "How long committed offsets of an empty group are kept.", {
    validate: atLeast(1),
    readOnly: true
  }),
  key("offsets.retention.check.interval.ms", "long", "600000", "How often expired offsets are looked for.", {
    validate: atLeast(1),
    readOnly: true
  }),
  key("producer.id.expiration.ms", "int", "86400000", "Idle time before a producer's state expires.", {
    readOnly: true
  }),
  key(
    "transaction.abort.timed.out.transaction.cleanup.interval.ms",
    "int",
    "10000",
    "How often transactions past their timeout are looked for (and aborted).",
    { validate: atLeast(1), readOnly: true }
  )
]

const keyByName = new Map(keys.map((k) => [k.name, k]))

/** The known key called `name`, if any. */
export const findKey = (name: string): ConfigKey | undefined => keyByName.get(name)

/** Kafka's defaults for every known key that has one. */
export const defaults: Readonly<Record<string, string>> = Object.fromEntries(
  keys.flatMap((k) => (k.default === null ? [] : [[k.name, k.default]]))
)

/** A broker configuration: the raw values that were set, validated against {@link keys}. */
export interface BrokerConfig {
  /** Values set explicitly (file and overrides), by Kafka key name; known keys are validated. */
  readonly values: Readonly<Record<string, string>>
  /** Keys that were set but are not known to Eddy (kept, logged as unused). */
  readonly unknownKeys: ReadonlyArray<string>
}

const INT_RE = /^[+-]?\d+$/
const DOUBLE_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

/** Type-checks and validates one value of a known key; returns an error text or undefined. */
export const checkValue = (k: ConfigKey, value: string): string | undefined => {
  const v = value.trim()
  switch (k.type) {
    case "boolean":
      if (v.toLowerCase() !== "true" && v.toLowerCase() !== "false") return "expected true or false"
      break
    case "short":
    case "int":
    case "long": {
      if (!INT_RE.test(v)) return `expected ${k.type === "long" ? "a long" : "an integer"}`
      const n = BigInt(v)
      const [lo, hi] =
        k.type === "short"
          ? [-(2n ** 15n), 2n ** 15n - 1n]
          : k.type === "int"
            ? [-(2n ** 31n), 2n ** 31n - 1n]
            : [-(2n ** 63n), 2n ** 63n - 1n]
      if (n < lo || n > hi) return `out of range for a ${k.type}`
      break
    }
    case "double":
      if (!DOUBLE_RE.test(v)) return "expected a number"
      break
    default:
      break
  }
  return k.validate?.(v)
}

/** Normalizes a value as Kafka prints it (trimmed, booleans lower-cased). */
const normalize = (k: ConfigKey | undefined, value: string): string => {
  const v = value.trim()
  return k?.type === "boolean" ? v.toLowerCase() : v
}

/**
 * Builds a config from explicit values; fails with a {@link BrokerConfigError} naming the first
 * key whose value does not type-check, then checks the listeners.
 */
export const make = (values: Readonly<Record<string, string>>): Effect.Effect<BrokerConfig, BrokerConfigError> =>
  Effect.suspend(() => {
    const out: Record<string, string> = {}
    const unknownKeys: Array<string> = []
    for (const [name, raw] of Object.entries(values)) {
      const k = findKey(name)
      if (k === undefined) {
        unknownKeys.push(name)
        out[name] = raw
        continue
      }
      const problem = checkValue(k, raw)
      if (problem !== undefined) {
        return Effect.fail(
          new BrokerConfigError({ key: name, message: `Invalid value "${raw}" for configuration ${name}: ${problem}` })
        )
      }
      out[name] = normalize(k, raw)
    }
    const config: BrokerConfig = { values: out, unknownKeys }
    return Effect.as(Effect.try({ try: () => listener(config), catch: (e) => e as BrokerConfigError }), config)
  })

/** The built-in defaults only (node 1, 127.0.0.1:9092, data in ./data). */
export const empty: BrokerConfig = { values: {}, unknownKeys: [] }

/** Parses `server.properties` text then applies `key=value` overrides (later wins). */
export const fromProperties = (
  text: string,
  overrides: ReadonlyArray<string> = []
): Effect.Effect<BrokerConfig, BrokerConfigError> =>
  Effect.suspend(() => {
    let values: Record<string, string>
    try {
      values = Object.fromEntries(Properties.parse(text))
    } catch (e) {
      return Effect.fail(new BrokerConfigError({ key: "", message: `Invalid properties: ${(e as Error).message}` }))
    }
    for (const o of overrides) {
      const i = o.indexOf("=")
      if (i <= 0) {
        return Effect.fail(new BrokerConfigError({ key: o, message: `Invalid override "${o}": expected key=value` }))
      }
      values[o.slice(0, i).trim()] = o.slice(i + 1)
    }
    return make(values)
  })

/** Returns a copy of `config` with `values` set (validated). */
export const set = (
  config: BrokerConfig,
  values: Readonly<Record<string, string>>
): Effect.Effect<BrokerConfig, BrokerConfigError> => make({ ...config.values, ...values })

/** The raw value of `name` (explicit, else default), or undefined when neither exists. */
export const get = (config: BrokerConfig, name: string): string | undefined =>
  config.values[name] ?? findKey(name)?.default ?? undefined

/** True when `name` was set explicitly. */
export const isSet = (config: BrokerConfig, name: string): boolean => config.values[name] !== undefined

const toLong = (v: string): number => {
  const n = Number(v)
  return Math.min(n, Number.MAX_SAFE_INTEGER)
}

/** A numeric key (int, long or double); `Long.MAX_VALUE` becomes `Number.MAX_SAFE_INTEGER`. */
export const getNumber = (config: BrokerConfig, name: string): number => {
  const v = get(config, name)
  if (v === undefined) throw new Error(`no value for ${name}`)
  return toLong(v)
}

/** A boolean key. */
export const getBoolean = (config: BrokerConfig, name: string): boolean => get(config, name) === "true"

/** A list key, split on commas. */
export const getList = (config: BrokerConfig, name: string): ReadonlyArray<string> => splitList(get(config, name) ?? "")

/** `node.id`, falling back to `broker.id`. */
export const nodeId = (config: BrokerConfig): number =>
  Number(config.values["node.id"] ?? config.values["broker.id"] ?? defaults["node.id"])

/** The data directories: `log.dirs`, else `log.dir`. */
export const logDirs = (config: BrokerConfig): ReadonlyArray<string> => {
  const dirs = getList(config, "log.dirs")
  return dirs.length > 0 ? dirs : [get(config, "log.dir")!]
}

/** The first data directory, absolute; Eddy keeps its metadata there. */
export const dataDir = (config: BrokerConfig): string => path.resolve(logDirs(config)[0]!)

/** `log.retention.ms`, else minutes, else hours (Kafka's precedence); -1 means forever. */
export const retentionMs = (config: BrokerConfig): number => {
  const ms = config.values["log.retention.ms"]
  if (ms !== undefined) return toLong(ms)
  const minutes = config.values["log.retention.minutes"]
  if (minutes !== undefined) return Number(minutes) * 60_000
  return getNumber(config, "log.retention.hours") * 3_600_000
}

/** `log.roll.ms`, else `log.roll.hours`. */
export const rollMs = (config: BrokerConfig): number => {
  const ms = config.values["log.roll.ms"]
  return ms !== undefined ? toLong(ms) : getNumber(config, "log.roll.hours") * 3_600_000
}

/** `log.roll.jitter.ms`, else `log.roll.jitter.hours`. */
export const rollJitterMs = (config: BrokerConfig): number => {
  const ms = config.values["log.roll.jitter.ms"]
  return ms !== undefined ? toLong(ms) : getNumber(config, "log.roll.jitter.hours") * 3_600_000
}

/** `log.flush.interval.ms`, else `log.flush.scheduler.interval.ms`. */
export const flushIntervalMs = (config: BrokerConfig): number => {
  const ms = config.values["log.flush.interval.ms"]
  return ms !== undefined ? toLong(ms) : getNumber(config, "log.flush.scheduler.interval.ms")
}

/** One listener: `NAME://host:port`. */
export interface Listener {
  readonly name: string
  readonly host: string
  readonly port: number
}

const LISTENER_RE = /^([A-Za-z0-9_]+):\/\/(\[[^\]]*\]|[^:/]*):(\d+)$/

/** Parses a listener list; fails naming `key` on a malformed entry. */
export const parseListeners = (key: string, value: string): ReadonlyArray<Listener> =>
  splitList(value).map((entry) => {
    const m = LISTENER_RE.exec(entry)
    const port = m ? Number(m[3]) : -1
    if (!m || port > 65535) {
      throw new BrokerConfigError({
        key,
        message: `Invalid value "${entry}" for configuration ${key}: expected NAME://host:port`
      })
    }
    const host = m[2]!.startsWith("[") ? m[2]!.slice(1, -1) : m[2]!
    return { name: m[1]!.toUpperCase(), host, port }
  })

/** The client listener the broker binds: the first listener that is not a controller listener. */
export const listener = (config: BrokerConfig): Listener => {
  const controller = new Set(getList(config, "controller.listener.names").map((n) => n.toUpperCase()))
  const all = parseListeners("listeners", get(config, "listeners")!).filter((l) => !controller.has(l.name))
  const first = all[0]
  if (first === undefined) {
    throw new BrokerConfigError({ key: "listeners", message: "Configuration listeners names no client listener" })
  }
  if (first.name !== "PLAINTEXT") {
    const map = getList(config, "listener.security.protocol.map")
    const entry = map.find((m) => m.toUpperCase().startsWith(`${first.name}:`))
    if (entry === undefined || entry.split(":")[1]!.toUpperCase() !== "PLAINTEXT") {
      throw new BrokerConfigError({
        key: "listeners",
        message: `Listener ${first.name} is not PLAINTEXT; only PLAINTEXT listeners are supported`
      })
    }
  }
  return first
}

/**
 * The address clients are told to connect to: the advertised listener with the bound listener's
 * name (else the first), with a wildcard or empty host replaced by this machine's host name and
 * port 0 replaced by `boundPort`.
 */
export const advertisedListener = (config: BrokerConfig, boundPort: number): Listener => {
  const bound = listener(config)
  const advertised = config.values["advertised.listeners"]
  const candidates = advertised === undefined ? [bound] : parseListeners("advertised.listeners", advertised)
  const chosen = candidates.find((l) => l.name === bound.name) ?? candidates[0] ?? bound
  const host = chosen.host === "" || chosen.host === "0.0.0.0" || chosen.host === "::" ? os.hostname() : chosen.host
  return { name: chosen.name, host, port: chosen.port === 0 ? boundPort : chosen.port }
}
