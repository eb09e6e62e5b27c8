/**
 * The query-based Postgres source (Kafka Connect JDBC's source, with its config names): tables matching
 * `table.whitelist`/`table.blacklist` (or `table.include.list`/`table.exclude.list`), or one custom `query`,
 * read every `poll.interval.ms` in `mode` bulk, incrementing, timestamp or timestamp+incrementing, at most
 * `batch.max.rows` records per poll, to `<topic.prefix><table>` (or `topic.prefix` for a query). Values are
 * structs named after the table; keys are null. The connector lists tables every `table.poll.interval.ms`
 * and asks for a task reconfiguration when the set changes.
 *
 * Invariants: a querier emits a row's offset only with that row, in query order, so a committed offset
 * never passes a row not yet acknowledged; a querier's buffered result set is drained before it queries
 * again, and the next query of a table waits `poll.interval.ms` from when its result set was exhausted.
 */
import type { SqlError } from "@effect/sql/SqlError"
import type * as PgClient from "@effect/sql-pg/PgClient"
import { Clock, Duration, Effect, Exit, Schedule, Scope } from "effect"
import { type SourceRecord, sourceRecord } from "../data/ConnectRecord.js"
import * as CS from "../data/ConnectSchema.js"
import { Struct } from "../data/Struct.js"
import * as ConfigDef from "../plugin/ConfigDef.js"
import { ConnectError } from "../plugin/ConnectError.js"
import * as Plugin from "../plugin/Connector.js"
import * as PgConnection from "./PgConnection.js"
import * as PgTypes from "./PgTypes.js"
import * as TableQuerier from "./TableQuerier.js"

/** The connector's config definition (Kafka Connect JDBC's names and defaults). */
export const config = ConfigDef.make({
  "connection.url": ConfigDef.string({
    importance: "HIGH",
    group: "Database",
    documentation: "JDBC connection URL (jdbc:postgresql://host:port/db) or a postgres:// URL"
  }),
  "connection.user": ConfigDef.string({ default: null, importance: "HIGH", documentation: "JDBC connection user." }),
  "connection.password": ConfigDef.password({
    default: null,
    importance: "HIGH",
    documentation: "JDBC connection password."
  }),
  "connection.attempts": ConfigDef.int({
    default: 3,
    min: 1,
    importance: "LOW",
    documentation: "Maximum number of attempts to retrieve a valid JDBC connection."
  }),
  "connection.backoff.ms": ConfigDef.long({
    default: 10_000,
    importance: "LOW",
    documentation: "Backoff time in milliseconds between connection attempts."
  }),
  "table.whitelist": ConfigDef.list({
    default: "",
    importance: "MEDIUM",
    documentation: "List of tables to include in copying (`table` or `schema.table`)."
  }),
  "table.blacklist": ConfigDef.list({
    default: "",
    importance: "MEDIUM",
    documentation: "List of tables to exclude from copying."
  }),
  "table.include.list": ConfigDef.list({
    default: "",
    importance: "MEDIUM",
    documentation: "Newer name of table.whitelist."
  }),
  "table.exclude.list": ConfigDef.list({
    default: "",
    importance: "MEDIUM",
    documentation: "Newer name of table.blacklist."
  }),
  "schema.pattern": ConfigDef.string({
    default: null,
    importance: "MEDIUM",
    documentation: "Schema pattern (SQL LIKE) to fetch table metadata from the database."
  }),
  "table.types": ConfigDef.list({
    default: "TABLE",
    importance: "LOW",
    documentation: "Table types to read: TABLE, VIEW, MATERIALIZED VIEW, PARTITIONED TABLE."
  }),
  mode: ConfigDef.oneOf(["bulk", "incrementing", "timestamp", "timestamp+incrementing"] as const, {
    importance: "HIGH",
    group: "Mode",
    documentation: "The mode for updating a table each time it is polled."
  }),
  "incrementing.column.name": ConfigDef.string({
    default: "",
    importance: "MEDIUM",
    documentation: "The strictly incrementing column to detect new rows (empty: the table's identity/serial column)."
  }),
  "timestamp.column.name": ConfigDef.list({
    default: "",
    importance: "MEDIUM",
    documentation: "Timestamp columns detecting new or modified rows; several are COALESCEd in order."
  }),
  "timestamp.initial": {
    ...ConfigDef.long({
      importance: "LOW",
      documentation: "Epoch ms of the first timestamp to read when there is no offset; -1 means now."
    }),
    defaultValue: null
  } as ConfigDef.ConfigKey<number | null>,
  "timestamp.delay.interval.ms": ConfigDef.long({
    default: 0,
    min: 0,
    importance: "HIGH",
    documentation: "How long after a row gets a timestamp before it is read, for transactions still in flight."
  }),
  "validate.non.null": ConfigDef.boolean({
    default: true,
    importance: "LOW",
    documentation: "Fail when the incrementing or timestamp columns are nullable."
  }),
  query: ConfigDef.string({
    default: "",
    importance: "MEDIUM",
    documentation: "A custom SELECT instead of tables; incremental modes filter its rows (as a subquery)."
  }),
  "query.suffix": ConfigDef.string({
    default: "",
    importance: "LOW",
    documentation: "Text appended to the generated query."
  }),
  "poll.interval.ms": ConfigDef.int({
    default: 5000,
    min: 0,
    importance: "HIGH",
    documentation: "Frequency in ms to poll for new data in each table."
  }),
  "batch.max.rows": ConfigDef.int({
    default: 100,
    min: 1,
    importance: "LOW",
    documentation: "Maximum number of rows to include in a single batch when polling for new data."
  }),
  "table.poll.interval.ms": ConfigDef.long({
    default: 60_000,
    min: 0,
    importance: "LOW",
    documentation: "Frequency in ms to poll for new or removed tables (then tasks are reconfigured)."
  }),
  "topic.prefix": ConfigDef.string({
    importance: "HIGH",
    documentation: "Prefix of the topic names (table mode), or the whole topic name (query mode)."
  })
})

