/**
 * The CDC connector's initial snapshot: the replication slot created with `EXPORT_SNAPSHOT` on a replication
 * connection, that snapshot imported (`SET TRANSACTION SNAPSHOT`) into a `REPEATABLE READ READ ONLY`
 * transaction on a normal connection, and each captured table read through a cursor in that transaction,
 * `snapshot.fetch.size` rows per `FETCH`. The tables' relations are read from the catalog in the same
 * transaction, shaped as pgoutput describes them (key columns: the replica identity's), so snapshot reads
 * and streamed changes share their schemas.
 *
 * Invariants: the snapshot is exactly the database at the slot's consistent point, so every row committed
 * before it is read once here and every later change is streamed from the slot; the exporting replication
 * connection stays idle until the snapshot is imported and is closed right after; one cursor is open at a
 * time.
 */
import { Effect } from "effect"
import pg from "pg"
import { ConnectError } from "../plugin/ConnectError.js"
import type * as Events from "./CdcEvents.js"
import * as PgConnection from "./PgConnection.js"

/** A captured table to read: its relation (as pgoutput would describe it) and its SELECT. */
export interface SnapshotTable {
  readonly relation: Events.Relation
  readonly select: string
}

/** An open snapshot: the transaction holding the exported snapshot and the slot's consistent point. */
export interface Snapshot {
  readonly consistentPoint: string
  readonly snapshotName: string
  /** The snapshot's xmin (the `txId` of read events). */
  readonly txId: number
  readonly client: pg.Client
}

const fail = (what: string) => (e: unknown) =>
  new ConnectError({ message: `${what}: ${e instanceof Error ? e.message : String(e)}`, cause: e })

const query = (client: pg.Client, text: string, values?: ReadonlyArray<unknown>) =>
  Effect.tryPromise({
    try: () => client.query(text, values as Array<unknown> | undefined),
    catch: fail("Snapshot query failed")
  })

const endQuietly = (client: pg.Client) => Effect.promise(() => client.end().catch(() => undefined))

/**
 * Creates `slot` with an exported snapshot and opens a transaction on it (the slot must not exist). The
 * caller ends the snapshot with `close`.
 */
export const open = (options: PgConnection.ConnectionOptions, slot: string): Effect.Effect<Snapshot, ConnectError> =>
  Effect.gen(function* () {
    const config = PgConnection.poolConfig(options)
    // pg passes `replication` to the server's startup packet (its typings leave it out)
    const replication = new pg.Client({
      connectionString: config.connectionString!,
      replication: "database"
    } as pg.ClientConfig)
    const client = new pg.Client({
      connectionString: config.connectionString!,
      options: config.options!,
      types: config.types!
    })
    return yield* Effect.gen(function* () {
      yield* Effect.tryPromise({ try: () => replication.connect(), catch: fail("Replication connection failed") })
      yield* Effect.tryPromise({ try: () => client.connect(), catch: fail("Snapshot connection failed") })
      const created = yield* query(
        replication,
        `CREATE_REPLICATION_SLOT ${PgConnection.quote(slot)} LOGICAL pgoutput EXPORT_SNAPSHOT`
      )
      const row = created.rows[0] as { consistent_point: string; snapshot_name: string }
      yield* query(client, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
      yield* query(client, `SET TRANSACTION SNAPSHOT '${row.snapshot_name.replaceAll("'", "''")}'`)
      const xmin = yield* query(client, "SELECT txid_snapshot_xmin(txid_current_snapshot())::text AS xmin")
      return {
        consistentPoint: row.consistent_point,
        snapshotName: row.snapshot_name,
        txId: Number((xmin.rows[0] as { xmin: string }).xmin),
        client
      }
    }).pipe(
      Effect.ensuring(endQuietly(replication)),
      Effect.tapError(() => endQuietly(client))
    )
  })

const closed = new WeakSet<Snapshot>()

/** Ends the snapshot's transaction and connection (once; later calls do nothing). */
export const close = (snapshot: Snapshot): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (closed.has(snapshot)) return Effect.void
    closed.add(snapshot)
    return Effect.zipRight(Effect.ignore(query(snapshot.client, "COMMIT")), endQuietly(snapshot.client))
  })

/** The publication's tables (schema, name), in order. */
export const publicationTables = (snapshot: Snapshot, publication: string) =>
  Effect.map(
    query(
      snapshot.client,
      "SELECT schemaname AS schema, tablename AS table FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1, 2",
      [publication]
    ),
    (r) => r.rows as ReadonlyArray<{ schema: string; table: string }>
  )

