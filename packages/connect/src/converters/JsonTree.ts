/**
 * A JSON tree with exact numbers and ordered objects, a parser into it and a writer that prints it as
 * Jackson does (compact, `\uXXXX` escapes in upper-case hex, Java's `Double.toString`/`Float.toString`), so
 * the JsonConverter's bytes equal Kafka's.
 */

/** A JSON number kept as its text (no precision lost). */
export interface JsonNumber {
  readonly _tag: "number"
  readonly text: string
}

/** A JSON object with its keys in order. */
export interface JsonObject {
  readonly _tag: "object"
  readonly entries: ReadonlyArray<readonly [string, JsonNode]>
}

/** A JSON value. */
export type JsonNode = null | boolean | string | JsonNumber | ReadonlyArray<JsonNode> | JsonObject

/** A number node from its text. */
export const num = (text: string): JsonNumber => ({ _tag: "number", text })

/** An object node from entries. */
export const obj = (entries: ReadonlyArray<readonly [string, JsonNode]>): JsonObject => ({ _tag: "object", entries })

/** True for object nodes. */
export const isObject = (node: JsonNode): node is JsonObject =>
  node !== null && typeof node === "object" && !Array.isArray(node) && (node as JsonObject)._tag === "object"

/** True for number nodes. */
export const isNumber = (node: JsonNode): node is JsonNumber =>
  node !== null && typeof node === "object" && !Array.isArray(node) && (node as JsonNumber)._tag === "number"

/** The value of an object's key (undefined when absent). */
export const get = (node: JsonObject, key: string): JsonNode | undefined => {
  for (const [k, v] of node.entries) if (k === key) return v
  return undefined
}

const splitShortest = (text: string): { digits: string; exp: number } => {
  // text is JS's shortest round-trip form, e.g. "1.5", "1e+21", "1.2e-7", "123"
  const [mantissa, e] = text.split("e")
  const exp10 = e ? Number(e) : 0
  const [int, frac = ""] = mantissa!.split(".")
  let digits = (int! + frac).replace(/^0+/, "")
  const leadingZeros = (int! + frac).length - (int! + frac).replace(/^0+/, "").length
  const pointPos = int!.length - leadingZeros + exp10 // decimal exponent: value = 0.digits * 10^pointPos
  digits = digits.replace(/0+$/, "") || "0"
  return { digits, exp: pointPos }
}

const javaFormat = (negative: boolean, digits: string, pointPos: number, magnitude: number): string => {
  const sign = negative ? "-" : ""
  if (digits === "0") return `${sign}0.0`
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    if (pointPos <= 0) return `${sign}0.${"0".repeat(-pointPos)}${digits}`
    if (pointPos >= digits.length) return `${sign}${digits}${"0".repeat(pointPos - digits.length)}.0`
    return `${sign}${digits.slice(0, pointPos)}.${digits.slice(pointPos)}`
  }
  const mantissa = `${digits[0]}.${digits.length > 1 ? digits.slice(1) : "0"}`
  return `${sign}${mantissa}E${pointPos - 1}`
}

/** Java's `Double.toString` (shortest digits that round-trip). */
export const javaDouble = (value: number): string => {
  if (Number.isNaN(value)) return "NaN"
  if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity"
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0"
  const { digits, exp } = splitShortest(Math.abs(value).toString())
  return javaFormat(value < 0, digits, exp, Math.abs(value))
}

/** Java's `Float.toString` of a float32 value (shortest digits that round-trip through float32). */
export const javaFloat = (value: number): string => {
  const f = Math.fround(value)
  if (Number.isNaN(f) || !Number.isFinite(f) || f === 0) return javaDouble(f)
  let text = Math.abs(f).toString()
  for (let p = 1; p <= 9; p++) {
    const candidate = Math.abs(f).toPrecision(p)
    if (Math.fround(Number(candidate)) === Math.abs(f)) {
      text = Number(candidate).toString()
      break
    }
  }
  const { digits, exp } = splitShortest(text)
  return javaFormat(f < 0, digits, exp, Math.abs(f))
}

const HEX = "0123456789ABCDEF"

