// Produce v0-11: v0-2 legacy message sets (converted to v2); v2 LogAppendTime (KIP-32); v3 RecordBatch v2, one batch per partition (KIP-98); v5 log_start_offset (KIP-107); v7 zstd (KIP-110); v8 record_errors (KIP-467); v9 flexible (KIP-482); v10-11 current_leader (KIP-951, only with NOT_LEADER).
import { Clock, Deferred, Effect, Either, Exit } from "effect"
import * as LogConfig from "../../log/LogConfig.js"
import * as Produce from "../../protocol/generated/Produce.js"
import * as MessageSet from "../../protocol/MessageSet.js"
import { isProtocolError } from "../../protocol/ProtocolError.js"
import * as RecordBatch from "../../protocol/RecordBatch.js"
import { InvalidTopic, toWire, type WireError, wireMessage } from "../BrokerError.js"
import * as Handler from "../Handler.js"
import {
  CorruptMessage,
  InvalidRecord,
  InvalidRequiredAcks,
  InvalidTimestamp,
  MessageTooLarge,
  NotEnoughReplicas,
  NotEnoughReplicasAfterAppend,
  NotLeaderOrFollower,
  notHosted,
  RecordListTooLarge,
  RequestTimedOut,
  UnsupportedCompressionType
} from "../PartitionError.js"
import type { AppendError, AppendResult, PartitionReplica } from "../PartitionReplica.js"
import { ReplicaManager } from "../ReplicaManager.js"
import * as TopicConfig from "../TopicConfig.js"
import { isInternal, type Topic, TopicRegistry } from "../TopicRegistry.js"

/** The topic settings produce needs that the log configuration does not carry. */
export interface TopicSettings {
  /** `message.timestamp.before.max.ms` */
  readonly before: number
  /** `message.timestamp.after.max.ms` */
  readonly after: number
  /**
   * The codec `compression.type` stores batches with, undefined for `producer` (stored as sent); batches
   * in another codec are recompressed to it (`uncompressed` is `Compression.none`).
   */
  readonly codec: RecordBatch.Compression | undefined
  /** `compression.gzip.level` / `compression.zstd.level` for that codec (undefined: the codec's default). */
  readonly level: number | undefined
  /** `min.insync.replicas`: the ISR an acks=all produce needs. */
  readonly minInsync: number
}

/** Codec ids of the `compression.type` values other than `producer`. */
const codecOf: Readonly<Record<string, RecordBatch.Compression>> = {
  uncompressed: RecordBatch.Compression.none,
  gzip: RecordBatch.Compression.gzip,
  snappy: RecordBatch.Compression.snappy,
  lz4: RecordBatch.Compression.lz4,
  zstd: RecordBatch.Compression.zstd
}

/** The settings of a topic from its effective configuration (its overrides over the broker's keys). */
const topicSettings = (effective: ReadonlyMap<string, TopicConfig.ResolvedValue>): TopicSettings => {
  const num = (name: string) => {
    const v = effective.get(name)?.value
    return v === null || v === undefined ? LogConfig.LONG_MAX : Number(v)
  }
  const codec = codecOf[effective.get("compression.type")?.value ?? "producer"]
  const levelKey =
    codec === RecordBatch.Compression.gzip
      ? "compression.gzip.level"
      : codec === RecordBatch.Compression.zstd
        ? "compression.zstd.level"
        : undefined
  const level = levelKey === undefined ? undefined : effective.get(levelKey)?.value
  return {
    before: num("message.timestamp.before.max.ms"),
    after: num("message.timestamp.after.max.ms"),
    codec,
    minInsync: Number(effective.get("min.insync.replicas")?.value ?? 1),
    // gzip -1 is zlib's own default level
    level:
      level === null || level === undefined || (codec === RecordBatch.Compression.gzip && level === "-1")
        ? undefined
        : Number(level)
  }
}

// Topic values are immutable (a config change replaces the object), so they key a cache safely.
const settingsCache = new WeakMap<Topic, TopicSettings>()
const settingsOf = (topic: Topic, context: Handler.RequestContext): TopicSettings => {
  let settings = settingsCache.get(topic)
  if (settings === undefined) {
    settings = topicSettings(TopicConfig.effective(context.broker.config, topic.configs))
    settingsCache.set(topic, settings)
  }
  return settings
}