/** The typed config. */
export type Config = ConfigDef.TypeOf<typeof config.keys>

/** The task config key holding the task's tables (a JSON array of `[schema, table]`). */
export const TABLES_CONFIG = "tables"

const parseConfig = (props: Plugin.Props) =>
  ConfigDef.parseProps(config, props).pipe(
    Effect.filterOrFail(
      (c) => c.mode === "bulk" || c.mode === "timestamp" || c["incrementing.column.name"] !== "" || c.query === "",
      () => new ConnectError({ message: "incrementing.column.name is required with a custom query" })
    ),
    Effect.filterOrFail(
      (c) => !c.mode.startsWith("timestamp") || c["timestamp.column.name"].length > 0,
      (c) => new ConnectError({ message: `timestamp.column.name is required in ${c.mode} mode` })
    )
  )

const connect = (c: Config) =>
  Effect.retry(
    PgConnection.make({
      url: c["connection.url"],
      user: c["connection.user"],
      password: c["connection.password"]
    }).pipe(Effect.tap((sql) => PgConnection.raw(sql, "SELECT 1"))),
    Schedule.recurs(c["connection.attempts"] - 1).pipe(
      Schedule.addDelay(() => Duration.millis(c["connection.backoff.ms"]))
    )
  ).pipe(Effect.mapError(PgConnection.toConnectError("Could not connect to Postgres")))

const relkinds: Record<string, ReadonlyArray<string>> = {
  TABLE: ["r", "p"],
  "PARTITIONED TABLE": ["p"],
  VIEW: ["v"],
  "MATERIALIZED VIEW": ["m"],
  "FOREIGN TABLE": ["f"]
}

/** A table's schema and name. */
export type TableId = readonly [schema: string, table: string]

const matches = (patterns: ReadonlyArray<string>, [schema, table]: TableId) =>
  patterns.some((p) => p === table || p === `${schema}.${table}`)

