/**
 * Pieces shared by the client commands: the `--bootstrap-server` option, `key=value` parsing, one-line error
 * messages and plain-text tables.
 */
import { Options, ValidationError } from "@effect/cli"
import { Effect, Schema } from "effect"

/** A usage or input problem reported as one plain line. */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", { message: Schema.String }) {}

/** `--bootstrap-server host:port[,host:port]`, default localhost:9092. */
export const bootstrapServer = Options.text("bootstrap-server").pipe(
  Options.withDescription("Comma-separated host:port list of brokers to bootstrap from (default: localhost:9092)"),
  Options.withDefault("localhost:9092")
)

/** `--bootstrap-timeout-ms`, default 2000: how long a command tries to reach a first broker. */
export const bootstrapTimeout = Options.integer("bootstrap-timeout-ms").pipe(
  Options.withDescription("Give up after this many ms when no broker can be reached (default: 2000)"),
  Options.withDefault(2000)
)

/** The options of every client command. */
export const clientOptions = { bootstrap: bootstrapServer, bootstrapTimeoutMs: bootstrapTimeout }

/** The parsed {@link clientOptions}. */
export interface ClientFlags {
  readonly bootstrap: string
  readonly bootstrapTimeoutMs: number
}

/**
 * Client settings for a command: its bootstrap servers, a short bootstrap budget (`bootstrap.timeout.ms`) so that
 * a command fails fast when no broker runs, and a shorter bound of each call than a library's minute.
 */
export const clientConfig = (flags: ClientFlags) => ({
  "bootstrap.servers": flags.bootstrap,
  "client.id": "eddy-cli",
  "default.api.timeout.ms": 15000,
  "socket.connection.setup.timeout.ms": 5000,
  "bootstrap.timeout.ms": flags.bootstrapTimeoutMs
})

/** Parses repeated `key=value` flags into an object; `flag` names the option in errors. */
export const parsePairs = (
  flag: string,
  pairs: ReadonlyArray<string>
): Effect.Effect<Record<string, string>, UsageError> =>
  Effect.suspend(() => {
    const out: Record<string, string> = {}
    for (const p of pairs) {
      const i = p.indexOf("=")
      if (i <= 0) return Effect.fail(new UsageError({ message: `Invalid --${flag} '${p}': expected key=value` }))
      out[p.slice(0, i)] = p.slice(i + 1)
    }
    return Effect.succeed(out)
  })

/** Renders rows as left-aligned columns separated by two spaces (the first row is the header). */
export const table = (rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths: Array<number> = []
  for (const r of rows) {
    for (let i = 0; i < r.length; i++) widths[i] = Math.max(widths[i] ?? 0, r[i]!.length)
  }
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n")
}

/** Exit status of a usage error (bad or missing option, argument or file); every other failure exits with 1. */
export const usageExitCode = 2

/** The exit status of a failure: {@link usageExitCode} for usage errors, else 1. */
export const exitCodeOf = (e: unknown): number => {
  const tag = typeof e === "object" && e !== null ? (e as { _tag?: unknown })._tag : undefined
  return tag === "UsageError" || tag === "CliError" || ValidationError.isValidationError(e) ? usageExitCode : 1
}

/** Writes a line to stderr (a warning; failures are printed by main as one `error:` line). */
export const warn = (line: string): Effect.Effect<void> => Effect.sync(() => void process.stderr.write(`${line}\n`))

/** Writes text to stdout as is (no newline added). */
export const write = (text: string): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    if (process.stdout.write(text)) resume(Effect.void)
    else process.stdout.once("drain", () => resume(Effect.void))
  })

/**
 * The one-line message of a failure: Kafka errors as `NAME: broker message` (e.g.
 * `TOPIC_ALREADY_EXISTS: Topic 'x' already exists.`), everything else by its message.
 */
export const errorLine = (e: unknown): string => {
  if (typeof e === "object" && e !== null) {
    const o = e as { _tag?: unknown; errorName?: unknown; message?: unknown; topic?: unknown; partition?: unknown }
    if (o._tag === "KafkaError" && typeof o.errorName === "string") {
      const message = typeof o.message === "string" ? o.message : ""
      const colon = message.indexOf(": ")
      const detail =
        colon >= 0
          ? message.slice(colon + 2)
          : typeof o.topic === "string"
            ? `topic '${o.topic}'${typeof o.partition === "number" ? ` partition ${o.partition}` : ""}`
            : ""
      // the broker's message may not name the topic ("This server does not host this topic-partition.")
      const named =
        typeof o.topic === "string" && o.topic !== "" && !detail.includes(o.topic)
          ? `topic '${o.topic}'${detail === "" ? "" : `: ${detail}`}`
          : detail
      return named === "" ? o.errorName : `${o.errorName}: ${named}`
    }
    if (o._tag === "BootstrapTimeoutError") {
      const b = (e as { bootstrapServers?: unknown }).bootstrapServers
      const ms = (e as { timeoutMs?: unknown }).timeoutMs
      return (
        `no broker reachable at ${String(b)} (${String(o.message)}, for ${String(ms)} ms); ` +
        "start one with `eddy broker` (or `npm start` in Eddy's repository), or pass --bootstrap-server host:port"
      )
    }
    if (o._tag === "ConnectionError" || o._tag === "RequestTimeoutError") {
      const b = (e as { broker?: unknown }).broker
      return `${String(o._tag)}: ${typeof o.message === "string" && o.message !== "" ? o.message : `broker ${String(b)}`}`
    }
    if (typeof o.message === "string" && o.message !== "") return o.message
  }
  return String(e)
}
