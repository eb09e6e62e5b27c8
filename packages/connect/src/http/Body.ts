/**
 * Request bodies of the HTTP sink: a record value as text (strings as they are, bytes as UTF-8, structs,
 * maps and arrays as JSON) and as a JSON array element.
 */
import { isStruct, type Struct } from "../data/Struct.js"

const plain = (value: unknown): unknown => {
  if (isStruct(value)) {
    const s = value as Struct
    return Object.fromEntries((s.schema.fields ?? []).map((f) => [f.name, plain(s.get(f.name))]))
  }
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64")
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), plain(v)]))
  if (Array.isArray(value)) return value.map(plain)
  if (typeof value === "bigint") return Number(value)
  if (value instanceof Date) return value.getTime()
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
  return value
}

/** A value as JSON text. */
export const json = (value: unknown): string => JSON.stringify(plain(value)) ?? "null"

/** A value as a request body: strings as they are, bytes decoded as UTF-8, null as `null`, others as JSON. */
export const text = (value: unknown): string =>
  typeof value === "string" ? value : value instanceof Uint8Array ? new TextDecoder().decode(value) : json(value)

const isJsonText = (s: string) => {
  try {
    JSON.parse(s)
    return true
  } catch {
    return false
  }
}

/** A value as an element of a JSON array body: a string holding JSON is embedded, another string quoted. */
export const element = (value: unknown): string => {
  if (typeof value === "string" || value instanceof Uint8Array) {
    const s = text(value)
    return isJsonText(s) ? s : JSON.stringify(s)
  }
  return json(value)
}
