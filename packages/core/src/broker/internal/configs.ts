/**
 * Describing configuration entries (DescribeConfigs, CreateTopics v5+): effective values, sources,
 * synonyms and types for topic and broker resources.
 */
import * as BrokerConfig from "../BrokerConfig.js"
import * as TopicConfig from "../TopicConfig.js"

/** DescribeConfigs `config_source` codes. */
export const Source = {
  UNKNOWN: 0,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5
} as const

/** Config resource types. */
export const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const

/** A synonym: where a value could come from, most specific first. */
export interface Synonym {
  readonly name: string
  readonly value: string | null
  readonly source: number
}

/** One described config entry. */
export interface Entry {
  readonly name: string
  readonly value: string | null
  readonly readOnly: boolean
  readonly source: number
  readonly isSensitive: boolean
  readonly synonyms: ReadonlyArray<Synonym>
  readonly configType: number
  readonly documentation: string
}

/** The entries of a topic with these overrides (all keys, or only `keys` when given). */
export const topicEntries = (
  broker: BrokerConfig.BrokerConfig,
  overrides: Readonly<Record<string, string>>,
  keys: ReadonlyArray<string> | null = null
): Array<Entry> => {
  const wanted = keys === null ? null : new Set(keys)
  const out: Array<Entry> = []
  for (const k of TopicConfig.keys) {
    if (wanted !== null && !wanted.has(k.name)) continue
    const synonyms: Array<Synonym> = []
    const override = overrides[k.name]
    if (override !== undefined) synonyms.push({ name: k.name, value: override, source: Source.DYNAMIC_TOPIC_CONFIG })
    for (const syn of k.synonyms) {
      const v = broker.values[syn]
      if (v !== undefined) synonyms.push({ name: syn, value: v, source: Source.STATIC_BROKER_CONFIG })
    }
    for (const syn of k.synonyms) {
      const d = BrokerConfig.findKey(syn)?.default
      if (d !== undefined && d !== null) {
        synonyms.push({ name: syn, value: d, source: Source.DEFAULT_CONFIG })
        break
      }
    }
    const resolved = TopicConfig.effective(broker, overrides).get(k.name)!
    out.push({
      name: k.name,
      value: resolved.value,
      readOnly: false,
      source: resolved.source,
      isSensitive: false,
      synonyms,
      configType: BrokerConfig.configTypeCode[k.type],
      documentation: k.doc
    })
  }
  return out
}

/** The entries of the broker's own configuration (all known keys, or only `keys`). */
export const brokerEntries = (
  broker: BrokerConfig.BrokerConfig,
  keys: ReadonlyArray<string> | null = null
): Array<Entry> => {
  const wanted = keys === null ? null : new Set(keys)
  const out: Array<Entry> = []
  for (const k of BrokerConfig.keys) {
    if (wanted !== null && !wanted.has(k.name)) continue
    const explicit = broker.values[k.name]
    const sensitive = k.type === "password"
    const synonyms: Array<Synonym> = []
    if (explicit !== undefined) synonyms.push({ name: k.name, value: explicit, source: Source.STATIC_BROKER_CONFIG })
    if (k.default !== null) synonyms.push({ name: k.name, value: k.default, source: Source.DEFAULT_CONFIG })
    const value = explicit ?? k.default
    out.push({
      name: k.name,
      value: sensitive ? null : value,
      readOnly: k.readOnly ?? false,
      source: explicit !== undefined ? Source.STATIC_BROKER_CONFIG : Source.DEFAULT_CONFIG,
      isSensitive: sensitive,
      synonyms: sensitive ? synonyms.map((s) => ({ ...s, value: null })) : synonyms,
      configType: BrokerConfig.configTypeCode[k.type],
      documentation: k.doc
    })
  }
  return out
}
