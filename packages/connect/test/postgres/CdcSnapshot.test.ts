import { NodeContext } from "@effect/platform-node"
import { assert, describe, layer, it as plainIt } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import type { SourceRecord } from "../../src/data/ConnectRecord.js"
import type { Struct } from "../../src/data/Struct.js"
import type { SourceTask } from "../../src/plugin/Connector.js"
import * as CdcSnapshot from "../../src/postgres/CdcSnapshot.js"
import * as PostgresCdcSource from "../../src/postgres/PostgresCdcSource.js"
import { PgTag, pgBinDir, skipNote, startPostgres } from "./pgServer.js"
import { taskContext } from "./util.js"

if (pgBinDir === null) console.warn(skipNote)

const opOf = (r: SourceRecord) => (r.value === null ? "tombstone" : ((r.value as Struct).get("op") as string))
const idOf = (r: SourceRecord) => (r.key as Struct).get("id") as number
const snapshotOf = (r: SourceRecord) => ((r.value as Struct).get("source") as Struct).get("snapshot")

/** Polls until `done(records)` or the deadline. */
const pollUntil = (
  task: SourceTask,
  done: (rs: ReadonlyArray<SourceRecord>) => boolean,
  into: Array<SourceRecord> = []
) =>
  Effect.gen(function* () {
    const deadline = Date.now() + 30_000
    while (!done(into)) {
      if (Date.now() > deadline) return yield* Effect.die(new Error(`not done in time: ${into.length} records`))
      for (const r of (yield* task.poll) ?? []) {
        into.push(r)
        yield* task.commitRecord!(r, { topic: r.topic, partition: 0, offset: into.length })
      }
    }
    return into
  })

describe("snapshot decisions", () => {
  const unfinished = { snapshot: true, last_snapshot_record: false, lsn: 10 }
  const finished = { snapshot: true, last_snapshot_record: true, lsn: 10 }
  const streamed = { lsn_commit: 20, event: 3 }
  plainIt("initial snapshots without an offset or after an unfinished snapshot, never after a finished one", () => {
    assert.deepStrictEqual(PostgresCdcSource.snapshotDecision("initial", null, false), { snapshot: true, stream: true })
    assert.isTrue(PostgresCdcSource.snapshotDecision("initial", unfinished, true).snapshot)
    assert.isFalse(PostgresCdcSource.snapshotDecision("initial", finished, true).snapshot)
    assert.isFalse(PostgresCdcSource.snapshotDecision("initial", streamed, false).snapshot)
  })
  plainIt("always, initial_only, no_data/never and when_needed", () => {
    assert.isTrue(PostgresCdcSource.snapshotDecision("always", streamed, true).snapshot)
    assert.deepStrictEqual(PostgresCdcSource.snapshotDecision("initial_only", null, false), {
      snapshot: true,
      stream: false
    })
    assert.deepStrictEqual(PostgresCdcSource.snapshotDecision("initial_only", finished, false), {
      snapshot: false,
      stream: false
    })
    assert.isFalse(PostgresCdcSource.snapshotDecision("no_data", null, false).snapshot)
    assert.isFalse(PostgresCdcSource.snapshotDecision("never", null, false).snapshot)
    assert.isTrue(PostgresCdcSource.snapshotDecision("when_needed", streamed, false).snapshot)
    assert.isFalse(PostgresCdcSource.snapshotDecision("when_needed", streamed, true).snapshot)
  })
  plainIt("a finished snapshot resumes the stream at its consistent point", () => {
    assert.deepStrictEqual(PostgresCdcSource.storedPosition(finished), { commit: 10, event: -1 })
    assert.deepStrictEqual(PostgresCdcSource.storedPosition(streamed), { commit: 20, event: 3 })
    assert.isNull(PostgresCdcSource.storedPosition(null))
  })
  plainIt("markers: first, last, and the tables' first and last rows", () => {
    const h = { first: false, firstInTable: false, lastInTable: false }
    assert.strictEqual(CdcSnapshot.marker({ ...h, first: true, firstInTable: true }, false), "first")
    assert.strictEqual(CdcSnapshot.marker({ ...h, first: true, lastInTable: true }, true), "last")
    assert.strictEqual(CdcSnapshot.marker({ ...h, firstInTable: true }, false), "first_in_data_collection")
    assert.strictEqual(CdcSnapshot.marker({ ...h, lastInTable: true }, false), "last_in_data_collection")
    assert.strictEqual(CdcSnapshot.marker(h, false), "true")
  })
})

