/**
 * Example pipeline: webhook -> topic -> Streams -> topic -> HTTP sink, on an in-process Connect worker and an
 * in-process @eddy/streams application.
 *
 *   npm start                                                  # a broker on localhost:9092
 *   node examples/dist/http-webhook-to-sink/pipeline.js
 *
 * It starts a receiver (a small HTTP server standing for the downstream service), a worker running an
 * HttpWebhookSource (POST /events on WEBHOOK_PORT -> topic `webhook-events`), a Streams application that
 * drops malformed events and enriches the others (`webhook-events` -> `webhook-enriched`, each event with
 * `square` = n * n), and an HttpSink (`webhook-enriched` -> JSON batches POSTed to the receiver); posts
 * EVENTS webhook calls (and one malformed body) and waits until the receiver got them.
 * Environment: BOOTSTRAP (localhost:9092), WEBHOOK_PORT (8090), RECEIVER_PORT (8091), EVENTS (5).
 */
import * as http from "node:http"
import * as Plugins from "@eddy/connect/plugin/Plugins"
import * as OffsetStore from "@eddy/connect/runtime/OffsetStore"
import * as Worker from "@eddy/connect/runtime/Worker"
import * as Admin from "@eddy/core/client/Admin"
import * as Topic from "@eddy/core/client/Topic"
import { KafkaStreams, Serdes, StreamsBuilder } from "@eddy/streams"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"

const bootstrap = process.env.BOOTSTRAP ?? "localhost:9092"
const webhookPort = Number(process.env.WEBHOOK_PORT ?? 8090)
const receiverPort = Number(process.env.RECEIVER_PORT ?? 8091)
const events = Number(process.env.EVENTS ?? 5)
const run = `${Date.now()}`

/** An event as the receiver gets it: the webhook body plus what the Streams step adds. */
interface Enriched {
  readonly run: string
  readonly n: number
  readonly square: number
}

const webhookEvents = Topic.make("webhook-events", { key: Serdes.string, value: Serdes.string })
const enrichedEvents = Topic.make("webhook-enriched", { key: Serdes.string, value: Serdes.string })

/** The body of a well-formed webhook event, or null. */
const parse = (body: string | null): { run: string; n: number } | null => {
  try {
    const event = JSON.parse(body ?? "")
    return typeof event?.run === "string" && typeof event?.n === "number" ? event : null
  } catch {
    return null
  }
}

/** The Streams step: malformed events are dropped, the others get `square`. */
const enrich = Effect.gen(function* () {
  const builder = StreamsBuilder.make()
  builder
    .stream(webhookEvents)
    .filter((_key, body) => parse(body) !== null)
    .mapValues((body) => {
      const event = parse(body)!
      return JSON.stringify({ ...event, square: event.n * event.n })
    })
    .to(enrichedEvents)
  const app = yield* KafkaStreams.make(yield* builder.build, {
    "application.id": "webhook-enricher",
    "bootstrap.servers": bootstrap,
    "commit.interval.ms": 200
  })
  yield* app.start
})

/** The downstream service: collects the events of this run from the JSON batches it receives. */
const receiver = Effect.acquireRelease(
  Effect.promise(
    () =>
      new Promise<{ readonly received: Array<Enriched>; readonly server: http.Server }>((resolve) => {
        const received: Array<Enriched> = []
        const server = http.createServer((req, res) => {
          let body = ""
          req.on("data", (c: Buffer) => {
            body += c.toString("utf8")
          })
          req.on("end", () => {
            for (const event of JSON.parse(body) as Array<Enriched>) if (event.run === run) received.push(event)
            res.writeHead(204).end()
          })
        })
        server.listen(receiverPort, "127.0.0.1", () => resolve({ received, server }))
      })
  ),
  ({ server }) => Effect.promise(() => new Promise((r) => server.close(r)))
)

const postUntilAccepted = (body: string) =>
  Effect.promise(async () => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const status = await fetch(`http://127.0.0.1:${webhookPort}/events`, { method: "POST", body }).then(
        (r) => r.status,
        () => 0
      )
      if (status === 200) return
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error("the webhook never accepted the event")
  })

const pipeline = Effect.gen(function* () {
  const { received } = yield* receiver
  const worker = yield* Worker.make(
    {
      "bootstrap.servers": bootstrap,
      "offset.flush.interval.ms": "1000",
      "key.converter": "org.apache.kafka.connect.storage.StringConverter",
      "value.converter": "org.apache.kafka.connect.storage.StringConverter",
      "consumer.fetch.max.wait.ms": "100",
      "producer.linger.ms": "5"
    },
    { workerId: "example" }
  )
  yield* worker.create("webhook-in", {
    "connector.class": "HttpWebhookSource",
    "kafka.topic": "webhook-events",
    "http.server.addresses": `127.0.0.1:${webhookPort}`,
    "http.server.path": "/events"
  })
  yield* postUntilAccepted("not json")
  for (let n = 0; n < events; n++) yield* postUntilAccepted(JSON.stringify({ run, n }))
  console.log(`posted ${events} webhook events`)
  // the Streams step and the sink start once their topics exist (the source's first record creates one, the
  // Streams application's first output the other)
  yield* enrich
  const admin = yield* Admin.make({ "bootstrap.servers": bootstrap })
  for (let attempt = 0; !(yield* admin.listTopics()).includes(enrichedEvents.name); attempt++) {
    if (attempt > 300) return yield* Effect.die(new Error("the Streams step wrote nothing"))
    yield* Effect.sleep("100 millis")
  }
  yield* worker.create("http-out", {
    "connector.class": "HttpSink",
    topics: enrichedEvents.name,
    "http.url": `http://127.0.0.1:${receiverPort}/ingest`,
    "batching.enabled": "true",
    "batch.linger.ms": "200",
    "retry.backoff.ms": "200"
  })
  const deadline = Date.now() + 30_000
  while (received.length < events) {
    if (Date.now() > deadline) return yield* Effect.die(new Error(`only ${received.length} events arrived`))
    yield* Effect.sleep("100 millis")
  }
  console.log(`received ${received.length} events: ${received.map((e) => `${e.n} (square ${e.square})`).join(", ")}`)
}).pipe(
  Effect.scoped,
  Effect.provide(
    Layer.mergeAll(Plugins.layer(), OffsetStore.layerMemory.pipe(Layer.provide(NodeContext.layer)), NodeContext.layer)
  )
)

NodeRuntime.runMain(pipeline)
