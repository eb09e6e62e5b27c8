/**
 * `eddy consume TOPIC`: prints records as text or JSON lines. Without `--group` it reads partitions directly
 * with the Fetcher (no group, nothing committed); with `--group` it is a member of the group (a `Consumer`):
 * it reads the partitions assigned to it and commits what it printed when it ends (also on Ctrl-C).
 */
import * as ClientError from "@eddy/core/client/ClientError"
import * as Cluster from "@eddy/core/client/Cluster"
import * as Consumer from "@eddy/core/client/Consumer"
import * as Fetcher from "@eddy/core/client/Fetcher"
import type * as Topic from "@eddy/core/client/Topic"
import { ErrorCode } from "@eddy/core/protocol/generated/ErrorCode"
import { Args, Command, Options } from "@effect/cli"
import { Clock, Duration, Effect, Option, Stream } from "effect"
import { clientConfig, clientOptions, UsageError, write } from "./common.js"

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

/**
 * The topic's metadata. A topic that does not exist fails with UNKNOWN_TOPIC_OR_PARTITION: at once, or, with
 * `--timeout-ms`, when it has not appeared within that time (a group member would wait for it forever).
 */
const findTopic = (cluster: Cluster.Cluster, name: string, timeoutMs: number | undefined) => {
  const check = (m: Cluster.MetadataSnapshot) =>
    m.topics.has(name)
      ? Effect.void
      : Effect.fail(
          ClientError.fromCode(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, {
            topic: name,
            message: `topic '${name}' does not exist`
          })
        )
  const exists =
    timeoutMs === undefined
      ? Effect.flatMap(cluster.retry(cluster.refresh([name])), check)
      : cluster.retry(Effect.flatMap(cluster.refresh([name]), check), timeoutMs)
  // then the cached topic, retried while its partitions have no leader yet (it is being created)
  return Effect.zipRight(exists, cluster.topic(name))
}

/** The `consume` subcommand. */
export const consume = Command.make(
  "consume",
  {
    ...clientOptions,
    topic: Args.text({ name: "topic" }).pipe(Args.withDescription("The topic to read")),
    fromBeginning: Options.boolean("from-beginning").pipe(
      Options.withDescription(
        "Start at the earliest offset (default: the latest; with --group, where the group has no committed offset)"
      )
    ),
    maxMessages: Options.integer("max-messages").pipe(
      Options.withDescription("Exit after N records"),
      Options.optional
    ),
    partition: Options.integer("partition").pipe(
      Options.withDescription("Read only this partition (default: all; not with --group)"),
      Options.optional
    ),
    offset: Options.integer("offset").pipe(
      Options.withDescription("Start at this offset (with --partition)"),
      Options.optional
    ),
    format: Options.choice("format", ["text", "json"]).pipe(
      Options.withDescription("text: the value per line; json: one object per record (default: text)"),
      Options.withDefault("text" as const)
    ),
    printKey: Options.boolean("print-key").pipe(Options.withDescription("Print `key<TAB>value` in text format")),
    timeoutMs: Options.integer("timeout-ms").pipe(
      Options.withDescription("Exit after this many ms without a record"),
      Options.optional
    ),
    group: Options.text("group").pipe(
      Options.withDescription("Join this consumer group, read its assigned partitions and commit what was printed"),
      Options.optional
    )
  },
  (flags) =>
    Effect.gen(function* () {
      if (Option.isSome(flags.offset) && Option.isNone(flags.partition)) {
        return yield* new UsageError({ message: "--offset needs --partition" })
      }
      if (Option.isSome(flags.group) && Option.isSome(flags.partition)) {
        return yield* new UsageError({
          message: "--partition cannot be used with --group (the group assigns the partitions)"
        })
      }
      const config = clientConfig(flags)
      const cluster = yield* Cluster.make({ ...config, "allow.auto.create.topics": false })
      const info = yield* findTopic(cluster, flags.topic, Option.getOrUndefined(flags.timeoutMs))
      const reset = flags.fromBeginning ? "earliest" : "latest"
      const max = Option.getOrElse(flags.maxMessages, () => Number.POSITIVE_INFINITY)
      const print = (records: ReadonlyArray<Topic.ConsumerRecord<Uint8Array | null, Uint8Array | null>>) =>
        write(`${records.map((r) => formatRecord(r, flags.format, flags.printKey)).join("\n")}\n`)

      if (Option.isSome(flags.group)) {
        if (max <= 0) return
        const topic = flags.topic
        // per partition, the offset after the last record printed (forgotten when the partition is revoked:
        // the consumer committed it then)
        const printed = new Map<number, number>()
        const consumer = yield* Consumer.makeWith(cluster, {
          ...config,
          "group.id": flags.group.value,
          "auto.offset.reset": reset,
          onPartitionsRevoked: (tps) =>
            Effect.sync(() => {
              for (const tp of tps) if (tp.topic === topic) printed.delete(tp.partition)
            })
        })
        let lastRecordAt = yield* Clock.currentTimeMillis
        // the idle time counts while the member is in the group (joining waits out the first rebalance)
        const idle = (ms: number) =>
          Effect.gen(function* () {
            for (;;) {
              const now = yield* Clock.currentTimeMillis
              if (consumer.generationId() < 0) lastRecordAt = now
              else if (now - lastRecordAt >= ms) return
              yield* Effect.sleep(Duration.millis(Math.max(1, Math.min(100, ms - (now - lastRecordAt)))))
            }
          })
        const records = consumer.records(topic).pipe(
          (s) => (Option.isSome(flags.timeoutMs) ? Stream.interruptWhen(s, idle(flags.timeoutMs.value)) : s),
          (s) => (Number.isFinite(max) ? Stream.take(s, max) : s)
        )
        // The consumer counts a record as consumed once the stream is pulled past it, and commits consumed
        // offsets when it closes (after this). A stream cut short (Ctrl-C, idle) may not have been pulled
        // past the last printed record, so the printed positions are set as consumed here.
        const markPrinted = Effect.suspend(() =>
          Effect.forEach(printed, ([partition, offset]) => Effect.ignore(consumer.seek({ topic, partition }, offset)), {
            discard: true
          })
        )
        yield* Stream.runForEach(records, (r) =>
          Effect.gen(function* () {
            yield* print([r])
            printed.set(r.partition, r.offset + 1)
            lastRecordAt = yield* Clock.currentTimeMillis
          })
        ).pipe(Effect.ensuring(markPrinted))
        return
      }

      const fetcher = Fetcher.makeWith(cluster, { ...config, "auto.offset.reset": "earliest" })
      const partitions = Option.isSome(flags.partition)
        ? [flags.partition.value]
        : info.partitions.filter((p) => p !== undefined).map((p) => p.partition)
      const starts: Array<Fetcher.PartitionStart> = partitions.map((partition) => ({
        partition,
        offset: Option.isSome(flags.offset) ? flags.offset.value : reset
      }))
      let positions: ReadonlyMap<number, number> = yield* cluster.retry(fetcher.resolveOffsets(flags.topic, starts))
      const topic = { name: flags.topic, key: identity, value: identity }
      let count = 0
      let lastRecordAt = yield* Clock.currentTimeMillis
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
        yield* print(take)
      }
    }).pipe(Effect.scoped)
).pipe(Command.withDescription("Print records of a topic (text or JSON lines)"))

const identity: Topic.Serde<Uint8Array | null> = { encode: (a) => a, decode: (b) => b }
