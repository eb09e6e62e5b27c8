/**
 * The Postgres sink (Kafka Connect JDBC's sink, with its config names): records with struct values are
 * written to `table.name.format` (`${topic}` replaced) by `insert.mode` insert, upsert
 * (`ON CONFLICT (pk) DO UPDATE`) or update, keyed per `pk.mode` none, kafka, record_key or
 * record_value (`pk.fields`); with `delete.enabled` a tombstone deletes its key's row. `auto.create`
 * creates a missing table from the record schema and `auto.evolve` adds missing columns (never drops or
 * changes one). SQL failures are retried `max.retries` times, `retry.backoff.ms` apart, by the worker.
 *
 * Invariants: all records of one `put` are written in one transaction, in record order, as few
 * statements as runs of same-table, same-operation records allow (at most `batch.size` rows each);
 * within an upsert or delete run only the last record of a key is written (Postgres refuses to touch a
 * row twice in one statement), which is what applying them one by one would leave.
 */
import type * as PgClient from "@effect/sql-pg/PgClient"
import { Effect, Exit, Scope } from "effect"
import type { SinkRecord } from "../data/ConnectRecord.js"
import * as CS from "../data/ConnectSchema.js"
import { isStruct, type Struct } from "../data/Struct.js"
import * as ConfigDef from "../plugin/ConfigDef.js"
import { ConnectError, type PluginError, RetriableError } from "../plugin/ConnectError.js"
import * as Plugin from "../plugin/Connector.js"
import * as PgConnection from "./PgConnection.js"
import * as PgTypes from "./PgTypes.js"
import * as Sql from "./SinkStatements.js"

/** The placeholder of `table.name.format` replaced by the record's topic. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Kafka Connect JDBC's literal placeholder
export const TOPIC_PLACEHOLDER = "${topic}"

/** The connector's config definition (Kafka Connect JDBC's sink names and defaults). */
export const config = ConfigDef.make({
  "connection.url": ConfigDef.string({
    importance: "HIGH",
    group: "Connection",
    documentation: "JDBC connection URL (jdbc:postgresql://host:port/db) or a postgres:// URL"
  }),
  "connection.user": ConfigDef.string({ default: null, importance: "HIGH", documentation: "JDBC connection user." }),
  "connection.password": ConfigDef.password({
    default: null,
    importance: "HIGH",
    documentation: "JDBC connection password."
  }),
  "insert.mode": ConfigDef.oneOf(["insert", "upsert", "update"] as const, {
    default: "insert",
    importance: "HIGH",
    documentation: "The insertion mode to use: insert, upsert (ON CONFLICT ... DO UPDATE) or update."
  }),
  "pk.mode": ConfigDef.oneOf(["none", "kafka", "record_key", "record_value"] as const, {
    default: "none",
    importance: "HIGH",
    documentation: "The primary key mode: none, kafka, record_key or record_value."
  }),
  "pk.fields": ConfigDef.list({
    default: "",
    importance: "MEDIUM",
    documentation: "The primary key fields; their meaning depends on pk.mode."
  }),
  "fields.whitelist": ConfigDef.list({
    default: "",
    importance: "MEDIUM",
    documentation: "Record value fields to write as columns (empty: all)."
  }),
  "delete.enabled": ConfigDef.boolean({
    default: false,
    importance: "MEDIUM",
    documentation: "Whether to treat null record values as deletes. Requires pk.mode to be record_key."
  }),
  "table.name.format": ConfigDef.string({
    default: TOPIC_PLACEHOLDER,
    importance: "MEDIUM",
    documentation: `A format string for the destination table name; ${TOPIC_PLACEHOLDER} is the record's topic.`
  }),
  "auto.create": ConfigDef.boolean({
    default: false,
    importance: "MEDIUM",
    documentation: "Whether to create the destination table from the record schema when it is missing."
  }),
  "auto.evolve": ConfigDef.boolean({
    default: false,
    importance: "MEDIUM",
    documentation: "Whether to add columns for record schema fields the table lacks."
  }),
  "input.format": ConfigDef.oneOf(["plain", "debezium"] as const, {
    default: "plain",
    importance: "MEDIUM",
    documentation:
      "plain: record values are rows; debezium: values are Debezium change events (after for c/r/u, delete for d, t and m skipped)."
  }),
  "batch.size": ConfigDef.int({
    default: 3000,
    min: 1,
    importance: "MEDIUM",
    documentation: "Rows per batched statement."
  }),
  "max.retries": ConfigDef.int({
    default: 10,
    min: 0,
    importance: "MEDIUM",
    documentation: "The maximum number of times to retry on errors before failing the task."
  }),
  "retry.backoff.ms": ConfigDef.int({
    default: 3000,
    min: 0,
    importance: "MEDIUM",
    documentation: "The time in milliseconds to wait following an error before a retry attempt is made."
  })
})

