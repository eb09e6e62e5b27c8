/**
 * The producer: records accumulate per partition into batches (`linger.ms`, `batch.size`), one sender fiber
 * drains ready batches into Produce requests (one per leader, at most `max.in.flight.requests.per.connection`
 * in flight per broker), and each `send` completes with its record's offset once the broker acknowledges it.
 *
 * Hot path: `send` appends to a plain array and parks its caller; nothing else is allocated per record. Batches
 * are encoded (and compressed) once, when first sent, and kept for retries. Idempotence (default on) takes a
 * producer id from InitProducerId and numbers each partition's batches; a broker without InitProducerId gets a
 * non-idempotent producer and a warning. When `buffer.memory` is full, `send` waits: nothing is dropped.
 */
import { Cause, type ConfigError, Context, Effect, Layer, type Scope } from "effect"
import * as AddOffsetsToTxn from "../protocol/generated/AddOffsetsToTxn.js"
import * as AddPartitionsToTxn from "../protocol/generated/AddPartitionsToTxn.js"
import * as EndTxn from "../protocol/generated/EndTxn.js"
import * as FindCoordinator from "../protocol/generated/FindCoordinator.js"
import * as InitProducerId from "../protocol/generated/InitProducerId.js"
import * as Produce from "../protocol/generated/Produce.js"
import * as TxnOffsetCommit from "../protocol/generated/TxnOffsetCommit.js"
import { isProtocolError, type ProtocolError } from "../protocol/ProtocolError.js"
import * as RecordBatch from "../protocol/RecordBatch.js"
import * as ClientConfig from "./ClientConfig.js"
import * as ClientError from "./ClientError.js"
import * as Cluster from "./Cluster.js"
import * as Partitioner from "./Partitioner.js"
import * as Topic from "./Topic.js"

/** Producer settings (Kafka's names and defaults) on top of {@link ClientConfig.ClientConfig}. */
export interface ProducerConfig extends ClientConfig.ClientConfig {
  /** How long a batch waits for more records before it is sent. Default 5. */
  readonly "linger.ms"?: number
  /** A batch is sent once its records reach this many bytes. Default 16384. */
  readonly "batch.size"?: number
  /** -1 (or "all"): the full ISR; 1: the leader; 0: no response. Default -1. */
  readonly acks?: -1 | 0 | 1 | "all"
  /** Bytes of records buffered before `send` waits. Default 33554432. */
  readonly "buffer.memory"?: number
  /** Produce requests in flight per broker (at most 5 with idempotence). Default 5. */
  readonly "max.in.flight.requests.per.connection"?: number
  /** Batch compression. Default "none". */
  readonly "compression.type"?: "none" | "gzip" | "snappy" | "lz4" | "zstd"
  /** Exactly-once per partition via producer id and sequence numbers. Default true. */
  readonly "enable.idempotence"?: boolean
  /** Upper bound of a record's time from `send` to its acknowledgement, retries included. Default 120000. */
  readonly "delivery.timeout.ms"?: number
  /** Largest Produce request (and record). Default 1048576. */
  readonly "max.request.size"?: number
  /** A custom partitioner; returning undefined falls back to the default one. */
  readonly partitioner?: Partitioner.Partitioner
  /**
   * Makes the producer transactional: sends happen inside {@link Producer.transaction}, and a newer
   * producer with the same id fences this one. Implies idempotence. Default none.
   */
  readonly "transactional.id"?: string
  /** How long the coordinator lets a transaction stay open before aborting it. Default 60000. */
  readonly "transaction.timeout.ms"?: number
}

/** The producer's own defaults. */
export const defaults = {
  "linger.ms": 5,
  "batch.size": 16384,
  acks: -1,
  "buffer.memory": 33554432,
  "max.in.flight.requests.per.connection": 5,
  "compression.type": "none",
  "enable.idempotence": true,
  "delivery.timeout.ms": 120000,
  "max.request.size": 1048576,
  "transaction.timeout.ms": 60000
} as const

/** Where an acknowledged record landed. `offset` is -1 with `acks=0`. */
export interface RecordMetadata {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly timestamp: number
}

/** Errors of `send`. */
export type ProduceError =
  | ClientError.KafkaError
  | ClientError.ConnectionError
  | ClientError.RequestTimeoutError
  | ClientError.UnsupportedVersionError
  | ClientError.ClientClosedError
  | ClientError.BootstrapTimeoutError
  | ProtocolError
  | Topic.RecordEncodeError

/** An offset to commit with a transaction: the next offset to consume (last processed + 1). */
export interface TransactionOffset {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly leaderEpoch?: number
  readonly metadata?: string | null
}

/**
 * The consumer group the offsets belong to: its id, or (for fencing of zombie consumers, KIP-447) the
 * consumer's current group metadata.
 */
export type TransactionGroup =
  | string
  | {
      readonly groupId: string
      readonly generationId: number
      readonly memberId: string
      readonly groupInstanceId?: string | null
    }

