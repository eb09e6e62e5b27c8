import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "@effect/vitest"
import * as Stores from "../../src/state/Stores.js"
import { suite } from "./SessionStoreSuite.js"

const root = mkdtempSync(join(tmpdir(), "eddy-session-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let n = 0

suite("in-memory", () => ({
  persistent: false,
  open: (name, o) => Stores.inMemorySessionStore(name, o.retentionPeriod, o.segmentInterval).get()
}))

suite("persistent", () => {
  const dir = join(root, String(n++))
  return {
    persistent: true,
    open: (name, o) => Stores.persistentSessionStore(name, o.retentionPeriod, o.segmentInterval).get(dir)
  }
})