type PartitionError =
  | CorruptMessage
  | InvalidRecord
  | InvalidTimestamp
  | MessageTooLarge
  | RecordListTooLarge
  | UnsupportedCompressionType

const fromValidation = (e: RecordBatch.ValidationError): PartitionError =>
  e.errorCode === 2
    ? new CorruptMessage({ message: e.message })
    : e.errorCode === 76
      ? new UnsupportedCompressionType({ message: e.message })
      : new InvalidRecord({ message: e.message })

/**
 * Checks a partition's records and returns the batches to append (views into the request, or one
 * converted batch for a legacy message set). Header, CRC and record structure are checked by
 * `RecordBatch.validate`, which decompresses a compressed batch once. A batch is recompressed only when
 * the topic's `compression.type` names a codec other than the batch's (one batch out per batch in, with
 * its producer fields and flags), as Kafka's log validator does; `producer` stores batches as sent.
 */
export const checkRecords = (
  records: Uint8Array | null,
  version: number,
  config: LogConfig.LogConfig,
  settings: TopicSettings,
  now: number
): PartitionError | Array<Uint8Array> => {
  if (records === null || records.length === 0) return new InvalidRecord({ message: "No record batch in the request." })
  let buf = records
  if (records.length > RecordBatch.Field.magic && records[RecordBatch.Field.magic]! < 2) {
    if (version >= 3) {
      return new InvalidRecord({ message: `Produce v${version} requests may only hold record batches with magic 2` })
    }
    try {
      buf = MessageSet.toRecordBatch(records)
    } catch (e) {
      if (isProtocolError(e)) return new CorruptMessage({ message: e.message })
      throw e
    }
  }
  // header pass: batch boundaries and count, before any CRC work
  const bounds_: Array<number> = []
  let pos = 0
  while (pos < buf.length) {
    if (buf.length - pos < RecordBatch.HEADER_SIZE) {
      return new CorruptMessage({ message: `Truncated record batch: ${buf.length - pos} trailing bytes` })
    }
    if (buf[pos + RecordBatch.Field.magic] !== 2) {
      return new CorruptMessage({ message: `Unsupported record batch magic ${buf[pos + RecordBatch.Field.magic]}` })
    }
    const size = RecordBatch.sizeAt(buf, pos)
    if (size < RecordBatch.HEADER_SIZE || pos + size > buf.length) {
      return new CorruptMessage({
        message: `Record batch length ${size} does not match the ${buf.length - pos} bytes left`
      })
    }
    bounds_.push(pos)
    pos += size
  }
  if (version >= 3 && bounds_.length !== 1) {
    return new InvalidRecord({
      message: `Produce v${version} requests must hold exactly one record batch per partition, got ${bounds_.length}`
    })
  }
  if (buf.length > config["segment.bytes"]) {
    return new RecordListTooLarge({
      message: `The request's ${buf.length} bytes of records exceed the segment size ${config["segment.bytes"]}`
    })
  }
  const compacted = LogConfig.isCompact(config)
  const createTime = config["message.timestamp.type"] === "CreateTime"
  const out: Array<Uint8Array> = []
  for (const start of bounds_) {
    const size = RecordBatch.sizeAt(buf, start)
    if (size > config["max.message.bytes"]) {
      return new MessageTooLarge({
        message: `The record batch of ${size} bytes exceeds max.message.bytes ${config["max.message.bytes"]}`
      })
    }
    const codec = buf[start + RecordBatch.Field.attributes + 1]! & RecordBatch.Attributes.compressionMask
    if (codec === RecordBatch.Compression.zstd && version < 7) {
      return new UnsupportedCompressionType({ message: `zstd compression needs Produce v7 or later, got v${version}` })
    }
    const valid = RecordBatch.validate(buf, start)
    if (RecordBatch.isValidationError(valid)) return fromValidation(valid)
    // transaction markers come from the transaction coordinator only (PartitionReplica.writeTxnMarker)
    if (RecordBatch.isControl(valid.header.attributes)) {
      return new InvalidRecord({ message: "Clients are not allowed to write control records." })
    }
    if (RecordBatch.isTransactional(valid.header.attributes) && valid.header.producerId < 0) {
      return new InvalidRecord({ message: "A transactional record batch must carry a producer id." })
    }
    if (valid.header.producerId >= 0 && valid.header.baseSequence < 0) {
      return new InvalidRecord({
        message: `Invalid sequence number ${valid.header.baseSequence} in a record batch of producer ${valid.header.producerId}`
      })
    }
    if (compacted && valid.hasNullKey) {
      return new InvalidRecord({ message: "Compacted topic cannot accept message without key." })
    }
    if (createTime && valid.header.recordCount > 0) {
      if (valid.maxTimestamp > now + settings.after) {
        return new InvalidTimestamp({
          message: `Timestamp ${valid.maxTimestamp} is more than message.timestamp.after.max.ms (${settings.after}) ahead of the broker's time ${now}`
        })
      }
      if (valid.minTimestamp >= 0 && valid.minTimestamp < now - settings.before) {
        return new InvalidTimestamp({
          message: `Timestamp ${valid.minTimestamp} is more than message.timestamp.before.max.ms (${settings.before}) behind the broker's time ${now}`
        })
      }
    }
    if (settings.codec === undefined || settings.codec === codec) {
      out.push(buf.subarray(start, start + size))
      continue
    }
    const stored = recompress(buf, start, valid, settings.codec, settings)
    if (stored.length > config["max.message.bytes"]) {
      return new MessageTooLarge({
        message: `The record batch of ${stored.length} bytes once stored with compression.type ${codecNames[settings.codec]} exceeds max.message.bytes ${config["max.message.bytes"]}`
      })
    }
    out.push(stored)
  }
  if (settings.codec !== undefined) {
    let total = 0
    for (const b of out) total += b.length
    if (total > config["segment.bytes"]) {
      return new RecordListTooLarge({
        message: `The request's ${total} bytes of records once recompressed exceed the segment size ${config["segment.bytes"]}`
      })
    }
  }
  return out
}