/** A producer. */
export interface Producer {
  /** Sends one record; completes when it is acknowledged (in order per partition). */
  readonly send: {
    <K, V>(topic: Topic.Topic<K, V>, record: Topic.ProducerRecord<K, V>): Effect.Effect<RecordMetadata, ProduceError>
    (
      topic: string,
      record: Topic.ProducerRecord<Uint8Array | null, Uint8Array | null>
    ): Effect.Effect<RecordMetadata, ProduceError>
  }
  /** Sends records in order; completes when all are acknowledged, with their metadata in the same order. */
  readonly sendBatch: {
    <K, V>(
      topic: Topic.Topic<K, V>,
      records: Iterable<Topic.ProducerRecord<K, V>>
    ): Effect.Effect<Array<RecordMetadata>, ProduceError>
    (
      topic: string,
      records: Iterable<Topic.ProducerRecord<Uint8Array | null, Uint8Array | null>>
    ): Effect.Effect<Array<RecordMetadata>, ProduceError>
  }
  /** Sends every buffered record now and waits until all records sent before the call are acknowledged. */
  readonly flush: Effect.Effect<void>
  /** Producer id and epoch when idempotence is active, undefined otherwise (or before the first send). */
  readonly idempotence: () => { readonly producerId: number; readonly producerEpoch: number } | undefined
  /** Bytes of records buffered and not yet acknowledged. */
  readonly bufferedBytes: () => number
  /**
   * Runs `effect` as one transaction (needs `transactional.id`): its sends, and the offsets given to
   * {@link sendOffsetsToTransaction}, are committed together when it succeeds and aborted when it fails
   * or is interrupted (after its in-flight sends are acknowledged). A failed send aborts the whole
   * transaction. Transactions of one producer run one after the other.
   */
  readonly transaction: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | ProduceError, R>
  /** Adds consumer offsets to the current transaction (consume-transform-produce). */
  readonly sendOffsetsToTransaction: (
    offsets: ReadonlyArray<TransactionOffset>,
    group: TransactionGroup
  ) => Effect.Effect<void, ProduceError>
}

/** The Producer service. */
export class ProducerTag extends Context.Tag("@eddy/core/client/Producer")<ProducerTag, Producer>() {}

type Result =
  | { readonly ok: true; readonly baseOffset: number; readonly logAppendTime: number }
  | {
      readonly ok: false
      readonly error: ProduceError
    }
/** A delivery callback: `slot` tells a multi-record caller (sendBatch) which of its records this is. */
type Callback = (result: Result, index: number, timestamp: number, partition: number, slot: number) => void

interface Batch {
  readonly id: number
  readonly topic: string
  readonly partition: number
  readonly records: Array<RecordBatch.RecordInput>
  readonly callbacks: Array<Callback>
  readonly slots: Array<number>
  bytes: number
  /** The batch is closed once its bytes reach this: `batch.size`, or more for a sendBatch's records. */
  limit: number
  /** Bytes of buffer.memory this batch holds (its records' sizes). */
  reserved: number
  readonly createdAt: number
  /** When the batch stops waiting for more records (linger.ms; now for the end of a sendBatch). */
  deadline: number
  sequence: number
  attempts: number
  retryAt: number
  encoded: Buffer | undefined
  readonly onDone: Array<() => void>
}

interface PartitionState {
  readonly topic: string
  readonly partition: number
  open: Batch | undefined
  readonly queue: Array<Batch>
  inFlight: number
  nextSequence: number
  retrying: boolean
}

interface Waiter {
  readonly size: number
  readonly run: () => void
  readonly seq: number
}

const RECORD_OVERHEAD = 24
const NO_HEADERS: ReadonlyArray<RecordBatch.RecordHeader> = []
const BATCH_OVERHEAD = RecordBatch.HEADER_SIZE

const codecOf = (name: string): RecordBatch.Compression => {
  switch (name) {
    case "gzip":
      return RecordBatch.Compression.gzip
    case "snappy":
      return RecordBatch.Compression.snappy
    case "lz4":
      return RecordBatch.Compression.lz4
    case "zstd":
      return RecordBatch.Compression.zstd
    default:
      return RecordBatch.Compression.none
  }
}

/** Starts a producer in the current scope; closing the scope flushes it. */
export const make = (config: ProducerConfig = {}): Effect.Effect<Producer, never, Scope.Scope> =>
  Effect.gen(function* () {
    const cluster = yield* Cluster.make(config)
    return yield* makeWith(cluster, config)
  })

