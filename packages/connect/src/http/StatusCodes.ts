/**
 * HTTP status code sets as the connectors' configs write them: comma-separated codes and ranges, where a
 * range is `200..299` (the polling source's style), `500-599`, or open-ended `500-` / `500..`.
 */

/** A set of status codes. */
export interface StatusCodes {
  readonly has: (status: number) => boolean
  /** The set as configured. */
  readonly text: string
}

const range = /^(\d{3})\s*(?:\.\.|-)\s*(\d{3})?$/

/** Parses a code list; throws on a malformed entry. */
export const parse = (text: string): StatusCodes => {
  const ranges: Array<readonly [number, number]> = []
  for (const raw of text.split(",")) {
    const part = raw.trim()
    if (part === "") continue
    if (/^\d{3}$/.test(part)) {
      ranges.push([Number(part), Number(part)])
      continue
    }
    const m = range.exec(part)
    if (!m) throw new Error(`Invalid status code or range: ${part}`)
    ranges.push([Number(m[1]), m[2] === undefined ? 999 : Number(m[2])])
  }
  return { text, has: (status) => ranges.some(([lo, hi]) => status >= lo && status <= hi) }
}
