/**
 * `eddy broker`: runs a standalone broker node until SIGINT/SIGTERM, then shuts down gracefully.
 *
 * Configuration is layered: `--config server.properties`, then `--set key=value` overrides, then the
 * dedicated flags (`--node-id`, `--host`, `--port`, `--data-dir`, `--metrics-port`, `--rack`, `--etcd`). Brokers
 * sharing one etcd (`--etcd` or `eddy.metadata.etcd.endpoints`) form one cluster.
 */
import * as fs from "node:fs"
import * as BrokerConfig from "@eddy/core/broker/BrokerConfig"
import { Command, Options } from "@effect/cli"
import { Effect, Logger, LogLevel, Option, Schema } from "effect"

/** A configuration problem reported as one plain line. */
export class CliError extends Schema.TaggedError<CliError>()("CliError", { message: Schema.String }) {}

const options = {
  config: Options.file("config", { exists: "yes" }).pipe(
    Options.withDescription("A Kafka server.properties file"),
    Options.optional
  ),
  set: Options.text("set").pipe(
    Options.withDescription("Override one config key: --set key=value (repeatable)"),
    Options.repeated
  ),
  nodeId: Options.integer("node-id").pipe(
    Options.withDescription("This broker's id in the cluster (node.id; default 1)"),
    Options.optional
  ),
  rack: Options.text("rack").pipe(
    Options.withDescription("This broker's rack (broker.rack), for rack-aware replica placement"),
    Options.optional
  ),
  etcd: Options.text("etcd").pipe(
    Options.withDescription(
      "etcd client URLs of the cluster metadata store, comma-separated (eddy.metadata.etcd.endpoints; default: an in-process store, this broker alone)"
    ),
    Options.optional
  ),
  host: Options.text("host").pipe(Options.withDescription("Host to bind (default: 127.0.0.1)"), Options.optional),
  port: Options.integer("port").pipe(
    Options.withDescription("Port to bind (default: 9092; 0 picks a free port)"),
    Options.optional
  ),
  dataDir: Options.text("data-dir").pipe(Options.withDescription("Data directory (default: ./data)"), Options.optional),
  metricsPort: Options.integer("metrics-port").pipe(
    Options.withDescription(
      "Serve Prometheus metrics (/metrics) and health (/health) over HTTP on this port (metrics.port; default off, 0 picks a free port)"
    ),
    Options.optional
  ),
  logLevel: Options.choice("log-level", ["debug", "info", "warning", "error"]).pipe(
    Options.withDescription("Log level (default: info; debug logs every request)"),
    Options.withDefault("info" as const)
  )
}

type Flags = Command.Command.ParseConfig<typeof options>

/** Builds the broker config from the flags. */
export const loadConfig = (flags: Flags): Effect.Effect<BrokerConfig.BrokerConfig, CliError> =>
  Effect.gen(function* () {
    const text = Option.isSome(flags.config)
      ? yield* Effect.try({
          try: () => fs.readFileSync(flags.config.pipe(Option.getOrThrow), "utf8"),
          catch: (e) =>
            new CliError({ message: `Cannot read ${Option.getOrThrow(flags.config)}: ${(e as Error).message}` })
        })
      : ""
    const toCli = (e: BrokerConfig.BrokerConfigError) => new CliError({ message: e.message })
    let config = yield* Effect.mapError(BrokerConfig.fromProperties(text, flags.set), toCli)
    if (Option.isSome(flags.port) && (flags.port.value < 0 || flags.port.value > 65535)) {
      return yield* new CliError({ message: `Invalid --port ${flags.port.value}: expected 0-65535` })
    }
    if (Option.isSome(flags.host) || Option.isSome(flags.port)) {
      const current = yield* Effect.try({ try: () => BrokerConfig.listener(config), catch: (e) => toCli(e as never) })
      const host = Option.getOrElse(flags.host, () => current.host)
      const port = Option.getOrElse(flags.port, () => current.port)
      const hostPart = host.includes(":") ? `[${host}]` : host
      config = yield* Effect.mapError(
        BrokerConfig.set(config, { listeners: `${current.name}://${hostPart}:${port}` }),
        toCli
      )
    }
    if (Option.isSome(flags.metricsPort)) {
      if (flags.metricsPort.value < 0 || flags.metricsPort.value > 65535) {
        return yield* new CliError({ message: `Invalid --metrics-port ${flags.metricsPort.value}: expected 0-65535` })
      }
      config = yield* Effect.mapError(
        BrokerConfig.set(config, { "metrics.port": String(flags.metricsPort.value) }),
        toCli
      )
    }
    const direct: Record<string, string> = {}
    if (Option.isSome(flags.nodeId)) direct["node.id"] = String(flags.nodeId.value)
    if (Option.isSome(flags.rack)) direct["broker.rack"] = flags.rack.value
    if (Option.isSome(flags.etcd)) direct["eddy.metadata.etcd.endpoints"] = flags.etcd.value
    if (Object.keys(direct).length > 0) config = yield* Effect.mapError(BrokerConfig.set(config, direct), toCli)
    if (Option.isSome(flags.dataDir)) {
      config = yield* Effect.mapError(BrokerConfig.set(config, { "log.dirs": flags.dataDir.value }), toCli)
    }
    return config
  })

const levels = {
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warning: LogLevel.Warning,
  error: LogLevel.Error
} as const

/** The `broker` subcommand. */
export const broker = Command.make("broker", options, (flags) =>
  Effect.gen(function* () {
    const config = yield* loadConfig(flags)
    if (config.unknownKeys.length > 0) {
      yield* Effect.logWarning(`Ignoring unknown configuration keys: ${config.unknownKeys.join(", ")}`)
    }
    // loaded on demand so that the client commands start faster
    const Broker = yield* Effect.promise(() => import("@eddy/core/broker/Broker"))
    return yield* Broker.run(config).pipe(Effect.mapError((e) => new CliError({ message: e.message })))
  }).pipe(Logger.withMinimumLogLevel(levels[flags.logLevel]))
).pipe(Command.withDescription("Run a standalone broker node (Ctrl-C or SIGTERM stops it gracefully)"))
