/**
 * `eddy cluster brokers|partitions|reassignments|reassign|elect-leaders`: the cluster as an operator sees it
 * (brokers and the controller; leaders, replicas and ISR per partition, under-replicated and offline ones) and the
 * operations on it (partition reassignment, preferred or unclean leader election), through the admin client.
 */
import * as Admin from "@eddy/core/client/Admin"
import { Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { type ClientFlags, clientConfig, clientOptions, errorLine, table, UsageError } from "./common.js"

const withAdmin = <A, E>(flags: ClientFlags, f: (admin: Admin.Admin) => Effect.Effect<A, E>) =>
  Effect.scoped(Effect.flatMap(Admin.make(clientConfig(flags)), f))

const topicOption = Options.text("topic").pipe(Options.withDescription("Only this topic"), Options.optional)
const partitionOption = Options.integer("partition").pipe(
  Options.withDescription("Only this partition (with --topic)"),
  Options.optional
)

const brokers = Command.make("brokers", { ...clientOptions }, (flags) =>
  withAdmin(flags, (admin) =>
    Effect.gen(function* () {
      const c = yield* admin.describeCluster()
      const rows = [...c.brokers]
        .sort((a, b) => a.nodeId - b.nodeId)
        .map((b) => [
          String(b.nodeId),
          `${b.host}:${b.port}`,
          b.rack ?? "",
          b.nodeId === c.controllerId ? "controller" : ""
        ])
      yield* Console.log(`Cluster ${c.clusterId ?? "(no id)"}`)
      yield* Console.log(table([["ID", "ADDRESS", "RACK", "ROLE"], ...rows]))
    })
  )
).pipe(Command.withDescription("List the brokers of the cluster and which one is the controller"))

/** One partition's row; `state` says why it is listed when it is not healthy. */
interface PartitionRow {
  readonly topic: string
  readonly partition: number
  readonly leader: number
  readonly replicas: ReadonlyArray<number>
  readonly isr: ReadonlyArray<number>
}

const underReplicated = (p: PartitionRow) => p.isr.length < p.replicas.length
const unavailable = (p: PartitionRow) => p.leader < 0

const partitions = Command.make(
  "partitions",
  {
    ...clientOptions,
    topic: topicOption,
    underReplicated: Options.boolean("under-replicated").pipe(
      Options.withDescription("Only partitions whose ISR is smaller than their replica list")
    ),
    unavailable: Options.boolean("unavailable").pipe(Options.withDescription("Only partitions with no leader"))
  },
  (flags) =>
    withAdmin(flags, (admin) =>
      Effect.gen(function* () {
        const names = Option.isSome(flags.topic) ? [flags.topic.value] : yield* admin.listTopics()
        const topics = names.length === 0 ? [] : yield* admin.describeTopics(names)
        const rows: Array<PartitionRow> = topics.flatMap((t) =>
          t.partitions.map((p) => ({
            topic: t.name,
            partition: p.partition,
            leader: p.leader,
            replicas: p.replicas,
            isr: p.isr
          }))
        )
        const shown = rows.filter(
          (p) => (!flags.underReplicated || underReplicated(p)) && (!flags.unavailable || unavailable(p))
        )
        if (shown.length === 0) {
          if (flags.underReplicated || flags.unavailable) yield* Console.log("No such partitions.")
          return
        }
        yield* Console.log(
          table([
            ["TOPIC", "PARTITION", "LEADER", "REPLICAS", "ISR", "STATE"],
            ...shown.map((p) => [
              p.topic,
              String(p.partition),
              p.leader < 0 ? "none" : String(p.leader),
              p.replicas.join(","),
              p.isr.join(","),
              unavailable(p) ? "offline" : underReplicated(p) ? "under-replicated" : "ok"
            ])
          ])
        )
      })
    )
).pipe(
  Command.withDescription(
    "Leaders, replicas and ISR of every partition (or one topic's); --under-replicated and --unavailable filter"
  )
)

const reassignments = Command.make("reassignments", { ...clientOptions }, (flags) =>
  withAdmin(flags, (admin) =>
    Effect.gen(function* () {
      const list = yield* admin.listPartitionReassignments()
      if (list.length === 0) return yield* Console.log("No partition reassignments in progress.")
      yield* Console.log(
        table([
          ["TOPIC", "PARTITION", "REPLICAS", "ADDING", "REMOVING"],
          ...list.map((r) => [
            r.topic,
            String(r.partition),
            r.replicas.join(","),
            r.addingReplicas.join(","),
            r.removingReplicas.join(",")
          ])
        ])
      )
    })
  )
).pipe(Command.withDescription("List the partition reassignments in progress"))

/** Parses `--replicas 1,2,3`. */
const parseReplicas = (text: string): Effect.Effect<ReadonlyArray<number>, UsageError> => {
  const ids = text.split(",").map((s) => s.trim())
  return ids.every((s) => /^\d+$/.test(s))
    ? Effect.succeed(ids.map(Number))
    : Effect.fail(new UsageError({ message: `Invalid --replicas '${text}': expected broker ids like 1,2,3` }))
}

/** Prints each partition's outcome; fails (exit 1) with the first error when any partition failed. */
const report = (results: ReadonlyArray<Admin.PartitionResult>, ok: string, benign?: number) =>
  Effect.gen(function* () {
    let failed: Admin.PartitionResult | undefined
    for (const r of results) {
      if (r.error === null) yield* Console.log(`${r.topic}-${r.partition}: ${ok}`)
      else if (benign !== undefined && r.error.errorCode === benign)
        yield* Console.log(`${r.topic}-${r.partition}: ${errorLine(r.error)}`)
      else {
        failed ??= r
        yield* Console.error(`${r.topic}-${r.partition}: ${errorLine(r.error)}`)
      }
    }
    if (failed !== undefined) return yield* Effect.fail(failed.error!)
  })

const reassign = Command.make(
  "reassign",
  {
    ...clientOptions,
    topic: Options.text("topic").pipe(Options.withDescription("The topic")),
    partition: Options.integer("partition").pipe(Options.withDescription("The partition")),
    replicas: Options.text("replicas").pipe(
      Options.withDescription("The new replica list, preferred leader first: --replicas 1,2,3"),
      Options.optional
    ),
    cancel: Options.boolean("cancel").pipe(Options.withDescription("Cancel the partition's reassignment in progress"))
  },
  (flags) =>
    Effect.gen(function* () {
      if (Option.isSome(flags.replicas) === flags.cancel)
        return yield* new UsageError({ message: "Pass exactly one of --replicas LIST and --cancel" })
      const replicas = Option.isSome(flags.replicas) ? yield* parseReplicas(flags.replicas.value) : null
      const results = yield* withAdmin(flags, (admin) =>
        admin.alterPartitionReassignments([{ topic: flags.topic, partition: flags.partition, replicas }])
      )
      yield* report(
        results,
        replicas === null ? "reassignment cancelled" : `reassignment to ${replicas.join(",")} started`
      )
    })
).pipe(Command.withDescription("Move a partition to a new replica list (--replicas 1,2,3), or --cancel a move"))

const electLeaders = Command.make(
  "elect-leaders",
  {
    ...clientOptions,
    type: Options.choice("type", ["preferred", "unclean"]).pipe(
      Options.withDescription(
        "preferred (default): back to each partition's first replica; unclean: an out-of-sync one"
      ),
      Options.withDefault("preferred" as const)
    ),
    topic: topicOption,
    partition: partitionOption
  },
  (flags) =>
    Effect.gen(function* () {
      if (Option.isSome(flags.partition) && Option.isNone(flags.topic))
        return yield* new UsageError({ message: "--partition needs --topic" })
      const results = yield* withAdmin(flags, (admin) =>
        Effect.gen(function* () {
          if (Option.isNone(flags.topic)) return yield* admin.electLeaders(flags.type)
          const topic = flags.topic.value
          const ps = Option.isSome(flags.partition)
            ? [flags.partition.value]
            : ((yield* admin.describeTopics([topic]))[0]?.partitions.map((p) => p.partition) ?? [])
          return yield* admin.electLeaders(
            flags.type,
            ps.map((partition) => ({ topic, partition }))
          )
        })
      )
      if (results.length === 0) return yield* Console.log("No leader election was needed.")
      // ELECTION_NOT_NEEDED: the right leader is in place already, which is what the operator wanted
      yield* report(results, "leader elected", 84)
    })
).pipe(
  Command.withDescription("Elect preferred (or unclean) leaders of every partition, one topic's, or one partition")
)

/** The subcommands of `cluster`, in help order. */
export const clusterSubcommands = { brokers, partitions, reassignments, reassign, "elect-leaders": electLeaders }

/** The `cluster` subcommand. */
export const cluster = Command.make("cluster").pipe(
  Command.withDescription("Brokers, partition leaders and ISR, reassignments and leader elections"),
  Command.withSubcommands([brokers, partitions, reassignments, reassign, electLeaders])
)
