/**
 * Interactive queries over window, session and versioned stores on two instances of one application, on a
 * real broker: every key's windows, sessions and versions, read through `store(name, type)` and over HTTP
 * from either instance (following redirects), equal a reference computed from the records sent.
 */
import { mkdtempSync } from "node:fs"
import * as net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { materializedAs } from "../../src/dsl/Options.js"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import { SessionWindows, TimeWindows } from "../../src/dsl/Windows.js"
import * as KafkaStreams from "../../src/KafkaStreams.js"
import { hostString, QueryableStoreTypes } from "../../src/query/StreamsMetadata.js"
import * as Serdes from "../../src/Serdes.js"
import * as Stores from "../../src/state/Stores.js"
import { fastGroup, setup, waitUntil } from "../runtime/util.js"

const events = Topic.make("wq-events", { key: Schema.String, value: Schema.String })
const prices = Topic.make("wq-prices", { key: Schema.String, value: Schema.NullOr(Schema.String) })

const BASE = 1_000_000
const SIZE = 30_000
const GAP = 15_000

/** A port nothing listens on yet. */
const freePort = Effect.async<number>((resume) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as net.AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

const getJson = (url: string) =>
  Effect.promise(async () => {
    const res = await fetch(url)
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  })

interface Win {
  readonly start: number
  readonly end: number
  readonly value: number
}

/** The reference: tumbling-window counts and session counts per key. */
const reference = (records: ReadonlyArray<{ key: string; timestamp: number }>) => {
  const windows = new Map<string, Map<number, number>>()
  const times = new Map<string, Array<number>>()
  for (const r of records) {
    const start = Math.floor(r.timestamp / SIZE) * SIZE
    const w = windows.get(r.key) ?? new Map<number, number>()
    w.set(start, (w.get(start) ?? 0) + 1)
    windows.set(r.key, w)
    times.set(r.key, [...(times.get(r.key) ?? []), r.timestamp])
  }
  const sessions = new Map<string, Array<Win>>()
  for (const [key, ts] of times) {
    const out: Array<{ start: number; end: number; value: number }> = []
    for (const t of [...ts].sort((a, b) => a - b)) {
      const last = out.at(-1)
      if (last !== undefined && t - last.end <= GAP) {
        last.end = t
        last.value++
      } else out.push({ start: t, end: t, value: 1 })
    }
    sessions.set(key, out)
  }
  const windowList = new Map<string, Array<Win>>()
  for (const [key, w] of windows) {
    windowList.set(
      key,
      [...w].sort((a, b) => a[0] - b[0]).map(([start, value]) => ({ start, end: start + SIZE, value }))
    )
  }
  return { windows: windowList, sessions }
}

describe("interactive queries over window, session and versioned stores", () => {
  it.scopedLive(
    "windows by key and time range, sessions and versions as of a time equal the reference, from either instance",
    () =>
      Effect.gen(function* () {
        const { bootstrap, producer } = yield* setup({ "wq-events": 4, "wq-prices": 4 })
        const builder = StreamsBuilder.make()
        const grouped = builder.stream(events).groupByKey()
        grouped.windowedBy(TimeWindows.ofSizeWithNoGrace(SIZE)).count(materializedAs("win"))
        grouped.windowedBy(SessionWindows.ofInactivityGapWithNoGrace(GAP)).count(materializedAs("sess"))
        builder.table(
          prices,
          {},
          materializedAs("prices-store", {
            storeSupplier: Stores.persistentVersionedKeyValueStore("prices-store", "1 hour")
          })
        )
        const t = yield* builder.build
        const ports = [yield* freePort, yield* freePort]
        const start = (i: number) =>
          Effect.gen(function* () {
            const app = yield* KafkaStreams.make(t, {
              "application.id": "wq",
              "bootstrap.servers": bootstrap,
              "commit.interval.ms": 100,
              "state.dir": mkdtempSync(join(tmpdir(), `wq-${i}-`)),
              "application.server": `127.0.0.1:${ports[i]}`,
              "eddy.interactive.queries.http.port": ports[i]!,
              "eddy.interactive.queries.http.host": "127.0.0.1",
              ...fastGroup
            })
            yield* app.start
            return app
          })
        const apps = [yield* start(0), yield* start(1)]
        const [a, b] = apps as [KafkaStreams.KafkaStreams, KafkaStreams.KafkaStreams]
        yield* waitUntil(
          "the tasks to be split and both RUNNING",
          Effect.map(
            Effect.all([a.activeTasks, b.activeTasks, a.state, b.state]),
            ([x, y, sa, sb]) => x.length === 4 && y.length === 4 && sa === "RUNNING" && sb === "RUNNING"
          ),
          60_000
        )
        // in time order, so that no record is late (no grace)
        const records = Array.from({ length: 80 }, (_, i) => ({
          key: `k${(i * 7) % 9}`,
          value: `v${i}`,
          timestamp: BASE + i * 1_500 + (i % 9 === 4 ? 20_000 * Math.floor(i / 30) : 0)
        })).sort((x, y) => x.timestamp - y.timestamp)
        const ref = reference(records)
        // the reference is not trivial: merged sessions, keys with several sessions, several windows per key
        const allSessions = [...ref.sessions.values()]
        assert.isTrue(allSessions.flat().some((w) => w.value > 1))
        assert.isTrue(allSessions.some((ss) => ss.length > 1))
        assert.isTrue([...ref.windows.values()].every((ws) => ws.length > 2))
        yield* producer.sendBatch(events, records)
        const versions = [0, 10_000, 20_000]
        const priceKeys = ["p0", "p1", "p2", "p3", "p4", "p5"]
        yield* producer.sendBatch(
          prices,
          versions.flatMap((dt, n) => priceKeys.map((key) => ({ key, value: `${key}-v${n}`, timestamp: BASE + dt })))
        )

        // wait until both instances' window stores together hold every reference window
        const allWindows = Effect.gen(function* () {
          const out = new Map<string, number>()
          for (const app of apps) {
            const s = yield* app.store("win", QueryableStoreTypes.windowStore<string, number>())
            for (const { key, value } of s.all()) out.set(`${key.key}@${key.window.start}`, value)
          }
          return out
        }).pipe(Effect.orElseSucceed(() => new Map<string, number>()))
        const expected = new Map(
          [...ref.windows].flatMap(([key, ws]) => ws.map((w) => [`${key}@${w.start}`, w.value] as const))
        )
        yield* waitUntil(
          "every window counted",
          Effect.map(allWindows, (m) => m.size === expected.size && [...expected].every(([k, n]) => m.get(k) === n)),
          60_000
        )
        const latestPrices = Effect.gen(function* () {
          let n = 0
          for (const app of apps) {
            const s = yield* app.store("prices-store", QueryableStoreTypes.versionedKeyValueStore<string, string>())
            for (const key of priceKeys) {
              try {
                if (s.get(key)?.value === `${key}-v2`) n++
              } catch {}
            }
          }
          return n === priceKeys.length
        }).pipe(Effect.orElseSucceed(() => false))
        yield* waitUntil("every price's last version", latestPrices, 60_000)

        // the API, on the instance owning each key; the other one names the owner
        const ownerOf = (store: string, key: string) =>
          Effect.map(a.queryMetadataForKey(store, key, Serdes.string), (m) =>
            hostString(m!.activeHost) === `127.0.0.1:${ports[0]}` ? ([a, b] as const) : ([b, a] as const)
          )
        const lo = BASE + 20_000
        const hi = BASE + 70_000
        for (const [key, ws] of ref.windows) {
          const [owner, other] = yield* ownerOf("win", key)
          const win = yield* owner.store("win", QueryableStoreTypes.windowStore<string, number>())
          assert.deepStrictEqual(
            [...win.fetch(key, lo, hi)].map((e) => ({ start: e.key, value: e.value })),
            ws.filter((w) => w.start >= lo && w.start <= hi).map((w) => ({ start: w.start, value: w.value })),
            key
          )
          assert.deepStrictEqual(
            [...win.backwardFetch(key, 0, Number.MAX_SAFE_INTEGER)].map((e) => e.key),
            ws.map((w) => w.start).reverse()
          )
          assert.strictEqual(win.fetch(key, ws[0]!.start), ws[0]!.value)
          assert.isUndefined(win.fetch(key, ws[0]!.start + 1))
          const timestamped = yield* owner.store("win", QueryableStoreTypes.timestampedWindowStore<string, number>())
          const first = timestamped.fetch(key, ws[0]!.start)!
          const last = Math.max(
            ...records.filter((r) => r.key === key && r.timestamp < ws[0]!.start + SIZE).map((r) => r.timestamp)
          )
          assert.deepStrictEqual(first, { value: ws[0]!.value, timestamp: last })
          const elsewhere = yield* other.store("win", QueryableStoreTypes.windowStore<string, number>())
          assert.throws(() => elsewhere.fetch(key, lo, hi), /not hosted by this instance/)

          const sess = yield* owner.store("sess", QueryableStoreTypes.sessionStore<string, number>())
          const sessions = ref.sessions.get(key)!
          assert.isAbove(sessions.length, 0)
          assert.deepStrictEqual(
            [...sess.fetch(key)].map((e) => ({ ...e.key.window, value: e.value })),
            sessions,
            key
          )
          const mid = sessions[0]!
          assert.deepStrictEqual(
            [...sess.findSessions(key, mid.end, mid.end)].map((e) => e.key.window),
            [{ start: mid.start, end: mid.end }]
          )
          assert.isEmpty([...sess.findSessions(key, mid.start, mid.start - 1)])
        }
        const fetchAll = [
          ...(yield* a.store("win", QueryableStoreTypes.windowStore<string, number>())).fetchAll(lo, hi),
          ...(yield* b.store("win", QueryableStoreTypes.windowStore<string, number>())).fetchAll(lo, hi)
        ]
        assert.strictEqual(
          fetchAll.length,
          [...expected.keys()].filter((k) => Number(k.split("@")[1]) >= lo && Number(k.split("@")[1]) <= hi).length
        )
        for (const key of priceKeys) {
          const [owner] = yield* ownerOf("prices-store", key)
          const v = yield* owner.store("prices-store", QueryableStoreTypes.versionedKeyValueStore<string, string>())
          assert.deepStrictEqual(v.get(key, BASE + 15_000), {
            value: `${key}-v1`,
            timestamp: BASE + 10_000,
            validTo: BASE + 20_000
          })
          assert.deepStrictEqual(v.get(key), { value: `${key}-v2`, timestamp: BASE + 20_000, validTo: undefined })
          assert.isUndefined(v.get(key, BASE - 1))
        }
        // a store asked for as the wrong kind
        const wrong = yield* Effect.flip(a.store("win"))
        assert.match(wrong.message, /is a window store, not a keyValue store/)

        // over HTTP, from either instance (redirects followed)
        for (const port of ports) {
          for (const [key, ws] of ref.windows) {
            const res = yield* getJson(`http://127.0.0.1:${port}/stores/win/keys/${key}/windows?from=${lo}&to=${hi}`)
            assert.strictEqual(res.status, 200, `${key} from ${port}`)
            assert.deepStrictEqual(
              res.body.windows,
              ws.filter((w) => w.start >= lo && w.start <= hi)
            )
            const s = yield* getJson(`http://127.0.0.1:${port}/stores/sess/keys/${key}/windows`)
            assert.deepStrictEqual(s.body.windows, ref.sessions.get(key))
          }
          for (const key of priceKeys) {
            const res = yield* getJson(`http://127.0.0.1:${port}/stores/prices-store/keys/${key}?asOf=${BASE + 5_000}`)
            assert.strictEqual(res.status, 200)
            assert.deepStrictEqual(
              [res.body.value, res.body.timestamp, res.body.validTo],
              [`${key}-v0`, BASE, BASE + 10_000]
            )
            const none = yield* getJson(`http://127.0.0.1:${port}/stores/prices-store/keys/${key}?asOf=${BASE - 1}`)
            assert.strictEqual(none.status, 404)
          }
          const bad = yield* getJson(`http://127.0.0.1:${port}/stores/win/keys/k1`)
          assert.strictEqual(bad.status, 400)
        }
        // a redirect keeps the path and the query
        let remote: string | undefined
        for (const key of ref.windows.keys()) {
          const [owner] = yield* ownerOf("win", key)
          if (owner === b) remote = key
        }
        assert.isDefined(remote)
        const redirect = yield* Effect.promise(() =>
          fetch(`http://127.0.0.1:${ports[0]}/stores/win/keys/${remote}/windows?from=${lo}`, { redirect: "manual" })
        )
        assert.strictEqual(redirect.status, 307)
        assert.strictEqual(
          redirect.headers.get("location"),
          `http://127.0.0.1:${ports[1]}/stores/win/keys/${remote}/windows?from=${lo}`
        )
        yield* Effect.promise(() => redirect.arrayBuffer())
      }),
    120_000
  )
})
