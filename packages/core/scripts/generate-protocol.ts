/**
 * Generates the Kafka protocol codecs in `packages/core/src/protocol/generated/` from Apache Kafka's JSON
 * message schemas.
 *
 * Usage: `node --import tsx packages/core/scripts/generate-protocol.ts [messagesDir] [recordsDir] [errorsTsv]`
 * (defaults: `../shared/kafka-protocol/{messages,records,errors.tsv}` from the repository root). The schemas are
 * read in place, never copied. The output is deterministic: CI regenerates it and fails on a diff.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import {
  contains,
  type FieldSpec,
  type FieldType,
  intersect,
  isEmpty,
  loadFolder,
  type MessageSpec,
  type Primitive,
  type StructSpec,
  structOf,
  type VersionRange
} from "./protocol-schema.js"

// ---------------------------------------------------------------------------------------------------------------
// Version conditions

/** A JS condition on `version` that holds for `r` within the context `ctx`; `true`/`false` when constant. */
const cond = (r: VersionRange, ctx: VersionRange): string | boolean => {
  const i = intersect(r, ctx)
  if (isEmpty(i)) return false
  const parts: Array<string> = []
  if (i.min > ctx.min) parts.push(`version >= ${i.min}`)
  if (i.max < ctx.max) parts.push(`version <= ${i.max}`)
  return parts.length === 0 ? true : parts.join(" && ")
}

const notCond = (c: string | boolean): string | boolean => {
  if (typeof c === "boolean") return !c
  let m = /^version >= (\d+)$/.exec(c)
  if (m) return `version < ${m[1]}`
  m = /^version <= (\d+)$/.exec(c)
  if (m) return `version > ${m[1]}`
  m = /^version >= (\d+) && version <= (\d+)$/.exec(c)
  if (m) return `(version < ${m[1]} || version > ${m[2]})`
  return `!(${c})`
}

const andCond = (a: string | boolean, b: string): string => (a === true ? b : `${a} && ${b}`)

const versionsOf = (ctx: VersionRange): Array<number> => {
  const out: Array<number> = []
  for (let v = ctx.min; v <= ctx.max; v++) out.push(v)
  return out
}

/** An expression that evaluates to `fn(version)` for every version of `ctx` (a ternary chain over runs). */
const byVersion = (ctx: VersionRange, fn: (v: number) => number): string => {
  const vs = versionsOf(ctx)
  if (vs.length === 0) return "0"
  const runs: Array<{ min: number; value: number }> = []
  for (const v of vs) {
    const value = fn(v)
    const last = runs[runs.length - 1]
    if (last !== undefined && last.value === value) continue
    runs.push({ min: v, value })
  }
  let expr = String(runs[0]!.value)
  for (let i = 1; i < runs.length; i++) expr = `version >= ${runs[i]!.min} ? ${runs[i]!.value} : ${expr}`
  return expr
}

// ---------------------------------------------------------------------------------------------------------------
// Names and types

const JS_PRIM: Record<Primitive, string> = {
  bool: "boolean",
  int8: "number",
  int16: "number",
  uint16: "number",
  int32: "number",
  uint32: "number",
  int64: "bigint",
  float64: "number",
  string: "string",
  uuid: "Uint8Array",
  bytes: "Uint8Array",
  records: "Uint8Array"
}

const FIXED_SIZE: Partial<Record<Primitive, number>> = {
  bool: 1,
  int8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  float64: 8,
  uuid: 16
}

const typeName = (m: MessageSpec, struct: string): string =>
  struct === m.name || struct.startsWith(m.name) ? struct : m.name + struct

const baseType = (m: MessageSpec, t: FieldType): string =>
  t.kind === "primitive"
    ? JS_PRIM[t.name]
    : t.kind === "struct"
      ? typeName(m, t.struct)
      : `Array<${baseType(m, t.element)}>`

const isNullableType = (f: FieldSpec): boolean =>
  !isEmpty(intersect(f.nullableVersions, f.versions)) ||
  f.default === "null" ||
  (f.type.kind === "primitive" && f.type.name === "records")

const fieldType = (m: MessageSpec, f: FieldSpec): string => baseType(m, f.type) + (isNullableType(f) ? " | null" : "")

const hasFlexible = (m: MessageSpec): boolean => !isEmpty(intersect(m.flexibleVersions, m.validVersions))

const ctxOf = (m: MessageSpec, s: StructSpec): VersionRange =>
  s === m.root || isEmpty(s.versions) ? m.validVersions : s.versions

/** The versions in which `f` is a regular (positional) field. */
const regularRange = (f: FieldSpec): VersionRange =>
  f.tag === undefined ? f.versions : intersect(f.versions, { min: 0, max: f.taggedVersions.min - 1 })

const taggedRange = (f: FieldSpec): VersionRange =>
  f.tag === undefined ? { min: 1, max: 0 } : intersect(f.versions, f.taggedVersions)

const flexRange = (m: MessageSpec, f: FieldSpec): VersionRange => f.flexibleVersions ?? m.flexibleVersions

// ---------------------------------------------------------------------------------------------------------------
// Defaults

const parseIntDefault = (d: string | number, what: string): bigint => {
  if (typeof d === "number") return BigInt(d)
  const t = d.trim()
  const neg = t.startsWith("-")
  const body = neg ? t.slice(1) : t
  let v: bigint
  if (/^0x[0-9a-f]+$/i.test(body)) v = BigInt(body)
  else if (/^0[0-7]+$/.test(body)) v = BigInt(`0o${body.slice(1)}`)
  else if (/^\d+$/.test(body)) v = BigInt(body)
  else throw new Error(`${what}: bad integer default ${JSON.stringify(d)}`)
  return neg ? -v : v
}

const isNullDefault = (f: FieldSpec): boolean => f.default === "null"

