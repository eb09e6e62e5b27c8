/**
 * The `eddy` command tree, built with @effect/cli. Subcommands are added as their features land
 * (broker, topics, produce, consume, groups, perf).
 */
import { Command } from "@effect/cli"
import { broker } from "./commands/broker.js"

/** The package version printed by `eddy --version`. */
export const version = "0.1.0"

/** The root `eddy` command. */
export const eddy = Command.make("eddy").pipe(Command.withSubcommands([broker]))

/** Runs the command line; `argv` as in `process.argv`. */
export const run = Command.run(eddy, { name: "eddy", version })
