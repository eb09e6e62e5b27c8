/**
 * `eddy topics create|list|describe|alter|delete`: topic administration through the admin client.
 */
import * as Admin from "@eddy/core/client/Admin"
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { type ClientFlags, clientConfig, clientOptions, parsePairs } from "./common.js"

const topicName = Args.text({ name: "topic" }).pipe(Args.withDescription("The topic name"))
const configs = Options.text("config").pipe(
  Options.withDescription("A topic config: --config key=value (repeatable)"),
  Options.repeated
)

const withAdmin = <A, E>(flags: ClientFlags, f: (admin: Admin.Admin) => Effect.Effect<A, E>) =>
  Effect.scoped(Effect.flatMap(Admin.make(clientConfig(flags)), f))

const create = Command.make(
  "create",
  {
    ...clientOptions,
    topic: topicName,
    partitions: Options.integer("partitions").pipe(
      Options.withDescription("Number of partitions (default: the broker's num.partitions)"),
      Options.optional
    ),
    replicationFactor: Options.integer("replication-factor").pipe(
      Options.withDescription("Replication factor (default: the broker's default.replication.factor)"),
      Options.optional
    ),
    configs
  },
  (flags) =>
    Effect.gen(function* () {
      const topicConfigs = yield* parsePairs("config", flags.configs)
      yield* withAdmin(flags, (admin) =>
        admin.createTopics([
          {
            name: flags.topic,
            configs: topicConfigs,
            ...Option.match(flags.partitions, { onNone: () => ({}), onSome: (n) => ({ numPartitions: n }) }),
            ...Option.match(flags.replicationFactor, {
              onNone: () => ({}),
              onSome: (n) => ({ replicationFactor: n })
            })
          }
        ])
      )
      yield* Console.log(`Created topic ${flags.topic}.`)
    })
).pipe(Command.withDescription("Create a topic"))

const list = Command.make("list", { ...clientOptions }, (flags) =>
  withAdmin(flags, (admin) =>
    Effect.flatMap(admin.listTopics(), (names) => (names.length === 0 ? Effect.void : Console.log(names.join("\n"))))
  )
).pipe(Command.withDescription("List topic names"))

const describe = Command.make("describe", { ...clientOptions, topic: Args.optional(topicName) }, (flags) =>
  withAdmin(flags, (admin) =>
    Effect.gen(function* () {
      const names = Option.isSome(flags.topic) ? [flags.topic.value] : yield* admin.listTopics()
      if (names.length === 0) return
      const topics = yield* admin.describeTopics(names)
      const topicConfigs = yield* admin.describeConfigs(names.map((name) => ({ type: "topic" as const, name })))
      const lines: Array<string> = []
      topics.forEach((t, i) => {
        const overrides = topicConfigs[i]!.configs.filter((c) => !c.isDefault && c.source === 1)
        const rf = t.partitions[0]?.replicas.length ?? 0
        lines.push(
          [
            `Topic: ${t.name}`,
            `TopicId: ${t.topicId}`,
            `PartitionCount: ${t.partitions.length}`,
            `ReplicationFactor: ${rf}`,
            `Configs: ${overrides.map((c) => `${c.name}=${c.isSensitive ? "(sensitive)" : (c.value ?? "")}`).join(",")}`
          ].join("\t")
        )
        for (const p of t.partitions) {
          lines.push(
            `\tTopic: ${t.name}\tPartition: ${p.partition}\tLeader: ${p.leader < 0 ? "none" : p.leader}\t` +
              `Replicas: ${p.replicas.join(",")}\tIsr: ${p.isr.join(",")}`
          )
        }
      })
      yield* Console.log(lines.join("\n"))
    })
  )
).pipe(Command.withDescription("Describe one topic (or all): partitions, leaders, replicas, ISR and config overrides"))

const alter = Command.make(
  "alter",
  {
    ...clientOptions,
    topic: topicName,
    configs,
    deleteConfigs: Options.text("delete-config").pipe(
      Options.withDescription("Remove a config override (repeatable)"),
      Options.repeated
    ),
    partitions: Options.integer("partitions").pipe(
      Options.withDescription("Raise the partition count to N"),
      Options.optional
    )
  },
  (flags) =>
    Effect.gen(function* () {
      const set = yield* parsePairs("config", flags.configs)
      const ops: Array<Admin.AlterConfigOp> = [
        ...Object.entries(set).map(([name, value]) => ({ name, op: "set" as const, value })),
        ...flags.deleteConfigs.map((name) => ({ name, op: "delete" as const }))
      ]
      yield* withAdmin(flags, (admin) =>
        Effect.gen(function* () {
          if (Option.isSome(flags.partitions)) yield* admin.createPartitions(flags.topic, flags.partitions.value)
          if (ops.length > 0) yield* admin.alterConfigs({ type: "topic", name: flags.topic }, ops)
        })
      )
      yield* Console.log(`Altered topic ${flags.topic}.`)
    })
).pipe(Command.withDescription("Change a topic's configs (--config, --delete-config) or raise its partition count"))

const del = Command.make("delete", { ...clientOptions, topic: topicName }, (flags) =>
  Effect.zipRight(
    withAdmin(flags, (admin) => admin.deleteTopics([flags.topic])),
    Console.log(`Deleted topic ${flags.topic}.`)
  )
).pipe(Command.withDescription("Delete a topic"))

/** The subcommands of `topics`. */
export const topicsSubcommands = [create, list, describe, alter, del] as const

/** The `topics` subcommand. */
export const topics = Command.make("topics").pipe(
  Command.withDescription("Create, list, describe, alter and delete topics"),
  Command.withSubcommands(topicsSubcommands)
)