const defaultExpr = (m: MessageSpec, f: FieldSpec): string => {
  const t = f.type
  const what = `${m.name}.${f.name}`
  if (isNullDefault(f)) {
    if (!isNullableType(f)) throw new Error(`${what}: null default on a non-nullable field`)
    return "null"
  }
  if (t.kind === "array") return "[]"
  if (t.kind === "struct") return `make${typeName(m, t.struct)}()`
  switch (t.name) {
    case "bool":
      return f.default === true || f.default === "true" ? "true" : "false"
    case "int8":
    case "int16":
    case "uint16":
    case "int32":
    case "uint32":
      return f.default === undefined || f.default === "" ? "0" : String(parseIntDefault(f.default as string, what))
    case "int64":
      return `${f.default === undefined || f.default === "" ? 0n : parseIntDefault(f.default as string, what)}n`
    case "float64":
      return f.default === undefined ? "0" : String(Number(f.default))
    case "string":
      return JSON.stringify(f.default === undefined ? "" : String(f.default))
    case "uuid":
      return "new Uint8Array(16)"
    case "bytes":
      return "new Uint8Array(0)"
    case "records":
      return "null"
  }
}

/** An expression that is true when `e` (of field `f`) holds its default value. */
const isDefaultExpr = (m: MessageSpec, f: FieldSpec, e: string): string => {
  const t = f.type
  const nullable = isNullableType(f)
  if (isNullDefault(f) || (t.kind === "primitive" && t.name === "records")) return `${e} === null`
  if (t.kind === "array") return nullable ? `(${e} !== null && ${e}.length === 0)` : `${e}.length === 0`
  if (t.kind === "struct") {
    const call = `isDefault${typeName(m, t.struct)}(${e})`
    return nullable ? `(${e} !== null && ${call})` : call
  }
  switch (t.name) {
    case "bool":
      return defaultExpr(m, f) === "true" ? e : `!${e}`
    case "uuid":
      return nullable ? `(${e} !== null && isZeroUuid(${e}))` : `isZeroUuid(${e})`
    case "bytes":
      return nullable ? `(${e} !== null && ${e}.length === 0)` : `${e}.length === 0`
    default:
      return `${e} === ${defaultExpr(m, f)}`
  }
}

