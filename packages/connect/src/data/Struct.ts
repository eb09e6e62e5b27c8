/**
 * Connect's `Struct`: a value of a STRUCT schema, its fields by name, validated against the schema, and
 * the value checker the converters and transforms share.
 */
import { Schema } from "effect"
import * as CS from "./ConnectSchema.js"
import * as Logical from "./Logical.js"

/** A value that does not match its schema, or a conversion that cannot be made (Kafka's DataException). */
export class DataError extends Schema.TaggedError<DataError>()("DataError", { message: Schema.String }) {}

/** A struct value: field values of a STRUCT schema. */
export class Struct {
  private readonly values: Array<unknown>

  constructor(
    readonly schema: CS.ConnectSchema,
    values?: Array<unknown>
  ) {
    if (schema.type !== "struct") throw new DataError({ message: "Not a struct schema: " + schema.type })
    this.values = values ?? new Array(schema.fields!.length).fill(null)
  }

  /**
   * A struct from its field values in schema order, taken as they are (not validated, not copied): for
   * connectors whose decoders already produce the schema's types, on their hot paths.
   */
  static unsafeMake(schema: CS.ConnectSchema, values: Array<unknown>): Struct {
    return new Struct(schema, values)
  }

  /** Sets a field (checked against its schema); returns this struct for chaining. */
  put(name: string, value: unknown): this {
    const f = this.lookup(name)
    validateValue(f.schema, value, name)
    this.values[f.index] = value ?? null
    return this
  }

  /** A field's value, or its schema default when unset. */
  get(name: string): unknown {
    const f = this.lookup(name)
    const v = this.values[f.index]
    return v === null || v === undefined ? (f.schema.defaultValue ?? null) : v
  }

  /** A field's value without applying the default. */
  getWithoutDefault(name: string): unknown {
    return this.values[this.lookup(name).index] ?? null
  }

  /** Fails unless every required field has a value. */
  validate(): void {
    for (const f of this.schema.fields!) validateValue(f.schema, this.get(f.name), f.name)
  }

  private lookup(name: string): CS.Field {
    const f = CS.field(this.schema, name)
    if (!f) throw new DataError({ message: `${name} is not a valid field name` })
    return f
  }
}

/** True when `value` is a Struct. */
export const isStruct = (value: unknown): value is Struct => value instanceof Struct

const isInt = (v: unknown, bits: number): boolean => {
  if (typeof v === "bigint") return bits === 64
  if (typeof v !== "number" || !Number.isInteger(v)) return false
  if (bits === 64) return true
  const bound = 2 ** (bits - 1)
  return v >= -bound && v < bound
}

/** Checks a value against a schema (Kafka's `ConnectSchema.validateValue`); throws DataError. */
export const validateValue = (schema: CS.ConnectSchema, value: unknown, where = "value"): void => {
  if (value === null || value === undefined) {
    if (!schema.optional && schema.defaultValue === undefined)
      throw new DataError({ message: `Invalid value: null used for required field: "${where}", schema type: ${schema.type}` })
    return
  }
  const fail = () => {
    throw new DataError({ message: `Invalid Java object for schema with type ${schema.type.toUpperCase()}: ${typeof value} for field: "${where}"` })
  }
  if (Logical.isLogical(schema)) {
    const ok = schema.name === Logical.DECIMAL_NAME ? value instanceof Logical.BigDecimal : value instanceof Date
    if (!ok) fail()
    return
  }
  switch (schema.type) {
    case "int8":
      return void (isInt(value, 8) || fail())
    case "int16":
      return void (isInt(value, 16) || fail())
    case "int32":
      return void (isInt(value, 32) || fail())
    case "int64":
      return void (isInt(value, 64) || fail())
    case "float32":
    case "float64":
      return void (typeof value === "number" || fail())
    case "boolean":
      return void (typeof value === "boolean" || fail())
    case "string":
      return void (typeof value === "string" || fail())
    case "bytes":
      return void (value instanceof Uint8Array || fail())
    case "array":
      if (!Array.isArray(value)) fail()
      for (const v of value as Array<unknown>) validateValue(schema.valueSchema!, v, where)
      return
    case "map":
      if (!(value instanceof Map)) fail()
      for (const [k, v] of value as Map<unknown, unknown>) {
        validateValue(schema.keySchema!, k, where)
        validateValue(schema.valueSchema!, v, where)
      }
      return
    case "struct":
      if (!(value instanceof Struct)) fail()
      if (!CS.equals((value as Struct).schema, schema)) throw new DataError({ message: "Struct schemas do not match." })
      ;(value as Struct).validate()
  }
}
