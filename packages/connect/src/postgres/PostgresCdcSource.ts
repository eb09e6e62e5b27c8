/**
 * Change data capture from Postgres's write-ahead log (Debezium's Postgres connector, its config names and
 * event format): a logical replication slot (`slot.name`, created when missing) streams `pgoutput` changes
 * of the publication (`publication.name`, created per `publication.autocreate.mode`); each committed
 * transaction becomes Debezium events on `<topic.prefix>.<schema>.<table>` (op c/u/d/t, a tombstone after
 * each delete, a primary-key change as delete + tombstone + create with `__debezium.newkey`/`oldkey`
 * headers) and logical decoding messages (op m) on `<topic.prefix>.message`. Under `snapshot.mode` a
 * snapshot of the captured tables (op r, CdcSnapshot.ts) is read first, in the slot's exported snapshot.
 *
 * Invariants: the flush LSN confirmed to Postgres is the end LSN of a transaction received through the stream,
 * sent exactly (the library adds a byte: `statusLsn`), and only once every record of it and of every earlier
 * transaction has been acknowledged by the broker (`commitRecord`), so the slot never passes an unacknowledged
 * change (Postgres streams a transaction again after a restart when its commit record starts at or after the
 * confirmed LSN). The stream's position (heartbeat offsets) is likewise the end LSN of the last transaction
 * received, never a keepalive's WAL position: decoding follows commit order, so every transaction committed
 * before it was handed over first. With heartbeats on, each heartbeat writes a one-message transaction
 * (`HEARTBEAT_MESSAGE_PREFIX`, never an event) that comes back through the stream, so the position and the
 * slot move on while the captured tables are quiet and others are busy; with heartbeats off the slot moves
 * only with the captured tables' transactions. The replication socket is paused while `max.queue.size`
 * messages wait for `poll` (resumed at half), so a slow broker slows the stream. Each record's source
 * offset is `{lsn_commit, event}` (its transaction's commit LSN and index), so a restarted task skips what
 * it already delivered. Snapshot records carry `{snapshot: true, last_snapshot_record, lsn}`; a snapshot
 * whose last record's offset was not stored is redone from a new slot, and the stream starts only after the
 * snapshot, at the slot's consistent point.
 */
import type * as PgClient from "@effect/sql-pg/PgClient"
import { Chunk, Clock, Duration, Effect, Exit, Option, Queue, Runtime, Scope } from "effect"
import { LogicalReplicationService, PgoutputPlugin } from "pg-logical-replication"
import { type Header, type SourceRecord, sourceRecord } from "../data/ConnectRecord.js"
import * as CS from "../data/ConnectSchema.js"
import { Struct } from "../data/Struct.js"
import * as ConfigDef from "../plugin/ConfigDef.js"
import { ConnectError } from "../plugin/ConnectError.js"
import * as Plugin from "../plugin/Connector.js"
import * as Events from "./CdcEvents.js"
import * as CdcSnapshot from "./CdcSnapshot.js"
import * as PgConnection from "./PgConnection.js"