const escapeString = (s: string): string => {
  let out = '"'
  let start = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c) continue
    out += s.slice(start, i)
    start = i + 1
    if (c === 0x22) out += '\\"'
    else if (c === 0x5c) out += "\\\\"
    else if (c === 0x0a) out += "\\n"
    else if (c === 0x0d) out += "\\r"
    else if (c === 0x09) out += "\\t"
    else if (c === 0x08) out += "\\b"
    else if (c === 0x0c) out += "\\f"
    else out += `\\u00${HEX[c >> 4]}${HEX[c & 15]}`
  }
  return `${out}${s.slice(start)}"`
}

/** Prints a node compactly, as Jackson's default writer does. */
export const stringify = (node: JsonNode): string => {
  if (node === null) return "null"
  if (typeof node === "boolean") return node ? "true" : "false"
  if (typeof node === "string") return escapeString(node)
  if (Array.isArray(node)) return `[${node.map(stringify).join(",")}]`
  if (isNumber(node)) return node.text
  return `{${(node as JsonObject).entries.map(([k, v]) => `${escapeString(k)}:${stringify(v)}`).join(",")}}`
}

/** A JSON syntax error with its position. */
export class JsonSyntaxError extends Error {}

const LITERALS: ReadonlyArray<readonly [string, JsonNode]> = [
  ["true", true],
  ["false", false],
  ["null", null]
]

/** Parses JSON text into a node tree (numbers exact, object keys in order). */
export const parse = (text: string): JsonNode => {
  let i = 0
  const fail = (what: string): never => {
    throw new JsonSyntaxError(`${what} at position ${i}`)
  }
  const skip = <A>(a: A): A => {
    i++
    return a
  }
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++
  }
  const value = (): JsonNode => {
    ws()
    const c = text[i]
    if (c === "{") {
      i++
      const entries: Array<[string, JsonNode]> = []
      ws()
      if (text[i] === "}") return skip(obj(entries))
      for (;;) {
        ws()
        if (text[i] !== '"') fail("expected a key")
        const key = str()
        ws()
        if (text[i++] !== ":") fail("expected ':'")
        entries.push([key, value()])
        ws()
        if (text[i] === ",") i++
        else if (text[i] === "}") return skip(obj(entries))
        else fail("expected ',' or '}'")
      }
    }
    if (c === "[") {
      i++
      const items: Array<JsonNode> = []
      ws()
      if (text[i] === "]") return skip(items)
      for (;;) {
        items.push(value())
        ws()
        if (text[i] === ",") i++
        else if (text[i] === "]") return skip(items)
        else fail("expected ',' or ']'")
      }
    }
    if (c === '"') return str()
    for (const [word, literal] of LITERALS) {
      if (text.startsWith(word, i)) {
        i += word.length
        return literal
      }
    }
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400))
    if (!m) return fail("unexpected character")
    i += m[0].length
    return num(m[0])
  }
  const str = (): string => {
    i++
    let out = ""
    for (;;) {
      const j = text.indexOf('"', i)
      const k = text.indexOf("\\", i)
      if (j < 0) fail("unterminated string")
      if (k < 0 || j < k) {
        out += text.slice(i, j)
        i = j + 1
        return out
      }
      out += text.slice(i, k)
      const e = text[k + 1]
      i = k + 2
      if (e === "u") {
        out += String.fromCharCode(parseInt(text.slice(i, i + 4), 16))
        i += 4
      } else out += ({ b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" } as Record<string, string>)[e!] ?? e
    }
  }
  const result = value()
  ws()
  if (i !== text.length) fail("trailing characters")
  return result
}

/** True when a number node has no fraction or exponent. */
export const isIntegral = (node: JsonNumber): boolean => /^-?\d+$/.test(node.text)

/** The number node as a JS number, or bigint when it is an integer beyond 2^53. */
export const toInteger = (node: JsonNumber): number | bigint => {
  if (!isIntegral(node)) return Math.trunc(Number(node.text))
  const n = Number(node.text)
  return Number.isSafeInteger(n) ? n : BigInt(node.text)
}
