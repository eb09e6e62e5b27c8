import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeFileSystem } from "@effect/platform-node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Checkpoints from "../../src/internal/runtime/checkpoints.js"
import * as Checkpoint from "../../src/state/Checkpoint.js"
import * as Stores from "../../src/state/Stores.js"

const root = mkdtempSync(join(tmpdir(), "eddy-ckpt-files-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const logged = [{ store: "s", topic: "app-s-changelog", partition: 2 }]

/** A task directory holding store `s` with one entry, and a checkpoint at `offset` (none when undefined). */
const taskWith = (name: string, offset: number | undefined) =>
  Effect.gen(function* () {
    const dir = join(root, name)
    const store = Stores.persistentKeyValueStore("s").get(dir)
    store.put(new Uint8Array([1]), new Uint8Array([1]))
    store.close()
    if (offset !== undefined) {
      yield* Checkpoint.write(join(dir, Checkpoint.FILE_NAME), [{ topic: "app-s-changelog", partition: 2, offset }])
    }
    return dir
  }).pipe(Effect.provide(NodeFileSystem.layer))

const end = (n: number) => () => Effect.succeed(n)

describe("a task's checkpoint at start (internal/runtime/checkpoints.ts prepare)", () => {
  it.effect("without a checkpoint: exactly-once wipes the persistent store, at_least_once keeps it", () =>
    Effect.gen(function* () {
      const eos = yield* taskWith("eos", undefined)
      assert.strictEqual((yield* Checkpoints.prepare(eos, logged, true, end(10))).size, 0)
      assert.isFalse(existsSync(join(eos, "s")))
      const alos = yield* taskWith("alos", undefined)
      assert.strictEqual((yield* Checkpoints.prepare(alos, logged, false, end(10))).size, 0)
      assert.isTrue(existsSync(join(alos, "s")))
    })
  )

  it.effect("a checkpoint within the changelog is kept; one past its end is dropped and the store wiped", () =>
    Effect.gen(function* () {
      for (const eos of [true, false]) {
        const ok = yield* taskWith(`ok-${eos}`, 7)
        const kept = yield* Checkpoints.prepare(ok, logged, eos, end(10))
        assert.deepStrictEqual([...kept], [["app-s-changelog:2", 7]])
        assert.isTrue(existsSync(join(ok, "s")))
        const past = yield* taskWith(`past-${eos}`, 70)
        assert.strictEqual((yield* Checkpoints.prepare(past, logged, eos, end(10))).size, 0)
        assert.isFalse(existsSync(join(past, "s")))
      }
    })
  )
})