const codecNames = ["uncompressed", "gzip", "snappy", "lz4", "zstd"] as const

/**
 * The batch at `start` stored with the topic's codec: the records section `validate` decompressed, compressed
 * again (or left uncompressed), with the records' largest timestamp as `maxTimestamp` as Kafka's rebuilt batch
 * has (LogAppendTime is applied by the log at append, as for any batch). Compressing valid bytes cannot fail
 * but for a codec missing on this runtime: a defect, answered UNKNOWN_SERVER_ERROR.
 */
const recompress = (
  buf: Uint8Array,
  start: number,
  valid: RecordBatch.ValidBatch,
  codec: RecordBatch.Compression,
  settings: TopicSettings
) =>
  RecordBatch.recompress(buf, start, valid.section, codec, {
    ...(settings.level === undefined ? {} : { level: settings.level }),
    ...(valid.header.recordCount > 0 ? { maxTimestamp: valid.maxTimestamp } : {})
  })

const notLeader = (topic: string, partition: number, replica: PartitionReplica) =>
  new NotLeaderOrFollower({
    message: `This broker is not the leader of ${topic}-${partition} (leader ${replica.leaderId()}).`
  })

const notEnough = (replica: PartitionReplica, minInsync: number) =>
  new NotEnoughReplicas({
    message: `The ISR of ${replica.topicPartition.topic}-${replica.topicPartition.partition} has ${replica.inSyncReplicas().length} replicas, fewer than min.insync.replicas ${minInsync}`
  })

/** acks=all already satisfied (always on a sole replica): the high watermark passed the append, ISR large enough. */
const acknowledged = (
  p: { readonly replica: PartitionReplica; readonly epoch: number; readonly minInsync: number },
  result: AppendResult
): boolean =>
  p.replica.highWatermark() > result.lastOffset &&
  p.replica.isLeader() &&
  p.replica.leaderEpoch === p.epoch &&
  p.replica.inSyncReplicas().length >= p.minInsync

/**
 * acks=all: waits until the high watermark passes the append's last offset (on a sole replica it already has),
 * parked on the replica and woken by the hw, a role change or the request's deadline; then answers as Kafka:
 * REQUEST_TIMED_OUT at the deadline, NOT_LEADER_OR_FOLLOWER when the leadership moved meanwhile,
 * NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR fell below `min.insync.replicas`.
 */
