/**
 * Connect's schema model: the primitive and container types of Kafka Connect's data API (INT8..INT64,
 * FLOAT32/64, BOOLEAN, STRING, BYTES, ARRAY, MAP, STRUCT), each optional or not, with a default, name,
 * version, doc and parameters; logical types (Decimal, Date, Time, Timestamp) are named schemas over them.
 */

/** The physical types of Connect's data API, spelled as Kafka's JsonConverter writes them. */
export type Type =
  | "int8"
  | "int16"
  | "int32"
  | "int64"
  | "float32"
  | "float64"
  | "boolean"
  | "string"
  | "bytes"
  | "array"
  | "map"
  | "struct"

/** One field of a struct schema. */
export interface Field {
  readonly name: string
  readonly index: number
  readonly schema: ConnectSchema
}

/** A Connect schema: immutable plain data. */
export interface ConnectSchema {
  readonly type: Type
  readonly optional: boolean
  readonly defaultValue?: unknown
  readonly name?: string
  readonly version?: number
  readonly doc?: string
  readonly parameters?: Readonly<Record<string, string>>
  /** Fields of a struct, in order. */
  readonly fields?: ReadonlyArray<Field>
  /** Element schema of an array, value schema of a map. */
  readonly valueSchema?: ConnectSchema
  /** Key schema of a map. */
  readonly keySchema?: ConnectSchema
}

/** Options shared by every schema constructor. */
export interface SchemaOptions {
  readonly optional?: boolean
  readonly defaultValue?: unknown
  readonly name?: string
  readonly version?: number
  readonly doc?: string
  readonly parameters?: Readonly<Record<string, string>>
}

const withOptions = (base: { type: Type } & Partial<ConnectSchema>, options: SchemaOptions = {}): ConnectSchema => {
  const schema: { -readonly [K in keyof ConnectSchema]: ConnectSchema[K] } = {
    ...base,
    optional: options.optional ?? false
  }
  if (options.defaultValue !== undefined) schema.defaultValue = options.defaultValue
  if (options.name !== undefined) schema.name = options.name
  if (options.version !== undefined) schema.version = options.version
  if (options.doc !== undefined) schema.doc = options.doc
  if (options.parameters !== undefined) schema.parameters = options.parameters
  return schema
}

/** A primitive schema of the given type. */
export const primitive = (type: Type, options?: SchemaOptions): ConnectSchema => withOptions({ type }, options)

/** INT8 schema. */
export const int8 = (options?: SchemaOptions) => primitive("int8", options)
/** INT16 schema. */
export const int16 = (options?: SchemaOptions) => primitive("int16", options)
/** INT32 schema. */
export const int32 = (options?: SchemaOptions) => primitive("int32", options)
/** INT64 schema (values are numbers when safe, else bigints). */
export const int64 = (options?: SchemaOptions) => primitive("int64", options)
/** FLOAT32 schema. */
export const float32 = (options?: SchemaOptions) => primitive("float32", options)
/** FLOAT64 schema. */
export const float64 = (options?: SchemaOptions) => primitive("float64", options)
/** BOOLEAN schema. */
export const boolean = (options?: SchemaOptions) => primitive("boolean", options)
/** STRING schema. */
export const string = (options?: SchemaOptions) => primitive("string", options)
/** BYTES schema (values are Uint8Array). */
export const bytes = (options?: SchemaOptions) => primitive("bytes", options)

/** ARRAY schema of the given element schema. */
export const array = (valueSchema: ConnectSchema, options?: SchemaOptions): ConnectSchema =>
  withOptions({ type: "array", valueSchema }, options)

/** MAP schema from key to value schema (values are JS Maps). */
export const map = (keySchema: ConnectSchema, valueSchema: ConnectSchema, options?: SchemaOptions): ConnectSchema =>
  withOptions({ type: "map", keySchema, valueSchema }, options)

/** STRUCT schema with the given fields, in order. */
export const struct = (
  fields: ReadonlyArray<readonly [string, ConnectSchema]>,
  options?: SchemaOptions
): ConnectSchema =>
  withOptions({ type: "struct", fields: fields.map(([name, schema], index) => ({ name, index, schema })) }, options)

/** The same schema, optional. */
export const asOptional = (schema: ConnectSchema): ConnectSchema => ({ ...schema, optional: true })

/** A copy of `schema` with some attributes replaced (undefined removes the attribute). */
export const withAttributes = (schema: ConnectSchema, attrs: Partial<ConnectSchema>): ConnectSchema => {
  const out: Record<string, unknown> = { ...schema, ...attrs }
  for (const key of Object.keys(out)) if (out[key] === undefined) delete out[key]
  return out as unknown as ConnectSchema
}

/** The field of a struct schema named `name`. */
export const field = (schema: ConnectSchema, name: string): Field | undefined =>
  schema.fields?.find((f) => f.name === name)

/** True for the non-container types. */
export const isPrimitive = (type: Type): boolean => type !== "array" && type !== "map" && type !== "struct"

/** Structural equality of two schemas (as Kafka's ConnectSchema.equals). */
export const equals = (a: ConnectSchema | undefined | null, b: ConnectSchema | undefined | null): boolean => {
  if (a === b) return true
  if (!a || !b) return false
  if (
    a.type !== b.type ||
    a.optional !== b.optional ||
    a.name !== b.name ||
    a.version !== b.version ||
    a.doc !== b.doc ||
    JSON.stringify(a.parameters ?? null) !== JSON.stringify(b.parameters ?? null)
  )
    return false
  if (!equals(a.valueSchema, b.valueSchema) || !equals(a.keySchema, b.keySchema)) return false
  const af = a.fields ?? []
  const bf = b.fields ?? []
  return af.length === bf.length && af.every((f, i) => f.name === bf[i]!.name && equals(f.schema, bf[i]!.schema))
}

/** Optional schemas of every primitive type, as Kafka's `Schema.OPTIONAL_*_SCHEMA`. */
export const OPTIONAL_STRING = string({ optional: true })

/** Mandatory string, as Kafka's `Schema.STRING_SCHEMA`. */
export const STRING = string()
