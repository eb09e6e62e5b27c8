/**
 * Source offsets in an offsets topic, as exactly-once source tasks write and read them: records in Kafka
 * Connect's format (key `["<connector>",{partition}]`, value the offset map as JSON, null for a reset),
 * written by the task's transactional producer inside its transactions, and read back with read_committed
 * (so only offsets of committed transactions count) when a task starts.
 */
import * as Admin from "@eddy/core/client/Admin"
import * as Fetcher from "@eddy/core/client/Fetcher"
import * as Topic from "@eddy/core/client/Topic"
import { Effect } from "effect"
import type { Props, SourceMap } from "../plugin/Connector.js"
import { clientProps } from "./ClientProps.js"
import { keyOf, type PartitionOffset } from "./OffsetStore.js"

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** The offsets-topic records of a connector's offsets (Kafka Connect's JSON key and value). */
export const records = (
  connector: string,
  entries: Iterable<PartitionOffset>
): Array<Topic.ProducerRecord<Uint8Array | null, Uint8Array | null>> =>
  Array.from(entries, (e) => ({
    key: encoder.encode(keyOf(connector, e.partition)),
    value: e.offset === null ? null : encoder.encode(JSON.stringify(e.offset))
  }))

/** Parses an offsets-topic record: its connector, partition and offset (null: reset), or null if it is not one. */
export const parse = (
  key: Uint8Array | null,
  value: Uint8Array | null
): { readonly connector: string; readonly partition: SourceMap; readonly offset: SourceMap | null } | null => {
  if (key === null) return null
  try {
    const k = JSON.parse(decoder.decode(key)) as unknown
    if (!Array.isArray(k) || k.length !== 2 || typeof k[0] !== "string" || typeof k[1] !== "object" || k[1] === null)
      return null
    const offset = value === null ? null : (JSON.parse(decoder.decode(value)) as unknown)
    if (offset !== null && (typeof offset !== "object" || Array.isArray(offset))) return null
    return { connector: k[0], partition: k[1] as SourceMap, offset: offset as SourceMap | null }
  } catch {
    return null
  }
}

/** Creates the offsets topic (compacted; Kafka's `offset.storage.partitions` and `.replication.factor`) if missing. */
export const ensureTopic = (topic: string, workerProps: Props, connectorProps: Props) =>
  Effect.scoped(
    Effect.gen(function* () {
      const admin = yield* Admin.make(clientProps("admin", workerProps, connectorProps) as never)
      const existing = yield* admin.listTopics({ includeInternal: true })
      if (existing.includes(topic)) return
      yield* admin
        .createTopics([
          {
            name: topic,
            numPartitions: Number(workerProps["offset.storage.partitions"] ?? 25),
            replicationFactor: Number(workerProps["offset.storage.replication.factor"] ?? 3),
            configs: { "cleanup.policy": "compact" }
          }
        ])
        .pipe(
          Effect.catchIf(
            (e) => e.message.includes("TOPIC_ALREADY_EXISTS"),
            () => Effect.void
          )
        )
    })
  )

/**
 * A connector's committed offsets in `topic`: every partition read with read_committed from the start to its
 * last stable offset, so an open transaction of another task is waited for and an aborted one never counts.
 */
export const readCommitted = (topic: string, connector: string, workerProps: Props, connectorProps: Props) =>
  Effect.scoped(
    Effect.gen(function* () {
      const props = clientProps("consumer", workerProps, connectorProps)
      const admin = yield* Admin.make(clientProps("admin", workerProps, connectorProps) as never)
      const [description] = yield* admin.describeTopics([topic])
      const partitions = (description?.partitions ?? []).map((p) => p.partition)
      const fetcher = yield* Fetcher.make({
        ...(props as Fetcher.FetcherConfig),
        "isolation.level": "read_committed",
        "auto.offset.reset": "earliest",
        "fetch.max.wait.ms": 50
      })
      const ends = yield* fetcher.resolveOffsets(
        topic,
        partitions.map((partition) => ({ partition, offset: "latest" as const }))
      )
      let positions = yield* fetcher.resolveOffsets(
        topic,
        partitions.map((partition) => ({ partition, offset: "earliest" as const }))
      )
      const offsets = new Map<string, SourceMap>()
      const behind = () => new Map([...positions].filter(([p, o]) => o < (ends.get(p) ?? 0)))
      for (let reading = behind(); reading.size > 0; reading = behind()) {
        const round = yield* fetcher.fetchOnce(Topic.raw(topic), reading)
        for (const r of round.records) {
          const parsed = parse(r.key, r.value)
          if (parsed === null || parsed.connector !== connector) continue
          const key = keyOf(connector, parsed.partition)
          if (parsed.offset === null) offsets.delete(key)
          else offsets.set(key, parsed.offset)
        }
        positions = new Map([...positions, ...round.positions])
      }
      return offsets
    })
  )