/** The connector's config definition (Debezium's names and defaults). */
export const config = ConfigDef.make({
  "database.hostname": ConfigDef.string({ importance: "HIGH", documentation: "Resolvable hostname or IP address." }),
  "database.port": ConfigDef.int({ default: 5432, importance: "HIGH", documentation: "Port of the database server." }),
  "database.user": ConfigDef.string({ importance: "HIGH", documentation: "Name of the database user (REPLICATION)." }),
  "database.password": ConfigDef.password({ default: null, importance: "HIGH", documentation: "Password." }),
  "database.dbname": ConfigDef.string({ importance: "HIGH", documentation: "The name of the database to capture." }),
  "topic.prefix": ConfigDef.string({
    importance: "HIGH",
    documentation: "Topic prefix: the logical name of the server, also source.name."
  }),
  "plugin.name": ConfigDef.oneOf(["pgoutput"] as const, {
    default: "pgoutput",
    importance: "MEDIUM",
    documentation: "The logical decoding plugin (only pgoutput, built into Postgres 10+)."
  }),
  "slot.name": ConfigDef.string({
    default: "debezium",
    importance: "MEDIUM",
    documentation: "The name of the logical replication slot (created when missing)."
  }),
  "slot.drop.on.stop": ConfigDef.boolean({
    default: false,
    importance: "MEDIUM",
    documentation: "Drop the slot when the task stops (for tests and development)."
  }),
  "publication.name": ConfigDef.string({
    default: "dbz_publication",
    importance: "MEDIUM",
    documentation: "The publication streamed by pgoutput."
  }),
  "publication.autocreate.mode": ConfigDef.oneOf(["all_tables", "filtered", "disabled"] as const, {
    default: "all_tables",
    importance: "MEDIUM",
    documentation: "all_tables: FOR ALL TABLES; filtered: the captured tables (kept in sync); disabled: must exist."
  }),
  "table.include.list": ConfigDef.list({
    default: "",
    importance: "MEDIUM",
    documentation: "Regular expressions matching `schema.table` of the tables to capture (empty: all)."
  }),
  "table.exclude.list": ConfigDef.list({
    default: "",
    importance: "MEDIUM",
    documentation: "Regular expressions matching `schema.table` of tables not to capture."
  }),
  "snapshot.mode": ConfigDef.oneOf(["initial", "always", "initial_only", "no_data", "never", "when_needed"] as const, {
    default: "initial",
    importance: "MEDIUM",
    documentation:
      "initial: snapshot when no offset (or an unfinished snapshot), then stream; always: snapshot at every start; " +
      "initial_only: snapshot, no streaming; no_data (never): stream only; when_needed: as initial, and when the slot is gone."
  }),
  "snapshot.include.collection.list": ConfigDef.list({
    default: "",
    importance: "MEDIUM",
    documentation: "Regular expressions matching `schema.table` of the captured tables to snapshot (empty: all)."
  }),
  "snapshot.select.statement.overrides": ConfigDef.list({
    default: "",
    importance: "LOW",
    documentation:
      "Tables (`schema.table`) whose snapshot SELECT is the property `snapshot.select.statement.overrides.<schema>.<table>`."
  }),
  "snapshot.fetch.size": ConfigDef.int({
    default: 10240,
    min: 1,
    importance: "MEDIUM",
    documentation: "Rows fetched from a table's cursor at a time during a snapshot."
  }),
  "provide.transaction.metadata": ConfigDef.boolean({
    default: false,
    importance: "LOW",
    documentation:
      "Emit BEGIN/END records of each transaction to <topic.prefix>.<topic.transaction> and a transaction block in events."
  }),
  "topic.transaction": ConfigDef.string({
    default: "transaction",
    importance: "LOW",
    documentation: "The suffix of the transaction metadata topic."
  }),
  "tombstones.on.delete": ConfigDef.boolean({
    default: true,
    importance: "MEDIUM",
    documentation: "Emit a tombstone (null value) after each delete event."
  }),
  "heartbeat.interval.ms": ConfigDef.int({
    default: 0,
    min: 0,
    importance: "MEDIUM",
    documentation:
      "How often to emit a heartbeat record carrying the stream's position and write a heartbeat message into the " +
      "WAL, so the offset and the slot advance while the captured tables are quiet (0: off)."
  }),
  "topic.heartbeat.prefix": ConfigDef.string({
    default: "__debezium-heartbeat",
    importance: "LOW",
    documentation: "Heartbeat records go to <topic.heartbeat.prefix>.<topic.prefix>."
  }),
  "heartbeat.action.query": ConfigDef.string({
    default: null,
    importance: "LOW",
    documentation: "A statement run on the database at each heartbeat (for instance an update of a heartbeat table)."
  }),
  "max.queue.size": ConfigDef.int({
    default: 8192,
    min: 1,
    importance: "LOW",
    documentation: "Replication messages buffered before the stream waits."
  }),
  "max.batch.size": ConfigDef.int({
    default: 2048,
    min: 1,
    importance: "LOW",
    documentation: "Replication messages handled per poll."
  }),
  "poll.interval.ms": ConfigDef.int({
    default: 500,
    min: 1,
    importance: "LOW",
    documentation: "How long a poll waits for changes."
  })
})

/** The typed config. */
export type Config = ConfigDef.TypeOf<typeof config.keys>

const parseConfig = (props: Plugin.Props) => ConfigDef.parseProps(config, props)

/** The source partition of a connector: Debezium's `{server}`. */
export const partitionOf = (c: Config) => ({ server: c["topic.prefix"] })

const connectionOptions = (c: Config) => ({
  url: `postgres://${encodeURIComponent(c["database.hostname"])}:${c["database.port"]}/${encodeURIComponent(c["database.dbname"])}`,
  user: c["database.user"],
  password: c["database.password"]
})

const matcher = (patterns: ReadonlyArray<string>) => {
  const regexes = patterns.map((p) => new RegExp(`^(?:${p})$`, "i"))
  return (name: string) => regexes.some((r) => r.test(name))
}

/** Whether a table is captured under the include/exclude lists. */
export const captures = (c: Config) => {
  const include = matcher(c["table.include.list"])
  const exclude = matcher(c["table.exclude.list"])
  return (schema: string, table: string) => {
    const name = `${schema}.${table}`
    return (c["table.include.list"].length === 0 || include(name)) && !exclude(name)
  }
}

/** Creates (or resets) the publication per `publication.autocreate.mode`. */
const preparePublication = (sql: PgClient.PgClient, c: Config) =>
  Effect.gen(function* () {
    const pub = c["publication.name"]
    const exists =
      (yield* PgConnection.raw(sql, "SELECT 1 FROM pg_publication WHERE pubname = $1", [pub])).rows.length > 0
    const mode = c["publication.autocreate.mode"]
    if (mode === "disabled" && !exists)
      return yield* new ConnectError({ message: `Publication ${pub} does not exist and autocreation is disabled` })
    if (mode === "all_tables" && !exists)
      yield* PgConnection.raw(sql, `CREATE PUBLICATION ${PgConnection.quote(pub)} FOR ALL TABLES`)
    if (mode === "filtered") {
      const isCaptured = captures(c)
      const tables = (yield* PgConnection.raw(
        sql,
        `SELECT n.nspname AS schema, c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1, 2`
      )).rows.filter((r) => isCaptured(r.schema!, r.table!))
      const list = tables.map((t) => `${PgConnection.quote(t.schema!)}.${PgConnection.quote(t.table!)}`).join(", ")
      if (!exists)
        yield* PgConnection.raw(
          sql,
          tables.length === 0
            ? `CREATE PUBLICATION ${PgConnection.quote(pub)}`
            : `CREATE PUBLICATION ${PgConnection.quote(pub)} FOR TABLE ${list}`
        )
      else if (tables.length > 0)
        yield* PgConnection.raw(sql, `ALTER PUBLICATION ${PgConnection.quote(pub)} SET TABLE ${list}`)
    }
  })

