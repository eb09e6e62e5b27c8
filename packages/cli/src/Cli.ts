/**
 * The `eddy` command tree, built with @effect/cli: broker, topics, produce, consume, groups, perf, connect.
 */
import { Command } from "@effect/cli"
import { broker } from "./commands/broker.js"
import { connect } from "./commands/connect.js"
import { consume } from "./commands/consume.js"
import { groups } from "./commands/groups.js"
import { perf } from "./commands/perf.js"
import { produce } from "./commands/produce.js"
import { topics } from "./commands/topics.js"

/** The package version printed by `eddy --version`. */
export const version = "0.1.0"

/** The root `eddy` command. */
export const eddy = Command.make("eddy").pipe(
  Command.withSubcommands([broker, topics, produce, consume, groups, perf, connect])
)

/** Runs the command line; `argv` as in `process.argv`. */
export const run = Command.run(eddy, { name: "eddy", version })
