/**
 * The `eddy` command tree, built with @effect/cli: broker, topics, produce, consume, groups, perf, connect, cluster; and
 * the preparation of a command line (options given before the subcommand move after it).
 */
import { Command } from "@effect/cli"
import { LogLevel } from "effect"
import { broker } from "./commands/broker.js"
import { cluster, clusterSubcommands } from "./commands/cluster.js"
import { connect, connectSubcommands } from "./commands/connect.js"
import { consume } from "./commands/consume.js"
import { groups, groupsSubcommands } from "./commands/groups.js"
import { perf, perfSubcommands } from "./commands/perf.js"
import { produce } from "./commands/produce.js"
import { topics, topicsSubcommands } from "./commands/topics.js"
import type { CommandNode } from "./Help.js"

/** The package version printed by `eddy --version`. */
export const version = "0.1.0"

/** The root `eddy` command. */
export const eddy = Command.make("eddy").pipe(
  Command.withDescription(
    "Eddy, a Kafka-compatible event-streaming platform: run a broker and work with topics, records, consumer groups and connectors"
  ),
  Command.withSubcommands([broker, topics, produce, consume, groups, perf, connect, cluster])
)

const leaf = (name: string, command: CommandNode["command"]): CommandNode => ({ name, command, children: [] })

/** The command tree by name, for help. */
export const tree: CommandNode = {
  name: "eddy",
  command: eddy,
  children: [
    leaf("broker", broker),
    {
      name: "topics",
      command: topics,
      children: ["create", "list", "describe", "alter", "delete"].map((n, i) => leaf(n, topicsSubcommands[i]!))
    },
    leaf("produce", produce),
    leaf("consume", consume),
    {
      name: "groups",
      command: groups,
      children: ["list", "describe", "reset-offsets", "delete"].map((n, i) => leaf(n, groupsSubcommands[i]!))
    },
    { name: "perf", command: perf, children: ["produce", "consume"].map((n, i) => leaf(n, perfSubcommands[i]!)) },
    {
      name: "connect",
      command: connect,
      children: Object.entries(connectSubcommands).map(([n, command]) => leaf(n, command))
    },
    {
      name: "cluster",
      command: cluster,
      children: Object.entries(clusterSubcommands).map(([n, command]) => leaf(n, command))
    }
  ]
}

/**
 * Moves the options written before or between the command words (`eddy --bootstrap-server h:p topics list`) to
 * the end of the command line, where @effect/cli parses them as the subcommand's
 * (`eddy topics list --bootstrap-server h:p`). `argv` as in `process.argv`; a command line without a known
 * command is returned as it is.
 */
export const normalizeArgv = (argv: ReadonlyArray<string>): Array<string> => {
  const [runtime = "", script = "", ...args] = argv
  const path: Array<string> = []
  const moved: Array<string> = []
  let node = tree
  let i = 0
  for (; i < args.length && node.children.length > 0; i++) {
    const child = node.children.find((c) => c.name === args[i])
    if (child === undefined) moved.push(args[i]!)
    else {
      path.push(args[i]!)
      node = child
    }
  }
  if (path.length === 0) return [runtime, script, ...args]
  return [runtime, script, ...path, ...args.slice(i), ...moved]
}

/** The levels of the global `--log-level` option. */
export const logLevels = {
  all: LogLevel.All,
  trace: LogLevel.Trace,
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warning: LogLevel.Warning,
  error: LogLevel.Error,
  fatal: LogLevel.Fatal,
  none: LogLevel.None
} as const

/**
 * Takes the global `--log-level LEVEL` (or `--log-level=LEVEL`) out of a client command's arguments (`eddy broker`
 * has an option of its own): the remaining arguments and the level (default `none`: a client command prints its
 * failure as one error line), or a usage error for an unknown level.
 */
export const takeLogLevel = (
  args: ReadonlyArray<string>
): { readonly args: Array<string>; readonly level: LogLevel.LogLevel } | { readonly error: string } => {
  if (args[0] === "broker") return { args: [...args], level: LogLevel.Info }
  const rest: Array<string> = []
  let name = "none"
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === "--log-level") name = args[++i] ?? ""
    else if (a.startsWith("--log-level=")) name = a.slice("--log-level=".length)
    else rest.push(a)
  }
  const level = (logLevels as Record<string, LogLevel.LogLevel>)[name]
  return level === undefined
    ? { error: `Invalid --log-level '${name}': expected one of ${Object.keys(logLevels).join(", ")}` }
    : { args: rest, level }
}

/** Runs the command line; `argv` as in `process.argv`. */
export const run = Command.run(eddy, { name: "eddy", version })
