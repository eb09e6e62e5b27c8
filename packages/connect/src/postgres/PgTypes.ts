/**
 * Postgres types and Connect's: a column's type OID and modifier give its Connect schema and a decoder of
 * Postgres's text form (int8 to INT64 as a bigint beyond 2^53, numeric with a declared scale to Decimal,
 * timestamps to Timestamp, dates to Date, bytea to BYTES; json, uuid, intervals, arrays and other types as
 * their text); and a Connect schema gives the column type and parameter text a sink writes.
 */
import * as CS from "../data/ConnectSchema.js"
import * as Logical from "../data/Logical.js"
import { DataError } from "../data/Struct.js"

/** Type OIDs of the built-in types the mapping knows. */
export const Oid = {
  bool: 16,
  bytea: 17,
  char: 18,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  json: 114,
  float4: 700,
  float8: 701,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802
} as const

/** A column to map: its name, type OID, type modifier and nullability. */
export interface ColumnType {
  readonly name: string
  readonly oid: number
  readonly typmod: number
  readonly optional: boolean
}

/** A column's Connect schema and the decoder of its text values. */
export interface ColumnCodec {
  readonly name: string
  readonly schema: CS.ConnectSchema
  readonly decode: (text: string) => unknown
}

/** The parameter Kafka Connect JDBC puts the precision of a Decimal in. */
export const PRECISION_PARAMETER = "connect.decimal.precision"

/** The scale and precision of a numeric type modifier, or null when unconstrained. */
export const numericTypmod = (typmod: number): { precision: number; scale: number } | null =>
  typmod < 4 ? null : { precision: ((typmod - 4) >> 16) & 0xffff, scale: (typmod - 4) & 0xffff }

/** An int64 value: a number when exact, else a bigint. */
export const int64Value = (text: string): number | bigint => {
  const big = BigInt(text)
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big
}

const TIMESTAMP =
  /^(\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?|Z)?( BC)?$/

/** Microseconds since the epoch of a Postgres timestamp or timestamptz text. */
export const timestampMicros = (text: string): number => {
  const m = TIMESTAMP.exec(text)
  if (!m) {
    if (text === "infinity") return Number.MAX_SAFE_INTEGER
    if (text === "-infinity") return Number.MIN_SAFE_INTEGER
    throw new DataError({ message: `Not a timestamp: ${text}` })
  }
  const year = m[12] ? 1 - Number(m[1]) : Number(m[1])
  const d = new Date(0)
  d.setUTCFullYear(year, Number(m[2]) - 1, Number(m[3]))
  d.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6]), 0)
  const fraction = Number((m[7] ?? "").padEnd(6, "0").slice(0, 6))
  const sign = m[8] === "-" ? -1 : 1
  const offsetSeconds = m[8] ? sign * (Number(m[9]) * 3600 + Number(m[10] ?? 0) * 60 + Number(m[11] ?? 0)) : 0
  return (d.getTime() - offsetSeconds * 1000) * 1000 + fraction
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0")

