/**
 * Reads Apache Kafka's JSON message schemas (the `//`-commented JSON of
 * `clients/src/main/resources/common/message/`) into a small model that the protocol code generator and the
 * schema-driven property tests share.
 */
import * as fs from "node:fs"
import * as path from "node:path"

/** An inclusive version range; `max` is `Infinity` for an open range like `"3+"`, and `min > max` for `"none"`. */
export interface VersionRange {
  readonly min: number
  readonly max: number
}

export const NO_VERSIONS: VersionRange = { min: 1, max: 0 }

/** Parses `"3+"`, `"0-2"`, `"4"` or `"none"`. */
export const parseVersions = (s: string | undefined, what: string): VersionRange => {
  if (s === undefined) throw new Error(`${what}: missing version range`)
  const t = s.trim()
  if (t === "none" || t === "") return NO_VERSIONS
  let m = /^(\d+)\+$/.exec(t)
  if (m) return { min: Number(m[1]), max: Number.POSITIVE_INFINITY }
  m = /^(\d+)-(\d+)$/.exec(t)
  if (m) return { min: Number(m[1]), max: Number(m[2]) }
  m = /^(\d+)$/.exec(t)
  if (m) return { min: Number(m[1]), max: Number(m[1]) }
  throw new Error(`${what}: bad version range ${JSON.stringify(s)}`)
}

export const isEmpty = (r: VersionRange): boolean => r.min > r.max
export const contains = (r: VersionRange, v: number): boolean => v >= r.min && v <= r.max
export const intersect = (a: VersionRange, b: VersionRange): VersionRange => {
  const r = { min: Math.max(a.min, b.min), max: Math.min(a.max, b.max) }
  return isEmpty(r) ? NO_VERSIONS : r
}

/** Removes `//` comments outside of string literals. */
export const stripComments = (text: string): string => {
  let out = ""
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (inString) {
      out += c
      if (c === "\\") {
        out += text[i + 1] ?? ""
        i++
      } else if (c === '"') {
        inString = false
      }
    } else if (c === '"') {
      inString = true
      out += c
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++
      out += "\n"
    } else {
      out += c
    }
  }
  return out
}

export const PRIMITIVES = [
  "bool",
  "int8",
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "float64",
  "string",
  "uuid",
  "bytes",
  "records"
] as const
export type Primitive = (typeof PRIMITIVES)[number]
const isPrimitive = (s: string): s is Primitive => (PRIMITIVES as ReadonlyArray<string>).includes(s)

/** A field's type: a primitive, a struct, or an array of either. */
export type FieldType =
  | { readonly kind: "primitive"; readonly name: Primitive }
  | { readonly kind: "struct"; readonly struct: string }
  | { readonly kind: "array"; readonly element: FieldType }

export interface FieldSpec {
  /** Schema name, e.g. `TransactionalId`. */
  readonly name: string
  /** camelCase property name, e.g. `transactionalId`. */
  readonly prop: string
  readonly type: FieldType
  readonly versions: VersionRange
  readonly nullableVersions: VersionRange
  readonly taggedVersions: VersionRange
  readonly tag: number | undefined
  readonly ignorable: boolean
  readonly mapKey: boolean
  /** Field-level override of the message's flexible versions (only RequestHeader.ClientId: `"none"`). */
  readonly flexibleVersions: VersionRange | undefined
  /** The raw `default` entry, if any. */
  readonly default: string | number | boolean | undefined
  readonly about: string | undefined
}

export interface StructSpec {
  /** Schema type name (`TopicProduceData`), or the message name for the root struct. */
  readonly name: string
  readonly fields: ReadonlyArray<FieldSpec>
  /** The versions in which the struct may appear (hull of the places that use it). */
  versions: VersionRange
}

export interface MessageSpec {
  readonly file: string
  readonly name: string
  readonly type: "request" | "response" | "header" | "data" | "metadata"
  readonly apiKey: number | undefined
  readonly validVersions: VersionRange
  readonly flexibleVersions: VersionRange
  readonly latestVersionUnstable: boolean
  readonly listeners: ReadonlyArray<string>
  readonly root: StructSpec
  /** Every struct other than the root, by schema type name, in order of first appearance. */
  readonly structs: ReadonlyMap<string, StructSpec>
}

interface RawField {
  name: string
  type: string
  versions?: string
  nullableVersions?: string
  taggedVersions?: string
  tag?: number | string
  ignorable?: boolean
  mapKey?: boolean
  flexibleVersions?: string
  default?: string | number | boolean
  about?: string
  fields?: Array<RawField>
}

interface RawMessage {
  name: string
  type: MessageSpec["type"]
  apiKey?: number
  validVersions: string
  flexibleVersions: string
  latestVersionUnstable?: boolean
  listeners?: Array<string>
  fields: Array<RawField>
  commonStructs?: Array<{ name: string; versions: string; fields: Array<RawField> }>
}

const camel = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1)