/** The typed config. */
export type Config = ConfigDef.TypeOf<typeof config.keys>

/** Kafka Connect JDBC's column names for `pk.mode=kafka`. */
export const KAFKA_PK_FIELDS = ["__connect_topic", "__connect_partition", "__connect_offset"] as const

/** Postgres refuses more parameters in one statement. */
const MAX_PARAMS = 65_535

const parseConfig = (props: Plugin.Props) =>
  ConfigDef.parseProps(config, props).pipe(
    Effect.filterOrFail(
      (c) => !c["delete.enabled"] || c["pk.mode"] === "record_key",
      () => new ConnectError({ message: "Deletes are only supported for pk.mode record_key" })
    ),
    Effect.filterOrFail(
      (c) => c["insert.mode"] === "insert" || c["pk.mode"] !== "none",
      (c) => new ConnectError({ message: `insert.mode ${c["insert.mode"]} needs a primary key (pk.mode)` })
    )
  )

/** How one record maps to columns (Kafka Connect JDBC's FieldsMetadata). */
interface Layout {
  readonly keyColumns: ReadonlyArray<CS.Field & { readonly from: "key" | "value" | "kafka" }>
  readonly valueColumns: ReadonlyArray<CS.Field>
}

const fail = (message: string) => new ConnectError({ message })

const kafkaFields: ReadonlyArray<CS.Field> = [
  { name: KAFKA_PK_FIELDS[0], index: 0, schema: { type: "string", optional: false } },
  { name: KAFKA_PK_FIELDS[1], index: 1, schema: { type: "int32", optional: false } },
  { name: KAFKA_PK_FIELDS[2], index: 2, schema: { type: "int64", optional: false } }
]

/** The key and value columns of a record under the config. */
export const layoutOf = (c: Config, record: SinkRecord): Layout => {
  const valueFields = record.valueSchema?.type === "struct" ? (record.valueSchema.fields ?? []) : []
  if (record.value !== null && record.valueSchema?.type !== "struct")
    throw fail(`Sink records must have a struct value schema (topic ${record.topic}, offset ${record.kafkaOffset})`)
  const pkFields = c["pk.fields"]
  let keyColumns: Array<CS.Field & { from: "key" | "value" | "kafka" }> = []
  switch (c["pk.mode"]) {
    case "none":
      break
    case "kafka": {
      const names = pkFields.length === 0 ? KAFKA_PK_FIELDS : pkFields
      if (names.length !== 3) throw fail("pk.mode kafka needs exactly three pk.fields (topic, partition, offset)")
      keyColumns = kafkaFields.map((f, i) => ({ ...f, name: names[i]!, from: "kafka" }))
      break
    }
    case "record_key": {
      const keySchema = record.keySchema
      if (keySchema === null || record.key === null)
        throw fail(`pk.mode record_key needs a record key (topic ${record.topic}, offset ${record.kafkaOffset})`)
      if (keySchema.type === "struct") {
        const fields = keySchema.fields ?? []
        const chosen = pkFields.length === 0 ? fields : pkFields.map((n) => fields.find((f) => f.name === n))
        if (chosen.some((f) => f === undefined)) throw fail(`pk.fields ${pkFields.join(",")} not all in the key struct`)
        keyColumns = (chosen as Array<CS.Field>).map((f) => ({ ...f, from: "key" }))
      } else {
        if (pkFields.length !== 1) throw fail("A primitive record key needs exactly one pk.fields name")
        keyColumns = [{ name: pkFields[0]!, index: 0, schema: keySchema, from: "key" }]
      }
      break
    }
    case "record_value": {
      const chosen = pkFields.length === 0 ? valueFields : pkFields.map((n) => valueFields.find((f) => f.name === n))
      if (chosen.some((f) => f === undefined)) throw fail(`pk.fields ${pkFields.join(",")} not all in the value struct`)
      keyColumns = (chosen as Array<CS.Field>).map((f) => ({ ...f, from: "value" }))
      break
    }
  }
  const keyNames = new Set(keyColumns.map((k) => k.name))
  const whitelist = c["fields.whitelist"]
  const valueColumns = valueFields.filter(
    (f) => !keyNames.has(f.name) && (whitelist.length === 0 || whitelist.includes(f.name))
  )
  return { keyColumns, valueColumns }
}

