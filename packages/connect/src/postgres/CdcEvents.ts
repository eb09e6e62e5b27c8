/**
 * Debezium's Postgres change events as Connect data: per table a key schema (the primary-key columns), a
 * row schema (`<prefix>.<schema>.<table>.Value`), and the envelope (`...Envelope`: `before`, `after`,
 * `source`, `op`, `ts_ms`, `ts_us`, `ts_ns`) with Debezium's `source` block
 * (`io.debezium.connector.postgresql.Source`). Built from pgoutput relations whose values are Postgres text.
 */

import { type SourceRecord, sourceRecord } from "../data/ConnectRecord.js"
import * as CS from "../data/ConnectSchema.js"
import { Struct } from "../data/Struct.js"
import * as PgTypes from "./PgTypes.js"

/** The connector version written into `source.version`. */
export const VERSION = "0.1.0-eddy"

/** Debezium's placeholder for unchanged TOASTed values it cannot read. */
export const UNAVAILABLE_VALUE = "__debezium_unavailable_value"

/** A pgoutput relation (what pg-logical-replication parses). */
export interface Relation {
  readonly relationOid: number
  readonly schema: string
  readonly name: string
  readonly replicaIdentity: string
  readonly columns: ReadonlyArray<{ readonly name: string; readonly typeOid: number; readonly typeMod: number }>
  readonly keyColumns: ReadonlyArray<string>
}

/** The schemas and decoders of one table. */
export interface TableSchemas {
  readonly topic: string
  readonly keySchema: CS.ConnectSchema | null
  readonly rowSchema: CS.ConnectSchema
  readonly envelope: CS.ConnectSchema
  readonly codecs: ReadonlyArray<PgTypes.ColumnCodec>
  readonly keyColumns: ReadonlyArray<string>
  /** The key columns' codecs, in key schema order. */
  readonly keyCodecs: ReadonlyArray<PgTypes.ColumnCodec>
  /** Per column: whether an unchanged TOAST value becomes Debezium's placeholder (plain strings). */
  readonly placeholders: ReadonlyArray<boolean>
}

/** Debezium's `source` block schema. */
export const sourceSchema = CS.struct(
  [
    ["version", CS.string()],
    ["connector", CS.string()],
    ["name", CS.string()],
    ["ts_ms", CS.int64()],
    [
      "snapshot",
      CS.string({
        optional: true,
        defaultValue: "false",
        name: "io.debezium.data.Enum",
        version: 1,
        parameters: { allowed: "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental" }
      })
    ],
    ["db", CS.string()],
    ["sequence", CS.string({ optional: true })],
    ["ts_us", CS.int64({ optional: true })],
    ["ts_ns", CS.int64({ optional: true })],
    ["schema", CS.string()],
    ["table", CS.string()],
    ["txId", CS.int64({ optional: true })],
    ["lsn", CS.int64({ optional: true })],
    ["xmin", CS.int64({ optional: true })]
  ],
  { name: "io.debezium.connector.postgresql.Source" }
)

/** Debezium's `transaction` block of a change event (`event.block`). */
export const transactionBlockSchema = CS.struct(
  [
    ["id", CS.string()],
    ["total_order", CS.int64()],
    ["data_collection_order", CS.int64()]
  ],
  { name: "event.block", version: 1, optional: true }
)

