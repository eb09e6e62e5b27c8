/**
 * `eddy groups list|describe|reset-offsets|delete`: consumer group administration, after
 * `kafka-consumer-groups.sh`.
 */
import * as Admin from "@eddy/core/client/Admin"
import * as ClientError from "@eddy/core/client/ClientError"
import { ErrorCode } from "@eddy/core/protocol/generated/ErrorCode"
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { type ClientFlags, clientConfig, clientOptions, table, UsageError } from "./common.js"

const groupId = Args.text({ name: "group" }).pipe(Args.withDescription("The group id"))

const withAdmin = <A, E>(flags: ClientFlags, f: (admin: Admin.Admin) => Effect.Effect<A, E>) =>
  Effect.scoped(Effect.flatMap(Admin.make(clientConfig(flags)), f))

const list = Command.make("list", { ...clientOptions }, (flags) =>
  withAdmin(flags, (admin) =>
    Effect.flatMap(admin.listGroups(), (groups) =>
      groups.length === 0 ? Effect.void : Console.log(groups.map((g) => g.groupId).join("\n"))
    )
  )
).pipe(Command.withDescription("List group ids"))

const describe = Command.make("describe", { ...clientOptions, group: groupId }, (flags) =>
  withAdmin(flags, (admin) =>
    Effect.gen(function* () {
      const [group] = yield* admin.describeGroups([flags.group])
      const lag = yield* admin.groupLag(flags.group)
      if (group === undefined || (group.groupState === "Dead" && lag.length === 0)) {
        return yield* ClientError.fromCode(ErrorCode.GROUP_ID_NOT_FOUND, {
          message: `consumer group '${flags.group}' does not exist`
        })
      }
      const members = new Map(group.members.map((m) => [m.memberId, m]))
      const rows: Array<Array<string>> = [
        ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"]
      ]
      for (const p of lag) {
        const m = p.memberId === null ? undefined : members.get(p.memberId)
        rows.push([
          flags.group,
          p.topic,
          String(p.partition),
          p.committedOffset === null ? "-" : String(p.committedOffset),
          String(p.logEndOffset),
          p.lag === null ? "-" : String(p.lag),
          m?.memberId ?? "-",
          m?.clientHost ?? "-",
          m?.clientId ?? "-"
        ])
      }
      for (const m of group.members) {
        if (m.assignment.length === 0) {
          rows.push([flags.group, "-", "-", "-", "-", "-", m.memberId, m.clientHost, m.clientId])
        }
      }
      const header =
        group.members.length === 0
          ? `Consumer group '${flags.group}' has no active members.`
          : `Consumer group '${flags.group}' is ${group.groupState}${group.protocol === "" ? "" : ` (${group.protocol})`} with ${group.members.length} member(s).`
      yield* Console.log(`${header}\n\n${table(rows)}`)
    })
  )
).pipe(
  Command.withDescription("Show a group's members, their assignments, and committed offset, log end offset and lag")
)

const resetOffsets = Command.make(
  "reset-offsets",
  {
    ...clientOptions,
    group: groupId,
    topic: Options.text("topic").pipe(Options.withDescription("The topic whose offsets to reset (all partitions)")),
    toEarliest: Options.boolean("to-earliest").pipe(Options.withDescription("Reset to the earliest offset")),
    toLatest: Options.boolean("to-latest").pipe(Options.withDescription("Reset to the latest offset")),
    toOffset: Options.integer("to-offset").pipe(
      Options.withDescription("Reset to this offset (clamped to the log)"),
      Options.optional
    ),
    execute: Options.boolean("execute").pipe(Options.withDescription("Apply the plan (default: a dry run)"))
  },
  (flags) =>
    Effect.gen(function* () {
      const targets = [flags.toEarliest, flags.toLatest, Option.isSome(flags.toOffset)].filter((b) => b).length
      if (targets !== 1) {
        return yield* new UsageError({ message: "Pass exactly one of --to-earliest, --to-latest, --to-offset N" })
      }
      yield* withAdmin(flags, (admin) =>
        Effect.gen(function* () {
          const [description] = yield* admin.describeTopics([flags.topic])
          const partitions = description!.partitions.map((p) => p.partition)
          const bounds = yield* admin.listOffsets(
            partitions.flatMap((partition) => [
              { topic: flags.topic, partition, spec: "earliest" as const },
              { topic: flags.topic, partition, spec: "latest" as const }
            ])
          )
          const plan = partitions.map((partition, i) => {
            const earliest = bounds[2 * i]!.offset
            const latest = bounds[2 * i + 1]!.offset
            const offset = flags.toEarliest
              ? earliest
              : flags.toLatest
                ? latest
                : Math.min(latest, Math.max(earliest, Option.getOrThrow(flags.toOffset)))
            return { topic: flags.topic, partition, offset }
          })
          if (flags.execute) yield* admin.alterGroupOffsets(flags.group, plan)
          const rows = [
            ["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"],
            ...plan.map((p) => [flags.group, p.topic, String(p.partition), String(p.offset)])
          ]
          yield* Console.log(table(rows))
          if (!flags.execute) yield* Console.log("Dry run: nothing changed; add --execute to apply.")
        })
      )
    })
).pipe(Command.withDescription("Plan (or with --execute apply) new committed offsets for an inactive group"))

const del = Command.make("delete", { ...clientOptions, group: groupId }, (flags) =>
  Effect.zipRight(
    withAdmin(flags, (admin) => admin.deleteGroups([flags.group])),
    Console.log(`Deletion of requested consumer groups ('${flags.group}') was successful.`)
  )
).pipe(Command.withDescription("Delete an inactive group and its committed offsets"))

/** The subcommands of `groups`. */
export const groupsSubcommands = [list, describe, resetOffsets, del] as const

/** The `groups` subcommand. */
export const groups = Command.make("groups").pipe(
  Command.withDescription("List, describe, reset offsets of and delete consumer groups"),
  Command.withSubcommands(groupsSubcommands)
)
