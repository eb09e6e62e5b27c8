/**
 * Kafka's JsonConverter: with `schemas.enable` (default true) a message is `{"schema":...,"payload":...}`,
 * without it the bare JSON payload (structs become objects). Bytes and Decimals (`decimal.format` BASE64,
 * the default, or NUMERIC) follow Kafka's encoding; the printed JSON is byte-for-byte Kafka's.
 */
import * as CS from "../data/ConnectSchema.js"
import * as Logical from "../data/Logical.js"
import { DataError, Struct } from "../data/Struct.js"
import { booleanConfig, type Converter, type ConverterConfig, NULL, type SchemaAndValue } from "./Converter.js"
import * as Json from "./JsonTree.js"

/** JsonConverter settings with Kafka's names and defaults. */
export interface JsonConverterOptions {
  readonly "schemas.enable": boolean
  readonly "decimal.format": "BASE64" | "NUMERIC"
  readonly "replace.null.with.default": boolean
}

/** Kafka's defaults. */
export const defaults: JsonConverterOptions = {
  "schemas.enable": true,
  "decimal.format": "BASE64",
  "replace.null.with.default": true
}

/** Reads the settings from string configs. */
export const options = (config: ConverterConfig): JsonConverterOptions => {
  const format = (config["decimal.format"] ?? "BASE64").toUpperCase()
  if (format !== "BASE64" && format !== "NUMERIC")
    throw new DataError({ message: `Invalid value ${config["decimal.format"]} for configuration decimal.format` })
  return {
    "schemas.enable": booleanConfig(config, "schemas.enable", true),
    "decimal.format": format,
    "replace.null.with.default": booleanConfig(config, "replace.null.with.default", true)
  }
}

const toBase64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64")
const fromBase64 = (text: string) => new Uint8Array(Buffer.from(text, "base64"))
const utf8 = new TextEncoder()
const utf8Decoder = new TextDecoder("utf-8", { fatal: true })

/** Kafka's JSON names of the float types ("float", "double"); the other types keep their names. */
const JSON_TYPE_NAMES: Partial<Record<CS.Type, string>> = { float32: "float", float64: "double" }
const FROM_JSON_TYPE_NAMES: Record<string, CS.Type> = { float: "float32", double: "float64" }

/** The JSON of a Connect schema, with Kafka's field order. */
export const schemaToJson = (schema: CS.ConnectSchema, opts: JsonConverterOptions = defaults): Json.JsonObject => {
  const entries: Array<[string, Json.JsonNode]> = [["type", JSON_TYPE_NAMES[schema.type] ?? schema.type]]
  if (schema.type === "struct")
    entries.push([
      "fields",
      schema.fields!.map((f) => Json.obj([...schemaToJson(f.schema, opts).entries, ["field", f.name]]))
    ])
  else if (schema.type === "array") entries.push(["items", schemaToJson(schema.valueSchema!, opts)])
  else if (schema.type === "map")
    entries.push(["keys", schemaToJson(schema.keySchema!, opts)], ["values", schemaToJson(schema.valueSchema!, opts)])
  entries.push(["optional", schema.optional])
  if (schema.name !== undefined) entries.push(["name", schema.name])
  if (schema.version !== undefined) entries.push(["version", Json.num(String(schema.version))])
  if (schema.doc !== undefined) entries.push(["doc", schema.doc])
  if (schema.parameters !== undefined) entries.push(["parameters", Json.obj(Object.entries(schema.parameters))])
  if (schema.defaultValue !== undefined && schema.defaultValue !== null)
    entries.push(["default", valueToJson(schema, schema.defaultValue, opts)])
  return Json.obj(entries)
}

const intText = (value: unknown, type: string): Json.JsonNumber => {
  if (typeof value === "bigint" || (typeof value === "number" && Number.isInteger(value)))
    return Json.num(String(value))
  throw new DataError({ message: `Invalid type for ${type}: ${typeof value}` })
}