/** The schemas of a relation's events. */
export const tableSchemas = (prefix: string, relation: Relation): TableSchemas => {
  const base = `${prefix}.${relation.schema}.${relation.name}`
  const codecs = relation.columns.map((c) =>
    PgTypes.codec({
      name: c.name,
      oid: c.typeOid,
      typmod: c.typeMod,
      optional: !relation.keyColumns.includes(c.name)
    })
  )
  const rowSchema = CS.struct(
    codecs.map((c) => [c.name, c.schema] as const),
    { name: `${base}.Value`, optional: true }
  )
  const keyCodecs = codecs.filter((c) => relation.keyColumns.includes(c.name))
  const keySchema =
    keyCodecs.length === 0
      ? null
      : CS.struct(
          keyCodecs.map((c) => [c.name, c.schema] as const),
          { name: `${base}.Key` }
        )
  const envelope = CS.struct(
    [
      ["before", rowSchema],
      ["after", rowSchema],
      ["source", sourceSchema],
      ["transaction", transactionBlockSchema],
      ["op", CS.string()],
      ["ts_ms", CS.int64({ optional: true })],
      ["ts_us", CS.int64({ optional: true })],
      ["ts_ns", CS.int64({ optional: true })]
    ],
    { name: `${base}.Envelope`, version: 2 }
  )
  return {
    topic: base,
    keySchema,
    rowSchema,
    envelope,
    codecs,
    keyColumns: relation.keyColumns,
    keyCodecs,
    placeholders: codecs.map((c) => c.schema.type === "string" && c.schema.name === undefined)
  }
}

/** A row struct from a tuple of Postgres text values (absent values: unchanged TOAST). */
export const rowStruct = (t: TableSchemas, tuple: Readonly<Record<string, unknown>> | null): Struct | null => {
  if (tuple === null) return null
  const codecs = t.codecs
  const values = new Array<unknown>(codecs.length)
  for (let i = 0; i < codecs.length; i++) {
    const c = codecs[i]!
    const v = tuple[c.name]
    if (v === undefined || v === null) {
      // unchanged TOAST (present, undefined): Debezium's placeholder in plain strings; absent: null
      values[i] = v === undefined && c.name in tuple && t.placeholders[i] ? UNAVAILABLE_VALUE : null
      continue
    }
    values[i] = c.decode(typeof v === "string" ? v : String(v))
  }
  // the codecs give each column its schema's type, so the row needs no second validation
  return Struct.unsafeMake(t.rowSchema, values)
}

/** The key struct of a tuple, or null when the table has no primary key. */
export const keyStruct = (t: TableSchemas, tuple: Readonly<Record<string, unknown>> | null): Struct | null => {
  if (t.keySchema === null || tuple === null) return null
  const values = new Array<unknown>(t.keyCodecs.length)
  for (let i = 0; i < t.keyCodecs.length; i++) {
    const c = t.keyCodecs[i]!
    const v = tuple[c.name]
    values[i] = v === null || v === undefined ? null : c.decode(typeof v === "string" ? v : String(v))
  }
  return Struct.unsafeMake(t.keySchema, values)
}

/** Where and when a change happened, for the `source` block. */
export interface SourceInfo {
  readonly name: string
  readonly db: string
  readonly schema: string
  readonly table: string
  readonly commitTimeMicros: number
  readonly txId: number | null
  readonly lsn: number | null
  readonly lastCommitLsn: number | null
  readonly snapshot: string
}

/** The `source` struct. */
export const sourceStruct = (s: SourceInfo): Struct =>
  Struct.unsafeMake(sourceSchema, [
    VERSION,
    "postgresql",
    s.name,
    Math.floor(s.commitTimeMicros / 1000),
    s.snapshot,
    s.db,
    `[${s.lastCommitLsn === null ? "null" : `"${s.lastCommitLsn}"`},${s.lsn === null ? "null" : `"${s.lsn}"`}]`,
    s.commitTimeMicros,
    s.commitTimeMicros * 1000,
    s.schema,
    s.table,
    s.txId,
    s.lsn,
    null
  ])

/** An envelope struct (its parts are built by this module, so it is not validated again). */
export const envelope = (
  t: TableSchemas,
  op: "c" | "u" | "d" | "r" | "t",
  before: Struct | null,
  after: Struct | null,
  source: Struct,
  nowMs: number
): Struct => Struct.unsafeMake(t.envelope, [before, after, source, null, op, nowMs, nowMs * 1000, nowMs * 1_000_000])

