/**
 * The classic word count: reads lines from `text-lines`, splits them into words, counts each word (through
 * a repartition topic keyed by word) and writes every count to `word-counts`. Start a broker with
 * `npm start`, then:
 *
 *   npm run build && node examples/dist/word-count.js
 *
 * It sends a few lines, prints the counts once they arrive and exits. `EDDY_BOOTSTRAP` (default
 * localhost:9092) overrides the broker address.
 */

import * as Admin from "@eddy/core/client/Admin"
import * as Fetcher from "@eddy/core/client/Fetcher"
import * as Producer from "@eddy/core/client/Producer"
import * as Topic from "@eddy/core/client/Topic"
import { KafkaStreams, Options, Serdes, StreamsBuilder } from "@eddy/streams"
import { Effect, Schema, Stream } from "effect"

const bootstrap = process.env.EDDY_BOOTSTRAP ?? "localhost:9092"
const lines = Topic.make("text-lines", { key: Schema.String, value: Schema.String })
const counts = Topic.make("word-counts", { key: Schema.String, value: Serdes.long })

const program = Effect.gen(function* () {
  const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
  const existing = new Set(yield* admin.listTopics())
  const missing = [lines.name, counts.name].filter((t) => !existing.has(t))
  if (missing.length > 0) yield* admin.createTopics(missing.map((name) => ({ name, numPartitions: 2 })))

  const builder = StreamsBuilder.make()
  builder
    .stream(lines)
    .flatMapValues((line) =>
      line
        .toLowerCase()
        .split(/\W+/)
        .filter((w) => w !== "")
    )
    .groupBy((_key, word) => word, { keySerde: Serdes.string, valueSerde: Serdes.string })
    .count(Options.materializedAs("word-counts-store"))
    .toStream()
    .to(counts)
  const topology = yield* builder.build
  console.log(topology.describe())

  const app = yield* KafkaStreams.make(topology, {
    "application.id": "word-count-example",
    "bootstrap.servers": bootstrap,
    "commit.interval.ms": 500
  })
  yield* app.start

  const producer = yield* Producer.make({ "bootstrap.servers": bootstrap })
  const text = ["all streams flow to the sea", "the sea is not full", "streams return again"]
  const runId = Date.now().toString(36)
  yield* producer.sendBatch(
    lines,
    text.map((value, i) => ({ key: `${i}`, value: `${value} ${runId}` }))
  )

  // counts accumulate across runs; each line also carries this run's id, counted 3 times once all are in
  const fetcher = yield* Fetcher.make({ "bootstrap.servers": bootstrap })
  const latest = new Map<string, number>()
  yield* fetcher
    .fetch(
      counts,
      [0, 1].map((partition) => ({ partition, offset: "earliest" as const }))
    )
    .pipe(
      Stream.tap((r) => Effect.sync(() => latest.set(r.key!, r.value))),
      Stream.takeUntil(() => latest.get(runId) === 3),
      Stream.runDrain
    )
  latest.delete(runId)
  for (const [word, n] of [...latest].filter(([w]) => !/^[0-9a-z]{8,}$/.test(w) || text.join(" ").includes(w)).sort()) {
    console.log(`${word}: ${n}`)
  }
}).pipe(Effect.scoped)

Effect.runPromise(program).then(
  () => process.exit(0),
  (e) => {
    console.error(e)
    process.exit(1)
  }
)
