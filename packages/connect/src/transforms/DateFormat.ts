/**
 * A subset of Java's SimpleDateFormat patterns, in UTC, for TimestampRouter and TimestampConverter:
 * `yyyy`, `yy`, `MM`, `dd`, `HH`, `mm`, `ss`, `SSS`, `XXX`/`Z` (always UTC) and quoted literals.
 */
import { DataError } from "../data/Struct.js"

const TOKEN = /'([^']*)'|yyyy|yy|MM|dd|HH|mm|ss|SSS|XXX|Z|[a-zA-Z]/g

const fields = (d: Date): Record<string, string> => ({
  yyyy: String(d.getUTCFullYear()).padStart(4, "0"),
  yy: String(d.getUTCFullYear() % 100).padStart(2, "0"),
  MM: String(d.getUTCMonth() + 1).padStart(2, "0"),
  dd: String(d.getUTCDate()).padStart(2, "0"),
  HH: String(d.getUTCHours()).padStart(2, "0"),
  mm: String(d.getUTCMinutes()).padStart(2, "0"),
  ss: String(d.getUTCSeconds()).padStart(2, "0"),
  SSS: String(d.getUTCMilliseconds()).padStart(3, "0"),
  XXX: "Z",
  Z: "+0000"
})

/** Formats a date with a pattern. */
export const format = (pattern: string, date: Date): string => {
  const f = fields(date)
  return pattern.replace(TOKEN, (token, literal: string | undefined) => {
    if (literal !== undefined) return literal === "" ? "'" : literal
    const v = f[token]
    if (v === undefined) throw new DataError({ message: `Unsupported date pattern letter '${token}' in ${pattern}` })
    return v
  })
}

/** Parses text written with a pattern (UTC). */
export const parse = (pattern: string, text: string): Date => {
  const order: Array<string> = []
  const regex = pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(TOKEN, (token, literal: string | undefined) => {
    if (literal !== undefined) return literal
    order.push(token)
    if (token === "XXX") return "(Z|[+-]\\d\\d:\\d\\d)"
    if (token === "Z") return "([+-]\\d{4})"
    return `(\\d{${token === "yyyy" ? 4 : token === "SSS" ? 3 : 2}})`
  })
  const m = new RegExp(`^${regex}$`).exec(text.trim())
  if (!m)
    throw new DataError({ message: `Could not parse timestamp: value (${text}) does not match pattern (${pattern})` })
  const v: Record<string, number> = { yyyy: 1970, MM: 1, dd: 1, HH: 0, mm: 0, ss: 0, SSS: 0 }
  order.forEach((token, i) => {
    if (token === "yy") v.yyyy = 2000 + Number(m[i + 1])
    else if (token !== "XXX" && token !== "Z") v[token] = Number(m[i + 1])
  })
  return new Date(Date.UTC(v.yyyy!, v.MM! - 1, v.dd!, v.HH!, v.mm!, v.ss!, v.SSS!))
}
