/**
 * What the transforms share: reading and replacing a record's key or value (the `$Key`/`$Value`
 * variants), schemaless values as Maps, struct rebuilding, and the plugin constructor.
 */

import { type AnyRecord, withFields } from "../data/ConnectRecord.js"
import * as CS from "../data/ConnectSchema.js"
import { DataError, Struct } from "../data/Struct.js"
import type { ConfigDef } from "../plugin/ConfigDef.js"
import type { Props } from "../plugin/Connector.js"
import type { Transformation, TransformationPlugin } from "../plugin/Transformation.js"

/** Which part of the record a transform works on. */
export type Side = "key" | "value"

/** The package of Kafka's transforms. */
export const PACKAGE = "org.apache.kafka.connect.transforms"

/** A record's key or value with its schema. */
export const operating = (r: AnyRecord, side: Side) =>
  side === "key" ? { schema: r.keySchema, value: r.key } : { schema: r.valueSchema, value: r.value }

/** The record with its key or value replaced. */
export const withOperating = <R extends AnyRecord>(
  r: R,
  side: Side,
  schema: CS.ConnectSchema | null,
  value: unknown
): R => withFields(r, side === "key" ? { keySchema: schema, key: value } : { valueSchema: schema, value })

/** A schemaless value as a Map (from a Map or a plain object); fails otherwise. */
export const requireMap = (value: unknown, purpose: string): Map<string, unknown> => {
  if (value instanceof Map) return value as Map<string, unknown>
  if (
    typeof value === "object" &&
    value !== null &&
    !(value instanceof Struct) &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array)
  )
    return new Map(Object.entries(value))
  throw new DataError({
    message: `Only Map objects supported in absence of schema for [${purpose}], found: ${typeof value}`
  })
}

/** A schema'd value as a Struct; fails otherwise. */
export const requireStruct = (value: unknown, purpose: string): Struct => {
  if (value instanceof Struct) return value
  throw new DataError({ message: `Only Struct objects supported for [${purpose}], found: ${typeof value}` })
}

/** A struct of `schema` with the given field values. */
export const structOf = (schema: CS.ConnectSchema, values: ReadonlyMap<string, unknown>): Struct => {
  const s = new Struct(schema)
  for (const f of schema.fields!) if (values.has(f.name)) s.put(f.name, values.get(f.name))
  return s
}

/** A copy of a struct schema with other fields (keeping name, version, doc, optional). */
export const rebuildStruct = (schema: CS.ConnectSchema, fields: ReadonlyArray<readonly [string, CS.ConnectSchema]>) =>
  CS.struct(fields, {
    optional: schema.optional,
    ...(schema.name !== undefined ? { name: schema.name } : {}),
    ...(schema.version !== undefined ? { version: schema.version } : {}),
    ...(schema.doc !== undefined ? { doc: schema.doc } : {})
  })

/** The comma-separated list of a config. */
export const listOf = (v: string | undefined): Array<string> =>
  (v ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")

/** A required config value. */
export const required = (props: Props, key: string): string => {
  const v = props[key]
  if (v === undefined || v.trim() === "")
    throw new DataError({ message: `Missing required configuration "${key}" which has no default value.` })
  return v
}

/** Builds `$Key` and `$Value` plugins of a transform. */
export const keyValue = (
  simpleName: string,
  config: ConfigDef,
  make: (props: Props, side: Side) => Transformation
): ReadonlyArray<TransformationPlugin> =>
  (["Key", "Value"] as const).map((variant) => ({
    _tag: "transformation",
    className: `${PACKAGE}.${simpleName}$${variant}`,
    version: "0.1.0",
    config,
    make: (props) => make(props, variant === "Key" ? "key" : "value")
  }))

/** A transform plugin without variants. */
export const single = (
  simpleName: string,
  config: ConfigDef,
  make: (props: Props) => Transformation
): TransformationPlugin => ({
  _tag: "transformation",
  className: `${PACKAGE}.${simpleName}`,
  version: "0.1.0",
  config,
  make
})
