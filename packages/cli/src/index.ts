/** The `eddy` command as a library: its command tree and runner. */
export * as Cli from "./Cli.js"
