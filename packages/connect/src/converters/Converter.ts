/**
 * The converter contracts: a `Converter` turns a Connect schema and value into the bytes of a record key or
 * value and back; a `HeaderConverter` does the same for one header. Both are synchronous and throw
 * `DataError` on data they cannot convert; the worker turns that into a record failure of its stage.
 */

import type { Header } from "../data/ConnectRecord.js"
import type { ConnectSchema } from "../data/ConnectSchema.js"

/** A schema and a value, as Kafka's SchemaAndValue. */
export interface SchemaAndValue {
  readonly schema: ConnectSchema | null
  readonly value: unknown
}

/** The null schema and value. */
export const NULL: SchemaAndValue = { schema: null, value: null }

/** Key or value converter. */
export interface Converter {
  /** Serializes a value of `schema` (null bytes for a null value where the format allows). */
  readonly fromConnectData: (
    topic: string,
    schema: ConnectSchema | null,
    value: unknown,
    headers?: ReadonlyArray<Header>
  ) => Uint8Array | null
  /** Deserializes bytes (null for a null key/value) into a schema and value. */
  readonly toConnectData: (topic: string, value: Uint8Array | null, headers?: ReadonlyArray<Header>) => SchemaAndValue
}

/** Header value converter. */
export interface HeaderConverter {
  /** Serializes one header value. */
  readonly fromConnectHeader: (
    topic: string,
    key: string,
    schema: ConnectSchema | null,
    value: unknown
  ) => Uint8Array | null
  /** Deserializes one header value. */
  readonly toConnectHeader: (topic: string, key: string, value: Uint8Array | null) => SchemaAndValue
}

/** Raw string configs of a converter (the prefixed keys with their prefix removed). */
export type ConverterConfig = Readonly<Record<string, string>>

/** Reads a boolean config the way Kafka does ("true"/"false", any case). */
export const booleanConfig = (config: ConverterConfig, key: string, fallback: boolean): boolean => {
  const raw = config[key]
  return raw === undefined ? fallback : raw.trim().toLowerCase() === "true"
}
