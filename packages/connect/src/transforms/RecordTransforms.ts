/**
 * Kafka's record-level transforms: RegexRouter, TimestampRouter, Filter, SetSchemaMetadata,
 * TimestampConverter, DropHeaders, HeaderFrom and InsertHeader.
 */
import * as SimpleHeaderConverter from "../converters/SimpleHeaderConverter.js"
import { type AnyRecord, withFields } from "../data/ConnectRecord.js"
import * as CS from "../data/ConnectSchema.js"
import * as Logical from "../data/Logical.js"
import { DataError } from "../data/Struct.js"
import * as ConfigDef from "../plugin/ConfigDef.js"
import type { TransformationPlugin } from "../plugin/Transformation.js"
import * as DateFormat from "./DateFormat.js"
import {
  keyValue,
  listOf,
  operating,
  rebuildStruct,
  required,
  requireMap,
  requireStruct,
  single,
  structOf,
  withOperating
} from "./Operating.js"

/** RegexRouter: renames topics matching `regex` (whole name) with `replacement` (`$1` groups). */
const regexRouter = single(
  "RegexRouter",
  ConfigDef.make({
    regex: ConfigDef.string({ documentation: "Regular expression to use for matching." }),
    replacement: ConfigDef.string({ documentation: "Replacement string." })
  }),
  (props) => {
    const regex = new RegExp(`^(?:${required(props, "regex")})$`)
    const replacement = props.replacement ?? ""
    return <R extends AnyRecord>(r: R) =>
      regex.test(r.topic) ? withFields(r, { topic: r.topic.replace(regex, replacement) }) : r
  }
)

const TOPIC_PLACEHOLDER = "$" + "{topic}"
const TIMESTAMP_PLACEHOLDER = "$" + "{timestamp}"
const DEFAULT_TOPIC_FORMAT = `${TOPIC_PLACEHOLDER}-${TIMESTAMP_PLACEHOLDER}`

/** TimestampRouter: topic from `topic.format` with `${topic}` and `${timestamp}` (formatted by `timestamp.format`). */
const timestampRouter = single(
  "TimestampRouter",
  ConfigDef.make({
    "topic.format": ConfigDef.string({
      default: DEFAULT_TOPIC_FORMAT,
      documentation: `Format string which can contain ${TOPIC_PLACEHOLDER} and ${TIMESTAMP_PLACEHOLDER}.`
    }),
    "timestamp.format": ConfigDef.string({
      default: "yyyyMMdd",
      documentation: "Format string for the timestamp (SimpleDateFormat)."
    })
  }),
  (props) => {
    const topicFormat = props["topic.format"] ?? DEFAULT_TOPIC_FORMAT
    const tsFormat = props["timestamp.format"] ?? "yyyyMMdd"
    return <R extends AnyRecord>(r: R) => {
      if (r.timestamp === null) throw new DataError({ message: `Timestamp missing on record: ${r.topic}` })
      const ts = DateFormat.format(tsFormat, new Date(r.timestamp))
      return withFields(r, {
        topic: topicFormat.replaceAll(TOPIC_PLACEHOLDER, r.topic).replaceAll(TIMESTAMP_PLACEHOLDER, ts)
      })
    }
  }
)

/** Filter: drops every record (use it with a predicate). */
const filter = single("Filter", ConfigDef.make({}), () => () => null)

/** SetSchemaMetadata: sets the key's or value's schema name and version. */
const setSchemaMetadata = keyValue(
  "SetSchemaMetadata",
  ConfigDef.make({
    "schema.name": ConfigDef.string({ default: null, documentation: "Schema name to set." }),
    "schema.version": ConfigDef.int({ default: 0, documentation: "Schema version to set." })
  }),
  (props, side) => {
    const name = props["schema.name"]
    const version = props["schema.version"] === undefined ? undefined : Number(props["schema.version"])
    if (name === undefined && version === undefined)
      throw new DataError({ message: "Neither schema name nor version configured" })
    return <R extends AnyRecord>(r: R) => {
      const { schema, value } = operating(r, side)
      if (schema === null) throw new DataError({ message: "Schema required for [updating schema metadata]" })
      const updated = CS.withAttributes(schema, {
        ...(name !== undefined ? { name } : {}),
        ...(version !== undefined ? { version } : {})
      })
      if (value === null || schema.type !== "struct") return withOperating(r, side, updated, value)
      const struct = requireStruct(value, "updating schema metadata")
      return withOperating(
        r,
        side,
        updated,
        structOf(updated, new Map(schema.fields!.map((f) => [f.name, struct.get(f.name)])))
      )
    }
  }
)

