/**
 * Postgres sink benchmark: rows/s of the sink's `put` (upsert by key, batches of 500 records, one
 * transaction per put) against a plain loop of multi-row `INSERT ... ON CONFLICT DO UPDATE` statements of
 * the same rows through `pg` in the same process, on a Postgres started for the run (needs Postgres's
 * binaries, see packages/connect/test/postgres/pgServer.ts). Run:
 * `node --import tsx packages/connect/bench/postgresSink.bench.ts`.
 */
import { NodeContext } from "@effect/platform-node"
import { Effect } from "effect"
import pg from "pg"
import { sinkRecord } from "../src/data/ConnectRecord.js"
import * as CS from "../src/data/ConnectSchema.js"
import { Struct } from "../src/data/Struct.js"
import * as PostgresSink from "../src/postgres/PostgresSink.js"
import { pgBinDir, skipNote, startPostgres } from "../test/postgres/pgServer.js"

const ROWS = Number(process.env.BENCH_ROWS ?? 50_000)
const BATCH = 500

const keySchema = CS.struct([["id", CS.int64()]])
const valueSchema = CS.struct([
  ["id", CS.int64()],
  ["name", CS.string()],
  ["qty", CS.int32()],
  ["price", CS.float64()],
  ["note", CS.string({ optional: true })]
])

const rows = Array.from({ length: ROWS }, (_, i) => ({
  id: i,
  name: `name-${i}`,
  qty: i % 1000,
  price: i * 0.5,
  note: i % 3 === 0 ? null : `note ${i}`
}))

const records = rows.map((r, i) =>
  sinkRecord({
    topic: "bench",
    kafkaPartition: 0,
    kafkaOffset: i,
    keySchema,
    key: new Struct(keySchema).put("id", r.id),
    valueSchema,
    value: new Struct(valueSchema)
      .put("id", r.id)
      .put("name", r.name)
      .put("qty", r.qty)
      .put("price", r.price)
      .put("note", r.note)
  })
)

const main = Effect.gen(function* () {
  const server = yield* startPostgres
  yield* server.query(
    "CREATE TABLE bench (id bigint PRIMARY KEY, name text NOT NULL, qty integer NOT NULL, price double precision NOT NULL, note text)"
  )
  yield* server.query("CREATE TABLE baseline (LIKE bench INCLUDING ALL)")

  // the baseline first, on the colder server
  const baselineMs = yield* Effect.promise(async () => {
    const client = new pg.Client({ connectionString: server.url })
    await client.connect()
    const start = performance.now()
    for (let i = 0; i < ROWS; i += BATCH) {
      const chunk = rows.slice(i, i + BATCH)
      const values = chunk.map((_, j) => `($${j * 5 + 1}, $${j * 5 + 2}, $${j * 5 + 3}, $${j * 5 + 4}, $${j * 5 + 5})`)
      await client.query("BEGIN")
      await client.query(
        `INSERT INTO baseline (id, name, qty, price, note) VALUES ${values.join(", ")} ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, qty = EXCLUDED.qty, price = EXCLUDED.price, note = EXCLUDED.note`,
        chunk.flatMap((r) => [r.id, r.name, r.qty, r.price, r.note])
      )
      await client.query("COMMIT")
    }
    const ms = performance.now() - start
    await client.end()
    return ms
  })
  const task = yield* PostgresSink.plugin.task
  yield* task.start(
    { "connection.url": server.url, "insert.mode": "upsert", "pk.mode": "record_key" },
    {
      configs: {},
      offset: () => Effect.void,
      timeout: () => Effect.void,
      assignment: Effect.succeed([]),
      pause: () => Effect.void,
      resume: () => Effect.void,
      requestCommit: Effect.void,
      errantRecordReporter: null
    }
  )
  const sinkStart = performance.now()
  for (let i = 0; i < ROWS; i += BATCH) yield* task.put(records.slice(i, i + BATCH))
  const sinkMs = performance.now() - sinkStart
  yield* task.stop

  const sinkRate = ROWS / (sinkMs / 1000)
  const baseRate = ROWS / (baselineMs / 1000)
  console.log("| run | rows/s |")
  console.log("| --- | --- |")
  console.log(`| PostgresSink upsert, ${BATCH} per put | ${Math.round(sinkRate)} |`)
  console.log(`| pg multi-row upsert loop | ${Math.round(baseRate)} |`)
  console.log(`| ratio | ${(sinkRate / baseRate).toFixed(2)}x |`)
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
