/**
 * Connections of the Postgres connectors: an `@effect/sql-pg` client over a `pg` pool whose sessions use
 * UTC and return every column as its text form (the connectors map Postgres text to Connect values
 * themselves, so int8, numeric and timestamps keep every digit), from a JDBC or `postgres://` URL.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import type { SqlError } from "@effect/sql/SqlError"
import * as PgClient from "@effect/sql-pg/PgClient"
import { Effect, type Scope } from "effect"
import pg from "pg"
import { ConnectError } from "../plugin/ConnectError.js"

/** What a connector needs to connect. */
export interface ConnectionOptions {
  /** `jdbc:postgresql://host:port/db?...` or `postgres://user:pass@host:port/db?...`. */
  readonly url: string
  readonly user?: string | null
  readonly password?: string | null
  readonly maxConnections?: number
}

/** A `postgres://` connection string from a JDBC URL (or the URL itself when it is one already). */
export const connectionString = (url: string): string => {
  const trimmed = url.trim()
  if (trimmed.startsWith("jdbc:postgresql:")) {
    const rest = trimmed.slice("jdbc:postgresql:".length)
    return rest.startsWith("//") ? `postgresql:${rest}` : `postgresql://localhost/${rest}`
  }
  return trimmed
}

const textParsers: pg.CustomTypesConfig = { getTypeParser: () => (value: string) => value }

/** The connection string with the user and password put in (pg lets the string's fields win over options). */
const withCredentials = (options: ConnectionOptions): string => {
  const url = new URL(connectionString(options.url))
  if (options.user) url.username = encodeURIComponent(options.user)
  if (options.password) url.password = encodeURIComponent(options.password)
  return url.toString()
}

/** The pool configuration of a connection. */
export const poolConfig = (options: ConnectionOptions): pg.PoolConfig => ({
  connectionString: withCredentials(options),
  max: options.maxConnections ?? 2,
  options: "-c TimeZone=UTC -c DateStyle=ISO",
  types: textParsers
})

/** A client in the scope; every value of a result is its Postgres text form. */
export const make = (options: ConnectionOptions): Effect.Effect<PgClient.PgClient, SqlError, Scope.Scope> =>
  PgClient.fromPool({
    acquire: Effect.acquireRelease(
      Effect.sync(() => new pg.Pool(poolConfig(options))),
      (pool) => Effect.promise(() => pool.end().catch(() => undefined))
    ),
    types: textParsers
  }).pipe(Effect.provide(Reactivity.layer))

/** A result with its field descriptions (pg's Result). */
export interface RawResult {
  readonly rows: ReadonlyArray<Record<string, string | null>>
  readonly fields: ReadonlyArray<{
    readonly name: string
    readonly dataTypeID: number
    readonly dataTypeModifier: number
  }>
  readonly rowCount: number | null
}

/** Runs a statement and returns pg's raw result (rows plus field types). */
export const raw = (
  sql: PgClient.PgClient,
  text: string,
  params: ReadonlyArray<string | number | bigint | boolean | null | Uint8Array> = []
): Effect.Effect<RawResult, SqlError> => sql.unsafe(text, params).raw as Effect.Effect<RawResult, SqlError>

/** Quotes an identifier. */
export const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`

/** A SQL error as a ConnectError with Postgres's message. */
export const toConnectError =
  (what: string) =>
  (error: unknown): ConnectError => {
    const cause = (error as { cause?: unknown }).cause
    const detail = cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error)
    return new ConnectError({ message: `${what}: ${detail}`, cause: error })
  }