const logicalToJson = (schema: CS.ConnectSchema, value: unknown, opts: JsonConverterOptions): Json.JsonNode => {
  switch (schema.name) {
    case Logical.DECIMAL_NAME: {
      if (!(value instanceof Logical.BigDecimal))
        throw new DataError({ message: "Invalid type for Decimal, expected BigDecimal" })
      if (opts["decimal.format"] === "NUMERIC") return Json.num(value.toString())
      return toBase64(Logical.decimalToBytes(schema, value))
    }
    case Logical.DATE_NAME:
      return Json.num(String(value instanceof Date ? Logical.dateToDays(value) : intText(value, "Date").text))
    case Logical.TIME_NAME:
      return Json.num(String(value instanceof Date ? Logical.timeToMillis(value) : intText(value, "Time").text))
    default:
      return Json.num(String(value instanceof Date ? value.getTime() : intText(value, "Timestamp").text))
  }
}

const schemalessToJson = (value: unknown, opts: JsonConverterOptions): Json.JsonNode => {
  if (value === null || value === undefined) return null
  if (typeof value === "boolean" || typeof value === "string") return value
  if (typeof value === "bigint") return Json.num(String(value))
  if (typeof value === "number") return Json.num(Number.isInteger(value) ? String(value) : Json.javaDouble(value))
  if (value instanceof Uint8Array) return toBase64(value)
  if (value instanceof Logical.BigDecimal) return Json.num(value.toString())
  if (Array.isArray(value)) return value.map((v) => schemalessToJson(v, opts))
  if (value instanceof Map) {
    const entries = [...value.entries()]
    if (entries.every(([k]) => typeof k === "string"))
      return Json.obj(entries.map(([k, v]) => [k as string, schemalessToJson(v, opts)]))
    return entries.map(([k, v]) => [schemalessToJson(k, opts), schemalessToJson(v, opts)])
  }
  if (value instanceof Struct) throw new DataError({ message: "Conversion error: Struct without a schema" })
  if (typeof value === "object")
    return Json.obj(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, schemalessToJson(v, opts)]))
  throw new DataError({ message: `Couldn't convert ${String(value)} to JSON.` })
}

/** The JSON of a value of `schema` (schemaless when `schema` is null). */
export const valueToJson = (
  schema: CS.ConnectSchema | null,
  value: unknown,
  opts: JsonConverterOptions
): Json.JsonNode => {
  if (value === null || value === undefined) {
    if (!schema) return null
    if (schema.defaultValue !== undefined && schema.defaultValue !== null && opts["replace.null.with.default"])
      return valueToJson(schema, schema.defaultValue, opts)
    if (schema.optional) return null
    throw new DataError({ message: "Conversion error: null value for field that is required and has no default value" })
  }
  if (!schema) return schemalessToJson(value, opts)
  if (Logical.isLogical(schema)) return logicalToJson(schema, value, opts)
  switch (schema.type) {
    case "int8":
    case "int16":
    case "int32":
    case "int64":
      return intText(value, schema.type)
    case "float32":
      if (typeof value !== "number") throw new DataError({ message: "Invalid type for float32" })
      return Json.num(Json.javaFloat(value))
    case "float64":
      if (typeof value !== "number") throw new DataError({ message: "Invalid type for float64" })
      return Json.num(Json.javaDouble(value))
    case "boolean":
      if (typeof value !== "boolean") throw new DataError({ message: "Invalid type for boolean" })
      return value
    case "string":
      if (typeof value !== "string") throw new DataError({ message: "Invalid type for string" })
      return value
    case "bytes":
      if (!(value instanceof Uint8Array)) throw new DataError({ message: "Invalid type for bytes" })
      return toBase64(value)
    case "array":
      if (!Array.isArray(value)) throw new DataError({ message: "Invalid type for array" })
      return value.map((v) => valueToJson(schema.valueSchema!, v, opts))
    case "map": {
      const entries: Array<[unknown, unknown]> =
        value instanceof Map ? [...value.entries()] : Object.entries(value as Record<string, unknown>)
      if (schema.keySchema!.type === "string")
        return Json.obj(entries.map(([k, v]) => [String(k), valueToJson(schema.valueSchema!, v, opts)]))
      return entries.map(([k, v]) => [
        valueToJson(schema.keySchema!, k, opts),
        valueToJson(schema.valueSchema!, v, opts)
      ])
    }
    case "struct": {
      if (!(value instanceof Struct)) throw new DataError({ message: "Invalid type for struct" })
      if (!CS.equals(value.schema, schema)) throw new DataError({ message: "Mismatching schema." })
      return Json.obj(schema.fields!.map((f) => [f.name, valueToJson(f.schema, value.get(f.name), opts)]))
    }
  }
}

