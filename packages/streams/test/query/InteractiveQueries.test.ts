import { mkdtempSync } from "node:fs"
import * as net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { materializedAs } from "../../src/dsl/Options.js"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import * as KafkaStreams from "../../src/KafkaStreams.js"
import { hostString, QueryableStoreTypes } from "../../src/query/StreamsMetadata.js"
import * as Serdes from "../../src/Serdes.js"
import { fastGroup, readAll, setup, waitUntil } from "../runtime/util.js"

const events = Topic.make("iq-events", { key: Schema.String, value: Schema.String })
const counts = Topic.make("iq-counts", { key: Schema.String, value: Serdes.long })

/** A port nothing listens on yet. */
const freePort = Effect.async<number>((resume) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as net.AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

const get = (url: string) =>
  Effect.promise(async () => {
    const res = await fetch(url)
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, redirected: res.redirected }
  })

describe("interactive queries on two instances", () => {
  it.scopedLive(
    "every key, asked from either instance (following redirects), equals the reference; metadata names the host",
    () =>
      Effect.gen(function* () {
        const { bootstrap, producer } = yield* setup({ "iq-events": 4, "iq-counts": 4 })
        const builder = StreamsBuilder.make()
        builder.stream(events).groupByKey().count(materializedAs("per-key")).toStream().to(counts)
        const t = yield* builder.build
        const ports = [yield* freePort, yield* freePort]
        const start = (i: number) =>
          Effect.gen(function* () {
            const app = yield* KafkaStreams.make(t, {
              "application.id": "iq",
              "bootstrap.servers": bootstrap,
              "commit.interval.ms": 100,
              "state.dir": mkdtempSync(join(tmpdir(), `iq-${i}-`)),
              "application.server": `127.0.0.1:${ports[i]}`,
              "eddy.interactive.queries.http.port": ports[i]!,
              "eddy.interactive.queries.http.host": "127.0.0.1",
              ...fastGroup
            })
            yield* app.start
            return app
          })
        const early = yield* KafkaStreams.make(t, { "application.id": "iq-early", "bootstrap.servers": bootstrap })
        const notRunning = yield* Effect.flip(early.store("per-key"))
        assert.strictEqual(notRunning._tag, "InvalidStateStoreError")
        assert.match(notRunning.message, /CREATED, not RUNNING/)
        const a = yield* start(0)
        const b = yield* start(1)
        yield* waitUntil(
          "the tasks to be split",
          Effect.map(Effect.all([a.activeTasks, b.activeTasks]), ([x, y]) => x.length === 2 && y.length === 2)
        )
        yield* waitUntil(
          "both RUNNING",
          Effect.map(Effect.all([a.state, b.state]), ([x, y]) => x === "RUNNING" && y === "RUNNING")
        )
        const reference = new Map<string, number>()
        const records = Array.from({ length: 60 }, (_, i) => {
          const key = `k${(i * 7) % 23}`
          reference.set(key, (reference.get(key) ?? 0) + 1)
          return { key, value: `v${i}` }
        })
        yield* producer.sendBatch(events, records)
        yield* waitUntil(
          "every count in the output",
          Effect.map(readAll(bootstrap, counts, 4), (rs) => {
            const m = new Map<string, number>()
            for (const r of rs) m.set(r.key!, r.value)
            return [...reference].every(([k, n]) => m.get(k) === n)
          })
        )
        // the API: metadata names one active host per key; the local store answers exactly the local keys
        const storeA = yield* a.store("per-key", QueryableStoreTypes.keyValueStore<string, number>())
        let local = 0
        for (const [key, n] of reference) {
          const meta = yield* a.queryMetadataForKey("per-key", key, Serdes.string)
          assert.isDefined(meta)
          if (hostString(meta!.activeHost) === `127.0.0.1:${ports[0]}`) {
            assert.strictEqual(storeA.get(key), n)
            local++
          } else assert.throws(() => storeA.get(key), /not hosted by this instance/)
        }
        assert.isAbove(local, 0)
        assert.isBelow(local, reference.size)
        const timestamped = yield* b.store("per-key", QueryableStoreTypes.timestampedKeyValueStore<string, number>())
        const bEntries = [...timestamped.all()]
        assert.strictEqual(bEntries.length, reference.size - local)
        for (const { key, value } of bEntries) assert.strictEqual(value.value, reference.get(key))
        const metadata = yield* a.streamsMetadata
        assert.strictEqual(metadata.length, 2)
        assert.deepStrictEqual(
          (yield* a.allMetadataForStore("per-key")).map((m) => m.hostInfo.port).sort(),
          [...ports].sort()
        )
        // over HTTP, from either instance
        for (const port of ports) {
          for (const [key, n] of reference) {
            const res = yield* get(`http://127.0.0.1:${port}/stores/per-key/keys/${key}`)
            assert.strictEqual(res.status, 200, `${key} from ${port}`)
            assert.strictEqual(res.body.value, n, `${key} from ${port}`)
          }
          const missing = yield* get(`http://127.0.0.1:${port}/stores/per-key/keys/nope`)
          assert.strictEqual(missing.status, 404)
          const all = yield* Effect.promise(() =>
            fetch(`http://127.0.0.1:${port}/stores/per-key/all`).then(
              (r) => r.json() as Promise<Array<{ key: string; value: number }>>
            )
          )
          assert.deepStrictEqual(new Map(all.map((e) => [e.key, e.value])), reference)
        }
        // a redirect names the owner
        const remoteKey = [...reference.keys()].find((k) => {
          try {
            storeA.get(k)
            return false
          } catch {
            return true
          }
        })!
        const redirect = yield* Effect.promise(() =>
          fetch(`http://127.0.0.1:${ports[0]}/stores/per-key/keys/${remoteKey}`, { redirect: "manual" })
        )
        assert.strictEqual(redirect.status, 307)
        assert.strictEqual(
          redirect.headers.get("location"),
          `http://127.0.0.1:${ports[1]}/stores/per-key/keys/${remoteKey}`
        )
        yield* Effect.promise(() => redirect.arrayBuffer())
      }),
    90_000
  )
})
