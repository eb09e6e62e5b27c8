/**
 * Windowed page-view counts with final results: reads page views (key: page) from `page-views`, counts them
 * per page in one-minute tumbling windows that accept views up to 10 s late, and writes one final count per
 * page and window to `page-view-counts` once the window has closed (`suppress(untilWindowCloses)`), keyed by
 * `Windowed<page>` in Kafka's time-windowed layout. Start a broker with `npm start`, then:
 *
 *   npm run build && node examples/dist/page-view-counts.js
 *
 * It sends a minute of views (one of them out of order, within the grace period) and one view 75 s later,
 * which moves stream time past the first window's end + grace, prints that window's final counts and exits.
 * Stream time is kept per partition, so the topics have one partition here. `EDDY_BOOTSTRAP` (default
 * localhost:9092) overrides the broker address, `STATE_DIR` the state directory.
 */

import * as Admin from "@eddy/core/client/Admin"
import * as Fetcher from "@eddy/core/client/Fetcher"
import * as Producer from "@eddy/core/client/Producer"
import * as Topic from "@eddy/core/client/Topic"
import {
  BufferConfig,
  KafkaStreams,
  Serdes,
  StreamsBuilder,
  Suppressed,
  TimeWindows,
  WindowedSerdes
} from "@eddy/streams"
import { Effect, Schema, Stream } from "effect"

const bootstrap = process.env.EDDY_BOOTSTRAP ?? "localhost:9092"
const WINDOW = 60_000
const views = Topic.make("page-views", { key: Schema.String, value: Schema.String })
const counts = Topic.make("page-view-counts", {
  key: WindowedSerdes.timeWindowed(Serdes.string, WINDOW),
  value: Serdes.long
})

const program = Effect.gen(function* () {
  const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
  const existing = new Set(yield* admin.listTopics())
  const missing = [views.name, counts.name].filter((t) => !existing.has(t))
  if (missing.length > 0) yield* admin.createTopics(missing.map((name) => ({ name, numPartitions: 1 })))

  const builder = StreamsBuilder.make()
  builder
    .stream(views)
    .groupByKey()
    .windowedBy(TimeWindows.ofSizeAndGrace(WINDOW, 10_000))
    .count()
    .suppress(Suppressed.untilWindowCloses(BufferConfig.unbounded()))
    .toStream()
    .to(counts)
  const topology = yield* builder.build
  console.log(topology.describe())

  const app = yield* KafkaStreams.make(topology, {
    "application.id": "page-view-counts-example",
    "bootstrap.servers": bootstrap,
    "commit.interval.ms": 500,
    ...(process.env.STATE_DIR === undefined ? {} : { "state.dir": process.env.STATE_DIR })
  })
  yield* app.start

  // this run's window: the next full minute from now, so runs never share a window
  const start = (Math.floor(Date.now() / WINDOW) + 1) * WINDOW
  const at = (page: string, offsetMs: number) => ({ key: page, value: "view", timestamp: start + offsetMs })
  const producer = yield* Producer.make({ "bootstrap.servers": bootstrap })
  yield* producer.sendBatch(views, [
    at("home", 1_000),
    at("cart", 5_000),
    at("home", 20_000),
    at("checkout", 59_000),
    at("tick", 65_000), // stream time 65 s: the window [0, 60 s) is still open (grace 10 s)
    at("cart", 30_000), // out of order, within grace: counted
    at("home", 59_999),
    at("tick", 75_000) // stream time 75 s >= end + grace: the window's final results go out
  ])

  const fetcher = yield* Fetcher.make({ "bootstrap.servers": bootstrap })
  const finals = new Map<string, number>()
  yield* fetcher.fetch(counts, [{ partition: 0, offset: "earliest" }]).pipe(
    Stream.filter((r) => r.key !== null && r.key.window.start === start),
    Stream.tap((r) => Effect.sync(() => finals.set(r.key!.key, r.value))),
    Stream.takeUntil(() => finals.size === 3),
    Stream.runDrain
  )
  console.log(`final page views in [${new Date(start).toISOString()}, +1 min):`)
  for (const [page, n] of [...finals].sort()) console.log(`${page}: ${n}`)
}).pipe(Effect.scoped)

Effect.runPromise(program).then(
  () => process.exit(0),
  (e) => {
    console.error(e)
    process.exit(1)
  }
)
