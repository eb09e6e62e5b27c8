import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Plugins from "../../src/plugin/Plugins.js"

const registry = Plugins.make({ connectors: Plugins.builtinConnectors })

describe("HTTP connectors in the plugin registry", () => {
  it.effect("are found by alias, simple class name and class name", () =>
    Effect.gen(function* () {
      for (const [names, className, kind] of [
        [["HttpSource", "HttpSourceConnector"], "io.eddy.connect.http.HttpSourceConnector", "source"],
        [
          ["HttpWebhookSource", "HttpWebhookSourceConnector"],
          "io.eddy.connect.http.HttpWebhookSourceConnector",
          "source"
        ],
        [["HttpSink", "HttpSinkConnector"], "io.eddy.connect.http.HttpSinkConnector", "sink"]
      ] as const)
        for (const name of [...names, className]) {
          const plugin = yield* registry.connector(name)
          assert.strictEqual(plugin.className, className)
          assert.strictEqual(plugin._tag, kind)
        }
    })
  )
})
