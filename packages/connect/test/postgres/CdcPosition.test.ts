/**
 * The positions a CDC task confirms to its slot and stores as offsets never pass a transaction it has not
 * handed over and had acknowledged (issue #20, the data loss seen after kill -9): Postgres decodes a transaction
 * again after a restart only when its commit record starts at or after the slot's confirmed_flush_lsn, so a
 * confirmed position one byte too far skips a transaction whose commit record starts right there.
 */
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import pg from "pg"
import type { SourceRecord } from "../../src/data/ConnectRecord.js"
import type { Struct } from "../../src/data/Struct.js"
import type { SourceTask } from "../../src/plugin/Connector.js"
import * as Events from "../../src/postgres/CdcEvents.js"
import * as PostgresCdcSource from "../../src/postgres/PostgresCdcSource.js"
import { eventually } from "../util.js"
import { type PgServer, PgTag, pgBinDir, skipNote, startPostgres } from "./pgServer.js"
import { taskContext } from "./util.js"

if (pgBinDir === null) console.warn(skipNote)

/** A connection of its own (for transactions spanning several statements), closed with the scope. */
const connection = (server: PgServer) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const client = new pg.Client({
        host: server.host,
        port: server.port,
        user: server.user,
        database: server.database
      })
      client.on("error", () => {})
      await client.connect()
      return client
    }),
    (client) => Effect.promise(() => client.end())
  )

const run = (client: pg.Client, text: string) => Effect.promise(() => client.query(text).then((r) => r.rows))

const props = (server: PgServer, slot: string, table: string, extra: Record<string, string> = {}) => ({
  "database.hostname": server.host,
  "database.port": String(server.port),
  "database.user": server.user,
  "database.dbname": server.database,
  "topic.prefix": slot,
  "slot.name": slot,
  "publication.name": `${slot}_pub`,
  "publication.autocreate.mode": "filtered",
  "table.include.list": `public\\.${table}`,
  "snapshot.mode": "no_data",
  "poll.interval.ms": "50",
  ...extra
})

const commitLsn = (r: SourceRecord) => (r.sourceOffset as { lsn_commit: number }).lsn_commit

/** Polls until `n` records of `topic` arrived (other records, heartbeats, are returned too). */
const pollFor = (task: SourceTask, topic: string, n: number) =>
  Effect.gen(function* () {
    const out: Array<SourceRecord> = []
    const deadline = Date.now() + 20_000
    while (out.filter((r) => r.topic === topic).length < n) {
      assert.isBelow(Date.now(), deadline, `fewer than ${n} records of ${topic}`)
      out.push(...((yield* task.poll) ?? []))
    }
    return out
  })

const flushedOf = (server: PgServer, slot: string) =>
  Effect.map(
    server.query<{ lsn: string }>(
      "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1",
      [slot]
    ),
    (r) => Events.lsnToNumber(r[0]!.lsn)
  )

/** Restarts a task over `offset` and returns the ids of the first `n` rows of `topic` it streams. */
const restartedIds = (p: Record<string, string>, offset: SourceRecord, topic: string, n: number) =>
  Effect.gen(function* () {
    const again = yield* PostgresCdcSource.plugin.task
    yield* Effect.acquireRelease(
      again.start(
        { ...p, "slot.drop.on.stop": "true" },
        taskContext({ [JSON.stringify(offset.sourcePartition)]: offset.sourceOffset! })
      ),
      () => again.stop
    )
    const records = yield* pollFor(again, topic, n)
    return records.filter((r) => r.topic === topic).map((r) => (r.key as Struct).get("id"))
  })

describe("statusLsn (pg-logical-replication sends what it is given plus one byte)", () => {
  it("is one byte before the LSN to confirm, across the 32-bit boundary; 0/0 stays", () => {
    assert.strictEqual(PostgresCdcSource.statusLsn("0/16B3748"), "0/16B3747")
    assert.strictEqual(PostgresCdcSource.statusLsn("1/0"), "0/FFFFFFFF")
    assert.strictEqual(PostgresCdcSource.statusLsn("0/0"), "0/0")
  })
})

