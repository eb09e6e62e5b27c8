import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "@effect/vitest"
import * as InMemoryKeyValueStore from "../../src/state/InMemoryKeyValueStore.js"
import * as Lmdb from "../../src/state/internal/lmdb.js"
import { openPersistent } from "../../src/state/internal/persistence.js"
import * as PersistentKeyValueStore from "../../src/state/PersistentKeyValueStore.js"
import { suite } from "./KeyValueStoreSuite.js"

const root = mkdtempSync(join(tmpdir(), "eddy-kv-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let n = 0

suite("in-memory", () => ({ persistent: false, open: (name) => InMemoryKeyValueStore.make(name) }))

const lmdb = Lmdb.load()
if (lmdb._tag === "Loaded") {
  suite("persistent (lmdb)", () => {
    const dir = join(root, String(n++))
    return { persistent: true, open: (name) => PersistentKeyValueStore.open(lmdb.lmdb, name, dir) }
  })
}

suite("persistent falling back to memory", () => ({
  persistent: false,
  open: (name) => openPersistent(name, join(root, "fallback"), () => ({ _tag: "Failed", reason: "test" }))
}))
