/**
 * Example pipeline: webhook -> topic -> HTTP sink, on an in-process Connect worker.
 *
 *   npm start                                                  # a broker on localhost:9092
 *   node examples/dist/http-webhook-to-sink/pipeline.js
 *
 * It starts a receiver (a small HTTP server standing for the downstream service), a worker running an
 * HttpWebhookSource (POST /events on WEBHOOK_PORT -> topic `webhook-events`) and an HttpSink (topic ->
 * JSON batches POSTed to the receiver), posts EVENTS webhook calls and waits until the receiver got them.
 * Environment: BOOTSTRAP (localhost:9092), WEBHOOK_PORT (8090), RECEIVER_PORT (8091), EVENTS (5).
 */
import * as http from "node:http"
import * as Plugins from "@eddy/connect/plugin/Plugins"
import * as OffsetStore from "@eddy/connect/runtime/OffsetStore"
import * as Worker from "@eddy/connect/runtime/Worker"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"

const bootstrap = process.env.BOOTSTRAP ?? "localhost:9092"
const webhookPort = Number(process.env.WEBHOOK_PORT ?? 8090)
const receiverPort = Number(process.env.RECEIVER_PORT ?? 8091)
const events = Number(process.env.EVENTS ?? 5)
const run = `${Date.now()}`

/** The downstream service: collects the events of this run from the JSON batches it receives. */
const receiver = Effect.acquireRelease(
  Effect.promise(
    () =>
      new Promise<{ readonly received: Array<{ run: string; n: number }>; readonly server: http.Server }>((resolve) => {
        const received: Array<{ run: string; n: number }> = []
        const server = http.createServer((req, res) => {
          let body = ""
          req.on("data", (c: Buffer) => {
            body += c.toString("utf8")
          })
          req.on("end", () => {
            for (const event of JSON.parse(body) as Array<{ run: string; n: number }>)
              if (event.run === run) received.push(event)
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
  for (let n = 0; n < events; n++) yield* postUntilAccepted(JSON.stringify({ run, n }))
  console.log(`posted ${events} webhook events`)
  // the sink starts once its topic exists (the source's first record creates it)
  yield* worker.create("http-out", {
    "connector.class": "HttpSink",
    topics: "webhook-events",
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
  console.log(`received ${received.length} events: ${received.map((e) => e.n).join(", ")}`)
}).pipe(
  Effect.scoped,
  Effect.provide(
    Layer.mergeAll(Plugins.layer(), OffsetStore.layerMemory.pipe(Layer.provide(NodeContext.layer)), NodeContext.layer)
  )
)

NodeRuntime.runMain(pipeline)