/** A producer over an existing {@link Cluster.Cluster}. */
export const makeWith = (
  cluster: Cluster.Cluster,
  config: ProducerConfig = {}
): Effect.Effect<Producer, never, Scope.Scope> =>
  Effect.gen(function* () {
    const clock = yield* Effect.clock
    const now = () => clock.unsafeCurrentTimeMillis()
    const lingerMs = config["linger.ms"] ?? defaults["linger.ms"]
    const batchSize = config["batch.size"] ?? defaults["batch.size"]
    const acks = config.acks === "all" ? -1 : (config.acks ?? defaults.acks)
    const bufferMemory = config["buffer.memory"] ?? defaults["buffer.memory"]
    const deliveryTimeoutMs = config["delivery.timeout.ms"] ?? defaults["delivery.timeout.ms"]
    const maxRequestSize = config["max.request.size"] ?? defaults["max.request.size"]
    // a sendBatch's records are all at hand: unless batch.size is set, one call's records for a partition
    // make batches of up to max.request.size, as librdkafka's 1 MB batch.size and kafkajs's batch per send
    const sendBatchLimit = config["batch.size"] !== undefined ? batchSize : Math.max(batchSize, maxRequestSize)
    const compression = codecOf(config["compression.type"] ?? defaults["compression.type"])
    const explicitIdempotence = config["enable.idempotence"]
    let maxInFlight =
      config["max.in.flight.requests.per.connection"] ?? defaults["max.in.flight.requests.per.connection"]
    const transactionalId = config["transactional.id"]
    const transactionTimeoutMs = config["transaction.timeout.ms"] ?? defaults["transaction.timeout.ms"]
    if (transactionalId !== undefined && (explicitIdempotence === false || acks !== -1)) {
      return yield* Effect.dieMessage("transactional.id requires enable.idempotence and acks=-1")
    }
    // like the Java client: default idempotence steps aside for conflicting settings, explicit idempotence fails
    let wantIdempotence = explicitIdempotence ?? true
    if (wantIdempotence && (acks !== -1 || maxInFlight > 5)) {
      if (explicitIdempotence === true) {
        return yield* Effect.dieMessage(
          "enable.idempotence=true requires acks=-1 and max.in.flight.requests.per.connection <= 5"
        )
      }
      wantIdempotence = false
    }
    const retries = cluster.config.retries
    const backoffMs = cluster.config["retry.backoff.ms"]
    const backoffMaxMs = cluster.config["retry.backoff.max.ms"]
    const requestTimeoutMs = cluster.config["request.timeout.ms"]

    const partitions = new Map<string, Array<PartitionState>>()
    const states: Array<PartitionState> = []
    const sticky = new Map<string, number>()
    const incomplete = new Set<Batch>()
    const waiters: Array<Waiter> = []
    const nodeInFlight = new Map<number, number>()
    let used = 0
    let batchIds = 0
    let waiterSeq = 0
    let admittedSeq = 0
    let flushing = 0
    let closing = false
    let producerId = -1
    let producerEpoch = -1
    let initialized = false
    let refreshing = false
    // transactions: partitions added to the open transaction, partitions waiting to be added, the first
    // error of a send inside it (the transaction then aborts)
    let inTransaction = false
    const txnAdded = new Set<PartitionState>()
    const txnPending = new Set<PartitionState>()
    let txnOffsetsAdded = false
    let txnError: ProduceError | undefined

    // ---- the sender's wake-up signal ----
    let wakeUp: (() => void) | undefined
    let wakePending = false
    const wake = () => {
      const w = wakeUp
      if (w !== undefined) {
        wakeUp = undefined
        w()
      } else wakePending = true
    }
    const waitForWake = (ms: number): Effect.Effect<void> => {
      const signal = Effect.async<void>((resume) => {
        if (wakePending) {
          wakePending = false
          resume(Effect.void)
          return
        }
        wakeUp = () => resume(Effect.void)
        return Effect.sync(() => {
          wakeUp = undefined
        })
      })
      return ms === Number.POSITIVE_INFINITY ? signal : Effect.raceFirst(signal, Effect.sleep(Math.max(0, ms)))
    }

    const stateOf = (topic: string, partition: number): PartitionState => {
      let byTopic = partitions.get(topic)
      if (byTopic === undefined) {
        byTopic = []
        partitions.set(topic, byTopic)
      }
      let s = byTopic[partition]
      if (s === undefined) {
        s = { topic, partition, open: undefined, queue: [], inFlight: 0, nextSequence: 0, retrying: false }
        byTopic[partition] = s
        states.push(s)
      }
      return s
    }

    const pickSticky = (info: Cluster.TopicInfo, previous: number | undefined): number => {
      const n = info.partitions.length
      const available = info.partitions.filter((p) => p !== undefined && p.leader >= 0).map((p) => p.partition)
      const pool = available.length > 0 ? available : info.partitions.map((_, i) => i)
      if (pool.length === 1 || n === 1) return pool[0] ?? 0
      for (;;) {
        const p = pool[Math.floor(Math.random() * pool.length)]!
        if (p !== previous) return p
      }
    }

    const closeOpen = (s: PartitionState) => {
      const b = s.open
      if (b === undefined) return
      s.open = undefined
      s.queue.push(b)
      if (sticky.get(s.topic) === s.partition) sticky.delete(s.topic)
    }

    const choosePartition = (info: Cluster.TopicInfo, key: Uint8Array | null, explicit: number | undefined): number => {
      if (explicit !== undefined) return explicit
      const n = info.partitions.length
      if (config.partitioner !== undefined) {
        const p = config.partitioner(info.name, key, n)
        if (p !== undefined) return p
      }
      if (key !== null) return Partitioner.partitionForKey(key, n)
      let p = sticky.get(info.name)
      if (p === undefined) {
        p = pickSticky(info, undefined)
        sticky.set(info.name, p)
      }
      return p
    }

    /** Appends one encoded record; never blocks (memory was reserved by the caller). */
    const append = (
      info: Cluster.TopicInfo,
      record: RecordBatch.RecordInput,
      size: number,
      explicitPartition: number | undefined,
      callback: Callback,
      slot: number,
      limit: number
    ): PartitionState => {
      const partition = choosePartition(info, record.key ?? null, explicitPartition)
      const s = stateOf(info.name, partition)
      let b = s.open
      if (b !== undefined && b.bytes + size > Math.max(b.limit, limit) && b.records.length > 0) {
        closeOpen(s)
        b = undefined
        // a keyless record whose sticky partition just filled up moves to a new one
        if (explicitPartition === undefined && record.key == null && config.partitioner === undefined) {
          const p = pickSticky(info, partition)
          sticky.set(info.name, p)
          if (p !== partition) return append(info, record, size, explicitPartition, callback, slot, limit)
        }
        wake()
      }
      if (b === undefined) {
        const t = now()
        b = {
          id: batchIds++,
          topic: info.name,
          partition,
          records: [],
          callbacks: [],
          slots: [],
          bytes: BATCH_OVERHEAD,
          limit,
          reserved: 0,
          createdAt: t,
          deadline: t + lingerMs,
          sequence: -1,
          attempts: 0,
          retryAt: 0,
          encoded: undefined,
          onDone: []
        }
        s.open = b
        incomplete.add(b)
        wake()
      }
      b.records.push(record)
      b.callbacks.push(callback)
      b.slots.push(slot)
      b.bytes += size
      b.reserved += size
      if (limit > b.limit) b.limit = limit
      if (b.bytes >= b.limit) {
        closeOpen(s)
        wake()
      }
      return s
    }

    const release = (bytes: number) => {
      used -= bytes
      while (waiters.length > 0) {
        const w = waiters[0]!
        if (used + w.size > bufferMemory && used > 0) break
        waiters.shift()
        used += w.size
        admittedSeq = w.seq
        w.run()
      }
    }

    /** Reserves `size` bytes, then runs `run`; waits (FIFO) while the buffer is full. */
    const reserve = (size: number, run: () => void) => {
      if (waiters.length === 0 && (used + size <= bufferMemory || used === 0)) {
        used += size
        run()
      } else {
        waiters.push({ size, run, seq: ++waiterSeq })
        wake()
      }
    }

    const complete = (b: Batch, result: Result) => {
      const s = stateOf(b.topic, b.partition)
      const cbs = b.callbacks
      const slots = b.slots
      const records = b.records
      for (let i = 0; i < cbs.length; i++) cbs[i]!(result, i, records[i]!.timestamp ?? -1, b.partition, slots[i]!)
      if (!result.ok && inTransaction) txnError ??= result.error
      incomplete.delete(b)
      release(b.reserved)
      if (s.retrying && s.inFlight === 0 && !s.queue.some((q) => q.attempts > 0)) s.retrying = false
      for (const f of b.onDone) f()
    }

    const refreshInBackground = (topics: ReadonlyArray<string>) => {
      if (refreshing) return Effect.void
      refreshing = true
      return Effect.ignore(cluster.refresh(topics)).pipe(
        Effect.ensuring(
          Effect.sync(() => {
            refreshing = false
            wake()
          })
        ),
        Effect.forkDaemon,
        Effect.asVoid
      )
    }

    const fail = (b: Batch, error: unknown): Effect.Effect<void> =>
      Effect.suspend(() => {
        const s = stateOf(b.topic, b.partition)
        const t = now()
        const outOfOrderWhileRetrying =
          error instanceof ClientError.KafkaError && error.errorCode === 45 && s.queue.some((q) => q.attempts > 0)
        const retriable = ClientError.isRetriable(error) || outOfOrderWhileRetrying
        if (retriable && b.attempts < retries && t - b.createdAt < deliveryTimeoutMs) {
          b.attempts++
          b.retryAt = t + Math.min(backoffMs * 2 ** (b.attempts - 1), backoffMaxMs)
          // back into the queue in creation order, so a partition's batches keep their order
          let i = 0
          while (i < s.queue.length && s.queue[i]!.id < b.id) i++
          s.queue.splice(i, 0, b)
          s.retrying = true
          if (ClientError.needsMetadataRefresh(error)) {
            cluster.invalidate()
            return refreshInBackground([b.topic])
          }
          return Effect.void
        }
        complete(b, { ok: false, error: error as ProduceError })
        return Effect.void
      })

    const sendRequest = (node: number, batches: ReadonlyArray<Batch>): Effect.Effect<void> =>
      Effect.gen(function* () {
        const byTopic = new Map<string, Array<Produce.ProduceRequestPartitionProduceData>>()
        try {
          for (const b of batches) {
            b.encoded ??= RecordBatch.encode(b.records, {
              compression,
              ...(producerId >= 0 ? { producerId, producerEpoch, baseSequence: b.sequence } : {}),
              ...(transactionalId === undefined ? {} : { transactional: true })
            })
          }
        } catch (e) {
          // e.g. a codec that is not available here: the batches fail, the producer goes on
          nodeInFlight.set(node, (nodeInFlight.get(node) ?? 1) - 1)
          for (const b of batches) stateOf(b.topic, b.partition).inFlight--
          const error = isProtocolError(e)
            ? e
            : ClientError.fromCode(-1, { message: `batch encoding failed: ${String(e)}` })
          for (const b of batches) complete(b, { ok: false, error })
          wake()
          return
        }
        for (const b of batches) {
          let list = byTopic.get(b.topic)
          if (list === undefined) {
            list = []
            byTopic.set(b.topic, list)
          }
          list.push({ index: b.partition, records: b.encoded! })
        }
        const request = Produce.makeProduceRequest({
          acks,
          timeoutMs: requestTimeoutMs,
          topicData: [...byTopic].map(([name, partitionData]) => ({ name, partitionData }))
        })
        const exit = yield* Effect.either(
          Effect.flatMap(cluster.connection(node), (conn) =>
            acks === 0 ? Effect.as(conn.sendNoResponse(0, request), undefined) : conn.send(0, request)
          )
        )
        nodeInFlight.set(node, (nodeInFlight.get(node) ?? 1) - 1)
        for (const b of batches) stateOf(b.topic, b.partition).inFlight--
        if (exit._tag === "Left") {
          for (const b of batches) yield* fail(b, exit.left)
        } else if (exit.right === undefined) {
          for (const b of batches) complete(b, { ok: true, baseOffset: -1, logAppendTime: -1 })
        } else {
          const seen = new Set<Batch>()
          for (const t of exit.right.responses) {
            for (const p of t.partitionResponses) {
              const b = batches.find((x) => x.topic === t.name && x.partition === p.index)
              if (b === undefined || seen.has(b)) continue
              seen.add(b)
              if (p.errorCode === 0 || p.errorCode === 46) {
                complete(b, {
                  ok: true,
                  baseOffset: p.errorCode === 46 ? -1 : Number(p.baseOffset),
                  logAppendTime: Number(p.logAppendTimeMs)
                })
              } else {
                yield* fail(
                  b,
                  ClientError.fromCode(p.errorCode, { topic: b.topic, partition: b.partition, message: p.errorMessage })
                )
              }
            }
          }
          for (const b of batches) {
            if (!seen.has(b)) {
              yield* fail(
                b,
                ClientError.fromCode(-1, { topic: b.topic, partition: b.partition, message: "no response" })
              )
            }
          }
        }
        wake()
      })

    /** Closes expired batches and collects sendable ones per leader; returns the next deadline. */
    const drain = (t: number): { requests: Map<number, Array<Batch>>; next: number; needMetadata: Set<string> } => {
      const requests = new Map<number, Array<Batch>>()
      const requestBytes = new Map<number, number>()
      const needMetadata = new Set<string>()
      let next = Number.POSITIVE_INFINITY
      const urgent = flushing > 0 || closing
      for (const s of states) {
        const open = s.open
        if (open !== undefined) {
          if (urgent || t >= open.deadline || open.bytes >= open.limit) closeOpen(s)
          else if (open.deadline < next) next = open.deadline
        }
        const head = s.queue[0]
        if (head === undefined) continue
        if (head.retryAt > t) {
          if (head.retryAt < next) next = head.retryAt
          continue
        }
        if (s.inFlight >= (s.retrying ? 1 : maxInFlight)) continue
        if (transactionalId !== undefined && !txnAdded.has(s)) {
          txnPending.add(s)
          continue
        }
        if (t - head.createdAt >= deliveryTimeoutMs && head.attempts > 0) {
          s.queue.shift()
          complete(head, {
            ok: false,
            error: ClientError.fromCode(7, {
              topic: s.topic,
              partition: s.partition,
              message: "delivery.timeout.ms expired"
            })
          })
          continue
        }
        const leader = cluster.cachedTopic(s.topic)?.partitions[s.partition]?.leader ?? -1
        if (leader < 0) {
          needMetadata.add(s.topic)
          continue
        }
        if ((nodeInFlight.get(leader) ?? 0) >= maxInFlight && !requests.has(leader)) continue
        const size = requestBytes.get(leader) ?? 0
        if (size > 0 && size + head.bytes > maxRequestSize) continue
        s.queue.shift()
        if (producerId >= 0 && head.sequence < 0) {
          head.sequence = s.nextSequence
          s.nextSequence = (s.nextSequence + head.records.length) % 2147483648
        }
        s.inFlight++
        let list = requests.get(leader)
        if (list === undefined) {
          list = []
          requests.set(leader, list)
          nodeInFlight.set(leader, (nodeInFlight.get(leader) ?? 0) + 1)
        }
        list.push(head)
        requestBytes.set(leader, size + head.bytes)
      }
      return { requests, next, needMetadata }
    }

    /** The transaction coordinator of `transactional.id` (looked up each time: it may move). */
    const txnCoordinator = (): Effect.Effect<number, Cluster.Error> =>
      Effect.gen(function* () {
        const res = yield* cluster.send(undefined, 10, (v) =>
          FindCoordinator.makeFindCoordinatorRequest(
            v >= 4 ? { keyType: 1, coordinatorKeys: [transactionalId!] } : { key: transactionalId!, keyType: 1 }
          )
        )
        const c = res.coordinators[0]
        const [code, message, node] =
          c === undefined ? [res.errorCode, res.errorMessage, res.nodeId] : [c.errorCode, c.errorMessage, c.nodeId]
        if (code !== 0)
          return yield* ClientError.fromCode(code, { message: message ?? `transactional id '${transactionalId}'` })
        return node
      })

    /** A request to the transaction coordinator, retried (with a new lookup) on retriable errors. */
    const atTxnCoordinator = <A>(
      f: (node: number) => Effect.Effect<A, Cluster.Error>
    ): Effect.Effect<A, Cluster.Error> => cluster.retry(Effect.flatMap(txnCoordinator(), f), deliveryTimeoutMs)

    /** Fails with the code's error; fencing makes the producer unusable, as in the Java client. */
    const txnCheck = (code: number, message: string): Effect.Effect<void, ClientError.KafkaError> => {
      if (code === 0) return Effect.void
      const error = ClientError.fromCode(code, { message })
      if (code === 90 || code === 47 || code === 49 || code === 53) fatal ??= error
      return Effect.fail(error)
    }

    const initIdempotence = Effect.gen(function* () {
      if (!wantIdempotence) return
      if (transactionalId !== undefined) {
        const res = yield* atTxnCoordinator((node) =>
          Effect.flatMap(
            cluster.send(node, 22, () =>
              InitProducerId.makeInitProducerIdRequest({
                transactionalId,
                transactionTimeoutMs,
                producerId: -1n,
                producerEpoch: -1
              })
            ),
            (r) => Effect.as(txnCheck(r.errorCode, `transactional id '${transactionalId}'`), r)
          )
        )
        producerId = Number(res.producerId)
        producerEpoch = res.producerEpoch
        maxInFlight = Math.min(maxInFlight, 5)
        return
      }
      const conn = yield* cluster.retry(cluster.anyConnection, deliveryTimeoutMs)
      if (conn.versionOf(22) === undefined) {
        yield* Effect.logWarning(
          `broker ${conn.broker} does not support InitProducerId: idempotence is off for this producer`
        )
        return
      }
      const res = yield* cluster.retry(
        Effect.flatMap(
          conn.send(
            22,
            InitProducerId.makeInitProducerIdRequest({
              transactionalId: null,
              transactionTimeoutMs: 60000,
              producerId: -1n,
              producerEpoch: -1
            })
          ),
          (r) => (r.errorCode === 0 ? Effect.succeed(r) : Effect.fail(ClientError.fromCode(r.errorCode)))
        ),
        deliveryTimeoutMs
      )
      producerId = Number(res.producerId)
      producerEpoch = res.producerEpoch
      maxInFlight = Math.min(maxInFlight, 5)
    })

    /** AddPartitionsToTxn for the partitions with batches waiting to join the transaction. */
    const addPendingPartitions: Effect.Effect<void> = Effect.gen(function* () {
      const adding = [...txnPending]
      txnPending.clear()
      const byTopic = new Map<string, Array<number>>()
      for (const s of adding) {
        const list = byTopic.get(s.topic) ?? []
        list.push(s.partition)
        byTopic.set(s.topic, list)
      }
      const topics = [...byTopic].map(([name, partitions]) => ({ name, partitions }))
      const added = yield* Effect.either(
        atTxnCoordinator((node) =>
          Effect.flatMap(
            cluster.send(node, 24, () =>
              AddPartitionsToTxn.makeAddPartitionsToTxnRequest({
                v3AndBelowTransactionalId: transactionalId!,
                v3AndBelowProducerId: BigInt(producerId),
                v3AndBelowProducerEpoch: producerEpoch,
                v3AndBelowTopics: topics
              })
            ),
            (res) =>
              Effect.gen(function* () {
                yield* txnCheck(res.errorCode, "AddPartitionsToTxn")
                for (const t of res.resultsByTopicV3AndBelow) {
                  for (const p of t.resultsByPartition) {
                    yield* txnCheck(p.partitionErrorCode, `${t.name}-${p.partitionIndex}`)
                  }
                }
              })
          )
        )
      )
      if (added._tag === "Right") {
        for (const s of adding) txnAdded.add(s)
        return
      }
      // the batches of those partitions cannot be part of the transaction: they fail (and it aborts)
      for (const s of adding) {
        for (const b of s.queue.splice(0)) complete(b, { ok: false, error: added.left as ProduceError })
      }
    })

    const txnRef = () => ({
      transactionalId: transactionalId!,
      producerId: BigInt(producerId),
      producerEpoch
    })

    /**
     * Transaction version 2 (EndTxn v5, KIP-890 part 2, sent when the broker advertises it): the coordinator bumped
     * the epoch (or moved to a new producer id) and answered the producer id and epoch of the next transaction, whose
     * sequences restart at 0 on every partition. Older versions answer -1/-1: nothing changes.
     */
    const adoptEndTxnId = (res: EndTxn.EndTxnResponse): void => {
      if (res.producerId < 0n || res.producerEpoch < 0) return
      const nextId = Number(res.producerId)
      if (nextId === producerId && res.producerEpoch === producerEpoch) return
      producerId = nextId
      producerEpoch = res.producerEpoch
      for (const s of states) s.nextSequence = 0
    }

    const endTxn = (commit: boolean): Effect.Effect<void, ProduceError> =>
      atTxnCoordinator((node) =>
        Effect.flatMap(
          cluster.send(node, 26, () => EndTxn.makeEndTxnRequest({ ...txnRef(), committed: commit })),
          (res) =>
            Effect.zipRight(
              txnCheck(res.errorCode, commit ? "EndTxn (commit)" : "EndTxn (abort)"),
              Effect.sync(() => adoptEndTxnId(res))
            )
        )
      )

    const notTransactional = () =>
      ClientError.fromCode(48, { message: "the producer has no transactional.id: set it to use transactions" })

    const waitInitialized: Effect.Effect<void, ProduceError> = Effect.suspend(() => {
      if (fatal !== undefined) return Effect.fail(fatal)
      if (initialized) return Effect.void
      return Effect.zipRight(Effect.sleep(5), waitInitialized)
    })

    const txnLock = yield* Effect.makeSemaphore(1)
    const transaction = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | ProduceError, R> =>
      transactionalId === undefined
        ? Effect.fail(notTransactional())
        : txnLock.withPermits(1)(
            Effect.uninterruptibleMask((restore) =>
              Effect.gen(function* () {
                yield* waitInitialized
                inTransaction = true
                txnAdded.clear()
                txnOffsetsAdded = false
                txnError = undefined
                const exit = yield* Effect.exit(restore(effect))
                // every send of the transaction is acknowledged (or failed) before it ends
                yield* flush
                const started = txnAdded.size > 0 || txnOffsetsAdded
                const error = txnError
                const commit = exit._tag === "Success" && error === undefined
                const ended = started ? yield* Effect.exit(endTxn(commit)) : undefined
                inTransaction = false
                txnAdded.clear()
                txnOffsetsAdded = false
                txnError = undefined
                if (exit._tag === "Failure") return yield* exit
                if (error !== undefined) return yield* Effect.fail(error)
                if (ended !== undefined && ended._tag === "Failure") return yield* Effect.failCause(ended.cause)
                return exit.value
              })
            )
          )

    const sendOffsetsToTransaction = (
      offsets: ReadonlyArray<TransactionOffset>,
      group: TransactionGroup
    ): Effect.Effect<void, ProduceError> =>
      Effect.gen(function* () {
        if (transactionalId === undefined) return yield* notTransactional()
        if (!inTransaction) {
          return yield* ClientError.fromCode(48, { message: "sendOffsetsToTransaction outside a transaction" })
        }
        if (fatal !== undefined) return yield* fatal
        const g =
          typeof group === "string" ? { groupId: group, generationId: -1, memberId: "", groupInstanceId: null } : group
        yield* atTxnCoordinator((node) =>
          Effect.flatMap(
            cluster.send(node, 25, () =>
              AddOffsetsToTxn.makeAddOffsetsToTxnRequest({ ...txnRef(), groupId: g.groupId })
            ),
            (res) => txnCheck(res.errorCode, `AddOffsetsToTxn (group '${g.groupId}')`)
          )
        )
        txnOffsetsAdded = true
        const byTopic = new Map<string, Array<TxnOffsetCommit.TxnOffsetCommitRequestPartition>>()
        for (const o of offsets) {
          const list = byTopic.get(o.topic) ?? []
          list.push(
            TxnOffsetCommit.makeTxnOffsetCommitRequestPartition({
              partitionIndex: o.partition,
              committedOffset: BigInt(o.offset),
              committedLeaderEpoch: o.leaderEpoch ?? -1,
              committedMetadata: o.metadata ?? ""
            })
          )
          byTopic.set(o.topic, list)
        }
        yield* cluster.retry(
          Effect.gen(function* () {
            const found = yield* cluster.send(undefined, 10, (v) =>
              FindCoordinator.makeFindCoordinatorRequest(
                v >= 4 ? { keyType: 0, coordinatorKeys: [g.groupId] } : { key: g.groupId, keyType: 0 }
              )
            )
            const c = found.coordinators[0]
            const [code, node] = c === undefined ? [found.errorCode, found.nodeId] : [c.errorCode, c.nodeId]
            if (code !== 0) return yield* ClientError.fromCode(code, { message: `group '${g.groupId}'` })
            const res = yield* cluster.send(node, 28, () =>
              TxnOffsetCommit.makeTxnOffsetCommitRequest({
                transactionalId,
                groupId: g.groupId,
                producerId: BigInt(producerId),
                producerEpoch,
                generationId: g.generationId,
                memberId: g.memberId,
                groupInstanceId: g.groupInstanceId ?? null,
                topics: [...byTopic].map(([name, partitions]) => ({ name, partitions }))
              })
            )
            for (const t of res.topics) {
              for (const p of t.partitions) {
                if (p.errorCode !== 0) {
                  return yield* ClientError.fromCode(p.errorCode, { topic: t.name, partition: p.partitionIndex })
                }
              }
            }
          }),
          deliveryTimeoutMs
        )
      })

    let fatal: ProduceError | undefined
    const senderLoop = Effect.gen(function* () {
      const init = yield* Effect.either(initIdempotence)
      if (init._tag === "Left") {
        fatal = init.left
        yield* Effect.logError(`producer initialisation failed: ${init.left.message}`)
        for (const b of [...incomplete]) complete(b, { ok: false, error: init.left })
      }
      initialized = true
      for (;;) {
        if (fatal !== undefined) {
          for (const b of [...incomplete]) complete(b, { ok: false, error: fatal })
        }
        const t = now()
        const { requests, next, needMetadata } = drain(t)
        for (const [node, batches] of requests) yield* Effect.forkDaemon(sendRequest(node, batches))
        if (txnPending.size > 0) {
          yield* addPendingPartitions
          continue
        }
        if (needMetadata.size > 0) yield* refreshInBackground([...needMetadata])
        if (requests.size === 0) {
          yield* waitForWake(needMetadata.size > 0 ? Math.min(backoffMs, next - t) : next - t)
        }
      }
    })
    const sender = yield* Effect.forkDaemon(
      senderLoop.pipe(
        Effect.catchAllCause((cause) =>
          Cause.isInterruptedOnly(cause)
            ? Effect.void
            : Effect.gen(function* () {
                // a defect in the sender: fail what is pending rather than leave callers hanging
                yield* Effect.logError("producer sender failed", cause)
                fatal = ClientError.fromCode(-1, { message: `producer sender failed: ${Cause.pretty(cause)}` })
                for (const b of [...incomplete]) complete(b, { ok: false, error: fatal })
              })
        )
      )
    )

    const awaitBatches = (batches: ReadonlyArray<Batch>): Effect.Effect<void> =>
      batches.length === 0
        ? Effect.void
        : Effect.async<void>((resume) => {
            let left = batches.length
            flushing++
            wake()
            const done = () => {
              if (--left === 0) {
                flushing--
                resume(Effect.void)
              }
            }
            for (const b of batches) b.onDone.push(done)
          })

    const flush: Effect.Effect<void> = Effect.suspend(() => {
      const target = waiterSeq
      const round: Effect.Effect<void> = Effect.suspend(() =>
        Effect.flatMap(awaitBatches([...incomplete]), () =>
          admittedSeq >= target || waiters.length === 0 ? Effect.void : round
        )
      )
      return round
    })

    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        closing = true
        wake()
        yield* flush
        yield* sender.interruptAsFork(sender.id())
      })
    )

    const closedError = () => new ClientError.ClientClosedError({ message: "the producer is closed", retriable: false })

    /** Encodes a record: [record input, its size] or an encode error. */
    const encodeRecord = <K, V>(
      topic: Topic.Topic<K, V>,
      r: Topic.ProducerRecord<K, V>
    ): RecordBatch.RecordInput | Topic.RecordEncodeError => {
      let key: Uint8Array | null = null
      let value: Uint8Array | null
      try {
        key = r.key === undefined || r.key === null ? null : topic.key.encode(r.key)
      } catch (e) {
        return new Topic.RecordEncodeError({ topic: topic.name, field: "key", message: Topic.errorMessage(e) })
      }
      try {
        value = topic.value.encode(r.value)
      } catch (e) {
        return new Topic.RecordEncodeError({ topic: topic.name, field: "value", message: Topic.errorMessage(e) })
      }
      return {
        key,
        value,
        timestamp: r.timestamp ?? now(),
        headers: r.headers === undefined ? NO_HEADERS : Topic.encodeHeaders(r.headers)
      }
    }

    const sizeOf = (r: RecordBatch.RecordInput): number => {
      let n = RECORD_OVERHEAD + (r.key?.length ?? 0) + (r.value?.length ?? 0)
      const hs = r.headers
      if (hs !== undefined)
        for (let i = 0; i < hs.length; i++) n += hs[i]!.key.length * 3 + (hs[i]!.value?.length ?? 0) + 4
      return n
    }

    const rawTopics = new Map<string, Topic.Topic<Uint8Array | null, Uint8Array | null>>()
    const topicOf = <K, V>(topic: Topic.Topic<K, V> | string): Topic.Topic<K, V> => {
      if (typeof topic !== "string") return topic
      let t = rawTopics.get(topic)
      if (t === undefined) {
        t = Topic.raw(topic)
        rawTopics.set(topic, t)
      }
      return t as unknown as Topic.Topic<K, V>
    }

    /**
     * Runs `f` with the topic's metadata: the cached one, unless it is missing or knows fewer partitions than
     * `maxPartition` needs (a partition added since, by CreatePartitions): then it is fetched again first, as
     * Kafka's producer waits on metadata for a partition it does not know yet.
     */
    const withTopic = <A>(
      name: string,
      f: (info: Cluster.TopicInfo) => Effect.Effect<A, ProduceError>,
      maxPartition = -1
    ): Effect.Effect<A, ProduceError> => {
      if (closing) return Effect.fail(closedError())
      if (fatal !== undefined) return Effect.fail(fatal)
      const info = cluster.cachedTopic(name)
      const go =
        info === undefined || info.partitions.length === 0
          ? Effect.flatMap(cluster.topic(name), f)
          : maxPartition < info.partitions.length
            ? f(info)
            : Effect.flatMap(cluster.refresh([name]), (snapshot) => f(snapshot.topics.get(name) ?? info))
      if (transactionalId === undefined) return go
      // checked when the send runs (it may be built before its transaction starts)
      return Effect.suspend(() =>
        inTransaction
          ? go
          : Effect.fail(ClientError.fromCode(48, { message: "a transactional producer sends inside transaction()" }))
      )
    }

    const checkPartition = (info: Cluster.TopicInfo, partition: number | undefined): ProduceError | undefined =>
      partition !== undefined && (partition < 0 || partition >= info.partitions.length)
        ? ClientError.fromCode(3, { topic: info.name, partition, message: "no such partition" })
        : undefined

    const send = <K, V>(topicIn: Topic.Topic<K, V> | string, r: Topic.ProducerRecord<K, V>) => {
      const topic = topicOf(topicIn)
      const input = encodeRecord(topic, r)
      if (input instanceof Topic.RecordEncodeError) return Effect.fail(input)
      const size = sizeOf(input)
      if (size > maxRequestSize) {
        return Effect.fail(ClientError.fromCode(10, { topic: topic.name, message: `record of ${size} bytes` }))
      }
      return withTopic(
        topic.name,
        (info) => {
          const bad = checkPartition(info, r.partition)
          if (bad !== undefined) return Effect.fail(bad)
          return Effect.async<RecordMetadata, ProduceError>((resume) => {
            if (closing) return resume(Effect.fail(closedError()))
            reserve(size, () =>
              append(
                info,
                input,
                size,
                r.partition,
                (result, i, timestamp, partition) => {
                  if (result.ok) {
                    resume(
                      Effect.succeed({
                        topic: info.name,
                        partition,
                        offset: result.baseOffset < 0 ? -1 : result.baseOffset + i,
                        timestamp: result.logAppendTime >= 0 ? result.logAppendTime : timestamp
                      })
                    )
                  } else resume(Effect.fail(result.error))
                },
                0,
                batchSize
              )
            )
          })
        },
        r.partition ?? -1
      )
    }

    const sendBatch = <K, V>(topicIn: Topic.Topic<K, V> | string, records: Iterable<Topic.ProducerRecord<K, V>>) => {
      const topic = topicOf(topicIn)
      const inputs: Array<RecordBatch.RecordInput> = []
      const parts: Array<number | undefined> = []
      let maxPartition = -1
      for (const r of records) {
        const input = encodeRecord(topic, r)
        if (input instanceof Topic.RecordEncodeError) return Effect.fail(input)
        inputs.push(input)
        parts.push(r.partition)
        if (r.partition !== undefined && r.partition > maxPartition) maxPartition = r.partition
      }
      if (inputs.length === 0) return Effect.succeed<Array<RecordMetadata>>([])
      return withTopic(
        topic.name,
        (info) => {
          for (const p of parts) {
            const bad = checkPartition(info, p)
            if (bad !== undefined) return Effect.fail(bad)
          }
          return Effect.async<Array<RecordMetadata>, ProduceError>((resume) => {
            if (closing) return resume(Effect.fail(closedError()))
            const results = new Array<RecordMetadata>(inputs.length)
            let left = inputs.length
            let failed = false
            const callback: Callback = (result, i, timestamp, partition, j) => {
              if (failed) return
              if (!result.ok) {
                failed = true
                resume(Effect.fail(result.error))
                return
              }
              results[j] = {
                topic: info.name,
                partition,
                offset: result.baseOffset < 0 ? -1 : result.baseOffset + i,
                timestamp: result.logAppendTime >= 0 ? result.logAppendTime : timestamp
              }
              if (--left === 0) resume(Effect.succeed(results))
            }
            // a sendBatch is a batch already: its partitions' last batches leave without lingering
            const touched = new Set<PartitionState>()
            for (let j = 0; j < inputs.length; j++) {
              const input = inputs[j]!
              const size = sizeOf(input)
              const partition = parts[j]
              if (waiters.length === 0 && used + size <= bufferMemory) {
                used += size
                touched.add(append(info, input, size, partition, callback, j, sendBatchLimit))
              } else reserve(size, () => void append(info, input, size, partition, callback, j, sendBatchLimit))
            }
            const t = now()
            for (const s of touched) if (s.open !== undefined && s.open.deadline > t) s.open.deadline = t
            wake()
          })
        },
        maxPartition
      )
    }

    return {
      send: send as Producer["send"],
      sendBatch: sendBatch as Producer["sendBatch"],
      flush,
      idempotence: () => (initialized && producerId >= 0 ? { producerId, producerEpoch } : undefined),
      bufferedBytes: () => used,
      transaction,
      sendOffsetsToTransaction
    } satisfies Producer
  })

/** A producer layer. */
export const layer = (config: ProducerConfig = {}): Layer.Layer<ProducerTag> => Layer.scoped(ProducerTag, make(config))

/** The producer keys read by {@link layerConfig}. */
export const configKeys = {
  ...ClientConfig.clientKeys,
  "linger.ms": "number",
  "batch.size": "number",
  acks: "number",
  "buffer.memory": "number",
  "max.in.flight.requests.per.connection": "number",
  "compression.type": "string",
  "enable.idempotence": "boolean",
  "delivery.timeout.ms": "number",
  "max.request.size": "number",
  "transactional.id": "string",
  "transaction.timeout.ms": "number"
} as const

/** A producer layer configured from Effect's `ConfigProvider` under Kafka's key names (`linger.ms`, ...). */
export const layerConfig: Layer.Layer<ProducerTag, ConfigError.ConfigError> = Layer.scoped(
  ProducerTag,
  Effect.flatMap(ClientConfig.fromConfigProvider(configKeys), (c) => make(c as ProducerConfig))
)