/** The plugin of the slot, or null when it does not exist. */
const slotPlugin = (sql: PgClient.PgClient, c: Config) =>
  Effect.map(
    PgConnection.raw(sql, "SELECT plugin FROM pg_replication_slots WHERE slot_name = $1", [c["slot.name"]]),
    (r) => r.rows[0]?.plugin ?? null
  )

/** Drops the slot once no walsender holds it (a killed task's may linger for a moment). */
const dropSlotNow = (sql: PgClient.PgClient, c: Config) =>
  Effect.gen(function* () {
    for (let i = 0; i < 100; i++) {
      yield* Effect.either(
        PgConnection.raw(
          sql,
          "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active",
          [c["slot.name"]]
        )
      )
      if ((yield* slotPlugin(sql, c)) === null) return
      yield* Effect.sleep(Duration.millis(100))
    }
    return yield* new ConnectError({ message: `Replication slot ${c["slot.name"]} is still in use` })
  })

/** A replication message with the LSN of its WAL record. */
interface Incoming {
  readonly lsn: string
  // biome-ignore lint/suspicious/noExplicitAny: pg-logical-replication's parsed pgoutput message
  readonly msg: any
}

/** What a task does at start under `snapshot.mode`, given its stored offset and whether its slot exists. */
export const snapshotDecision = (
  mode: Config["snapshot.mode"],
  offset: Plugin.SourceMap | null,
  slotExists: boolean
): { readonly snapshot: boolean; readonly stream: boolean } => {
  // a snapshot is complete once its last record's offset was stored (Debezium's rule); an unfinished one is redone
  const unfinished = offset !== null && offset.snapshot === true && offset.last_snapshot_record !== true
  const none = offset === null || unfinished
  switch (mode) {
    case "always":
      return { snapshot: true, stream: true }
    case "initial":
      return { snapshot: none, stream: true }
    case "initial_only":
      return { snapshot: none, stream: false }
    case "when_needed":
      return { snapshot: none || !slotExists, stream: true }
    case "no_data":
    case "never":
      return { snapshot: false, stream: true }
  }
}

/** The position a restarted task resumes after: `{commit, event}` of its stored offset, or null. */
export const storedPosition = (offset: Plugin.SourceMap | null): { commit: number; event: number } | null => {
  if (offset === null) return null
  if (typeof offset.lsn_commit === "number")
    return { commit: offset.lsn_commit, event: typeof offset.event === "number" ? offset.event : -1 }
  // a finished snapshot: the stream starts at its consistent point
  if (offset.snapshot === true && typeof offset.lsn === "number") return { commit: offset.lsn, event: -1 }
  return null
}

/**
 * The LSN to hand to pg-logical-replication's `acknowledge` so that the standby status update carries exactly
 * `lsn`: the library sends its argument plus one byte. Postgres decodes a transaction again after a restart only
 * when its commit record starts at or after the slot's confirmed_flush_lsn, so one byte too far skips a
 * transaction whose commit record starts right at the confirmed end of the previous one.
 */
export const statusLsn = (lsn: string): string => {
  const n = Events.lsnToNumber(lsn)
  return n === 0 ? lsn : Events.lsnToString(n - 1)
}

/** Sends a standby status update with `lsn` as the written, flushed and applied position. */
const sendStatus = (svc: LogicalReplicationService, lsn: string) => svc.acknowledge(statusLsn(lsn)).catch(() => false)

/**
 * The prefix of the logical decoding messages a task writes at each heartbeat (`pg_logical_emit_message`):
 * they only move the stream's position and never become events.
 */
export const HEARTBEAT_MESSAGE_PREFIX = "__eddy_heartbeat"

/** A transaction handed to the worker and not yet fully acknowledged. */
interface InFlight {
  readonly endLsn: string
  pending: number
}

/** A transaction being received: its records so far and, for transaction metadata, its id and counts. */
interface OpenTransaction {
  readonly xid: number
  readonly commitLsn: number
  readonly commitMicros: number
  readonly records: Array<SourceRecord>
  nextEvent: number
  readonly id: string
  total: number
  readonly counts: Map<string, number>
}

const tsMs = (t: OpenTransaction) => Math.floor(t.commitMicros / 1000)

/** A snapshot being read: the reader, the tables' schemas, its position and the in-flight guard. */
interface SnapshotState {
  readonly snap: CdcSnapshot.Snapshot
  readonly reader: CdcSnapshot.Reader
  readonly schemas: ReadonlyArray<Events.TableSchemas>
  readonly relations: ReadonlyArray<Events.Relation>
  readonly lsn: number
  readonly micros: number
  readonly guard: InFlight
}

