/**
 * Kafka's ByteArrayConverter: BYTES values pass through unchanged; read back as optional bytes.
 */
import * as CS from "../data/ConnectSchema.js"
import { DataError } from "../data/Struct.js"
import type { Converter, HeaderConverter } from "./Converter.js"

const OPTIONAL_BYTES = CS.bytes({ optional: true })

const to = (schema: CS.ConnectSchema | null, value: unknown): Uint8Array | null => {
  if (schema !== null && schema.type !== "bytes")
    throw new DataError({ message: `Invalid schema type for ByteArrayConverter: ${schema.type}` })
  if (value === null || value === undefined) return null
  if (!(value instanceof Uint8Array))
    throw new DataError({ message: `ByteArrayConverter is not compatible with objects of type ${typeof value}` })
  return value
}

/** Makes a ByteArrayConverter (also usable as a header converter). */
export const make = (): Converter & HeaderConverter => ({
  fromConnectData: (_topic, schema, value) => to(schema, value),
  toConnectData: (_topic, bytes) => ({ schema: OPTIONAL_BYTES, value: bytes }),
  fromConnectHeader: (_topic, _key, schema, value) => to(schema, value),
  toConnectHeader: (_topic, _key, bytes) => ({ schema: OPTIONAL_BYTES, value: bytes })
})
