/**
 * Java `.properties` syntax (as `java.util.Properties.load` reads it): `#`/`!` comments, `key=value`,
 * `key: value` and `key value`, backslash line continuations, and `\t \n \r \f \uXXXX` escapes.
 */

const isWs = (c: string): boolean => c === " " || c === "\t" || c === "\f"

/** Splits text into logical lines: comments and blanks dropped, continuations joined. */
const logicalLines = (text: string): Array<string> => {
  const natural = text.split(/\r\n|\r|\n/)
  const out: Array<string> = []
  let current: string | undefined
  for (const raw of natural) {
    let line = raw
    if (current !== undefined) {
      let i = 0
      while (i < line.length && isWs(line[i]!)) i++
      line = line.slice(i)
    } else {
      let i = 0
      while (i < line.length && isWs(line[i]!)) i++
      if (i === line.length) continue
      if (line[i] === "#" || line[i] === "!") continue
      line = line.slice(i)
    }
    let slashes = 0
    for (let j = line.length - 1; j >= 0 && line[j] === "\\"; j--) slashes++
    const continues = slashes % 2 === 1
    const body = continues ? line.slice(0, -1) : line
    current = (current ?? "") + body
    if (!continues) {
      out.push(current)
      current = undefined
    }
  }
  if (current !== undefined) out.push(current)
  return out
}

const unescapeText = (s: string): string => {
  let out = ""
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (c !== "\\") {
      out += c
      continue
    }
    const n = s[++i]
    if (n === undefined) break
    switch (n) {
      case "t":
        out += "\t"
        break
      case "n":
        out += "\n"
        break
      case "r":
        out += "\r"
        break
      case "f":
        out += "\f"
        break
      case "u": {
        const hex = s.slice(i + 1, i + 5)
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new Error(`Malformed \\uxxxx encoding in "${s}"`)
        out += String.fromCharCode(Number.parseInt(hex, 16))
        i += 4
        break
      }
      default:
        out += n
    }
  }
  return out
}

/** Parses properties text into `[key, value]` pairs in file order (a later duplicate wins in a map). */
export const parse = (text: string): Array<readonly [string, string]> =>
  logicalLines(text).map((line) => {
    let i = 0
    while (i < line.length) {
      const c = line[i]!
      if (c === "\\") {
        i += 2
        continue
      }
      if (c === "=" || c === ":" || isWs(c)) break
      i++
    }
    const key = line.slice(0, Math.min(i, line.length))
    let j = i
    while (j < line.length && isWs(line[j]!)) j++
    if (j < line.length && (line[j] === "=" || line[j] === ":")) j++
    while (j < line.length && isWs(line[j]!)) j++
    return [unescapeText(key), unescapeText(line.slice(j))] as const
  })

const escapeText = (s: string, isKey: boolean): string => {
  let out = ""
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    const code = c.charCodeAt(0)
    if (c === "\\" || c === "=" || c === ":" || c === "#" || c === "!") out += `\\${c}`
    else if (c === " " && (isKey || i === 0)) out += "\\ "
    else if (c === "\t") out += "\\t"
    else if (c === "\n") out += "\\n"
    else if (c === "\r") out += "\\r"
    else if (c === "\f") out += "\\f"
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, "0")}`
    else out += c
  }
  return out
}

/** Writes pairs as properties text (escaped so that {@link parse} reads them back). */
export const stringify = (pairs: Iterable<readonly [string, string]>, comment?: string): string => {
  let out = comment === undefined ? "" : `#${comment}\n`
  for (const [k, v] of pairs) out += `${escapeText(k, true)}=${escapeText(v, false)}\n`
  return out
}
