/**
 * Pieces shared by the client commands: the `--bootstrap-server` option, `key=value` parsing, one-line error
 * messages and plain-text tables.
 */
import { Options } from "@effect/cli"
import { Effect, Schema } from "effect"

/** A usage or input problem reported as one plain line. */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", { message: Schema.String }) {}

/** `--bootstrap-server host:port[,host:port]`, default localhost:9092. */
export const bootstrapServer = Options.text("bootstrap-server").pipe(
  Options.withDescription("Comma-separated host:port list of brokers to bootstrap from"),
  Options.withDefault("localhost:9092")
)

/** Client settings for a command: its bootstrap servers and a short timeout so that a dead broker fails fast. */
export const clientConfig = (bootstrap: string) => ({
  "bootstrap.servers": bootstrap,
  "client.id": "eddy-cli",
  "default.api.timeout.ms": 15000,
  "socket.connection.setup.timeout.ms": 5000
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
      return detail === "" ? o.errorName : `${o.errorName}: ${detail}`
    }
    if (o._tag === "ConnectionError" || o._tag === "RequestTimeoutError") {
      const b = (e as { broker?: unknown }).broker
      return `${String(o._tag)}: ${typeof o.message === "string" && o.message !== "" ? o.message : `broker ${String(b)}`}`
    }
    if (typeof o.message === "string" && o.message !== "") return o.message
  }
  return String(e)
}
