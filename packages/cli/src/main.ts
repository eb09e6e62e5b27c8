import { ValidationError } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Console, Effect } from "effect"
import { run } from "./Cli.js"

run(process.argv).pipe(
  // @effect/cli has already printed its own validation errors; everything else is one plain line
  Effect.tapError((e) => (ValidationError.isValidationError(e) ? Effect.void : Console.error(`eddy: ${messageOf(e)}`))),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({ disableErrorReporting: true })
)

function messageOf(e: unknown): string {
  return typeof e === "object" && e !== null && "message" in e ? String((e as { message: unknown }).message) : String(e)
}