const fail = (message: string): never => {
  throw new DataError({ message })
}

const TYPES = new Set<string>([
  "int8",
  "int16",
  "int32",
  "int64",
  "float32",
  "float64",
  "boolean",
  "string",
  "bytes",
  "array",
  "map",
  "struct"
])

/** The Connect schema of a JSON schema object (null for a JSON null). */
export const schemaFromJson = (node: Json.JsonNode, opts: JsonConverterOptions = defaults): CS.ConnectSchema | null => {
  if (node === null) return null
  if (!Json.isObject(node)) return fail("Schema must be an object")
  const jsonType = Json.get(node, "type")
  if (typeof jsonType !== "string") return fail("Schema must contain 'type' field")
  const type = FROM_JSON_TYPE_NAMES[jsonType] ?? jsonType
  if (!TYPES.has(type)) return fail(`Unknown schema type: ${jsonType}`)
  const base: Record<string, unknown> = { type, optional: Json.get(node, "optional") === true }
  if (type === "struct") {
    const fields = Json.get(node, "fields")
    if (!Array.isArray(fields)) return fail('Struct schema\'s "fields" argument is not an array.')
    base.fields = (fields as Array<Json.JsonNode>).map((f, index) => {
      const name = Json.isObject(f) ? Json.get(f, "field") : undefined
      if (typeof name !== "string") return fail("Struct schema's field name not specified properly")
      return { name, index, schema: schemaFromJson(f, opts)! }
    })
  } else if (type === "array") {
    const items = Json.get(node, "items")
    if (items === undefined || items === null) return fail("Array schema did not specify the element type")
    base.valueSchema = schemaFromJson(items, opts)
  } else if (type === "map") {
    const keys = Json.get(node, "keys")
    const values = Json.get(node, "values")
    if (!keys || !values) return fail("Map schema did not specify the key or value type")
    base.keySchema = schemaFromJson(keys, opts)
    base.valueSchema = schemaFromJson(values, opts)
  }
  const name = Json.get(node, "name")
  if (typeof name === "string") base.name = name
  const version = Json.get(node, "version")
  if (version !== undefined && version !== null && Json.isNumber(version)) base.version = Number(version.text)
  const doc = Json.get(node, "doc")
  if (typeof doc === "string") base.doc = doc
  const params = Json.get(node, "parameters")
  if (params !== undefined && params !== null) {
    if (!Json.isObject(params)) return fail("Schema parameters must be an object")
    base.parameters = Object.fromEntries(
      params.entries.map(([k, v]) => [k, typeof v === "string" ? v : Json.stringify(v)])
    )
  }
  const schema = base as unknown as CS.ConnectSchema
  const dflt = Json.get(node, "default")
  if (dflt !== undefined && dflt !== null) return { ...schema, defaultValue: valueFromJson(schema, dflt, opts) }
  return schema
}

const schemalessFromJson = (node: Json.JsonNode): unknown => {
  if (node === null || typeof node === "boolean" || typeof node === "string") return node
  if (Array.isArray(node)) return node.map(schemalessFromJson)
  if (Json.isNumber(node)) return Json.isIntegral(node) ? Json.toInteger(node) : Number(node.text)
  return new Map((node as Json.JsonObject).entries.map(([k, v]) => [k, schemalessFromJson(v)]))
}

const expectNumber = (node: Json.JsonNode, type: string): Json.JsonNumber =>
  Json.isNumber(node) ? node : fail(`Invalid JSON for ${type}`)

const logicalFromJson = (schema: CS.ConnectSchema, node: Json.JsonNode): unknown => {
  switch (schema.name) {
    case Logical.DECIMAL_NAME: {
      const scale = Logical.scaleOf(schema)
      if (typeof node === "string") return Logical.decimalFromBytes(schema, fromBase64(node))
      if (Json.isNumber(node)) return Logical.BigDecimal.parse(node.text).withScale(scale)
      return fail("Invalid type for Decimal, underlying representation should be numeric or bytes")
    }
    case Logical.DATE_NAME:
      return Logical.dateFromDays(Number(expectNumber(node, "Date").text))
    case Logical.TIME_NAME:
      return Logical.timeFromMillis(Number(expectNumber(node, "Time").text))
    default:
      return new Date(Number(expectNumber(node, "Timestamp").text))
  }
}

