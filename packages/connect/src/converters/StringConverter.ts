/**
 * Kafka's StringConverter: values written as their string form in `converter.encoding` (UTF-8 by default,
 * also `ISO-8859-1`/`latin1` and `UTF-16LE`), read back as optional strings.
 */
import * as CS from "../data/ConnectSchema.js"
import { DataError } from "../data/Struct.js"
import type { Converter, ConverterConfig, HeaderConverter } from "./Converter.js"

const encodingOf = (config: ConverterConfig): BufferEncoding => {
  const name = (config["converter.encoding"] ?? "UTF-8").toUpperCase().replace(/_/g, "-")
  if (name === "UTF-8" || name === "UTF8") return "utf8"
  if (name === "ISO-8859-1" || name === "LATIN1" || name === "US-ASCII") return "latin1"
  if (name === "UTF-16LE") return "utf16le"
  throw new DataError({ message: `Unsupported converter.encoding: ${config["converter.encoding"]}` })
}

/** The string form a StringConverter writes for a value. */
export const stringOf = (value: unknown): string => {
  if (value instanceof Uint8Array) return Buffer.from(value).toString("utf8")
  if (value instanceof Date) return value.toISOString()
  if (value instanceof Map) return JSON.stringify(Object.fromEntries(value))
  if (Array.isArray(value)) return `[${value.map(stringOf).join(", ")}]`
  return String(value)
}

/** Makes a StringConverter (also usable as a header converter). */
export const make = (config: ConverterConfig = {}): Converter & HeaderConverter => {
  const encoding = encodingOf(config)
  const to = (value: unknown) =>
    value === null || value === undefined ? null : new Uint8Array(Buffer.from(stringOf(value), encoding))
  const from = (bytes: Uint8Array | null) => ({
    schema: CS.OPTIONAL_STRING,
    value: bytes === null ? null : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(encoding)
  })
  return {
    fromConnectData: (_topic, _schema, value) => to(value),
    toConnectData: (_topic, bytes) => from(bytes),
    fromConnectHeader: (_topic, _key, _schema, value) => to(value),
    toConnectHeader: (_topic, _key, bytes) => from(bytes)
  }
}
