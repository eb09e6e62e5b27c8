import { ValidationError } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Console, Effect, Logger, LogLevel, Option } from "effect"
import { run } from "./Cli.js"
import { errorLine } from "./commands/common.js"

run(process.argv).pipe(
  // @effect/cli has already printed its own validation errors; everything else is one plain line
  Effect.tapErrorCause((cause) => {
    const failure = Cause.failureOption(cause)
    if (Option.isSome(failure)) {
      return ValidationError.isValidationError(failure.value)
        ? Effect.void
        : Console.error(`error: ${errorLine(failure.value)}`)
    }
    const defect = Cause.dieOption(cause)
    return Option.isSome(defect) ? Console.error(`error: ${errorLine(defect.value)}`) : Effect.void
  }),
  // clients log only errors (the broker command sets its own level)
  Logger.withMinimumLogLevel(LogLevel.Error),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({ disableErrorReporting: true })
)