/** The Connect value of JSON for `schema` (schemaless inference when `schema` is null). */
export const valueFromJson = (
  schema: CS.ConnectSchema | null,
  node: Json.JsonNode,
  opts: JsonConverterOptions
): unknown => {
  if (!schema) return schemalessFromJson(node)
  if (node === null) {
    if (schema.defaultValue !== undefined && opts["replace.null.with.default"]) return schema.defaultValue
    if (schema.optional) return null
    return fail(`Invalid null value for required ${schema.type.toUpperCase()} field`)
  }
  if (Logical.isLogical(schema)) return logicalFromJson(schema, node)
  switch (schema.type) {
    case "int8":
    case "int16":
    case "int32":
    case "int64":
      return Json.toInteger(expectNumber(node, schema.type))
    case "float32":
      return Math.fround(Number(expectNumber(node, schema.type).text))
    case "float64":
      return Number(expectNumber(node, schema.type).text)
    case "boolean":
      return typeof node === "boolean" ? node : fail("Invalid JSON for boolean")
    case "string":
      return typeof node === "string" ? node : fail("Invalid JSON for string")
    case "bytes":
      return typeof node === "string" ? fromBase64(node) : fail("Invalid JSON for bytes")
    case "array":
      if (!Array.isArray(node)) return fail("Invalid JSON for array")
      return (node as Array<Json.JsonNode>).map((v) => valueFromJson(schema.valueSchema!, v, opts))
    case "map": {
      if (schema.keySchema!.type === "string") {
        if (!Json.isObject(node)) return fail("Maps with string fields should be encoded as JSON objects")
        return new Map(node.entries.map(([k, v]) => [k, valueFromJson(schema.valueSchema!, v, opts)]))
      }
      if (!Array.isArray(node)) return fail("Maps with non-string fields should be encoded as JSON array of tuples")
      return new Map(
        (node as Array<Json.JsonNode>).map((pair) => {
          if (!Array.isArray(pair) || pair.length !== 2) return fail("Found invalid map entry instead of array tuple")
          return [valueFromJson(schema.keySchema!, pair[0]!, opts), valueFromJson(schema.valueSchema!, pair[1]!, opts)]
        })
      )
    }
    case "struct": {
      if (!Json.isObject(node)) return fail("Structs should be encoded as JSON objects")
      const struct = new Struct(schema)
      for (const f of schema.fields!) struct.put(f.name, valueFromJson(f.schema, Json.get(node, f.name) ?? null, opts))
      return struct
    }
  }
}

/** Makes a JsonConverter from its string configs. */
export const make = (config: ConverterConfig = {}): Converter => {
  const opts = options(config)
  return {
    fromConnectData: (_topic, schema, value) => {
      if (schema === null && (value === null || value === undefined)) return null
      const payload = valueToJson(schema, value, opts)
      const node = opts["schemas.enable"]
        ? Json.obj([
            ["schema", schema ? schemaToJson(schema, opts) : null],
            ["payload", payload]
          ])
        : payload
      return utf8.encode(Json.stringify(node))
    },
    toConnectData: (_topic, bytes): SchemaAndValue => {
      if (bytes === null) return NULL
      let node: Json.JsonNode
      try {
        node = Json.parse(utf8Decoder.decode(bytes))
      } catch (e) {
        return fail(`Converting byte[] to Kafka Connect data failed due to serialization error: ${String(e)}`)
      }
      if (opts["schemas.enable"]) {
        if (
          !Json.isObject(node) ||
          node.entries.length !== 2 ||
          Json.get(node, "schema") === undefined ||
          Json.get(node, "payload") === undefined
        )
          return fail(
            'JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.'
          )
        const schema = schemaFromJson(Json.get(node, "schema")!, opts)
        return { schema, value: valueFromJson(schema, Json.get(node, "payload")!, opts) }
      }
      return { schema: null, value: valueFromJson(null, node, opts) }
    }
  }
}