const keyParams = (layout: Layout, record: SinkRecord): ReadonlyArray<PgTypes.Param> =>
  layout.keyColumns.map((k) => {
    switch (k.from) {
      case "kafka":
        return k.index === 0 ? record.topic : k.index === 1 ? record.kafkaPartition : record.kafkaOffset
      case "key":
        return PgTypes.toParam(k.schema, isStruct(record.key) ? record.key.get(k.name) : record.key)
      default:
        return PgTypes.toParam(k.schema, (record.value as Struct).get(k.name))
    }
  })

const valueParams = (layout: Layout, record: SinkRecord): ReadonlyArray<PgTypes.Param> =>
  layout.valueColumns.map((f) => PgTypes.toParam(f.schema, (record.value as Struct).get(f.name)))

/** Consecutive records of one table and operation, written by one statement per `batch.size` rows. */
interface Run {
  readonly table: string
  readonly op: "write" | "delete"
  readonly layout: Layout
  readonly records: Array<SinkRecord>
}

const sameLayout = (a: Layout, b: Layout) =>
  JSON.stringify(a.keyColumns.map((k) => [k.name, k.schema.type])) ===
    JSON.stringify(b.keyColumns.map((k) => [k.name, k.schema.type])) &&
  JSON.stringify(a.valueColumns.map((f) => [f.name, f.schema.type, f.schema.optional])) ===
    JSON.stringify(b.valueColumns.map((f) => [f.name, f.schema.type, f.schema.optional]))

/** Layouts by key and value schema (records of one topic share their schema objects after conversion). */
const layoutCache = new WeakMap<Config, WeakMap<object, WeakMap<object, Layout>>>()
const NO_SCHEMA = {}

const cachedLayout = (c: Config, record: SinkRecord): Layout => {
  let byKey = layoutCache.get(c)
  if (!byKey) {
    byKey = new WeakMap()
    layoutCache.set(c, byKey)
  }
  const keySchema = record.keySchema ?? NO_SCHEMA
  let byValue = byKey.get(keySchema)
  if (!byValue) {
    byValue = new WeakMap()
    byKey.set(keySchema, byValue)
  }
  const valueSchema = record.valueSchema ?? NO_SCHEMA
  const hit = byValue.get(valueSchema)
  if (hit && (record.key !== null || c["pk.mode"] !== "record_key")) return hit
  const layout = layoutOf(c, record)
  byValue.set(valueSchema, layout)
  return layout
}

/** Splits records into runs (records in order; a run changes on table, operation or layout). */
export const runsOf = (c: Config, records: ReadonlyArray<SinkRecord>): ReadonlyArray<Run> => {
  const runs: Array<Run> = []
  for (const record of records) {
    const table = c["table.name.format"].replaceAll(TOPIC_PLACEHOLDER, record.topic)
    if (record.value === null && !c["delete.enabled"]) continue
    const op = record.value === null ? "delete" : "write"
    const layout = cachedLayout(c, record)
    const last = runs.at(-1)
    if (
      last &&
      last.table === table &&
      last.op === op &&
      (last.layout === layout ||
        (op === "delete"
          ? JSON.stringify(last.layout.keyColumns.map((k) => k.name)) ===
            JSON.stringify(layout.keyColumns.map((k) => k.name))
          : sameLayout(last.layout, layout)))
    )
      last.records.push(record)
    else runs.push({ table, op, layout, records: [record] })
  }
  return runs
}

