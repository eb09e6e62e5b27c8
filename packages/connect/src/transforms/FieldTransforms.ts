/**
 * The field transforms of Kafka: InsertField, ReplaceField, MaskField, ExtractField, HoistField, Flatten,
 * ValueToKey and Cast (`$Key`/`$Value` variants where Kafka has them). Schemaless values are Maps; values
 * with a schema are Structs, and the transform derives the new schema.
 */

import type { AnyRecord } from "../data/ConnectRecord.js"
import * as CS from "../data/ConnectSchema.js"
import * as Logical from "../data/Logical.js"
import { DataError, Struct } from "../data/Struct.js"
import * as ConfigDef from "../plugin/ConfigDef.js"
import type { TransformationPlugin } from "../plugin/Transformation.js"
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

const doc = (documentation: string) => ({ documentation, default: "" })

/** InsertField: adds the record's topic, partition, offset, timestamp or a static value as fields. */
const insertField = keyValue(
  "InsertField",
  ConfigDef.make({
    "topic.field": ConfigDef.string(
      doc("Field name for the Kafka topic. Suffix with ! to make it required, ? optional (default).")
    ),
    "partition.field": ConfigDef.string(doc("Field name for the Kafka partition.")),
    "offset.field": ConfigDef.string(doc("Field name for the Kafka offset (sink connectors only).")),
    "timestamp.field": ConfigDef.string(doc("Field name for the record timestamp.")),
    "static.field": ConfigDef.string(doc("Field name for a static data field.")),
    "static.value": ConfigDef.string(doc("The static field value, if a field name is configured."))
  }),
  (props, side) => {
    const spec = (key: string) => {
      const raw = props[key]?.trim()
      if (!raw) return null
      const optional = !raw.endsWith("!")
      return { name: raw.replace(/[!?]$/, ""), optional }
    }
    const fields = [
      { spec: spec("topic.field"), schema: CS.string, value: (r: AnyRecord) => r.topic },
      { spec: spec("partition.field"), schema: CS.int32, value: (r: AnyRecord) => r.kafkaPartition },
      {
        spec: spec("offset.field"),
        schema: CS.int64,
        value: (r: AnyRecord) => (r._tag === "SinkRecord" ? r.kafkaOffset : null)
      },
      {
        spec: spec("timestamp.field"),
        schema: Logical.timestamp,
        value: (r: AnyRecord) => (r.timestamp === null ? null : new Date(r.timestamp))
      },
      { spec: spec("static.field"), schema: CS.string, value: () => props["static.value"] ?? null }
    ].filter((f) => f.spec !== null)
    return <R extends AnyRecord>(r: R) => {
      const { schema, value } = operating(r, side)
      if (value === null) return r
      if (schema === null) {
        const out = new Map(requireMap(value, "field insertion"))
        for (const f of fields) out.set(f.spec!.name, f.value(r))
        return withOperating(r, side, null, out)
      }
      const struct = requireStruct(value, "field insertion")
      const newSchema = rebuildStruct(schema, [
        ...schema.fields!.map((f) => [f.name, f.schema] as const),
        ...fields.map((f) => [f.spec!.name, f.schema({ optional: f.spec!.optional })] as const)
      ])
      const values = new Map<string, unknown>(schema.fields!.map((f) => [f.name, struct.get(f.name)]))
      for (const f of fields) values.set(f.spec!.name, f.value(r))
      return withOperating(r, side, newSchema, structOf(newSchema, values))
    }
  }
)

