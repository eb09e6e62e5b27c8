// Fetch v0-17: v0-3 legacy message sets (down-converted, zstd cannot be); v3 max_bytes (KIP-74); v4 isolation_level, last_stable_offset (KIP-98); v5 log_start_offset (KIP-107); v7 fetch sessions (KIP-227); v9 current_leader_epoch (KIP-320); v10 zstd topics (KIP-110: below v10, a topic whose compression.type is zstd is refused; zstd batches of other topics are served as stored from v4); v11 rack_id (KIP-392); v12 flexible (KIP-482); v13 topic ids (KIP-516); v15-17 replica_state/directory ids (KIP-903, KIP-853).
import { Clock, Deferred, Effect, Exit } from "effect"
import * as Fetch from "../../protocol/generated/Fetch.js"
import * as MessageSet from "../../protocol/MessageSet.js"
import * as RecordBatch from "../../protocol/RecordBatch.js"
import { Codes, toWire, type WireError } from "../BrokerError.js"
import * as FetchSession from "../FetchSession.js"
import * as Handler from "../Handler.js"
import * as Uuid from "../internal/uuid.js"
import {
  checkLeaderEpoch,
  FetchSessionIdNotFound,
  InvalidFetchSessionEpoch,
  notHostedHere,
  UnsupportedCompressionType
} from "../PartitionError.js"
import type { PartitionReplica } from "../PartitionReplica.js"
import { ReplicaManager } from "../ReplicaManager.js"
import * as TopicConfig from "../TopicConfig.js"
import { type Topic, TopicRegistry } from "../TopicRegistry.js"

/** One partition to read. */
interface Wanted {
  readonly topic: string
  readonly topicId: Uint8Array
  readonly partition: number
  readonly fetchOffset: number
  readonly partitionMaxBytes: number
  readonly currentLeaderEpoch: number
  /** Set when the topic id could not be resolved. */
  readonly error?: WireError
}

/** What one read pass found for a partition. */
interface Result {
  readonly wanted: Wanted
  readonly replica: PartitionReplica | undefined
  readonly errorCode: number
  readonly highWatermark: number
  readonly lastStableOffset: number
  readonly logStartOffset: number
  readonly records: Uint8Array
  /** The offset past which new data should wake a parked fetch. */
  readonly parkAt: number
  /** read_committed: the aborted transactions overlapping the records returned. */
  readonly aborted?: ReadonlyArray<{ readonly producerId: number; readonly firstOffset: number }>
}

const EMPTY = new Uint8Array(0)

/**
 * The bytes of `records` a legacy (v0-3) fetch can be answered with: the batches before the first zstd batch,
 * which cannot be down-converted (Kafka sends the converted batches before it, and UNSUPPORTED_COMPRESSION_TYPE
 * once the fetch starts at it). 0 when no data batch precedes a zstd batch (control batches convert to nothing).
 * Scans batch headers only.
 */
export const downConvertibleBytes = (records: Uint8Array): number => {
  let pos = 0
  let data = false
  while (pos + RecordBatch.HEADER_SIZE <= records.length) {
    const attributes = records[pos + RecordBatch.Field.attributes + 1]!
    if ((attributes & RecordBatch.Attributes.compressionMask) === RecordBatch.Compression.zstd) return data ? pos : 0
    if ((attributes & RecordBatch.Attributes.control) === 0) data = true
    pos += RecordBatch.sizeAt(records, pos)
  }
  return records.length
}

// Topic values are immutable (a config change replaces the object), so they key a cache safely.
const zstdTopics = new WeakMap<Topic, boolean>()
/** True when the topic's effective `compression.type` (its own, else the broker's) is zstd. */
const isZstdTopic = (topic: Topic, context: Handler.RequestContext): boolean => {
  let zstd = zstdTopics.get(topic)
  if (zstd === undefined) {
    zstd = TopicConfig.effective(context.broker.config, topic.configs).get("compression.type")?.value === "zstd"
    zstdTopics.set(topic, zstd)
  }
  return zstd
}

const zstdNeedsV10 = (topic: string) =>
  new UnsupportedCompressionType({ message: `Topic ${topic} has compression.type zstd: fetching it needs Fetch v10` })

