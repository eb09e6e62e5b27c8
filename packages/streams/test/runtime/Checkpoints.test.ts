import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Topic from "@eddy/core/client/Topic"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { type DslStoreType, materializedAs } from "../../src/dsl/Options.js"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import * as VT from "../../src/internal/store/ValueAndTimestamp.js"
import * as KafkaStreams from "../../src/KafkaStreams.js"
import * as Serdes from "../../src/Serdes.js"
import * as Stores from "../../src/state/Stores.js"
import { fastGroup, readAll, setup, waitUntil } from "./util.js"

const clicks = Topic.make("clicks", { key: Schema.String, value: Schema.String })
const counts = Topic.make("click-counts", { key: Schema.String, value: Serdes.long })

const builder = StreamsBuilder.make({ "default.key.serde": Serdes.string, "default.value.serde": Serdes.string })
builder.stream(clicks).groupByKey().count(materializedAs("counts")).toStream().to(counts)

interface Restore {
  start: number
  end: number
  total: number
}

/** Runs the count app until every key of `expected` shows its count in the output, then closes it; returns its restores. */
const runOnce = (
  bootstrap: string,
  stateDir: string,
  guarantee: "at_least_once" | "exactly_once_v2",
  store: DslStoreType | undefined,
  send: Effect.Effect<unknown, unknown>,
  expected: ReadonlyMap<string, number>,
  whileRunning: Effect.Effect<void> = Effect.void
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const restores: Array<Restore> = []
      const topology = yield* builder.build
      const app = yield* KafkaStreams.make(
        topology,
        {
          "application.id": "ckpt",
          "bootstrap.servers": bootstrap,
          "processing.guarantee": guarantee,
          "commit.interval.ms": 100,
          "statestore.cache.max.bytes": 0,
          "state.dir": stateDir,
          ...(store === undefined ? {} : { "default.dsl.store": store }),
          ...fastGroup
        },
        {
          restoreListener: {
            onRestoreStart: (_t, _p, _s, start, end) => void restores.push({ start, end, total: -1 }),
            onRestoreEnd: (_t, _p, _s, total) => {
              restores[restores.length - 1]!.total = total
            }
          }
        }
      )
      yield* app.start
      yield* KafkaStreams.awaitState(app, "RUNNING")
      yield* send
      yield* waitUntil(
        "counts",
        Effect.map(readAll(bootstrap, counts, 1), (rs) => {
          const latest = new Map(rs.map((r) => [r.key, r.value]))
          return [...expected].every(([k, v]) => latest.get(k) === v)
        })
      )
      yield* whileRunning
      yield* app.close
      return restores
    })
  )

const taskDir = (stateDir: string) => Stores.taskDirectory(stateDir, "ckpt", "0_0")

/** The persistent store's contents (key -> count), read straight from its files. */
const storeContents = (stateDir: string) => {
  const store = Stores.persistentKeyValueStore("counts").get(taskDir(stateDir))
  assert.isTrue(store.persistent)
  const out = new Map<string, number>()
  for (const { key, value } of store.all()) {
    out.set(new TextDecoder().decode(key), Serdes.long.decode(VT.valueBytes(value)))
  }
  store.close()
  return out
}

const checkpointFile = (stateDir: string) => join(taskDir(stateDir), ".checkpoint")

