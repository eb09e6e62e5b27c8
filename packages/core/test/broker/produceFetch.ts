/**
 * Helpers of the produce/fetch tests: topics, produce and fetch requests built with the generated codecs.
 */
import { Effect } from "effect"
import * as CreateTopics from "../../src/protocol/generated/CreateTopics.js"
import * as Fetch from "../../src/protocol/generated/Fetch.js"
import * as Metadata from "../../src/protocol/generated/Metadata.js"
import * as Produce from "../../src/protocol/generated/Produce.js"
import * as RecordBatch from "../../src/protocol/RecordBatch.js"
import type { RawClient } from "./util.js"

/** Creates a topic (fails the test when the broker refuses). */
export const createTopic = (client: RawClient, name: string, numPartitions = 1, configs: Record<string, string> = {}) =>
  Effect.gen(function* () {
    const res = yield* client.send(
      19,
      4,
      CreateTopics.makeCreateTopicsRequest({
        timeoutMs: 5000,
        topics: [
          CreateTopics.makeCreateTopicsRequestCreatableTopic({
            name,
            numPartitions,
            replicationFactor: 1,
            configs: Object.entries(configs).map(([n, value]) =>
              CreateTopics.makeCreateTopicsRequestCreatableTopicConfig({ name: n, value })
            )
          })
        ]
      })
    )
    const code = res.topics[0]!.errorCode
    if (code !== 0) throw new Error(`CreateTopics ${name} failed with ${code}: ${res.topics[0]!.errorMessage}`)
  })

/** The topic id of `name` (Metadata v12). */
export const topicId = (client: RawClient, name: string) =>
  Effect.map(
    client.send(3, 12, Metadata.makeMetadataRequest({ topics: [{ name, topicId: new Uint8Array(16) }] })),
    (res) => res.topics[0]!.topicId
  )

/** A batch of records `values` (string values, optional keys). */
export const batch = (
  values: ReadonlyArray<string>,
  options: RecordBatch.EncodeOptions & {
    readonly keys?: ReadonlyArray<string | null>
    readonly timestamp?: number
  } = {}
): Buffer =>
  RecordBatch.encode(
    values.map((v, i) => {
      const key = options.keys?.[i]
      return {
        value: Buffer.from(v),
        key: key === undefined ? Buffer.from(`k${i}`) : key === null ? null : Buffer.from(key),
        ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp })
      }
    }),
    options
  )

/** A produce request for one partition. */
export const produceRequest = (
  topic: string,
  partition: number,
  records: Uint8Array | null,
  acks = 1,
  timeoutMs = 5000
): Produce.ProduceRequest =>
  Produce.makeProduceRequest({
    acks,
    timeoutMs,
    topicData: [
      Produce.makeProduceRequestTopicProduceData({
        name: topic,
        partitionData: [Produce.makeProduceRequestPartitionProduceData({ index: partition, records })]
      })
    ]
  })

/** Produces one partition's records and returns its partition response. */
export const produce = (
  client: RawClient,
  topic: string,
  partition: number,
  records: Uint8Array | null,
  options: { readonly version?: number; readonly acks?: number } = {}
) =>
  Effect.map(
    client.send(0, options.version ?? 9, produceRequest(topic, partition, records, options.acks ?? 1)),
    (res) => res.responses[0]!.partitionResponses[0]!
  )

/** A fetch request. */
export const fetchRequest = (
  partitions: ReadonlyArray<{
    readonly topic: string
    readonly topicId?: Uint8Array
    readonly partition: number
    readonly offset: number
    readonly partitionMaxBytes?: number
    readonly currentLeaderEpoch?: number
  }>,
  options: Partial<Fetch.FetchRequest> = {}
): Fetch.FetchRequest => {
  const topics: Array<Fetch.FetchRequestFetchTopic> = []
  for (const p of partitions) {
    let t = topics[topics.length - 1]
    if (t === undefined || t.topic !== p.topic) {
      t = Fetch.makeFetchRequestFetchTopic({ topic: p.topic, topicId: p.topicId ?? new Uint8Array(16), partitions: [] })
      topics.push(t)
    }
    t.partitions.push(
      Fetch.makeFetchRequestFetchPartition({
        partition: p.partition,
        fetchOffset: BigInt(p.offset),
        partitionMaxBytes: p.partitionMaxBytes ?? 1 << 20,
        currentLeaderEpoch: p.currentLeaderEpoch ?? -1
      })
    )
  }
  return Fetch.makeFetchRequest({
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 50 << 20,
    sessionId: 0,
    sessionEpoch: -1,
    topics,
    ...options
  })
}

/** Fetches one partition from `offset` without waiting; returns its partition data. */
export const fetchOne = (
  client: RawClient,
  topic: string,
  partition: number,
  offset: number,
  version = 11,
  options: Partial<Fetch.FetchRequest> = {}
) =>
  Effect.map(client.send(1, version, fetchRequest([{ topic, partition, offset }], options)), (res) => {
    if (res.errorCode !== 0) throw new Error(`fetch failed with top-level error ${res.errorCode}`)
    return res.responses[0]!.partitions[0]!
  })

/** The values of every record in `records` (v2 batches), as strings. */
export const values = (records: Uint8Array | null): Array<string> => {
  if (records === null) return []
  const out: Array<string> = []
  for (const { position } of RecordBatch.headers(records)) {
    for (const r of RecordBatch.decode(records, position).records) out.push(Buffer.from(r.value ?? []).toString())
  }
  return out
}

/** Offsets of every record in `records` (v2 batches). */
export const offsets = (records: Uint8Array | null): Array<number> => {
  if (records === null) return []
  const out: Array<number> = []
  for (const { position } of RecordBatch.headers(records)) {
    for (const r of RecordBatch.decode(records, position).records) out.push(r.offset)
  }
  return out
}