/** ReplaceField: keeps (`include`), drops (`exclude`) and renames (`renames=a:b`) fields. */
const replaceField = keyValue(
  "ReplaceField",
  ConfigDef.make({
    exclude: ConfigDef.list(doc("Fields to exclude. This takes precedence over the fields to include.")),
    include: ConfigDef.list(doc("Fields to include. If specified, only these fields will be used.")),
    renames: ConfigDef.list(doc("Field rename mappings, e.g. foo:bar,abc:xyz."))
  }),
  (props, side) => {
    const exclude = new Set([...listOf(props.exclude), ...listOf(props.blacklist)])
    const include = new Set([...listOf(props.include), ...listOf(props.whitelist)])
    const renames = new Map(
      listOf(props.renames).map((pair) => {
        const [from, to] = pair.split(":")
        if (!from || !to) throw new DataError({ message: `Invalid rename mapping: ${pair}` })
        return [from.trim(), to.trim()]
      })
    )
    const keep = (name: string) => !exclude.has(name) && (include.size === 0 || include.has(name))
    const rename = (name: string) => renames.get(name) ?? name
    return <R extends AnyRecord>(r: R) => {
      const { schema, value } = operating(r, side)
      if (value === null) return r
      if (schema === null) {
        const out = new Map<string, unknown>()
        for (const [k, v] of requireMap(value, "field replacement")) if (keep(k)) out.set(rename(k), v)
        return withOperating(r, side, null, out)
      }
      const struct = requireStruct(value, "field replacement")
      const kept = schema.fields!.filter((f) => keep(f.name))
      const newSchema = rebuildStruct(
        schema,
        kept.map((f) => [rename(f.name), f.schema] as const)
      )
      return withOperating(
        r,
        side,
        newSchema,
        structOf(newSchema, new Map(kept.map((f) => [rename(f.name), struct.get(f.name)])))
      )
    }
  }
)

const emptyOf = (schema: CS.ConnectSchema | null, value: unknown): unknown => {
  if (value instanceof Date) return new Date(0)
  if (value instanceof Logical.BigDecimal) return new Logical.BigDecimal(0n, value.scale)
  if (typeof value === "number") return 0
  if (typeof value === "bigint") return 0n
  if (typeof value === "boolean") return false
  if (typeof value === "string") return ""
  if (Array.isArray(value)) return []
  if (value instanceof Map) return new Map()
  if (value instanceof Uint8Array) return new Uint8Array(0)
  throw new DataError({ message: `Cannot mask value of type ${schema?.type ?? typeof value}` })
}

const replacementOf = (value: unknown, replacement: string): unknown => {
  if (typeof value === "string") return replacement
  if (typeof value === "number") {
    const n = Number(replacement)
    if (Number.isNaN(n)) throw new DataError({ message: `Unable to convert ${replacement} to a number` })
    return n
  }
  if (typeof value === "bigint") return BigInt(replacement)
  if (value instanceof Logical.BigDecimal) return Logical.BigDecimal.parse(replacement).withScale(value.scale)
  throw new DataError({ message: `Cannot mask value of type ${typeof value} with a replacement` })
}

/** MaskField: replaces `fields` with their type's empty value or `replacement`. */
const maskField = keyValue(
  "MaskField",
  ConfigDef.make({
    fields: ConfigDef.list({ documentation: "Names of fields to mask." }),
    replacement: ConfigDef.string({ default: null, documentation: "Custom value replacement applied to all fields." })
  }),
  (props, side) => {
    const fields = new Set(listOf(required(props, "fields")))
    const replacement = props.replacement
    const mask = (schema: CS.ConnectSchema | null, v: unknown) =>
      v === null || v === undefined ? v : replacement === undefined ? emptyOf(schema, v) : replacementOf(v, replacement)
    return <R extends AnyRecord>(r: R) => {
      const { schema, value } = operating(r, side)
      if (value === null) return r
      if (schema === null) {
        const out = new Map(requireMap(value, "mask"))
        for (const f of fields) if (out.has(f)) out.set(f, mask(null, out.get(f)))
        return withOperating(r, side, null, out)
      }
      const struct = requireStruct(value, "mask")
      const values = new Map(
        schema.fields!.map((f) => [
          f.name,
          fields.has(f.name) ? mask(f.schema, struct.get(f.name)) : struct.get(f.name)
        ])
      )
      return withOperating(r, side, schema, structOf(schema, values))
    }
  }
)