const replicated = (
  p: {
    readonly index: number
    readonly replica: PartitionReplica
    readonly epoch: number
    readonly minInsync: number
  },
  result: AppendResult,
  deadline: { timedOut: boolean; waiter: Deferred.Deferred<void> | undefined }
): Effect.Effect<Either.Either<AppendResult, AppendError | NotEnoughReplicasAfterAppend>> =>
  Effect.gen(function* () {
    const { replica } = p
    const lost = () => !replica.isLeader() || replica.leaderEpoch !== p.epoch
    while (replica.highWatermark() <= result.lastOffset && !lost() && !deadline.timedOut) {
      const waiter = yield* Deferred.make<void>()
      deadline.waiter = waiter
      yield* Effect.ignore(replica.park(result.lastOffset, waiter))
      yield* Deferred.await(waiter)
      deadline.waiter = undefined
    }
    if (lost()) {
      return Either.left(notLeader(replica.topicPartition.topic, replica.topicPartition.partition, replica))
    }
    if (replica.highWatermark() <= result.lastOffset) {
      return Either.left(
        new RequestTimedOut({ message: `The append was not replicated to the ISR within the request's timeout` })
      )
    }
    if (replica.inSyncReplicas().length < p.minInsync) {
      return Either.left(
        new NotEnoughReplicasAfterAppend({
          message: `The ISR shrank below min.insync.replicas ${p.minInsync} before the append was replicated`
        })
      )
    }
    return Either.right(result)
  })

const failed = (index: number, error: WireError): Produce.ProduceResponsePartitionProduceResponse =>
  Produce.makeProduceResponsePartitionProduceResponse({
    index,
    errorCode: error.errorCode,
    baseOffset: -1n,
    logAppendTimeMs: -1n,
    logStartOffset: -1n,
    errorMessage: wireMessage(error.errorMessage)
  })