/** Parses one schema file's text. */
export const parseMessage = (file: string, text: string): MessageSpec => {
  const raw = JSON.parse(stripComments(text)) as RawMessage
  const structs = new Map<string, StructSpec>()
  const rawStructs = new Map<string, Array<RawField>>()
  for (const cs of raw.commonStructs ?? []) rawStructs.set(cs.name, cs.fields)

  const parseType = (f: RawField, where: string): FieldType => {
    let t = f.type
    let array = false
    if (t.startsWith("[]")) {
      array = true
      t = t.slice(2)
    }
    let element: FieldType
    if (isPrimitive(t)) {
      if (f.fields !== undefined) throw new Error(`${where}: primitive ${t} with fields`)
      element = { kind: "primitive", name: t }
    } else {
      if (f.fields !== undefined) {
        if (rawStructs.has(t) && rawStructs.get(t) !== f.fields) throw new Error(`${where}: struct ${t} defined twice`)
        rawStructs.set(t, f.fields)
      } else if (!rawStructs.has(t)) {
        throw new Error(`${where}: struct ${t} used before its definition`)
      }
      element = { kind: "struct", struct: t }
    }
    return array ? { kind: "array", element } : element
  }

  const parseFields = (fields: ReadonlyArray<RawField>, where: string): Array<FieldSpec> =>
    fields.map((f) => {
      const w = `${file} ${where}.${f.name}`
      const type = parseType(f, w)
      const taggedVersions =
        f.taggedVersions === undefined ? NO_VERSIONS : parseVersions(f.taggedVersions, `${w} taggedVersions`)
      const versions = parseVersions(f.versions ?? f.taggedVersions, `${w} versions`)
      if (f.tag !== undefined && isEmpty(taggedVersions)) throw new Error(`${w}: tag without taggedVersions`)
      return {
        name: f.name,
        prop: camel(f.name),
        type,
        versions,
        nullableVersions:
          f.nullableVersions === undefined ? NO_VERSIONS : parseVersions(f.nullableVersions, `${w} nullableVersions`),
        taggedVersions,
        tag: f.tag === undefined ? undefined : Number(f.tag),
        ignorable: f.ignorable === true,
        mapKey: f.mapKey === true,
        flexibleVersions:
          f.flexibleVersions === undefined ? undefined : parseVersions(f.flexibleVersions, `${w} flexibleVersions`),
        default: f.default,
        about: f.about
      }
    })

  const validVersions = parseVersions(raw.validVersions, `${file} validVersions`)
  const root: StructSpec = { name: raw.name, fields: parseFields(raw.fields, raw.name), versions: validVersions }

  // Build struct specs lazily in order of first use, so output order follows the schema.
  const build = (name: string): StructSpec => {
    let s = structs.get(name)
    if (s === undefined) {
      const rf = rawStructs.get(name)
      if (rf === undefined) throw new Error(`${file}: unknown struct ${name}`)
      s = { name, fields: [], versions: NO_VERSIONS }
      structs.set(name, s)
      ;(s as { fields: ReadonlyArray<FieldSpec> }).fields = parseFields(rf, name)
    }
    return s
  }
  const visit = (st: StructSpec, ctx: VersionRange): void => {
    for (const f of st.fields) {
      const t = f.type.kind === "array" ? f.type.element : f.type
      if (t.kind !== "struct") continue
      const fieldCtx = intersect(ctx, f.versions)
      const child = build(t.struct)
      const hull = isEmpty(child.versions)
        ? fieldCtx
        : isEmpty(fieldCtx)
          ? child.versions
          : { min: Math.min(child.versions.min, fieldCtx.min), max: Math.max(child.versions.max, fieldCtx.max) }
      const grew = hull.min !== child.versions.min || hull.max !== child.versions.max
      child.versions = hull
      if (grew || child.fields.length === 0) visit(child, hull)
    }
  }
  visit(root, validVersions)
  for (const name of rawStructs.keys()) build(name)

  return {
    file,
    name: raw.name,
    type: raw.type,
    apiKey: raw.apiKey,
    validVersions,
    flexibleVersions: parseVersions(raw.flexibleVersions, `${file} flexibleVersions`),
    latestVersionUnstable: raw.latestVersionUnstable === true,
    listeners: raw.listeners ?? [],
    root,
    structs
  }
}

/** Reads every `*.json` schema of a folder, sorted by file name. */
export const loadFolder = (dir: string): Array<MessageSpec> =>
  fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => parseMessage(f, fs.readFileSync(path.join(dir, f), "utf8")))

/** Finds a struct by schema name, or the root. */
export const structOf = (m: MessageSpec, name: string): StructSpec => {
  const s = m.structs.get(name)
  if (s === undefined) throw new Error(`${m.name}: unknown struct ${name}`)
  return s
}

/** Whether field `f` is encoded as a compact (flexible) type in `version`. */
export const isFlexibleField = (m: MessageSpec, f: FieldSpec, version: number): boolean =>
  contains(f.flexibleVersions ?? m.flexibleVersions, version)

/** Whether `f` sits in the tagged-field section in `version`. */
export const isTaggedIn = (f: FieldSpec, version: number): boolean =>
  f.tag !== undefined && contains(f.taggedVersions, version) && contains(f.versions, version)

/** Whether `f` is a regular (positional) field in `version`. */
export const isRegularIn = (f: FieldSpec, version: number): boolean =>
  contains(f.versions, version) && !isTaggedIn(f, version)
