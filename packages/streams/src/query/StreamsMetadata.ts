/**
 * Interactive-query discovery (Kafka Streams' `StreamsMetadata`, `KeyQueryMetadata`, `QueryableStoreTypes`):
 * which instance (`application.server`) hosts which stores and partitions, and which one holds a given key,
 * computed from the host map every member receives in the `stream` assignor's assignment. Pure functions
 * over plain data; `KafkaStreams` exposes them as `streamsMetadata`, `allMetadataForStore` and
 * `queryMetadataForKey`.
 */
import { partitionForKey } from "@eddy/core/client/Partitioner"
import type { Serde } from "../dsl/Options.js"
import type { AssignmentInfo } from "../internal/assignment/info.js"
import type { ValueAndTimestamp } from "../internal/store/ValueAndTimestamp.js"
import type { ReadOnlyKeyValueStore } from "../state/KeyValueStore.js"
import type { ReadOnlySessionStore } from "../state/SessionStore.js"
import type { ReadOnlyVersionedKeyValueStore } from "../state/VersionedKeyValueStore.js"
import type { ReadOnlyWindowStore } from "../state/WindowStore.js"
import * as Topology from "../topology/Topology.js"

/** An instance's `application.server`. */
export interface HostInfo {
  readonly host: string
  readonly port: number
}

/** What one instance hosts (Kafka's `StreamsMetadata`). */
export interface StreamsMetadata {
  readonly hostInfo: HostInfo
  /** Stores of its active tasks. */
  readonly stateStoreNames: ReadonlyArray<string>
  readonly topicPartitions: ReadonlyArray<{ readonly topic: string; readonly partition: number }>
  /** Stores of its standby tasks. */
  readonly standbyStateStoreNames: ReadonlyArray<string>
  readonly standbyTopicPartitions: ReadonlyArray<{ readonly topic: string; readonly partition: number }>
}

/** Where a key of a store lives (Kafka's `KeyQueryMetadata`): the active host, the standby hosts, the partition. */
export interface KeyQueryMetadata {
  readonly activeHost: HostInfo
  readonly standbyHosts: ReadonlyArray<HostInfo>
  readonly partition: number
}

/** The kinds of store interactive queries read. */
export type QueryableStoreKind =
  | "keyValue"
  | "timestampedKeyValue"
  | "window"
  | "timestampedWindow"
  | "session"
  | "versioned"

/** The read-only store `KafkaStreams.store` hands out for a kind. */
export type QueryableStore<K, V, Kind extends QueryableStoreKind> = Kind extends "window" | "timestampedWindow"
  ? ReadOnlyWindowStore<K, V>
  : Kind extends "session"
    ? ReadOnlySessionStore<K, V>
    : Kind extends "versioned"
      ? ReadOnlyVersionedKeyValueStore<K, V>
      : ReadOnlyKeyValueStore<K, V>

/** The kind of read-only store `KafkaStreams.store` hands out (Kafka's `QueryableStoreType`). */
export interface QueryableStoreType<K, V, Kind extends QueryableStoreKind> {
  readonly kind: Kind
  readonly _K?: (_: K) => K
  readonly _V?: (_: V) => V
}

/** Kafka's `QueryableStoreTypes`. */
export const QueryableStoreTypes = {
  /** A read-only key-value store: plain values. */
  keyValueStore: <K, V>(): QueryableStoreType<K, V, "keyValue"> => ({ kind: "keyValue" }),
  /** A read-only key-value store whose values come with their timestamps. */
  timestampedKeyValueStore: <K, V>(): QueryableStoreType<K, ValueAndTimestamp<V>, "timestampedKeyValue"> => ({
    kind: "timestampedKeyValue"
  }),
  /** A read-only window store (windowed aggregations): plain values per key and window start. */
  windowStore: <K, V>(): QueryableStoreType<K, V, "window"> => ({ kind: "window" }),
  /** A read-only window store whose values come with their timestamps. */
  timestampedWindowStore: <K, V>(): QueryableStoreType<K, ValueAndTimestamp<V>, "timestampedWindow"> => ({
    kind: "timestampedWindow"
  }),
  /** A read-only session store (session-windowed aggregations). */
  sessionStore: <K, V>(): QueryableStoreType<K, V, "session"> => ({ kind: "session" }),
  /** A versioned table's store, read by key (latest) or by key as of a time (Kafka's `VersionedKeyQuery`). */
  versionedKeyValueStore: <K, V>(): QueryableStoreType<K, V, "versioned"> => ({ kind: "versioned" })
}