type TargetType = "string" | "unix" | "Date" | "Time" | "Timestamp"

const toDate = (value: unknown, format: string | undefined, precision: string): Date => {
  if (value instanceof Date) return value
  if (typeof value === "number" || typeof value === "bigint") {
    const n = Number(value)
    const factor =
      precision === "seconds"
        ? 1000
        : precision === "microseconds"
          ? 1 / 1000
          : precision === "nanoseconds"
            ? 1 / 1e6
            : 1
    return new Date(Math.trunc(n * factor))
  }
  if (typeof value === "string") {
    if (!format)
      throw new DataError({
        message: "TimestampConverter requires format option to be specified when using string timestamps"
      })
    return DateFormat.parse(format, value)
  }
  throw new DataError({ message: `Expected a timestamp, found ${typeof value}` })
}

const fromDate = (d: Date, target: TargetType, format: string | undefined, precision: string): unknown => {
  switch (target) {
    case "string":
      if (!format)
        throw new DataError({
          message: "TimestampConverter requires format option to be specified when using string timestamps"
        })
      return DateFormat.format(format, d)
    case "unix": {
      const ms = d.getTime()
      return precision === "seconds"
        ? Math.floor(ms / 1000)
        : precision === "microseconds"
          ? ms * 1000
          : precision === "nanoseconds"
            ? ms * 1e6
            : ms
    }
    case "Date":
      return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()))
    case "Time":
      return new Date(d.getTime() % 86_400_000)
    default:
      return d
  }
}

const targetSchema = (target: TargetType, optional: boolean): CS.ConnectSchema =>
  target === "string"
    ? CS.string({ optional })
    : target === "unix"
      ? CS.int64({ optional })
      : target === "Date"
        ? Logical.date({ optional })
        : target === "Time"
          ? Logical.time({ optional })
          : Logical.timestamp({ optional })

/** TimestampConverter: converts a timestamp field (or the whole value) between string, unix, Date, Time and Timestamp. */
const timestampConverter = keyValue(
  "TimestampConverter",
  ConfigDef.make({
    field: ConfigDef.string({
      default: "",
      documentation: "The field containing the timestamp, or empty if the entire value is a timestamp."
    }),
    "target.type": ConfigDef.oneOf(["string", "unix", "Date", "Time", "Timestamp"], {
      documentation: "The desired timestamp representation."
    }),
    format: ConfigDef.string({ default: "", documentation: "A SimpleDateFormat-compatible format for the timestamp." }),
    "unix.precision": ConfigDef.oneOf(["seconds", "milliseconds", "microseconds", "nanoseconds"], {
      default: "milliseconds",
      documentation: "The desired Unix precision for the timestamp."
    })
  }),
  (props, side) => {
    const field = props.field?.trim() ?? ""
    const rawTarget = required(props, "target.type")
    const target = (["string", "unix", "Date", "Time", "Timestamp"] as const).find(
      (t) => t.toLowerCase() === rawTarget.trim().toLowerCase()
    )
    if (!target) throw new DataError({ message: `Unknown timestamp type in TimestampConverter: ${rawTarget}` })
    const format = props.format?.trim() || undefined
    const precision = props["unix.precision"]?.trim() ?? "milliseconds"
    const convert = (v: unknown) =>
      v === null || v === undefined ? null : fromDate(toDate(v, format, precision), target, format, precision)
    return <R extends AnyRecord>(r: R) => {
      const { schema, value } = operating(r, side)
      if (field === "")
        return withOperating(r, side, schema === null ? null : targetSchema(target, schema.optional), convert(value))
      if (value === null) return r
      if (schema === null) {
        const out = new Map(requireMap(value, "converting timestamp formats"))
        out.set(field, convert(out.get(field)))
        return withOperating(r, side, null, out)
      }
      const struct = requireStruct(value, "converting timestamp formats")
      const newSchema = rebuildStruct(
        schema,
        schema.fields!.map(
          (f) => [f.name, f.name === field ? targetSchema(target, f.schema.optional) : f.schema] as const
        )
      )
      const values = new Map(
        schema.fields!.map((f) => [f.name, f.name === field ? convert(struct.get(f.name)) : struct.get(f.name)])
      )
      return withOperating(r, side, newSchema, structOf(newSchema, values))
    }
  }
)