/** A Debezium change event as the row it leaves (`after`), a delete (null value) for `d`, or null to skip. */
export const unwrapDebezium = (record: SinkRecord): SinkRecord | null => {
  if (record.value === null) return record
  if (!isStruct(record.value) || CS.field(record.value.schema, "op") === undefined) return record
  const op = record.value.get("op")
  if (op === "d") return { ...record, valueSchema: null, value: null }
  if (op !== "c" && op !== "u" && op !== "r") return null
  const after = record.value.get("after")
  return isStruct(after) ? { ...record, valueSchema: after.schema, value: after } : null
}

/** The last record of each key, in the order of those last records. */
const lastPerKey = (layout: Layout, records: ReadonlyArray<SinkRecord>) => {
  const byKey = new Map<string, SinkRecord>()
  for (const r of records) {
    const k = keyParams(layout, r)
      .map((p) => (p instanceof Uint8Array ? Buffer.from(p).toString("hex") : String(p)))
      .join("\u0000")
    byKey.delete(k)
    byKey.set(k, r)
  }
  return [...byKey.values()]
}

const chunks = <A>(items: ReadonlyArray<A>, size: number) =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size))

/** The columns of an existing table (name -> nullable), or null when it does not exist. */
const tableColumns = (sql: PgClient.PgClient, table: string) =>
  Effect.gen(function* () {
    const regclass = (yield* PgConnection.raw(sql, "SELECT to_regclass($1)::oid AS oid", [Sql.quoteTable(table)]))
      .rows[0]?.oid
    if (regclass === null || regclass === undefined) return null
    const rows = yield* PgConnection.raw(
      sql,
      "SELECT attname AS name FROM pg_catalog.pg_attribute WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped",
      [regclass]
    )
    return new Set(rows.rows.map((r) => r.name!))
  })

const columnDef = (f: CS.Field, key: boolean): Sql.ColumnDef => ({
  name: f.name,
  sqlType: PgTypes.sqlType(f.schema),
  nullable: !key && f.schema.optional
})

