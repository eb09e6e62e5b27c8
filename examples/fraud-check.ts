/**
 * A fraud check, a stream-stream join within a window: card payments arrive from two regions' gateways
 * (`payments-eu`, `payments-us`, keyed by card); a card paying in both regions within 5 minutes of each
 * other raises an alert on `fraud-alerts`. Start a broker with `npm start`, then:
 *
 *   npm run build && node examples/dist/fraud-check.js
 *
 * It sends payments of two cards (one paying in both regions 2 minutes apart, one 10 minutes apart),
 * prints the alerts and exits. `EDDY_BOOTSTRAP` (default localhost:9092) and `STATE_DIR` override the
 * broker address and state directory.
 */

import * as Admin from "@eddy/core/client/Admin"
import * as Fetcher from "@eddy/core/client/Fetcher"
import * as Producer from "@eddy/core/client/Producer"
import * as Topic from "@eddy/core/client/Topic"
import { JoinWindows, KafkaStreams, StreamsBuilder } from "@eddy/streams"
import { Effect, Schema, Stream } from "effect"

export const Payment = Schema.Struct({ city: Schema.String, amount: Schema.Number })

export const eu = Topic.make("payments-eu", { key: Schema.String, value: Payment })
export const us = Topic.make("payments-us", { key: Schema.String, value: Payment })
export const alerts = Topic.make("fraud-alerts", { key: Schema.String, value: Schema.String })

const bootstrap = process.env.EDDY_BOOTSTRAP ?? "localhost:9092"
const minute = 60_000

/** payments-eu joined with payments-us on the card within 5 minutes -> fraud-alerts. */
export const topology = Effect.gen(function* () {
  const builder = StreamsBuilder.make()
  builder
    .stream(eu)
    .join(
      builder.stream(us),
      (a, b) => `${a.amount} in ${a.city} and ${b.amount} in ${b.city} within 5 minutes`,
      JoinWindows.ofTimeDifferenceWithNoGrace("5 minutes")
    )
    .to(alerts)
  return yield* builder.build
})

const program = Effect.gen(function* () {
  const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
  const existing = new Set(yield* admin.listTopics())
  const missing = [eu.name, us.name, alerts.name].filter((t) => !existing.has(t))
  if (missing.length > 0) yield* admin.createTopics(missing.map((name) => ({ name, numPartitions: 1 })))

  const app = yield* KafkaStreams.make(yield* topology, {
    "application.id": "fraud-check-app",
    "bootstrap.servers": bootstrap,
    "commit.interval.ms": 200,
    ...(process.env.STATE_DIR === undefined ? {} : { "state.dir": process.env.STATE_DIR })
  })
  yield* app.start

  // this run's cards; payment times end at now, so each run's records are newer than the last run's
  const run = Date.now().toString(36)
  const now = Date.now()
  const suspicious = `card-1-${run}`
  const fine = `card-2-${run}`
  const producer = yield* Producer.make({ "bootstrap.servers": bootstrap })
  // card 2 first: by the time card 1's alert is out, card 2's payments were all processed
  yield* producer.sendBatch(eu, [
    { key: fine, value: { city: "Lisbon", amount: 20 }, timestamp: now - 15 * minute },
    { key: suspicious, value: { city: "Paris", amount: 120 }, timestamp: now - 3 * minute }
  ])
  yield* producer.sendBatch(us, [
    { key: fine, value: { city: "Boston", amount: 35 }, timestamp: now - 5 * minute },
    { key: suspicious, value: { city: "New York", amount: 80 }, timestamp: now - minute }
  ])

  const fetcher = yield* Fetcher.make({ "bootstrap.servers": bootstrap })
  const seen: Array<string> = []
  yield* fetcher.fetch(alerts, [{ partition: 0, offset: "earliest" as const }]).pipe(
    Stream.filter((r) => r.key?.endsWith(run) === true),
    Stream.tap((r) => Effect.sync(() => seen.push(`${r.key!.replace(`-${run}`, "")}: ${r.value}`))),
    Stream.takeUntil(() => seen.some((s) => s.startsWith("card-1"))),
    Stream.runDrain
  )
  for (const alert of seen) console.log(`ALERT ${alert}`)
}).pipe(Effect.scoped)

Effect.runPromise(program).then(
  () => process.exit(0),
  (e) => {
    console.error(e)
    process.exit(1)
  }
)
