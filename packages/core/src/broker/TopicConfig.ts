/**
 * Topic-level configuration: Kafka's topic config names, their broker-level synonyms and types,
 * validation (INVALID_CONFIG) and the effective {@link LogConfig} of a topic.
 */
import * as LogConfig from "../log/LogConfig.js"
import * as BrokerConfig from "./BrokerConfig.js"
import { atLeast, oneOf } from "./internal/validate.js"

/** One topic-level key and the broker key whose value is its default. */
export interface TopicConfigKey {
  readonly name: string
  readonly type: BrokerConfig.ConfigType
  /** Broker keys consulted for the default, most specific first (e.g. `log.retention.ms`, `.hours`). */
  readonly synonyms: ReadonlyArray<string>
  readonly doc: string
  readonly validate?: (value: string) => string | undefined
}

const t = (
  name: string,
  type: BrokerConfig.ConfigType,
  synonyms: ReadonlyArray<string>,
  doc: string,
  validate?: (value: string) => string | undefined
): TopicConfigKey => (validate === undefined ? { name, type, synonyms, doc } : { name, type, synonyms, doc, validate })

/** The topic-level keys Eddy accepts, in Kafka's names. */
export const keys: ReadonlyArray<TopicConfigKey> = [
  t("cleanup.policy", "list", ["log.cleanup.policy"], "delete and/or compact.", (v) => {
    const items = v
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "")
    return items.length > 0 && items.every((i) => i === "delete" || i === "compact")
      ? undefined
      : "must be a list of delete, compact"
  }),
  t(
    "compression.type",
    "string",
    ["compression.type"],
    "Compression of stored batches.",
    oneOf(...BrokerConfig.compressionTypes)
  ),
  t(
    "compression.gzip.level",
    "int",
    ["compression.gzip.level"],
    "gzip level when compression.type is gzip.",
    BrokerConfig.checkGzipLevel
  ),
  t(
    "compression.zstd.level",
    "int",
    ["compression.zstd.level"],
    "zstd level when compression.type is zstd.",
    BrokerConfig.checkZstdLevel
  ),
  t(
    "delete.retention.ms",
    "long",
    ["log.cleaner.delete.retention.ms"],
    "How long tombstones are kept on compacted topics.",
    atLeast(0)
  ),
  t(
    "file.delete.delay.ms",
    "long",
    ["log.segment.delete.delay.ms"],
    "Delay before a deleted segment's file is removed.",
    atLeast(0)
  ),
  t("flush.messages", "long", ["log.flush.interval.messages"], "Messages appended before a flush.", atLeast(1)),
  t(
    "flush.ms",
    "long",
    ["log.flush.interval.ms", "log.flush.scheduler.interval.ms"],
    "Time before a flush.",
    atLeast(0)
  ),
  t("index.interval.bytes", "int", ["log.index.interval.bytes"], "Bytes between offset index entries.", atLeast(0)),
  t(
    "max.compaction.lag.ms",
    "long",
    ["log.cleaner.max.compaction.lag.ms"],
    "Maximum age of an uncompacted record.",
    atLeast(1)
  ),
  t("max.message.bytes", "int", ["message.max.bytes"], "Largest record batch accepted.", atLeast(0)),
  t(
    "message.timestamp.type",
    "string",
    ["log.message.timestamp.type"],
    "CreateTime or LogAppendTime.",
    oneOf("CreateTime", "LogAppendTime")
  ),
  t(
    "message.timestamp.before.max.ms",
    "long",
    ["log.message.timestamp.before.max.ms"],
    "How far in the past a record timestamp may be.",
    atLeast(0)
  ),
  t(
    "message.timestamp.after.max.ms",
    "long",
    ["log.message.timestamp.after.max.ms"],
    "How far in the future a record timestamp may be.",
    atLeast(0)
  ),
  t(
    "min.cleanable.dirty.ratio",
    "double",
    ["log.cleaner.min.cleanable.ratio"],
    "Dirty ratio that triggers compaction.",
    (v) => (Number(v) < 0 || Number(v) > 1 ? "must be between 0 and 1" : undefined)
  ),
  t(
    "min.compaction.lag.ms",
    "long",
    ["log.cleaner.min.compaction.lag.ms"],
    "Minimum age of a record before compaction.",
    atLeast(0)
  ),
  t(
    "min.insync.replicas",
    "int",
    ["min.insync.replicas"],
    "Replicas that must acknowledge an acks=all produce.",
    atLeast(1)
  ),
  t("preallocate", "boolean", ["log.preallocate"], "Preallocate segment files."),
  t("retention.bytes", "long", ["log.retention.bytes"], "Size to keep per partition; -1 keeps all."),
  t(
    "retention.ms",
    "long",
    ["log.retention.ms", "log.retention.minutes", "log.retention.hours"],
    "Time to keep a segment; -1 keeps forever.",
    atLeast(-1)
  ),
  t("segment.bytes", "int", ["log.segment.bytes"], "Size of a segment file.", atLeast(14)),
  t("segment.index.bytes", "int", ["log.index.size.max.bytes"], "Size of an offset index file.", atLeast(4)),
  t(
    "segment.jitter.ms",
    "long",
    ["log.roll.jitter.ms", "log.roll.jitter.hours"],
    "Random jitter subtracted from the roll time.",
    atLeast(0)
  ),
  t("segment.ms", "long", ["log.roll.ms", "log.roll.hours"], "Time before a new segment is rolled.", atLeast(1)),
  t("unclean.leader.election.enable", "boolean", ["unclean.leader.election.enable"], "Allow out-of-sync leaders.")
]

