import { NodeContext } from "@effect/platform-node"
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { type SinkRecord, sinkRecord } from "../../src/data/ConnectRecord.js"
import * as CS from "../../src/data/ConnectSchema.js"
import * as Logical from "../../src/data/Logical.js"
import { Struct } from "../../src/data/Struct.js"
import { ConnectError } from "../../src/plugin/ConnectError.js"
import type { SinkTaskContext } from "../../src/plugin/Connector.js"
import * as PostgresSink from "../../src/postgres/PostgresSink.js"
import * as PostgresSource from "../../src/postgres/PostgresSource.js"
import { eventually, makeWorker, startEddy, workerProps } from "../util.js"
import { type PgServer, PgTag, pgBinDir, skipNote, startPostgres } from "./pgServer.js"

if (pgBinDir === null) console.warn(skipNote)

const sinkContext = (timeouts: Array<number> = []): SinkTaskContext => ({
  configs: {},
  offset: () => Effect.void,
  timeout: (ms) => Effect.sync(() => void timeouts.push(ms)),
  assignment: Effect.succeed([]),
  pause: () => Effect.void,
  resume: () => Effect.void,
  requestCommit: Effect.void,
  errantRecordReporter: null
})

const keySchema = CS.struct([["id", CS.int64()]])
const valueV1 = CS.struct([
  ["id", CS.int64()],
  ["name", CS.string()],
  ["amount", Logical.decimal(2, { optional: true })],
  ["at", Logical.timestamp({ optional: true })]
])
const valueV2 = CS.struct([
  ...valueV1.fields!.map((f) => [f.name, f.schema] as const),
  ["note", CS.string({ optional: true })]
])

let offset = 0
const record = (
  topic: string,
  id: number | bigint,
  name: string | null,
  schema = valueV1,
  extra: Record<string, unknown> = {}
) => {
  const key = new Struct(keySchema).put("id", id)
  let value: Struct | null = null
  if (name !== null) {
    value = new Struct(schema).put("id", id).put("name", name)
    value.put("amount", Logical.BigDecimal.parse("12.30").withScale(2))
    value.put("at", new Date("2024-05-06T07:08:09.123Z"))
    for (const [k, v] of Object.entries(extra)) value.put(k, v)
  }
  return sinkRecord({
    topic,
    kafkaPartition: 0,
    kafkaOffset: offset++,
    keySchema,
    key,
    valueSchema: name === null ? null : schema,
    value
  })
}

const startSink = (pg: PgServer, props: Record<string, string>, timeouts?: Array<number>) =>
  Effect.gen(function* () {
    const task = yield* PostgresSink.plugin.task
    yield* Effect.acquireRelease(
      task.start({ "connection.url": pg.jdbcUrl, ...props }, sinkContext(timeouts)),
      () => task.stop
    )
    return (records: ReadonlyArray<SinkRecord>) => Effect.provide(task.put(records), NodeContext.layer)
  }).pipe(Effect.provide(NodeContext.layer))

const upsertProps = {
  "insert.mode": "upsert",
  "pk.mode": "record_key",
  "auto.create": "true",
  "auto.evolve": "true",
  "delete.enabled": "true"
}