/** The tables the config selects, sorted. */
export const listTables = (sql: PgClient.PgClient, c: Config): Effect.Effect<ReadonlyArray<TableId>, SqlError> =>
  Effect.gen(function* () {
    const kinds = [...new Set(c["table.types"].flatMap((t) => relkinds[t.toUpperCase()] ?? []))]
    const result = yield* PgConnection.raw(
      sql,
      `SELECT n.nspname AS schema, c.relname AS table FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind::text = ANY($1::text[]) AND n.nspname NOT IN ('pg_catalog', 'information_schema')
         AND n.nspname NOT LIKE 'pg_toast%' AND ($2::text IS NULL OR n.nspname LIKE $2::text)
       ORDER BY 1, 2`,
      [`{${kinds.join(",")}}`, c["schema.pattern"]]
    )
    const include = [...c["table.whitelist"], ...c["table.include.list"]]
    const exclude = [...c["table.blacklist"], ...c["table.exclude.list"]]
    return result.rows
      .map((r): TableId => [r.schema!, r.table!])
      .filter((t) => (include.length === 0 || matches(include, t)) && !matches(exclude, t))
  })

/** Splits items into at most `n` contiguous groups of near-equal size (Kafka's ConnectorUtils.groupPartitions). */
export const groupPartitions = <A>(items: ReadonlyArray<A>, n: number): ReadonlyArray<ReadonlyArray<A>> => {
  const groups = Math.min(n, items.length)
  const out: Array<Array<A>> = []
  let start = 0
  for (let i = 0; i < groups; i++) {
    const size = Math.floor(items.length / groups) + (i < items.length % groups ? 1 : 0)
    out.push(items.slice(start, start + size))
    start += size
  }
  return out
}

const makeConnector = Effect.sync((): Plugin.Connector => {
  let props: Plugin.Props = {}
  let tables: ReadonlyArray<TableId> = []
  let scope: Scope.CloseableScope | null = null
  let parsed: Config | null = null
  return {
    start: (p, context) =>
      Effect.gen(function* () {
        const c = yield* parseConfig(p)
        props = p
        parsed = c
        if (c.query !== "") return
        const s = yield* Scope.make()
        scope = s
        const sql = yield* Scope.extend(connect(c), s)
        tables = yield* listTables(sql, c).pipe(Effect.mapError(PgConnection.toConnectError("Listing tables failed")))
        const monitor = Effect.gen(function* () {
          const now = yield* listTables(sql, c)
          if (JSON.stringify(now) !== JSON.stringify(tables)) {
            yield* Effect.logInfo(`Postgres source: tables changed to ${now.map((t) => t.join(".")).join(", ")}`)
            tables = now
            yield* context.requestTaskReconfiguration
          }
        }).pipe(
          Effect.catchAll((e) => Effect.logWarning("Postgres source: listing tables failed", e)),
          Effect.repeat(Schedule.spaced(Duration.millis(Math.max(c["table.poll.interval.ms"], 100))))
        )
        if (c["table.poll.interval.ms"] > 0) yield* Effect.forkIn(monitor, s)
      }),
    taskConfigs: (maxTasks) =>
      Effect.sync(() => {
        if (parsed?.query) return [props]
        return groupPartitions(tables, maxTasks).map((group) => ({ ...props, [TABLES_CONFIG]: JSON.stringify(group) }))
      }),
    stop: Effect.suspend(() => {
      const s = scope
      scope = null
      return s ? Scope.close(s, Exit.void) : Effect.void
    })
  }
})

/** One table's (or the query's) reader state. */
interface Querier {
  readonly spec: TableQuerier.QuerySpec
  readonly topic: string
  readonly partition: Record<string, string>
  offset: TableQuerier.Offset
  /** Rows of the current result set not yet emitted. */
  buffer: ReadonlyArray<Record<string, string | null>>
  codecs: ReadonlyArray<PgTypes.ColumnCodec>
  valueSchema: CS.ConnectSchema | null
  /** When the next query may run (ms since the epoch). */
  nextQueryAt: number
}

