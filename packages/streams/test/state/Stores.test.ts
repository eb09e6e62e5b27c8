import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeFileSystem } from "@effect/platform-node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { openPersistent } from "../../src/state/internal/persistence.js"
import * as Stores from "../../src/state/Stores.js"
import * as Timestamped from "../../src/state/TimestampedKeyValueStore.js"

const root = mkdtempSync(join(tmpdir(), "eddy-stores-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))
const s = (text: string): Uint8Array => new TextEncoder().encode(text)
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex")

describe("Stores", () => {
  it("supplies stores per task; a persistent one lives in <task dir>/<store name> and survives reopening", () => {
    const supplier = Stores.persistentKeyValueStore("counts")
    assert.strictEqual(supplier.name, "counts")
    assert.isTrue(supplier.persistent)
    const taskDir = join(root, "app", "0_1")
    const store = supplier.get(taskDir)
    assert.isTrue(store.persistent)
    store.put(s("k"), s("v"))
    store.close()
    assert.isTrue(existsSync(join(taskDir, "counts", "data.mdb")))
    const again = supplier.get(taskDir)
    assert.strictEqual(hex(again.get(s("k"))!), hex(s("v")))
    again.close()
    const other = supplier.get(join(root, "app", "0_2"))
    assert.strictEqual(other.get(s("k")), undefined)
    other.close()
  })

  it("in-memory suppliers make a fresh store per get", () => {
    const supplier = Stores.inMemoryKeyValueStore("mem")
    assert.isFalse(supplier.persistent)
    const a = supplier.get()
    a.put(s("k"), s("v"))
    assert.strictEqual(supplier.get().get(s("k")), undefined)
  })

  it("falls back to an in-memory store, reported as not persistent, when lmdb does not load", () => {
    const store = openPersistent("fallback", join(root, "fb"), () => ({ _tag: "Failed", reason: "no binary (test)" }))
    assert.isFalse(store.persistent)
    store.put(s("k"), s("v"))
    assert.strictEqual(hex(store.get(s("k"))!), hex(s("v")))
    assert.isFalse(existsSync(join(root, "fb", "fallback")))
  })

  it("refuses a persistent store without a state directory, and bad names and durations", () => {
    assert.throws(() => Stores.persistentKeyValueStore("p").get(), /needs a state directory/)
    assert.throws(() => Stores.inMemoryKeyValueStore("a/b"), /Invalid store name/)
    assert.throws(
      () => Stores.inMemoryWindowStore("w", "1 minute", "2 minutes", false),
      /no smaller than its window size/
    )
    assert.throws(() => Stores.persistentSessionStore("w", -5), /negative/)
    assert.throws(() => Stores.persistentWindowStore("w", "1 minute", 10, false, 0), /at least 1 ms/)
  })

  it("takes Kafka's default segment interval: half the retention, at least a minute", () => {
    assert.strictEqual(Stores.persistentWindowStore("w", "1 day", "5 minutes", false).segmentInterval, 43_200_000)
    assert.strictEqual(Stores.inMemorySessionStore("s", "10 seconds").segmentInterval, 60_000)
    assert.strictEqual(Stores.persistentWindowStore("w", 1000, 10, true, 100).retentionPeriod, 1000)
  })

  for (const [label, supplier] of [
    ["in-memory", Stores.inMemoryTimestampedKeyValueStore("ts")],
    ["persistent", Stores.persistentTimestampedKeyValueStore("ts")]
  ] as const) {
    it(`${label} timestamped store keeps values with timestamps in Kafka's byte form`, () => {
      const dir = join(root, `ts-${label}`)
      const store = supplier.get(dir)
      store.put(s("b"), { value: s("two"), timestamp: 2 })
      store.put(s("a"), { value: s("one"), timestamp: 0x0102030405 })
      assert.deepStrictEqual(store.get(s("a")), { value: s("one"), timestamp: 0x0102030405 })
      assert.deepStrictEqual(store.putIfAbsent(s("a"), { value: s("x"), timestamp: 9 })?.timestamp, 0x0102030405)
      assert.deepStrictEqual(
        [...store.all()].map((kv) => [new TextDecoder().decode(kv.value.value), kv.value.timestamp]),
        [
          ["one", 0x0102030405],
          ["two", 2]
        ]
      )
      assert.strictEqual(store.delete(s("b"))?.timestamp, 2)
      store.flush()
      store.close()
      if (supplier.persistent) {
        const again = supplier.get(dir)
        assert.strictEqual(again.get(s("a"))?.timestamp, 0x0102030405)
        again.close()
      }
    })
  }

  it("encodes a value and timestamp as an 8-byte big-endian timestamp then the value", () => {
    assert.strictEqual(hex(Timestamped.encode({ value: s("v"), timestamp: 258 })), "0000000000000102" + "76")
    assert.deepStrictEqual(Timestamped.decode(Uint8Array.from([0, 0, 0, 0, 0, 0, 1, 2, 0x76])).timestamp, 258)
  })
})

describe("Stores state directories", () => {
  it.effect("lays out <state.dir>/<application.id>/<taskId>/<store>, and wipe empties a closed store", () =>
    Effect.gen(function* () {
      const taskDir = Stores.taskDirectory(join(root, "state"), "app", "1_0")
      assert.strictEqual(taskDir, join(root, "state", "app", "1_0"))
      const supplier = Stores.persistentWindowStore("windows", "1 hour", "1 minute", false)
      const store = supplier.get(taskDir)
      store.put(s("k"), s("v"), 1000)
      store.close()
      assert.isTrue(existsSync(join(Stores.storeDirectory(taskDir, "windows"), "data.mdb")))
      yield* Stores.wipe(taskDir, "windows")
      assert.isFalse(existsSync(Stores.storeDirectory(taskDir, "windows")))
      const again = supplier.get(taskDir)
      assert.deepStrictEqual([...again.all()], [])
      assert.strictEqual(again.observedStreamTime, -1)
      again.close()
      yield* Stores.wipe(taskDir, "never-opened")
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )
})
