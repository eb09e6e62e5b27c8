/**
 * A broker SIGKILLed while it commits: a transaction of records on three partitions is driven over the
 * wire to EndTxn(commit), and the broker process is killed 0 to a few milliseconds after the EndTxn
 * request is written (so the kill lands before Prepare, between Prepare and the markers, between
 * markers, or after Complete). After a restart the coordinator's state and the partitions agree: either
 * the transaction committed (CompleteCommit, a COMMIT marker on every partition) or it never got to
 * Prepare and the producer's next InitProducerId aborts it. A kafkajs read_committed consumer then sees
 * each transaction whole or not at all, and every transaction whose EndTxn was answered.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Kafka, logLevel } from "kafkajs"
import { partitionFor } from "../../src/broker/CoordinatorKey.js"
import { decodeRecord, statusName } from "../../src/broker/TransactionCoordinator.js"
import { encodeRequestFrame } from "../../src/protocol/Frame.js"
import * as AddPartitionsToTxn from "../../src/protocol/generated/AddPartitionsToTxn.js"
import * as DescribeTransactions from "../../src/protocol/generated/DescribeTransactions.js"
import * as EndTxn from "../../src/protocol/generated/EndTxn.js"
import * as InitProducerId from "../../src/protocol/generated/InitProducerId.js"
import * as RecordBatch from "../../src/protocol/RecordBatch.js"
import { batch, createTopic, fetchOne, produce } from "./produceFetch.js"
import { connect, processExited, type RawClient, spawnBrokerProcess, tempDir } from "./util.js"

const TOPIC = "kill-tx"
const PARTITIONS = 3
const PER_PARTITION = 4
const TXN_ID = "kill-me"
/** Kill delays after the EndTxn request is written, in ms; two rounds of each. */
const DELAYS = [0, 0, 1, 1, 2, 3, 5, 8, 13, 40]

/** One partition per internal topic: a restart recovers 2 logs instead of 100 (seconds per restart under load). */
const TXN_STATE_PARTITIONS = 1

const spawnBroker = (dir: string) =>
  spawnBrokerProcess(dir, {
    "group.initial.rebalance.delay.ms": "0",
    "offsets.topic.num.partitions": "1",
    "transaction.state.log.num.partitions": String(TXN_STATE_PARTITIONS)
  })

const exited = processExited

const initProducer = (client: RawClient) =>
  Effect.map(
    client.send(
      22,
      4,
      InitProducerId.makeInitProducerIdRequest({ transactionalId: TXN_ID, transactionTimeoutMs: 60_000 })
    ),
    (r) => {
      assert.strictEqual(r.errorCode, 0, "InitProducerId")
      return { producerId: Number(r.producerId), producerEpoch: r.producerEpoch }
    }
  )

/**
 * The last state of the transactional id on disk, read from the `__transaction_state` segment files
 * without opening the log (whole batches with a valid CRC only: what recovery will keep).
 */
const stateOnDisk = (dir: string): string => {
  const folder = path.join(dir, `__transaction_state-${partitionFor(TXN_ID, TXN_STATE_PARTITIONS)}`)
  let last = "none"
  for (const file of fs
    .readdirSync(folder)
    .filter((f) => f.endsWith(".log"))
    .sort()) {
    const bytes = fs.readFileSync(path.join(folder, file))
    let pos = 0
    while (pos + RecordBatch.LOG_OVERHEAD <= bytes.length) {
      const size = RecordBatch.sizeAt(bytes, pos)
      if (size <= RecordBatch.LOG_OVERHEAD || pos + size > bytes.length || !RecordBatch.isCrcValid(bytes, pos, size))
        break
      for (const r of RecordBatch.records(bytes.subarray(pos, pos + size), 0)) {
        const d = r.key === null ? undefined : decodeRecord(r.key, r.value)
        if (d?.transactionalId === TXN_ID && d.metadata !== null) last = statusName(d.metadata.status)
      }
      pos += size
    }
  }
  return last
}

const describeTxn = (client: RawClient) =>
  Effect.map(
    client.send(65, 0, DescribeTransactions.makeDescribeTransactionsRequest({ transactionalIds: [TXN_ID] })),
    (r) => r.transactionStates[0]!
  )

/** Reads the topic with a kafkajs read_committed consumer until it has been quiet for a while. */
const readCommitted = (port: number) =>
  Effect.promise(async () => {
    const kafka = new Kafka({ clientId: "kill-reader", brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING })
    const consumer = kafka.consumer({ groupId: "kill-reader", readUncommitted: false, maxWaitTimeInMs: 100 })
    await consumer.connect()
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true })
    const values: Array<string> = []
    let last = Date.now()
    await consumer.run({
      eachMessage: async ({ message }) => {
        values.push(message.value!.toString())
        last = Date.now()
      }
    })
    const started = Date.now()
    while (Date.now() - last < 1500 || (values.length === 0 && Date.now() - started < 10_000)) {
      await new Promise((r) => setTimeout(r, 100))
    }
    await consumer.disconnect()
    return values
  })

