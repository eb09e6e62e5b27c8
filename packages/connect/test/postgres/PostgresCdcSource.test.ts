import * as path from "node:path"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import type { SourceRecord } from "../../src/data/ConnectRecord.js"
import type { Struct } from "../../src/data/Struct.js"
import type { SourceTask } from "../../src/plugin/Connector.js"
import * as Events from "../../src/postgres/CdcEvents.js"
import * as PostgresCdcSource from "../../src/postgres/PostgresCdcSource.js"
import * as PostgresSink from "../../src/postgres/PostgresSink.js"
import { eventually, makeWorker, startEddy, tempDir, workerProps } from "../util.js"
import { PgTag, pgBinDir, skipNote, startPostgres } from "./pgServer.js"
import { collect, taskContext } from "./util.js"

if (pgBinDir === null) console.warn(skipNote)

type Envelope = {
  readonly op: string
  readonly before: Record<string, unknown> | null
  readonly after: Record<string, unknown> | null
  readonly source: Record<string, unknown>
}

describe.skipIf(pgBinDir === null)("PostgresCdcSource (Debezium events from pgoutput)", () => {
  layer(Layer.scoped(PgTag, startPostgres), { timeout: 60_000, excludeTestServices: true })((it) => {
    it.scoped(
      "inserts, updates, deletes and truncates arrive as c/u/d(+tombstone)/t in commit order; the slot reaches the last commit",
      () =>
        Effect.gen(function* () {
          const pg = yield* PgTag
          yield* pg.query("CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(8,2))")
          yield* pg.query("CREATE TABLE ignored (id int PRIMARY KEY)")
          const { bootstrap } = yield* startEddy
          const worker = yield* makeWorker(
            workerProps(bootstrap, {
              "key.converter": "org.apache.kafka.connect.json.JsonConverter",
              "key.converter.schemas.enable": "false",
              "value.converter": "org.apache.kafka.connect.json.JsonConverter",
              "value.converter.schemas.enable": "false"
            }),
            undefined,
            [PostgresCdcSource.plugin]
          )
          yield* worker.create("cdc", {
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "database.hostname": pg.host,
            "database.port": String(pg.port),
            "database.user": pg.user,
            "database.dbname": pg.database,
            "topic.prefix": "srv",
            "slot.name": "cdc_test",
            "slot.drop.on.stop": "true",
            "table.include.list": "public\\.items",
            "snapshot.mode": "no_data",
            "poll.interval.ms": "50"
          })
          yield* eventually(
            Effect.map(
              pg.query<{ active: boolean }>("SELECT active FROM pg_replication_slots WHERE slot_name = 'cdc_test'"),
              (r) => r[0]?.active === true
            )
          ).pipe(
            Effect.tapDefect(() =>
              Effect.flatMap(worker.status("cdc"), (st) => Effect.sync(() => console.log("STATUS", JSON.stringify(st))))
            )
          )
          yield* pg.query("INSERT INTO items VALUES (1, 'one', 1.50), (2, 'two', 2.00)")
          yield* pg.query("INSERT INTO ignored VALUES (1)")
          yield* pg.query("UPDATE items SET name = 'uno' WHERE id = 1")
          yield* pg.query("DELETE FROM items WHERE id = 2")
          yield* pg.query("UPDATE items SET id = 10 WHERE id = 1")
          yield* pg.query("TRUNCATE items")
          yield* pg.query("SELECT pg_logical_emit_message(true, 'audit', 'hello')")
          yield* eventually(Effect.map(worker.topics("cdc"), (ts) => ts.includes("srv.public.items"))).pipe(
            Effect.tapDefect(() =>
              Effect.flatMap(worker.status("cdc"), (st) => Effect.sync(() => console.log("TOPICS", JSON.stringify(st))))
            )
          )
          const received = yield* collect(bootstrap, ["srv.public.items"])
          yield* eventually(Effect.sync(() => received.length >= 9)).pipe(
            Effect.tapDefect(() => Effect.sync(() => console.log("RECEIVED", JSON.stringify(received))))
          )
          const ops = received.map((r) => (r.value === null ? "tombstone" : (r.value as Envelope).op))
          assert.deepStrictEqual(ops, ["c", "c", "u", "d", "tombstone", "d", "tombstone", "c", "t"])
          const values = received.map((r) => r.value as Envelope | null)
          assert.deepStrictEqual(values[0]!.after, { id: 1, name: "one", price: "AJY=" })
          assert.deepStrictEqual(received[0]!.key, { id: 1 })
          assert.deepStrictEqual(values[2]!.before, null)
          assert.deepStrictEqual(values[2]!.after, { id: 1, name: "uno", price: "AJY=" })
          assert.deepStrictEqual(values[3]!.before, { id: 2, name: null, price: null })
          assert.deepStrictEqual(received[4]!.key, { id: 2 })
          // primary-key change: delete + tombstone of the old key, create of the new one, with the headers
          assert.deepStrictEqual(received[5]!.key, { id: 1 })
          assert.strictEqual(received[5]!.headers["__debezium.newkey"], '{"id":10}')
          assert.deepStrictEqual(received[7]!.key, { id: 10 })
          assert.strictEqual(received[7]!.headers["__debezium.oldkey"], '{"id":1}')
          const source = values[0]!.source
          assert.strictEqual(source.connector, "postgresql")
          assert.strictEqual(source.name, "srv")
          assert.strictEqual(source.db, "postgres")
          assert.strictEqual(source.schema, "public")
          assert.strictEqual(source.table, "items")
          assert.strictEqual(source.snapshot, "false")
          assert.isNumber(source.txId)
          assert.isNumber(source.lsn)
          // the slot's confirmed flush LSN never passes the last acknowledged commit
          const lastCommit = Math.max(
            ...received.filter((r) => r.value !== null).map((r) => Number((r.value as Envelope).source.lsn))
          )
          const flushed = yield* pg.query<{ lsn: string }>(
            "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = 'cdc_test'"
          )
          assert.isAtLeast(Events.lsnToNumber(flushed[0]!.lsn), 0)
          const offsets = yield* eventually(Effect.map(worker.offsets("cdc"), (os) => os.length > 0)).pipe(
            Effect.tapDefect(() =>
              Effect.flatMap(Effect.either(worker.offsets("cdc")), (r) =>
                Effect.sync(() => console.log("OFFSETS", JSON.stringify(r)))
              )
            ),
            Effect.zipRight(worker.offsets("cdc"))
          )
          assert.deepStrictEqual(offsets[0]!.partition, { server: "srv" })
          assert.isAtMost(lastCommit, Number.MAX_SAFE_INTEGER)
          // with everything acknowledged and the stream quiet, the slot reaches the last commit
          yield* eventually(
            Effect.map(
              pg.query<{ lsn: string }>(
                "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = 'cdc_test'"
              ),
              (r) => Events.lsnToNumber(r[0]!.lsn) >= lastCommit
            )
          ).pipe(
            Effect.tapDefect(() =>
              Effect.flatMap(pg.query("SELECT * FROM pg_replication_slots"), (r) =>
                Effect.sync(() => console.log("SLOT", lastCommit, Events.lsnToString(lastCommit), JSON.stringify(r)))
              )
            )
          )
        }),
      60_000
    )

    it.scoped("the slot's confirmed_flush_lsn moves only once the records up to it are acknowledged", () =>
      Effect.gen(function* () {
        const pg = yield* PgTag
        yield* pg.query("CREATE TABLE acks (id int PRIMARY KEY)")
        const task = yield* PostgresCdcSource.plugin.task
        yield* Effect.acquireRelease(
          task.start(
            {
              "database.hostname": pg.host,
              "database.port": String(pg.port),
              "database.user": pg.user,
              "database.dbname": pg.database,
              "topic.prefix": "ack",
              "slot.name": "cdc_ack",
              "slot.drop.on.stop": "true",
              "table.include.list": "public\\.acks",
              "poll.interval.ms": "100"
            },
            taskContext()
          ),
          () => task.stop
        )
        const flushed = Effect.map(
          pg.query<{ lsn: string }>(
            "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = 'cdc_ack'"
          ),
          (r) => Events.lsnToNumber(r[0]!.lsn)
        )
        yield* pg.query("INSERT INTO acks VALUES (1), (2)")
        yield* pg.query("INSERT INTO acks VALUES (3)")
        const polled: Array<SourceRecord> = []
        while (polled.length < 3) polled.push(...((yield* task.poll) ?? []))
        const [first, second, third] = polled
        const lsnOf = (r: SourceRecord) => (r.sourceOffset as { lsn_commit: number }).lsn_commit
        // polled, not acknowledged: the slot stays before them (no keepalive or timer may confirm them)
        yield* Effect.sleep("300 millis")
        assert.isBelow(yield* flushed, lsnOf(first!))
        yield* task.commitRecord!(first!, { topic: "t", partition: 0, offset: 0 })
        yield* Effect.sleep("200 millis")
        assert.isBelow(yield* flushed, lsnOf(first!))
        // the first transaction fully acknowledged: its end is confirmed, not the second's
        yield* task.commitRecord!(second!, { topic: "t", partition: 0, offset: 1 })
        yield* eventually(Effect.map(flushed, (lsn) => lsn > lsnOf(first!)))
        const afterFirst = yield* flushed
        assert.isAtLeast(afterFirst, lsnOf(first!))
        assert.isBelow(afterFirst, lsnOf(third!))
        yield* task.commitRecord!(third!, { topic: "t", partition: 0, offset: 2 })
        yield* eventually(Effect.map(flushed, (lsn) => lsn > lsnOf(third!)))
      }).pipe(Effect.provide(NodeContext.layer))
    )

    it.scoped("a restarted task skips the events at or before its stored offset that the slot streams again", () =>
      Effect.gen(function* () {
        const pg = yield* PgTag
        yield* pg.query("CREATE TABLE again (id int PRIMARY KEY)")
        const props = (drop: boolean) => ({
          "database.hostname": pg.host,
          "database.port": String(pg.port),
          "database.user": pg.user,
          "database.dbname": pg.database,
          "topic.prefix": "again",
          "slot.name": "cdc_again",
          "slot.drop.on.stop": String(drop),
          "table.include.list": "public\\.again",
          "poll.interval.ms": "100"
        })
        const pollAll = (task: SourceTask, n: number) =>
          Effect.gen(function* () {
            const out: Array<SourceRecord> = []
            while (out.length < n) out.push(...((yield* task.poll) ?? []))
            return out
          })
        const first = yield* PostgresCdcSource.plugin.task
        yield* first.start(props(false), taskContext())
        yield* pg.query("INSERT INTO again VALUES (1), (2)")
        yield* pg.query("INSERT INTO again VALUES (3)")
        const polled = yield* pollAll(first, 3)
        // nothing acknowledged: the slot will stream both transactions again
        yield* first.stop
        const second = yield* PostgresCdcSource.plugin.task
        yield* Effect.acquireRelease(
          second.start(props(true), taskContext({ [JSON.stringify({ server: "again" })]: polled[0]!.sourceOffset! })),
          () => second.stop
        )
        const again = yield* pollAll(second, 2)
        assert.deepStrictEqual(
          again.map((r) => (r.key as Struct).get("id")),
          [2, 3]
        )
      }).pipe(Effect.provide(NodeContext.layer))
    )

    it.scoped("the task fails when its replication connection is terminated (not a silent stall)", () =>
      Effect.gen(function* () {
        const pg = yield* PgTag
        const task = yield* PostgresCdcSource.plugin.task
        yield* Effect.acquireRelease(
          task.start(
            {
              "database.hostname": pg.host,
              "database.port": String(pg.port),
              "database.user": pg.user,
              "database.dbname": pg.database,
              "topic.prefix": "term",
              "slot.name": "cdc_term",
              "snapshot.mode": "no_data",
              "slot.drop.on.stop": "true",
              "poll.interval.ms": "50"
            },
            taskContext()
          ),
          () => task.stop
        )
        const active = Effect.map(
          pg.query<{ pid: number | null }>(
            "SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name = 'cdc_term'"
          ),
          (r) => r[0]?.pid ?? null
        )
        yield* eventually(Effect.map(active, (pid) => pid !== null))
        yield* pg.query(
          "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = 'cdc_term'"
        )
        const error = yield* Effect.flip(Effect.forever(task.poll))
        assert.include(error.message, "replication stream")
      }).pipe(Effect.provide(NodeContext.layer))
    )

    it.scoped(
      "a worker restarted over its offsets resumes the slot: changes made while it was down arrive once, in order",
      () =>
        Effect.gen(function* () {
          const pg = yield* PgTag
          yield* pg.query("CREATE TABLE resume (id int PRIMARY KEY)")
          const { bootstrap } = yield* startEddy
          const offsetsFile = path.join(yield* tempDir, "offsets.json")
          const props = workerProps(bootstrap, {
            "key.converter": "org.apache.kafka.connect.json.JsonConverter",
            "key.converter.schemas.enable": "false",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false"
          })
          const connector = (drop: boolean) => ({
            "connector.class": "PostgresConnector",
            "database.hostname": pg.host,
            "database.port": String(pg.port),
            "database.user": pg.user,
            "database.dbname": pg.database,
            "topic.prefix": "res",
            "slot.name": "cdc_resume",
            "slot.drop.on.stop": String(drop),
            "table.include.list": "public\\.resume",
            "poll.interval.ms": "50"
          })
          const slotActive = eventually(
            Effect.map(
              pg.query<{ active: boolean }>("SELECT active FROM pg_replication_slots WHERE slot_name = 'cdc_resume'"),
              (r) => r[0]?.active === true
            )
          )
          const ids = (n: number, from: number) =>
            Effect.forEach(
              Array.from({ length: n }, (_, i) => from + i),
              (id) => pg.query(`INSERT INTO resume VALUES (${id})`)
            )
          yield* Effect.scoped(
            Effect.gen(function* () {
              const worker = yield* makeWorker(props, offsetsFile, [PostgresCdcSource.plugin])
              yield* worker.create("res", connector(false))
              yield* slotActive
              yield* ids(20, 1)
              yield* eventually(
                Effect.map(
                  worker.offsets("res"),
                  (os) => (os[0]?.offset as { event?: number } | undefined) !== undefined
                )
              )
              yield* Effect.sleep("300 millis")
            })
          )
          yield* ids(20, 21)
          const worker = yield* makeWorker(props, offsetsFile, [PostgresCdcSource.plugin])
          yield* worker.create("res", connector(true))
          yield* slotActive
          yield* ids(5, 41)
          const received = yield* collect(bootstrap, ["res.public.resume"])
          yield* eventually(Effect.sync(() => received.length >= 45))
          yield* Effect.sleep("300 millis")
          assert.deepStrictEqual(
            received.map((r) => (r.key as { id: number }).id),
            Array.from({ length: 45 }, (_, i) => i + 1)
          )
        }),
      60_000
    )

    it.scoped(
      "Postgres -> CDC -> broker -> sink -> Postgres (the sink in upsert with deletes keeps a replica)",
      () =>
        Effect.gen(function* () {
          const pg = yield* PgTag
          yield* pg.query("CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance int8)")
          const { bootstrap } = yield* startEddy
          const worker = yield* makeWorker(
            workerProps(bootstrap, {
              "key.converter": "org.apache.kafka.connect.json.JsonConverter",
              "value.converter": "org.apache.kafka.connect.json.JsonConverter"
            }),
            undefined,
            [PostgresCdcSource.plugin, PostgresSink.plugin]
          )
          yield* worker.create("cdc2", {
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "database.hostname": pg.host,
            "database.port": String(pg.port),
            "database.user": pg.user,
            "database.dbname": pg.database,
            "topic.prefix": "rep",
            "slot.name": "cdc_rep",
            "publication.name": "rep_pub",
            "publication.autocreate.mode": "filtered",
            "table.include.list": "public\\.accounts",
            "slot.drop.on.stop": "true",
            "poll.interval.ms": "50"
          })
          yield* eventually(
            Effect.map(
              pg.query<{ active: boolean }>("SELECT active FROM pg_replication_slots WHERE slot_name = 'cdc_rep'"),
              (r) => r[0]?.active === true
            )
          )
          yield* pg.query(
            "INSERT INTO accounts SELECT i, 'owner ' || i, i * 9007199254740 FROM generate_series(1, 200) i"
          )
          yield* pg.query("UPDATE accounts SET balance = balance + 1 WHERE id % 2 = 0")
          yield* pg.query("DELETE FROM accounts WHERE id > 190")
          yield* eventually(Effect.map(worker.topics("cdc2"), (ts) => ts.includes("rep.public.accounts")))
          yield* worker.create("replica", {
            "connector.class": "PostgresSink",
            "connection.url": pg.jdbcUrl,
            topics: "rep.public.accounts",
            "table.name.format": "accounts_replica",
            "input.format": "debezium",
            "insert.mode": "upsert",
            "pk.mode": "record_key",
            "delete.enabled": "true",
            "auto.create": "true"
          })
          const diff = pg.query<{ n: string }>(
            `SELECT count(*)::text AS n FROM (
               (SELECT * FROM accounts EXCEPT SELECT * FROM accounts_replica)
               UNION ALL (SELECT * FROM accounts_replica EXCEPT SELECT * FROM accounts)) d`
          )
          yield* eventually(
            Effect.map(
              Effect.catchAllDefect(diff, () => Effect.succeed([{ n: "-1" }])),
              (r) => r[0]!.n === "0"
            )
          )
          const n = yield* pg.query<{ n: string }>("SELECT count(*)::text AS n FROM accounts_replica")
          assert.strictEqual(n[0]!.n, "190")
        }),
      60_000
    )
  })
})
