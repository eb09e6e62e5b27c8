import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Plugins from "../../src/plugin/Plugins.js"

const registry = Plugins.make({ connectors: Plugins.builtinConnectors })

describe("Plugins", () => {
  it.effect("finds connectors by Kafka's class name and its aliases", () =>
    Effect.gen(function* () {
      for (const name of [
        "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "FileStreamSourceConnector",
        "FileStreamSource"
      ])
        assert.strictEqual(
          (yield* registry.connector(name)).className,
          "org.apache.kafka.connect.file.FileStreamSourceConnector"
        )
      assert.strictEqual((yield* registry.connector("FileStreamSink"))._tag, "sink")
      const missing = yield* Effect.flip(registry.connector("com.example.Nope"))
      assert.strictEqual(missing._tag, "PluginNotFound")
    })
  )

  it.effect("loads a user's connector from a TypeScript module path", () =>
    Effect.gen(function* () {
      const file = path.join(import.meta.dirname, "fixtures", "RecordingSource.ts")
      const plugin = yield* registry.connector(file)
      assert.strictEqual(plugin.className, "test.RecordingSourceConnector")
      const broken = yield* Effect.flip(registry.connector("./no/such/module.ts"))
      assert.include(broken.message, "Failed to load connector module")
    })
  )

  it("lists connectors, then converters when not connectorsOnly", () => {
    assert.deepStrictEqual(
      registry.list(true).map((p) => p.type),
      ["source", "sink", "source", "source", "sink", "source", "sink", "source"]
    )
    const all = registry.list(false)
    assert.isTrue(all.some((p) => p.class === "org.apache.kafka.connect.json.JsonConverter" && p.type === "converter"))
    assert.isTrue(
      all.some(
        (p) => p.class === "org.apache.kafka.connect.storage.SimpleHeaderConverter" && p.type === "header_converter"
      )
    )
  })
})