describe("a broker SIGKILLed during EndTxn", () => {
  it.scopedLive(
    "the transaction commits on every partition or on none, and the coordinator agrees",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const answered = new Set<number>()
        const outcomes: Array<string> = []
        /** The id's state on disk when the broker died. */
        const atKill: Array<string> = []
        for (let round = 0; round < DELAYS.length; round++) {
          yield* Effect.scoped(
            Effect.gen(function* () {
              const { proc, port } = yield* spawnBroker(dir)
              const client = yield* connect(port)
              if (round === 0) yield* createTopic(client, TOPIC, PARTITIONS)
              // a restarted producer: InitProducerId aborts what the last round left open
              const p = yield* initProducer(client)
              const added = yield* client.send(
                24,
                1,
                AddPartitionsToTxn.makeAddPartitionsToTxnRequest({
                  v3AndBelowTransactionalId: TXN_ID,
                  v3AndBelowProducerId: BigInt(p.producerId),
                  v3AndBelowProducerEpoch: p.producerEpoch,
                  v3AndBelowTopics: [{ name: TOPIC, partitions: Array.from({ length: PARTITIONS }, (_, i) => i) }]
                })
              )
              assert.isTrue(
                added.resultsByTopicV3AndBelow[0]!.resultsByPartition.every((r) => r.partitionErrorCode === 0)
              )
              for (let partition = 0; partition < PARTITIONS; partition++) {
                const values = Array.from({ length: PER_PARTITION }, (_, i) => `${round}:${partition}:${i}`)
                const res = yield* produce(
                  client,
                  TOPIC,
                  partition,
                  batch(values, { ...p, baseSequence: 0, transactional: true }),
                  { version: 7, acks: -1 }
                )
                assert.strictEqual(res.errorCode, 0, `produce ${round} ${partition}`)
              }
              // EndTxn(commit), then the kill; the answer may or may not make it out first
              const correlationId = client.nextCorrelationId()
              const request = EndTxn.makeEndTxnRequest({
                transactionalId: TXN_ID,
                ...p,
                producerId: BigInt(p.producerId),
                committed: true
              })
              const answer = Effect.map(client.nextFrame, () => true)
              yield* client.write(encodeRequestFrame(26, 1, correlationId, "kill", request))
              const delay = DELAYS[round]!
              if (delay > 0) yield* Effect.sleep(delay)
              proc.kill("SIGKILL")
              yield* exited(proc)
              atKill.push(stateOnDisk(dir))
              const got = yield* answer.pipe(
                Effect.timeoutTo({ duration: "100 millis", onSuccess: (x) => x, onTimeout: () => false })
              )
              if (got) answered.add(round)
            })
          )

          // restart: the coordinator settles what the kill left; the partitions agree with it
          yield* Effect.scoped(
            Effect.gen(function* () {
              const { port } = yield* spawnBroker(dir)
              const client = yield* connect(port)
              const state = yield* describeTxn(client)
              assert.include(["Ongoing", "CompleteCommit"], state.transactionState, `round ${round}`)
              outcomes.push(state.transactionState)
              if (answered.has(round)) assert.strictEqual(state.transactionState, "CompleteCommit")
              // Prepare written: the commit is decided and the restart finishes it; before it: still open
              const expected = atKill[round] === "Ongoing" ? "Ongoing" : "CompleteCommit"
              assert.strictEqual(state.transactionState, expected, `round ${round}, ${atKill[round]} at the kill`)
              const stable = state.transactionState === "CompleteCommit"
              for (let partition = 0; partition < PARTITIONS; partition++) {
                // read_committed Fetch: stable partitions return everything, open ones stop before the round
                const f = yield* fetchOne(client, TOPIC, partition, 0, 11, { isolationLevel: 1 })
                const lso = Number(f.lastStableOffset)
                const hw = Number(f.highWatermark)
                if (stable) assert.strictEqual(lso, hw, `round ${round} partition ${partition}: committed yet unstable`)
                else assert.isBelow(lso, hw, `round ${round} partition ${partition}: open yet stable`)
              }
            })
          )
        }

        const read = yield* Effect.scoped(
          Effect.gen(function* () {
            const { port } = yield* spawnBroker(dir)
            const client = yield* connect(port)
            // the producer's last restart: aborts the last round if it was left open
            yield* initProducer(client)
            return yield* readCommitted(port)
          })
        )
        const perRound = new Map<number, number>()
        for (const v of read) {
          const round = Number(v.split(":")[0])
          perRound.set(round, (perRound.get(round) ?? 0) + 1)
        }
        for (let round = 0; round < DELAYS.length; round++) {
          const n = perRound.get(round) ?? 0
          if (outcomes[round] === "CompleteCommit") {
            assert.strictEqual(n, PARTITIONS * PER_PARTITION, `round ${round} committed but ${n} records visible`)
          } else {
            assert.strictEqual(n, 0, `round ${round} never prepared but ${n} records visible`)
          }
        }
        console.log(
          `TransactionKill: outcomes ${outcomes.join(" ")}; EndTxn answered in rounds ${[...answered].join(",")}`
        )
      }),
    { timeout: 240_000 }
  )
})