export const handler = Handler.make({
  apiKey: Produce.apiKey,
  minVersion: Produce.validVersions.min,
  maxVersion: Produce.validVersions.max,
  handle: (request, context) =>
    Effect.gen(function* () {
      const version = context.apiVersion
      const registry = yield* TopicRegistry
      const replicas = yield* ReplicaManager
      const now = yield* Clock.currentTimeMillis
      const acks = request.acks
      const acksError =
        acks === 0 || acks === 1 || acks === -1
          ? undefined
          : toWire(new InvalidRequiredAcks({ message: `Invalid required acks ${acks}: use -1, 0 or 1` }))
      const timeoutMs = request.timeoutMs

      // validate and queue every partition's append first, then await the replies: the actors work in
      // parallel without a fiber per partition
      type Pending =
        | Produce.ProduceResponsePartitionProduceResponse
        | {
            readonly index: number
            readonly replica: PartitionReplica
            readonly reply: Deferred.Deferred<AppendResult, AppendError>
            readonly batches: ReadonlyArray<Uint8Array>
            /** The leader epoch the append was offered in (acks=all: a new epoch means the wait lost its leader). */
            readonly epoch: number
            readonly minInsync: number
          }
      const topics: Array<{ readonly name: string; readonly partitions: Array<Pending> }> = []
      for (const t of request.topicData) {
        // internal topics are written by the broker's coordinators only (through the partition actor), as in
        // Kafka: a client's record there could be one replay cannot read
        const refused =
          acksError ??
          (isInternal(t.name)
            ? toWire(new InvalidTopic({ message: `Cannot append to internal topic ${t.name}` }))
            : undefined)
        const topic = refused === undefined ? yield* registry.get(t.name) : undefined
        const partitions: Array<Pending> = []
        for (const p of t.partitionData) {
          if (refused !== undefined) {
            partitions.push(failed(p.index, refused))
            continue
          }
          const replica: PartitionReplica | undefined = topic === undefined ? undefined : replicas.get(t.name, p.index)
          if (topic === undefined || replica === undefined) {
            partitions.push(failed(p.index, toWire(notHosted(t.name, p.index, topic?.partitions))))
            continue
          }
          if (!replica.isLeader()) {
            partitions.push(failed(p.index, toWire(notLeader(t.name, p.index, replica))))
            continue
          }
          const settings = settingsOf(topic, context)
          if (acks === -1 && replica.inSyncReplicas().length < settings.minInsync) {
            partitions.push(failed(p.index, toWire(notEnough(replica, settings.minInsync))))
            continue
          }
          const checked = checkRecords(p.records, version, replica.log.config, settings, now)
          if (!Array.isArray(checked)) {
            partitions.push(failed(p.index, toWire(checked)))
            continue
          }
          const epoch = replica.leaderEpoch
          const offered = yield* Effect.either(replica.offerAppend(checked))
          partitions.push(
            offered._tag === "Left"
              ? failed(p.index, toWire(offered.left))
              : {
                  index: p.index,
                  replica,
                  reply: offered.right,
                  batches: checked,
                  epoch,
                  minInsync: settings.minInsync
                }
          )
        }
        topics.push({ name: t.name, partitions })
      }
      // acks=all waits at most timeout_ms: the purgatory then fails the replies still pending (a reply is
      // completed once, so an append finishing later changes nothing); no timer per request
      const replies: Array<Deferred.Deferred<AppendResult, AppendError>> = []
      const pending: Array<Extract<Pending, { readonly reply: unknown }>> = []
      for (const t of topics) {
        for (const p of t.partitions) {
          if ("reply" in p) {
            replies.push(p.reply)
            pending.push(p)
          }
        }
      }
      // the deadline also wakes the wait for the high watermark (replicated partitions)
      const deadline: { timedOut: boolean; waiter: Deferred.Deferred<void> | undefined } = {
        timedOut: acks === -1 && timeoutMs <= 0,
        waiter: undefined
      }
      const cancel =
        acks === -1 && timeoutMs > 0 && replies.length > 0
          ? replicas.purgatory.schedule((yield* Clock.currentTimeMillis) + timeoutMs, () => {
              deadline.timedOut = true
              const timedOut = Exit.fail(
                new RequestTimedOut({ message: `The append was not acknowledged within ${timeoutMs} ms` })
              )
              for (const reply of replies) Deferred.unsafeDone(reply, timedOut)
              if (deadline.waiter !== undefined) Deferred.unsafeDone(deadline.waiter, Exit.void)
            })
          : undefined
      const outcomes: Array<Either.Either<AppendResult, AppendError | NotEnoughReplicasAfterAppend>> = []
      for (let i = 0; i < replies.length; i++) {
        const outcome = yield* Effect.either(Deferred.await(replies[i]!))
        outcomes.push(
          acks === -1 && outcome._tag === "Right" && !acknowledged(pending[i]!, outcome.right)
            ? yield* replicated(pending[i]!, outcome.right, deadline)
            : outcome
        )
      }
      cancel?.()
      const responses: Array<Produce.ProduceResponseTopicProduceResponse> = []
      let next = 0
      for (const t of topics) {
        const partitionResponses: Array<Produce.ProduceResponsePartitionProduceResponse> = []
        for (const p of t.partitions) {
          if (!("reply" in p)) {
            partitionResponses.push(p)
            continue
          }
          const r = outcomes[next++]!
          if (r._tag === "Left" && r.left._tag === "KafkaStorageError") yield* p.replica.warnStorageError(r.left)
          if (r._tag === "Right") context.broker.metrics?.produced(t.name, p.batches)
          partitionResponses.push(
            r._tag === "Left"
              ? failed(p.index, toWire(r.left))
              : Produce.makeProduceResponsePartitionProduceResponse({
                  index: p.index,
                  baseOffset: BigInt(r.right.baseOffset),
                  logAppendTimeMs: BigInt(r.right.logAppendTime),
                  logStartOffset: BigInt(r.right.logStartOffset)
                })
          )
        }
        responses.push(Produce.makeProduceResponseTopicProduceResponse({ name: t.name, partitionResponses }))
      }
      if (acks === 0) {
        // no response is sent: a failure can only be reported by closing the connection
        for (const t of responses) {
          for (const p of t.partitionResponses) {
            if (p.errorCode !== 0) {
              return yield* Effect.fail(
                new InvalidRecord({ message: `acks=0 produce to ${t.name}-${p.index} failed: ${p.errorMessage}` })
              )
            }
          }
        }
        return Handler.NoResponse
      }
      return Produce.makeProduceResponse({ responses })
    }),
  errorResponse: (request, error) =>
    Produce.makeProduceResponse({
      responses: request.topicData.map((t) =>
        Produce.makeProduceResponseTopicProduceResponse({
          name: t.name,
          partitionResponses: t.partitionData.map((p) => failed(p.index, error))
        })
      )
    })
})
