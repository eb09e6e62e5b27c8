/**
 * Kafka's number converters (Short, Integer, Long, Float, Double) and BooleanConverter: each value is the
 * big-endian bytes of Kafka's serializer for that type (2, 4, 8, 4, 8 and 1 bytes); null stays null.
 */
import * as CS from "../data/ConnectSchema.js"
import { DataError } from "../data/Struct.js"
import type { Converter, HeaderConverter } from "./Converter.js"

/** The number types with a converter. */
export type NumberType = "int16" | "int32" | "int64" | "float32" | "float64" | "boolean"

const SIZE: Record<NumberType, number> = { int16: 2, int32: 4, int64: 8, float32: 4, float64: 8, boolean: 1 }

const write = (type: NumberType, value: unknown): Uint8Array => {
  const out = new Uint8Array(SIZE[type])
  const view = new DataView(out.buffer)
  const bad = () => new DataError({ message: `Invalid value for ${type} converter: ${String(value)}` })
  if (type === "boolean") {
    if (typeof value !== "boolean") throw bad()
    out[0] = value ? 1 : 0
    return out
  }
  if (type === "int64") {
    if (typeof value !== "bigint" && !(typeof value === "number" && Number.isInteger(value))) throw bad()
    view.setBigInt64(0, BigInt(value))
    return out
  }
  if (typeof value !== "number") throw bad()
  if (type === "int16") view.setInt16(0, value)
  else if (type === "int32") view.setInt32(0, value)
  else if (type === "float32") view.setFloat32(0, value)
  else view.setFloat64(0, value)
  return out
}

const read = (type: NumberType, bytes: Uint8Array): unknown => {
  if (bytes.length !== SIZE[type])
    throw new DataError({ message: `Size of data received by ${type} deserializer is not ${SIZE[type]}` })
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  switch (type) {
    case "boolean":
      return bytes[0] !== 0
    case "int16":
      return view.getInt16(0)
    case "int32":
      return view.getInt32(0)
    case "int64": {
      const v = view.getBigInt64(0)
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v
    }
    case "float32":
      return view.getFloat32(0)
    case "float64":
      return view.getFloat64(0)
  }
}

/** Makes the converter of one number type (also usable as a header converter). */
export const make = (type: NumberType): Converter & HeaderConverter => {
  const schema = CS.primitive(type, { optional: true })
  const to = (s: CS.ConnectSchema | null, value: unknown) => {
    if (s !== null && s.type !== type)
      throw new DataError({ message: `Invalid schema type ${s.type} for ${type} converter` })
    return value === null || value === undefined ? null : write(type, value)
  }
  const from = (bytes: Uint8Array | null) => ({ schema, value: bytes === null ? null : read(type, bytes) })
  return {
    fromConnectData: (_topic, s, value) => to(s, value),
    toConnectData: (_topic, bytes) => from(bytes),
    fromConnectHeader: (_topic, _key, s, value) => to(s, value),
    toConnectHeader: (_topic, _key, bytes) => from(bytes)
  }
}
