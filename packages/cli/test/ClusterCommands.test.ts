/**
 * `eddy cluster ...` as child processes (the built bin) against one in-process broker.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Broker from "@eddy/core/broker/Broker"
import * as BrokerConfig from "@eddy/core/broker/BrokerConfig"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Logger, LogLevel, Scope } from "effect"
import { type Result, runEddy } from "./runEddy.js"

let scope: Scope.CloseableScope
let dir: string
let bootstrap: string
let nodeId: number

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "eddy-cli-cluster-"))
  scope = Effect.runSync(Scope.make())
  const config = await Effect.runPromise(
    BrokerConfig.make({ listeners: "PLAINTEXT://127.0.0.1:0", "log.dirs": dir, "num.partitions": "2" })
  )
  const context = await Effect.runPromise(
    Layer.buildWithScope(Broker.layer(config, { drainTimeoutMs: 1000 }), scope).pipe(
      Logger.withMinimumLogLevel(LogLevel.Warning)
    )
  )
  const broker = Context.get(context, Broker.Broker)
  bootstrap = `127.0.0.1:${broker.address.port}`
  nodeId = broker.nodeId
})

afterAll(async () => {
  await Effect.runPromise(Scope.close(scope, Exit.void))
  fs.rmSync(dir, { recursive: true, force: true })
})

const eddy = (args: ReadonlyArray<string>): Promise<Result> => runEddy([...args, "--bootstrap-server", bootstrap])

describe("eddy cluster", () => {
  it("brokers, partitions, reassignments, reassign and elect-leaders", { timeout: 60_000 }, async () => {
    const created = await eddy(["topics", "create", "orders", "--partitions", "2"])
    assert.strictEqual(created.code, 0, created.stderr)
    const [brokers, partitions, under, reassignments] = await Promise.all([
      eddy(["cluster", "brokers"]),
      eddy(["cluster", "partitions", "--topic", "orders"]),
      eddy(["cluster", "partitions", "--under-replicated"]),
      eddy(["cluster", "reassignments"])
    ])
    assert.strictEqual(brokers.code, 0, brokers.stderr)
    assert.match(brokers.stdout, new RegExp(`^${nodeId}\\s+${bootstrap.replace(/\./g, "\\.")}\\s+controller$`, "m"))
    assert.strictEqual(partitions.code, 0, partitions.stderr)
    assert.deepStrictEqual(
      partitions.stdout
        .trim()
        .split("\n")
        .map((l) => l.split(/\s+/)),
      [
        ["TOPIC", "PARTITION", "LEADER", "REPLICAS", "ISR", "STATE"],
        ["orders", "0", String(nodeId), String(nodeId), String(nodeId), "ok"],
        ["orders", "1", String(nodeId), String(nodeId), String(nodeId), "ok"]
      ]
    )
    assert.strictEqual(under.stdout.trim(), "No such partitions.")
    assert.strictEqual(reassignments.stdout.trim(), "No partition reassignments in progress.")

    const [moved, refused, usage, elected] = await Promise.all([
      eddy(["cluster", "reassign", "--topic", "orders", "--partition", "0", "--replicas", String(nodeId)]),
      eddy(["cluster", "reassign", "--topic", "orders", "--partition", "0", "--replicas", `${nodeId},${nodeId + 7}`]),
      eddy(["cluster", "reassign", "--topic", "orders", "--partition", "0"]),
      eddy(["cluster", "elect-leaders", "--topic", "orders"])
    ])
    assert.strictEqual(moved.code, 0, moved.stderr)
    assert.include(moved.stdout, `orders-0: reassignment to ${nodeId} started`)
    assert.strictEqual(refused.code, 1)
    assert.include(refused.stderr, `INVALID_REPLICA_ASSIGNMENT`)
    assert.include(refused.stderr, `Broker ${nodeId + 7} cannot hold a replica`)
    assert.strictEqual(usage.code, 2)
    assert.include(usage.stderr, "Pass exactly one of --replicas LIST and --cancel")
    assert.strictEqual(elected.code, 0, elected.stderr)
    assert.include(elected.stdout, "orders-0: ELECTION_NOT_NEEDED")
    assert.include(elected.stdout, "orders-1: ELECTION_NOT_NEEDED")
  })
})
