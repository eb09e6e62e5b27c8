/**
 * A real Eddy broker inside a test suite: one node in the same process, on a free port of 127.0.0.1, with its
 * partition logs in memory (default) or in a temporary directory, torn down with its scope. For Effect tests a
 * {@link layer} (`it.layer(TestBroker.layer())`) or {@link make} (in `it.scoped`); for any other test
 * (kafkajs, plain vitest or jest) the promise-based {@link startTestBroker}.
 *
 * The broker's own metadata (node id, cluster id, topic ids) always lives in a temporary directory, removed
 * when the broker closes, so that tests never share state.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Cause, Context, Effect, Exit, Layer, Logger, LogLevel, Scope } from "effect"
import * as Broker from "../broker/Broker.js"
import * as BrokerConfig from "../broker/BrokerConfig.js"
import * as ReplicaManager from "../broker/ReplicaManager.js"

/** Options of a test broker. */
export interface TestBrokerOptions {
  /** Where partition logs live: `"memory"` (default; fastest) or `"disk"` (a temporary directory). */
  readonly storage?: "memory" | "disk"
  /** Broker settings under Kafka's names, over {@link testDefaults} (e.g. `{ "num.partitions": "3" }`). */
  readonly config?: { readonly [key: string]: string }
  /** The least severe broker log line shown (default `Warning`). */
  readonly logLevel?: LogLevel.LogLevel
}

/**
 * Settings that suit tests: a free port on 127.0.0.1, one partition per new topic, one partition for each
 * internal topic, and a group's first rebalance without waiting for more members.
 */
export const testDefaults: { readonly [key: string]: string } = {
  listeners: "PLAINTEXT://127.0.0.1:0",
  "num.partitions": "1",
  "offsets.topic.num.partitions": "1",
  "transaction.state.log.num.partitions": "1",
  "group.initial.rebalance.delay.ms": "0"
}

/** A running test broker. */
export interface TestBroker {
  /** `127.0.0.1:<port>`: the value of a client's `bootstrap.servers` (kafkajs: `brokers: [bootstrapServers]`). */
  readonly bootstrapServers: string
  readonly host: string
  readonly port: number
  readonly nodeId: number
  readonly clusterId: string
}

/** The TestBroker service, provided by {@link layer}. */
export class TestBrokerTag extends Context.Tag("@eddy/core/testing/TestBroker")<TestBrokerTag, TestBroker>() {}

/** Why a test broker did not start: a bad or unknown config key, or the broker's own start errors. */
export type StartError = Broker.StartError | BrokerConfig.BrokerConfigError

/** Starts a test broker in the current scope; it stops, and its temporary directory is removed, with the scope. */
export const make = (options: TestBrokerOptions = {}): Effect.Effect<TestBroker, StartError, Scope.Scope> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* Effect.orDie(fs.makeTempDirectoryScoped({ prefix: "eddy-test-broker-" }))
    const config = yield* BrokerConfig.make({ ...testDefaults, ...options.config, "log.dirs": dir })
    // a misspelt key in a test would otherwise be silently ignored
    const [unknown] = config.unknownKeys
    if (unknown !== undefined) {
      return yield* new BrokerConfig.BrokerConfigError({
        key: unknown,
        message: `Unknown broker config key '${unknown}'`
      })
    }
    const partitionManager =
      options.storage === "disk"
        ? {}
        : {
            partitionManager: ReplicaManager.layerMemory({
              brokerId: BrokerConfig.nodeId(config),
              producerIdExpirationMs: BrokerConfig.getNumber(config, "producer.id.expiration.ms")
            })
          }
    const context = yield* Layer.build(Broker.layer(config, { drainTimeoutMs: 1000, ...partitionManager }))
    const broker = Context.get(context, Broker.Broker)
    return {
      bootstrapServers: `${broker.advertised.host}:${broker.advertised.port}`,
      host: broker.advertised.host,
      port: broker.advertised.port,
      nodeId: broker.nodeId,
      clusterId: broker.clusterId
    }
  }).pipe(Effect.provide(NodeFileSystem.layer), Logger.withMinimumLogLevel(options.logLevel ?? LogLevel.Warning))

/** A test broker as a layer: `it.layer(TestBroker.layer())` starts one for a `describe` block. */
export const layer = (options: TestBrokerOptions = {}): Layer.Layer<TestBrokerTag, StartError> =>
  Layer.scoped(TestBrokerTag, make(options))

/** A test broker started with {@link startTestBroker}; `close()` stops it. */
export interface RunningTestBroker extends TestBroker {
  /** Stops the broker and removes its temporary directory. */
  readonly close: () => Promise<void>
}

/**
 * Starts a test broker without Effect (for kafkajs or plain vitest/jest suites):
 * `const broker = await startTestBroker(); ...; await broker.close()`. It rejects with the error that stopped
 * the broker from starting (a `BrokerConfigError` for a bad or unknown config key).
 */
export const startTestBroker = async (options: TestBrokerOptions = {}): Promise<RunningTestBroker> => {
  const scope = Effect.runSync(Scope.make())
  const close = () => Effect.runPromise(Scope.close(scope, Exit.void))
  const started = await Effect.runPromiseExit(Scope.extend(make(options), scope))
  if (Exit.isFailure(started)) {
    await close()
    throw Cause.squash(started.cause)
  }
  return { ...started.value, close }
}
