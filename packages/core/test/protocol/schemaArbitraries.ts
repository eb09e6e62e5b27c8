/**
 * fast-check arbitraries built by walking Kafka's JSON schemas: for a message and a version, values that use only
 * the fields of that version (others hold their defaults) and null only where that version allows it.
 *
 * Defaults are computed here independently of the generator, so a wrong default in generated code shows up as a
 * round-trip mismatch.
 */

import * as path from "node:path"
import { fileURLToPath } from "node:url"
import fc from "fast-check"
import {
  contains,
  type FieldSpec,
  type FieldType,
  loadFolder,
  type MessageSpec,
  type StructSpec,
  structOf
} from "../../scripts/protocol-schema.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const shared = path.resolve(here, "../../../../../shared/kafka-protocol")

/** The schemas of the messages folder (read in place). */
export const messageSpecs = (): Array<MessageSpec> => loadFolder(path.join(shared, "messages"))
/** The internal-topic record schemas. */
export const recordSpecs = (): Array<MessageSpec> => loadFolder(path.join(shared, "records"))

export const versionsOf = (m: MessageSpec): Array<number> => {
  const out: Array<number> = []
  for (let v = m.validVersions.min; v <= m.validVersions.max; v++) out.push(v)
  return out
}

const intDefault = (d: unknown): bigint => {
  if (d === undefined || d === "") return 0n
  if (typeof d === "number") return BigInt(d)
  const s = String(d)
  return s.startsWith("-") ? -BigInt(s.slice(1)) : BigInt(s)
}

/** The value a field holds when a version lacks it (Kafka's defaults rules). */
export const defaultValue = (m: MessageSpec, f: FieldSpec): unknown => {
  if (f.default === "null") return null
  const t = f.type
  if (t.kind === "array") return []
  if (t.kind === "struct") return defaultStruct(m, structOf(m, t.struct))
  switch (t.name) {
    case "bool":
      return f.default === true || f.default === "true"
    case "int64":
      return intDefault(f.default)
    case "float64":
      return f.default === undefined ? 0 : Number(f.default)
    case "string":
      return f.default === undefined ? "" : String(f.default)
    case "uuid":
      return new Uint8Array(16)
    case "bytes":
      return new Uint8Array(0)
    case "records":
      return null
    default:
      return Number(intDefault(f.default))
  }
}

export const defaultStruct = (m: MessageSpec, s: StructSpec): Record<string, unknown> => {
  const o: Record<string, unknown> = {}
  for (const f of s.fields) o[f.prop] = defaultValue(m, f)
  return o
}

const INT_RANGES: Record<string, [number, number]> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295]
}

/** Fields holding partition or replica counts, indexes and broker ids: their extremes are drawn often. */
const COUNT_FIELD = /partition|replica|count|broker|leader|isr/i

/** An int of `name`'s range, one draw in two at an extreme (min, -1, 0, 1, max). */
const extremeIntArb = (name: string): fc.Arbitrary<number> | undefined => {
  const range = INT_RANGES[name]
  if (range === undefined) return undefined
  const [min, max] = range
  const edges = [...new Set([min, -1, 0, 1, max])].filter((v) => v >= min && v <= max)
  return fc.oneof(fc.constantFrom(...edges), fc.integer({ min, max }))
}

/** Arbitraries for count-like int fields (and int arrays), or undefined for any other field. */
const countFieldArb = (f: FieldSpec): fc.Arbitrary<unknown> | undefined => {
  if (!COUNT_FIELD.test(f.prop)) return undefined
  const t = f.type
  if (t.kind === "array") {
    const e = t.element
    if (e.kind !== "array" && e.kind !== "struct") {
      const ints = extremeIntArb(e.name)
      return ints === undefined ? undefined : fc.array(ints, { maxLength: 3 })
    }
    return undefined
  }
  return t.kind === "struct" ? undefined : extremeIntArb(t.name)
}

const typeArb = (m: MessageSpec, t: FieldType, version: number, depth: number): fc.Arbitrary<unknown> => {
  if (t.kind === "array") return fc.array(typeArb(m, t.element, version, depth + 1), { maxLength: depth > 1 ? 2 : 3 })
  if (t.kind === "struct") return structArb(m, structOf(m, t.struct), version, depth + 1)
  switch (t.name) {
    case "bool":
      return fc.boolean()
    case "int64":
      return fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n)
    case "float64":
      return fc.double()
    case "string":
      return fc.string({ unit: "binary", maxLength: 8 })
    case "uuid":
      return fc.uint8Array({ minLength: 16, maxLength: 16 })
    case "bytes":
    case "records":
      return fc.uint8Array({ maxLength: 24 })
    default: {
      const [min, max] = INT_RANGES[t.name]!
      return fc.integer({ min, max })
    }
  }
}

const unknownTagsArb = (s: StructSpec): fc.Arbitrary<Array<{ tag: number; data: Uint8Array }> | undefined> => {
  const known = new Set(s.fields.flatMap((f) => (f.tag === undefined ? [] : [f.tag])))
  return fc.option(
    fc
      .uniqueArray(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 3 })
      .map((tags) => tags.filter((t) => !known.has(t)).sort((a, b) => a - b))
      .filter((tags) => tags.length > 0)
      .chain((tags) => fc.tuple(...tags.map((tag) => fc.uint8Array({ maxLength: 6 }).map((data) => ({ tag, data }))))),
    { nil: undefined, freq: 4 }
  )
}

/** Values of struct `s` of message `m` valid in `version`. */
export const structArb = (
  m: MessageSpec,
  s: StructSpec,
  version: number,
  depth = 0,
  withUnknownTags = true
): fc.Arbitrary<Record<string, unknown>> => {
  const parts: Record<string, fc.Arbitrary<unknown>> = {}
  for (const f of s.fields) {
    if (!contains(f.versions, version)) {
      parts[f.prop] = fc.constant(null).map(() => defaultValue(m, f))
      continue
    }
    const base = countFieldArb(f) ?? typeArb(m, f.type, version, depth)
    parts[f.prop] = contains(f.nullableVersions, version) ? fc.option(base, { nil: null, freq: 4 }) : base
  }
  const flexible = contains(m.flexibleVersions, version)
  const record = fc.record(parts)
  if (!flexible || !withUnknownTags) return record
  return fc.tuple(record, unknownTagsArb(s)).map(([o, u]) => (u === undefined ? o : { ...o, _unknownTaggedFields: u }))
}

/** Values of a whole message valid in `version`. */
export const messageArb = (m: MessageSpec, version: number, withUnknownTags = true) =>
  structArb(m, m.root, version, 0, withUnknownTags)
