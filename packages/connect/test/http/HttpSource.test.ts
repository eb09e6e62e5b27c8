import * as path from "node:path"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import * as HttpSource from "../../src/http/HttpSource.js"
import * as JsonPointer from "../../src/http/JsonPointer.js"
import * as StatusCodes from "../../src/http/StatusCodes.js"
import { makeWorker, startEddy, tempDir, workerProps } from "../util.js"
import { pause, produce, readTopic, testServer } from "./util.js"

describe("HttpSource (unit)", () => {
  it("reads JSON pointers (RFC 6901) and status code ranges", () => {
    const doc = { "a/b": { "m~n": [10, { x: 1 }] }, "": 5 }
    assert.strictEqual(JsonPointer.get(doc, "/a~1b/m~0n/1/x"), 1)
    assert.strictEqual(JsonPointer.get(doc, "/a~1b/m~0n/01"), undefined)
    assert.strictEqual(JsonPointer.get(doc, "/"), doc)
    assert.strictEqual(JsonPointer.get(doc, "/nope/x"), undefined)
    const codes = StatusCodes.parse("200..204, 304, 500-")
    assert.deepStrictEqual([200, 204, 205, 304, 499, 500, 599].map(codes.has), [
      true,
      true,
      false,
      true,
      false,
      true,
      true
    ])
  })

  it.effect("sorts items by offset and drops those at or before the last offset", () =>
    Effect.gen(function* () {
      const s = yield* HttpSource.parseSettings({
        "http.request.url": `http://h/items?since=\${offset.ts}`,
        "kafka.topic": "t",
        "http.response.list.pointer": "/data",
        "http.response.record.key.pointer": "/id",
        "http.response.record.offset.pointer": "ts=/ts, id=/id",
        "http.response.record.timestamp.pointer": "/ts"
      })
      const doc = {
        data: [
          { id: "b", ts: 20 },
          { id: "a", ts: 20 },
          { id: "z", ts: 10 },
          { id: "a", ts: 20 },
          { id: "c", ts: 30 }
        ]
      }
      const fresh = HttpSource.freshItems(s, HttpSource.itemsOf(s, doc), { ts: 10, id: "z" })
      assert.deepStrictEqual(
        fresh.map((i) => [i.key, i.timestamp]),
        [
          ["a", 20],
          ["b", 20],
          ["c", 30]
        ]
      )
      const request = HttpSource.requestOf(s.config, { ts: "2024-01-01T00:00:00Z" })
      assert.strictEqual(request.url, "http://h/items?since=2024-01-01T00%3A00%3A00Z")
    })
  )
})

describe("HttpSource timers (TestClock)", () => {
  it.scoped("waits the catch-up interval after new records and the poll interval after none", () =>
    Effect.gen(function* () {
      let calls = 0
      const server = yield* testServer(() => {
        calls++
        // one new record on the first two requests, then nothing new
        const id = Math.min(calls, 2)
        return { status: 200, body: JSON.stringify([{ id }]) }
      })
      const task = yield* HttpSource.plugin.task
      yield* task.start(
        {
          "http.request.url": server.url,
          "kafka.topic": "t",
          "http.response.record.offset.pointer": "id=/id",
          "http.timer.interval.millis": "60000",
          "http.timer.catchup.interval.millis": "1000"
        },
        { configs: {}, transactionContext: null, offsetStorageReader: { offset: () => Effect.succeed(null) } }
      )
      yield* Effect.addFinalizer(() => task.stop)
      const settle = Effect.zipRight(
        pause(150),
        Effect.sync(() => calls)
      )
      const first = yield* task.poll
      assert.deepStrictEqual(
        first?.map((r) => r.sourceOffset),
        [{ id: 1 }]
      )
      // found records: the next request waits the catch-up interval
      const second = yield* Effect.fork(task.poll)
      assert.strictEqual(yield* settle, 1)
      yield* TestClock.adjust(999)
      assert.strictEqual(yield* settle, 1)
      yield* TestClock.adjust(1)
      assert.deepStrictEqual(
        (yield* Fiber.join(second))?.map((r) => r.sourceOffset),
        [{ id: 2 }]
      )
      // the third answer repeats id 2: nothing new, so the fourth request waits the poll interval
      const third = yield* Effect.fork(task.poll)
      yield* TestClock.adjust(1000)
      assert.isNull(yield* Fiber.join(third))
      assert.strictEqual(calls, 3)
      const fourth = yield* Effect.fork(task.poll)
      yield* TestClock.adjust(59_999)
      assert.strictEqual(yield* settle, 3)
      yield* TestClock.adjust(1)
      assert.isNull(yield* Fiber.join(fourth))
      assert.strictEqual(calls, 4)
    }).pipe(Effect.provide(NodeContext.layer))
  )
})