const byName = new Map(keys.map((k) => [k.name, k]))

/** The topic-level key called `name`, if any. */
export const findKey = (name: string): TopicConfigKey | undefined => byName.get(name)

/** Validates one topic config value; returns an error text naming the key, or undefined when valid. */
export const check = (name: string, value: string | null): string | undefined => {
  const k = byName.get(name)
  if (k === undefined) return `Unknown topic config name: ${name}`
  if (value === null) return `Null value not supported for topic config ${name}`
  const problem = BrokerConfig.checkValue(
    { name, type: k.type, default: null, doc: k.doc, ...(k.validate ? { validate: k.validate } : {}) },
    value
  )
  return problem === undefined ? undefined : `Invalid value ${value} for configuration ${name}: ${problem}`
}

/** Normalizes a valid value as Kafka stores it (trimmed, lists without spaces, booleans lower-case). */
export const normalize = (name: string, value: string): string => {
  const k = byName.get(name)
  const v = value.trim()
  if (k?.type === "boolean") return v.toLowerCase()
  if (k?.type === "list")
    return v
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "")
      .join(",")
  return v
}

/** Where a topic key's effective value comes from. */
export interface ResolvedValue {
  readonly value: string | null
  /** DescribeConfigs config_source: 1 topic, 4 static broker config, 5 default. */
  readonly source: 1 | 4 | 5
  /** The key the value was read from (the topic key itself, or a broker synonym). */
  readonly from: string
}

const HOURS = 3_600_000
const MINUTES = 60_000

/** The broker-level default for a topic key, following its synonyms (hours/minutes scaled to ms). */
export const brokerDefault = (broker: BrokerConfig.BrokerConfig, k: TopicConfigKey): ResolvedValue => {
  for (const syn of k.synonyms) {
    const v = broker.values[syn]
    if (v !== undefined) return { value: scale(syn, v), source: 4, from: syn }
  }
  for (const syn of k.synonyms) {
    const d = BrokerConfig.findKey(syn)?.default
    if (d !== undefined && d !== null) return { value: scale(syn, d), source: 5, from: syn }
  }
  return { value: null, source: 5, from: k.synonyms[0] ?? k.name }
}

const scale = (syn: string, v: string): string =>
  syn.endsWith(".hours") ? String(Number(v) * HOURS) : syn.endsWith(".minutes") ? String(Number(v) * MINUTES) : v

/** The effective value of every topic key given the topic's overrides. */
export const effective = (
  broker: BrokerConfig.BrokerConfig,
  overrides: Readonly<Record<string, string>>
): ReadonlyMap<string, ResolvedValue> => {
  const out = new Map<string, ResolvedValue>()
  for (const k of keys) {
    const o = overrides[k.name]
    out.set(k.name, o !== undefined ? { value: o, source: 1, from: k.name } : brokerDefault(broker, k))
  }
  return out
}

const num = (v: string | null | undefined, fallback: number): number => {
  if (v === null || v === undefined) return fallback
  const n = Number(v)
  return Math.min(n, Number.MAX_SAFE_INTEGER)
}

/** The {@link LogConfig.LogConfig} of a topic: its overrides over the broker's defaults. */
export const toLogConfig = (
  broker: BrokerConfig.BrokerConfig,
  overrides: Readonly<Record<string, string>>
): LogConfig.LogConfig => {
  const e = effective(broker, overrides)
  const v = (name: string) => e.get(name)?.value
  const d = LogConfig.defaults
  const policy = new Set((v("cleanup.policy") ?? "delete").split(","))
  const cleanup: LogConfig.CleanupPolicy =
    policy.has("compact") && policy.has("delete") ? "compact,delete" : policy.has("compact") ? "compact" : "delete"
  return {
    ...d,
    "segment.bytes": num(v("segment.bytes"), d["segment.bytes"]),
    "segment.ms": num(v("segment.ms"), d["segment.ms"]),
    "segment.index.bytes": num(v("segment.index.bytes"), d["segment.index.bytes"]),
    "index.interval.bytes": num(v("index.interval.bytes"), d["index.interval.bytes"]),
    "retention.ms": num(v("retention.ms"), d["retention.ms"]),
    "retention.bytes": num(v("retention.bytes"), d["retention.bytes"]),
    "cleanup.policy": cleanup,
    "delete.retention.ms": num(v("delete.retention.ms"), d["delete.retention.ms"]),
    "min.compaction.lag.ms": num(v("min.compaction.lag.ms"), d["min.compaction.lag.ms"]),
    "min.cleanable.dirty.ratio": num(v("min.cleanable.dirty.ratio"), d["min.cleanable.dirty.ratio"]),
    "flush.messages": num(v("flush.messages"), d["flush.messages"]),
    "flush.ms": num(v("flush.ms"), d["flush.ms"]),
    "file.delete.delay.ms": num(v("file.delete.delay.ms"), d["file.delete.delay.ms"]),
    "message.timestamp.type": v("message.timestamp.type") === "LogAppendTime" ? "LogAppendTime" : "CreateTime",
    "max.message.bytes": num(v("max.message.bytes"), d["max.message.bytes"])
  }
}
