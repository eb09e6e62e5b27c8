import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Topic from "@eddy/core/client/Topic"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { type Materialized, materializedAs, materializedWithStoreType } from "../../src/dsl/Options.js"
import * as StreamsBuilder from "../../src/dsl/StreamsBuilder.js"
import { openByteStore } from "../../src/internal/store/openStore.js"
import * as InMemoryKeyValueStore from "../../src/state/InMemoryKeyValueStore.js"
import * as Stores from "../../src/state/Stores.js"

const root = mkdtempSync(join(tmpdir(), "eddy-open-store-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const input = Topic.make("in", { key: Schema.String, value: Schema.String })

/** The store spec the DSL compiles for a count materialized with `m`. */
const specOf = (m: Materialized<string, number>) =>
  Effect.gen(function* () {
    const b = StreamsBuilder.make({ "default.key.serde": Topic.string, "default.value.serde": Topic.string })
    b.stream(input).groupByKey().count(m)
    const topology = yield* b.build
    return topology.stores.get(m.storeName ?? "")!
  })

describe("store selection (default.dsl.store, Materialized.storeType, Materialized.storeSupplier)", () => {
  it.effect("default.dsl.store decides unless the store says otherwise; no task directory means memory", () =>
    Effect.gen(function* () {
      const dir = join(root, "0_0")
      const plain = yield* specOf(materializedAs("plain"))
      const persistent = openByteStore(plain, dir, "rocksDB")
      assert.isTrue(persistent.persistent)
      persistent.close()
      assert.isFalse(openByteStore(plain, dir, "in_memory").persistent)
      assert.isFalse(openByteStore(plain, undefined, "rocksDB").persistent)
      const inMemory = yield* specOf(materializedWithStoreType("in_memory", { storeName: "mem" }))
      assert.isFalse(openByteStore(inMemory, dir, "rocksDB").persistent)
      const onDisk = yield* specOf(materializedAs("disk", { storeType: "rocksDB" }))
      const disk = openByteStore(onDisk, dir, "in_memory")
      assert.isTrue(disk.persistent)
      disk.close()
    })
  )

  it.effect("a supplier wins over the store type: a Stores supplier opens in the task directory", () =>
    Effect.gen(function* () {
      const dir = join(root, "0_1")
      const fromStores = yield* specOf(
        materializedAs("s", { storeType: "in_memory", storeSupplier: Stores.persistentKeyValueStore("s") })
      )
      const store = openByteStore(fromStores, dir, "in_memory")
      assert.isTrue(store.persistent)
      store.put(new Uint8Array([1]), new Uint8Array([2]))
      store.close()
      const reopened = openByteStore(fromStores, dir, "in_memory")
      assert.deepStrictEqual(reopened.get(new Uint8Array([1])), new Uint8Array([2]))
      reopened.close()
      const fn = yield* specOf(materializedAs("f", { storeType: "rocksDB", storeSupplier: InMemoryKeyValueStore.make }))
      assert.isFalse(openByteStore(fn, dir, "rocksDB").persistent)
    })
  )
})
