import { ValidationError } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Console, Effect, Exit, Logger, LogLevel, Option } from "effect"
import { normalizeArgv, run, takeLogLevel, tree } from "./Cli.js"
import { errorLine, exitCodeOf, UsageError } from "./commands/common.js"
import * as Help from "./Help.js"

const normalized = normalizeArgv(process.argv)
const logLevel = takeLogLevel(normalized.slice(2))
const argv = "args" in logLevel ? [...normalized.slice(0, 2), ...logLevel.args] : normalized
const colour = Help.useColour(process.stdout)

/** @effect/cli's "'x' is not a integer" names the value only: prefixes the option it was given to. */
const namingTheOption = (message: string): string => {
  const m = /^'(.*)' is not an? (\w+)/.exec(message)
  if (m === null) return message
  const i = argv.indexOf(m[1]!, 2)
  const option = i > 2 && argv[i - 1]!.startsWith("--") ? argv[i - 1] : undefined
  return option === undefined
    ? message
    : `Invalid ${option} '${m[1]}': not ${m[2] === "integer" ? "an integer" : `a ${m[2]}`}`
}

// the exit status of the failure printed (see common.ts: 2 for usage errors, else 1)
let exitCode = 0

/** Prints the one `error: ...` line of a failure and remembers its exit code. */
const fail = (e: unknown) =>
  Effect.sync(() => {
    exitCode = exitCodeOf(e)
    const line = ValidationError.isValidationError(e)
      ? namingTheOption(
          Help.docText(e.error)
            .map((t) => t.trim())
            .filter((t) => t !== "")
            .join(" ")
        )
      : errorLine(e)
    process.stderr.write(`error: ${Help.stripAnsi(line)}\n`)
  })

// @effect/cli prints its own validation errors (in colour, over several lines) with Console.error: they are
// printed above as one line instead; its other output (--version) loses its colour when stdout is no terminal,
// and its trailing blank line
const cliConsole = Effect.map(Effect.console, (base) => ({
  ...base,
  error: () => Effect.void,
  log: (...args: ReadonlyArray<unknown>) =>
    base.log(...args.map((a) => (typeof a !== "string" ? a : (colour ? a : Help.stripAnsi(a)).replace(/\n+$/, ""))))
}))

const helpPath = Help.helpPath(tree, argv.slice(2))

const program =
  "error" in logLevel
    ? Effect.fail(new UsageError({ message: logLevel.error }))
    : helpPath !== undefined
      ? Console.log(Help.render(tree, helpPath, { width: Help.terminalWidth(process.stdout), colour }).trimEnd()).pipe(
          Effect.asVoid
        )
      : Effect.flatMap(cliConsole, (console) => run(argv).pipe(Effect.withConsole(console)))

program.pipe(
  Effect.tapErrorCause((cause) => {
    const failure = Cause.failureOption(cause)
    if (Option.isSome(failure)) return fail(failure.value)
    const defect = Cause.dieOption(cause)
    return Option.isSome(defect) ? fail(defect.value) : Effect.void
  }),
  // a client command reports its failure as the one error line above, so the clients' own logs are off unless
  // --log-level asks for them (the broker command sets its own level)
  Logger.withMinimumLogLevel("level" in logLevel ? logLevel.level : LogLevel.None),
  // log lines (eddy broker) in colour only on a terminal without NO_COLOR
  Effect.provide(Logger.replace(Logger.defaultLogger, Logger.prettyLogger({ colors: colour }))),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({
    disableErrorReporting: true,
    disablePrettyLogger: true,
    teardown: (exit, onExit) =>
      onExit(Exit.isSuccess(exit) || Cause.isInterruptedOnly(exit.cause) ? 0 : exitCode === 0 ? 1 : exitCode)
  })
)
