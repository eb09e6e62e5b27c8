/**
 * Java `.properties` files (as Kafka's worker and connector files are written: `key=value` or `key: value`
 * or `key value`, `#`/`!` comments, backslash line continuations and escapes) and connector files in
 * JSON (`{"name", "config"}` as POSTed to `/connectors`, or a flat config map).
 */
import { Schema } from "effect"

/** A properties or connector file that cannot be read. */
export class PropertiesError extends Schema.TaggedError<PropertiesError>()("PropertiesError", {
  message: Schema.String
}) {}

const unescapeJava = (s: string): string =>
  s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, e: string) => {
    if (e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16))
    return ({ t: "\t", n: "\n", r: "\r", f: "\f" } as Record<string, string>)[e] ?? e
  })

const logicalLines = (text: string): Array<string> => {
  const out: Array<string> = []
  let current: string | null = null
  for (const raw of text.split(/\r?\n|\r/)) {
    const line: string = current === null ? raw.replace(/^\s+/, "") : raw.replace(/^\s+/, "")
    if (current === null && (line === "" || line.startsWith("#") || line.startsWith("!"))) continue
    const trailing = /\\+$/.exec(line)?.[0].length ?? 0
    const continues = trailing % 2 === 1
    const body = continues ? line.slice(0, -1) : line
    current = current === null ? body : current + body
    if (!continues) {
      out.push(current)
      current = null
    }
  }
  if (current !== null) out.push(current)
  return out
}

/** Parses the text of a Java properties file. */
export const parse = (text: string): Record<string, string> => {
  const props: Record<string, string> = {}
  for (const line of logicalLines(text)) {
    const m = /^((?:\\.|[^=:\s\\])*)\s*[=:\s]?\s*(.*)$/s.exec(line)
    if (!m) continue
    props[unescapeJava(m[1]!)] = unescapeJava(m[2]!)
  }
  return props
}

/** A connector's name and config, from a properties or JSON connector file. */
export const parseConnectorFile = (
  text: string,
  isJson: boolean
): { readonly name: string; readonly config: Record<string, string> } => {
  if (!isJson) {
    const config = parse(text)
    if (!config.name) throw new PropertiesError({ message: "Connector config is missing the 'name' property" })
    return { name: config.name, config }
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    throw new PropertiesError({ message: `Invalid connector JSON: ${String(e)}` })
  }
  const obj = json as { name?: unknown; config?: unknown }
  const rawConfig = (typeof obj.config === "object" && obj.config !== null ? obj.config : obj) as Record<
    string,
    unknown
  >
  const config = Object.fromEntries(
    Object.entries(rawConfig)
      .filter(([k]) => obj.config !== undefined || k !== "config")
      .map(([k, v]) => [k, String(v)])
  )
  const name = typeof obj.name === "string" ? obj.name : config.name
  if (!name) throw new PropertiesError({ message: "Connector config is missing the 'name' property" })
  return { name, config: { ...config, name } }
}