describe.skipIf(pgBinDir === null)("PostgresCdcSource positions (real Postgres)", () => {
  layer(Layer.scoped(PgTag, startPostgres), { timeout: 60_000, excludeTestServices: true })((it) => {
    it.scoped(
      "the confirmed end of a transaction does not pass a commit record right after it (concurrent writers)",
      () =>
        Effect.gen(function* () {
          const server = yield* PgTag
          yield* server.query("CREATE TABLE adj (id int PRIMARY KEY)")
          const p = props(server, "cdc_adj", "adj")
          const task = yield* PostgresCdcSource.plugin.task
          yield* Effect.acquireRelease(task.start(p, taskContext()), () => task.stop)
          const a = yield* connection(server)
          const b = yield* connection(server)
          // two open transactions whose commit records follow each other in the WAL (nothing else writes between)
          let pair: { first: SourceRecord; second: SourceRecord } | null = null
          for (let id = 1; pair === null && id < 40; id += 2) {
            yield* run(a, "BEGIN")
            yield* run(a, `INSERT INTO adj VALUES (${id})`)
            yield* run(b, "BEGIN")
            yield* run(b, `INSERT INTO adj VALUES (${id + 1})`)
            yield* run(a, "COMMIT")
            const endOfFirst = Events.lsnToNumber(
              (yield* run(a, "SELECT pg_current_wal_insert_lsn()::text AS lsn"))[0]!.lsn as string
            )
            yield* run(b, "COMMIT")
            const [first, second] = (yield* pollFor(task, "cdc_adj.public.adj", 2)).filter(
              (r) => r.topic === "cdc_adj.public.adj"
            )
            if (commitLsn(second!) === endOfFirst) pair = { first: first!, second: second! }
            else
              for (const r of [first!, second!])
                yield* task.commitRecord!(r, { topic: r.topic, partition: 0, offset: 0 })
          }
          assert.isNotNull(pair, "no two adjacent commit records")
          const { first, second } = pair!
          const before = yield* flushedOf(server, "cdc_adj")
          // only the first transaction acknowledged: the slot confirms its end, and not one byte further
          yield* task.commitRecord!(first, { topic: first.topic, partition: 0, offset: 0 })
          yield* eventually(Effect.map(flushedOf(server, "cdc_adj"), (lsn) => lsn > before))
          assert.isAtMost(yield* flushedOf(server, "cdc_adj"), commitLsn(second))
          // killed here (stopped without acknowledging the second): a restart over the first's offset gets the second
          yield* task.stop
          assert.deepStrictEqual(yield* restartedIds(p, first, "cdc_adj.public.adj", 1), [
            (second.key as Struct).get("id")
          ])
        }).pipe(Effect.provide(NodeContext.layer)),
      60_000
    )

    it.scoped(
      "a heartbeat taken while a captured transaction is open does not let the slot or the offset pass it",
      () =>
        Effect.gen(function* () {
          const server = yield* PgTag
          yield* server.query("CREATE TABLE open_tx (id int PRIMARY KEY)")
          const p = props(server, "cdc_open", "open_tx", { "heartbeat.interval.ms": "50" })
          const task = yield* PostgresCdcSource.plugin.task
          yield* Effect.acquireRelease(task.start(p, taskContext()), () => task.stop)
          const b = yield* connection(server)
          yield* run(b, "BEGIN")
          yield* run(b, "INSERT INTO open_tx VALUES (1)")
          // a synchronous commit elsewhere (of a transaction that wrote WAL) flushes the WAL up to the insert position:
          // the walsender reads all of it, and
          // the open transaction's commit record will start at (or after) this position
          const c = yield* connection(server)
          yield* run(c, "SET synchronous_commit = on")
          yield* run(c, "SELECT pg_logical_emit_message(true, 'flush', '')")
          const inserted = Events.lsnToNumber(
            (yield* run(c, "SELECT pg_current_wal_insert_lsn()::text AS lsn"))[0]!.lsn as string
          )
          // heartbeats (acknowledged as the worker would) until one carries a position at or past it
          const heartbeatTopic = "__debezium-heartbeat.cdc_open"
          let beat: SourceRecord | null = null
          const deadline = Date.now() + 20_000
          while (beat === null) {
            assert.isBelow(Date.now(), deadline, "no heartbeat reached the open transaction's changes")
            for (const r of (yield* task.poll) ?? []) {
              yield* task.commitRecord!(r, { topic: r.topic, partition: 0, offset: 0 })
              if (r.topic === heartbeatTopic && commitLsn(r) >= inserted) beat = r
            }
          }
          yield* run(b, "COMMIT")
          const records = (yield* pollFor(task, "cdc_open.public.open_tx", 1)).filter(
            (r) => r.topic === "cdc_open.public.open_tx"
          )
          const committed = commitLsn(records[0]!)
          assert.isAtMost(commitLsn(beat!), committed)
          // the transaction is polled, not acknowledged: the slot stays at or before its commit record
          yield* Effect.sleep("300 millis")
          assert.isAtMost(yield* flushedOf(server, "cdc_open"), committed)
          // killed here with the heartbeat's offset stored: the restart streams the transaction again
          yield* task.stop
          assert.deepStrictEqual(yield* restartedIds(p, beat!, "cdc_open.public.open_tx", 1), [1])
        }).pipe(Effect.provide(NodeContext.layer)),
      60_000
    )

    it.scoped(
      "with heartbeats off, a quiet stream still answers the walsender's keepalives (it is not timed out)",
      () =>
        Effect.gen(function* () {
          const server = yield* PgTag
          yield* server.query("CREATE TABLE quiet (id int PRIMARY KEY)")
          yield* Effect.acquireRelease(
            Effect.zipRight(
              server.query("ALTER SYSTEM SET wal_sender_timeout = '1s'"),
              server.query("SELECT pg_reload_conf()")
            ),
            () =>
              Effect.zipRight(
                server.query("ALTER SYSTEM RESET wal_sender_timeout"),
                server.query("SELECT pg_reload_conf()")
              )
          )
          const task = yield* PostgresCdcSource.plugin.task
          yield* Effect.acquireRelease(
            task.start({ ...props(server, "cdc_quiet", "quiet"), "slot.drop.on.stop": "true" }, taskContext()),
            () => task.stop
          )
          const pid = Effect.map(
            server.query<{ pid: number | null }>(
              "SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name = 'cdc_quiet'"
            ),
            (r) => r[0]?.pid ?? null
          )
          yield* eventually(Effect.map(pid, (p) => p !== null))
          const walsender = yield* pid
          // several timeouts long without a captured change: polls keep succeeding on the same walsender
          const until = Date.now() + 4000
          while (Date.now() < until) assert.isNull(yield* task.poll)
          assert.strictEqual(yield* pid, walsender)
          yield* server.query("INSERT INTO quiet VALUES (1)")
          const records = yield* pollFor(task, "cdc_quiet.public.quiet", 1)
          assert.strictEqual(records.length, 1)
        }).pipe(Effect.provide(NodeContext.layer)),
      60_000
    )
  })
})
