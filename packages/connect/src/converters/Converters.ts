/**
 * The converters by class name (Kafka's fully qualified names, their simple names and the simple names
 * without "Converter"), and the resolution of a connector's key, value and header converters: the
 * connector's `key.converter` (with its `key.converter.*` settings) wins over the worker's.
 */
import { DataError } from "../data/Struct.js"
import * as ByteArrayConverter from "./ByteArrayConverter.js"
import type { Converter, ConverterConfig, HeaderConverter } from "./Converter.js"
import * as JsonConverter from "./JsonConverter.js"
import * as NumberConverters from "./NumberConverters.js"
import * as SimpleHeaderConverter from "./SimpleHeaderConverter.js"
import * as StringConverter from "./StringConverter.js"

/** A converter plugin: a class name and a factory from its settings. */
export interface ConverterPlugin {
  readonly className: string
  readonly make: (config: ConverterConfig) => Partial<Converter & HeaderConverter>
}

const plugin = (className: string, make: ConverterPlugin["make"]): ConverterPlugin => ({ className, make })

/** Every built-in converter, by Kafka's class name. */
export const builtins: ReadonlyArray<ConverterPlugin> = [
  plugin("org.apache.kafka.connect.json.JsonConverter", JsonConverter.make),
  plugin("org.apache.kafka.connect.storage.StringConverter", StringConverter.make),
  plugin("org.apache.kafka.connect.converters.ByteArrayConverter", ByteArrayConverter.make),
  plugin("org.apache.kafka.connect.converters.ShortConverter", () => NumberConverters.make("int16")),
  plugin("org.apache.kafka.connect.converters.IntegerConverter", () => NumberConverters.make("int32")),
  plugin("org.apache.kafka.connect.converters.LongConverter", () => NumberConverters.make("int64")),
  plugin("org.apache.kafka.connect.converters.FloatConverter", () => NumberConverters.make("float32")),
  plugin("org.apache.kafka.connect.converters.DoubleConverter", () => NumberConverters.make("float64")),
  plugin("org.apache.kafka.connect.converters.BooleanConverter", () => NumberConverters.make("boolean")),
  plugin("org.apache.kafka.connect.storage.SimpleHeaderConverter", SimpleHeaderConverter.make)
]

/** The aliases of a class name: the name itself, its simple name, and the simple name without its suffix. */
export const aliasesOf = (className: string, suffix: string): ReadonlyArray<string> => {
  const simple = className.slice(className.lastIndexOf(".") + 1)
  return simple.endsWith(suffix) && simple !== suffix
    ? [className, simple, simple.slice(0, -suffix.length)]
    : [className, simple]
}

const byAlias = new Map<string, ConverterPlugin>(
  builtins.flatMap((p) => aliasesOf(p.className, "Converter").map((a) => [a, p]))
)

/** The converter plugin for a class name or alias. */
export const lookup = (name: string): ConverterPlugin | undefined => byAlias.get(name.trim())

/** The settings under `prefix.` with the prefix removed. */
export const withPrefix = (config: Readonly<Record<string, string>>, prefix: string): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(config)) if (k.startsWith(`${prefix}.`)) out[k.slice(prefix.length + 1)] = v
  return out
}

/** Which converter slot. */
export type Slot = "key" | "value" | "header"

/** The default converter class of each slot (Kafka requires key/value on the worker; Eddy uses JSON then). */
export const DEFAULT_CLASS: Record<Slot, string> = {
  key: "org.apache.kafka.connect.json.JsonConverter",
  value: "org.apache.kafka.connect.json.JsonConverter",
  header: "org.apache.kafka.connect.storage.SimpleHeaderConverter"
}

const instantiate = (slot: Slot, className: string, config: ConverterConfig) => {
  const p = lookup(className)
  if (!p)
    throw new DataError({
      message: `Failed to find any class that implements Converter and which name matches ${className}`
    })
  const instance = p.make(slot === "key" ? { ...config, "converter.type": "key" } : config)
  return instance
}

/** The converter of the key or value slot for a connector, from its config over the worker's. */
export const converterFor = (
  slot: "key" | "value",
  worker: Readonly<Record<string, string>>,
  connector: Readonly<Record<string, string>>
): Converter => {
  const key = `${slot}.converter`
  const source = connector[key] !== undefined ? connector : worker
  const instance = instantiate(slot, source[key] ?? DEFAULT_CLASS[slot], withPrefix(source, key))
  if (!instance.fromConnectData || !instance.toConnectData)
    throw new DataError({ message: `${source[key]} is not a Converter` })
  return instance as Converter
}

/** The header converter for a connector, from its config over the worker's. */
export const headerConverterFor = (
  worker: Readonly<Record<string, string>>,
  connector: Readonly<Record<string, string>>
): HeaderConverter => {
  const key = "header.converter"
  const source = connector[key] !== undefined ? connector : worker
  const instance = instantiate("header", source[key] ?? DEFAULT_CLASS.header, withPrefix(source, key))
  if (!instance.fromConnectHeader || !instance.toConnectHeader)
    throw new DataError({ message: `${source[key]} is not a HeaderConverter` })
  return instance as HeaderConverter
}
