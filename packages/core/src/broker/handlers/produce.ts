// Produce v0-11: v0-2 legacy message sets (converted to v2); v2 LogAppendTime (KIP-32); v3 RecordBatch v2, one batch per partition (KIP-98); v5 log_start_offset (KIP-107); v7 zstd (KIP-110); v8 record_errors (KIP-467); v9 flexible (KIP-482); v10-11 current_leader (KIP-951, only with NOT_LEADER).
import { Clock, Deferred, Effect, type Either, Exit } from "effect"
import * as LogConfig from "../../log/LogConfig.js"
import * as Produce from "../../protocol/generated/Produce.js"
import * as MessageSet from "../../protocol/MessageSet.js"
import { isProtocolError } from "../../protocol/ProtocolError.js"
import * as RecordBatch from "../../protocol/RecordBatch.js"
import { toWire, type WireError } from "../BrokerError.js"
import * as Handler from "../Handler.js"
import {
  CorruptMessage,
  InvalidRecord,
  InvalidRequiredAcks,
  InvalidTimestamp,
  MessageTooLarge,
  RecordListTooLarge,
  RequestTimedOut,
  UnknownTopicOrPartition,
  UnsupportedCompressionType
} from "../PartitionError.js"
import type { AppendError, AppendResult, PartitionReplica } from "../PartitionReplica.js"
import { ReplicaManager } from "../ReplicaManager.js"
import * as TopicConfig from "../TopicConfig.js"
import { type Topic, TopicRegistry } from "../TopicRegistry.js"

/** The topic settings produce validation needs that the log configuration does not carry. */
interface TimestampBounds {
  /** `message.timestamp.before.max.ms` */
  readonly before: number
  /** `message.timestamp.after.max.ms` */
  readonly after: number
}

// Topic values are immutable (a config change replaces the object), so they key a cache safely.
const boundsCache = new WeakMap<Topic, TimestampBounds>()
const boundsOf = (topic: Topic, context: Handler.RequestContext): TimestampBounds => {
  let b = boundsCache.get(topic)
  if (b === undefined) {
    const e = TopicConfig.effective(context.broker.config, topic.configs)
    const num = (name: string) => {
      const v = e.get(name)?.value
      return v === null || v === undefined ? LogConfig.LONG_MAX : Number(v)
    }
    b = { before: num("message.timestamp.before.max.ms"), after: num("message.timestamp.after.max.ms") }
    boundsCache.set(topic, b)
  }
  return b
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
 * `RecordBatch.validate`, which decompresses a compressed batch once and never re-compresses it.
 */
export const checkRecords = (
  records: Uint8Array | null,
  version: number,
  config: LogConfig.LogConfig,
  bounds: TimestampBounds,
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
      if (valid.maxTimestamp > now + bounds.after) {
        return new InvalidTimestamp({
          message: `Timestamp ${valid.maxTimestamp} is more than message.timestamp.after.max.ms (${bounds.after}) ahead of the broker's time ${now}`
        })
      }
      if (valid.minTimestamp >= 0 && valid.minTimestamp < now - bounds.before) {
        return new InvalidTimestamp({
          message: `Timestamp ${valid.minTimestamp} is more than message.timestamp.before.max.ms (${bounds.before}) behind the broker's time ${now}`
        })
      }
    }
    out.push(buf.subarray(start, start + size))
  }
  return out
}

const failed = (index: number, error: WireError): Produce.ProduceResponsePartitionProduceResponse =>
  Produce.makeProduceResponsePartitionProduceResponse({
    index,
    errorCode: error.errorCode,
    baseOffset: -1n,
    logAppendTimeMs: -1n,
    logStartOffset: -1n,
    errorMessage: error.errorMessage
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
            readonly reply: Deferred.Deferred<AppendResult, AppendError>
            readonly batches: ReadonlyArray<Uint8Array>
          }
      const topics: Array<{ readonly name: string; readonly partitions: Array<Pending> }> = []
      for (const t of request.topicData) {
        const topic = acksError === undefined ? yield* registry.get(t.name) : undefined
        const partitions: Array<Pending> = []
        for (const p of t.partitionData) {
          if (acksError !== undefined) {
            partitions.push(failed(p.index, acksError))
            continue
          }
          const replica: PartitionReplica | undefined = topic === undefined ? undefined : replicas.get(t.name, p.index)
          if (topic === undefined || replica === undefined) {
            partitions.push(
              failed(
                p.index,
                toWire(new UnknownTopicOrPartition({ message: "This server does not host this topic-partition." }))
              )
            )
            continue
          }
          const checked = checkRecords(p.records, version, replica.log.config, boundsOf(topic, context), now)
          if (!Array.isArray(checked)) {
            partitions.push(failed(p.index, toWire(checked)))
            continue
          }
          const offered = yield* Effect.either(replica.offerAppend(checked))
          partitions.push(
            offered._tag === "Left"
              ? failed(p.index, toWire(offered.left))
              : { index: p.index, reply: offered.right, batches: checked }
          )
        }
        topics.push({ name: t.name, partitions })
      }
      // acks=all waits at most timeout_ms: the purgatory then fails the replies still pending (a reply is
      // completed once, so an append finishing later changes nothing); no timer per request
      const replies: Array<Deferred.Deferred<AppendResult, AppendError>> = []
      for (const t of topics) for (const p of t.partitions) if ("reply" in p) replies.push(p.reply)
      const cancel =
        acks === -1 && timeoutMs > 0 && replies.length > 0
          ? replicas.purgatory.schedule((yield* Clock.currentTimeMillis) + timeoutMs, () => {
              const timedOut = Exit.fail(
                new RequestTimedOut({ message: `The append was not acknowledged within ${timeoutMs} ms` })
              )
              for (const reply of replies) Deferred.unsafeDone(reply, timedOut)
            })
          : undefined
      const outcomes: Array<Either.Either<AppendResult, AppendError>> = []
      for (const reply of replies) outcomes.push(yield* Effect.either(Deferred.await(reply)))
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