const notDefaultExpr = (m: MessageSpec, f: FieldSpec, e: string): string => {
  const t = f.type
  const nullable = isNullableType(f)
  if (isNullDefault(f) || (t.kind === "primitive" && t.name === "records")) return `${e} !== null`
  if (t.kind === "array") return nullable ? `(${e} === null || ${e}.length !== 0)` : `${e}.length !== 0`
  if (t.kind === "struct") {
    const call = `!isDefault${typeName(m, t.struct)}(${e})`
    return nullable ? `(${e} === null || ${call})` : call
  }
  switch (t.name) {
    case "bool":
      return defaultExpr(m, f) === "true" ? `!${e}` : e
    case "uuid":
      return nullable ? `(${e} === null || !isZeroUuid(${e}))` : `!isZeroUuid(${e})`
    case "bytes":
      return nullable ? `(${e} === null || ${e}.length !== 0)` : `${e}.length !== 0`
    default:
      return `${e} !== ${defaultExpr(m, f)}`
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Minimum encoded sizes (for the array-length guards)

const minSize = (m: MessageSpec, f: FieldSpec, t: FieldType, v: number, element: boolean): number => {
  const flex = contains(flexRange(m, f), v)
  if (t.kind === "array") return flex ? 1 : 4
  if (t.kind === "struct") {
    if (!element && contains(f.nullableVersions, v)) return 1
    return structMinSize(m, structOf(m, t.struct), v)
  }
  const fixed = FIXED_SIZE[t.name]
  if (fixed !== undefined) return fixed
  if (flex) return 1
  return t.name === "string" ? 2 : 4
}

const structMinSize = (m: MessageSpec, s: StructSpec, v: number): number => {
  let n = contains(m.flexibleVersions, v) ? 1 : 0
  for (const f of s.fields) {
    if (contains(regularRange(f), v)) n += minSize(m, f, f.type, v, false)
  }
  return n
}

// ---------------------------------------------------------------------------------------------------------------
// Code emission

class Code {
  readonly lines: Array<string> = []
  depth = 0
  line(s = ""): this {
    this.lines.push(s === "" ? "" : "  ".repeat(this.depth) + s)
    return this
  }
  open(s: string): this {
    this.line(s)
    this.depth++
    return this
  }
  close(s = "}"): this {
    this.depth--
    return this.line(s)
  }
  /** Closes a block and opens the next at the same depth (`} else {`). */
  next(s: string): this {
    this.depth--
    this.line(s)
    this.depth++
    return this
  }
  /** `if (c) { body }` with constant conditions folded. */
  when(c: string | boolean, body: () => void, otherwise?: () => void): this {
    if (c === true) body()
    else if (c === false) otherwise?.()
    else {
      this.open(`if (${c}) {`)
      body()
      if (otherwise) {
        this.next("} else {")
        otherwise()
      }
      this.close()
    }
    return this
  }
  toString(): string {
    return this.lines.join("\n")
  }
}

type Str = "String" | "Bytes"

const WRITE_PRIM: Partial<Record<Primitive, string>> = {
  bool: "bool",
  int8: "int8",
  int16: "int16",
  uint16: "uint16",
  int32: "int32",
  uint32: "uint32",
  int64: "int64",
  float64: "float64",
  uuid: "uuid"
}

const strKind = (p: Primitive): Str => (p === "string" ? "String" : "Bytes")

/** Emits the encoding of field `f`'s value `e` for the versions `ctx` (all in which it is written here). */
const emitWrite = (
  c: Code,
  m: MessageSpec,
  owner: string,
  f: FieldSpec,
  e: string,
  ctx: VersionRange,
  forceFlexible: boolean
): void => {
  const flexC: string | boolean = forceFlexible ? true : cond(flexRange(m, f), ctx)
  const tsNullable = isNullableType(f)
  const nullC = cond(f.nullableVersions, ctx)
  const nullCheck = (): void => {
    if (nullC !== true)
      c.line(
        nullC === false
          ? `fail(\`${owner}.${f.prop} is null but not nullable in version \${version}\`)`
          : `if (${notCond(nullC)}) fail(\`${owner}.${f.prop} is null but not nullable in version \${version}\`)`
      )
  }
  const t = f.type
  if (t.kind === "primitive") {
    const fixed = WRITE_PRIM[t.name]
    if (fixed !== undefined) {
      if (tsNullable) {
        c.open(`if (${e} === null) {`)
        c.line(`fail(\`${owner}.${f.prop} is null\`)`)
        c.close(`} else w.${fixed}(${e})`)
      } else c.line(`w.${fixed}(${e})`)
      return
    }
    const k = strKind(t.name)
    if (tsNullable && nullC !== true) c.when(`${e} === null`, nullCheck)
    const compact = tsNullable ? `compactNullable${k}` : `compact${k}`
    const classic = tsNullable ? `nullable${k}` : k.toLowerCase()
    if (flexC === true) c.line(`w.${compact}(${e})`)
    else if (flexC === false) c.line(`w.${classic}(${e})`)
    else c.line(`if (${flexC}) w.${compact}(${e})`).line(`else w.${classic}(${e})`)
    return
  }
  if (t.kind === "struct") {
    const tn = typeName(m, t.struct)
    if (!tsNullable) {
      c.line(`encode${tn}(w, ${e}, version)`)
      return
    }
    c.open(`if (${e} === null) {`)
    nullCheck()
    c.line("w.int8(-1)")
    c.next("} else {")
    c.when(nullC, () => c.line("w.int8(1)"))
    c.line(`encode${tn}(w, ${e}, version)`)
    c.close()
    return
  }
  // array
  const el = t.element
  const lenWrite = (n: string): Array<string> =>
    flexC === true
      ? [`w.compactArrayLength(${n})`]
      : flexC === false
        ? [`w.arrayLength(${n})`]
        : [`if (${flexC}) w.compactArrayLength(${n})`, `else w.arrayLength(${n})`]
  c.open("{")
  c.line(`const a = ${e}`)
  const body = (): void => {
    for (const l of lenWrite("a.length")) c.line(l)
    c.open("for (let i = 0; i < a.length; i++) {")
    if (el.kind === "struct") c.line(`encode${typeName(m, el.struct)}(w, a[i]!, version)`)
    else if (el.kind === "primitive") {
      const fixed = WRITE_PRIM[el.name]
      if (fixed !== undefined) c.line(`w.${fixed}(a[i]!)`)
      else {
        const k = strKind(el.name)
        if (flexC === true) c.line(`w.compact${k}(a[i]!)`)
        else if (flexC === false) c.line(`w.${k.toLowerCase()}(a[i]!)`)
        else c.line(`if (${flexC}) w.compact${k}(a[i]!)`).line(`else w.${k.toLowerCase()}(a[i]!)`)
      }
    } else throw new Error(`${owner}.${f.name}: nested arrays are not supported`)
    c.close()
  }
  if (tsNullable) {
    c.open("if (a === null) {")
    nullCheck()
    for (const l of lenWrite("-1")) c.line(l)
    c.next("} else {")
    body()
    c.close()
  } else body()
  c.close()
}

/** Emits reading field `f` into the local `target` for the versions `ctx`. */
const emitRead = (
  c: Code,
  m: MessageSpec,
  owner: string,
  f: FieldSpec,
  target: string,
  ctx: VersionRange,
  forceFlexible: boolean
): void => {
  const flexC: string | boolean = forceFlexible ? true : cond(flexRange(m, f), ctx)
  const tsNullable = isNullableType(f)
  const nullC = tsNullable ? cond(f.nullableVersions, ctx) : false
  const pick = (whenTrue: string, whenFalse: string, cnd: string | boolean): string =>
    cnd === true ? whenTrue : cnd === false ? whenFalse : `${cnd} ? ${whenTrue} : ${whenFalse}`
  const t = f.type
  if (t.kind === "primitive") {
    const fixed = WRITE_PRIM[t.name]
    if (fixed !== undefined) {
      c.line(`${target} = r.${fixed}()`)
      return
    }
    const k = strKind(t.name)
    const readFlex = pick(`r.compactNullable${k}()`, `r.compact${k}()`, nullC)
    const readClassic = pick(`r.nullable${k}()`, `r.${k.toLowerCase()}()`, nullC)
    if (flexC === true) c.line(`${target} = ${readFlex}`)
    else if (flexC === false) c.line(`${target} = ${readClassic}`)
    else if (typeof nullC === "boolean") c.line(`${target} = ${flexC} ? ${readFlex} : ${readClassic}`)
    else c.line(`if (${flexC}) ${target} = ${readFlex}`).line(`else ${target} = ${readClassic}`)
    return
  }
  if (t.kind === "struct") {
    const call = `decode${typeName(m, t.struct)}(r, version)`
    if (nullC === false) c.line(`${target} = ${call}`)
    else if (nullC === true) c.line(`${target} = r.int8() < 0 ? null : ${call}`)
    else c.line(`${target} = ${nullC} && r.int8() < 0 ? null : ${call}`)
    return
  }
  const el = t.element
  const elemCtxFlex = (flex: boolean): VersionRange => {
    // the versions of ctx in which the array is (or is not) compact
    const fr = flexRange(m, f)
    if (forceFlexible) return ctx
    if (flex) return intersect(ctx, fr)
    const lo = intersect(ctx, { min: 0, max: fr.min - 1 })
    return isEmpty(fr) ? ctx : lo
  }
  const minExpr = (flex: boolean): string => byVersion(elemCtxFlex(flex), (v) => minSize(m, f, el, v, true))
  let elemRead: string
  if (el.kind === "struct") elemRead = `decode${typeName(m, el.struct)}(r, version)`
  else if (el.kind === "primitive") {
    const fixed = WRITE_PRIM[el.name]
    if (fixed !== undefined) elemRead = `r.${fixed}()`
    else {
      const k = strKind(el.name)
      elemRead = pick(`r.compact${k}()`, `r.${k.toLowerCase()}()`, flexC)
    }
  } else throw new Error(`${owner}.${f.name}: nested arrays are not supported`)
  c.open("{")
  const lenRead =
    flexC === true
      ? `r.compactArrayLength(${minExpr(true)})`
      : flexC === false
        ? `r.arrayLength(${minExpr(false)})`
        : `${flexC} ? r.compactArrayLength(${minExpr(true)}) : r.arrayLength(${minExpr(false)})`
  c.line(`const n = ${lenRead}`)
  c.open("if (n < 0) {")
  if (nullC === false) c.line(`return fail(\`${owner}.${f.prop}: non-nullable array is null\`, r.offset)`)
  else {
    if (nullC !== true)
      c.line(`if (${notCond(nullC)}) fail(\`${owner}.${f.prop}: non-nullable array is null\`, r.offset)`)
    c.line(`${target} = null`)
  }
  c.next("} else {")
  c.line(`const a: ${baseType(m, t)} = []`)
  c.line(`for (let i = 0; i < n; i++) a.push(${elemRead})`)
  c.line(`${target} = a`)
  c.close()
  c.close()
}

const jsdoc = (c: Code, text: string | undefined): void => {
  if (text === undefined || text.trim() === "") return
  c.line(`/** ${text.trim().replace(/\*\//g, "*\\/").replace(/\s+/g, " ")} */`)
}

/** Renames unused parameters with a leading underscore (the project compiles with noUnusedParameters). */
const params = (body: string, ps: Array<[string, string]>): string =>
  ps.map(([name, type]) => `${new RegExp(`\\b${name}\\b`).test(body) ? name : `_${name}`}: ${type}`).join(", ")

const emitStruct = (c: Code, m: MessageSpec, s: StructSpec, isRoot: boolean, needsIsDefault: boolean): void => {
  const tn = typeName(m, s.name)
  const ctx = ctxOf(m, s)
  const flexible = hasFlexible(m)
  const flexC = cond(m.flexibleVersions, ctx)
  const tagged = s.fields
    .filter((f) => f.tag !== undefined && !isEmpty(intersect(taggedRange(f), ctx)))
    .sort((a, b) => a.tag! - b.tag!)

  // --- interface
  c.line()
  jsdoc(
    c,
    isRoot
      ? `${tn} (${m.apiKey === undefined ? "" : `api key ${m.apiKey}; `}versions ${m.validVersions.min}-${m.validVersions.max}).`
      : `${s.name}, a struct of ${m.name}.`
  )
  c.open(`export interface ${tn} {`)
  for (const f of s.fields) {
    jsdoc(c, f.about)
    c.line(`${f.prop}: ${fieldType(m, f)}`)
  }
  if (flexible) {
    c.line("/** Tagged fields this schema does not know, kept so that a decode-encode round trip is byte-identical. */")
    c.line("_unknownTaggedFields?: Array<UnknownTaggedField>")
  }
  c.close()

  // --- make
  c.line()
  jsdoc(c, `A ${tn} with the schema's defaults, overridden by \`partial\`.`)
  c.open(`export function make${tn}(partial?: Partial<${tn}>): ${tn} {`)
  c.open("return {")
  for (const f of s.fields) c.line(`${f.prop}: ${defaultExpr(m, f)},`)
  c.line("...partial")
  c.close()
  c.close()

  // --- isDefault
  if (needsIsDefault) {
    c.line()
    jsdoc(c, `Whether every field of a ${tn} holds its default (tagged struct fields are written only when not).`)
    const checks = s.fields.map((f) => isDefaultExpr(m, f, `v.${f.prop}`))
    if (flexible) checks.push("(v._unknownTaggedFields === undefined || v._unknownTaggedFields.length === 0)")
    c.open(`export function isDefault${tn}(v: ${tn}): boolean {`)
    c.line(`return ${checks.length === 0 ? "true" : checks.join(" &&\n    ")}`)
    c.close()
  }

  // --- encode
  const enc = new Code()
  enc.depth = 1
  if (isRoot) {
    enc.line(
      `if (version < ${m.validVersions.min} || version > ${m.validVersions.max}) fail(\`${tn}: unsupported version \${version}\`)`
    )
  }
  for (const f of s.fields) {
    const reg = cond(regularRange(f), ctx)
    const present = cond(f.versions, ctx)
    const r = intersect(regularRange(f), ctx)
    enc.when(reg, () => emitWrite(enc, m, tn, f, `v.${f.prop}`, r, false))
    // Kafka's UnsupportedVersionException: a non-default value of a non-ignorable field the version lacks.
    const absent = notCond(present)
    if (!f.ignorable && absent !== false) {
      const chk = andCond(absent, notDefaultExpr(m, f, `v.${f.prop}`))
      enc.line(`if (${chk}) fail(\`${tn}.${f.prop} is not supported in version \${version}\`)`)
    }
  }
  if (flexC !== false) {
    enc.when(flexC, () => {
      if (tagged.length === 0) {
        enc.line("writeUnknownTags(w, v._unknownTaggedFields)")
        return
      }
      enc.line("const u = v._unknownTaggedFields")
      enc.line("let nt = u === undefined ? 0 : u.length")
      const fctx = intersect(ctx, m.flexibleVersions)
      for (const f of tagged) {
        const tc = cond(taggedRange(f), fctx)
        enc.line(`const t${f.tag} = ${andCond(tc, notDefaultExpr(m, f, `v.${f.prop}`))}`)
        enc.line(`if (t${f.tag}) nt++`)
      }
      enc.line("w.uvarint(nt)")
      let from = 0
      for (const f of tagged) {
        if (f.tag! > from) enc.line(`if (u !== undefined) writeUnknownTagsBetween(w, u, ${from}, ${f.tag})`)
        enc.open(`if (t${f.tag}) {`)
        enc.line(`w.uvarint(${f.tag})`)
        const fixed = f.type.kind === "primitive" ? FIXED_SIZE[f.type.name] : undefined
        if (fixed !== undefined && !isNullableType(f)) {
          enc.line(`w.uvarint(${fixed})`)
          emitWrite(enc, m, tn, f, `v.${f.prop}`, intersect(taggedRange(f), fctx), true)
        } else {
          enc.line("const mark = beginSized(w)")
          emitWrite(enc, m, tn, f, `v.${f.prop}`, intersect(taggedRange(f), fctx), true)
          enc.line("endSized(w, mark)")
        }
        enc.close()
        from = f.tag! + 1
      }
      enc.line(`if (u !== undefined) writeUnknownTagsBetween(w, u, ${from}, 0x100000000)`)
    })
  }
  const encBody = enc.toString()
  c.line()
  jsdoc(c, `Encodes a ${tn} in \`version\`.`)
  c.line(
    `export function encode${tn}(${params(encBody, [
      ["w", "Writer"],
      ["v", tn],
      ["version", "number"]
    ])}): void {`
  )
  if (encBody !== "") c.lines.push(encBody)
  c.line("}")

  // --- decode
  const dec = new Code()
  dec.depth = 1
  if (isRoot) {
    dec.line(
      `if (version < ${m.validVersions.min} || version > ${m.validVersions.max}) fail(\`${tn}: unsupported version \${version}\`, r.offset)`
    )
  }
  for (const f of s.fields) {
    const local = `_${f.prop}`
    const reg = cond(regularRange(f), ctx)
    dec.line(`let ${local}: ${fieldType(m, f)}`)
    dec.when(
      reg,
      () => emitRead(dec, m, tn, f, local, intersect(regularRange(f), ctx), false),
      () => dec.line(`${local} = ${defaultExpr(m, f)}`)
    )
  }
  if (flexC !== false) {
    dec.line("let unknownTagged: Array<UnknownTaggedField> | undefined")
    dec.when(flexC, () => {
      if (tagged.length === 0) {
        dec.line("unknownTagged = readUnknownTags(r)")
        return
      }
      dec.line("const nt = r.uvarint()")
      dec.open("for (let t = 0; t < nt; t++) {")
      dec.line("const tag = r.uvarint()")
      dec.line("const size = r.uvarint()")
      dec.line("r.need(size)")
      dec.line("const end = r.offset + size")
      const fctx = intersect(ctx, m.flexibleVersions)
      tagged.forEach((f, i) => {
        const tc = cond(taggedRange(f), fctx)
        const test = `if (${andCond(tc, `tag === ${f.tag}`)}) {`
        if (i === 0) dec.open(test)
        else dec.next(`} else ${test}`)
        emitRead(dec, m, tn, f, `_${f.prop}`, intersect(taggedRange(f), fctx), true)
      })
      dec.next("} else {")
      dec.line("if (unknownTagged === undefined) unknownTagged = []")
      dec.line("unknownTagged.push({ tag, data: r.raw(size) })")
      dec.line("continue")
      dec.close()
      dec.line(`if (r.offset !== end) fail(\`${tn}: tagged field \${tag} has a wrong size\`, r.offset)`)
      dec.close()
    })
  }
  const ret = `{ ${s.fields.map((f) => `${f.prop}: _${f.prop}`).join(", ")} }`
  if (flexC !== false) {
    dec.line(`const out: ${tn} = ${ret}`)
    dec.line("if (unknownTagged !== undefined) out._unknownTaggedFields = unknownTagged")
    dec.line("return out")
  } else dec.line(`return ${ret}`)
  const decBody = dec.toString()
  c.line()
  jsdoc(c, `Decodes a ${tn} of \`version\`; throws a ProtocolError on malformed input.`)
  c.line(
    `export function decode${tn}(${params(decBody, [
      ["r", "Reader"],
      ["version", "number"]
    ])}): ${tn} {`
  )
  c.lines.push(decBody)
  c.line("}")
}

/** Struct types used as single (non-array) struct fields anywhere: they need an isDefault function. */
const structsNeedingIsDefault = (m: MessageSpec): Set<string> => {
  const out = new Set<string>()
  const all = [m.root, ...m.structs.values()]
  for (const s of all) for (const f of s.fields) if (f.type.kind === "struct") out.add(f.type.struct)
  return out
}

/** Emits every struct of a message, nested ones first (so they read top-down in the file after the root). */
const emitMessage = (c: Code, m: MessageSpec): void => {
  const needs = structsNeedingIsDefault(m)
  const names = new Set<string>()
  const check = (n: string): void => {
    if (names.has(n)) throw new Error(`${m.name}: duplicate type name ${n}`)
    names.add(n)
  }
  check(typeName(m, m.root.name))
  emitStruct(c, m, m.root, true, false)
  for (const s of m.structs.values()) {
    check(typeName(m, s.name))
    emitStruct(c, m, s, false, needs.has(s.name))
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Files

interface Source {
  readonly version: string
  readonly commit: string
}

const header = (src: Source, schemas: ReadonlyArray<string>): string =>
  [
    "// Generated by packages/core/scripts/generate-protocol.ts from Apache Kafka's message schemas",
    `// (Kafka ${src.version}, commit ${src.commit}): ${schemas.join(", ")}.`,
    "// DO NOT EDIT: change the generator and run `npm run generate`.",
    ""
  ].join("\n")

/** Adds the imports a generated body uses. */
const withImports = (body: string, rel: string, extra: Array<string> = [], runtime = true): string => {
  const imports: Array<string> = []
  const uses = (name: string): boolean => new RegExp(`\\b${name}\\b`).test(body)
  if (uses("fail")) imports.push(`import { fail } from "${rel}ProtocolError.js"`)
  if (uses("Reader")) imports.push(`import type { Reader } from "${rel}Reader.js"`)
  if (uses("Writer")) imports.push(`import type { Writer } from "${rel}Writer.js"`)
  const rt = [
    "beginSized",
    "endSized",
    "isZeroUuid",
    "readUnknownTags",
    "writeUnknownTags",
    "writeUnknownTagsBetween"
  ].filter(uses)
  const rtTypes = uses("UnknownTaggedField") ? ["type UnknownTaggedField"] : []
  const rtAll = [...rt, ...rtTypes].sort((a, b) => a.replace("type ", "").localeCompare(b.replace("type ", "")))
  const runtimeRel = rel === "../" ? "./" : "../"
  if (runtime && rtAll.length > 0) imports.push(`import { ${rtAll.join(", ")} } from "${runtimeRel}Runtime.js"`)
  return `${[...imports, ...extra].join("\n")}\n\n${body.replace(/^\n+/, "")}`
}

const RUNTIME = `
/** A tagged field whose tag the schema does not know: kept raw so a decode-encode round trip is byte-identical. */
export interface UnknownTaggedField {
  readonly tag: number
  readonly data: Uint8Array
}

/** Reads a tagged-field section of a struct without known tags; undefined when it is empty. */
export function readUnknownTags(r: Reader): Array<UnknownTaggedField> | undefined {
  const n = r.uvarint()
  if (n === 0) return undefined
  const out: Array<UnknownTaggedField> = []
  for (let i = 0; i < n; i++) {
    const tag = r.uvarint()
    const size = r.uvarint()
    out.push({ tag, data: r.raw(size) })
  }
  return out
}

/** Writes a tagged-field section holding only unknown tags (an empty one for undefined). */
export function writeUnknownTags(w: Writer, fields: ReadonlyArray<UnknownTaggedField> | undefined): void {
  if (fields === undefined) {
    w.uvarint(0)
    return
  }
  w.uvarint(fields.length)
  writeUnknownTagsBetween(w, fields, 0, 0x100000000)
}

/** Writes the unknown tagged fields whose tag is in [from, to), in their order. */
export function writeUnknownTagsBetween(
  w: Writer,
  fields: ReadonlyArray<UnknownTaggedField>,
  from: number,
  to: number
): void {
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!
    if (f.tag >= from && f.tag < to) {
      w.uvarint(f.tag)
      w.uvarint(f.data.length)
      w.raw(f.data)
    }
  }
}

/** Starts a uvarint-size-prefixed region (a tagged field's value); returns a mark for endSized. */
export function beginSized(w: Writer): number {
  w.uint8(0)
  return w.offset
}

/** Ends a region started by beginSized, writing its size (moving the bytes when the size needs more than one byte). */
export function endSized(w: Writer, mark: number): void {
  const size = w.offset - mark
  const n = uvarintSize(size)
  if (n > 1) {
    w.ensure(n - 1)
    w.buf.copyWithin(mark + n - 1, mark, w.offset)
    w.offset += n - 1
  }
  let p = mark - 1
  let v = size
  while (v >= 0x80) {
    w.buf[p++] = (v & 0x7f) | 0x80
    v = Math.floor(v / 128)
  }
  w.buf[p] = v
}

/** Whether a uuid is all zeros (Kafka's ZERO_UUID, the default). */
export function isZeroUuid(u: Uint8Array): boolean {
  for (let i = 0; i < u.length; i++) if (u[i] !== 0) return false
  return true
}
`

const apiBaseName = (name: string): string => name.replace(/(Request|Response)$/, "")

const writeFile = (outDir: string, rel: string, content: string, written: Set<string>): void => {
  const file = path.join(outDir, rel)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  written.add(path.resolve(file))
  const prev = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined
  if (prev !== content) fs.writeFileSync(file, content)
}

const listTs = (dir: string): Array<string> => {
  if (!fs.existsSync(dir)) return []
  const out: Array<string> = []
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...listTs(p))
    else if (e.name.endsWith(".ts")) out.push(path.resolve(p))
  }
  return out
}

const readSource = (messagesDir: string): Source => {
  const file = path.join(path.dirname(messagesDir), "SOURCE.md")
  const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : ""
  const commit = /commit\s+([0-9a-f]{40})/.exec(text)?.[1] ?? "unknown"
  const version = /version\s+([0-9][\w.-]*)/.exec(text)?.[1] ?? "unknown version"
  return { version, commit }
}

/** Generates every file; returns the paths written. */
export const generate = (messagesDir: string, recordsDir: string, errorsTsv: string, outDir: string): Array<string> => {
  const src = readSource(messagesDir)
  const written = new Set<string>()
  const messages = loadFolder(messagesDir)
  const put = (rel: string, schemas: ReadonlyArray<string>, body: string, importRel: string): void =>
    writeFile(
      outDir,
      rel,
      `${header(src, schemas)}${withImports(body, importRel, [], rel !== "Runtime.ts")}\n`,
      written
    )

  // Runtime helpers shared by the generated codecs.
  put(
    "Runtime.ts",
    ["(shared helpers)"],
    `import { uvarintSize } from "../Writer.js"\n${RUNTIME.replace(/^\n/, "")}`,
    "../"
  )

  // APIs: one file per api key with its request and response.
  const byKey = new Map<number, { request?: MessageSpec; response?: MessageSpec }>()
  for (const m of messages) {
    if (m.apiKey === undefined || (m.type !== "request" && m.type !== "response")) continue
    const e = byKey.get(m.apiKey) ?? {}
    e[m.type] = m
    byKey.set(m.apiKey, e)
  }
  const apis: Array<{ key: number; name: string; req: MessageSpec; res: MessageSpec }> = []
  for (const [key, e] of [...byKey].sort((a, b) => a[0] - b[0])) {
    if (e.request === undefined || e.response === undefined)
      throw new Error(`api key ${key}: request or response missing`)
    const req = e.request
    const res = e.response
    if (
      req.validVersions.min !== res.validVersions.min ||
      req.validVersions.max !== res.validVersions.max ||
      req.flexibleVersions.min !== res.flexibleVersions.min
    )
      throw new Error(`api key ${key}: request and response versions differ`)
    const name = apiBaseName(req.name)
    apis.push({ key, name, req, res })
    const c = new Code()
    const flexMin = isEmpty(req.flexibleVersions) ? "null" : String(req.flexibleVersions.min)
    c.line(`/** The api key of ${name}. */`)
    c.line(`export const apiKey = ${key}`)
    c.line(`/** The versions this schema defines (all are supported). */`)
    c.line(`export const validVersions = { min: ${req.validVersions.min}, max: ${req.validVersions.max} } as const`)
    c.line(`/** The first flexible version (compact types and tagged fields), null when none is. */`)
    c.line(
      `export const flexibleVersions: { readonly min: number } | null = ${flexMin === "null" ? "null" : `{ min: ${flexMin} }`}`
    )
    c.line(`/** Whether the latest version is still unstable (not to be advertised). */`)
    c.line(`export const latestVersionUnstable = ${req.latestVersionUnstable}`)
    emitMessage(c, req)
    emitMessage(c, res)
    put(`${name}.ts`, [`${req.name}.json`, `${res.name}.json`], c.toString().replace(/^\n/, ""), "../")
  }

  // Headers.
  const reqHeader = messages.find((m) => m.type === "header" && m.name === "RequestHeader")
  const resHeader = messages.find((m) => m.type === "header" && m.name === "ResponseHeader")
  if (reqHeader === undefined || resHeader === undefined)
    throw new Error("RequestHeader.json/ResponseHeader.json missing")
  {
    const c = new Code()
    emitMessage(c, reqHeader)
    emitMessage(c, resHeader)
    const maxKey = Math.max(...apis.map((a) => a.key))
    const flex: Array<number> = new Array<number>(maxKey + 1).fill(-1)
    for (const a of apis) flex[a.key] = isEmpty(a.req.flexibleVersions) ? -1 : a.req.flexibleVersions.min
    c.line()
    c.line("/** First flexible version per api key (-1: none or unknown key). */")
    c.line(`const FLEXIBLE_MIN: ReadonlyArray<number> = [${flex.join(", ")}]`)
    c.line()
    c.line("/** Whether `apiVersion` of `apiKey` is flexible (false for unknown keys). */")
    c.open("export function isFlexibleVersion(apiKey: number, apiVersion: number): boolean {")
    c.line("const min = apiKey >= 0 && apiKey < FLEXIBLE_MIN.length ? FLEXIBLE_MIN[apiKey]! : -1")
    c.line("return min >= 0 && apiVersion >= min")
    c.close()
    c.line()
    c.line("/** The request header version: 0 for ControlledShutdown v0, 2 for flexible request versions, else 1. */")
    c.open("export function requestHeaderVersion(apiKey: number, apiVersion: number): number {")
    c.line("if (apiKey === 7 && apiVersion === 0) return 0")
    c.line("return isFlexibleVersion(apiKey, apiVersion) ? 2 : 1")
    c.close()
    c.line()
    c.line("/** The response header version: ApiVersions responses always use 0; flexible versions use 1, others 0. */")
    c.open("export function responseHeaderVersion(apiKey: number, apiVersion: number): number {")
    c.line("if (apiKey === 18) return 0")
    c.line("return isFlexibleVersion(apiKey, apiVersion) ? 1 : 0")
    c.close()
    c.line()
    c.line(
      "/** Reads a request header, choosing its version from the api key and version it starts with (unknown keys: v1). */"
    )
    c.open("export function readRequestHeader(r: Reader): RequestHeader {")
    c.line("r.need(4)")
    c.line("const apiKey = r.view.getInt16(r.offset)")
    c.line("const apiVersion = r.view.getInt16(r.offset + 2)")
    c.line("return decodeRequestHeader(r, requestHeaderVersion(apiKey, apiVersion))")
    c.close()
    put("Header.ts", ["RequestHeader.json", "ResponseHeader.json"], c.toString().replace(/^\n/, ""), "../")
  }

  // ApiKey table and generic dispatch.
  {
    const c = new Code()
    const imports = apis.map((a) => `import * as ${a.name} from "./${a.name}.js"`)
    c.line("/** Api keys by name. */")
    c.open("export const ApiKey = {")
    for (const a of apis) c.line(`${a.name}: ${a.key},`)
    c.close("} as const")
    c.line("/** A known api key. */")
    c.line("export type ApiKey = (typeof ApiKey)[keyof typeof ApiKey]")
    c.line()
    c.line("/** Request body type per api key. */")
    c.open("export interface RequestTypes {")
    for (const a of apis) c.line(`${a.key}: ${a.name}.${typeName(a.req, a.req.name)}`)
    c.close()
    c.line()
    c.line("/** Response body type per api key. */")
    c.open("export interface ResponseTypes {")
    for (const a of apis) c.line(`${a.key}: ${a.name}.${typeName(a.res, a.res.name)}`)
    c.close()
    c.line()
    c.line("/** What a broker or client needs to handle one api generically. */")
    c.open("export interface ApiSpec<Req, Res> {")
    c.line("readonly apiKey: number")
    c.line("readonly name: string")
    c.line("readonly minVersion: number")
    c.line("readonly maxVersion: number")
    c.line("/** First flexible version, null when no version is flexible. */")
    c.line("readonly flexibleMin: number | null")
    c.line("readonly latestVersionUnstable: boolean")
    c.line("/** The kinds of node that serve this api in Kafka (`broker`, `controller`, `zkBroker`). */")
    c.line("readonly listeners: ReadonlyArray<string>")
    c.line("readonly encodeRequest: (w: Writer, v: Req, version: number) => void")
    c.line("readonly decodeRequest: (r: Reader, version: number) => Req")
    c.line("readonly encodeResponse: (w: Writer, v: Res, version: number) => void")
    c.line("readonly decodeResponse: (r: Reader, version: number) => Res")
    c.line("readonly makeRequest: (partial?: Partial<Req>) => Req")
    c.line("readonly makeResponse: (partial?: Partial<Res>) => Res")
    c.close()
    c.line()
    c.line("/** Every api, by key. */")
    c.open("export const apis: { readonly [K in ApiKey]: ApiSpec<RequestTypes[K], ResponseTypes[K]> } = {")
    for (const a of apis) {
      const rq = typeName(a.req, a.req.name)
      const rs = typeName(a.res, a.res.name)
      c.open(`${a.key}: {`)
      c.line(`apiKey: ${a.key},`)
      c.line(`name: "${a.name}",`)
      c.line(`minVersion: ${a.req.validVersions.min},`)
      c.line(`maxVersion: ${a.req.validVersions.max},`)
      c.line(`flexibleMin: ${isEmpty(a.req.flexibleVersions) ? "null" : a.req.flexibleVersions.min},`)
      c.line(`latestVersionUnstable: ${a.req.latestVersionUnstable},`)
      c.line(`listeners: ${JSON.stringify(a.req.listeners)},`)
      c.line(`encodeRequest: ${a.name}.encode${rq},`)
      c.line(`decodeRequest: ${a.name}.decode${rq},`)
      c.line(`encodeResponse: ${a.name}.encode${rs},`)
      c.line(`decodeResponse: ${a.name}.decode${rs},`)
      c.line(`makeRequest: ${a.name}.make${rq},`)
      c.line(`makeResponse: ${a.name}.make${rs}`)
      c.close("},")
    }
    c.lines[c.lines.length - 1] = c.lines[c.lines.length - 1]!.replace(/,$/, "")
    c.close()
    c.line()
    c.line("/** Whether `apiKey` is a known api key. */")
    c.open("export function isApiKey(apiKey: number): apiKey is ApiKey {")
    c.line("return Object.prototype.hasOwnProperty.call(apis, apiKey)")
    c.close()
    c.line()
    c.line("/** The spec of an api key, undefined for unknown keys. */")
    c.open("export function apiSpec(apiKey: number): ApiSpec<unknown, unknown> | undefined {")
    c.line("return isApiKey(apiKey) ? (apis[apiKey] as unknown as ApiSpec<unknown, unknown>) : undefined")
    c.close()
    c.line()
    c.line("/** Whether the schemas define `version` of `apiKey`. */")
    c.open("export function isSupportedVersion(apiKey: number, version: number): boolean {")
    c.line("const s = apiSpec(apiKey)")
    c.line("return s !== undefined && version >= s.minVersion && version <= s.maxVersion")
    c.close()
    const dispatch = (fn: string, kind: "Request" | "Response", dir: "encode" | "decode"): void => {
      c.line()
      const T = kind === "Request" ? "RequestTypes" : "ResponseTypes"
      if (dir === "decode") {
        c.line(`/** Decodes a ${kind.toLowerCase()} body; a ProtocolError for unknown keys, versions or bad bytes. */`)
        c.open(`export function ${fn}<K extends ApiKey>(apiKey: K, version: number, r: Reader): ${T}[K] {`)
        c.line("const s = apiSpec(apiKey)")
        c.line(`if (s === undefined) return fail(\`unknown api key \${apiKey}\`, r.offset)`)
        c.line(`return s.${dir}${kind}(r, version) as ${T}[K]`)
      } else {
        c.line(`/** Encodes a ${kind.toLowerCase()} body; a ProtocolError for unknown keys or versions. */`)
        c.open(`export function ${fn}<K extends ApiKey>(apiKey: K, version: number, w: Writer, body: ${T}[K]): void {`)
        c.line("const s = apiSpec(apiKey)")
        c.line(`if (s === undefined) return fail(\`unknown api key \${apiKey}\`)`)
        c.line(`s.${dir}${kind}(w, body, version)`)
      }
      c.close()
    }
    dispatch("decodeRequest", "Request", "decode")
    dispatch("encodeRequest", "Request", "encode")
    dispatch("decodeResponse", "Response", "decode")
    dispatch("encodeResponse", "Response", "encode")
    const body = c.toString()
    writeFile(
      outDir,
      "ApiKey.ts",
      `${header(src, ["*Request.json", "*Response.json"])}${withImports(body, "../", imports)}\n`,
      written
    )
  }

  // Error codes.
  {
    const rows = fs
      .readFileSync(errorsTsv, "utf8")
      .split("\n")
      .slice(1)
      .map((l) => l.trim())
      .filter((l) => l !== "")
      .map((l) => {
        const [code, name, retriable] = l.split("\t")
        if (code === undefined || name === undefined || retriable === undefined)
          throw new Error(`bad errors.tsv line ${l}`)
        return { code: Number(code), name, retriable: retriable === "yes" }
      })
    const c = new Code()
    c.line("/** Kafka error codes by name. */")
    c.open("export const ErrorCode = {")
    for (const r of rows) c.line(`${r.name}: ${r.code},`)
    c.close("} as const")
    c.line("/** A known Kafka error code. */")
    c.line("export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]")
    c.line()
    c.line("/** An error code's name and whether clients retry it. */")
    c.open("export interface ErrorCodeInfo {")
    c.line("readonly code: number")
    c.line("readonly name: string")
    c.line("readonly retriable: boolean")
    c.close()
    c.line()
    c.line("/** Every error code, by code. */")
    c.open("export const errorCodes: ReadonlyMap<number, ErrorCodeInfo> = new Map([")
    for (const r of rows) c.line(`[${r.code}, { code: ${r.code}, name: "${r.name}", retriable: ${r.retriable} }],`)
    c.close("])")
    c.line()
    c.line("/** The info of an error code; unknown codes are reported as non-retriable `UNKNOWN(<code>)`. */")
    c.open("export function errorCodeInfo(code: number): ErrorCodeInfo {")
    c.line(`return errorCodes.get(code) ?? { code, name: \`UNKNOWN(\${code})\`, retriable: false }`)
    c.close()
    put("ErrorCode.ts", [path.basename(errorsTsv)], c.toString(), "../")
  }

  // Data schemas: internal-topic records, and the data structs of the messages folder.
  const dataFiles = (dir: string, specs: ReadonlyArray<MessageSpec>): Array<string> => {
    const names: Array<string> = []
    for (const m of specs) {
      if (m.type !== "data") continue
      const c = new Code()
      c.line(`/** The versions of ${m.name} (the int16 version the record starts with). */`)
      c.line(`export const validVersions = { min: ${m.validVersions.min}, max: ${m.validVersions.max} } as const`)
      emitMessage(c, m)
      put(`${dir}/${m.name}.ts`, [m.file], c.toString(), "../../")
      names.push(m.name)
    }
    const idx = names.map((n) => `export * as ${n} from "./${n}.js"`).join("\n")
    writeFile(outDir, `${dir}/index.ts`, `${header(src, ["(index)"])}${idx}\n`, written)
    return names
  }
  dataFiles("records", loadFolder(recordsDir))
  dataFiles("data", messages)

  // Index.
  {
    const lines = [
      ...apis.map((a) => `export * as ${a.name} from "./${a.name}.js"`),
      'export * from "./ApiKey.js"',
      'export * from "./ErrorCode.js"',
      'export * from "./Header.js"',
      'export type { UnknownTaggedField } from "./Runtime.js"',
      'export * as Records from "./records/index.js"',
      'export * as Data from "./data/index.js"'
    ]
    writeFile(outDir, "index.ts", `${header(src, ["(index)"])}${lines.join("\n")}\n`, written)
  }

  // Remove stale generated files.
  for (const f of listTs(outDir)) if (!written.has(f)) fs.rmSync(f)
  return [...written].sort()
}

const main = (): void => {
  const here = path.dirname(fileURLToPath(import.meta.url))
  const repo = path.resolve(here, "../../..")
  const shared = path.resolve(repo, "../shared/kafka-protocol")
  const [messagesDir, recordsDir, errorsTsv] = process.argv.slice(2)
  const out = path.resolve(repo, "packages/core/src/protocol/generated")
  const files = generate(
    path.resolve(messagesDir ?? path.join(shared, "messages")),
    path.resolve(recordsDir ?? path.join(shared, "records")),
    path.resolve(errorsTsv ?? path.join(shared, "errors.tsv")),
    out
  )
  process.stdout.write(`generated ${files.length} files in ${path.relative(process.cwd(), out) || "."}\n`)
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main()
