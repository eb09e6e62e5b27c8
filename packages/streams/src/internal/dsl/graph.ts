/**
 * Helpers shared by the DSL classes: the position of a stream or table in the builder's graph, repartition
 * topics and stores as Kafka names them.
 */
import type { AnySerde, Materialized, StreamPartitioner } from "../../dsl/Options.js"
import * as VersionedStore from "../store/VersionedStore.js"
import type { InternalBuilder } from "./InternalBuilder.js"
import * as P from "./statelessProcessors.js"

/** Where a stream or table is: the node its next operation attaches to, and what is known of its records. */
export interface Position {
  readonly builder: InternalBuilder
  readonly node: string
  readonly keySerde: AnySerde | undefined
  readonly valueSerde: AnySerde | undefined
  /** A key-changing operation happened since the last repartition: a keyed stateful one must repartition. */
  readonly repartitionRequired: boolean
  /** Set on a windowed aggregation's table: how its windows close (what `suppress(untilWindowCloses)` needs). */
  readonly windowed?: WindowClosing | undefined
}

/** When a windowed table's windows close: stream time reaches the window's exclusive end + grace. */
export interface WindowClosing {
  /** Time windows end before `end`; sliding and session windows include their end. */
  readonly endInclusive: boolean
  readonly graceMs: number
}

/** Kafka's internal topic configs of a repartition topic: delete policy, infinite retention. */
export const repartitionConfigs = {
  "cleanup.policy": "delete",
  "retention.ms": "-1",
  "segment.bytes": "52428800"
}

/**
 * Adds `<prefix>-repartition`: a sink to it (after a null-key filter for grouped streams) and a source from
 * it, named `<prefix>-repartition-{filter,sink,source}` when the user named the operation, else generated
 * in Kafka's order (sink, filter, source). Returns the new source's name.
 */
export const addRepartition = (
  pos: Position,
  options: {
    readonly prefix: string
    readonly userNamed: boolean
    readonly nullKeyFilter: boolean
    readonly keySerde: AnySerde | undefined
    readonly valueSerde: AnySerde | undefined
    readonly numberOfPartitions?: number | undefined
    readonly partitioner?: StreamPartitioner<unknown, unknown> | undefined
  }
): string => {
  const b = pos.builder
  const topic = options.prefix.endsWith("-repartition") ? options.prefix : `${options.prefix}-repartition`
  let sink: string
  let filter: string | undefined
  let source: string
  if (options.userNamed) {
    filter = options.nullKeyFilter ? `${topic}-filter` : undefined
    sink = `${topic}-sink`
    source = `${topic}-source`
  } else {
    sink = b.newName("KSTREAM-SINK-")
    filter = options.nullKeyFilter ? b.newName("KSTREAM-FILTER-") : undefined
    source = b.newName("KSTREAM-SOURCE-")
  }
  b.addInternalTopic({
    name: topic,
    kind: "repartition",
    numberOfPartitions: options.numberOfPartitions,
    configs: repartitionConfigs
  })
  let parent = pos.node
  if (filter !== undefined) {
    b.addProcessor(filter, P.nullKeyFilter, [parent])
    parent = filter
  }
  b.addSink(sink, topic, [parent], options.keySerde, options.valueSerde, options.partitioner)
  b.addSource(source, [topic], options.keySerde, options.valueSerde)
  return source
}

/** The versioned store supplier of `materialized`, if it has one. */
export const versionedSupplier = (materialized: Materialized<unknown, unknown> | undefined) => {
  const supplier = materialized?.storeSupplier
  return typeof supplier === "object" && "versioned" in supplier ? supplier : undefined
}

/** Kafka's extra compaction lag of versioned changelogs beyond the history retention (24 h). */
const VERSIONED_CHANGELOG_EXTRA_LAG_MS = 86_400_000

/** Declares a materialized key-value store (a versioned one for a versioned supplier: never cached). */
export const addStore = (
  b: InternalBuilder,
  name: string,
  materialized: Materialized<unknown, unknown> | undefined,
  keySerde: AnySerde | undefined,
  valueSerde: AnySerde | undefined,
  usedBy: string,
  global = false
): void => {
  // global tables are always plain key-value stores
  const versioned = global ? undefined : versionedSupplier(materialized)
  const supplier = materialized?.storeSupplier
  b.addStore({
    name,
    keySerde: materialized?.keySerde ?? keySerde,
    valueSerde: materialized?.valueSerde ?? valueSerde,
    loggingEnabled: materialized?.loggingEnabled ?? true,
    cachingEnabled: versioned === undefined && (materialized?.cachingEnabled ?? true),
    logConfig:
      versioned === undefined
        ? (materialized?.logConfig ?? {})
        : {
            "min.compaction.lag.ms": String(versioned.historyRetention + VERSIONED_CHANGELOG_EXTRA_LAG_MS),
            ...materialized?.logConfig
          },
    supplier: typeof supplier === "object" && "versioned" in supplier ? undefined : supplier,
    storeType: materialized?.storeType,
    global,
    usedBy,
    open: versioned === undefined ? undefined : VersionedStore.opener(versioned)
  })
}
