import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "@effect/vitest"
import * as Lmdb from "../../src/state/internal/lmdb.js"
import { openPersistent } from "../../src/state/internal/persistence.js"
import * as Stores from "../../src/state/Stores.js"
import * as VersionedKeyValueStore from "../../src/state/VersionedKeyValueStore.js"
import { suite } from "./VersionedKeyValueStoreSuite.js"

const root = mkdtempSync(join(tmpdir(), "eddy-versioned-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let n = 0

suite("in-memory", () => ({
  persistent: false,
  open: (name, retention) => Stores.inMemoryVersionedKeyValueStore(name, retention).get()
}))

if (Lmdb.load()._tag === "Loaded") {
  suite("persistent (lmdb)", () => {
    const dir = join(root, String(n++))
    return {
      persistent: true,
      open: (name, retention) => Stores.persistentVersionedKeyValueStore(name, retention).get(dir)
    }
  })
}

suite("persistent falling back to memory", () => ({
  persistent: false,
  open: (name, retention) =>
    VersionedKeyValueStore.make(
      openPersistent(name, join(root, "fallback"), () => ({ _tag: "Failed", reason: "test" })),
      retention
    )
}))