/** The kind of a store spec: key-value, window, session or versioned (other kinds are not queryable). */
export const specKind = (spec: {
  readonly windowed?: { readonly kind: "window" | "session" } | undefined
  readonly open?: unknown
}): "keyValue" | "window" | "session" | "versioned" =>
  spec.windowed?.kind ?? (spec.open === undefined ? "keyValue" : "versioned")

/** Reads `host:port` (undefined when it is not one). */
export const parseHostInfo = (endpoint: string): HostInfo | undefined => {
  const i = endpoint.lastIndexOf(":")
  if (i <= 0) return undefined
  const port = Number(endpoint.slice(i + 1))
  return Number.isInteger(port) && port > 0 && port < 65536 ? { host: endpoint.slice(0, i), port } : undefined
}

/** `host:port` of a host. */
export const hostString = (h: HostInfo): string => `${h.host}:${h.port}`

/** The sub-topology that owns `store` and the topics (full names) its tasks read. */
export const storeSubtopology = (topology: Topology.Topology<unknown>, applicationId: string, store: string) => {
  const sub = topology.subtopologies.find((s) => s.stores.includes(store))
  if (sub === undefined) return undefined
  return { sub, topics: sub.sourceTopics.map((t) => Topology.resolveTopic(topology, applicationId, t)) }
}

const storesOf = (
  topology: Topology.Topology<unknown>,
  applicationId: string,
  partitions: ReadonlyArray<{ readonly topic: string }>
): Array<string> => {
  const topics = new Set(partitions.map((p) => p.topic))
  const out = new Set<string>()
  for (const s of topology.subtopologies) {
    if (s.sourceTopics.some((t) => topics.has(Topology.resolveTopic(topology, applicationId, t)))) {
      for (const store of s.stores) out.add(store)
    }
  }
  return [...out].sort()
}

/** Every instance with an `application.server`, from the assignment's host map. */
export const allMetadata = (
  topology: Topology.Topology<unknown>,
  applicationId: string,
  info: AssignmentInfo | undefined
): Array<StreamsMetadata> => {
  const out: Array<StreamsMetadata> = []
  for (const h of info?.hosts ?? []) {
    const hostInfo = parseHostInfo(h.endpoint)
    if (hostInfo === undefined) continue
    out.push({
      hostInfo,
      stateStoreNames: storesOf(topology, applicationId, h.active),
      topicPartitions: h.active,
      standbyStateStoreNames: storesOf(topology, applicationId, h.standby),
      standbyTopicPartitions: h.standby
    })
  }
  return out
}

/** Where `key` of `store` lives; undefined when no instance hosts its partition (yet). */
export const metadataForKey = <K>(
  topology: Topology.Topology<unknown>,
  applicationId: string,
  info: AssignmentInfo | undefined,
  counts: ReadonlyMap<string, number>,
  store: string,
  key: K,
  keySerde: Serde<K>
): KeyQueryMetadata | undefined => {
  const owner = storeSubtopology(topology, applicationId, store)
  if (owner === undefined) return undefined
  const n = Math.max(0, ...owner.topics.map((t) => counts.get(t) ?? 0))
  const bytes = keySerde.encode(key)
  if (n === 0 || bytes === null) return undefined
  const partition = partitionForKey(bytes, n)
  const has = (ps: ReadonlyArray<{ readonly topic: string; readonly partition: number }>) =>
    ps.some((p) => p.partition === partition && owner.topics.includes(p.topic))
  let activeHost: HostInfo | undefined
  const standbyHosts: Array<HostInfo> = []
  for (const h of info?.hosts ?? []) {
    const hostInfo = parseHostInfo(h.endpoint)
    if (hostInfo === undefined) continue
    if (has(h.active)) activeHost = hostInfo
    else if (has(h.standby)) standbyHosts.push(hostInfo)
  }
  return activeHost === undefined ? undefined : { activeHost, standbyHosts, partition }
}