/** DropHeaders: removes headers by name. */
const dropHeaders = single(
  "DropHeaders",
  ConfigDef.make({ headers: ConfigDef.list({ documentation: "The name of the headers to be removed." }) }),
  (props) => {
    const names = new Set(listOf(required(props, "headers")))
    return <R extends AnyRecord>(r: R) => withFields(r, { headers: r.headers.filter((h) => !names.has(h.key)) })
  }
)

/** HeaderFrom: copies or moves key/value fields into headers. */
const headerFrom = keyValue(
  "HeaderFrom",
  ConfigDef.make({
    fields: ConfigDef.list({
      documentation: "Field names in the record whose values are to be copied or moved to headers."
    }),
    headers: ConfigDef.list({
      documentation: "Header names, in the same order as the field names listed in the fields configuration property."
    }),
    operation: ConfigDef.oneOf(["move", "copy"], {
      documentation: "Either move if the fields are to be moved to the headers (removed from the key/value), or copy."
    })
  }),
  (props, side) => {
    const fields = listOf(required(props, "fields"))
    const headers = listOf(required(props, "headers"))
    if (fields.length !== headers.length)
      throw new DataError({ message: "'fields' config must have the same number of elements as 'headers' config." })
    const move = required(props, "operation").trim().toLowerCase() === "move"
    return <R extends AnyRecord>(r: R) => {
      const { schema, value } = operating(r, side)
      if (value === null) return r
      const added = [...r.headers]
      if (schema === null) {
        const map = requireMap(value, "header copy/move")
        fields.forEach((f, i) => {
          added.push({ key: headers[i]!, schema: null, value: map.get(f) ?? null })
        })
        const out = new Map(map)
        if (move) for (const f of fields) out.delete(f)
        return withOperating(withFields(r, { headers: added }), side, null, out)
      }
      const struct = requireStruct(value, "header copy/move")
      fields.forEach((f, i) => {
        const field = CS.field(schema, f)
        if (!field) throw new DataError({ message: `Field ${f} not found` })
        added.push({ key: headers[i]!, schema: field.schema, value: struct.get(f) })
      })
      if (!move) return withFields(r, { headers: added })
      const kept = schema.fields!.filter((f) => !fields.includes(f.name))
      const newSchema = rebuildStruct(
        schema,
        kept.map((f) => [f.name, f.schema] as const)
      )
      return withOperating(
        withFields(r, { headers: added }),
        side,
        newSchema,
        structOf(newSchema, new Map(kept.map((f) => [f.name, struct.get(f.name)])))
      )
    }
  }
)

/** InsertHeader: adds a header with a literal value (its schema inferred as SimpleHeaderConverter does). */
const insertHeader = single(
  "InsertHeader",
  ConfigDef.make({
    header: ConfigDef.string({ documentation: "The name of the header." }),
    "value.literal": ConfigDef.string({
      documentation: "The literal value that is to be set as the header value on all records."
    })
  }),
  (props) => {
    const header = required(props, "header")
    const parsed = SimpleHeaderConverter.parseHeaderString(required(props, "value.literal"))
    return <R extends AnyRecord>(r: R) =>
      withFields(r, { headers: [...r.headers, { key: header, schema: parsed.schema, value: parsed.value }] })
  }
)

/** The record-level transforms. */
export const plugins: ReadonlyArray<TransformationPlugin> = [
  dropHeaders,
  filter,
  ...headerFrom,
  insertHeader,
  regexRouter,
  ...setSchemaMetadata,
  ...timestampConverter,
  timestampRouter
]