const makeTask = Effect.gen(function* () {
  const runtime = yield* Effect.runtime<never>()
  let c: Config | null = null
  let partition: Plugin.SourceMap | null = null
  let scope: Scope.CloseableScope | null = null
  let service: LogicalReplicationService | null = null
  let queue: Queue.Queue<Incoming> | null = null
  let database = ""
  let stored: { commit: number; event: number } | null = null
  const tables = new Map<number, Events.TableSchemas>()
  const relations = new Map<number, Events.Relation>()
  let isCaptured: (schema: string, table: string) => boolean = () => true
  // the open transaction
  let tx: OpenTransaction | null = null
  let lastCommitLsn: number | null = null
  const inFlight: Array<InFlight> = []
  const recordTx = new WeakMap<SourceRecord, InFlight>()
  // the heartbeats: when the last was emitted; the stream's position (the end LSN of the last transaction
  // received, after which every earlier transaction was handed over); the last LSN confirmed to Postgres; the
  // connection of `heartbeat.action.query` and of the heartbeat messages, and whether writing one failed
  let lastHeartbeat = 0
  let position = 0
  let confirmed: string | null = null
  let actionSql: PgClient.PgClient | null = null
  let heartbeatMessageFailed = false
  // messages in the queue, and whether the replication socket is paused because there are too many
  let buffered = 0
  let paused = false
  let pauseStream: (pause: boolean) => void = () => {}
  // the snapshot being read, if any
  let snapshot: SnapshotState | null = null
  // set when the replication stream fails or ends while the task runs; the next poll fails the task
  let streamFailure: string | null = null

  const acknowledge = (lsn: string) =>
    Effect.sync(() => {
      confirmed = lsn
    }).pipe(
      Effect.zipRight(Effect.promise(() => (service === null ? Promise.resolve(false) : sendStatus(service, lsn)))),
      Effect.asVoid
    )

  /** Confirms the end of the acknowledged prefix of transactions. */
  const advance = Effect.suspend(() => {
    let confirm: string | null = null
    while (inFlight.length > 0 && inFlight[0]!.pending === 0) confirm = inFlight.shift()!.endLsn
    return confirm === null ? Effect.void : acknowledge(confirm)
  })

  const schemasOf = (relationOid: number) => {
    let t = tables.get(relationOid)
    if (t === undefined) {
      const rel = relations.get(relationOid)
      if (rel === undefined) return null
      t = Events.tableSchemas(c!["topic.prefix"], rel)
      tables.set(relationOid, t)
    }
    return t
  }

  const source = (rel: Events.Relation, lsn: string) =>
    Events.sourceStruct({
      name: c!["topic.prefix"],
      db: database,
      schema: rel.schema,
      table: rel.name,
      commitTimeMicros: tx!.commitMicros,
      txId: tx!.xid,
      lsn: Events.lsnToNumber(lsn),
      lastCommitLsn,
      snapshot: "false"
    })

  const push = (
    t: Events.TableSchemas | null,
    topic: string,
    keySchema: CS.ConnectSchema | null,
    key: unknown,
    valueSchema: CS.ConnectSchema | null,
    value: unknown,
    headers: ReadonlyArray<Header> = []
  ) => {
    const event = tx!.nextEvent++
    tx!.records.push(
      sourceRecord({
        topic: t?.topic ?? topic,
        sourcePartition: partition!,
        sourceOffset: { lsn_commit: tx!.commitLsn, event, txId: tx!.xid, ts_usec: tx!.commitMicros },
        keySchema,
        key,
        valueSchema,
        value,
        headers
      })
    )
  }

  /** Adds the `transaction` block to a change event (with `provide.transaction.metadata`) and counts it. */
  const inTransaction = (rel: Events.Relation, value: Struct): Struct => {
    if (tx === null || !c!["provide.transaction.metadata"]) return value
    const name = `${rel.schema}.${rel.name}`
    const n = (tx.counts.get(name) ?? 0) + 1
    tx.counts.set(name, n)
    tx.total++
    return value.put("transaction", Events.transactionBlock(tx.id, tx.total, n))
  }

  /** A BEGIN or END record of a transaction on `<topic.prefix>.<topic.transaction>`. */
  const transactionRecord = (done: OpenTransaction, event: number, value: Struct) =>
    sourceRecord({
      topic: `${c!["topic.prefix"]}.${c!["topic.transaction"]}`,
      sourcePartition: partitionOf(c!),
      sourceOffset: { lsn_commit: done.commitLsn, event, txId: done.xid, ts_usec: done.commitMicros },
      keySchema: Events.transactionKeySchema,
      key: new Struct(Events.transactionKeySchema).put("id", done.id),
      valueSchema: Events.transactionValueSchema,
      value
    })

  const handle = (now: number, { lsn, msg }: Incoming) => {
    switch (msg.tag) {
      case "begin":
        tx = {
          xid: msg.xid,
          commitLsn: Events.lsnToNumber(msg.commitLsn),
          commitMicros: Number(msg.commitTime),
          records: [],
          // with transaction metadata, event 0 is kept for the BEGIN record
          nextEvent: c!["provide.transaction.metadata"] ? 1 : 0,
          id: Events.transactionId(msg.xid, Events.lsnToNumber(msg.commitLsn)),
          total: 0,
          counts: new Map()
        }
        return null
      case "relation":
        relations.set(msg.relationOid, msg)
        tables.delete(msg.relationOid)
        return null
      case "insert":
      case "update":
      case "delete": {
        const rel = msg.relation as Events.Relation
        if (tx === null || !isCaptured(rel.schema, rel.name)) return null
        const t = schemasOf(rel.relationOid)!
        const src = source(rel, lsn)
        if (msg.tag === "insert") {
          const after = Events.rowStruct(t, msg.new)
          push(
            t,
            "",
            t.keySchema,
            Events.keyStruct(t, msg.new),
            t.envelope,
            inTransaction(rel, Events.envelope(t, "c", null, after, src, now))
          )
          return null
        }
        const oldTuple = msg.old ?? msg.key ?? null
        const before = Events.rowStruct(t, oldTuple)
        if (msg.tag === "delete") {
          const key = Events.keyStruct(t, oldTuple)
          push(t, "", t.keySchema, key, t.envelope, inTransaction(rel, Events.envelope(t, "d", before, null, src, now)))
          if (c!["tombstones.on.delete"]) push(t, "", t.keySchema, key, null, null)
          return null
        }
        const newKey = Events.keyStruct(t, msg.new)
        const oldKey = msg.key !== null || msg.old !== null ? Events.keyStruct(t, oldTuple) : newKey
        const after = Events.rowStruct(t, msg.new)
        if (oldKey !== null && newKey !== null && !sameKey(t, oldKey, newKey)) {
          const newKeyHeader: Header = { key: "__debezium.newkey", schema: t.keySchema, value: newKey }
          const oldKeyHeader: Header = { key: "__debezium.oldkey", schema: t.keySchema, value: oldKey }
          push(
            t,
            "",
            t.keySchema,
            oldKey,
            t.envelope,
            inTransaction(rel, Events.envelope(t, "d", before, null, src, now)),
            [newKeyHeader]
          )
          if (c!["tombstones.on.delete"]) push(t, "", t.keySchema, oldKey, null, null, [newKeyHeader])
          push(
            t,
            "",
            t.keySchema,
            newKey,
            t.envelope,
            inTransaction(rel, Events.envelope(t, "c", null, after, src, now)),
            [oldKeyHeader]
          )
          return null
        }
        push(
          t,
          "",
          t.keySchema,
          newKey,
          t.envelope,
          inTransaction(rel, Events.envelope(t, "u", before, after, src, now))
        )
        return null
      }
      case "truncate":
        if (tx === null) return null
        for (const rel of msg.relations as ReadonlyArray<Events.Relation>) {
          if (!isCaptured(rel.schema, rel.name)) continue
          const t = schemasOf(rel.relationOid) ?? Events.tableSchemas(c!["topic.prefix"], rel)
          push(
            t,
            "",
            null,
            null,
            t.envelope,
            inTransaction(rel, Events.envelope(t, "t", null, null, source(rel, lsn), now))
          )
        }
        return null
      case "message": {
        // a heartbeat's own message (of this task or another Eddy task on the database): only its commit counts
        if (msg.prefix === HEARTBEAT_MESSAGE_PREFIX) return null
        const schema = messageSchema
        const value = new Struct(schema)
          .put("op", "m")
          .put("ts_ms", now)
          .put(
            "source",
            Events.sourceStruct({
              name: c!["topic.prefix"],
              db: database,
              schema: "",
              table: "",
              commitTimeMicros: tx?.commitMicros ?? now * 1000,
              txId: tx?.xid ?? null,
              lsn: Events.lsnToNumber(lsn),
              lastCommitLsn,
              snapshot: "false"
            })
          )
          .put("message", new Struct(messageBlock).put("prefix", msg.prefix).put("content", msg.content))
        const topic = `${c!["topic.prefix"]}.message`
        if (tx !== null) push(null, topic, null, null, schema, value)
        else
          return [
            sourceRecord({
              topic,
              sourcePartition: partitionOf(c!),
              sourceOffset: { lsn_commit: lastCommitLsn ?? 0, event: -1 },
              valueSchema: schema,
              value
            })
          ]
        return null
      }
      case "commit": {
        const done = tx
        tx = null
        if (done === null) return null
        lastCommitLsn = done.commitLsn
        if (done.total > 0) {
          done.records.unshift(transactionRecord(done, 0, Events.transactionBegin(done.id, tsMs(done))))
          done.records.push(
            transactionRecord(done, done.nextEvent++, Events.transactionEnd(done.id, tsMs(done), done.counts))
          )
        }
        const fresh =
          stored === null
            ? done.records
            : done.records.filter((r) => {
                const event = (r.sourceOffset as { event: number }).event
                return done.commitLsn > stored!.commit || (done.commitLsn === stored!.commit && event > stored!.event)
              })
        position = Math.max(position, Events.lsnToNumber(msg.commitEndLsn))
        const flight: InFlight = { endLsn: msg.commitEndLsn, pending: fresh.length }
        inFlight.push(flight)
        for (const r of fresh) recordTx.set(r, flight)
        return fresh
      }
      default:
        return null
    }
  }

  const sameKey = (t: Events.TableSchemas, a: Struct, b: Struct) =>
    t.keyColumns.every((k) => {
      const x = a.get(k)
      const y = b.get(k)
      return x instanceof Date && y instanceof Date ? x.getTime() === y.getTime() : String(x) === String(y)
    })

  /** The slot's confirmed_flush_lsn, or null when it cannot be read. */
  const slotConfirmed = (conf: Config) =>
    actionSql === null
      ? Effect.succeed(null)
      : PgConnection.raw(
          actionSql,
          "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1",
          [conf["slot.name"]]
        ).pipe(
          Effect.map((r) => r.rows[0]?.lsn ?? null),
          Effect.orElseSucceed(() => null)
        )

  /** Starts streaming the slot from its confirmed position into the queue (the socket paused when it is full). */
  const startStream = (conf: Config) =>
    Effect.flatMap(slotConfirmed(conf), (slotFlush) =>
      Effect.sync(() => {
        // keepalive replies repeat the slot's own position until the task confirms one
        if (confirmed === null) confirmed = slotFlush
        const q = Effect.runSync(Queue.unbounded<Incoming>())
        queue = q
        buffered = 0
        paused = false
        const svc = new LogicalReplicationService(
          {
            host: conf["database.hostname"],
            port: conf["database.port"],
            user: conf["database.user"],
            ...(conf["database.password"] ? { password: conf["database.password"] } : {}),
            database: conf["database.dbname"]
          },
          // the library's own flow control awaits each message in turn; the task pauses the socket itself instead
          { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: false } }
        )
        service = svc
        const run = Runtime.runPromise(runtime)
        // flow control: past `max.queue.size` buffered messages the replication socket is paused (what it already
        // read is still queued), and `poll` resumes it once the queue is half empty
        // biome-ignore lint/suspicious/noExplicitAny: the library's pg connection (its flow control pauses it too)
        const socket = () => (svc as any)._connection?.stream as { pause?: () => void; resume?: () => void } | undefined
        const max = conf["max.queue.size"]
        pauseStream = (pause) => {
          if (pause === paused) return
          paused = pause
          if (pause) socket()?.pause?.()
          else socket()?.resume?.()
        }
        svc.on("data", (lsn: string, msg: unknown) => {
          q.unsafeOffer({ lsn, msg })
          if (++buffered >= max && !paused) pauseStream(true)
        })
        // a keepalive's WAL position is never taken as the stream's position (only transactions received through
        // the stream move it); a keepalive asking for a reply gets the last confirmed position again
        svc.on("heartbeat", (_lsn: string, _ts: number, shouldRespond: boolean) => {
          if (shouldRespond && confirmed !== null) void sendStatus(svc, confirmed)
        })
        svc.on("error", (e: Error) => {
          if (service === svc) streamFailure = `Postgres replication stream failed: ${e.message}`
        })
        const plugin = new PgoutputPlugin({
          protoVersion: 1,
          publicationNames: [conf["publication.name"]],
          messages: true
        })
        // keep Postgres's text for every column (the connector maps types itself)
        // biome-ignore lint/suspicious/noExplicitAny: reaching the parser's column reader
        const parser = (plugin as any).parser
        const readColumn = parser.readRelationColumn.bind(parser)
        parser.readRelationColumn = (reader: unknown) => ({ ...readColumn(reader), parser: (v: unknown) => v })
        svc
          .subscribe(plugin, conf["slot.name"])
          .catch((e: unknown) =>
            run(Effect.logWarning("Postgres replication stream ended", e instanceof Error ? e.message : String(e)))
          )
      })
    )

  /**
   * Writes a heartbeat message into the WAL: a transaction of one logical decoding message (prefix
   * `HEARTBEAT_MESSAGE_PREFIX`, dropped from the events) that reaches the task through the stream like any
   * transaction, after every transaction committed before it, so its commit moves the position even when the
   * captured tables are quiet. A failure (no EXECUTE on `pg_logical_emit_message`, a read-only server) is
   * logged once; the position then moves only with the captured tables' transactions.
   */
  const writeHeartbeatMessage = (sql: PgClient.PgClient) =>
    PgConnection.raw(sql, "SELECT pg_logical_emit_message(true, $1, '')", [HEARTBEAT_MESSAGE_PREFIX]).pipe(
      Effect.tap(() =>
        Effect.sync(() => {
          heartbeatMessageFailed = false
        })
      ),
      Effect.catchAll((e) =>
        heartbeatMessageFailed
          ? Effect.void
          : Effect.zipRight(
              Effect.sync(() => {
                heartbeatMessageFailed = true
              }),
              Effect.logWarning(
                "Writing a heartbeat message (pg_logical_emit_message) failed: the position moves only with the " +
                  "captured tables' transactions",
                e
              )
            )
      )
    )

  /**
   * A heartbeat when `heartbeat.interval.ms` has passed: runs `heartbeat.action.query`, writes a heartbeat
   * message (which moves the position once it comes back through the stream), and returns a heartbeat record
   * whose offset is the stream's position; its acknowledgement confirms that position to the slot (after
   * everything before it).
   */
  const heartbeat = (conf: Config) =>
    Effect.gen(function* () {
      const interval = conf["heartbeat.interval.ms"]
      const now = yield* Clock.currentTimeMillis
      if (interval === 0 || now - lastHeartbeat < interval) return null
      lastHeartbeat = now
      const query = conf["heartbeat.action.query"]
      if (query !== null && actionSql !== null)
        yield* PgConnection.raw(actionSql, query).pipe(
          Effect.catchAll((e) => Effect.logWarning("heartbeat.action.query failed", e))
        )
      if (actionSql !== null) yield* writeHeartbeatMessage(actionSql)
      if (position === 0) return null
      const record = Events.heartbeatRecord({
        topic: `${conf["topic.heartbeat.prefix"]}.${conf["topic.prefix"]}`,
        serverName: conf["topic.prefix"],
        sourcePartition: partitionOf(conf),
        sourceOffset: { lsn_commit: position, event: -1, lsn: position, ts_usec: now * 1000 },
        nowMs: now
      })
      const flight: InFlight = { endLsn: Events.lsnToString(position), pending: 1 }
      inFlight.push(flight)
      recordTx.set(record, flight)
      return record
    })

  /** Creates the slot with an exported snapshot and prepares the reader of the captured tables. */
  const beginSnapshot = (conf: Config, props: Plugin.Props) =>
    Effect.gen(function* () {
      const snap = yield* CdcSnapshot.open(connectionOptions(conf), conf["slot.name"])
      yield* Effect.addFinalizer(() => CdcSnapshot.close(snap)).pipe(Scope.extend(scope!))
      const include = matcher(conf["snapshot.include.collection.list"])
      const overridden = new Set(conf["snapshot.select.statement.overrides"])
      const selected = (yield* CdcSnapshot.publicationTables(snap, conf["publication.name"])).filter(
        (t) =>
          isCaptured(t.schema, t.table) &&
          (conf["snapshot.include.collection.list"].length === 0 || include(`${t.schema}.${t.table}`))
      )
      const snapshotTables: Array<CdcSnapshot.SnapshotTable> = []
      for (const t of selected) {
        const name = `${t.schema}.${t.table}`
        const override = overridden.has(name) ? props[`snapshot.select.statement.overrides.${name}`] : undefined
        snapshotTables.push({
          relation: yield* CdcSnapshot.relation(snap, t.schema, t.table),
          select: override ?? CdcSnapshot.selectAll(t.schema, t.table)
        })
      }
      const guard: InFlight = { endLsn: snap.consistentPoint, pending: 1 }
      inFlight.push(guard)
      snapshot = {
        snap,
        reader: CdcSnapshot.reader(snap, snapshotTables, conf["snapshot.fetch.size"]),
        schemas: snapshotTables.map((t) => Events.tableSchemas(conf["topic.prefix"], t.relation)),
        relations: snapshotTables.map((t) => t.relation),
        lsn: Events.lsnToNumber(snap.consistentPoint),
        micros: (yield* Clock.currentTimeMillis) * 1000,
        guard
      }
    })

  /** Hands out the next snapshot rows as read events; at the end closes the snapshot and starts streaming. */
  const pollSnapshot = (conf: Config, state: SnapshotState) =>
    Effect.gen(function* () {
      const { rows, done } = yield* state.reader.next(conf["max.batch.size"])
      const now = yield* Clock.currentTimeMillis
      const out: Array<SourceRecord> = []
      for (const { table, row, marker } of rows) {
        const t = state.schemas[table]!
        const rel = state.relations[table]!
        const record = sourceRecord({
          topic: t.topic,
          sourcePartition: partitionOf(conf),
          sourceOffset: {
            lsn: state.lsn,
            txId: state.snap.txId,
            ts_usec: state.micros,
            snapshot: true,
            last_snapshot_record: marker === "last"
          },
          keySchema: t.keySchema,
          key: Events.keyStruct(t, row),
          valueSchema: t.envelope,
          value: Events.envelope(
            t,
            "r",
            null,
            Events.rowStruct(t, row),
            Events.sourceStruct({
              name: conf["topic.prefix"],
              db: database,
              schema: rel.schema,
              table: rel.name,
              commitTimeMicros: state.micros,
              txId: state.snap.txId,
              lsn: state.lsn,
              lastCommitLsn: null,
              snapshot: marker
            }),
            now
          )
        })
        state.guard.pending++
        recordTx.set(record, state.guard)
        out.push(record)
      }
      if (done) {
        snapshot = null
        yield* CdcSnapshot.close(state.snap)
        state.guard.pending--
        yield* advance
        if (conf["snapshot.mode"] === "initial_only") yield* dropSlot(conf)
        else yield* startStream(conf)
      }
      return out
    })

  const task: Plugin.SourceTask = {
    start: (props, context) =>
      Effect.gen(function* () {
        const conf = yield* parseConfig(props)
        c = conf
        partition = partitionOf(conf)
        isCaptured = captures(conf)
        const s = yield* Scope.make()
        scope = s
        const sql = yield* Scope.extend(PgConnection.make(connectionOptions(conf)), s).pipe(
          Effect.mapError(PgConnection.toConnectError("Could not connect to Postgres"))
        )
        const asConnectError = (e: unknown) =>
          e instanceof ConnectError ? e : PgConnection.toConnectError("Preparing CDC failed")(e)
        yield* preparePublication(sql, conf).pipe(Effect.mapError(asConnectError))
        database = conf["database.dbname"]
        actionSql = sql
        const offset = yield* context.offsetStorageReader.offset(partitionOf(conf))
        const plugin = yield* slotPlugin(sql, conf).pipe(Effect.mapError(asConnectError))
        if (plugin !== null && plugin !== "pgoutput")
          return yield* new ConnectError({ message: `Slot ${conf["slot.name"]} uses ${plugin}, not pgoutput` })
        const decision = snapshotDecision(conf["snapshot.mode"], offset, plugin !== null)
        if (decision.snapshot) {
          if (plugin !== null) yield* dropSlotNow(sql, conf).pipe(Effect.mapError(asConnectError))
          yield* beginSnapshot(conf, props)
          return
        }
        stored = storedPosition(offset)
        if (!decision.stream) return
        if (plugin === null)
          yield* PgConnection.raw(sql, "SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [
            conf["slot.name"]
          ]).pipe(Effect.mapError(asConnectError))
        yield* startStream(conf)
      }),
    poll: Effect.gen(function* () {
      const conf = c
      if (conf === null) return null
      if (snapshot !== null) return yield* pollSnapshot(conf, snapshot)
      const q = queue
      if (q === null) {
        // initial_only after its snapshot: nothing more to read
        yield* Effect.sleep(Duration.millis(conf["poll.interval.ms"]))
        return null
      }
      if (streamFailure !== null && buffered === 0) return yield* new ConnectError({ message: streamFailure })
      let messages = Chunk.toReadonlyArray(yield* Queue.takeUpTo(q, conf["max.batch.size"]))
      if (messages.length === 0) {
        const first = yield* Queue.take(q).pipe(
          Effect.timeout(Duration.millis(conf["poll.interval.ms"])),
          Effect.option
        )
        if (Option.isNone(first)) {
          const beat = yield* heartbeat(conf)
          return beat === null ? null : [beat]
        }
        messages = [first.value, ...Chunk.toReadonlyArray(yield* Queue.takeUpTo(q, conf["max.batch.size"] - 1))]
      }
      buffered -= messages.length
      if (paused && buffered <= conf["max.queue.size"] / 2) pauseStream(false)
      const now = yield* Clock.currentTimeMillis
      const out: Array<SourceRecord> = []
      let at = ""
      yield* Effect.try({
        try: () => {
          for (const m of messages) {
            at = m.lsn
            const records = handle(now, m)
            if (records !== null) for (const r of records) out.push(r)
          }
        },
        catch: (e) => new ConnectError({ message: `Decoding a change at ${at} failed`, cause: e })
      })
      const beat = yield* heartbeat(conf)
      if (beat !== null) out.push(beat)
      yield* advance
      return out
    }),
    commitRecord: (record) =>
      Effect.suspend(() => {
        const flight = recordTx.get(record)
        if (flight === undefined) return Effect.void
        recordTx.delete(record)
        flight.pending--
        return flight.pending === 0 ? advance : Effect.void
      }),
    stop: Effect.suspend(() => {
      const svc = service
      const s = scope
      const conf = c
      service = null
      scope = null
      queue = null
      snapshot = null
      return Effect.gen(function* () {
        if (svc)
          yield* Effect.promise(() =>
            svc.stop().then(
              () => undefined,
              () => undefined
            )
          )
        if (conf?.["slot.drop.on.stop"] && s) yield* dropSlot(conf)
        if (s) yield* Scope.close(s, Exit.void)
      })
    })
  }
  return task
})