const errorResult = (wanted: Wanted, errorCode: number, replica?: PartitionReplica): Result => ({
  wanted,
  replica,
  errorCode,
  highWatermark: -1,
  lastStableOffset: -1,
  logStartOffset: -1,
  records: EMPTY,
  parkAt: -1
})

const topLevelError = (error: WireError): Fetch.FetchResponse =>
  Fetch.makeFetchResponse({ errorCode: error.errorCode, sessionId: 0, responses: [] })

export const handler = Handler.make({
  apiKey: Fetch.apiKey,
  minVersion: Fetch.validVersions.min,
  maxVersion: Fetch.validVersions.max,
  handle: (request, context) =>
    Effect.gen(function* () {
      const version = context.apiVersion
      const replicas = yield* ReplicaManager
      const registry = yield* TopicRegistry
      const sessions = replicas.fetchSessions
      // a fetch carrying a replica id is a follower's: read up to the log end, not the high watermark
      const follower = version >= 15 ? request.replicaState.replicaId : request.replicaId
      const fromFollower = follower >= 0
      const readCommitted = !fromFollower && version >= 4 && request.isolationLevel === 1
      // v0-3 answer legacy message sets of this magic
      const magic: 0 | 1 | undefined = version <= 1 ? 0 : version <= 3 ? 1 : undefined

      // topic ids (v13+) to names
      const names = new Map<string, string | undefined>()
      const nameOf = (topicId: Uint8Array) =>
        Effect.gen(function* () {
          const id = Uuid.format(topicId)
          if (!names.has(id)) names.set(id, Uuid.isZero(topicId) ? undefined : (yield* registry.getById(id))?.name)
          return names.get(id)
        })
      const requested: Array<Wanted> = []
      for (const t of request.topics) {
        const name = version >= 13 ? yield* nameOf(t.topicId) : t.topic
        for (const p of t.partitions) {
          const base = {
            topic: name ?? "",
            topicId: t.topicId,
            partition: p.partition,
            fetchOffset: Number(p.fetchOffset),
            partitionMaxBytes: p.partitionMaxBytes,
            currentLeaderEpoch: version >= 9 ? p.currentLeaderEpoch : -1
          }
          requested.push(
            name === undefined
              ? { ...base, error: { errorCode: Codes.UNKNOWN_TOPIC_ID, errorMessage: "Unknown topic id" } }
              : base
          )
        }
      }

      // KIP-227: decide the partition list and the session
      let list: ReadonlyArray<Wanted> = requested
      let session: FetchSession.FetchSession | undefined
      let incremental = false
      if (version >= 7) {
        const { sessionId, sessionEpoch } = request
        if (sessionEpoch === FetchSession.FINAL_EPOCH || sessionEpoch === FetchSession.INITIAL_EPOCH) {
          if (sessionId !== 0) sessions.remove(sessionId)
          if (sessionEpoch === FetchSession.INITIAL_EPOCH) {
            session = sessions.create(
              requested
                .filter((w) => w.error === undefined)
                .map((w) => ({ ...w, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1 }))
            )
          }
        } else {
          const found = sessions.get(sessionId)
          if (found === undefined) {
            return topLevelError(
              toWire(new FetchSessionIdNotFound({ message: `Fetch session ${sessionId} not found` }))
            )
          }
          if (found.epoch !== sessionEpoch) {
            return topLevelError(
              toWire(
                new InvalidFetchSessionEpoch({
                  message: `Fetch session ${sessionId} expected epoch ${found.epoch}, got ${sessionEpoch}`
                })
              )
            )
          }
          for (const f of request.forgottenTopicsData) {
            const name = version >= 13 ? yield* nameOf(f.topicId) : f.topic
            if (name !== undefined) for (const p of f.partitions) found.partitions.delete(FetchSession.key(name, p))
          }
          const unresolved: Array<Wanted> = []
          for (const w of requested) {
            if (w.error !== undefined) {
              unresolved.push(w)
              continue
            }
            const k = FetchSession.key(w.topic, w.partition)
            const cached = found.partitions.get(k)
            if (cached === undefined) {
              found.partitions.set(k, { ...w, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1 })
            } else {
              cached.fetchOffset = w.fetchOffset
              cached.partitionMaxBytes = w.partitionMaxBytes
              cached.currentLeaderEpoch = w.currentLeaderEpoch
            }
          }
          found.epoch = FetchSession.nextEpoch(found.epoch)
          session = found
          incremental = true
          list = [...found.partitions.values(), ...unresolved]
        }
      }

      // KIP-110: below v10, a zstd topic is refused whatever its data (looked up once per topic and request)
      const zstdTopic = new Map<string, boolean>()
      const refusedAsZstd = (name: string) =>
        Effect.gen(function* () {
          if (version >= 10) return false
          let refused = zstdTopic.get(name)
          if (refused === undefined) {
            const topic = yield* registry.get(name)
            refused = topic !== undefined && isZstdTopic(topic, context)
            zstdTopic.set(name, refused)
          }
          return refused
        })

      const readOne = (w: Wanted, budget: number, first: boolean): Effect.Effect<Result> =>
        Effect.gen(function* () {
          if (w.error !== undefined) return errorResult(w, w.error.errorCode)
          const replica = replicas.get(w.topic, w.partition)
          if (replica === undefined) {
            return errorResult(w, toWire(yield* notHostedHere(registry, w.topic, w.partition)).errorCode)
          }
          if (yield* refusedAsZstd(w.topic)) return errorResult(w, zstdNeedsV10(w.topic).errorCode, replica)
          const fenced = checkLeaderEpoch(w.currentLeaderEpoch, replica.leaderEpoch)
          if (fenced !== undefined) return errorResult(w, fenced.errorCode, replica)
          if (!replica.isLeader()) return errorResult(w, Codes.NOT_LEADER_OR_FOLLOWER)
          const offset = w.fetchOffset
          if (fromFollower) {
            // the leader learns the follower's log end (its fetch offset) before it answers
            if (offset <= replica.log.logEndOffset) yield* replica.followerFetched(follower, offset)
          }
          const highWatermark = replica.highWatermark()
          const lastStableOffset = replica.lastStableOffset()
          const maxOffset = fromFollower ? replica.log.logEndOffset : readCommitted ? lastStableOffset : highWatermark
          const logStartOffset = replica.log.logStartOffset
          if (offset < logStartOffset || offset > (fromFollower ? maxOffset : highWatermark))
            return errorResult(w, Codes.OFFSET_OUT_OF_RANGE, replica)
          const ok = { wanted: w, replica, errorCode: Codes.NONE, highWatermark, lastStableOffset, logStartOffset }
          const limit = Math.min(w.partitionMaxBytes, budget)
          const parkAt = fromFollower ? offset : Math.max(offset, highWatermark)
          if (offset >= maxOffset || (!first && limit <= 0)) {
            return { ...ok, records: EMPTY, parkAt }
          }
          const read = yield* Effect.either(
            replica.read(offset, Math.max(limit, 0), first, maxOffset, context.readBuffers)
          )
          if (read._tag === "Left") return errorResult(w, toWire(read.left).errorCode, replica)
          let records = read.right.records
          if (magic !== undefined && records.length > 0) {
            const convertible = downConvertibleBytes(records)
            if (convertible === 0) {
              const e = new UnsupportedCompressionType({
                message: "zstd batches cannot be down-converted for Fetch v0-3"
              })
              return errorResult(w, e.errorCode, replica)
            }
            records = records.subarray(0, convertible)
          }
          const aborted =
            readCommitted && records.length > 0 ? replica.abortedTransactions(offset, read.right.nextOffset) : undefined
          return { ...ok, records, parkAt, ...(aborted ? { aborted } : {}) }
        })

      const readAll = Effect.gen(function* () {
        let budget = request.maxBytes
        let first = true
        let bytes = 0
        let errors = false
        const results: Array<Result> = []
        for (const w of list) {
          const r = yield* readOne(w, version >= 3 ? budget : Number.MAX_SAFE_INTEGER, first)
          if (r.errorCode !== Codes.NONE) errors = true
          if (r.records.length > 0) {
            first = false
            budget -= r.records.length
            bytes += r.records.length
          }
          results.push(r)
        }
        return { results, bytes, errors }
      })

      // long poll: park on every partition read until min_bytes arrive or max_wait_ms passes
      let pass = yield* readAll
      if (request.maxWaitMs > 0 && pass.bytes < request.minBytes && !pass.errors) {
        const deadline = (yield* Clock.currentTimeMillis) + request.maxWaitMs
        for (;;) {
          const remaining = deadline - (yield* Clock.currentTimeMillis)
          if (remaining <= 0) break
          const waiter = yield* Deferred.make<void>()
          for (const r of pass.results) {
            if (r.replica === undefined) continue
            yield* Effect.ignore(
              fromFollower ? r.replica.parkUntilLogEnd(r.parkAt, waiter) : r.replica.park(r.parkAt, waiter)
            )
          }
          // the deadline is a purgatory entry (no timer per fetch): it completes the waiter, as new data does
          let timedOut = false
          const cancel = replicas.purgatory.schedule(deadline, () => {
            timedOut = true
            Deferred.unsafeDone(waiter, Exit.void)
          })
          yield* Deferred.await(waiter)
          cancel()
          pass = yield* readAll
          if (timedOut || pass.bytes >= request.minBytes || pass.errors) break
        }
      }

      // the response, grouped by topic in request order
      const responses: Array<Fetch.FetchResponseFetchableTopicResponse> = []
      let current: Fetch.FetchResponseFetchableTopicResponse | undefined
      for (const r of pass.results) {
        const w = r.wanted
        if (incremental && session !== undefined && w.error === undefined) {
          const cached = session.partitions.get(FetchSession.key(w.topic, w.partition))
          if (
            cached !== undefined &&
            r.errorCode === Codes.NONE &&
            r.records.length === 0 &&
            cached.highWatermark === r.highWatermark &&
            cached.lastStableOffset === r.lastStableOffset &&
            cached.logStartOffset === r.logStartOffset
          ) {
            continue
          }
        }
        if (session !== undefined && w.error === undefined) {
          const cached = session.partitions.get(FetchSession.key(w.topic, w.partition))
          if (cached !== undefined) {
            cached.highWatermark = r.highWatermark
            cached.lastStableOffset = r.lastStableOffset
            cached.logStartOffset = r.logStartOffset
          }
        }
        if (r.records.length > 0) context.broker.metrics?.fetched(w.topic, r.records)
        const records =
          magic !== undefined && r.records.length > 0 ? MessageSet.fromRecordBatches(r.records, magic) : r.records
        const data = Fetch.makeFetchResponsePartitionData({
          partitionIndex: w.partition,
          errorCode: r.errorCode,
          highWatermark: BigInt(r.highWatermark),
          lastStableOffset: BigInt(r.lastStableOffset),
          logStartOffset: BigInt(r.logStartOffset),
          abortedTransactions: readCommitted
            ? (r.aborted ?? []).map((a) =>
                Fetch.makeFetchResponseAbortedTransaction({
                  producerId: BigInt(a.producerId),
                  firstOffset: BigInt(a.firstOffset)
                })
              )
            : null,
          preferredReadReplica: -1,
          records
        })
        if (current === undefined || current.topic !== w.topic || !sameId(current.topicId, w.topicId)) {
          current = Fetch.makeFetchResponseFetchableTopicResponse({
            topic: w.topic,
            topicId: w.topicId,
            partitions: []
          })
          responses.push(current)
        }
        current.partitions.push(data)
      }
      return Fetch.makeFetchResponse({ errorCode: Codes.NONE, sessionId: session?.id ?? 0, responses })
    }),
  errorResponse: (_request, error) => topLevelError(error),
  // records are bounded by max_bytes from v3 (KIP-74), by the sum of partition_max_bytes before
  responseBytes: (request, version) => {
    if (version >= 3) return request.maxBytes
    let sum = 0
    for (const t of request.topics) for (const p of t.partitions) sum += Math.max(p.partitionMaxBytes, 0)
    return sum
  }
})

const sameId = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