describe.skipIf(pgBinDir === null)("PostgresCdcSource snapshots (real Postgres)", () => {
  layer(Layer.scoped(PgTag, startPostgres), { timeout: 60_000, excludeTestServices: true })((it) => {
    const base = (pg: { host: string; port: number; user: string; database: string }, prefix: string) => ({
      "database.hostname": pg.host,
      "database.port": String(pg.port),
      "database.user": pg.user,
      "database.dbname": pg.database,
      "topic.prefix": prefix,
      "slot.name": `slot_${prefix}`,
      "publication.name": `pub_${prefix}`,
      "publication.autocreate.mode": "filtered",
      "poll.interval.ms": "50"
    })

    it.scoped(
      "rows written concurrently with the initial snapshot appear exactly once (a read or a later change)",
      () =>
        Effect.gen(function* () {
          const pg = yield* PgTag
          yield* pg.query("CREATE TABLE conc (id int PRIMARY KEY, v int NOT NULL)")
          yield* pg.query("CREATE TABLE conc_other (id int PRIMARY KEY)")
          yield* pg.query("INSERT INTO conc SELECT i, 0 FROM generate_series(1, 3000) i")
          yield* pg.query("INSERT INTO conc_other SELECT i FROM generate_series(1, 5) i")
          // a writer inserting new rows and bumping old ones while the slot is made and the tables are read
          const writer = yield* Effect.forkScoped(
            Effect.forEach(
              Array.from({ length: 150 }, (_, i) => i),
              (i) =>
                pg
                  .query(
                    `WITH a AS (INSERT INTO conc VALUES (${10_001 + i}, 0)) UPDATE conc SET v = v + 1 WHERE id = ${1 + ((i * 17) % 3000)}`
                  )
                  .pipe(Effect.zipRight(Effect.promise(() => new Promise((r) => setTimeout(r, 3))))),
              { discard: true }
            )
          )
          const task = yield* PostgresCdcSource.plugin.task
          yield* Effect.acquireRelease(
            task.start(
              {
                ...base(pg, "conc"),
                "table.include.list": "public\\.conc.*",
                "slot.drop.on.stop": "true",
                "snapshot.fetch.size": "100",
                "max.batch.size": "250"
              },
              taskContext()
            ),
            () => task.stop
          )
          // the table's final state, once the writer is done (the task is polled meanwhile)
          let expected: ReadonlyArray<{ id: number; v: number }> | null = null
          yield* Effect.forkScoped(
            Effect.flatMap(Fiber.join(writer), () =>
              Effect.map(pg.query<{ id: number; v: number }>("SELECT id, v FROM conc ORDER BY id"), (rows) => {
                expected = rows
              })
            )
          )
          const state = new Map<number, number>()
          const apply = (r: SourceRecord) => {
            if (r.topic !== "conc.public.conc" || r.value === null) return
            const after = (r.value as Struct).get("after") as Struct
            state.set(after.get("id") as number, after.get("v") as number)
          }
          const records = yield* pollUntil(task, (rs) => {
            const want = expected
            if (want === null) return false
            state.clear()
            rs.forEach(apply)
            return state.size === want.length && want.every((row) => state.get(row.id) === row.v)
          })
          // a little longer: nothing arrives twice
          yield* Effect.sleep("300 millis")
          for (const r of (yield* task.poll) ?? []) records.push(r)
          const conc = records.filter((r) => r.topic === "conc.public.conc")
          const reads = conc.filter((r) => opOf(r) === "r")
          const creates = conc.filter((r) => opOf(r) === "c")
          const readIds = new Set(reads.map(idOf))
          assert.strictEqual(readIds.size, reads.length, "a row read twice")
          assert.strictEqual(new Set(creates.map(idOf)).size, creates.length, "a row created twice")
          for (const c of creates) assert.isFalse(readIds.has(idOf(c)), `row ${idOf(c)} both read and created`)
          assert.strictEqual(reads.length + creates.length, 3150)
          assert.isAbove(creates.length, 0, "the writer was done before the slot existed")
          // the reads come first, then the stream; the other table's rows are read too
          const firstChange = records.findIndex((r) => opOf(r) !== "r")
          assert.isTrue(firstChange === -1 || records.slice(firstChange).every((r) => opOf(r) !== "r"))
          const allReads = records.filter((r) => opOf(r) === "r")
          assert.strictEqual(allReads.filter((r) => r.topic === "conc.public.conc_other").length, 5)
          assert.strictEqual(snapshotOf(allReads[0]!), "first")
          assert.strictEqual(snapshotOf(allReads.at(-1)!), "last")
          assert.deepStrictEqual(
            allReads.map((r) => (r.sourceOffset as { last_snapshot_record: boolean }).last_snapshot_record),
            allReads.map((_, i) => i === allReads.length - 1)
          )
          const markers = new Set(allReads.map(snapshotOf))
          assert.isTrue(markers.has("first_in_data_collection") || markers.has("last_in_data_collection"))
        }).pipe(Effect.provide(NodeContext.layer)),
      60_000
    )

    it.scoped(
      "a restart mid-snapshot redoes it; a finished snapshot is not repeated; include list and SELECT overrides",
      () =>
        Effect.gen(function* () {
          const pg = yield* PgTag
          yield* pg.query("CREATE TABLE redo (id int PRIMARY KEY, keep boolean NOT NULL)")
          yield* pg.query("CREATE TABLE redo_skip (id int PRIMARY KEY)")
          yield* pg.query("INSERT INTO redo SELECT i, i % 2 = 0 FROM generate_series(1, 500) i")
          yield* pg.query("INSERT INTO redo_skip VALUES (1)")
          const props = (drop: boolean) => ({
            ...base(pg, "redo"),
            "table.include.list": "public\\.redo.*",
            "snapshot.include.collection.list": "public\\.redo",
            "snapshot.select.statement.overrides": "public.redo",
            "snapshot.select.statement.overrides.public.redo": "SELECT * FROM public.redo WHERE keep",
            "slot.drop.on.stop": String(drop),
            "snapshot.fetch.size": "50",
            "max.batch.size": "100"
          })
          const first = yield* PostgresCdcSource.plugin.task
          yield* first.start(props(false), taskContext())
          const part = (yield* first.poll) ?? []
          assert.strictEqual(part.length, 100)
          assert.isFalse((part.at(-1)!.sourceOffset as { last_snapshot_record: boolean }).last_snapshot_record)
          yield* first.stop
          // restarted over an unfinished snapshot's offset: the whole snapshot again, from a new slot
          const second = yield* PostgresCdcSource.plugin.task
          const key = JSON.stringify({ server: "redo" })
          yield* second.start(props(false), taskContext({ [key]: part.at(-1)!.sourceOffset! }))
          const again = yield* pollUntil(second, (rs) => rs.length >= 250)
          assert.deepStrictEqual(
            again.map(idOf),
            Array.from({ length: 250 }, (_, i) => 2 * (i + 1))
          )
          assert.isTrue(again.every((r) => r.topic === "redo.public.redo" && opOf(r) === "r"))
          assert.strictEqual(snapshotOf(again[0]!), "first")
          yield* second.stop
          // restarted over the finished snapshot: no reads, changes made meanwhile are streamed
          yield* pg.query("INSERT INTO redo VALUES (1000, true)")
          const third = yield* PostgresCdcSource.plugin.task
          yield* Effect.acquireRelease(
            third.start(props(true), taskContext({ [key]: again.at(-1)!.sourceOffset! })),
            () => third.stop
          )
          const streamed = yield* pollUntil(third, (rs) => rs.length >= 1)
          assert.deepStrictEqual(streamed.map(opOf), ["c"])
          assert.strictEqual(idOf(streamed[0]!), 1000)
        }).pipe(Effect.provide(NodeContext.layer)),
      60_000
    )

    it.scoped("initial_only reads the tables and drops its slot; when_needed snapshots when the slot is gone", () =>
      Effect.gen(function* () {
        const pg = yield* PgTag
        yield* pg.query("CREATE TABLE once (id int PRIMARY KEY)")
        yield* pg.query("INSERT INTO once SELECT i FROM generate_series(1, 10) i")
        const props = { ...base(pg, "once"), "table.include.list": "public\\.once" }
        const only = yield* PostgresCdcSource.plugin.task
        yield* only.start({ ...props, "snapshot.mode": "initial_only" }, taskContext())
        const read = yield* pollUntil(only, (rs) => rs.length >= 10)
        assert.isTrue(read.every((r) => opOf(r) === "r"))
        assert.isNull(yield* only.poll)
        const slots = yield* pg.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = 'slot_once'")
        assert.strictEqual(slots.length, 0)
        yield* only.stop
        // when_needed with an offset but no slot: its WAL is gone, so it snapshots again
        const needed = yield* PostgresCdcSource.plugin.task
        yield* Effect.acquireRelease(
          needed.start(
            { ...props, "snapshot.mode": "when_needed", "slot.drop.on.stop": "true" },
            taskContext({ [JSON.stringify({ server: "once" })]: { lsn_commit: 1, event: 0 } })
          ),
          () => needed.stop
        )
        const reread = yield* pollUntil(needed, (rs) => rs.length >= 10)
        assert.isTrue(reread.every((r) => opOf(r) === "r"))
      }).pipe(Effect.provide(NodeContext.layer))
    )
  })
})
