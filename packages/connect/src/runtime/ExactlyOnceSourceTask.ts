/**
 * Runs one exactly-once source task (KIP-618): a transactional producer (`transactional.id`
 * `<group.id>-<connector>-<task>`) writes the task's records and their source offsets (to the offsets topic,
 * in Connect's format) in one transaction, committed at each boundary: after every polled batch (`poll`),
 * once `transaction.boundary.interval.ms` has passed since the transaction began (`interval`, on `Clock`), or
 * when the task's `TransactionContext` asks (`connector`). Only after the commit are records acknowledged
 * (`commitRecord`, then `commit`); an aborted transaction acknowledges nothing and stores no offsets.
 *
 * Invariants: the producer's InitProducerId (which fences an older producer of the same id and aborts its
 * open transaction) completes before the committed offsets are read, so the task starts from offsets no
 * zombie can still change; offsets read are read_committed; a record's offset is written in the same
 * transaction as the record; records polled after a record-level boundary go into the next transaction, in
 * order; a failed send or commit fails the task (errors.tolerance does not apply to the producer here), and a
 * restarted task resumes from the last committed offsets.
 */
import * as Producer from "@eddy/core/client/Producer"
import { Cause, Clock, Effect, Exit, Fiber, Option } from "effect"
import type { SourceRecord } from "../data/ConnectRecord.js"
import { RetriableError } from "../plugin/ConnectError.js"
import type { Props, SourceTaskContext, TransactionContext } from "../plugin/Connector.js"
import type { TransactionBoundary } from "./ExactlyOnce.js"
import { keyOf, type PartitionOffset } from "./OffsetStore.js"
import { StageFailure } from "./RecordErrors.js"
import * as TransactionalOffsets from "./TransactionalOffsets.js"
import { prepare, type RawRecord, type SourceTaskParams } from "./WorkerSourceTask.js"

/** What an exactly-once source task runner needs. */
export interface ExactlyOnceTaskParams extends Omit<SourceTaskParams, "offsets" | "flushIntervalMs"> {
  readonly workerProps: Props
  /** The connector's config (client overrides, its own offsets topic). */
  readonly connectorProps: Props
  readonly transactionalId: string
  readonly offsetsTopic: string
  readonly boundary: TransactionBoundary
  readonly intervalMs: number
}

/** The task's wishes through its TransactionContext, consumed by the loop. */
interface Requests {
  commitBatch: boolean
  abortBatch: boolean
  readonly commitRecords: Set<SourceRecord>
  readonly abortRecords: Set<SourceRecord>
}

const transactionContextOf = (requests: Requests): TransactionContext => ({
  commitTransaction: (record) =>
    Effect.sync(() => {
      if (record) requests.commitRecords.add(record)
      else requests.commitBatch = true
    }),
  abortTransaction: (record) =>
    Effect.sync(() => {
      if (record) requests.abortRecords.add(record)
      else requests.abortBatch = true
    })
})

/** The loop's signal to abort the open transaction (the connector asked for it). */
class AbortRequested {
  readonly _tag = "AbortRequested"
}

/** One transaction's records, sends and offsets. */
interface Txn {
  readonly dispatched: Array<SourceRecord>
  readonly unsent: Array<{ readonly index: number; readonly record: RawRecord }>
  readonly sends: Array<{
    readonly indexes: ReadonlyArray<number>
    readonly fiber: Fiber.Fiber<Array<Producer.RecordMetadata>, Producer.ProduceError>
  }>
  readonly offsets: Map<string, PartitionOffset>
}

