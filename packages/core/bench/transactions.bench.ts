/**
 * Transactions: Eddy's producer writing 100-record transactions (`Producer.transaction` around a
 * `sendBatch` of 100 records of 100 B over 4 partitions, one after the other) next to the same batches
 * sent idempotently without a transaction, and kafkajs's transactional producer doing the same, all
 * against one Eddy broker in this process, alternated, best of two each.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Context, Effect, Exit, Layer, Logger, LogLevel, Scope } from "effect"
import { Kafka, logLevel } from "kafkajs"
import * as Broker from "../src/broker/Broker.js"
import * as BrokerConfig from "../src/broker/BrokerConfig.js"
import * as Admin from "../src/client/Admin.js"
import * as Producer from "../src/client/Producer.js"

const PARTITIONS = 4
const PER_TXN = 100
const TXNS = Number(process.env.EDDY_BENCH_TXNS ?? 300)

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })

const records = Array.from({ length: PER_TXN }, (_, i) => ({
  value: Buffer.alloc(100, 0x61),
  partition: i % PARTITIONS
}))

const bench = Effect.gen(function* () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "eddy-bench-txn-"))
  yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })))
  const config = yield* BrokerConfig.make({ listeners: "PLAINTEXT://127.0.0.1:0", "log.dirs": dir })
  const context = yield* Layer.build(Broker.layer(config))
  const bootstrap = `127.0.0.1:${Context.get(context, Broker.Broker).address.port}`
  const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
  yield* admin.createTopics([
    { name: "plain", numPartitions: PARTITIONS },
    { name: "txn", numPartitions: PARTITIONS },
    { name: "kjs", numPartitions: PARTITIONS }
  ])
  const plain = yield* Producer.make({ "bootstrap.servers": bootstrap })
  const transactional = yield* Producer.make({ "bootstrap.servers": bootstrap, "transactional.id": "bench" })
  const kafka = new Kafka({ clientId: "bench", brokers: [bootstrap], logLevel: logLevel.NOTHING })
  const kproducer = kafka.producer({ transactionalId: "bench-kjs", maxInFlightRequests: 1, idempotent: true })
  yield* Effect.promise(() => kproducer.connect())
  const kmessages = records.map((r) => ({ value: r.value, partition: r.partition }))

  const timed = <E>(e: Effect.Effect<unknown, E>) =>
    Effect.suspend(() => {
      const t0 = performance.now()
      return Effect.map(e, () => (performance.now() - t0) / 1000)
    })
  const runPlain = timed(
    Effect.forEach(Array.from({ length: TXNS }), () => plain.sendBatch("plain", records), { discard: true })
  )
  const runTxn = timed(
    Effect.forEach(
      Array.from({ length: TXNS }),
      () => transactional.transaction(transactional.sendBatch("txn", records)),
      {
        discard: true
      }
    )
  )
  const runKafkajs = Effect.promise(async () => {
    const t0 = performance.now()
    for (let i = 0; i < TXNS; i++) {
      const txn = await kproducer.transaction()
      await txn.send({ topic: "kjs", messages: kmessages })
      await txn.commit()
    }
    return (performance.now() - t0) / 1000
  })
  // warm-up, then alternate, best of two
  yield* Effect.all([
    plain.sendBatch("plain", records),
    transactional.transaction(transactional.sendBatch("txn", records))
  ])
  const best = { plain: Infinity, txn: Infinity, kjs: Infinity }
  for (let round = 0; round < 2; round++) {
    best.plain = Math.min(best.plain, yield* runPlain)
    best.txn = Math.min(best.txn, yield* runTxn)
    best.kjs = Math.min(best.kjs, yield* runKafkajs)
  }
  yield* Effect.promise(() => kproducer.disconnect())
  const total = TXNS * PER_TXN
  console.log(
    `| ${TXNS} x ${PER_TXN} records of 100 B, 4 partitions | records/s | transactions/s | vs non-transactional |`
  )
  console.log("| --- | --- | --- | --- |")
  const row = (name: string, secs: number) =>
    console.log(`| ${name} | ${fmt(total / secs)} | ${fmt(TXNS / secs)} | ${fmt(best.plain / secs, 2)}x |`)
  row("Eddy sendBatch, idempotent, no transaction", best.plain)
  row("Eddy Producer.transaction(sendBatch)", best.txn)
  row("kafkajs transaction (send + commit)", best.kjs)
})

export const run = async (): Promise<void> => {
  const scope = Effect.runSync(Scope.make())
  try {
    await Effect.runPromise(bench.pipe(Scope.extend(scope), Logger.withMinimumLogLevel(LogLevel.Error)))
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}
