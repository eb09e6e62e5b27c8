/**
 * A low-level partition reader (no consumer group): reads explicit partitions from explicit offsets as a
 * `Stream` of decoded records. Each pull is one Fetch round (one request per leader, in parallel), so the
 * stream's consumer sets the pace. Batches are decompressed, control batches skipped, records below the
 * requested offset dropped (a fetch returns whole batches). OFFSET_OUT_OF_RANGE resets per
 * `auto.offset.reset`; stale leaders refresh metadata and retry.
 */
import { Chunk, type ConfigError, Context, Effect, Layer, Option, type Scope, Stream } from "effect"
import * as Fetch from "../protocol/generated/Fetch.js"
import * as ListOffsets from "../protocol/generated/ListOffsets.js"
import { isProtocolError } from "../protocol/ProtocolError.js"
import * as RecordBatch from "../protocol/RecordBatch.js"
import * as ClientConfig from "./ClientConfig.js"
import * as ClientError from "./ClientError.js"
import * as Cluster from "./Cluster.js"
import * as Topic from "./Topic.js"

/** Fetcher settings (Kafka consumer names and defaults). */
export interface FetcherConfig extends ClientConfig.ClientConfig {
  /** Bytes a Fetch waits for. Default 1. */
  readonly "fetch.min.bytes"?: number
  /** Longest wait of a Fetch for `fetch.min.bytes`. Default 500. */
  readonly "fetch.max.wait.ms"?: number
  /** Bytes per Fetch response. Default 52428800. */
  readonly "fetch.max.bytes"?: number
  /** Bytes per partition per Fetch. Default 1048576. */
  readonly "max.partition.fetch.bytes"?: number
  /** Where to go when an offset is out of range. Default "latest". */
  readonly "auto.offset.reset"?: "earliest" | "latest" | "none"
  /** Default "read_uncommitted". */
  readonly "isolation.level"?: "read_uncommitted" | "read_committed"
}

/** The fetcher's own defaults. */
export const defaults = {
  "fetch.min.bytes": 1,
  "fetch.max.wait.ms": 500,
  "fetch.max.bytes": 52428800,
  "max.partition.fetch.bytes": 1048576,
  "auto.offset.reset": "latest",
  "isolation.level": "read_uncommitted"
} as const

/** Where to start reading a partition: an offset, or the log's start or end. */
export type StartOffset = number | "earliest" | "latest"

/** A partition to read and where to start. */
export interface PartitionStart {
  readonly partition: number
  readonly offset: StartOffset
}

/** Errors of a fetch stream. */
export type FetchError = Cluster.Error | Topic.RecordDecodeError

/** The result of one fetch round. */
export interface FetchRound<K, V> {
  readonly records: Array<Topic.ConsumerRecord<K, V>>
  /** The next offset to fetch per partition. */
  readonly positions: ReadonlyMap<number, number>
  /** The high watermark per partition, as of this round. */
  readonly highWatermarks: ReadonlyMap<number, number>
}

/** A partition reader. */
export interface Fetcher {
  /** Reads `partitions` of `topic` from their start offsets, forever (end the stream with `take` etc.). */
  readonly fetch: {
    <K, V>(
      topic: Topic.Topic<K, V>,
      partitions: ReadonlyArray<PartitionStart>
    ): Stream.Stream<Topic.ConsumerRecord<K, V>, FetchError>
    (
      topic: string,
      partitions: ReadonlyArray<PartitionStart>
    ): Stream.Stream<Topic.ConsumerRecord<Uint8Array | null, Uint8Array | null>, FetchError>
  }
  /** One Fetch round from `positions` (partition -> offset); the building block of `fetch` and consumers. */
  readonly fetchOnce: <K, V>(
    topic: Topic.Topic<K, V>,
    positions: ReadonlyMap<number, number>
  ) => Effect.Effect<FetchRound<K, V>, FetchError>
  /** The offset of `spec` for each partition (ListOffsets: -2 earliest, -1 latest). */
  readonly resolveOffsets: (
    topic: string,
    partitions: ReadonlyArray<PartitionStart>
  ) => Effect.Effect<Map<number, number>, Cluster.Error>
}