describe.skipIf(pgBinDir === null)("PostgresSink", () => {
  layer(Layer.scoped(PgTag, startPostgres), { timeout: 60_000, excludeTestServices: true })((it) => {
    it.scoped("upserting the same records twice leaves one row per key, with exact values", () =>
      Effect.gen(function* () {
        const pg = yield* PgTag
        const put = yield* startSink(pg, upsertProps)
        const batch = [
          record("up", 1, "a"),
          record("up", 2, "b"),
          record("up", 9007199254740993n, "big"),
          record("up", 1, "a2")
        ]
        yield* put(batch)
        yield* put(batch)
        const rows = yield* pg.query<{ id: string; name: string; amount: string; at: string }>(
          "SELECT id::text, name, amount::text, to_char(at, 'YYYY-MM-DD HH24:MI:SS.MS') AS at FROM up ORDER BY id"
        )
        assert.deepStrictEqual(
          rows.map((r) => [r.id, r.name, r.amount, r.at]),
          [
            ["1", "a2", "12.30", "2024-05-06 07:08:09.123"],
            ["2", "b", "12.30", "2024-05-06 07:08:09.123"],
            ["9007199254740993", "big", "12.30", "2024-05-06 07:08:09.123"]
          ]
        )
        const pk = yield* pg.query<{ cols: string }>(
          `SELECT string_agg(a.attname, ',') AS cols FROM pg_index i JOIN pg_attribute a
           ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'up'::regclass AND i.indisprimary`
        )
        assert.strictEqual(pk[0]!.cols, "id")
      })
    )

    it.scoped("a new optional field adds a column (auto.evolve); a new required one fails the task", () =>
      Effect.gen(function* () {
        const pg = yield* PgTag
        const put = yield* startSink(pg, upsertProps)
        yield* put([record("evolve", 1, "a")])
        yield* put([record("evolve", 2, "b", valueV2, { note: "hello" })])
        const rows = yield* pg.query<{ id: string; note: string | null }>(
          "SELECT id::text, note FROM evolve ORDER BY id"
        )
        assert.deepStrictEqual(
          rows.map((r) => [r.id, r.note]),
          [
            ["1", null],
            ["2", "hello"]
          ]
        )
        const valueV3 = CS.struct([...valueV1.fields!.map((f) => [f.name, f.schema] as const), ["must", CS.int32()]])
        const error = yield* Effect.flip(put([record("evolve", 3, "c", valueV3, { must: 1 })]))
        assert.instanceOf(error, ConnectError)
        assert.include(error.message, "Cannot ALTER")
      })
    )

    it.scoped("a tombstone deletes its key's row (delete.enabled)", () =>
      Effect.gen(function* () {
        const pg = yield* PgTag
        const put = yield* startSink(pg, upsertProps)
        yield* put([record("del", 1, "a"), record("del", 2, "b"), record("del", 3, "c")])
        yield* put([record("del", 2, null), record("del", 3, null), record("del", 3, "c again")])
        const rows = yield* pg.query<{ id: string; name: string }>("SELECT id::text, name FROM del ORDER BY id")
        assert.deepStrictEqual(
          rows.map((r) => [r.id, r.name]),
          [
            ["1", "a"],
            ["3", "c again"]
          ]
        )
      })
    )

    it.scoped("insert mode with pk.mode=kafka, update mode by record_value key", () =>
      Effect.gen(function* () {
        const pg = yield* PgTag
        const insert = yield* startSink(pg, { "pk.mode": "kafka", "auto.create": "true" })
        yield* insert([record("kins", 1, "a"), record("kins", 1, "a")])
        const rows = yield* pg.query<{ n: string }>(
          "SELECT count(*)::text AS n FROM kins WHERE __connect_topic = 'kins' AND __connect_partition = 0"
        )
        assert.strictEqual(rows[0]!.n, "2")
        yield* pg.query("CREATE TABLE upd (id bigint PRIMARY KEY, name text, amount numeric, at timestamp)")
        yield* pg.query("INSERT INTO upd (id, name) VALUES (1, 'old'), (2, 'other')")
        const update = yield* startSink(pg, { "insert.mode": "update", "pk.mode": "record_value", "pk.fields": "id" })
        yield* update([record("upd", 1, "new"), record("upd", 5, "absent")])
        const after = yield* pg.query<{ id: string; name: string }>("SELECT id::text, name FROM upd ORDER BY id")
        assert.deepStrictEqual(
          after.map((r) => [r.id, r.name]),
          [
            ["1", "new"],
            ["2", "other"]
          ]
        )
      })
    )

    it.scoped("SQL failures are retried max.retries times, retry.backoff.ms apart, then fail the task", () =>
      Effect.gen(function* () {
        const pg = yield* PgTag
        yield* pg.query("CREATE TABLE dup (id bigint PRIMARY KEY, name text, amount numeric, at timestamp)")
        yield* pg.query("INSERT INTO dup (id, name) VALUES (1, 'there')")
        const timeouts: Array<number> = []
        const put = yield* startSink(
          pg,
          { "pk.mode": "record_key", "max.retries": "2", "retry.backoff.ms": "7" },
          timeouts
        )
        // the whole put is one transaction: the first row must not stay behind
        const batch = [record("dup", 2, "new"), record("dup", 1, "clash")]
        const errors = [yield* Effect.flip(put(batch)), yield* Effect.flip(put(batch)), yield* Effect.flip(put(batch))]
        assert.deepStrictEqual(
          errors.map((e) => e._tag),
          ["RetriableError", "RetriableError", "ConnectError"]
        )
        assert.deepStrictEqual(timeouts, [7, 7])
        const rows = yield* pg.query<{ id: string }>("SELECT id::text FROM dup ORDER BY id")
        assert.deepStrictEqual(
          rows.map((r) => r.id),
          ["1"]
        )
      })
    )

    it.scoped(
      "on a worker: Postgres -> source -> broker -> sink -> Postgres with two configs",
      () =>
        Effect.gen(function* () {
          const pg = yield* PgTag
          yield* pg.query("CREATE TABLE origin (id bigserial PRIMARY KEY, name text NOT NULL, price numeric(10,2))")
          yield* pg.query("INSERT INTO origin (name, price) SELECT 'n' || i, i * 1.25 FROM generate_series(1, 500) i")
          const { bootstrap } = yield* startEddy
          const worker = yield* makeWorker(
            workerProps(bootstrap, {
              "value.converter": "org.apache.kafka.connect.json.JsonConverter",
              "key.converter": "org.apache.kafka.connect.json.JsonConverter"
            }),
            undefined,
            [PostgresSource.plugin, PostgresSink.plugin]
          )
          yield* worker.create("src", {
            "connector.class": "JdbcSourceConnector",
            "connection.url": pg.jdbcUrl,
            "table.whitelist": "origin",
            mode: "incrementing",
            "topic.prefix": "copy-",
            "poll.interval.ms": "100"
          })
          // the sink subscribes once the topic exists (the consumer sees topics created later only slowly)
          yield* eventually(Effect.map(worker.topics("src"), (ts) => ts.includes("copy-origin")))
          yield* worker.create("snk", {
            "connector.class": "JdbcSinkConnector",
            "connection.url": pg.url,
            topics: "copy-origin",
            "table.name.format": "replica",
            "insert.mode": "upsert",
            "pk.mode": "record_value",
            "pk.fields": "id",
            "auto.create": "true"
          })
          const count = pg.query<{ n: string }>("SELECT count(*)::text AS n FROM replica")
          yield* eventually(
            Effect.map(
              Effect.catchAllDefect(count, () => Effect.succeed([{ n: "0" }])),
              (r) => r[0]!.n === "500"
            )
          ).pipe(
            Effect.tapDefect(() =>
              Effect.flatMap(Effect.all([worker.status("src"), worker.status("snk")]), (st) =>
                Effect.sync(() => console.log("STATUS", JSON.stringify(st)))
              )
            )
          )
          const diff = yield* pg.query<{ n: string }>(
            "SELECT count(*)::text AS n FROM (SELECT * FROM origin EXCEPT SELECT * FROM replica) d"
          )
          assert.strictEqual(diff[0]!.n, "0")
        }),
      60_000
    )
  })
})
