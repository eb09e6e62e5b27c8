/**
 * Settings shared by every client (producer, admin, fetcher), under Kafka's own names, with Kafka's defaults.
 */
import { Config, type ConfigError, Duration, Effect, Option, Schedule } from "effect"
import * as ClientError from "./ClientError.js"

/** Settings common to all clients. Every key is optional; {@link defaults} fills the gaps. */
export interface ClientConfig {
  /** Comma-separated `host:port` list (or an array of them). Default `localhost:9092`. */
  readonly "bootstrap.servers"?: string | ReadonlyArray<string>
  /** Sent in every request header. Default `eddy`. */
  readonly "client.id"?: string
  /** How long a request may wait for its response before the connection is closed. Default 30000. */
  readonly "request.timeout.ms"?: number
  /** How many times a failed request is retried. Default 2147483647 (bounded by the operation's timeout). */
  readonly retries?: number
  /** Backoff before the first retry; doubles per attempt up to `retry.backoff.max.ms`. Default 100. */
  readonly "retry.backoff.ms"?: number
  /** Cap of the exponential retry backoff. Default 1000. */
  readonly "retry.backoff.max.ms"?: number
  /** Metadata older than this is refreshed in the background. Default 300000. */
  readonly "metadata.max.age.ms"?: number
  /** Bound of an admin call or a metadata lookup, retries included. Default 60000. */
  readonly "default.api.timeout.ms"?: number
  /** Timeout of opening a TCP connection. Default 10000. */
  readonly "socket.connection.setup.timeout.ms"?: number
  /**
   * Eddy's own setting (Kafka has none): until the client has reached a broker once, a call that finds no
   * bootstrap server reachable fails after this many ms with a {@link ClientError.BootstrapTimeoutError}
   * instead of retrying for its whole timeout. Default -1: no separate bound.
   */
  readonly "bootstrap.timeout.ms"?: number
}

/** Kafka's defaults for {@link ClientConfig}. */
export const defaults = {
  "bootstrap.servers": "localhost:9092",
  "client.id": "eddy",
  "request.timeout.ms": 30000,
  retries: 2147483647,
  "retry.backoff.ms": 100,
  "retry.backoff.max.ms": 1000,
  "metadata.max.age.ms": 300000,
  "default.api.timeout.ms": 60000,
  "socket.connection.setup.timeout.ms": 10000,
  "bootstrap.timeout.ms": -1
} as const

/** {@link ClientConfig} with every default applied. */
export type Resolved = {
  readonly [K in keyof typeof defaults]-?: K extends "bootstrap.servers"
    ? ReadonlyArray<string>
    : (typeof defaults)[K] extends number
      ? number
      : string
}

/** Applies {@link defaults}; `bootstrap.servers` becomes an array. */
export const resolve = (config: ClientConfig): Resolved => {
  const servers = config["bootstrap.servers"] ?? defaults["bootstrap.servers"]
  return {
    "bootstrap.servers": (typeof servers === "string" ? servers.split(",") : servers)
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
    "client.id": config["client.id"] ?? defaults["client.id"],
    "request.timeout.ms": config["request.timeout.ms"] ?? defaults["request.timeout.ms"],
    retries: config.retries ?? defaults.retries,
    "retry.backoff.ms": config["retry.backoff.ms"] ?? defaults["retry.backoff.ms"],
    "retry.backoff.max.ms": config["retry.backoff.max.ms"] ?? defaults["retry.backoff.max.ms"],
    "metadata.max.age.ms": config["metadata.max.age.ms"] ?? defaults["metadata.max.age.ms"],
    "default.api.timeout.ms": config["default.api.timeout.ms"] ?? defaults["default.api.timeout.ms"],
    "socket.connection.setup.timeout.ms":
      config["socket.connection.setup.timeout.ms"] ?? defaults["socket.connection.setup.timeout.ms"],
    "bootstrap.timeout.ms": config["bootstrap.timeout.ms"] ?? defaults["bootstrap.timeout.ms"]
  }
}

/** Splits `host:port` (IPv6 in brackets allowed). */
export const parseHostPort = (s: string): { readonly host: string; readonly port: number } => {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(s)
  return m === null ? { host: s, port: 9092 } : { host: m[1]!, port: Number(m[2]) }
}

/**
 * The retry policy of a client: exponential from `retry.backoff.ms` capped at `retry.backoff.max.ms`, at most
 * `retries` times, only while the error is retriable and within `timeoutMs` overall.
 */
export const retrySchedule = (config: Resolved, timeoutMs: number = config["default.api.timeout.ms"]) =>
  Schedule.exponential(config["retry.backoff.ms"], 2).pipe(
    Schedule.modifyDelay((d) => Duration.min(d, Duration.millis(config["retry.backoff.max.ms"]))),
    Schedule.intersect(Schedule.recurs(config.retries)),
    Schedule.upTo(timeoutMs),
    Schedule.whileInput((e: unknown) => ClientError.isRetriable(e))
  )

/**
 * Reads a config of type `A` from Effect's `ConfigProvider`, key by key (Kafka's dotted names); absent keys
 * are left out so that {@link defaults} apply.
 */
export const fromConfigProvider = <const Keys extends Record<string, "string" | "number" | "boolean">>(
  keys: Keys
): Effect.Effect<
  { readonly [K in keyof Keys]?: Keys[K] extends "number" ? number : Keys[K] extends "boolean" ? boolean : string },
  ConfigError.ConfigError
> =>
  Effect.gen(function* () {
    const out: Record<string, unknown> = {}
    for (const [key, type] of Object.entries(keys)) {
      const c = type === "number" ? Config.number(key) : type === "boolean" ? Config.boolean(key) : Config.string(key)
      const v = yield* Config.option(c as Config.Config<unknown>)
      if (Option.isSome(v)) out[key] = v.value
    }
    return out as never
  })

/** The keys of {@link ClientConfig} and their types, for {@link fromConfigProvider}. */
export const clientKeys = {
  "bootstrap.servers": "string",
  "client.id": "string",
  "request.timeout.ms": "number",
  retries: "number",
  "retry.backoff.ms": "number",
  "retry.backoff.max.ms": "number",
  "metadata.max.age.ms": "number",
  "default.api.timeout.ms": "number",
  "socket.connection.setup.timeout.ms": "number",
  "bootstrap.timeout.ms": "number"
} as const