/** The Fetcher service. */
export class FetcherTag extends Context.Tag("@eddy/core/client/Fetcher")<FetcherTag, Fetcher>() {}

/** ListOffsets for `timestamps` (partition -> -2 earliest, -1 latest, or a time) against each leader. */
export const listOffsets = (
  cluster: Cluster.Cluster,
  topic: string,
  timestamps: ReadonlyMap<number, number>,
  isolationLevel = 0
): Effect.Effect<Map<number, { offset: number; timestamp: number }>, Cluster.Error> =>
  cluster.retry(
    Effect.gen(function* () {
      const info = yield* cluster.topic(topic)
      const byLeader = new Map<number, Array<number>>()
      for (const p of timestamps.keys()) {
        const leader = info.partitions[p]?.leader ?? -1
        if (leader < 0) return yield* ClientError.fromCode(5, { topic, partition: p })
        const list = byLeader.get(leader) ?? []
        list.push(p)
        byLeader.set(leader, list)
      }
      const out = new Map<number, { offset: number; timestamp: number }>()
      yield* Effect.forEach(
        byLeader,
        ([leader, parts]) =>
          Effect.gen(function* () {
            const res = yield* cluster.send(leader, 2, (v) =>
              ListOffsets.makeListOffsetsRequest({
                // -1: a consumer, answered up to the high watermark (or the last stable offset with
                // read_committed); a broker id would be answered the log end offset
                replicaId: -1,
                ...(v >= 2 ? { isolationLevel } : {}),
                topics: [
                  {
                    name: topic,
                    partitions: parts.map((p) =>
                      ListOffsets.makeListOffsetsRequestListOffsetsPartition({
                        partitionIndex: p,
                        timestamp: BigInt(timestamps.get(p)!)
                      })
                    )
                  }
                ]
              })
            )
            for (const t of res.topics) {
              for (const p of t.partitions) {
                if (p.errorCode !== 0) {
                  cluster.invalidate()
                  return yield* ClientError.fromCode(p.errorCode, { topic, partition: p.partitionIndex })
                }
                const offset = p.oldStyleOffsets.length > 0 ? p.oldStyleOffsets[0]! : p.offset
                out.set(p.partitionIndex, { offset: Number(offset), timestamp: Number(p.timestamp) })
              }
            }
          }),
        { concurrency: "unbounded", discard: true }
      )
      return out
    })
  )

/**
 * read_committed filtering of one partition's fetched batches, as the Java client does it: an aborted
 * transaction `(producerId, firstOffset)` from the response makes that producer's transactional batches
 * from `firstOffset` on skipped, until its ABORT marker. Control batches are never records.
 */
export const abortedFilter = (
  list: ReadonlyArray<{ readonly producerId: bigint; readonly firstOffset: bigint }> | null
): { readonly skips: (header: RecordBatch.RecordBatchHeader, data: Uint8Array, pos: number) => boolean } => {
  const pending = (list ?? [])
    .map((a) => ({ producerId: Number(a.producerId), firstOffset: Number(a.firstOffset) }))
    .sort((a, b) => a.firstOffset - b.firstOffset)
  const abortedProducers = new Set<number>()
  let next = 0
  return {
    skips: (header, data, pos) => {
      const last = RecordBatch.lastOffset(header)
      while (next < pending.length && pending[next]!.firstOffset <= last) {
        abortedProducers.add(pending[next++]!.producerId)
      }
      if (!RecordBatch.isTransactional(header.attributes)) return false
      if (RecordBatch.isControl(header.attributes)) {
        if (abortedProducers.has(header.producerId)) {
          for (const r of RecordBatch.records(data, pos)) {
            if (RecordBatch.decodeControlRecord(r).type === RecordBatch.ControlType.ABORT) {
              abortedProducers.delete(header.producerId)
            }
            break
          }
        }
        return true
      }
      return abortedProducers.has(header.producerId)
    }
  }
}

/** A fetcher in the current scope. */
export const make = (config: FetcherConfig = {}): Effect.Effect<Fetcher, never, Scope.Scope> =>
  Effect.map(Cluster.make({ ...config, "allow.auto.create.topics": false }), (cluster) => makeWith(cluster, config))

