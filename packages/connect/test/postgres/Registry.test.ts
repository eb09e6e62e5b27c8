import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Plugins from "../../src/plugin/Plugins.js"

const registry = Plugins.make({ connectors: Plugins.builtinConnectors })

describe("Postgres connectors in the plugin registry", () => {
  it.effect("are found by their JDBC and Debezium class names and aliases", () =>
    Effect.gen(function* () {
      for (const [names, className, kind] of [
        [
          ["io.confluent.connect.jdbc.JdbcSourceConnector", "JdbcSourceConnector", "JdbcSource"],
          "io.eddy.connect.postgres.PostgresSourceConnector",
          "source"
        ],
        [
          ["io.confluent.connect.jdbc.JdbcSinkConnector", "JdbcSinkConnector"],
          "io.eddy.connect.postgres.PostgresSinkConnector",
          "sink"
        ],
        [["PostgresConnector"], "io.debezium.connector.postgresql.PostgresConnector", "source"]
      ] as const)
        for (const name of [...names, className]) {
          const plugin = yield* registry.connector(name)
          assert.strictEqual(plugin.className, className)
          assert.strictEqual(plugin._tag, kind)
        }
    })
  )
})
