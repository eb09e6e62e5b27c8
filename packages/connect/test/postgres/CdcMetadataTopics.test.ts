import { NodeContext } from "@effect/platform-node"
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import type { SourceRecord } from "../../src/data/ConnectRecord.js"
import type { Struct } from "../../src/data/Struct.js"
import * as Events from "../../src/postgres/CdcEvents.js"
import * as PostgresCdcSource from "../../src/postgres/PostgresCdcSource.js"
import { eventually } from "../util.js"
import { PgTag, pgBinDir, skipNote, startPostgres } from "./pgServer.js"
import { taskContext } from "./util.js"

if (pgBinDir === null) console.warn(skipNote)

describe.skipIf(pgBinDir === null)("PostgresCdcSource heartbeats and transaction metadata (real Postgres)", () => {
  layer(Layer.scoped(PgTag, startPostgres), { timeout: 60_000, excludeTestServices: true })((it) => {
    it.scoped(
      "heartbeats carry the position past uncaptured writes (through their own messages in the stream); the slot reaches it",
      () =>
        Effect.gen(function* () {
          const pg = yield* PgTag
          yield* pg.query("CREATE TABLE hb_quiet (id int PRIMARY KEY)")
          yield* pg.query("CREATE TABLE hb_busy (id int PRIMARY KEY)")
          yield* pg.query("CREATE TABLE hb_actions (n serial PRIMARY KEY)")
          const task = yield* PostgresCdcSource.plugin.task
          yield* Effect.acquireRelease(
            task.start(
              {
                "database.hostname": pg.host,
                "database.port": String(pg.port),
                "database.user": pg.user,
                "database.dbname": pg.database,
                "topic.prefix": "hb",
                "slot.name": "cdc_hb",
                "slot.drop.on.stop": "true",
                "publication.name": "hb_pub",
                "publication.autocreate.mode": "filtered",
                "table.include.list": "public\\.hb_quiet",
                "snapshot.mode": "no_data",
                "heartbeat.interval.ms": "100",
                "heartbeat.action.query": "INSERT INTO hb_actions DEFAULT VALUES",
                "poll.interval.ms": "50"
              },
              taskContext()
            ),
            () => task.stop
          )
          const flushed = Effect.map(
            pg.query<{ lsn: string }>(
              "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = 'cdc_hb'"
            ),
            (r) => Events.lsnToNumber(r[0]!.lsn)
          )
          yield* eventually(
            Effect.map(
              pg.query<{ active: boolean }>("SELECT active FROM pg_replication_slots WHERE slot_name = 'cdc_hb'"),
              (r) => r[0]?.active === true
            )
          )
          yield* pg.query("INSERT INTO hb_busy SELECT i FROM generate_series(1, 2000) i")
          const target = Events.lsnToNumber(
            (yield* pg.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn"))[0]!.lsn
          )
          const beats: Array<SourceRecord> = []
          const deadline = Date.now() + 20_000
          while (!beats.some((b) => (b.sourceOffset as { lsn: number }).lsn >= target)) {
            assert.isBelow(Date.now(), deadline, "no heartbeat reached the WAL end")
            for (const r of (yield* task.poll) ?? []) beats.push(r)
          }
          const beat = beats.at(-1)!
          assert.isTrue(beats.every((b) => b.topic === "__debezium-heartbeat.hb"))
          assert.strictEqual((beat.key as Struct).get("serverName"), "hb")
          assert.strictEqual((beat.key as Struct).schema.name, "io.debezium.connector.common.ServerNameKey")
          assert.strictEqual((beat.value as Struct).schema.name, "io.debezium.connector.common.Heartbeat")
          assert.isNumber((beat.value as Struct).get("ts_ms"))
          assert.deepStrictEqual(beat.sourcePartition, { server: "hb" })
          // the heartbeat messages are not events (the position came from their transactions' commits)
          const more = (yield* task.poll) ?? []
          assert.isTrue(more.every((r) => r.topic === "__debezium-heartbeat.hb"))
          for (const b of [...beats, ...more]) yield* task.commitRecord!(b, { topic: b.topic, partition: 0, offset: 0 })
          yield* eventually(Effect.map(flushed, (lsn) => lsn >= target))
          const actions = yield* pg.query<{ n: string }>("SELECT count(*)::text AS n FROM hb_actions")
          assert.isAbove(Number(actions[0]!.n), 0)
        }).pipe(Effect.provide(NodeContext.layer)),
      60_000
    )

    it.scoped("transaction metadata: BEGIN, events with their transaction block, END with counts per table", () =>
      Effect.gen(function* () {
        const pg = yield* PgTag
        yield* pg.query("CREATE TABLE tm_a (id int PRIMARY KEY)")
        yield* pg.query("CREATE TABLE tm_b (id int PRIMARY KEY)")
        yield* pg.query("CREATE TABLE tm_other (id int PRIMARY KEY)")
        const task = yield* PostgresCdcSource.plugin.task
        yield* Effect.acquireRelease(
          task.start(
            {
              "database.hostname": pg.host,
              "database.port": String(pg.port),
              "database.user": pg.user,
              "database.dbname": pg.database,
              "topic.prefix": "tm",
              "slot.name": "cdc_tm",
              "slot.drop.on.stop": "true",
              "table.include.list": "public\\.tm_[ab]",
              "snapshot.mode": "no_data",
              "provide.transaction.metadata": "true",
              "poll.interval.ms": "50"
            },
            taskContext()
          ),
          () => task.stop
        )
        yield* pg.query(
          "BEGIN; INSERT INTO tm_a VALUES (1), (2); INSERT INTO tm_b VALUES (1); DELETE FROM tm_a WHERE id = 1; COMMIT"
        )
        yield* pg.query("INSERT INTO tm_other VALUES (1)")
        yield* pg.query("INSERT INTO tm_b VALUES (2)")
        const records: Array<SourceRecord> = []
        const deadline = Date.now() + 20_000
        while (records.length < 10) {
          assert.isBelow(Date.now(), deadline, `only ${records.length} records`)
          records.push(...((yield* task.poll) ?? []))
        }
        assert.deepStrictEqual(
          records.map((r) => r.topic),
          [
            "tm.transaction",
            "tm.public.tm_a",
            "tm.public.tm_a",
            "tm.public.tm_b",
            "tm.public.tm_a",
            "tm.public.tm_a",
            "tm.transaction",
            "tm.transaction",
            "tm.public.tm_b",
            "tm.transaction"
          ]
        )
        const begin = records[0]!.value as Struct
        const end = records[6]!.value as Struct
        const id = begin.get("id") as string
        assert.strictEqual(begin.get("status"), "BEGIN")
        assert.isNull(begin.get("event_count"))
        assert.strictEqual((records[0]!.key as Struct).get("id"), id)
        const txId = ((records[1]!.value as Struct).get("source") as Struct).get("txId")
        assert.match(id, new RegExp(`^${txId}:\\d+$`))
        const blocks = records.slice(1, 5).map((r) => {
          const b = (r.value as Struct).get("transaction") as Struct
          return [b.get("id"), b.get("total_order"), b.get("data_collection_order")]
        })
        assert.deepStrictEqual(blocks, [
          [id, 1, 1],
          [id, 2, 2],
          [id, 3, 1],
          [id, 4, 3]
        ])
        assert.isNull(records[5]!.value, "the tombstone")
        assert.strictEqual(end.get("status"), "END")
        assert.strictEqual(end.get("id"), id)
        assert.strictEqual(end.get("event_count"), 4)
        assert.deepStrictEqual(
          (end.get("data_collections") as Array<Struct>).map((d) => [d.get("data_collection"), d.get("event_count")]),
          [
            ["public.tm_a", 3],
            ["public.tm_b", 1]
          ]
        )
        assert.notStrictEqual((records[7]!.value as Struct).get("id"), id)
        assert.deepStrictEqual(
          records.map((r) => (r.sourceOffset as { event: number }).event),
          [0, 1, 2, 3, 4, 5, 6, 0, 1, 2]
        )
      }).pipe(Effect.provide(NodeContext.layer))
    )
  })
})
