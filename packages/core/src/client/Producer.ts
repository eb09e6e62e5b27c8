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
import * as InitProducerId from "../protocol/generated/InitProducerId.js"
import * as Produce from "../protocol/generated/Produce.js"
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
  "max.request.size": 1048576
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
  | ProtocolError
  | Topic.RecordEncodeError

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
  /** Bytes of buffer.memory this batch holds (its records' sizes). */
  reserved: number
  readonly createdAt: number
  readonly deadline: number
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
    const compression = codecOf(config["compression.type"] ?? defaults["compression.type"])
    const explicitIdempotence = config["enable.idempotence"]
    let maxInFlight =
      config["max.in.flight.requests.per.connection"] ?? defaults["max.in.flight.requests.per.connection"]
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
      slot: number
    ) => {
      const partition = choosePartition(info, record.key ?? null, explicitPartition)
      const s = stateOf(info.name, partition)
      let b = s.open
      if (b !== undefined && b.bytes + size > batchSize && b.records.length > 0) {
        closeOpen(s)
        b = undefined
        // a keyless record whose sticky partition just filled up moves to a new one
        if (explicitPartition === undefined && record.key == null && config.partitioner === undefined) {
          const p = pickSticky(info, partition)
          sticky.set(info.name, p)
          if (p !== partition) {
            append(info, record, size, explicitPartition, callback, slot)
            return
          }
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
      if (b.bytes >= batchSize) {
        closeOpen(s)
        wake()
      }
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
              ...(producerId >= 0 ? { producerId, producerEpoch, baseSequence: b.sequence } : {})
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
          if (urgent || t >= open.deadline || open.bytes >= batchSize) closeOpen(s)
          else if (open.deadline < next) next = open.deadline
        }
        const head = s.queue[0]
        if (head === undefined) continue
        if (head.retryAt > t) {
          if (head.retryAt < next) next = head.retryAt
          continue
        }
        if (s.inFlight >= (s.retrying ? 1 : maxInFlight)) continue
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

    const initIdempotence = Effect.gen(function* () {
      if (!wantIdempotence) return
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

    const withTopic = <A>(
      name: string,
      f: (info: Cluster.TopicInfo) => Effect.Effect<A, ProduceError>
    ): Effect.Effect<A, ProduceError> => {
      if (closing) return Effect.fail(closedError())
      if (fatal !== undefined) return Effect.fail(fatal)
      const info = cluster.cachedTopic(name)
      return info !== undefined && info.partitions.length > 0 ? f(info) : Effect.flatMap(cluster.topic(name), f)
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
      return withTopic(topic.name, (info) => {
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
              0
            )
          )
        })
      })
    }

    const sendBatch = <K, V>(topicIn: Topic.Topic<K, V> | string, records: Iterable<Topic.ProducerRecord<K, V>>) => {
      const topic = topicOf(topicIn)
      const inputs: Array<RecordBatch.RecordInput> = []
      const parts: Array<number | undefined> = []
      for (const r of records) {
        const input = encodeRecord(topic, r)
        if (input instanceof Topic.RecordEncodeError) return Effect.fail(input)
        inputs.push(input)
        parts.push(r.partition)
      }
      if (inputs.length === 0) return Effect.succeed<Array<RecordMetadata>>([])
      return withTopic(topic.name, (info) => {
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
          for (let j = 0; j < inputs.length; j++) {
            const input = inputs[j]!
            const size = sizeOf(input)
            const partition = parts[j]
            if (waiters.length === 0 && used + size <= bufferMemory) {
              used += size
              append(info, input, size, partition, callback, j)
            } else reserve(size, () => append(info, input, size, partition, callback, j))
          }
        })
      })
    }

    return {
      send: send as Producer["send"],
      sendBatch: sendBatch as Producer["sendBatch"],
      flush,
      idempotence: () => (initialized && producerId >= 0 ? { producerId, producerEpoch } : undefined),
      bufferedBytes: () => used
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
  "max.request.size": "number"
} as const

/** A producer layer configured from Effect's `ConfigProvider` under Kafka's key names (`linger.ms`, ...). */
export const layerConfig: Layer.Layer<ProducerTag, ConfigError.ConfigError> = Layer.scoped(
  ProducerTag,
  Effect.flatMap(ClientConfig.fromConfigProvider(configKeys), (c) => make(c as ProducerConfig))
)
