/**
 * The queries of the query-based Postgres source, as pure data (Kafka Connect JDBC's modes): `bulk` reads
 * everything; `incrementing` reads `inc > last` ordered by `inc`; `timestamp` reads `last < ts < now - delay`
 * ordered by `ts`; `timestamp+incrementing` reads `ts < now - delay AND ((ts = last AND inc > lastInc) OR
 * ts > last)` ordered by `ts, inc`. Several timestamp columns are COALESCEd. Offsets are JDBC's map:
 * `incrementing` (a number), `timestamp` (ms since the epoch) and `timestamp_nanos` (nanoseconds within the
 * second), kept here as microseconds, Postgres's precision.
 */
import { quote } from "./PgConnection.js"
import { formatMicros, type Param } from "./PgTypes.js"

/** The source modes. */
export type Mode = "bulk" | "incrementing" | "timestamp" | "timestamp+incrementing"

/** Where a querier has read up to. */
export interface Offset {
  readonly incrementing: bigint | null
  /** Microseconds since the epoch. */
  readonly timestampMicros: number | null
}

/** What a querier reads: a table or a custom query. */
export type Source =
  | { readonly _tag: "table"; readonly schema: string; readonly table: string }
  | { readonly _tag: "query"; readonly query: string }

/** A querier's static settings. */
export interface QuerySpec {
  readonly source: Source
  readonly mode: Mode
  readonly incrementingColumn: string | null
  readonly timestampColumns: ReadonlyArray<string>
  readonly suffix: string
}

/** JDBC's initial incrementing offset. */
export const INITIAL_INCREMENTING = -1n

/** The first offset of a querier without a stored one (`timestamp.initial` in ms, or the epoch). */
export const initialOffset = (mode: Mode, timestampInitialMicros: number | null): Offset => ({
  incrementing: mode === "incrementing" || mode === "timestamp+incrementing" ? INITIAL_INCREMENTING : null,
  timestampMicros: mode === "timestamp" || mode === "timestamp+incrementing" ? (timestampInitialMicros ?? 0) : null
})

/** The offset map JDBC stores for an offset. */
export const toOffsetMap = (offset: Offset): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  if (offset.incrementing !== null) {
    const n = Number(offset.incrementing)
    out.incrementing = Number.isSafeInteger(n) ? n : offset.incrementing.toString()
  }
  if (offset.timestampMicros !== null) {
    const seconds = Math.floor(offset.timestampMicros / 1_000_000)
    const micros = offset.timestampMicros - seconds * 1_000_000
    out.timestamp = Math.floor(offset.timestampMicros / 1000)
    out.timestamp_nanos = micros * 1000
  }
  return out
}

/** The offset of a stored JDBC offset map (missing keys fall back to `initial`). */
export const fromOffsetMap = (map: Readonly<Record<string, unknown>> | null, initial: Offset): Offset => {
  if (map === null) return initial
  const inc = map.incrementing
  const ts = map.timestamp
  const nanos = map.timestamp_nanos
  const incrementing =
    typeof inc === "number" || typeof inc === "string" || typeof inc === "bigint" ? BigInt(inc) : initial.incrementing
  let timestampMicros = initial.timestampMicros
  if (typeof ts === "number") {
    const seconds = Math.floor(ts / 1000)
    timestampMicros = typeof nanos === "number" ? seconds * 1_000_000 + Math.floor(nanos / 1000) : Math.floor(ts) * 1000
  }
  return { incrementing: initial.incrementing === null ? null : incrementing, timestampMicros }
}

/** The source partition JDBC uses: `{protocol:"1", table:"<db>.<schema>.<table>"}` or `{query:"query"}`. */
export const partitionOf = (database: string, source: Source): Record<string, string> =>
  source._tag === "query"
    ? { query: "query" }
    : { protocol: "1", table: `${database}.${source.schema}.${source.table}` }

const fromClause = (source: Source) =>
  source._tag === "table" ? `${quote(source.schema)}.${quote(source.table)}` : `(${source.query}) AS "query"`

/** The timestamp expression (one column, or the COALESCE of several). */
const timestampExpr = (columns: ReadonlyArray<string>) =>
  columns.length === 1 ? quote(columns[0]!) : `COALESCE(${columns.map(quote).join(", ")})`

/** The statement and parameters of one query run; `upperMicros` is the DB's now minus the delay. */
export const statement = (
  spec: QuerySpec,
  offset: Offset,
  upperMicros: number
): { readonly text: string; readonly params: ReadonlyArray<Param> } => {
  const base = `SELECT * FROM ${fromClause(spec.source)}`
  const suffix = spec.suffix.trim() === "" ? "" : ` ${spec.suffix.trim()}`
  const inc = spec.incrementingColumn === null ? "" : quote(spec.incrementingColumn)
  const ts = timestampExpr(spec.timestampColumns)
  switch (spec.mode) {
    case "bulk":
      return { text: base + suffix, params: [] }
    case "incrementing":
      return {
        text: `${base} WHERE ${inc} > $1 ORDER BY ${inc} ASC${suffix}`,
        params: [(offset.incrementing ?? INITIAL_INCREMENTING).toString()]
      }
    case "timestamp":
      return {
        text: `${base} WHERE ${ts} > $1 AND ${ts} < $2 ORDER BY ${ts} ASC${suffix}`,
        params: [formatMicros(offset.timestampMicros ?? 0), formatMicros(upperMicros)]
      }
    case "timestamp+incrementing":
      return {
        text: `${base} WHERE ${ts} < $1 AND ((${ts} = $2 AND ${inc} > $3) OR ${ts} > $2) ORDER BY ${ts}, ${inc} ASC${suffix}`,
        params: [
          formatMicros(upperMicros),
          formatMicros(offset.timestampMicros ?? 0),
          (offset.incrementing ?? INITIAL_INCREMENTING).toString()
        ]
      }
  }
}
