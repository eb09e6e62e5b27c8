/**
 * `npm run bench -- streams`: Eddy Streams against a hand-written client loop doing the same work, on one
 * in-process broker, 200k records of ~100 B on 4 partitions, ratios in one run:
 * - stateless: `mapValues` + `filter` + `to` against `Consumer.batches` -> the same map/filter ->
 *   `Producer.sendBatch` (the loop commits its offsets at the end);
 * - keyed count (in-memory store, record cache on) against the same stateless loop;
 * - the keyed count on the persistent store (`default.dsl.store` rocksDB: lmdb, checkpointed every commit)
 *   against the in-memory one;
 * - exactly_once_v2 (commit interval 100 ms) against at_least_once, for the stateless pipeline.
 * A run ends when the application's committed input offsets reach the input's end. Three runs; the medians
 * of the ratios are printed last.
 */
import type * as Admin from "@eddy/core/client/Admin"
import * as Topic from "@eddy/core/client/Topic"
import { Effect, Schema } from "effect"
import { materializedAs } from "../src/dsl/Options.js"
import * as StreamsBuilder from "../src/dsl/StreamsBuilder.js"
import type * as StreamsConfig from "../src/StreamsConfig.js"
import { setup } from "../test/runtime/util.js"
import { consumerLoop, timedStreams } from "./baseline.js"

const RECORDS = 200_000
const PARTITIONS = 4
const input = Topic.make("bench-in", { key: Schema.String, value: Schema.String })

const transform = (v: string) => v.toUpperCase()
const keep = (v: string) => v.charCodeAt(v.length - 1) % 10 !== 0

const handWritten = (bootstrap: string, admin: Admin.Admin, run: number) =>
  Effect.gen(function* () {
    const out = Topic.make(`loop-out-${run}`, { key: Schema.String, value: Schema.String })
    yield* admin.createTopics([{ name: out.name, numPartitions: PARTITIONS }])
    return yield* consumerLoop(
      bootstrap,
      { group: `loop-${run}`, topics: [input], records: RECORDS },
      (b, producer) => {
        const records = []
        for (const r of b.records) {
          const v = transform(r.value)
          if (keep(v)) records.push({ key: r.key, value: v, timestamp: r.timestamp })
        }
        return producer.sendBatch(out, records)
      }
    )
  })

const streamsRun = (
  bootstrap: string,
  admin: Admin.Admin,
  id: string,
  build: (b: StreamsBuilder.StreamsBuilder) => void,
  config: Partial<StreamsConfig.StreamsConfig> = {}
) =>
  Effect.gen(function* () {
    const builder = StreamsBuilder.make()
    build(builder)
    const topology = yield* builder.build
    return yield* timedStreams(bootstrap, admin, { id, topology, input: input.name, records: RECORDS, config })
  })

export const run = () =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const { bootstrap, admin, producer } = yield* setup({ [input.name]: PARTITIONS })
        const payload = "x".repeat(90)
        for (let i = 0; i < RECORDS; i += 10_000) {
          yield* producer.sendBatch(
            input,
            Array.from({ length: 10_000 }, (_, j) => ({ key: `key-${(i + j) % 1000}`, value: `${payload}${i + j}` }))
          )
        }
        const rows: Array<[string, number]> = []
        const rate = (secs: number) => Math.round(RECORDS / secs)
        for (let runNo = 0; runNo < 3; runNo++) {
          const loop = yield* handWritten(bootstrap, admin, runNo)
          const stateless = yield* streamsRun(bootstrap, admin, `stateless-${runNo}`, (b) =>
            b
              .stream(input)
              .mapValues(transform)
              .filter((_k, v) => keep(v))
              .to(`stateless-out-${runNo}`, { keySerde: Topic.string as never, valueSerde: Topic.string as never })
          )
          yield* admin.createTopics([{ name: `count-out-${runNo}`, numPartitions: PARTITIONS }]).pipe(Effect.ignore)
          const keyedCount = (b: StreamsBuilder.StreamsBuilder) =>
            b
              .stream(input)
              .groupByKey()
              .count(materializedAs(`counts-${runNo}`))
              .toStream()
              .to(`count-out-${runNo}`, { keySerde: Topic.string as never })
          const count = yield* streamsRun(bootstrap, admin, `count-${runNo}`, keyedCount, {
            "default.dsl.store": "in_memory"
          })
          const persistent = yield* streamsRun(bootstrap, admin, `persistent-count-${runNo}`, keyedCount, {
            "default.dsl.store": "rocksDB"
          })
          const eos = yield* streamsRun(
            bootstrap,
            admin,
            `eos-${runNo}`,
            (b) =>
              b
                .stream(input)
                .mapValues(transform)
                .filter((_k, v) => keep(v))
                .to(`eos-out-${runNo}`, { keySerde: Topic.string as never, valueSerde: Topic.string as never }),
            { "processing.guarantee": "exactly_once_v2" }
          )
          console.log(
            `run ${runNo + 1}: loop ${rate(loop)} rec/s; stateless ${rate(stateless)} rec/s (${(loop / stateless).toFixed(2)}x); ` +
              `keyed count ${rate(count)} rec/s (${(loop / count).toFixed(2)}x); ` +
              `persistent keyed count ${rate(persistent)} rec/s (${(count / persistent).toFixed(2)}x of in-memory); ` +
              `exactly_once_v2 ${rate(eos)} rec/s (${(stateless / eos).toFixed(2)}x of at_least_once)`
          )
          rows.push(
            ["stateless", loop / stateless],
            ["count", loop / count],
            ["persistent", count / persistent],
            ["eos", stateless / eos]
          )
        }
        const median = (name: string) => {
          const xs = rows
            .filter(([n]) => n === name)
            .map(([, x]) => x)
            .sort((a, b) => a - b)
          return xs[Math.floor(xs.length / 2)]!.toFixed(2)
        }
        console.log(
          `median of 3 runs: stateless ${median("stateless")}x the loop (goal >= 0.8x), keyed count ` +
            `${median("count")}x (goal >= 0.5x), persistent keyed count ${median("persistent")}x in-memory, ` +
            `exactly_once_v2 ${median("eos")}x at_least_once`
        )
      })
    )
  )
