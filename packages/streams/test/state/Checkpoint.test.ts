import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeFileSystem } from "@effect/platform-node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import * as Checkpoint from "../../src/state/Checkpoint.js"

const root = mkdtempSync(join(tmpdir(), "eddy-checkpoint-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe("Checkpoint", () => {
  it.effect("writes Kafka's text layout and reads it back", () =>
    Effect.gen(function* () {
      const path = join(root, Checkpoint.FILE_NAME)
      const entries = [
        { topic: "app-counts-changelog", partition: 3, offset: 1234 },
        { topic: "app-window-changelog", partition: 0, offset: Checkpoint.OFFSET_UNKNOWN }
      ]
      yield* Checkpoint.write(path, entries)
      assert.strictEqual(readFileSync(path, "utf8"), "0\n2\napp-counts-changelog 3 1234\napp-window-changelog 0 -4\n")
      assert.deepStrictEqual(yield* Checkpoint.read(path), entries)
      yield* Checkpoint.write(path, [{ topic: "t", partition: 0, offset: 5 }])
      assert.deepStrictEqual(yield* Checkpoint.read(path), [{ topic: "t", partition: 0, offset: 5 }])
      yield* Checkpoint.remove(path)
      assert.deepStrictEqual(yield* Checkpoint.read(path), [])
      yield* Checkpoint.remove(path)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.effect("fails on an unknown version or a wrong count, skips invalid offsets", () =>
    Effect.gen(function* () {
      const path = join(root, "bad")
      const readText = (text: string) => {
        writeFileSync(path, text)
        return Effect.either(Checkpoint.read(path))
      }
      assert.isTrue(Either.isLeft(yield* readText("1\n0\n")))
      assert.isTrue(Either.isLeft(yield* readText("0\n2\nt 0 1\n")))
      assert.isTrue(Either.isLeft(yield* readText("0\n1\nt zero 1\n")))
      assert.deepStrictEqual(
        yield* readText("0\n2\nt 0 -1\nt 1 7\n"),
        Either.right([{ topic: "t", partition: 1, offset: 7 }])
      )
      const written = yield* Effect.either(Checkpoint.write(path, [{ topic: "t", partition: 0, offset: -2 }]))
      assert.isTrue(Either.isLeft(written))
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )
})