/** A table's relation as pgoutput describes it, from the catalog as of the snapshot. */
export const relation = (
  snapshot: Snapshot,
  schema: string,
  table: string
): Effect.Effect<Events.Relation, ConnectError> =>
  Effect.gen(function* () {
    const rel = (yield* query(
      snapshot.client,
      `SELECT c.oid::text AS oid, c.relreplident AS ident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname = $2`,
      [schema, table]
    )).rows[0] as { oid: string; ident: string } | undefined
    if (rel === undefined) return yield* new ConnectError({ message: `Table ${schema}.${table} not found` })
    // the key flag pgoutput sets: every column under REPLICA IDENTITY FULL, else the identity index's columns
    const columns = (yield* query(
      snapshot.client,
      `SELECT a.attname AS name, a.atttypid::text AS oid, a.atttypmod::text AS typmod,
         (c.relreplident = 'f' OR EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND a.attnum = ANY(i.indkey)
            AND ((c.relreplident = 'd' AND i.indisprimary) OR (c.relreplident = 'i' AND i.indisreplident))))::text AS key
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
       WHERE c.oid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
         AND COALESCE(to_jsonb(a) ->> 'attgenerated', '') = ''
       ORDER BY a.attnum`,
      [rel.oid]
    )).rows as ReadonlyArray<{ name: string; oid: string; typmod: string; key: string }>
    const identities: Record<string, string> = { d: "default", n: "nothing", f: "full", i: "index" }
    return {
      relationOid: Number(rel.oid),
      schema,
      name: table,
      replicaIdentity: identities[rel.ident] ?? "default",
      columns: columns.map((c) => ({ name: c.name, typeOid: Number(c.oid), typeMod: Number(c.typmod) })),
      keyColumns: columns.filter((c) => c.key === "true").map((c) => c.name)
    }
  })

/** The default snapshot SELECT of a table. */
export const selectAll = (schema: string, table: string): string =>
  `SELECT * FROM ${PgConnection.quote(schema)}.${PgConnection.quote(table)}`

const CURSOR = "eddy_snapshot"

/** Opens the cursor over a table's SELECT. */
export const openCursor = (snapshot: Snapshot, select: string): Effect.Effect<void, ConnectError> =>
  Effect.asVoid(query(snapshot.client, `DECLARE ${CURSOR} NO SCROLL CURSOR FOR ${select}`))

/** The next rows of the cursor (fewer than `n` only at its end); values are Postgres text. */
export const fetch = (
  snapshot: Snapshot,
  n: number
): Effect.Effect<ReadonlyArray<Record<string, string | null>>, ConnectError> =>
  Effect.map(query(snapshot.client, `FETCH FORWARD ${n} FROM ${CURSOR}`), (r) => r.rows)

/** Closes the cursor. */
export const closeCursor = (snapshot: Snapshot): Effect.Effect<void, ConnectError> =>
  Effect.asVoid(query(snapshot.client, `CLOSE ${CURSOR}`))

/** Debezium's `source.snapshot` value of a read event. */
export type Marker = "first" | "first_in_data_collection" | "true" | "last_in_data_collection" | "last"

/** A row read by the snapshot, with its table's index and its marker. */
export interface SnapshotRow {
  readonly table: number
  readonly row: Record<string, string | null>
  readonly marker: Marker
}

interface Held {
  readonly table: number
  readonly row: Record<string, string | null>
  readonly first: boolean
  readonly firstInTable: boolean
  readonly lastInTable: boolean
}

/** The marker of a row: the snapshot's last row is `last`, its first `first`, then the tables' first and last. */
export const marker = (h: Omit<Held, "table" | "row">, last: boolean): Marker =>
  last
    ? "last"
    : h.first
      ? "first"
      : h.lastInTable
        ? "last_in_data_collection"
        : h.firstInTable
          ? "first_in_data_collection"
          : "true"

/** Reads the tables in order, one row held back so the last row of the snapshot is known when it is handed out. */
export interface Reader {
  /** Up to `max` rows; `done` once every table was read (the last row then carries `last`). */
  readonly next: (max: number) => Effect.Effect<{ rows: ReadonlyArray<SnapshotRow>; done: boolean }, ConnectError>
}

/** A reader of `tables` in the snapshot, `fetchSize` rows per FETCH. */
export const reader = (snapshot: Snapshot, tables: ReadonlyArray<SnapshotTable>, fetchSize: number): Reader => {
  let table = -1
  const buffer: Array<Record<string, string | null>> = []
  let exhausted = true
  let firstInTable = false
  let anyRow = false
  let held: Held | null = null
  return {
    next: (max) =>
      Effect.gen(function* () {
        const rows: Array<SnapshotRow> = []
        while (rows.length < max) {
          while (buffer.length < 2 && !exhausted) {
            const more = yield* fetch(snapshot, fetchSize)
            for (const r of more) buffer.push(r)
            exhausted = more.length < fetchSize
          }
          if (buffer.length === 0) {
            if (table >= 0) yield* closeCursor(snapshot)
            if (table + 1 >= tables.length) {
              table = tables.length
              if (held !== null) rows.push({ table: held.table, row: held.row, marker: marker(held, true) })
              held = null
              return { rows, done: true }
            }
            table++
            yield* openCursor(snapshot, tables[table]!.select)
            exhausted = false
            firstInTable = true
            continue
          }
          const row = buffer.shift()!
          if (held !== null) rows.push({ table: held.table, row: held.row, marker: marker(held, false) })
          held = { table, row, first: !anyRow, firstInTable, lastInTable: exhausted && buffer.length === 0 }
          anyRow = true
          firstInTable = false
        }
        return { rows, done: false }
      })
  }
}