describe("persistent stores and checkpoints on a broker", () => {
  it.scopedLive(
    "at_least_once: a restart after a clean close restores only the changelog tail past the checkpoint",
    () =>
      Effect.gen(function* () {
        const { bootstrap, producer } = yield* setup({ clicks: 1, "click-counts": 1 })
        const stateDir = mkdtempSync(join(tmpdir(), "streams-ckpt-"))
        const keys = ["a", "b", "c", "d"]
        const first = Array.from({ length: 40 }, (_, i) => ({ key: keys[i % 4]!, value: `x${i}` }))
        const reference = new Map(keys.map((k) => [k, 10]))
        // the default store type is the persistent one
        const r1 = yield* runOnce(
          bootstrap,
          stateDir,
          "at_least_once",
          undefined,
          producer.sendBatch(clicks, first),
          reference
        )
        assert.deepStrictEqual(r1, [{ start: 0, end: 0, total: 0 }])
        assert.strictEqual(readFileSync(checkpointFile(stateDir), "utf8"), "0\n1\nckpt-counts-changelog 0 40\n")
        assert.deepStrictEqual(storeContents(stateDir), reference)
        // a changelog tail past the checkpoint (as another instance owning the task would have written)
        const changelog = Topic.make("ckpt-counts-changelog", { key: Schema.String, value: Serdes.long })
        yield* producer.sendBatch(changelog, [
          { key: "e", value: 7, partition: 0 },
          { key: "a", value: 20, partition: 0 }
        ])
        reference.set("e", 7)
        reference.set("a", 21)
        const r2 = yield* runOnce(
          bootstrap,
          stateDir,
          "at_least_once",
          "rocksDB",
          producer.sendBatch(clicks, [{ key: "a", value: "y" }]),
          new Map([["a", 21]])
        )
        assert.deepStrictEqual(r2, [{ start: 40, end: 42, total: 2 }])
        assert.strictEqual(readFileSync(checkpointFile(stateDir), "utf8"), "0\n1\nckpt-counts-changelog 0 43\n")
        assert.deepStrictEqual(storeContents(stateDir), reference)
      }),
    60_000
  )

  it.scopedLive(
    "in_memory (default.dsl.store): no checkpoint, every start restores the whole changelog",
    () =>
      Effect.gen(function* () {
        const { bootstrap, producer } = yield* setup({ clicks: 1, "click-counts": 1 })
        const stateDir = mkdtempSync(join(tmpdir(), "streams-ckpt-"))
        const send = (n: number) =>
          producer.sendBatch(
            clicks,
            Array.from({ length: n }, () => ({ key: "k", value: "" }))
          )
        yield* runOnce(bootstrap, stateDir, "at_least_once", "in_memory", send(5), new Map([["k", 5]]))
        assert.isFalse(existsSync(checkpointFile(stateDir)))
        const r = yield* runOnce(bootstrap, stateDir, "at_least_once", "in_memory", send(1), new Map([["k", 6]]))
        assert.deepStrictEqual(r, [{ start: 0, end: 5, total: 5 }])
      }),
    60_000
  )

  it.scopedLive(
    "exactly_once_v2: checkpoint only on a clean close, deleted while processing; without one the store is wiped and fully restored",
    () =>
      Effect.gen(function* () {
        const { bootstrap, producer } = yield* setup({ clicks: 1, "click-counts": 1 })
        const stateDir = mkdtempSync(join(tmpdir(), "streams-ckpt-"))
        const send = (n: number) =>
          producer.sendBatch(
            clicks,
            Array.from({ length: n }, () => ({ key: "k", value: "" }))
          )
        const noCheckpointWhileRunning = Effect.sync(() => assert.isFalse(existsSync(checkpointFile(stateDir))))
        yield* runOnce(
          bootstrap,
          stateDir,
          "exactly_once_v2",
          undefined,
          send(5),
          new Map([["k", 5]]),
          noCheckpointWhileRunning
        )
        // clean close: the checkpoint is there, past the transaction's commit marker
        const text = readFileSync(checkpointFile(stateDir), "utf8")
        assert.match(text, /^0\n1\nckpt-counts-changelog 0 \d+\n$/)
        const r2 = yield* runOnce(
          bootstrap,
          stateDir,
          "exactly_once_v2",
          undefined,
          send(1),
          new Map([["k", 6]]),
          noCheckpointWhileRunning
        )
        assert.strictEqual(r2.length, 1)
        assert.strictEqual(r2[0]!.total, 0)
        // what a kill -9 leaves: no checkpoint, and store files that may hold uncommitted writes
        rmSync(checkpointFile(stateDir))
        const store = Stores.persistentKeyValueStore("counts").get(taskDir(stateDir))
        store.put(new TextEncoder().encode("zombie"), VT.encode(0, Serdes.long.encode(99)!))
        store.close()
        const r3 = yield* runOnce(bootstrap, stateDir, "exactly_once_v2", undefined, send(1), new Map([["k", 7]]))
        assert.strictEqual(r3.length, 1)
        assert.strictEqual(r3[0]!.start, 0)
        assert.strictEqual(r3[0]!.total, 6)
        assert.deepStrictEqual(storeContents(stateDir), new Map([["k", 7]]))
      }),
    90_000
  )
})
