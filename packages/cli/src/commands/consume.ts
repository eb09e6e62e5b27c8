/**
 * `eddy consume TOPIC`: prints records as text or JSON lines. Without `--group` it reads partitions directly
 * with the Fetcher; with `--group` it starts from the group's committed offsets and commits what it printed
 * (a standalone commit, generation -1, through the admin client).
 */
import * as Admin from "@eddy/core/client/Admin"
import * as Cluster from "@eddy/core/client/Cluster"
import * as Fetcher from "@eddy/core/client/Fetcher"
import type * as Topic from "@eddy/core/client/Topic"
import { Args, Command, Options } from "@effect/cli"
import { Clock, Effect, Option } from "effect"
import { bootstrapServer, clientConfig, UsageError, write } from "./common.js"

const utf8 = (b: Uint8Array | null): string | null =>
  b === null ? null : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("utf8")

/** Formats one record as a text line (`key<TAB>value` with `printKey`) or a JSON object. */
export const formatRecord = (
  r: Topic.ConsumerRecord<Uint8Array | null, Uint8Array | null>,
  format: "text" | "json",
  printKey: boolean
): string => {
  if (format === "json") {
    const headers: Record<string, string | null> = {}
    for (const h of r.headers) headers[h.key] = utf8(h.value)
    return JSON.stringify({
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp,
      key: utf8(r.key),
      value: utf8(r.value),
      headers
    })
  }
  const value = utf8(r.value) ?? "null"
  return printKey ? `${utf8(r.key) ?? "null"}\t${value}` : value
}

/** The `consume` subcommand. */
export const consume = Command.make(
  "consume",
  {
    bootstrap: bootstrapServer,
    topic: Args.text({ name: "topic" }).pipe(Args.withDescription("The topic to read")),
    fromBeginning: Options.boolean("from-beginning").pipe(
      Options.withDescription("Start at the earliest offset (default: the latest, or the group's committed offset)")
    ),
    maxMessages: Options.integer("max-messages").pipe(
      Options.withDescription("Exit after N records"),
      Options.optional
    ),
    partition: Options.integer("partition").pipe(
      Options.withDescription("Read only this partition (default: all)"),
      Options.optional
    ),
    offset: Options.integer("offset").pipe(
      Options.withDescription("Start at this offset (with --partition)"),
      Options.optional
    ),
    format: Options.choice("format", ["text", "json"]).pipe(
      Options.withDescription("text: the value per line; json: one object per record"),
      Options.withDefault("text" as const)
    ),
    printKey: Options.boolean("print-key").pipe(Options.withDescription("Print `key<TAB>value` in text format")),
    timeoutMs: Options.integer("timeout-ms").pipe(
      Options.withDescription("Exit after this many ms without a record"),
      Options.optional
    ),
    group: Options.text("group").pipe(
      Options.withDescription("Start from this group's committed offsets and commit what was printed"),
      Options.optional
    )
  },
  (flags) =>
    Effect.gen(function* () {
      if (Option.isSome(flags.offset) && Option.isNone(flags.partition)) {
        return yield* new UsageError({ message: "--offset needs --partition" })
      }
      const config = clientConfig(flags.bootstrap)
      const cluster = yield* Cluster.make({ ...config, "allow.auto.create.topics": false })
      const admin = Admin.makeWith(cluster)
      const fetcher = Fetcher.makeWith(cluster, { ...config, "auto.offset.reset": "earliest" })
      const info = yield* cluster.retry(cluster.topic(flags.topic))
      const partitions = Option.isSome(flags.partition)
        ? [flags.partition.value]
        : info.partitions.filter((p) => p !== undefined).map((p) => p.partition)
      const reset = flags.fromBeginning ? "earliest" : "latest"
      if (Option.isSome(flags.group)) {
        // the command commits outside any generation, which the coordinator refuses while the group has members
        const [group] = yield* admin.describeGroups([flags.group.value])
        if (group !== undefined && group.members.length > 0) {
          return yield* new UsageError({
            message: `Group '${flags.group.value}' has ${group.members.length} active member(s); eddy consume --group only reads inactive groups.`
          })
        }
      }
      const committed = Option.isSome(flags.group)
        ? new Map((yield* admin.listGroupOffsets(flags.group.value, [flags.topic])).map((o) => [o.partition, o.offset]))
        : new Map<number, number>()
      const starts: Array<Fetcher.PartitionStart> = partitions.map((partition) => ({
        partition,
        offset: Option.isSome(flags.offset) ? flags.offset.value : (committed.get(partition) ?? reset)
      }))
      let positions: ReadonlyMap<number, number> = yield* cluster.retry(fetcher.resolveOffsets(flags.topic, starts))
      const commit = Option.isSome(flags.group)
        ? (upTo: ReadonlyMap<number, number>) =>
            admin.alterGroupOffsets(
              flags.group.pipe(Option.getOrThrow),
              [...upTo].map(([partition, offset]) => ({ topic: flags.topic, partition, offset }))
            )
        : undefined
      // what has been printed, per partition: the next offset to commit
      const printed = new Map<number, number>()
      const max = Option.getOrElse(flags.maxMessages, () => Number.POSITIVE_INFINITY)
      const topic = { name: flags.topic, key: identity, value: identity }
      let count = 0
      let lastRecordAt = yield* Clock.currentTimeMillis
      const loop = Effect.gen(function* () {
        while (count < max) {
          const round = yield* cluster.retry(fetcher.fetchOnce(topic, positions))
          positions = round.positions
          const now = yield* Clock.currentTimeMillis
          if (round.records.length === 0) {
            if (Option.isSome(flags.timeoutMs) && now - lastRecordAt >= flags.timeoutMs.value) return
            continue
          }
          lastRecordAt = now
          const take = round.records.slice(0, max - count)
          count += take.length
          yield* write(`${take.map((r) => formatRecord(r, flags.format, flags.printKey)).join("\n")}\n`)
          for (const r of take) printed.set(r.partition, r.offset + 1)
        }
      })
      const commitPrinted = Effect.suspend(() =>
        commit === undefined || printed.size === 0 ? Effect.void : commit(printed)
      )
      // Ctrl-C still commits what was printed
      yield* loop.pipe(Effect.onInterrupt(() => Effect.ignore(commitPrinted)))
      yield* commitPrinted
    }).pipe(Effect.scoped)
).pipe(Command.withDescription("Print records of a topic (text or JSON lines)"))

const identity: Topic.Serde<Uint8Array | null> = { encode: (a) => a, decode: (b) => b }