/** ExtractField: replaces the key or value with one of its fields. */
const extractField = keyValue(
  "ExtractField",
  ConfigDef.make({ field: ConfigDef.string({ documentation: "Field name to extract." }) }),
  (props, side) => {
    const name = required(props, "field")
    return <R extends AnyRecord>(r: R) => {
      const { schema, value } = operating(r, side)
      if (schema === null)
        return withOperating(
          r,
          side,
          null,
          value === null ? null : (requireMap(value, "field extraction").get(name) ?? null)
        )
      const f = CS.field(schema, name)
      if (!f) throw new DataError({ message: `Unknown field: ${name}` })
      return withOperating(
        r,
        side,
        f.schema,
        value === null ? null : requireStruct(value, "field extraction").get(name)
      )
    }
  }
)

/** HoistField: wraps the key or value in a struct (or map) with one field. */
const hoistField = keyValue(
  "HoistField",
  ConfigDef.make({
    field: ConfigDef.string({ documentation: "Field name for the single field that will be created." })
  }),
  (props, side) => {
    const name = required(props, "field")
    return <R extends AnyRecord>(r: R) => {
      const { schema, value } = operating(r, side)
      if (schema === null) return withOperating(r, side, null, new Map([[name, value]]))
      const newSchema = CS.struct([[name, schema]])
      return withOperating(r, side, newSchema, new Struct(newSchema).put(name, value))
    }
  }
)

/** Flatten: nested structs and maps become top-level fields named by their path. */
const flatten = keyValue(
  "Flatten",
  ConfigDef.make({
    delimiter: ConfigDef.string({ default: ".", documentation: "Delimiter to insert between field names." })
  }),
  (props, side) => {
    const delimiter = props.delimiter ?? "."
    const flatMap = (prefix: string, map: Map<string, unknown>, out: Map<string, unknown>) => {
      for (const [k, v] of map) {
        const name = prefix === "" ? k : `${prefix}${delimiter}${k}`
        if (v instanceof Map) flatMap(name, v as Map<string, unknown>, out)
        else out.set(name, v)
      }
    }
    const flatSchema = (
      prefix: string,
      schema: CS.ConnectSchema,
      optional: boolean,
      out: Array<[string, CS.ConnectSchema]>
    ) => {
      for (const f of schema.fields!) {
        const name = prefix === "" ? f.name : `${prefix}${delimiter}${f.name}`
        if (f.schema.type === "struct") flatSchema(name, f.schema, optional || f.schema.optional, out)
        else out.push([name, optional && !f.schema.optional ? CS.asOptional(f.schema) : f.schema])
      }
    }
    const flatStruct = (prefix: string, s: Struct | null, schema: CS.ConnectSchema, out: Map<string, unknown>) => {
      for (const f of schema.fields!) {
        const name = prefix === "" ? f.name : `${prefix}${delimiter}${f.name}`
        const v = s === null ? null : s.get(f.name)
        if (f.schema.type === "struct") flatStruct(name, v as Struct | null, f.schema, out)
        else out.set(name, v)
      }
    }
    return <R extends AnyRecord>(r: R) => {
      const { schema, value } = operating(r, side)
      if (value === null) return r
      if (schema === null) {
        const out = new Map<string, unknown>()
        flatMap("", requireMap(value, "flattening"), out)
        return withOperating(r, side, null, out)
      }
      const fields: Array<[string, CS.ConnectSchema]> = []
      flatSchema("", schema, false, fields)
      const newSchema = rebuildStruct(schema, fields)
      const values = new Map<string, unknown>()
      flatStruct("", requireStruct(value, "flattening"), schema, values)
      return withOperating(r, side, newSchema, structOf(newSchema, values))
    }
  }
)

/** ValueToKey: the key becomes a struct (or map) of some value fields. */
const valueToKey: TransformationPlugin = single(
  "ValueToKey",
  ConfigDef.make({
    fields: ConfigDef.list({ documentation: "Field names on the record value to extract as the record key." })
  }),
  (props) => {
    const fields = listOf(required(props, "fields"))
    return <R extends AnyRecord>(r: R) => {
      if (r.value === null) return r
      if (r.valueSchema === null) {
        const map = requireMap(r.value, "copying fields from value to key")
        return withOperating(r, "key", null, new Map(fields.map((f) => [f, map.get(f) ?? null])))
      }
      const struct = requireStruct(r.value, "copying fields from value to key")
      const keySchema = CS.struct(
        fields.map((f) => {
          const field = CS.field(r.valueSchema!, f)
          if (!field) throw new DataError({ message: `Field does not exist: ${f}` })
          return [f, field.schema] as const
        })
      )
      return withOperating(r, "key", keySchema, structOf(keySchema, new Map(fields.map((f) => [f, struct.get(f)]))))
    }
  }
)