/** The number of an LSN text `X/Y`. */
export const lsnToNumber = (lsn: string): number => {
  const slash = lsn.indexOf("/")
  // exact below 2^53 bytes of WAL
  return Number.parseInt(lsn.slice(0, slash), 16) * 2 ** 32 + Number.parseInt(lsn.slice(slash + 1), 16)
}

/** The `X/Y` text of an LSN number. */
export const lsnToString = (lsn: number): string => {
  const n = BigInt(lsn)
  return `${(n >> 32n).toString(16).toUpperCase()}/${(n & 0xffffffffn).toString(16).toUpperCase()}`
}

/** Debezium's heartbeat key schema: the server name (the topic prefix). */
export const heartbeatKeySchema = CS.struct([["serverName", CS.string()]], {
  name: "io.debezium.connector.common.ServerNameKey"
})

/** Debezium's heartbeat value schema: when the heartbeat was emitted. */
export const heartbeatValueSchema = CS.struct([["ts_ms", CS.int64()]], {
  name: "io.debezium.connector.common.Heartbeat"
})

/** A heartbeat record carrying the connector's position as its source offset. */
export const heartbeatRecord = (h: {
  readonly topic: string
  readonly serverName: string
  readonly sourcePartition: Readonly<Record<string, unknown>>
  readonly sourceOffset: Readonly<Record<string, unknown>>
  readonly nowMs: number
}): SourceRecord =>
  sourceRecord({
    topic: h.topic,
    sourcePartition: h.sourcePartition,
    sourceOffset: h.sourceOffset,
    keySchema: heartbeatKeySchema,
    key: new Struct(heartbeatKeySchema).put("serverName", h.serverName),
    valueSchema: heartbeatValueSchema,
    value: new Struct(heartbeatValueSchema).put("ts_ms", h.nowMs)
  })

/** Debezium's transaction metadata key schema. */
export const transactionKeySchema = CS.struct([["id", CS.string()]], {
  name: "io.debezium.connector.common.TransactionMetadataKey"
})

/** One table's count in an END event (`event.collection`). */
export const dataCollectionSchema = CS.struct(
  [
    ["data_collection", CS.string()],
    ["event_count", CS.int64()]
  ],
  { name: "event.collection", version: 1 }
)

/** Debezium's transaction metadata value schema (BEGIN and END). */
export const transactionValueSchema = CS.struct(
  [
    ["status", CS.string()],
    ["id", CS.string()],
    ["event_count", CS.int64({ optional: true })],
    ["data_collections", CS.array(dataCollectionSchema, { optional: true })],
    ["ts_ms", CS.int64()]
  ],
  { name: "io.debezium.connector.common.TransactionMetadataValue", version: 1 }
)

/** A transaction's id as Debezium's Postgres connector writes it: `<txId>:<LSN>` (here the commit LSN). */
export const transactionId = (txId: number, commitLsn: number): string => `${txId}:${commitLsn}`

/** The `transaction` block of a change event. */
export const transactionBlock = (id: string, totalOrder: number, dataCollectionOrder: number): Struct =>
  new Struct(transactionBlockSchema)
    .put("id", id)
    .put("total_order", totalOrder)
    .put("data_collection_order", dataCollectionOrder)

/** A BEGIN metadata value. */
export const transactionBegin = (id: string, tsMs: number): Struct =>
  new Struct(transactionValueSchema).put("status", "BEGIN").put("id", id).put("ts_ms", tsMs)

/** An END metadata value with the transaction's event counts, per table (`schema.table`) in first-seen order. */
export const transactionEnd = (id: string, tsMs: number, counts: ReadonlyMap<string, number>): Struct => {
  let total = 0
  const collections: Array<Struct> = []
  for (const [name, n] of counts) {
    total += n
    collections.push(new Struct(dataCollectionSchema).put("data_collection", name).put("event_count", n))
  }
  return new Struct(transactionValueSchema)
    .put("status", "END")
    .put("id", id)
    .put("event_count", total)
    .put("data_collections", collections)
    .put("ts_ms", tsMs)
}
