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

describe.skipIf(pgBinDir === null)("PostgresCdcSource heartbeats (real Postgres)", () => {
  layer(Layer.scoped(PgTag, startPostgres), { timeout: 60_000, excludeTestServices: true })((it) => {
    it.scoped(
      "heartbeats carry the position past uncaptured writes; the slot reaches it only once a heartbeat is acknowledged",
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
          // not acknowledged: the slot stays behind the uncaptured writes
          yield* Effect.sleep("300 millis")
          assert.isBelow(yield* flushed, target)
          for (const b of beats) yield* task.commitRecord!(b, { topic: b.topic, partition: 0, offset: 0 })
          yield* eventually(Effect.map(flushed, (lsn) => lsn >= target))
          const actions = yield* pg.query<{ n: string }>("SELECT count(*)::text AS n FROM hb_actions")
          assert.isAbove(Number(actions[0]!.n), 0)
        }).pipe(Effect.provide(NodeContext.layer)),
      60_000
    )
  })
})
