/**
 * What the Streams benches share: the hand-written client loop they measure Streams against (one
 * `Consumer.batches` -> work -> `Producer.sendBatch` loop in a group of its own, committing at the end), the
 * timed Streams run, and the wait for an application's committed input offsets.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type * as Admin from "@eddy/core/client/Admin"
import * as Consumer from "@eddy/core/client/Consumer"
import * as Producer from "@eddy/core/client/Producer"
import { Effect, Stream } from "effect"
import * as KafkaStreams from "../src/KafkaStreams.js"
import type * as StreamsConfig from "../src/StreamsConfig.js"
import type * as Topology from "../src/topology/Topology.js"

/** The records `group` has committed on `topic`, summed over its partitions. */
export const committedOn = (admin: Admin.Admin, group: string, topic: string) =>
  Effect.map(admin.listGroupOffsets(group), (os) =>
    os.filter((o) => o.topic === topic).reduce((n, o) => n + Math.max(0, o.offset), 0)
  )

/** Waits until `group` has committed `records` records of `topic` (polling every 50 ms). */
export const waitCommitted = (admin: Admin.Admin, group: string, topic: string, records: number) =>
  Effect.gen(function* () {
    while ((yield* committedOn(admin, group, topic).pipe(Effect.orElseSucceed(() => 0))) < records)
      yield* Effect.sleep(50)
  })

/** The hand-written loop's settings. */
export interface LoopOptions<T extends ReadonlyArray<Consumer.AnyTopic>> {
  readonly group: string
  readonly topics: T
  /** The loop ends once this many records were counted. */
  readonly records: number
  /** How many records of a batch count towards `records` (default: all of them). */
  readonly counted?: (batch: Consumer.ConsumerBatch<Consumer.RecordOf<T[number]>>) => number
}

/**
 * The baseline: consumes `topics` from the earliest offsets in a group of its own (no auto-commit), runs
 * `onBatch` on each batch with a producer until `records` records were counted, commits, and returns the
 * seconds it took (from the first poll).
 */
export const consumerLoop = <const T extends ReadonlyArray<Consumer.AnyTopic>>(
  bootstrap: string,
  options: LoopOptions<T>,
  onBatch: (
    batch: Consumer.ConsumerBatch<Consumer.RecordOf<T[number]>>,
    producer: Producer.Producer
  ) => Effect.Effect<unknown, unknown>
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const producer = yield* Producer.make({ "bootstrap.servers": bootstrap })
      const consumer = yield* Consumer.make({
        "bootstrap.servers": bootstrap,
        "group.id": options.group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": false
      })
      const t0 = performance.now()
      let seen = 0
      yield* consumer.batches(options.topics).pipe(
        Stream.mapEffect((b) => {
          seen += options.counted ? options.counted(b) : b.records.length
          return onBatch(b, producer)
        }),
        Stream.takeUntil(() => seen >= options.records),
        Stream.runDrain
      )
      yield* consumer.commit
      return (performance.now() - t0) / 1000
    })
  )

/**
 * Runs `topology` as application `id` (commit interval 100 ms, a fresh state directory, then `config`) until
 * it has committed `records` records of `input`; returns the seconds from its start.
 */
export const timedStreams = (
  bootstrap: string,
  admin: Admin.Admin,
  options: {
    readonly id: string
    readonly topology: Topology.Topology
    readonly input: string
    readonly records: number
    readonly config?: Partial<StreamsConfig.StreamsConfig>
  }
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const app = yield* KafkaStreams.make(options.topology, {
        "application.id": options.id,
        "bootstrap.servers": bootstrap,
        "commit.interval.ms": 100,
        "state.dir": mkdtempSync(join(tmpdir(), "streams-bench-")),
        ...options.config
      })
      const t0 = performance.now()
      yield* app.start
      yield* waitCommitted(admin, options.id, options.input, options.records)
      return (performance.now() - t0) / 1000
    })
  )
