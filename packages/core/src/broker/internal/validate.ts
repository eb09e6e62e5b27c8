/** Value checks shared by broker-level and topic-level configuration keys; each returns a reason or undefined. */

/** Splits a comma-separated list value, trimming blanks. */
export const splitList = (v: string): Array<string> =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)

export const atLeast =
  (min: number) =>
  (v: string): string | undefined =>
    Number(v) < min ? `must be at least ${min}` : undefined

export const oneOf =
  (...allowed: ReadonlyArray<string>) =>
  (v: string): string | undefined =>
    allowed.includes(v) ? undefined : `must be one of ${allowed.join(", ")}`

export const listOf =
  (...allowed: ReadonlyArray<string>) =>
  (v: string): string | undefined => {
    for (const item of splitList(v)) if (!allowed.includes(item)) return `must be a list of ${allowed.join(", ")}`
    return undefined
  }