/** The UTC text of microseconds since the epoch, as Postgres reads it for timestamp and timestamptz. */
export const formatMicros = (micros: number): string => {
  const ms = Math.floor(micros / 1000)
  const d = new Date(ms)
  const fraction = micros - Math.floor(micros / 1_000_000) * 1_000_000
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes()
  )}:${pad(d.getUTCSeconds())}.${pad(fraction, 6)}+00`
}

const dateValue = (text: string): Date => {
  const m = /^(\d{4,})-(\d\d)-(\d\d)( BC)?$/.exec(text)
  if (!m) throw new DataError({ message: `Not a date: ${text}` })
  const d = new Date(0)
  d.setUTCFullYear(m[4] ? 1 - Number(m[1]) : Number(m[1]), Number(m[2]) - 1, Number(m[3]))
  return d
}

const timeValue = (text: string): Date => {
  const m = /^(\d\d):(\d\d):(\d\d)(?:\.(\d+))?$/.exec(text)
  if (!m) throw new DataError({ message: `Not a time: ${text}` })
  const ms =
    (Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000 + Number((m[4] ?? "").padEnd(3, "0").slice(0, 3))
  return new Date(Math.min(ms, 86_399_999))
}

const byteaValue = (text: string): Uint8Array =>
  text.startsWith("\\x") ? new Uint8Array(Buffer.from(text.slice(2), "hex")) : new TextEncoder().encode(text)

const floatValue = (text: string) => Number(text)

/** The Connect schema and text decoder of a column. */
export const codec = (column: ColumnType): ColumnCodec => {
  const options = { optional: column.optional }
  const make = (schema: CS.ConnectSchema, decode: (text: string) => unknown): ColumnCodec => ({
    name: column.name,
    schema,
    decode
  })
  switch (column.oid) {
    case Oid.bool:
      return make(CS.boolean(options), (t) => t === "t" || t === "true")
    case Oid.int2:
      return make(CS.int16(options), Number)
    case Oid.int4:
      return make(CS.int32(options), Number)
    case Oid.int8:
    case Oid.oid:
      return make(CS.int64(options), int64Value)
    case Oid.float4:
      return make(CS.float32(options), floatValue)
    case Oid.float8:
      return make(CS.float64(options), floatValue)
    case Oid.numeric: {
      const tm = numericTypmod(column.typmod)
      if (tm === null) return make(CS.string(options), (t) => t)
      const schema = Logical.decimal(tm.scale, {
        ...options,
        parameters: { [PRECISION_PARAMETER]: String(tm.precision) }
      })
      return make(schema, (t) => Logical.BigDecimal.parse(t).withScale(tm.scale))
    }
    case Oid.bytea:
      return make(CS.bytes(options), byteaValue)
    case Oid.date:
      return make(Logical.date(options), dateValue)
    case Oid.time:
      return make(Logical.time(options), timeValue)
    case Oid.timestamp:
    case Oid.timestamptz:
      return make(Logical.timestamp(options), (t) => new Date(Math.floor(timestampMicros(t) / 1000)))
    default:
      return make(CS.string(options), (t) => t)
  }
}

/** The Postgres column type a sink creates for a Connect schema. */
export const sqlType = (schema: CS.ConnectSchema): string => {
  switch (schema.name) {
    case Logical.DECIMAL_NAME:
      return "numeric"
    case Logical.DATE_NAME:
      return "date"
    case Logical.TIME_NAME:
      return "time"
    case Logical.TIMESTAMP_NAME:
      return "timestamp"
  }
  switch (schema.type) {
    case "int8":
    case "int16":
      return "smallint"
    case "int32":
      return "integer"
    case "int64":
      return "bigint"
    case "float32":
      return "real"
    case "float64":
      return "double precision"
    case "boolean":
      return "boolean"
    case "string":
      return "text"
    case "bytes":
      return "bytea"
    default:
      throw new DataError({ message: `No Postgres type for a Connect ${schema.type.toUpperCase()} schema` })
  }
}

/** A parameter value pg sends as text. */
export type Param = string | number | bigint | boolean | null | Uint8Array

/** The parameter of a Connect value for its column. */
export const toParam = (schema: CS.ConnectSchema | null, value: unknown): Param => {
  if (value === null || value === undefined) return null
  if (value instanceof Logical.BigDecimal) return value.toPlainString()
  if (value instanceof Date) {
    if (schema?.name === Logical.DATE_NAME) return value.toISOString().slice(0, 10)
    if (schema?.name === Logical.TIME_NAME) return value.toISOString().slice(11, 23)
    return formatMicros(value.getTime() * 1000)
  }
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  if (typeof value === "bigint") return value.toString()
  if (typeof value === "number" || typeof value === "string" || typeof value === "boolean") return value
  if (value instanceof Map || Array.isArray(value) || typeof value === "object")
    return JSON.stringify(value, (_k, v) =>
      typeof v === "bigint" ? v.toString() : v instanceof Map ? Object.fromEntries(v) : v
    )
  return String(value)
}