const CAST_TYPES = new Set<CS.Type>(["int8", "int16", "int32", "int64", "float32", "float64", "boolean", "string"])

const castValue = (value: unknown, type: CS.Type): unknown => {
  if (value === null || value === undefined) return null
  const asNumber = () => {
    if (typeof value === "boolean") return value ? 1 : 0
    if (value instanceof Date) return value.getTime()
    if (value instanceof Logical.BigDecimal) return value.toNumber()
    const n = Number(value)
    if (Number.isNaN(n)) throw new DataError({ message: `Cannot cast ${String(value)} to ${type}` })
    return n
  }
  switch (type) {
    case "int8":
      return (Math.trunc(asNumber()) << 24) >> 24
    case "int16":
      return (Math.trunc(asNumber()) << 16) >> 16
    case "int32":
      return Math.trunc(asNumber()) | 0
    case "int64":
      return typeof value === "bigint" ? value : Math.trunc(asNumber())
    case "float32":
      return Math.fround(asNumber())
    case "float64":
      return asNumber()
    case "boolean":
      return typeof value === "string" ? value.trim().toLowerCase() === "true" : asNumber() !== 0
    default:
      if (value instanceof Logical.BigDecimal) return value.toString()
      if (value instanceof Date) return value.toISOString()
      if (value instanceof Uint8Array) return Buffer.from(value).toString("base64")
      return String(value)
  }
}

/** Cast: casts fields (`spec=a:int32,b:string`) or the whole value (`spec=int64`) to another primitive type. */
const cast = keyValue(
  "Cast",
  ConfigDef.make({
    spec: ConfigDef.list({
      documentation:
        "List of fields and the type to cast them to of the form field1:type,field2:type; or a single type for the whole value."
    })
  }),
  (props, side) => {
    const entries = listOf(required(props, "spec")).map((e) => {
      const [a, b] = e.split(":").map((s) => s.trim())
      const type = (b ?? a)!.toLowerCase() as CS.Type
      if (!CAST_TYPES.has(type)) throw new DataError({ message: `Invalid type found in casting spec: ${b ?? a}` })
      return { field: b === undefined ? null : a!, type }
    })
    const whole = entries.length === 1 && entries[0]!.field === null ? entries[0]!.type : null
    const byField = new Map(entries.filter((e) => e.field !== null).map((e) => [e.field!, e.type]))
    return <R extends AnyRecord>(r: R) => {
      const { schema, value } = operating(r, side)
      if (whole !== null)
        return withOperating(
          r,
          side,
          schema === null ? null : CS.primitive(whole, { optional: schema.optional }),
          castValue(value, whole)
        )
      if (value === null) return r
      if (schema === null) {
        const out = new Map(requireMap(value, "cast"))
        for (const [f, t] of byField) if (out.has(f)) out.set(f, castValue(out.get(f), t))
        return withOperating(r, side, null, out)
      }
      const struct = requireStruct(value, "cast")
      const newSchema = rebuildStruct(
        schema,
        schema.fields!.map((f) => {
          const t = byField.get(f.name)
          return [f.name, t ? CS.primitive(t, { optional: f.schema.optional }) : f.schema] as const
        })
      )
      const values = new Map(
        schema.fields!.map((f) => {
          const t = byField.get(f.name)
          return [f.name, t ? castValue(struct.get(f.name), t) : struct.get(f.name)] as const
        })
      )
      return withOperating(r, side, newSchema, structOf(newSchema, values))
    }
  }
)

/** The field transforms. */
export const plugins: ReadonlyArray<TransformationPlugin> = [
  ...cast,
  ...extractField,
  ...flatten,
  ...hoistField,
  ...insertField,
  ...maskField,
  ...replaceField,
  valueToKey
]
