/**
 * Kafka's SimpleHeaderConverter (the default header converter): a header value is written as its string
 * form (containers in Connect's JSON-like notation, bytes in base64) and read back with its schema inferred:
 * booleans, the smallest integer type that fits, float64, arrays and maps of those, else a string.
 */
import * as CS from "../data/ConnectSchema.js"
import * as Logical from "../data/Logical.js"
import { isStruct } from "../data/Struct.js"
import type { HeaderConverter, SchemaAndValue } from "./Converter.js"
import * as Json from "./JsonTree.js"

const quote = (s: string) => Json.stringify(s)

/** The string form of a header value (Kafka's `Values.convertToString`). */
export const toHeaderString = (schema: CS.ConnectSchema | null, value: unknown, nested = false): string => {
  if (value === null || value === undefined) return "null"
  if (typeof value === "string") return nested ? quote(value) : value
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64")
  if (value instanceof Logical.BigDecimal) return value.toString()
  if (value instanceof Date) {
    if (schema?.name === Logical.DATE_NAME) return value.toISOString().slice(0, 10)
    if (schema?.name === Logical.TIME_NAME) return `${value.toISOString().slice(11, 23)}Z`
    return value.toISOString()
  }
  if (Array.isArray(value))
    return `[${value.map((v) => toHeaderString(schema?.valueSchema ?? null, v, true)).join(",")}]`
  if (value instanceof Map)
    return `{${[...value.entries()].map(([k, v]) => `${toHeaderString(null, k, true)}:${toHeaderString(schema?.valueSchema ?? null, v, true)}`).join(",")}}`
  if (isStruct(value))
    return `{${value.schema.fields!.map((f) => `${quote(f.name)}:${toHeaderString(f.schema, value.get(f.name), true)}`).join(",")}}`
  return String(value)
}

const intSchema = (n: number | bigint): CS.ConnectSchema => {
  const v = BigInt(n)
  if (v >= -128n && v < 128n) return CS.int8()
  if (v >= -32768n && v < 32768n) return CS.int16()
  if (v >= -2147483648n && v < 2147483648n) return CS.int32()
  return CS.int64()
}

const infer = (node: Json.JsonNode): SchemaAndValue => {
  if (node === null) return { schema: null, value: null }
  if (typeof node === "boolean") return { schema: CS.boolean(), value: node }
  if (typeof node === "string") return { schema: CS.string(), value: node }
  if (Json.isNumber(node)) {
    if (Json.isIntegral(node)) {
      const v = Json.toInteger(node)
      return { schema: intSchema(v), value: v }
    }
    return { schema: CS.float64(), value: Number(node.text) }
  }
  if (Array.isArray(node)) {
    const items = (node as Array<Json.JsonNode>).map(infer)
    const first = items[0]?.schema
    const same = first && items.every((i) => i.schema?.type === first.type)
    return {
      schema: CS.array(same ? CS.asOptional(first) : CS.string({ optional: true })),
      value: items.map((i) => i.value)
    }
  }
  const entries = (node as Json.JsonObject).entries.map(([k, v]) => [k, infer(v)] as const)
  const first = entries[0]?.[1].schema
  const same = first && entries.every(([, i]) => i.schema?.type === first.type)
  return {
    schema: CS.map(CS.string(), same ? CS.asOptional(first) : CS.string({ optional: true })),
    value: new Map(entries.map(([k, i]) => [k, i.value]))
  }
}

/** Parses a header string into a schema and value (Kafka's `Values.parseString`, for the common forms). */
export const parseHeaderString = (text: string): SchemaAndValue => {
  if (text === "") return { schema: CS.string(), value: "" }
  const trimmed = text.trim()
  if (trimmed === "true" || trimmed === "false") return { schema: CS.boolean(), value: trimmed === "true" }
  if (/^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(trimmed) || /^[[{]/.test(trimmed)) {
    try {
      return infer(Json.parse(trimmed))
    } catch {
      // not a number, array or map: a plain string
    }
  }
  return { schema: CS.string(), value: text }
}

/** Makes a SimpleHeaderConverter. */
export const make = (): HeaderConverter => ({
  fromConnectHeader: (_topic, _key, schema, value) =>
    value === null || value === undefined ? null : new Uint8Array(Buffer.from(toHeaderString(schema, value), "utf8")),
  toConnectHeader: (_topic, _key, bytes) =>
    bytes === null ? { schema: null, value: null } : parseHeaderString(Buffer.from(bytes).toString("utf8"))
})