const dropSlot = (c: Config) =>
  Effect.scoped(
    Effect.gen(function* () {
      const sql = yield* PgConnection.make(connectionOptions(c))
      // the walsender may still hold the slot for a moment after the stream stopped
      for (let i = 0; i < 50; i++) {
        const r = yield* Effect.either(
          PgConnection.raw(
            sql,
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active",
            [c["slot.name"]]
          )
        )
        const left = yield* Effect.either(
          PgConnection.raw(sql, "SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [c["slot.name"]])
        )
        if (r._tag === "Right" && left._tag === "Right" && left.right.rows.length === 0) return
        yield* Effect.sleep(Duration.millis(100))
      }
    })
  ).pipe(Effect.catchAll((e) => Effect.logWarning("Dropping the replication slot failed", e)))

const messageBlock = CS.struct([
  ["prefix", CS.string()],
  ["content", CS.bytes()]
])

const messageSchema = CS.struct(
  [
    ["op", CS.string()],
    ["ts_ms", CS.int64({ optional: true })],
    ["source", Events.sourceSchema],
    ["message", messageBlock]
  ],
  { name: "io.debezium.connector.postgresql.MessageValue" }
)

const makeConnector = Effect.sync((): Plugin.Connector => {
  let props: Plugin.Props = {}
  return {
    start: (p) =>
      Effect.map(parseConfig(p), () => {
        props = p
      }),
    taskConfigs: () => Effect.succeed([props]),
    stop: Effect.void
  }
})

/** The Postgres CDC source plugin, under Debezium's class name. */
export const plugin: Plugin.SourcePlugin = Plugin.source({
  className: "io.debezium.connector.postgresql.PostgresConnector",
  version: Events.VERSION,
  config,
  connector: makeConnector,
  task: makeTask
})
