/**
 * JSON Pointer (RFC 6901): `/a/0/b` walks object keys and array indexes; `~1` is `/` and `~0` is `~`; the
 * empty pointer and `/` (as the HTTP connectors' configs write the whole document) select the document.
 */

/** A pointer's reference tokens, unescaped. */
export const parse = (pointer: string): ReadonlyArray<string> => {
  if (pointer === "" || pointer === "/") return []
  if (!pointer.startsWith("/")) throw new Error(`Invalid JSON pointer ${pointer}: it must start with /`)
  return pointer
    .slice(1)
    .split("/")
    .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"))
}

/** The value `pointer` selects in `document`, or undefined when a token does not resolve. */
export const get = (document: unknown, pointer: string | ReadonlyArray<string>): unknown => {
  let current = document
  for (const token of typeof pointer === "string" ? parse(pointer) : pointer) {
    if (Array.isArray(current)) {
      if (!/^(0|[1-9]\d*)$/.test(token)) return undefined
      current = current[Number(token)]
    } else if (typeof current === "object" && current !== null && Object.hasOwn(current, token)) {
      current = (current as Record<string, unknown>)[token]
    } else return undefined
  }
  return current
}