interface Item {
  readonly id: number
  readonly name: string
}

describe("HttpSource on a broker", () => {
  it.scopedLive(
    "captures every item of a paged server exactly once across a restart (retries, basic auth)",
    () =>
      Effect.gen(function* () {
        const { bootstrap } = yield* startEddy
        const dir = yield* tempDir
        const items: Array<Item> = Array.from({ length: 23 }, (_, i) => ({ id: i + 1, name: `item ${i + 1}` }))
        const requests: Array<string> = []
        let calls = 0
        const server = yield* testServer((r) => {
          const url = new URL(r.url, "http://x")
          requests.push(url.search)
          if (r.headers.authorization !== `Basic ${Buffer.from("u:p").toString("base64")}`) return { status: 401 }
          calls++
          if (calls % 4 === 2) return { status: 503 }
          const since = Number(url.searchParams.get("since"))
          // overlapping, unordered pages: the item at `since` again, newest first
          const page = items.filter((i) => i.id >= since).slice(0, 5)
          return { status: 200, body: JSON.stringify({ data: { items: page.reverse() } }) }
        })
        const props = workerProps(bootstrap)
        const offsetsFile = path.join(dir, "offsets.json")
        const source = {
          "connector.class": "HttpSource",
          "kafka.topic": "items",
          "http.request.url": `${server.url}/items`,
          "http.request.params": `since=\${offset.id}&limit=5`,
          "http.offset.initial": "id=0",
          "http.timer.interval.millis": "100",
          "http.timer.catchup.interval.millis": "5",
          "http.response.list.pointer": "/data/items",
          "http.response.record.key.pointer": "/id",
          "http.response.record.offset.pointer": "id=/id",
          "http.client.retry.backoff.millis": "5",
          "http.auth.type": "Basic",
          "http.auth.user": "u",
          "http.auth.password": "p"
        }
        yield* Effect.scoped(
          Effect.gen(function* () {
            const worker = yield* makeWorker(props, offsetsFile)
            yield* worker.create("poll", source)
            const first = yield* readTopic(bootstrap, "items", 23)
            assert.deepStrictEqual(
              first.map((r) => r.key),
              items.map((i) => String(i.id))
            )
            assert.deepStrictEqual(JSON.parse(first[22]!.value!), { id: 23, name: "item 23" })
          })
        )
        for (let id = 24; id <= 40; id++) items.push({ id, name: `item ${id}` })
        requests.length = 0
        yield* Effect.scoped(
          Effect.gen(function* () {
            const worker = yield* makeWorker(props, offsetsFile)
            yield* worker.create("poll", source)
            const all = yield* readTopic(bootstrap, "items", 40)
            assert.deepStrictEqual(
              all.map((r) => r.key),
              items.map((i) => String(i.id))
            )
            assert.strictEqual(requests[0], "?since=23&limit=5")
          })
        )
        // nothing after item 40: a marker written now is the 41st record
        yield* produce(bootstrap, "items", [["end", "end"]])
        const withMarker = yield* readTopic(bootstrap, "items", 41)
        assert.strictEqual(withMarker[40]!.key, "end")
      }),
    60_000
  )
})
