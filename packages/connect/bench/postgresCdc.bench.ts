/**
 * Postgres CDC benchmark: events/s of the CDC source task (pgoutput decoding, Debezium event structs,
 * acknowledgements through `commitRecord`; no broker) against a bare `pg-logical-replication` client reading
 * the same WAL into nothing, each from its own slot over the same 50 transactions of 1,000 inserted rows,
 * on a Postgres started for the run. Run: `node --import tsx packages/connect/bench/postgresCdc.bench.ts`.
 */
import { NodeContext } from "@effect/platform-node"
import { Effect } from "effect"
import { LogicalReplicationService, PgoutputPlugin } from "pg-logical-replication"
import type { SourceRecord } from "../src/data/ConnectRecord.js"
import * as PostgresCdcSource from "../src/postgres/PostgresCdcSource.js"
import { pgBinDir, skipNote, startPostgres } from "../test/postgres/pgServer.js"

const TXNS = 50
const ROWS_PER_TXN = 1000
const EVENTS = TXNS * ROWS_PER_TXN

const main = Effect.gen(function* () {
  const pg = yield* startPostgres
  yield* pg.query("CREATE TABLE cdc_bench (id int PRIMARY KEY, name text NOT NULL, qty int8, price numeric(10,2))")
  yield* pg.query("CREATE PUBLICATION bench_pub FOR ALL TABLES")
  yield* pg.query("SELECT pg_create_logical_replication_slot('bare', 'pgoutput')")
  yield* pg.query("SELECT pg_create_logical_replication_slot('eddy', 'pgoutput')")
  for (let t = 0; t < TXNS; t++)
    yield* pg.query(
      `INSERT INTO cdc_bench SELECT i, 'name ' || i, i * 7, i * 0.25 FROM generate_series(${t * ROWS_PER_TXN + 1}, ${(t + 1) * ROWS_PER_TXN}) i`
    )

  const bareMs = yield* Effect.promise(
    () =>
      new Promise<number>((resolve, reject) => {
        const service = new LogicalReplicationService(
          { host: pg.host, port: pg.port, user: pg.user, database: pg.database },
          { acknowledge: { auto: true, timeoutSeconds: 10 } }
        )
        let seen = 0
        const start = performance.now()
        service.on("data", (_lsn: string, msg: { tag: string }) => {
          if (msg.tag === "insert" && ++seen === EVENTS) {
            const ms = performance.now() - start
            void service.stop().then(() => resolve(ms))
          }
        })
        service
          .subscribe(new PgoutputPlugin({ protoVersion: 1, publicationNames: ["bench_pub"] }), "bare")
          .catch(reject)
      })
  )

  const task = yield* PostgresCdcSource.plugin.task
  const start = performance.now()
  yield* task.start(
    {
      "database.hostname": pg.host,
      "database.port": String(pg.port),
      "database.user": pg.user,
      "database.dbname": pg.database,
      "topic.prefix": "bench",
      "slot.name": "eddy",
      "publication.name": "bench_pub",
      "publication.autocreate.mode": "disabled",
      "snapshot.mode": "no_data",
      "poll.interval.ms": "100"
    },
    {
      configs: {},
      transactionContext: null,
      offsetStorageReader: { offset: () => Effect.succeed(null) }
    }
  )
  let seen = 0
  while (seen < EVENTS) {
    const records: ReadonlyArray<SourceRecord> = (yield* task.poll) ?? []
    for (const r of records) yield* task.commitRecord!(r, { topic: r.topic, partition: 0, offset: seen++ })
  }
  const eddyMs = performance.now() - start
  yield* task.stop

  const bare = EVENTS / (bareMs / 1000)
  const eddy = EVENTS / (eddyMs / 1000)
  console.log("| run | events/s |")
  console.log("| --- | --- |")
  console.log(`| CDC source task (Debezium events, acks) | ${Math.round(eddy)} |`)
  console.log(`| bare pg-logical-replication client | ${Math.round(bare)} |`)
  console.log(`| ratio | ${(eddy / bare).toFixed(2)}x |`)
}).pipe(Effect.scoped, Effect.provide(NodeContext.layer))

/** Runs the benchmark (prints a table). */
export const run = async (): Promise<void> => {
  if (pgBinDir === null) {
    console.log(skipNote)
    return
  }
  await Effect.runPromise(main)
}

if (import.meta.url === `file://${process.argv[1]}`) await run()
