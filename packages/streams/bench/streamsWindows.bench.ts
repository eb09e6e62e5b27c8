/**
 * `npm run bench -- streams` (also `-- streamsWindows`): a tumbling-window count in Eddy Streams against a
 * hand-written client loop doing the same work, on one in-process broker: `WINDOW_BENCH_RECORDS` records
 * (default 1,000,000) of ~50 B on 4 partitions, 1,000 keys, timestamps 10 ms apart (one-minute windows,
 * ~6,000 records per window and partition). Streams: `groupByKey().windowedBy(1 min).count()` on the
 * in-memory window store with the record cache (one update per key and window per commit) to an output
 * topic. Loop: `Consumer.batches` -> a `Map` keyed by key and window start -> the latest count of each key
 * and window the batch touched through `Producer.sendBatch`.
 * A Streams run ends when its committed input offsets reach the input's end. Three runs; the median ratio
 * (loop time / Streams time) is printed last.
 */
import type * as Admin from "@eddy/core/client/Admin"
import * as Topic from "@eddy/core/client/Topic"
import { Effect, Schema } from "effect"
import * as StreamsBuilder from "../src/dsl/StreamsBuilder.js"
import * as WindowedSerdes from "../src/dsl/WindowedSerdes.js"
import { TimeWindows } from "../src/dsl/Windows.js"
import * as Serdes from "../src/Serdes.js"
import { setup } from "../test/runtime/util.js"
import { consumerLoop, timedStreams } from "./baseline.js"

const RECORDS = Number(process.env.WINDOW_BENCH_RECORDS ?? 1_000_000)
const PARTITIONS = 4
const WINDOW = 60_000
const input = Topic.make("window-bench-in", { key: Schema.String, value: Schema.String })

const handWritten = (bootstrap: string, admin: Admin.Admin, run: number) =>
  Effect.gen(function* () {
    const out = Topic.make(`window-loop-out-${run}`, {
      key: WindowedSerdes.timeWindowed(Serdes.string, WINDOW),
      value: Serdes.long
    })
    yield* admin.createTopics([{ name: out.name, numPartitions: PARTITIONS }])
    const counts = new Map<string, number>()
    return yield* consumerLoop(
      bootstrap,
      { group: `window-loop-${run}`, topics: [input], records: RECORDS },
      (b, producer) => {
        const touched = new Map<string, { key: string; start: number; timestamp: number }>()
        for (const r of b.records) {
          const start = r.timestamp - (r.timestamp % WINDOW)
          const id = `${r.key}@${start}`
          counts.set(id, (counts.get(id) ?? 0) + 1)
          touched.set(id, { key: r.key!, start, timestamp: r.timestamp })
        }
        const records = [...touched].map(([id, t]) => ({
          key: { key: t.key, window: { start: t.start, end: t.start + WINDOW } },
          value: counts.get(id)!,
          timestamp: t.timestamp,
          partition: b.partition
        }))
        return producer.sendBatch(out, records)
      }
    )
  })

const streamsRun = (bootstrap: string, admin: Admin.Admin, run: number) =>
  Effect.gen(function* () {
    const id = `window-count-${run}`
    yield* admin.createTopics([{ name: `${id}-out`, numPartitions: PARTITIONS }])
    const builder = StreamsBuilder.make()
    builder
      .stream(input)
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeWithNoGrace(WINDOW))
      .count()
      .toStream()
      .to(`${id}-out`)
    return yield* timedStreams(bootstrap, admin, {
      id,
      topology: yield* builder.build,
      input: input.name,
      records: RECORDS,
      config: { "default.dsl.store": "in_memory" }
    })
  })

export const run = () =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const { bootstrap, admin, producer } = yield* setup({ [input.name]: PARTITIONS })
        const base = 1_700_000_000_000
        for (let i = 0; i < RECORDS; i += 10_000) {
          const n = Math.min(10_000, RECORDS - i)
          yield* producer.sendBatch(
            input,
            Array.from({ length: n }, (_, j) => ({
              key: `key-${(i + j) % 1000}`,
              value: `view-${i + j}`,
              timestamp: base + (i + j) * 10,
              partition: (i + j) % PARTITIONS
            }))
          )
        }
        const ratios: Array<number> = []
        const rate = (secs: number) => Math.round(RECORDS / secs)
        for (let runNo = 0; runNo < 3; runNo++) {
          const loop = yield* handWritten(bootstrap, admin, runNo)
          const streams = yield* streamsRun(bootstrap, admin, runNo)
          ratios.push(loop / streams)
          console.log(
            `run ${runNo + 1}: ${RECORDS} records; Map loop ${rate(loop)} rec/s; tumbling-window count ` +
              `${rate(streams)} rec/s (${(loop / streams).toFixed(2)}x the loop)`
          )
        }
        ratios.sort((a, b) => a - b)
        console.log(`median of 3 runs: tumbling-window count ${ratios[1]!.toFixed(2)}x the Map loop`)
      })
    )
  )