const makeTask = Effect.sync((): Plugin.SinkTask => {
  let scope: Scope.CloseableScope | null = null
  let sql: PgClient.PgClient | null = null
  let c: Config | null = null
  let context: Plugin.SinkTaskContext | null = null
  let retriesLeft = 0
  const known = new Map<string, Set<string>>()

  /** Creates or evolves the table so it has every column of the layout. */
  const ensureTable = (client: PgClient.PgClient, conf: Config, run: Run) =>
    Effect.gen(function* () {
      const wanted = [
        ...run.layout.keyColumns.map((k) => columnDef(k, true)),
        ...run.layout.valueColumns.map((f) => columnDef(f, false))
      ]
      let columns = known.get(run.table) ?? (yield* tableColumns(client, run.table))
      if (columns === null) {
        if (!conf["auto.create"])
          return yield* fail(`Table ${run.table} is missing and auto-creation is disabled (auto.create=false)`)
        yield* PgConnection.raw(
          client,
          Sql.createTable(
            run.table,
            wanted,
            run.layout.keyColumns.map((k) => k.name)
          )
        )
        columns = new Set(wanted.map((w) => w.name))
      }
      const missing = run.op === "delete" ? [] : wanted.filter((w) => !columns!.has(w.name))
      if (missing.length > 0) {
        if (!conf["auto.evolve"])
          return yield* fail(
            `Table ${run.table} is missing fields (${missing.map((m) => m.name).join(", ")}) and auto-evolution is disabled`
          )
        const required = missing.filter((m) => !m.nullable)
        if (required.length > 0)
          return yield* fail(
            `Cannot ALTER ${run.table} to add missing field ${required[0]!.name}, as it is not optional and does not have a default value`
          )
        yield* PgConnection.raw(client, Sql.addColumns(run.table, missing))
        for (const m of missing) columns.add(m.name)
      }
      known.set(run.table, columns)
    })

  const writeRun = (client: PgClient.PgClient, conf: Config, run: Run) =>
    Effect.gen(function* () {
      yield* ensureTable(client, conf, run)
      const keyNames = run.layout.keyColumns.map((k) => k.name)
      const valueNames = run.layout.valueColumns.map((f) => f.name)
      if (run.op === "delete") {
        const rows = lastPerKey(run.layout, run.records).map((r) => keyParams(run.layout, r))
        const size = Math.min(conf["batch.size"], Math.floor(MAX_PARAMS / Math.max(1, keyNames.length)))
        for (const chunk of chunks(rows, size)) {
          const s = Sql.deleteByKeys(run.table, keyNames, chunk)
          yield* PgConnection.raw(client, s.text, s.params)
        }
        return
      }
      const mode = conf["insert.mode"]
      if (mode === "update") {
        for (const r of run.records) {
          const s = Sql.update(run.table, keyNames, valueNames, keyParams(run.layout, r), valueParams(run.layout, r))
          if (valueNames.length > 0) yield* PgConnection.raw(client, s.text, s.params)
        }
        return
      }
      const records = mode === "upsert" ? lastPerKey(run.layout, run.records) : run.records
      const rows = records.map((r) => [...keyParams(run.layout, r), ...valueParams(run.layout, r)])
      const width = keyNames.length + valueNames.length
      const size = Math.min(conf["batch.size"], Math.floor(MAX_PARAMS / Math.max(1, width)))
      for (const chunk of chunks(rows, size)) {
        const s = Sql.insert(run.table, [...keyNames, ...valueNames], chunk, mode === "upsert" ? keyNames : null)
        yield* PgConnection.raw(client, s.text, s.params)
      }
    })

  const put = (records: ReadonlyArray<SinkRecord>): Effect.Effect<void, PluginError> =>
    Effect.gen(function* () {
      const client = sql
      const conf = c
      if (client === null || conf === null || records.length === 0) return
      const input =
        conf["input.format"] === "debezium"
          ? records.map(unwrapDebezium).filter((r): r is SinkRecord => r !== null)
          : records
      const runs = yield* Effect.try({
        try: () => runsOf(conf, input),
        catch: (e) => (e instanceof ConnectError ? e : new ConnectError({ message: String(e), cause: e }))
      })
      const write = client.withTransaction(
        Effect.forEach(runs, (run) => writeRun(client, conf, run), { discard: true })
      )
      const result = yield* Effect.either(write)
      if (result._tag === "Right") {
        retriesLeft = conf["max.retries"]
        return
      }
      const error = result.left
      if (error instanceof ConnectError) {
        known.clear()
        return yield* error
      }
      known.clear()
      const wrapped = PgConnection.toConnectError(`Writing ${records.length} records to Postgres failed`)(error)
      if (retriesLeft <= 0) return yield* wrapped
      retriesLeft--
      yield* Effect.logWarning(`${wrapped.message}; ${retriesLeft} retries left`)
      if (context) yield* context.timeout(conf["retry.backoff.ms"])
      return yield* new RetriableError({ message: wrapped.message, cause: error })
    })

  return {
    start: (props, ctx) =>
      Effect.gen(function* () {
        c = yield* parseConfig(props)
        context = ctx
        retriesLeft = c["max.retries"]
        const s = yield* Scope.make()
        scope = s
        sql = yield* Scope.extend(
          PgConnection.make({
            url: c["connection.url"],
            user: c["connection.user"],
            password: c["connection.password"]
          }),
          s
        ).pipe(Effect.mapError(PgConnection.toConnectError("Could not connect to Postgres")))
      }),
    put,
    stop: Effect.suspend(() => {
      const s = scope
      scope = null
      sql = null
      known.clear()
      return s ? Scope.close(s, Exit.void) : Effect.void
    })
  }
})

const makeConnector = Effect.sync((): Plugin.Connector => {
  let props: Plugin.Props = {}
  return {
    start: (p) =>
      Effect.map(parseConfig(p), () => {
        props = p
      }),
    taskConfigs: (maxTasks) => Effect.succeed(Array.from({ length: maxTasks }, () => props)),
    stop: Effect.void
  }
})

/** The Postgres sink plugin (also under Kafka Connect JDBC's sink class name). */
export const plugin: Plugin.SinkPlugin = Plugin.sink({
  className: "io.eddy.connect.postgres.PostgresSinkConnector",
  aliases: ["io.confluent.connect.jdbc.JdbcSinkConnector", "JdbcSinkConnector", "JdbcSink"],
  version: "0.1.0",
  config,
  connector: makeConnector,
  task: makeTask
})
