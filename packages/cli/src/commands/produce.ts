/**
 * `eddy produce TOPIC`: one record per line of stdin; exits once stdin ends and every record is acknowledged.
 */
import * as readline from "node:readline"
import * as Producer from "@eddy/core/client/Producer"
import { Args, Command, Options } from "@effect/cli"
import { Effect, Option, Stream } from "effect"
import { clientConfig, clientOptions, parsePairs } from "./common.js"

/** `--acks`, as the producer takes it. */
export const acksOption = Options.choice("acks", ["all", "-1", "0", "1"]).pipe(
  Options.withDescription("Acknowledgements to wait for: all (-1), 1 (leader) or 0 (none) (default: all)"),
  Options.withDefault("all" as const)
)

/** `--compression`. */
export const compressionOption = Options.choice("compression", ["none", "gzip", "snappy", "lz4", "zstd"]).pipe(
  Options.withDescription("Batch compression (default: none)"),
  Options.withDefault("none" as const)
)

/** The producer's `acks` for an `--acks` value. */
export const acksOf = (a: "all" | "-1" | "0" | "1"): -1 | 0 | 1 => (a === "0" ? 0 : a === "1" ? 1 : -1)

/** The lines of stdin as a stream (without their line endings). */
export const stdinLines: Stream.Stream<string> = Stream.suspend(() =>
  Stream.fromAsyncIterable(
    readline.createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY }),
    (e) => e
  ).pipe(Stream.orDie)
)

/** The `produce` subcommand. */
export const produce = Command.make(
  "produce",
  {
    ...clientOptions,
    topic: Args.text({ name: "topic" }).pipe(Args.withDescription("The topic to write to")),
    keySeparator: Options.text("key-separator").pipe(
      Options.withDescription("Split each line at the first SEP into key and value (lines without it have no key)"),
      Options.optional
    ),
    headers: Options.text("header").pipe(
      Options.withDescription("A header added to every record: --header key=value (repeatable)"),
      Options.repeated
    ),
    partition: Options.integer("partition").pipe(
      Options.withDescription("Write every record to this partition (default: by key, or sticky)"),
      Options.optional
    ),
    compression: compressionOption,
    acks: acksOption
  },
  (flags) =>
    Effect.gen(function* () {
      const headers = yield* parsePairs("header", flags.headers)
      const hasHeaders = Object.keys(headers).length > 0
      const sep = Option.getOrUndefined(flags.keySeparator)
      const acks = acksOf(flags.acks)
      const producer = yield* Producer.make({
        ...clientConfig(flags),
        acks,
        "compression.type": flags.compression,
        ...(acks === -1 ? {} : { "enable.idempotence": false })
      })
      const toRecord = (line: string) => {
        const i = sep === undefined || sep === "" ? -1 : line.indexOf(sep)
        return {
          key: i < 0 ? null : Buffer.from(line.slice(0, i)),
          value: Buffer.from(i < 0 ? line : line.slice(i + sep!.length)),
          ...(hasHeaders ? { headers } : {}),
          ...(Option.isSome(flags.partition) ? { partition: flags.partition.value } : {})
        }
      }
      yield* stdinLines.pipe(
        // chunks keep the lines' order (sendBatch appends in order) and still batch when stdin is a file or pipe
        Stream.groupedWithin(1000, "20 millis"),
        Stream.runForEach((lines) => producer.sendBatch(flags.topic, Array.from(lines, toRecord)))
      )
      yield* producer.flush
    }).pipe(Effect.scoped)
).pipe(Command.withDescription("Write lines of stdin as records (key and value split at --key-separator)"))