const columnNullability = (sql: PgClient.PgClient, [schema, table]: TableId) =>
  PgConnection.raw(
    sql,
    `SELECT a.attname AS name, a.attnotnull AS notnull, a.attidentity AS identity,
            pg_get_expr(d.adbin, d.adrelid) AS default
     FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE a.attrelid = ($1::text)::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [`${PgConnection.quote(schema)}.${PgConnection.quote(table)}`]
  ).pipe(
    Effect.map((r) =>
      r.rows.map((row) => ({
        name: row.name!,
        notNull: row.notnull === "t",
        autoIncrement: (row.identity ?? "") !== "" || (row.default ?? "").startsWith("nextval(")
      }))
    )
  )

const rowOffset = (q: Querier, row: Record<string, string | null>): TableQuerier.Offset => {
  const { spec } = q
  let incrementing = q.offset.incrementing
  let timestampMicros = q.offset.timestampMicros
  if (spec.incrementingColumn !== null && incrementing !== null) {
    const v = row[spec.incrementingColumn]
    if (v !== null && v !== undefined) incrementing = BigInt(v)
  }
  if (timestampMicros !== null) {
    const v = spec.timestampColumns.map((col) => row[col]).find((x) => x !== null && x !== undefined)
    if (v !== undefined && v !== null) timestampMicros = PgTypes.timestampMicros(v)
  }
  return { incrementing, timestampMicros }
}

const makeTask = Effect.sync((): Plugin.SourceTask => {
  let scope: Scope.CloseableScope | null = null
  let sql: PgClient.PgClient | null = null
  let c: Config | null = null
  let queriers: Array<Querier> = []
  let cursor = 0

  const setUp = (props: Plugin.Props, context: Plugin.SourceTaskContext) =>
    Effect.gen(function* () {
      c = yield* parseConfig(props)
      const conf = c
      const s = yield* Scope.make()
      scope = s
      const client = yield* Scope.extend(connect(conf), s)
      sql = client
      const database = (yield* PgConnection.raw(client, "SELECT current_database() AS db")).rows[0]!.db!
      const initialTs =
        conf["timestamp.initial"] === null
          ? null
          : conf["timestamp.initial"] === -1
            ? (yield* Clock.currentTimeMillis) * 1000
            : conf["timestamp.initial"] * 1000
      const sources: Array<TableQuerier.Source> =
        conf.query !== ""
          ? [{ _tag: "query", query: conf.query }]
          : (JSON.parse(props[TABLES_CONFIG] ?? "[]") as Array<TableId>).map(([schema, table]) => ({
              _tag: "table",
              schema,
              table
            }))
      queriers = []
      for (const source of sources) {
        let incrementingColumn = conf["incrementing.column.name"] === "" ? null : conf["incrementing.column.name"]
        if (source._tag === "table") {
          const columns = yield* columnNullability(client, [source.schema, source.table])
          if (incrementingColumn === null && conf.mode.endsWith("incrementing"))
            incrementingColumn = columns.find((col) => col.autoIncrement)?.name ?? null
          if (incrementingColumn === null && conf.mode.endsWith("incrementing"))
            return yield* new ConnectError({
              message: `Cannot find an auto-incrementing column in ${source.schema}.${source.table}: set incrementing.column.name`
            })
          if (conf["validate.non.null"]) {
            const checked = [...(incrementingColumn ? [incrementingColumn] : []), ...conf["timestamp.column.name"]]
            const nullable = checked.filter((name) => columns.find((col) => col.name === name)?.notNull === false)
            if (conf.mode !== "bulk" && nullable.length > 0)
              return yield* new ConnectError({
                message: `Cannot make incremental queries using nullable columns ${nullable.join(", ")} in ${source.schema}.${source.table}`
              })
          }
        }
        const partition = TableQuerier.partitionOf(database, source)
        const initial = TableQuerier.initialOffset(conf.mode, initialTs)
        const stored = conf.mode === "bulk" ? null : yield* context.offsetStorageReader.offset(partition)
        queriers.push({
          spec: {
            source,
            mode: conf.mode,
            incrementingColumn: conf.mode.endsWith("incrementing") ? incrementingColumn : null,
            timestampColumns: conf["timestamp.column.name"],
            suffix: conf["query.suffix"]
          },
          topic: source._tag === "query" ? conf["topic.prefix"] : conf["topic.prefix"] + source.table,
          partition,
          offset: TableQuerier.fromOffsetMap(stored, initial),
          buffer: [],
          codecs: [],
          valueSchema: null,
          nextQueryAt: 0
        })
      }
    })

  const runQuery = (client: PgClient.PgClient, conf: Config, q: Querier) =>
    Effect.gen(function* () {
      let upper = 0
      if (q.spec.mode === "timestamp" || q.spec.mode === "timestamp+incrementing") {
        const now = yield* PgConnection.raw(
          client,
          "SELECT (extract(epoch from clock_timestamp()) * 1000000)::int8 AS now"
        )
        upper = Number(now.rows[0]!.now) - conf["timestamp.delay.interval.ms"] * 1000
      }
      const { text, params } = TableQuerier.statement(q.spec, q.offset, upper)
      const result = yield* PgConnection.raw(client, text, params)
      const notNull =
        q.spec.source._tag === "table"
          ? new Set(
              (yield* columnNullability(client, [q.spec.source.schema, q.spec.source.table]))
                .filter((col) => col.notNull)
                .map((col) => col.name)
            )
          : new Set<string>()
      q.codecs = result.fields.map((f) =>
        PgTypes.codec({ name: f.name, oid: f.dataTypeID, typmod: f.dataTypeModifier, optional: !notNull.has(f.name) })
      )
      q.valueSchema = CS.struct(
        q.codecs.map((col) => [col.name, col.schema] as const),
        q.spec.source._tag === "table" ? { name: q.spec.source.table } : {}
      )
      q.buffer = result.rows
    })

  const emit = (q: Querier, max: number): ReadonlyArray<SourceRecord> => {
    const rows = q.buffer.slice(0, max)
    q.buffer = q.buffer.slice(rows.length)
    return rows.map((row) => {
      const value = new Struct(q.valueSchema!)
      for (const col of q.codecs) {
        const text = row[col.name]
        value.put(col.name, text === null || text === undefined ? null : col.decode(text))
      }
      q.offset = rowOffset(q, row)
      return sourceRecord({
        topic: q.topic,
        sourcePartition: q.partition,
        sourceOffset: q.spec.mode === "bulk" ? null : TableQuerier.toOffsetMap(q.offset),
        valueSchema: q.valueSchema,
        value
      })
    })
  }

  const poll = Effect.gen(function* () {
    const client = sql
    const conf = c
    if (client === null || conf === null || queriers.length === 0) {
      yield* Effect.sleep(Duration.millis(conf?.["poll.interval.ms"] ?? 1000))
      return null
    }
    const now = yield* Clock.currentTimeMillis
    // the next querier with buffered rows, or the one due first
    const order = queriers.map((_, i) => queriers[(cursor + i) % queriers.length]!)
    const q =
      order.find((x) => x.buffer.length > 0) ??
      order.reduce((best, x) => (x.nextQueryAt < best.nextQueryAt ? x : best), order[0]!)
    cursor = (queriers.indexOf(q) + 1) % queriers.length
    if (q.buffer.length === 0) {
      if (q.nextQueryAt > now) {
        yield* Effect.sleep(Duration.millis(q.nextQueryAt - now))
        return null
      }
      yield* runQuery(client, conf, q)
    }
    const records = emit(q, conf["batch.max.rows"])
    if (q.buffer.length === 0) q.nextQueryAt = (yield* Clock.currentTimeMillis) + conf["poll.interval.ms"]
    return records
  }).pipe(
    Effect.mapError((e) =>
      e instanceof ConnectError ? e : PgConnection.toConnectError("Postgres source query failed")(e)
    )
  )

  return {
    start: (props, context) =>
      setUp(props, context).pipe(
        Effect.mapError((e) =>
          e instanceof ConnectError ? e : PgConnection.toConnectError("Postgres source start")(e)
        )
      ),
    poll,
    stop: Effect.suspend(() => {
      const s = scope
      scope = null
      sql = null
      return s ? Scope.close(s, Exit.void) : Effect.void
    })
  }
})

/** The query-based Postgres source plugin (also under Kafka Connect JDBC's class name). */
export const plugin: Plugin.SourcePlugin = Plugin.source({
  className: "io.eddy.connect.postgres.PostgresSourceConnector",
  aliases: ["io.confluent.connect.jdbc.JdbcSourceConnector", "JdbcSourceConnector", "JdbcSource"],
  version: "0.1.0",
  config,
  connector: makeConnector,
  task: makeTask
})