/** Runs the task until interrupted or failed; needs a Scope for its producer. */
export const run = (p: ExactlyOnceTaskParams) =>
  Effect.gen(function* () {
    yield* TransactionalOffsets.ensureTopic(p.offsetsTopic, p.workerProps, p.connectorProps)
    const producer = yield* Producer.make({
      ...(p.producerProps as Producer.ProducerConfig),
      "transactional.id": p.transactionalId,
      "enable.idempotence": true,
      acks: -1
    })
    // an empty transaction waits for InitProducerId: older producers of this id are fenced from here on
    yield* producer.transaction(Effect.void)
    const committed = yield* TransactionalOffsets.readCommitted(
      p.offsetsTopic,
      p.connector,
      p.workerProps,
      p.connectorProps
    )
    const task = yield* p.plugin.task
    const requests: Requests = {
      commitBatch: false,
      abortBatch: false,
      commitRecords: new Set(),
      abortRecords: new Set()
    }
    const context: SourceTaskContext = {
      configs: p.taskProps,
      transactionContext: p.boundary === "connector" ? transactionContextOf(requests) : null,
      offsetStorageReader: {
        offset: (partition) => Effect.sync(() => committed.get(keyOf(p.connector, partition)) ?? null)
      }
    }
    yield* Effect.addFinalizer(() => task.stop)
    yield* task.start(p.taskProps, context)
    yield* p.onStarted

    const seenTopics = new Set<string>()
    // records polled but not yet in a transaction (those after a record-level boundary)
    let carry: Array<SourceRecord> = []

    const poll = task.poll.pipe(
      Effect.catchIf(
        (e): e is RetriableError => e instanceof RetriableError,
        () => Effect.succeed(null)
      ),
      Effect.map((records) => records ?? [])
    )

    const dispatch = (txn: Txn, source: SourceRecord) =>
      Effect.gen(function* () {
        const index = txn.dispatched.length
        txn.dispatched.push(source)
        const prepared = prepare(p, source)
        if (prepared instanceof StageFailure)
          yield* p.errors.report(prepared.failure, { description: `source record for topic ${source.topic}` })
        else if (prepared !== null) txn.unsent.push({ index, record: prepared })
        if (source.sourcePartition !== null && source.sourceOffset !== null)
          txn.offsets.set(JSON.stringify(source.sourcePartition), {
            partition: source.sourcePartition,
            offset: source.sourceOffset
          })
      })

    /** Hands the dispatched records to the producer, one batch per topic, sent while the loop goes on. */
    const sendDispatched = (txn: Txn) =>
      Effect.gen(function* () {
        const byTopic = new Map<string, Array<{ readonly index: number; readonly record: RawRecord }>>()
        for (const u of txn.unsent.splice(0)) {
          const list = byTopic.get(u.record.topic) ?? []
          list.push(u)
          byTopic.set(u.record.topic, list)
        }
        for (const [topic, list] of byTopic) {
          if (!seenTopics.has(topic)) {
            seenTopics.add(topic)
            yield* p.onTopic(topic)
          }
          const fiber = yield* Effect.fork(
            producer.sendBatch(
              topic,
              list.map((u) => u.record)
            )
          )
          txn.sends.push({ indexes: list.map((u) => u.index), fiber })
        }
      })

    /** Dispatches records until a boundary: "commit" or "abort". */
    const untilBoundary = (txn: Txn, startedAt: number) =>
      Effect.gen(function* () {
        for (;;) {
          if (carry.length === 0) {
            carry = [...(yield* poll)]
            if (carry.length === 0) {
              if (p.boundary === "interval" && txn.dispatched.length > 0) {
                if ((yield* Clock.currentTimeMillis) - startedAt >= p.intervalMs) return "commit" as const
              }
              continue
            }
          }
          while (carry.length > 0) {
            const source = carry.shift()!
            yield* dispatch(txn, source)
            const abort = requests.abortRecords.delete(source)
            const commit = requests.commitRecords.delete(source)
            if (abort || commit) {
              yield* sendDispatched(txn)
              return abort ? ("abort" as const) : ("commit" as const)
            }
          }
          yield* sendDispatched(txn)
          if (p.boundary === "poll") return "commit" as const
          if (requests.abortBatch || requests.commitBatch) {
            const abort = requests.abortBatch
            requests.abortBatch = false
            requests.commitBatch = false
            return abort ? ("abort" as const) : ("commit" as const)
          }
          if (p.boundary === "interval" && (yield* Clock.currentTimeMillis) - startedAt >= p.intervalMs)
            return "commit" as const
        }
      })

    /** The body of one transaction: its records and, at a commit, their offsets; fails with AbortRequested to abort. */
    const body = (txn: Txn) =>
      Effect.gen(function* () {
        const outcome = yield* untilBoundary(txn, yield* Clock.currentTimeMillis)
        if (outcome === "abort") {
          yield* Effect.forEach(txn.sends, (s) => Fiber.await(s.fiber), { discard: true })
          return yield* Effect.fail(new AbortRequested())
        }
        const metadata = new Array<Producer.RecordMetadata | null>(txn.dispatched.length).fill(null)
        for (const { indexes, fiber } of txn.sends) {
          const acks = yield* Fiber.join(fiber)
          indexes.forEach((i, j) => {
            metadata[i] = acks[j] ?? null
          })
        }
        if (txn.offsets.size > 0)
          yield* producer.sendBatch(p.offsetsTopic, TransactionalOffsets.records(p.connector, txn.offsets.values()))
        return metadata
      })

    const acknowledge = (txn: Txn, metadata: ReadonlyArray<Producer.RecordMetadata | null>) =>
      Effect.gen(function* () {
        for (const o of txn.offsets.values()) {
          if (o.offset === null) committed.delete(keyOf(p.connector, o.partition))
          else committed.set(keyOf(p.connector, o.partition), o.offset)
        }
        if (task.commitRecord) {
          const commitRecord = task.commitRecord
          yield* Effect.forEach(
            txn.dispatched,
            (source, i) => Effect.ignoreLogged(commitRecord(source, metadata[i] ?? null)),
            { discard: true }
          )
        }
        if (task.commit) yield* Effect.catchAll(task.commit, (e) => Effect.logWarning("source task commit failed", e))
      })

    const oneTransaction = Effect.gen(function* () {
      const txn: Txn = { dispatched: [], unsent: [], sends: [], offsets: new Map() }
      const exit = yield* Effect.exit(producer.transaction(body(txn)))
      if (Exit.isSuccess(exit)) return yield* acknowledge(txn, exit.value)
      const error = Cause.failureOption(exit.cause)
      if (Option.isSome(error) && error.value instanceof AbortRequested)
        return yield* Effect.logInfo(
          `${p.connector}-${p.taskId}: the task aborted a transaction of ${txn.dispatched.length} record(s)`
        )
      return yield* exit
    })

    return yield* Effect.forever(oneTransaction)
  })