/** A fetcher over an existing cluster. */
export const makeWith = (cluster: Cluster.Cluster, config: FetcherConfig = {}): Fetcher => {
  const minBytes = config["fetch.min.bytes"] ?? defaults["fetch.min.bytes"]
  const maxWaitMs = config["fetch.max.wait.ms"] ?? defaults["fetch.max.wait.ms"]
  const maxBytes = config["fetch.max.bytes"] ?? defaults["fetch.max.bytes"]
  const partitionMaxBytes = config["max.partition.fetch.bytes"] ?? defaults["max.partition.fetch.bytes"]
  const reset = config["auto.offset.reset"] ?? defaults["auto.offset.reset"]
  const isolationLevel = (config["isolation.level"] ?? defaults["isolation.level"]) === "read_committed" ? 1 : 0

  const resolveOffsets = (topic: string, partitions: ReadonlyArray<PartitionStart>) =>
    Effect.gen(function* () {
      const out = new Map<number, number>()
      const lookups = new Map<number, number>()
      for (const p of partitions) {
        if (typeof p.offset === "number") out.set(p.partition, p.offset)
        else lookups.set(p.partition, p.offset === "earliest" ? -2 : -1)
      }
      if (lookups.size > 0) {
        const found = yield* listOffsets(cluster, topic, lookups, isolationLevel)
        for (const [p, o] of found) out.set(p, o.offset)
      }
      return out
    })

  const decodeRecord = <K, V>(
    topic: Topic.Topic<K, V>,
    partition: number,
    r: RecordBatch.Record
  ): Topic.ConsumerRecord<K, V> | Topic.RecordDecodeError => {
    let key: K | null = null
    let value: V
    try {
      key = r.key === null ? null : topic.key.decode(r.key)
    } catch (e) {
      return new Topic.RecordDecodeError({
        topic: topic.name,
        partition,
        offset: r.offset,
        field: "key",
        message: Topic.errorMessage(e)
      })
    }
    try {
      value = topic.value.decode(r.value)
    } catch (e) {
      return new Topic.RecordDecodeError({
        topic: topic.name,
        partition,
        offset: r.offset,
        field: "value",
        message: Topic.errorMessage(e)
      })
    }
    return { topic: topic.name, partition, offset: r.offset, timestamp: r.timestamp, key, value, headers: r.headers }
  }

  const fetchOnce = <K, V>(
    topic: Topic.Topic<K, V>,
    positions: ReadonlyMap<number, number>
  ): Effect.Effect<FetchRound<K, V>, FetchError> =>
    Effect.gen(function* () {
      const info = yield* cluster.topic(topic.name)
      const next = new Map(positions)
      const highWatermarks = new Map<number, number>()
      const byLeader = new Map<number, Array<number>>()
      const leaderless: Array<number> = []
      for (const p of positions.keys()) {
        const leader = info.partitions[p]?.leader ?? -1
        if (leader < 0) {
          leaderless.push(p)
          continue
        }
        const list = byLeader.get(leader) ?? []
        list.push(p)
        byLeader.set(leader, list)
      }
      if (leaderless.length > 0) {
        cluster.invalidate()
        if (byLeader.size === 0) return yield* ClientError.fromCode(5, { topic: topic.name, partition: leaderless[0]! })
      }
      const records: Array<Topic.ConsumerRecord<K, V>> = []
      const toReset = new Map<number, number>()
      let stale: ClientError.KafkaError | undefined
      const responses = yield* Effect.forEach(
        byLeader,
        ([leader, parts]) =>
          cluster.send(leader, 1, (v) =>
            Fetch.makeFetchRequest({
              maxWaitMs,
              minBytes,
              maxBytes,
              ...(v >= 4 ? { isolationLevel } : {}),
              topics: [
                {
                  topic: topic.name,
                  topicId: new Uint8Array(16),
                  partitions: parts.map((p) =>
                    Fetch.makeFetchRequestFetchPartition({
                      partition: p,
                      fetchOffset: BigInt(positions.get(p)!),
                      partitionMaxBytes
                    })
                  )
                }
              ]
            })
          ),
        { concurrency: "unbounded" }
      )
      for (const res of responses) {
        if (res.errorCode !== 0) return yield* ClientError.fromCode(res.errorCode, { topic: topic.name })
        for (const t of res.responses) {
          for (const p of t.partitions) {
            const partition = p.partitionIndex
            if (p.errorCode !== 0) {
              if (p.errorCode === 1) {
                if (reset === "none") {
                  return yield* ClientError.fromCode(1, {
                    topic: topic.name,
                    partition,
                    message: `offset ${positions.get(partition)}`
                  })
                }
                toReset.set(partition, reset === "earliest" ? -2 : -1)
                continue
              }
              const error = ClientError.fromCode(p.errorCode, { topic: topic.name, partition })
              if (!error.retriable) return yield* error
              stale = error
              continue
            }
            highWatermarks.set(partition, Number(p.highWatermark))
            const data = p.records
            if (data === null || data.length === 0) continue
            const from = positions.get(partition)!
            let position = from
            let pos = 0
            const aborted = isolationLevel === 1 ? abortedFilter(p.abortedTransactions) : undefined
            try {
              while (pos + RecordBatch.LOG_OVERHEAD <= data.length) {
                const size = RecordBatch.sizeAt(data, pos)
                if (pos + size > data.length) break // a partial batch at the end of the response
                const header = RecordBatch.readHeader(data, pos)
                const last = RecordBatch.lastOffset(header)
                const skip = aborted?.skips(header, data, pos) === true
                if (!skip && !RecordBatch.isControl(header.attributes) && last >= from) {
                  const batchRecords = RecordBatch.decode(data, pos).records
                  for (let i = 0; i < batchRecords.length; i++) {
                    const r = batchRecords[i]!
                    if (r.offset < from) continue
                    const decoded = decodeRecord(topic, partition, r)
                    if (decoded instanceof Topic.RecordDecodeError) return yield* decoded
                    records.push(decoded)
                  }
                }
                if (last + 1 > position) position = last + 1
                pos += size
              }
            } catch (e) {
              if (isProtocolError(e)) return yield* e
              throw e
            }
            next.set(partition, position)
          }
        }
      }
      if (toReset.size > 0) {
        const found = yield* listOffsets(cluster, topic.name, toReset, isolationLevel)
        for (const [p, o] of found) next.set(p, o.offset)
      }
      if (stale !== undefined && records.length === 0) {
        cluster.invalidate()
        return yield* stale
      }
      return { records, positions: next, highWatermarks }
    })

  const fetch = <K, V>(topicIn: Topic.Topic<K, V> | string, partitions: ReadonlyArray<PartitionStart>) => {
    const topic = (typeof topicIn === "string" ? Topic.raw(topicIn) : topicIn) as Topic.Topic<K, V>
    return Stream.unwrap(
      Effect.map(cluster.retry(resolveOffsets(topic.name, partitions)), (start) =>
        Stream.unfoldChunkEffect(start as ReadonlyMap<number, number>, (positions) =>
          Effect.map(cluster.retry(fetchOnce(topic, positions)), (round) =>
            Option.some([Chunk.unsafeFromArray(round.records), round.positions] as const)
          )
        )
      )
    )
  }

  return { fetch: fetch as Fetcher["fetch"], fetchOnce, resolveOffsets }
}

/** A fetcher layer. */
export const layer = (config: FetcherConfig = {}): Layer.Layer<FetcherTag> => Layer.scoped(FetcherTag, make(config))

/** The fetcher keys read by {@link layerConfig}. */
export const configKeys = {
  ...ClientConfig.clientKeys,
  "fetch.min.bytes": "number",
  "fetch.max.wait.ms": "number",
  "fetch.max.bytes": "number",
  "max.partition.fetch.bytes": "number",
  "auto.offset.reset": "string",
  "isolation.level": "string"
} as const

/** A fetcher layer configured from Effect's `ConfigProvider` under Kafka's key names. */
export const layerConfig: Layer.Layer<FetcherTag, ConfigError.ConfigError> = Layer.scoped(
  FetcherTag,
  Effect.flatMap(ClientConfig.fromConfigProvider(configKeys), (c) => make(c as FetcherConfig))
)
