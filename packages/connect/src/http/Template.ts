/**
 * `${name}` templates of the HTTP connectors: the polling source fills `${offset.<field>}` from its last
 * offset, the sink fills `${topic}`, `${key}` and `${partition}`. An unknown name is left as written so a
 * misconfigured template is visible in the request.
 */

const placeholder = /\$\{([^}]+)\}/g

/** Renders `template` with `lookup`; `encode` is applied to each substituted value (e.g. for URLs). */
export const render = (
  template: string,
  lookup: (name: string) => string | undefined,
  encode: (value: string) => string = (v) => v
): string =>
  template.includes("${")
    ? template.replace(placeholder, (whole, name: string) => {
        const value = lookup(name.trim())
        return value === undefined ? whole : encode(value)
      })
    : template

/** A lookup of `offset.<field>` in an offset map (objects rendered as JSON). */
export const offsetLookup =
  (offset: Readonly<Record<string, unknown>>) =>
  (name: string): string | undefined => {
    if (!name.startsWith("offset.")) return undefined
    const v = offset[name.slice("offset.".length)]
    return v === undefined ? undefined : v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v)
  }

/** Parses `k=v` pairs separated by `separator` (values may contain `=`). */
export const pairs = (text: string, separator: string | RegExp): ReadonlyArray<readonly [string, string]> =>
  text
    .split(separator)
    .map((p) => p.trim())
    .filter((p) => p !== "")
    .map((p) => {
      const i = p.indexOf("=")
      return i < 0 ? ([p, ""] as const) : ([p.slice(0, i).trim(), p.slice(i + 1).trim()] as const)
    })

/** Parses headers written `Name: value` (or `Name=value`), comma-separated. */
export const headers = (text: string): ReadonlyArray<readonly [string, string]> =>
  text
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "")
    .map((p) => {
      const i = p.search(/[:=]/)
      return i < 0 ? ([p, ""] as const) : ([p.slice(0, i).trim(), p.slice(i + 1).trim()] as const)
    })
